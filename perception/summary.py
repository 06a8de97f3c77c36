"""A model summary: the blocks of a network with their output shapes,
parameters and forward FLOPs, the total parameters, the input size and the
FLOPs of one forward pass (:meth:`perception.model.Detector.summary`).

FLOPs are counted by :class:`torch.utils.flop_counter.FlopCounterMode` on
one input of the given size (a multiply-add counts as two FLOPs); the pass
runs on torch's ``meta`` device, so it costs no arithmetic and leaves the
network and the random state alone.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class BlockSummary:
    """One row of a :class:`ModelSummary`: a direct child of the network."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    num_parameters: int
    flops: int


@dataclass(frozen=True)
class ModelSummary:
    """What :func:`summarize` found; ``str()`` (and ``repr()``) is the table.

    Attributes:
        title: the first line of the table.
        blocks: one :class:`BlockSummary` per direct child of the network.
        input_shape: the (B, C, H, W) shape the FLOPs were counted on.
        num_parameters: all parameters; ``num_trainable`` those with gradients.
        flops: forward FLOPs of one input of ``input_shape``.
    """

    title: str
    blocks: tuple[BlockSummary, ...]
    input_shape: tuple[int, ...]
    num_parameters: int
    num_trainable: int
    flops: int

    def __str__(self) -> str:
        header = ("block", "kind", "output shape", "parameters", "MFLOPs")
        rows = [(b.name, b.kind, " x ".join(map(str, b.output_shape)), f"{b.num_parameters:,}",
                 f"{b.flops / 1e6:,.1f}") for b in self.blocks]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(row) -> str:
            left = [cell.ljust(width) for cell, width in zip(row[:3], widths[:3])]
            right = [cell.rjust(width) for cell, width in zip(row[3:], widths[3:])]
            return "  ".join(left + right).rstrip()

        rule = "-" * len(line(header))
        height, width = self.input_shape[-2:]
        return "\n".join([
            self.title, rule, line(header), rule, *[line(row) for row in rows], rule,
            f"total parameters: {self.num_parameters:,} (trainable {self.num_trainable:,})",
            f"input size: {' x '.join(map(str, self.input_shape[1:]))} (channels x height x width)",
            f"forward FLOPs: {self.flops / 1e9:.3f} G per {height}x{width} input",
        ])

    __repr__ = __str__


def summarize(network: nn.Module, input_shape: tuple[int, ...], *, title: str | None = None) -> ModelSummary:
    """Count the parameters and forward FLOPs of ``network`` on one input.

    Args:
        network: any module taking one tensor of ``input_shape``.
        input_shape: (B, C, H, W) (or any shape the network takes), e.g. (1, 3, 256, 256).
        title: the table's first line (default: the network's class name).

    Returns:
        A :class:`ModelSummary`; ``print`` it for the table.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        >>> summary = summarize(net, (1, 3, 32, 32))
        >>> summary.num_parameters, summary.flops       # 8 * 3*3*3 weights + 8 biases; 2 FLOPs per multiply-add
        (224, 442368)
        >>> print(summary)
        Sequential
        --------------------------------------------------
        block  kind    output shape     parameters  MFLOPs
        --------------------------------------------------
        0      Conv2d  1 x 8 x 32 x 32         224     0.4
        1      ReLU    1 x 8 x 32 x 32           0     0.0
        --------------------------------------------------
        total parameters: 224 (trainable 224)
        input size: 3 x 32 x 32 (channels x height x width)
        forward FLOPs: 0.000 G per 32x32 input
    """
    if not isinstance(network, nn.Module):
        raise TypeError(f"`network` must be a torch.nn.Module. Received: {type(network).__name__}")
    if not input_shape or any(isinstance(side, bool) or not isinstance(side, int) or side < 1
                              for side in input_shape):
        raise ValueError(f"`input_shape` must be positive integers such as (1, 3, 256, 256). "
                         f"Received: input_shape={input_shape!r}")
    shadow = copy.deepcopy(network).to("meta").eval()  # shapes and counts only: no arithmetic, no weights touched
    children = list(shadow.named_children())
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [child.register_forward_hook(_shape_recorder(shapes, name)) for name, child in children]
    counter = FlopCounterMode(display=False)
    try:
        with counter, torch.no_grad():
            shadow(torch.empty(input_shape, device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
    flops_by_module = {name: sum(counts.values()) for name, counts in counter.get_flop_counts().items()}
    prefix = type(shadow).__name__
    blocks = tuple(BlockSummary(name=name, kind=type(child).__name__, output_shape=shapes.get(name, ()),
                                num_parameters=sum(p.numel() for p in child.parameters()),
                                flops=int(flops_by_module.get(f"{prefix}.{name}", 0)))
                   for name, child in children if name in shapes or any(True for _ in child.parameters()))
    return ModelSummary(title=title or type(network).__name__, blocks=blocks, input_shape=tuple(input_shape),
                        num_parameters=sum(p.numel() for p in network.parameters()),
                        num_trainable=sum(p.numel() for p in network.parameters() if p.requires_grad),
                        flops=int(counter.get_total_flops()))


def _shape_recorder(shapes: dict, name: str):
    def record(module, inputs, output) -> None:
        if isinstance(output, torch.Tensor):
            shapes[name] = tuple(output.shape)
    return record
