"""Turn the network's dense output into boxes: heatmap peaks (a 3x3 max-pool
keeps local maxima), then size, offset, attributes and (multi-frame networks)
velocity read at each peak."""
from __future__ import annotations

import torch
from torch.nn import functional as F


def pixel_to_ground_velocity(pixel_velocities: torch.Tensor, *, metres_per_pixel: float,
                             fps: float) -> torch.Tensor:
    """Image motion in pixels per frame (image axes: x right, y down) as
    ground velocity in m/s (ego axes: x right, y forward), the convention of
    :attr:`perception.detections.Detections.velocities`. The inverse of
    :func:`perception.targets.ground_to_pixel_velocity`.

    Args:
        pixel_velocities: float tensor (N, 2).
        metres_per_pixel: ground size of one pixel.
        fps: frames per second of the stream.

    Returns:
        Float64 tensor (N, 2), m/s.

    Example:
        >>> pixel_to_ground_velocity(torch.tensor([[4., 0.], [0., 4.]]), metres_per_pixel=0.2, fps=10)
        tensor([[ 8.,  0.],
                [ 0., -8.]], dtype=torch.float64)
    """
    scale = float(metres_per_pixel) * float(fps)
    return pixel_velocities.double() * torch.tensor([scale, -scale], dtype=torch.float64) + 0.0  # no -0.0


def heatmap_peaks(heatmap: torch.Tensor, max_detections: int) -> tuple[torch.Tensor, ...]:
    """The strongest local maxima of class heatmaps.

    Args:
        heatmap: (B, C, H, W) probabilities.
        max_detections: peaks kept per image (K).

    Returns:
        ``(scores, labels, ys, xs)``, each (B, K); ``ys``/``xs`` are cells.

    Example:
        >>> h = torch.zeros(1, 2, 4, 4); h[0, 1, 2, 3] = 0.9; h[0, 1, 2, 2] = 0.5
        >>> scores, labels, ys, xs = heatmap_peaks(h, max_detections=1)
        >>> scores.shape, labels.tolist(), ys.tolist(), xs.tolist()   # 0.5 is not a local maximum
        (torch.Size([1, 1]), [[1]], [[2]], [[3]])
    """
    batch, num_classes, height, width = heatmap.shape
    pooled = F.max_pool2d(heatmap, kernel_size=3, stride=1, padding=1)
    peaks = heatmap * (pooled == heatmap)
    k = min(max_detections, num_classes * height * width)
    scores, flat = peaks.reshape(batch, -1).topk(k, dim=1)
    labels = torch.div(flat, height * width, rounding_mode="floor")
    cell = flat % (height * width)
    return scores, labels, torch.div(cell, width, rounding_mode="floor"), cell % width


def decode_outputs(outputs: torch.Tensor, *, num_classes: int, attribute_sizes: dict[str, int],
                   stride: int = 4, score_threshold: float = 0.3, max_detections: int = 100,
                   velocity: bool = False) -> list[dict[str, torch.Tensor]]:
    """Detections of each image from the raw network output.

    Args:
        outputs: (B, num_classes + 4 + sum(attribute sizes), H, W) logits and
            regressions (see :class:`perception.backbone.CenterNetwork`).
        num_classes: number of heatmap channels.
        attribute_sizes: attribute name -> number of values, in output order.
        stride: pixels per output cell.
        score_threshold: peaks below this score are dropped.
        max_detections: at most this many detections per image.
        velocity: the output ends with the four velocity channels of a
            multi-frame network.

    Returns:
        One dict per image: ``boxes`` (N, 4) xyxy pixels, ``labels`` (N,),
        ``scores`` (N,) and one (N, K) probability tensor per attribute;
        with ``velocity`` also ``pixel_velocities`` (N, 2), pixels per frame
        in image axes, and ``pixel_velocity_scales`` (N, 2), the Laplace
        scale (expected absolute error) of each, in the same units.

    Example:
        >>> out = torch.full((1, 1 + 4, 8, 8), -10.)
        >>> out[0, 0, 3, 4] = 10.                # class 0 peak at cell (x=4, y=3)
        >>> out[0, 1:3, 3, 4] = torch.tensor([4., 2.])   # 16 x 8 pixels
        >>> out[0, 3:5, 3, 4] = 0.5              # centre half a cell further
        >>> d = decode_outputs(out, num_classes=1, attribute_sizes={})[0]
        >>> d["boxes"].tolist(), d["labels"].tolist()
        ([[10.0, 10.0, 26.0, 18.0]], [0])
    """
    outputs = outputs.float()
    heatmap = torch.sigmoid(outputs[:, :num_classes])
    scores, labels, ys, xs = heatmap_peaks(heatmap, max_detections)
    width = outputs.shape[-1]
    index = ys * width + xs  # (B, K)
    regressions = outputs[:, num_classes:].flatten(2)  # (B, 4 + A, H*W)
    at_peaks = regressions.gather(2, index[:, None, :].expand(-1, regressions.shape[1], -1)).transpose(1, 2)
    centers_x = (xs.float() + at_peaks[..., 2]) * stride
    centers_y = (ys.float() + at_peaks[..., 3]) * stride
    half_w = at_peaks[..., 0].clamp(min=0) * stride / 2
    half_h = at_peaks[..., 1].clamp(min=0) * stride / 2
    boxes = torch.stack([centers_x - half_w, centers_y - half_h, centers_x + half_w, centers_y + half_h], dim=2)
    results = []
    for i in range(outputs.shape[0]):
        keep = scores[i] >= score_threshold
        result = {"boxes": boxes[i][keep], "labels": labels[i][keep], "scores": scores[i][keep]}
        start = 4
        for name, num_values in attribute_sizes.items():
            result[name] = torch.softmax(at_peaks[i][keep][:, start:start + num_values], dim=1)
            start += num_values
        if velocity:
            found = at_peaks[i][keep]
            result["pixel_velocities"] = found[:, start:start + 2]
            result["pixel_velocity_scales"] = torch.exp(found[:, start + 2:start + 4])
        results.append(result)
    return results
