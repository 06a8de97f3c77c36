"""Training-time augmentation that keeps boxes right.

Each function takes an image (3, H, W) in [0, 1], its target and a
``torch.Generator`` and returns a new ``(image, target)``; inputs are left
unchanged. Per-object fields of the target (``labels``, ``light_state``, any
(N,) or (N, 2) tensor such as ``velocities``) follow their boxes when boxes
are dropped; a flip also mirrors ``velocities`` (m/s, ego axes: x negates).
The image may be a frame stack on channels (3T, H, W): every frame gets the
same flip, shift and colour change.
"""
from __future__ import annotations

import torch

from perception.boxes import box_area, clip_boxes, flip_boxes_horizontal


def _flip_target(target: dict, width: int) -> dict:
    flipped = {**target, "boxes": flip_boxes_horizontal(target["boxes"], width)}
    if target.get("velocities") is not None:
        flipped["velocities"] = target["velocities"] * torch.tensor([-1.0, 1.0], dtype=target["velocities"].dtype)
    return flipped


def _keep_objects(target: dict, keep: torch.Tensor) -> dict:
    num = len(target["boxes"])
    return {k: (v[keep] if isinstance(v, torch.Tensor) and v.ndim >= 1 and len(v) == num else v)
            for k, v in target.items()}


def horizontal_flip(image: torch.Tensor, target: dict) -> tuple[torch.Tensor, dict]:
    """Mirror the image and its boxes left-right.

    Example:
        >>> image = torch.zeros(3, 4, 10); image[:, :, 0] = 1
        >>> flipped, t = horizontal_flip(image, {"boxes": torch.tensor([[0., 0., 2., 4.]])})
        >>> flipped[0, 0, -1].item(), t["boxes"].tolist()
        (1.0, [[8.0, 0.0, 10.0, 4.0]])
    """
    width = image.shape[-1]
    return image.flip(-1), _flip_target(target, width)


def translate(image: torch.Tensor, target: dict, dx: int, dy: int, *,
              min_visible: float = 0.4) -> tuple[torch.Tensor, dict]:
    """Shift the image content by (dx, dy) pixels; uncovered pixels take the
    image's mean colour. Boxes move with it and are clipped; boxes with less
    than ``min_visible`` of their area left in view are dropped.

    Example:
        >>> image = torch.rand(3, 8, 8)
        >>> t = {"boxes": torch.tensor([[0., 0., 2., 2.], [4., 4., 6., 6.]]), "labels": torch.tensor([0, 1])}
        >>> moved, t2 = translate(image, t, dx=-2, dy=1)
        >>> t2["boxes"].tolist(), t2["labels"].tolist()
        ([[2.0, 5.0, 4.0, 7.0]], [1])
        >>> torch.equal(moved[:, 5, 2], image[:, 4, 4])
        True
    """
    _, height, width = image.shape
    shifted = image.mean(dim=(1, 2), keepdim=True).expand_as(image).clone()
    _paste_shifted(image, shifted, dx, dy)
    return shifted, _translate_target(target, dx, dy, height, width, min_visible)


def _paste_shifted(source: torch.Tensor, destination: torch.Tensor, dx: int, dy: int) -> None:
    """Copy ``source`` (C, H, W) into ``destination`` moved by (dx, dy); what leaves the frame is cut."""
    height, width = source.shape[-2:]
    src_x, dst_x = slice(max(0, -dx), min(width, width - dx)), slice(max(0, dx), min(width, width + dx))
    src_y, dst_y = slice(max(0, -dy), min(height, height - dy)), slice(max(0, dy), min(height, height + dy))
    if src_x.start < src_x.stop and src_y.start < src_y.stop:
        destination[:, dst_y, dst_x] = source[:, src_y, src_x]


def _translate_target(target: dict, dx: int, dy: int, height: int, width: int, min_visible: float) -> dict:
    boxes = target["boxes"] + torch.tensor([dx, dy, dx, dy], dtype=target["boxes"].dtype)
    clipped = clip_boxes(boxes, height, width)
    keep = box_area(clipped) >= min_visible * box_area(boxes).clamp(min=1e-6)
    return _keep_objects({**target, "boxes": clipped}, keep)


