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
