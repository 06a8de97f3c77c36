"""How far perception's positions and the tracker's closing speeds are off, against the ground truth.

:func:`localization_errors` is the source of the pipeline's
``position_uncertainty_m`` and ``track_jitter_fraction``
(``python -m benchmarks localization`` prints its tables).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from bridge.evaluation.metrics import match_objects
from bridge.frames import continues_episode, frame_time
from bridge.geometry import STATIC_LABELS, box_coordinates, closing_speed
from bridge.ground_truth import ground_truth_objects
from bridge.pipeline import default_tracker


@dataclass
class LocalizationErrors:
    """How far detected positions and tracked closing speeds are off, against the ground truth.

    Attributes:
        box_errors: per matched, uncut detection, the largest error of its
            box's coordinates (centre and edges, both axes), metres.
        closing_errors: per matched track with an estimated velocity, the
            error of its closing speed, m/s (signed: estimated minus true).
        closing_uncertainties: the ``speed_uncertainty`` the tracker gave each of them.
        error_spreads: per true object seen uncut and matched in ``window``
            consecutive frames, the larger spread (max - min) of its box
            centre's signed error over them (x or y), metres: how far the
            error itself moves within a velocity fit.
        num_unknown: matched moving objects whose tracks reported no velocity
            (new, or doubtful).
    """

    box_errors: list[float]
    closing_errors: list[float]
    closing_uncertainties: list[float]
    error_spreads: list[float] = field(default_factory=list)
    num_unknown: int = 0

    def box_error(self, percentile: float = 99.0) -> float:
        """The ``percentile`` of :attr:`box_errors` (metres); 0 without detections."""
        return float(np.percentile(self.box_errors, percentile)) if self.box_errors else 0.0

    def coverage(self) -> float:
        """Share of closing speeds whose error the tracker's uncertainty covers (the estimate plus its
        uncertainty reaches the true closing speed, as time to collision reads it); 1 without tracks."""
        if not self.closing_errors:
            return 1.0
        return float(np.mean([-e <= u + 1e-9 for e, u in zip(self.closing_errors, self.closing_uncertainties)]))

    def table(self) -> str:
        """Percentiles of the errors and the coverage, as text."""
        percentiles = (50, 90, 95, 99, 99.5)
        lines = ["percentile            " + "".join(f"{p:>8}" for p in percentiles)]
        for name, values in (("box coordinate (m)", self.box_errors),
                             ("error spread (m)", self.error_spreads),
                             ("closing speed (m/s)", [abs(e) for e in self.closing_errors])):
            row = "".join(f"{np.percentile(values, p):>8.3f}" for p in percentiles) if values else "  (none)"
            lines.append(f"{name:<22}{row}   n={len(values)}")
        lines.append(f"closing speed covered by the tracker's uncertainty: {self.coverage():.2%}")
        lines.append(f"velocity unknown (new or doubtful track): {self.num_unknown} of "
                     f"{self.num_unknown + len(self.closing_errors)}")
        return "\n".join(lines)


def localization_errors(pipeline, frames: Sequence, *, iou_threshold: float = 0.5) -> LocalizationErrors:
    """Measure the detector's box errors and the tracker's closing-speed errors on generated frames.

    The frames go through the pipeline's public stages, every step of
    them: its perception (batched), its post-processing (calibration,
    duplicates, class evidence), its grounder's ``locate`` and a tracker
    following them as :meth:`Pipeline.stream` would (the pipeline's, or
    :func:`~bridge.pipeline.default_tracker` of its config when it has none,
    as in oracle mode); each tracked object is matched to a true object of
    the same label (IoU >= ``iou_threshold``, greedily by score). Boxes cut
    off by the image border are left out of the box errors (their centre is
    unknown on the cut side).

    Args:
        pipeline: a :class:`bridge.pipeline.Pipeline`.
        frames: generated episodes in time order (with ground truth).

    Returns:
        :class:`LocalizationErrors`.

    Example:
        >>> from perception.world import generate_episode, preset_config
        >>> from bridge.pipeline import Pipeline
        >>> oracle = Pipeline.from_config("configs/drive.yaml", oracle=True)
        >>> errors = localization_errors(oracle, generate_episode(preset_config("easy"), seed=2, num_frames=3))
        >>> errors.box_error(100.0)
        0.0
    """
    frames = list(frames)
    detections = [pipeline.postprocess(d) for d in pipeline.perception.detect(frames)]
    tracker = pipeline.tracker if pipeline.tracker is not None else default_tracker(pipeline.config)
    tracker.reset()
    box_errors: list[float] = []
    closing_errors: list[float] = []
    closing_uncertainties: list[float] = []
    error_spreads: list[float] = []
    num_unknown = 0
    recent_errors: dict[str, list[tuple[float, ...]]] = {}   # true id -> signed coordinate errors, consecutive frames
    previous = None
    for frame, found in zip(frames, detections):
        if previous is not None and not continues_episode(previous, frame):
            tracker.reset()
            recent_errors = {}
        previous = frame
        seen_now: dict[str, list[tuple[float, ...]]] = {}
        objects = tracker.update(pipeline.grounder.locate(found, frame), frame.ego, frame_time(frame))
        truth = ground_truth_objects(frame)
        for i, j in match_objects(objects, truth, iou_threshold=iou_threshold).items():
            seen, true = objects[i], truth[j]
            if seen.label != true.label:
                continue
            if not seen.truncated:
                errors = tuple(a - b for a, b in zip(box_coordinates(seen), box_coordinates(true)))
                box_errors.append(max(abs(e) for e in errors))
                centre = errors[:2]    # what a whole box's velocity fit follows
                run = seen_now[true.id] = [*recent_errors.get(true.id, []), centre][-tracker.window:]
                if len(run) == tracker.window:
                    error_spreads.append(max(max(column) - min(column) for column in zip(*run)))
            if seen.velocity is None and seen.label not in STATIC_LABELS:
                num_unknown += 1
            elif seen.label not in STATIC_LABELS:
                true_motion = dataclasses.replace(true, position=seen.position)  # the same line of sight
                closing_errors.append(closing_speed(seen, frame.ego)
                                      - closing_speed(true_motion, frame.ego))
                closing_uncertainties.append(seen.speed_uncertainty)
        recent_errors = seen_now
    return LocalizationErrors(box_errors, closing_errors, closing_uncertainties, error_spreads, num_unknown)

