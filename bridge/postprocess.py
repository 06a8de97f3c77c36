"""The post-processing stage: perception's detections made ready for grounding.

Three steps, in this order (:class:`PostProcess`):

1. **calibration**: each class's detector scores become probabilities
   (a :class:`bridge.calibration.ScoreCalibration`, fitted by ``nesy calibrate``);
2. **duplicates**: of detections (any classes) overlapping at least
   ``duplicate_iou``, only the more confident is kept (:func:`suppress_duplicates`);
3. **class evidence**: detections of confusable classes on one box share
   their scores (:func:`bridge.class_evidence.share_class_evidence`).

The first two give the detections a frame reports
(``FrameResult.detections``); the third only changes the scores grounded.
"""
from __future__ import annotations

import warnings
from typing import Sequence

from torchvision.ops import nms

from bridge.calibration import ScoreCalibration, file_sha256
from bridge.class_evidence import share_class_evidence
from bridge.perception_stage import weights_path


class PostProcess:
    """Calibration, duplicate suppression and class-evidence sharing of one image's detections.

    Args:
        calibration: a :class:`bridge.calibration.ScoreCalibration`, or None (raw scores).
        duplicate_iou: overlap at which two detections are one object (1.0 keeps all).
        class_groups: classes the detector confuses with each other; empty: no sharing.
        class_share_iou: box overlap at which detections of one group are one object.

    Example:
        >>> import torch
        >>> from perception.detections import Detections
        >>> names = ("car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign")
        >>> d = Detections(torch.tensor([[0., 0., 10., 10.], [1., 0., 10., 10.]]), torch.tensor([2, 3]),
        ...                torch.tensor([0.24, 0.27]), names)
        >>> [round(s, 2) for s in PostProcess(class_groups=[("pedestrian", "cyclist")])(d).scores.tolist()]
        [0.51, 0.51]
        >>> PostProcess(duplicate_iou=0.5)(d).label_names()
        ['cyclist']
    """

    def __init__(self, calibration: ScoreCalibration | None = None, duplicate_iou: float = 1.0,
                 class_groups: Sequence[Sequence[str]] = (), class_share_iou: float = 0.5):
        self.calibration = calibration
        self.duplicate_iou = duplicate_iou
        self.class_groups = class_groups
        self.class_share_iou = class_share_iou

    def __call__(self, detections):
        """Every step: :meth:`clean`, then :meth:`share`."""
        return self.share(self.clean(detections))

    def clean(self, detections):
        """Calibrated scores, duplicates removed: the detections a frame reports."""
        if self.calibration is not None:
            detections = self.calibration.apply(detections)
        if self.duplicate_iou < 1.0:
            detections = suppress_duplicates(detections, self.duplicate_iou)
        return detections

    def share(self, detections):
        """Confusable classes' scores shared on one box (the scores grounded); unchanged without groups."""
        if not self.class_groups:
            return detections
        return share_class_evidence(detections, self.class_groups, self.class_share_iou)


def load_calibration(path: str, weights: str | None = None) -> ScoreCalibration | None:
    """The score calibration at ``path`` if it was fitted for this checkpoint, else None (with a warning)."""
    calibration = ScoreCalibration.load(path)
    checkpoint = weights_path(weights)
    if calibration.weights_sha256 and checkpoint.is_file() and file_sha256(checkpoint) != calibration.weights_sha256:
        warnings.warn(f"{path} was fitted for another checkpoint than {checkpoint}; detector scores are "
                      f"used uncalibrated (refit with 'nesy calibrate')", stacklevel=2)
        return None
    return calibration


def suppress_duplicates(detections, iou_threshold: float = 0.5):
    """Keep the more confident of detections overlapping by ``iou_threshold`` or more, whatever their class.

    A detector may fire two classes on one object (a pedestrian on a stop
    sign); the object has one class.

    Returns:
        :class:`perception.detections.Detections`, the kept rows in score order.

    Example:
        >>> import torch
        >>> from perception.detections import Detections
        >>> d = Detections(torch.tensor([[0., 0., 10., 10.], [1., 0., 10., 10.], [20., 20., 30., 30.]]),
        ...                torch.tensor([5, 2, 0]), torch.tensor([0.9, 0.4, 0.8]), ("car", "b", "pedestrian", "c", "d", "stop_sign"))
        >>> suppress_duplicates(d).label_names()
        ['stop_sign', 'car']
    """
    if len(detections) < 2:
        return detections
    keep = nms(detections.boxes.float(), detections.scores.float(), iou_threshold)
    return detections.select(keep)
