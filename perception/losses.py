"""The detector's training loss: focal loss on the class heatmaps, L1 on box
size and centre offset at object centres, cross-entropy on attributes and,
for a multi-frame detector, L1 on each object's velocity at its centre and
the Laplace negative log-likelihood that trains the velocity's scale."""
from __future__ import annotations

import torch
from torch.nn import functional as F


def heatmap_focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss, averaged over the objects.

    Args:
        logits: (B, C, H, W) heatmap logits.
        target: (B, C, H, W) Gaussian targets in [0, 1]; peaks are exactly 1.

    Returns:
        Scalar tensor.

    Example:
        >>> target = torch.zeros(1, 1, 4, 4); target[0, 0, 1, 1] = 1
        >>> good = torch.full((1, 1, 4, 4), -9.); good[0, 0, 1, 1] = 9
        >>> bool(heatmap_focal_loss(good, target) < heatmap_focal_loss(-good, target))
        True
    """
    logits = logits.float()
    positive = target.eq(1).float()
    log_p = F.logsigmoid(logits)
    log_not_p = F.logsigmoid(-logits)
    p = torch.sigmoid(logits)
    positive_loss = -(log_p * (1 - p) ** 2 * positive).sum()
    negative_loss = -(log_not_p * p ** 2 * (1 - target) ** 4 * (1 - positive)).sum()
    return (positive_loss + negative_loss) / positive.sum().clamp(min=1)


LOG_SCALE_LIMIT = 5.0  # Laplace log-scales are clamped to [-5, 5] (e^-5 to e^5 pixels per frame)


def laplace_nll(prediction: torch.Tensor, log_scale: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of ``target`` under a Laplace distribution
    with mean ``prediction`` and scale ``exp(log_scale)``, elementwise and
    without the constant ``log 2``: ``|target - prediction| / b + log b``.

    Example:
        >>> laplace_nll(torch.tensor([1.]), torch.tensor([0.]), torch.tensor([3.]))
        tensor([2.])
        >>> # a wider scale costs less for a large error and more for a small one
        >>> bool(laplace_nll(torch.tensor([0.]), torch.tensor([1.]), torch.tensor([5.]))
        ...      < laplace_nll(torch.tensor([0.]), torch.tensor([0.]), torch.tensor([5.])))
        True
    """
    log_scale = log_scale.clamp(-LOG_SCALE_LIMIT, LOG_SCALE_LIMIT)
    return (target - prediction).abs() * torch.exp(-log_scale) + log_scale


def gather_at(maps: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Values of ``maps`` (B, K, H, W) at flat cell indices ``index`` (B, M),
    as (B, M, K).

    Example:
        >>> maps = torch.arange(8.).reshape(1, 2, 2, 2)
        >>> gather_at(maps, torch.tensor([[3]])).tolist()
        [[[3.0, 7.0]]]
    """
    flat = maps.flatten(2)  # (B, K, H*W)
    return flat.gather(2, index[:, None, :].expand(-1, flat.shape[1], -1)).transpose(1, 2)


def detection_loss(outputs: torch.Tensor, encoded: dict[str, torch.Tensor], *, num_classes: int,
                   attribute_sizes: dict[str, int], size_weight: float = 0.1,
                   offset_weight: float = 1.0, attribute_weight: float = 1.0,
                   velocity_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """Total loss and its parts.

    Args:
        outputs: (B, num_classes + 4 + sum(attribute sizes), H, W) network output.
        encoded: targets from :func:`perception.targets.encode_targets`.
        num_classes: number of heatmap channels.
        attribute_sizes: attribute name -> number of values, in output order.
        velocity_weight: weight of the velocity term, used when ``encoded``
            holds ``velocity`` (then ``outputs`` ends with the four velocity
            channels of :class:`perception.backbone.CenterNetwork`).

    Returns:
        ``{"loss": total, "heatmap": ..., "size": ..., "offset": ..., <attribute>: ...}``
        (and with velocities ``"velocity"``, the L1 error of each velocity
        component in pixels per frame, and ``"velocity_nll"``, its Laplace
        negative log-likelihood under the predicted scale, which trains the
        scale; both averaged over objects whose velocity is known), scalar tensors.

    Example:
        >>> from perception.targets import encode_targets
        >>> t = {"boxes": torch.tensor([[8., 8., 24., 16.]]), "labels": torch.tensor([0]),
        ...      "light_state": torch.tensor([2])}
        >>> enc = encode_targets([t], num_classes=1, height=8, width=8, attribute_names=("light_state",))
        >>> parts = detection_loss(torch.zeros(1, 8, 8, 8), enc, num_classes=1, attribute_sizes={"light_state": 3})
        >>> sorted(parts), round(parts["light_state"].item(), 4)
        (['heatmap', 'light_state', 'loss', 'offset', 'size'], 1.0986)
    """
    outputs = outputs.float()
    heatmap_logits = outputs[:, :num_classes]
    mask = encoded["mask"].float()[..., None]  # (B, M, 1)
    num_objects = mask.sum().clamp(min=1)
    at_centers = gather_at(outputs[:, num_classes:], encoded["index"])  # (B, M, 4 + A)
    parts = {"heatmap": heatmap_focal_loss(heatmap_logits, encoded["heatmap"])}
    parts["size"] = (F.l1_loss(at_centers[..., 0:2], encoded["size"], reduction="none") * mask).sum() / num_objects
    parts["offset"] = (F.l1_loss(at_centers[..., 2:4], encoded["offset"], reduction="none") * mask).sum() / num_objects
    start = 4
    total = parts["heatmap"] + size_weight * parts["size"] + offset_weight * parts["offset"]
    for name, num_values in attribute_sizes.items():
        logits = at_centers[..., start:start + num_values].reshape(-1, num_values)
        values = encoded[name].reshape(-1)
        values = torch.where(encoded["mask"].reshape(-1), values, torch.full_like(values, -1))
        if (values >= 0).any():
            parts[name] = F.cross_entropy(logits, values, ignore_index=-1)
        else:
            parts[name] = logits.sum() * 0
        total = total + attribute_weight * parts[name]
        start += num_values
    if "velocity" in encoded:
        # The mean learns by L1 (as box size and offset do); the scale by the Laplace NLL of the
        # detached mean, so a wide scale cannot slow the mean's learning.
        known = encoded["velocity_mask"].float()[..., None]  # (B, M, 1)
        num_known = (2 * known.sum()).clamp(min=1)
        mean, log_scale = at_centers[..., start:start + 2], at_centers[..., start + 2:start + 4]
        parts["velocity"] = (F.l1_loss(mean, encoded["velocity"], reduction="none") * known).sum() / num_known
        nll = laplace_nll(mean.detach(), log_scale, encoded["velocity"])
        parts["velocity_nll"] = (nll * known).sum() / num_known
        total = total + velocity_weight * (parts["velocity"] + parts["velocity_nll"])
    parts["loss"] = total
    return parts
