"""Split-conformal position uncertainty: how far a detected box may be off, per class, at a stated coverage.

A detector's box errors differ by class (a truck's box is off by more than
a pedestrian's), so one global radius is too wide for most objects and too
narrow for some. Split conformal prediction turns errors measured on
held-out frames into a radius per class that covers a new detection's error
with probability at least ``coverage``: for ``n`` held-out errors of a class,
the radius is the ``ceil((n + 1) * coverage)``-th smallest (infinite when
``n`` is too small for the coverage asked). The guarantee holds for frames
drawn like the held-out ones, whatever the error distribution.

:func:`box_errors_by_class` measures the errors (the largest error of a box's
centre and edges, metres, as ``ObjectState.position_uncertainty`` reads it);
:func:`fit_class_radii` turns them into radii; the pipeline stamps each
detection with its class's radius (``PipelineConfig.class_position_uncertainty_m``,
:class:`bridge.perception_stage.DetectorPerception`).
``python -m benchmarks conformal`` measures them on held-out
scenes and reports their coverage on scenes it never saw.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Iterable, Mapping, Sequence

import numpy as np

from bridge.evaluation.metrics import match_objects
from bridge.geometry import box_coordinates
from bridge.ground_truth import ground_truth_objects


def conformal_radius(errors: Sequence[float], coverage: float) -> float:
    """The split-conformal radius of ``errors`` at ``coverage``: the ``ceil((n + 1) coverage)``-th smallest.

    A new error drawn like ``errors`` is at most this radius with probability
    at least ``coverage`` (infinite when ``n`` errors cannot promise it).

    Example:
        >>> conformal_radius([0.1, 0.2, 0.3, 0.4], 0.5)
        0.3
        >>> conformal_radius([0.1, 0.2], 0.99)
        inf
    """
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"`coverage` must be in (0, 1). Received: coverage={coverage!r}")
    values = sorted(float(e) for e in errors)
    rank = math.ceil((len(values) + 1) * coverage)
    return values[rank - 1] if rank <= len(values) else math.inf


def fit_class_radii(errors: Mapping[str, Sequence[float]], coverage: float = 0.995) -> dict[str, float]:
    """One conformal radius per class (classes with too few errors for ``coverage`` are left out).

    Example:
        >>> fit_class_radii({"car": [0.1] * 300 + [0.5], "truck": [1.0]}, coverage=0.99)
        {'car': 0.1}
    """
    radii = {label: conformal_radius(values, coverage) for label, values in errors.items()}
    return {label: round(radius, 4) for label, radius in radii.items() if math.isfinite(radius)}


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


def coverage_by_class(errors: Mapping[str, Sequence[float]], radii: Mapping[str, float],
                      default: float) -> dict[str, tuple[float, float, int]]:
    """Per class: the share of ``errors`` within its radius (``default`` for a class without one), the radius, n.

    Example:
        >>> coverage_by_class({"car": [0.1, 0.3]}, {"car": 0.2}, 0.75)
        {'car': (0.5, 0.2, 2)}
    """
    table = {}
    for label, values in errors.items():
        radius = radii.get(label, default)
        values = np.asarray(values, dtype=float)
        table[label] = (float(np.mean(values <= radius + 1e-9)) if values.size else 1.0, radius, int(values.size))
    return table