def adjust_color(image: torch.Tensor, brightness: float, contrast: float) -> torch.Tensor:
    """Brightness (added) and contrast (scaled about the mean) change, clamped to [0, 1].

    Example:
        >>> adjust_color(torch.full((3, 2, 2), 0.5), brightness=0.1, contrast=2.0)[0, 0, 0].item()
        0.6000000238418579
    """
    mean = image.mean()
    return ((image - mean) * contrast + mean + brightness).clamp(0, 1)


def augment(image: torch.Tensor, target: dict, generator: torch.Generator, *,
            flip: bool = True, max_shift: float = 0.1, color: float = 0.15) -> tuple[torch.Tensor, dict]:
    """Random flip, shift (up to ``max_shift`` of the image size) and colour
    jitter, drawn from ``generator``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> t = {"boxes": torch.tensor([[10., 10., 20., 20.]]), "labels": torch.tensor([0])}
        >>> image, t2 = augment(torch.rand(3, 32, 32), t, g)
        >>> image.shape, t2["boxes"].shape[1]
        (torch.Size([3, 32, 32]), 4)
    """
    draws = torch.rand(5, generator=generator).tolist()
    if flip and draws[0] < 0.5:
        image, target = horizontal_flip(image, target)
    if max_shift > 0:
        _, height, width = image.shape
        dx = round((draws[1] * 2 - 1) * max_shift * width)
        dy = round((draws[2] * 2 - 1) * max_shift * height)
        if dx or dy:
            image, target = translate(image, target, dx, dy)
    if color > 0:
        image = adjust_color(image, brightness=(draws[3] * 2 - 1) * color, contrast=1 + (draws[4] * 2 - 1) * color)
    return image, target


def augment_batch(images: torch.Tensor, targets: list[dict], generator: torch.Generator, *,
                  flip: bool = True, max_shift: float = 0.1,
                  color: float = 0.15) -> tuple[torch.Tensor, list[dict]]:
    """:func:`augment` for a whole batch (B, 3, H, W) at once: the same random
    flip, shift and colour jitter per image, with the image arithmetic done
    batch-wide (several times faster than image by image). Draws all ``5 * B``
    numbers from ``generator`` up front.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> t = {"boxes": torch.tensor([[10., 10., 20., 20.]]), "labels": torch.tensor([0])}
        >>> images, targets = augment_batch(torch.rand(2, 3, 32, 32), [t, t], g)
        >>> images.shape, len(targets)
        (torch.Size([2, 3, 32, 32]), 2)
    """
    num_images, _, height, width = images.shape
    draws = torch.rand(num_images, 5, generator=generator)
    flipped = (draws[:, 0] < 0.5) if flip else torch.zeros(num_images, dtype=torch.bool)
    if flipped.any():
        images = torch.where(flipped[:, None, None, None], images.flip(-1), images)
    targets = [_flip_target(t, width) if f else t for t, f in zip(targets, flipped.tolist())]
    if max_shift > 0:
        shifts_x = [round((d * 2 - 1) * max_shift * width) for d in draws[:, 1].tolist()]
        shifts_y = [round((d * 2 - 1) * max_shift * height) for d in draws[:, 2].tolist()]
        if any(shifts_x) or any(shifts_y):
            images, targets = _translate_batch(images, targets, shifts_x, shifts_y)
    if color > 0:
        brightness = (draws[:, 3] * 2 - 1) * color
        contrast = 1 + (draws[:, 4] * 2 - 1) * color
        mean = images.mean(dim=(1, 2, 3))
        shift = (mean * (1 - contrast) + brightness)[:, None, None, None]
        images = torch.addcmul(shift, images, contrast[:, None, None, None]).clamp_(0, 1)
    return images, targets


def _translate_batch(images, targets, shifts_x, shifts_y, min_visible: float = 0.4):
    _, _, height, width = images.shape
    moved = images.mean(dim=(2, 3), keepdim=True).expand_as(images).contiguous()
    out_targets = []
    for i, (target, dx, dy) in enumerate(zip(targets, shifts_x, shifts_y)):
        _paste_shifted(images[i], moved[i], dx, dy)
        out_targets.append(_translate_target(target, dx, dy, height, width, min_visible) if dx or dy else target)
    return moved, out_targets
