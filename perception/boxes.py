"""Small box functions. Boxes are float tensors (N, 4), xyxy in pixels."""
from __future__ import annotations

import torch


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Area of each box.

    Args:
        boxes: float tensor (N, 4), xyxy pixels.

    Returns:
        Tensor (N,).

    Example:
        >>> box_area(torch.tensor([[0., 0., 2., 3.]]))
        tensor([6.])
    """
    return (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)


def box_iou(boxes_a: torch.Tensor, boxes_b: torch.Tensor) -> torch.Tensor:
    """Intersection over union of every pair of boxes.

    Args:
        boxes_a: float tensor (N, 4), xyxy.
        boxes_b: float tensor (M, 4), xyxy.

    Returns:
        Tensor (N, M) in [0, 1].

    Example:
        >>> box_iou(torch.tensor([[0., 0., 2., 2.]]), torch.tensor([[1., 0., 3., 2.], [5., 5., 6., 6.]]))
        tensor([[0.3333, 0.0000]])
    """
    top_left = torch.max(boxes_a[:, None, :2], boxes_b[None, :, :2])  # (N, M, 2)
    bottom_right = torch.min(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=2)  # (N, M)
    union = box_area(boxes_a)[:, None] + box_area(boxes_b)[None, :] - inter
    return inter / union.clamp(min=1e-9)


def clip_boxes(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Boxes clipped to an image of ``height`` x ``width`` pixels.

    Example:
        >>> clip_boxes(torch.tensor([[-3., 2., 12., 8.]]), height=6, width=10)
        tensor([[ 0.,  2., 10.,  6.]])
    """
    x = boxes[:, 0::2].clamp(0, width)
    y = boxes[:, 1::2].clamp(0, height)
    return torch.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], dim=1)


def flip_boxes_horizontal(boxes: torch.Tensor, width: int) -> torch.Tensor:
    """Boxes mirrored left-right in an image ``width`` pixels wide.

    Example:
        >>> flip_boxes_horizontal(torch.tensor([[1., 2., 3., 4.]]), width=10)
        tensor([[7., 2., 9., 4.]])
    """
    return torch.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], dim=1)


def box_centers(boxes: torch.Tensor) -> torch.Tensor:
    """Centre (x, y) of each box, shape (N, 2).

    Example:
        >>> box_centers(torch.tensor([[0., 0., 4., 2.]]))
        tensor([[2., 1.]])
    """
    return (boxes[:, :2] + boxes[:, 2:]) / 2


def box_sizes(boxes: torch.Tensor) -> torch.Tensor:
    """Width and height of each box, shape (N, 2).

    Example:
        >>> box_sizes(torch.tensor([[0., 0., 4., 2.]]))
        tensor([[4., 2.]])
    """
    return boxes[:, 2:] - boxes[:, :2]


def match_boxes(boxes: torch.Tensor, scores: torch.Tensor, true_boxes: torch.Tensor, *,
                labels: torch.Tensor | None = None, true_labels: torch.Tensor | None = None,
                iou_threshold: float = 0.5) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of predicted boxes to true boxes, highest score first.

    Each prediction, in order of decreasing score, takes the free true box it
    overlaps most (the first of equal overlaps) when their IoU is at least
    ``iou_threshold`` (which must be above 0). With ``labels`` and
    ``true_labels``, only boxes of the same label match.

    Args:
        boxes: float tensor (D, 4), xyxy pixels: the predictions.
        scores: tensor (D,): their scores.
        true_boxes: float tensor (T, 4), xyxy pixels.
        labels: optional int tensor (D,) of the predictions' labels.
        true_labels: int tensor (T,), given with ``labels``.
        iou_threshold: the least IoU of a match.

    Returns:
        ``(prediction_index, truth_index)`` pairs, in the order they were matched.

    Example:
        >>> boxes = torch.tensor([[0., 0., 10., 10.], [0., 0., 9., 10.]])
        >>> match_boxes(boxes, torch.tensor([0.5, 0.9]), torch.tensor([[0., 0., 10., 10.]]))
        [(1, 0)]
        >>> match_boxes(boxes, torch.tensor([0.5, 0.9]), torch.tensor([[0., 0., 10., 10.]]),
        ...             labels=torch.tensor([0, 1]), true_labels=torch.tensor([0]))
        [(0, 0)]
    """
    if isinstance(iou_threshold, bool) or not isinstance(iou_threshold, (int, float)) or not 0 < iou_threshold <= 1:
        raise ValueError(f"`iou_threshold` must be a number in (0, 1]. Received: iou_threshold={iou_threshold!r}")
    if (labels is None) != (true_labels is None):
        raise ValueError("`labels` and `true_labels` go together: give both or neither. "
                         f"Received: labels={'None' if labels is None else 'a tensor'}, "
                         f"true_labels={'None' if true_labels is None else 'a tensor'}")
    if len(boxes) == 0 or len(true_boxes) == 0:
        return []
    iou = box_iou(boxes.float(), true_boxes.float())  # (D, T)
    if labels is not None:
        same_label = labels[:, None] == true_labels[None, :]  # (D, T)
        iou = torch.where(same_label, iou, torch.zeros_like(iou))
    taken = torch.zeros(iou.shape[1], dtype=torch.bool)
    pairs = []
    for d in scores.argsort(descending=True).tolist():
        candidates = torch.where(taken, torch.zeros_like(iou[d]), iou[d])
        best = int(candidates.argmax())
        if candidates[best] >= iou_threshold:
            taken[best] = True
            pairs.append((d, best))
    return pairs
