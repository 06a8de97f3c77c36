"""One object, two class guesses: confusable classes share the evidence of a box.

A detector unsure whether a figure in a crosswalk is a pedestrian or a
cyclist may fire both classes on one box, 0.24 and 0.27. Read one class at a
time, each score says "probably nothing"; read together they say "something
is there, and it is one of the two". :func:`share_class_evidence` gives each
such box, for its own class, the summed score of the boxes of its group
overlapping it, so every reading the detector left open stays open for the
rules (a robust reasoner then covers both classes).

Example:
    >>> import torch
    >>> from perception.detections import Detections
    >>> d = Detections(torch.tensor([[0., 0., 10., 10.], [1., 0., 10., 10.], [40., 40., 50., 50.]]),
    ...                torch.tensor([2, 3, 3]), torch.tensor([0.24, 0.27, 0.3]),
    ...                ("car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign"))
    >>> [round(s, 2) for s in share_class_evidence(d, [("pedestrian", "cyclist")]).scores.tolist()]
    [0.51, 0.51, 0.3]
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import torch
from torchvision.ops import box_iou

CONFUSABLE_CLASSES = (("pedestrian", "cyclist"), ("car", "truck"))


def share_class_evidence(detections, groups: Sequence[Sequence[str]] = CONFUSABLE_CLASSES,
                         iou_threshold: float = 0.5):
    """Each detection's score plus those of overlapping detections of other classes of its group (at most 1).

    Args:
        detections: :class:`perception.detections.Detections` of one image.
        groups: classes a detector confuses with each other; a class in no
            group keeps its own score.
        iou_threshold: box overlap at which two detections are one object.

    Returns:
        The same detections with the shared scores (boxes, labels and
        attributes unchanged).
    """
    if len(detections) < 2 or not groups:
        return detections
    group_of = {name: g for g, members in enumerate(groups) for name in members}
    groups_by_label = torch.tensor([group_of.get(name, -1) for name in detections.class_names])
    group = groups_by_label[detections.labels]
    same_group = (group[:, None] == group[None, :]) & (group[:, None] >= 0)
    other_class = detections.labels[:, None] != detections.labels[None, :]
    overlapping = box_iou(detections.boxes.float(), detections.boxes.float()) >= iou_threshold
    shares = (same_group & other_class & overlapping).to(detections.scores.dtype)
    scores = (detections.scores + shares @ detections.scores).clamp(max=1.0)
    return dataclasses.replace(detections, scores=scores)
