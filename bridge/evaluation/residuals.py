"""What perception got wrong, per class, measured against the ground truth: the residuals conformal calibration fits.

:func:`box_errors_by_class` gives each matched box's error (metres, as
``ObjectState.position_uncertainty`` reads it); :func:`speed_residuals_by_class`
each tracked object's closing-speed error beside the uncertainty it
reported. :mod:`bridge.conformal` turns them into tolerances.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from bridge.evaluation.metrics import match_objects
from bridge.geometry import STATIC_LABELS, box_coordinates, closing_speed
from bridge.ground_truth import ground_truth_objects


def box_error(seen, true) -> float:
    """The largest error, metres, of a box's centre and edges on the ground (both axes)."""
    return max(abs(a - b) for a, b in zip(box_coordinates(seen), box_coordinates(true)))


def box_errors_by_class(results: Iterable, *, iou_threshold: float = 0.5) -> dict[str, list[float]]:
    """Box errors of pipeline results on frames with ground truth, per class.

    Each grounded object with a box (not coasted, not cut by the image
    border) is matched to a true object (:func:`bridge.evaluation.metrics.match_objects`);
    a match of the same label gives one error.

    Args:
        results: :class:`bridge.pipeline.FrameResult` of generated frames.

    Returns:
        label -> errors in metres.
    """
    errors: dict[str, list[float]] = defaultdict(list)
    for result in results:
        truth = ground_truth_objects(result.frame)
        for i, j in match_objects(result.objects, truth, iou_threshold=iou_threshold).items():
            seen, true = result.objects[i], truth[j]
            if seen.label == true.label and not seen.truncated and seen.box is not None:
                errors[seen.label].append(box_error(seen, true))
    return dict(errors)


def speed_residuals_by_class(results: Iterable, *, iou_threshold: float = 0.5) -> dict[str, list[tuple[float, float]]]:
    """Closing-speed errors of tracked objects beside the uncertainty each reported, per class.

    Each grounded object with an estimated motion (a velocity and a
    ``speed_uncertainty`` above 0; static classes and unknown motion are
    left out) is matched to a true object (:func:`bridge.evaluation.metrics.match_objects`);
    a match of the same label gives ``(|true closing speed - estimated|, speed_uncertainty)``
    in m/s, both read from the frame's ego.

    Args:
        results: :class:`bridge.pipeline.FrameResult` of generated frames, in stream order.

    Returns:
        label -> list of (error, reported uncertainty).
    """
    residuals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for result in results:
        ego = result.frame.ego
        truth = ground_truth_objects(result.frame)
        for i, j in match_objects(result.objects, truth, iou_threshold=iou_threshold).items():
            seen, true = result.objects[i], truth[j]
            if (seen.label != true.label or seen.label in STATIC_LABELS or seen.velocity is None
                    or not seen.speed_uncertainty > 0.0):
                continue
            error = abs(closing_speed(true, ego) - closing_speed(seen, ego))
            residuals[seen.label].append((error, float(seen.speed_uncertainty)))
    return dict(residuals)

