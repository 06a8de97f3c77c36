"""The network: a compact conv backbone, a small top-down neck and one shared
head that predicts, at stride 4, per-class centre heatmaps, box sizes, centre
offsets and attribute logits (CenterNet-style, anchor-free). A network that
sees ``num_frames >= 2`` frames stacked on channels also has a velocity head.

The network only computes tensors; :mod:`perception.targets`,
:mod:`perception.losses` and :mod:`perception.decode` give them meaning.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

STRIDE = 4
FRAME_CHANNELS = 3  # channels of one frame of the input stack
VELOCITY_CHANNELS = 4  # (vx, vy) pixels per frame, then their Laplace log-scales


class ConvBlock(nn.Sequential):
    """3x3 (or ``kernel``) convolution, batch norm and ReLU.

    Example:
        >>> ConvBlock(3, 8, stride=2)(torch.zeros(1, 3, 16, 16)).shape
        torch.Size([1, 8, 8, 8])
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1, kernel: int = 3):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


def _stage(in_channels: int, out_channels: int, depth: int) -> nn.Sequential:
    blocks = [ConvBlock(in_channels, out_channels, stride=2)]
    blocks += [ConvBlock(out_channels, out_channels) for _ in range(depth)]
    return nn.Sequential(*blocks)


class CenterNetwork(nn.Module):
    """Backbone + neck + head. Input (B, 3 * num_frames, H, W) with H, W
    multiples of 32; output (B, num_classes + 4 + sum(num_attribute_values)
    [+ 4 when num_frames >= 2], H/4, W/4).

    Output channels, in order: class heatmap logits, box size (w, h) in
    units of stride pixels, centre offset (x, y) within the cell, then the
    logits of each attribute. With ``num_frames >= 2`` the input is a stack
    of frames on channels, oldest first (channels ``3t:3t+3`` are frame
    ``t``, the current frame last), and four more channels follow: the
    object's motion ``(vx, vy)`` in pixels per frame along the image axes
    (x right, y down), then the Laplace log-scale of each (its expected
    absolute error, log pixels per frame).

    Args:
        num_classes: number of object classes.
        num_attribute_values: number of values of each attribute, e.g. ``(3,)``.
        width: channels at stride 4; deeper stages have 2x, 4x, 8x.
        depth: extra 3x3 convolutions per backbone stage.
        head_width: channels of the shared head convolution.
        num_frames: frames stacked on the input channels (1: a single image).

    Example:
        >>> net = CenterNetwork(num_classes=6, num_attribute_values=(3,), width=8)
        >>> net(torch.zeros(2, 3, 64, 64)).shape
        torch.Size([2, 13, 16, 16])
        >>> CenterNetwork(num_classes=6, num_attribute_values=(3,), width=8, num_frames=2)(
        ...     torch.zeros(2, 6, 64, 64)).shape   # two frames in, velocity and its scale out
        torch.Size([2, 17, 16, 16])
    """

    def __init__(self, num_classes: int, num_attribute_values: tuple[int, ...] = (), *,
                 width: int = 16, depth: int = 1, head_width: int = 32, num_frames: int = 1):
        super().__init__()
        w = width
        self.num_classes = num_classes
        self.num_frames = num_frames
        self.stem = nn.Sequential(ConvBlock(FRAME_CHANNELS * num_frames, w, stride=2), ConvBlock(w, w, stride=2),
                                  *[ConvBlock(w, w) for _ in range(depth)])  # stride 4
        self.stage8 = _stage(w, 2 * w, depth)
        self.stage16 = _stage(2 * w, 4 * w, depth)
        self.stage32 = _stage(4 * w, 8 * w, depth)
        self.lateral32 = nn.Conv2d(8 * w, 4 * w, 1)
        self.smooth16 = ConvBlock(4 * w, 2 * w)
        self.smooth8 = ConvBlock(2 * w, w)
        self.smooth4 = ConvBlock(w, head_width)
        num_outputs = num_classes + 4 + sum(num_attribute_values)
        self.head = nn.Conv2d(head_width, num_outputs, 1)
        with torch.no_grad():  # start heatmaps near p=0.01 (focal-loss prior)
            self.head.bias.zero_()
            self.head.bias[:num_classes].fill_(-4.6)
        self.velocity_head = None
        if num_frames > 1:
            self.velocity_head = nn.Conv2d(head_width, VELOCITY_CHANNELS, 1)
            with torch.no_grad():  # start near no motion and a unit scale
                self.velocity_head.bias.zero_()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        c4 = self.stem(images)
        c8 = self.stage8(c4)
        c16 = self.stage16(c8)
        c32 = self.stage32(c16)
        p16 = self.smooth16(c16 + F.interpolate(self.lateral32(c32), size=c16.shape[-2:], mode="nearest"))
        p8 = self.smooth8(c8 + F.interpolate(p16, size=c8.shape[-2:], mode="nearest"))
        p4 = self.smooth4(c4 + F.interpolate(p8, size=c4.shape[-2:], mode="nearest"))
        if self.velocity_head is None:
            return self.head(p4)
        return torch.cat([self.head(p4), self.velocity_head(p4)], dim=1)

    @property
    def input_convolution(self) -> nn.Conv2d:
        """The first convolution, the one that sees the stacked frames."""
        return self.stem[0][0]


def expand_to_frames(kernel: torch.Tensor, num_frames: int) -> torch.Tensor:
    """A single-frame input kernel (O, 3, k, k) widened to a stack of
    ``num_frames`` frames, oldest first: the kernel on the current (last)
    frame's channels and zeros on the older frames', so the widened
    convolution gives exactly the single-frame response.

    Example:
        >>> kernel = torch.ones(8, 3, 3, 3)
        >>> wide = expand_to_frames(kernel, num_frames=2)
        >>> wide.shape, wide[:, :3].abs().sum().item(), torch.equal(wide[:, 3:], kernel)
        (torch.Size([8, 6, 3, 3]), 0.0, True)
    """
    if kernel.ndim != 4 or kernel.shape[1] != FRAME_CHANNELS:
        raise ValueError(f"`kernel` must be a single-frame kernel (O, {FRAME_CHANNELS}, k, k). "
                         f"Received shape {tuple(kernel.shape)}")
    wide = kernel.new_zeros(kernel.shape[0], FRAME_CHANNELS * num_frames, *kernel.shape[2:])
    wide[:, -FRAME_CHANNELS:] = kernel
    return wide


def fuse_conv_bn(network: nn.Module) -> nn.Module:
    """Fold every batch norm that follows a convolution into that convolution
    (inference only; the network must be in eval mode). Works in place and
    returns the network.

    Example:
        >>> net = CenterNetwork(2, width=8).eval()
        >>> x = torch.rand(1, 3, 32, 32)
        >>> before = net(x)
        >>> torch.allclose(before, fuse_conv_bn(net)(x), atol=1e-4)
        True
    """
    for module in network.modules():
        if isinstance(module, ConvBlock) and isinstance(module[1], nn.BatchNorm2d):
            conv, norm = module[0], module[1]
            scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                              padding=conv.padding, bias=True)
            with torch.no_grad():
                fused.weight.copy_(conv.weight * scale[:, None, None, None])
                fused.bias.copy_(norm.bias - norm.running_mean * scale)
            module[0] = fused
            module[1] = nn.Identity()
    return network
