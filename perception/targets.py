"""Encode ground-truth boxes as the dense tensors the network learns to
predict: a Gaussian peak per object on its class heatmap, and the box size,
sub-cell offset, attribute values and (for a multi-frame detector) the
velocity at each object's centre cell.
"""
from __future__ import annotations

import warnings

import torch

from perception.boxes import box_centers, box_sizes

GAUSSIAN_ALPHA = 0.54  # spread of a peak relative to the box size (TTFNet's choice)


def ground_to_pixel_velocity(velocities: torch.Tensor, *, metres_per_pixel: float, fps: float) -> torch.Tensor:
    """Ground velocities in m/s (ego axes: x right, y forward) as image motion
    in pixels per frame (image axes: x right, y down), what the network learns.
    The inverse of :func:`perception.decode.pixel_to_ground_velocity`.

    Args:
        velocities: float tensor (N, 2), ``(vx, vy)`` m/s; NaN rows stay NaN.
        metres_per_pixel: ground size of one pixel.
        fps: frames per second of the stream.

    Returns:
        Float tensor (N, 2), pixels per frame.

    Example:
        >>> ground_to_pixel_velocity(torch.tensor([[8., 0.], [0., 8.]]), metres_per_pixel=0.2, fps=10)
        tensor([[ 4.,  0.],
                [ 0., -4.]])
    """
    scale = 1.0 / (metres_per_pixel * fps)
    return velocities.float() * torch.tensor([scale, -scale]) + 0.0  # + 0.0: no negative zeros


def gaussian_heatmap(centers: torch.Tensor, sigmas: torch.Tensor, labels: torch.Tensor,
                     num_classes: int, height: int, width: int) -> torch.Tensor:
    """Per-class heatmaps with one Gaussian peak (value 1) per object.

    Args:
        centers: (N, 2) integer-valued cell coordinates (x, y) of the peaks.
        sigmas: (N, 2) spreads along x and y, in cells.
        labels: (N,) int64 class of each object.
        num_classes: number of heatmap channels.
        height, width: heatmap size in cells.

    Returns:
        Tensor (num_classes, height, width) in [0, 1]; overlapping peaks
        of one class keep the maximum.

    Example:
        >>> h = gaussian_heatmap(torch.tensor([[1., 1.]]), torch.tensor([[0.5, 0.5]]),
        ...                      torch.tensor([0]), num_classes=2, height=3, width=3)
        >>> h[0, 1, 1].item(), h[1].sum().item(), round(h[0, 1, 2].item(), 3)
        (1.0, 0.0, 0.135)
    """
    heatmap = torch.zeros(num_classes, height, width)
    if len(labels) == 0:
        return heatmap
    ys = torch.arange(height, dtype=torch.float32)[None, :, None]
    xs = torch.arange(width, dtype=torch.float32)[None, None, :]
    dx = (xs - centers[:, 0, None, None]) ** 2 / (2 * sigmas[:, 0, None, None] ** 2)
    dy = (ys - centers[:, 1, None, None]) ** 2 / (2 * sigmas[:, 1, None, None] ** 2)
    peaks = torch.exp(-(dx + dy))  # (N, H, W)
    for label in labels.unique():
        heatmap[label] = peaks[labels == label].amax(dim=0)
    return heatmap


def encode_targets(targets: list[dict], *, num_classes: int, height: int, width: int, stride: int = 4,
                   attribute_names: tuple[str, ...] = (), metres_per_pixel: float | None = None,
                   fps: float | None = None) -> dict[str, torch.Tensor]:
    """Dense training targets for a batch.

    Args:
        targets: one dict per image with ``boxes`` (N, 4) xyxy pixels,
            ``labels`` (N,) int64 and, for each attribute name, (N,) int64
            values (-1 where the attribute does not apply).
        num_classes: number of classes.
        height, width: output map size in cells (image size / stride).
        stride: pixels per cell.
        attribute_names: the attributes to encode.
        metres_per_pixel, fps: the stream's calibration; when given, each
            target's ``velocities`` (N, 2) m/s over the ground in ego axes
            (NaN rows: unknown) are encoded too.

    Returns:
        ``heatmap`` (B, C, H, W); ``index`` (B, M) flat cell index of each
        object's centre; ``mask`` (B, M) bool, true for real objects;
        ``size`` (B, M, 2) box size in cells; ``offset`` (B, M, 2) centre
        offset within its cell; one (B, M) int64 tensor per attribute. M is
        the largest object count in the batch (at least 1). With a
        calibration also ``velocity`` (B, M, 2), pixels per frame in image
        axes (see :func:`ground_to_pixel_velocity`), and ``velocity_mask``
        (B, M) bool, true for real objects whose velocity is known.

    Example:
        >>> t = {"boxes": torch.tensor([[8., 8., 24., 16.]]), "labels": torch.tensor([1])}
        >>> enc = encode_targets([t], num_classes=2, height=8, width=8)
        >>> enc["index"].tolist(), enc["size"].tolist(), enc["offset"].tolist()
        ([[28]], [[[4.0, 2.0]]], [[[0.0, 0.0]]])
        >>> enc["heatmap"][0, 1, 3, 4].item()
        1.0
        >>> t["velocities"] = torch.tensor([[8., 0.]])   # m/s: 4 px per frame at 0.2 m/px and 10 fps
        >>> enc = encode_targets([t], num_classes=2, height=8, width=8, metres_per_pixel=0.2, fps=10)
        >>> enc["velocity"].tolist(), enc["velocity_mask"].tolist()
        ([[[4.0, 0.0]]], [[True]])
    """
    if (metres_per_pixel is None) != (fps is None):
        raise ValueError("`metres_per_pixel` and `fps` go together: give both to encode velocities, or neither. "
                         f"Received: metres_per_pixel={metres_per_pixel!r}, fps={fps!r}")
    num_images = len(targets)
    counts = [len(t["labels"]) for t in targets]
    max_objects = max([1] + counts)
    heatmap = torch.zeros(num_images * num_classes, height * width)
    index = torch.zeros(num_images, max_objects, dtype=torch.int64)
    mask = torch.zeros(num_images, max_objects, dtype=torch.bool)
    size = torch.zeros(num_images, max_objects, 2)
    offset = torch.zeros(num_images, max_objects, 2)
    attributes = {name: torch.full((num_images, max_objects), -1, dtype=torch.int64) for name in attribute_names}
    total = sum(counts)
    if total:
        boxes = torch.cat([t["boxes"].float().reshape(-1, 4) for t in targets])
        labels = torch.cat([t["labels"].long().reshape(-1) for t in targets])
        image_of = torch.repeat_interleave(torch.arange(num_images), torch.tensor(counts))
        slot = torch.arange(total) - torch.repeat_interleave(torch.tensor([0] + counts[:-1]).cumsum(0),
                                                             torch.tensor(counts))
        centers = box_centers(boxes) / stride  # (N, 2) in cells
        limit = torch.tensor([width - 1, height - 1], dtype=torch.float32)
        cells = centers.floor().clamp(min=torch.zeros(2), max=limit)
        sizes = box_sizes(boxes).clamp(min=0) / stride
        sigmas = (GAUSSIAN_ALPHA * sizes / 6).clamp(min=0.5)
        xs = torch.arange(width, dtype=torch.float32)
        ys = torch.arange(height, dtype=torch.float32)
        along_x = torch.exp(-(xs - cells[:, 0, None]) ** 2 / (2 * sigmas[:, 0, None] ** 2))  # (N, W)
        along_y = torch.exp(-(ys - cells[:, 1, None]) ** 2 / (2 * sigmas[:, 1, None] ** 2))  # (N, H)
        peaks = (along_y[:, :, None] * along_x[:, None, :]).reshape(total, height * width)
        with warnings.catch_warnings():  # index_reduce_ is "beta" but 100x faster than scatter_reduce_ here
            warnings.filterwarnings("ignore", message="index_reduce")
            heatmap.index_reduce_(0, image_of * num_classes + labels, peaks, "amax")
        index[image_of, slot] = (cells[:, 1] * width + cells[:, 0]).long()
        mask[image_of, slot] = True
        size[image_of, slot] = sizes
        offset[image_of, slot] = centers - cells
        for name in attribute_names:
            for i, target in enumerate(targets):
                if name in target and counts[i]:
                    attributes[name][i, :counts[i]] = target[name].long()
    heatmap = heatmap.reshape(num_images, num_classes, height, width)
    encoded = {"heatmap": heatmap, "index": index, "mask": mask, "size": size, "offset": offset, **attributes}
    if metres_per_pixel is not None:
        encoded.update(_encode_velocities(targets, counts, max_objects, metres_per_pixel, fps))
    return encoded


def _encode_velocities(targets, counts, max_objects, metres_per_pixel, fps) -> dict[str, torch.Tensor]:
    velocity = torch.zeros(len(targets), max_objects, 2)
    known = torch.zeros(len(targets), max_objects, dtype=torch.bool)
    for i, target in enumerate(targets):
        if counts[i] and target.get("velocities") is not None:
            pixels = ground_to_pixel_velocity(target["velocities"].reshape(-1, 2),
                                              metres_per_pixel=metres_per_pixel, fps=fps)
            finite = torch.isfinite(pixels).all(dim=1)
            velocity[i, :counts[i]] = torch.where(finite[:, None], pixels, torch.zeros_like(pixels))
            known[i, :counts[i]] = finite
    return {"velocity": velocity, "velocity_mask": known}
