"""Fit a :class:`bridge.conformal.ConformalCalibration` on held-out episodes and measure it on unseen ones.

The pipeline (without conformal tolerances) runs, tracked, over generated
episodes with their warm-up frames; the judged frames' box errors give the
per-class radii; the pipeline then runs again with those radii (they widen
the tracker's velocities) and the closing-speed residuals give the per-class
scales. :func:`measure_conformal` reports, on other episodes, the share of
errors each tolerance covers and its mean width, beside the pipeline's
uncalibrated tolerances (one global radius, scale 1), and the coverage
reached at each nominal level (the reliability curve :func:`plot_reliability`
draws). ``nesy calibrate --conformal`` is the command.
"""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from bridge.conformal import (ConformalCalibration, coverage_by_class, fit_class_radii, fit_class_scales,
                              scaled_coverage)
from bridge.evaluation.residuals import box_errors_by_class, speed_residuals_by_class
from bridge.frames import generate_episode_frames
from bridge.pipeline import Pipeline

RELIABILITY_LEVELS = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)


@dataclasses.dataclass
class Residuals:
    """Box errors (label -> metres) and closing-speed residuals (label -> (error, uncertainty)) of some frames."""

    box: dict[str, list[float]]
    speed: dict[str, list[tuple[float, float]]]


def judged(results) -> list:
    """The results of judged frames (warm-up frames left out)."""
    return [r for r in results if not getattr(r.frame, "warmup", False)]


def collect_residuals(pipeline: Pipeline, frames: Sequence) -> Residuals:
    """Run ``pipeline`` tracked over episode ``frames`` and measure its judged frames' residuals."""
    results = judged(pipeline(frames, explain=False, track=True))
    return Residuals(box_errors_by_class(results), speed_residuals_by_class(results))


def fit_conformal(pipeline: Pipeline, frames: Sequence, coverage: float = 0.995, *,
                  progress: Callable[[str], None] | None = None) -> tuple[ConformalCalibration, Residuals]:
    """Fit per-class radii, then per-class speed scales with the radii in place.

    Args:
        pipeline: a detector pipeline without conformal tolerances.
        frames: held-out episodes with warm-up frames (:func:`bridge.frames.generate_episode_frames`).
        coverage: the nominal coverage of both tables.

    Returns:
        The table, and the residuals it was fitted on (speed residuals with the radii in place).
    """
    say = progress or (lambda message: None)
    say("box errors")
    boxes = collect_residuals(pipeline, frames).box
    radii = fit_class_radii(boxes, coverage)
    say("closing speeds with the fitted radii")
    widened = with_tolerances(pipeline, radii, {})
    speeds = collect_residuals(widened, frames).speed
    scales = fit_class_scales(speeds, coverage)
    return ConformalCalibration(coverage, radii, scales), Residuals(boxes, speeds)


def with_tolerances(pipeline: Pipeline, radii: Mapping[str, float], scales: Mapping[str, float]) -> Pipeline:
    """A copy of ``pipeline`` whose perception and tracker use the given per-class radii and speed scales."""
    config = dataclasses.replace(pipeline.config, class_position_uncertainty_m=dict(radii),
                                 class_speed_uncertainty_scale=dict(scales))
    perception = copy.copy(pipeline.perception)
    if hasattr(perception, "class_position_uncertainty_m"):
        perception.class_position_uncertainty_m = dict(radii)
    return Pipeline(perception=perception, postprocess=pipeline.postprocess, grounder=pipeline.grounder,
                    reasoner=pipeline.reasoner, planners=pipeline.planners, config=config)


@dataclasses.dataclass
class ConformalReport:
    """Coverage and width on unseen episodes, per class, of the fitted and the uncalibrated tolerances."""

    position: dict[str, tuple[float, float, int]]            # label -> (covered, radius, n)
    position_global: dict[str, tuple[float, float, int]]
    speed: dict[str, tuple[float, float, int]]               # label -> (covered, mean width, n)
    speed_unscaled: dict[str, tuple[float, float, int]]
    reliability: dict[str, list[tuple[float, float]]]        # "position"/"speed" -> (nominal, reached)

    def rows(self) -> list[str]:
        """The report as table lines."""
        lines = [f"{'kind':<9}{'class':<15}{'n':>7}{'covered':>9}{'width':>9}{'before':>9}{'width':>9}"]
        for kind, after, before, unit in (("position", self.position, self.position_global, "m"),
                                          ("speed", self.speed, self.speed_unscaled, "m/s")):
            for label in sorted(after, key=lambda name: -after[name][2]):
                (share, width, n), (share0, width0, _) = after[label], before[label]
                lines.append(f"{kind:<9}{label:<15}{n:>7}{share:>9.2%}{width:>9.3f}{share0:>9.2%}{width0:>9.3f}")
            lines.append(f"{kind:<9}{'all':<15}" + _pooled(after, before) + f"   (widths in {unit})")
        return lines


def _pooled(after, before) -> str:
    n = sum(v[2] for v in after.values())
    if not n:
        return f"{0:>7}"
    mean = lambda table, i: sum(v[i] * v[2] for v in table.values()) / n  # noqa: E731
    return f"{n:>7}{mean(after, 0):>9.2%}{mean(after, 1):>9.3f}{mean(before, 0):>9.2%}{mean(before, 1):>9.3f}"


def measure_conformal(pipeline: Pipeline, table: ConformalCalibration, fitted: Residuals,
                      frames: Sequence) -> ConformalReport:
    """Coverage and mean width of ``table`` on unseen episode ``frames``, and the reliability curve.

    Args:
        pipeline: the pipeline without conformal tolerances (its global radius is the "before").
        table: the fitted table.
        fitted: the residuals it was fitted on (refitted at each reliability level).
        frames: unseen episodes with warm-up frames.
    """
    default = pipeline.config.position_uncertainty_m
    boxes = collect_residuals(pipeline, frames).box
    speeds = collect_residuals(with_tolerances(pipeline, table.position_radius_m, {}), frames).speed
    reliability = {"position": [], "speed": []}
    for level in RELIABILITY_LEVELS:
        radii = fit_class_radii(fitted.box, level)
        reliability["position"].append((level, _pooled_share(coverage_by_class(boxes, radii, default))))
        scales = fit_class_scales(fitted.speed, level)
        reliability["speed"].append((level, _pooled_share(scaled_coverage(speeds, scales))))
    return ConformalReport(coverage_by_class(boxes, table.position_radius_m, default),
                           coverage_by_class(boxes, {}, default),
                           scaled_coverage(speeds, table.speed_uncertainty_scale),
                           scaled_coverage(speeds, {}), reliability)


def _pooled_share(table: Mapping[str, tuple[float, float, int]]) -> float:
    n = sum(v[2] for v in table.values())
    return sum(v[0] * v[2] for v in table.values()) / n if n else 1.0


def plot_reliability(report: ConformalReport, path: str | Path) -> Path:
    """Draw nominal against reached coverage for positions and speeds as a PNG; returns the path."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 4.2), dpi=120)
    levels = np.array(RELIABILITY_LEVELS)
    axis.plot(levels, levels, color="#888", linestyle="--", label="nominal")
    for kind, colour in (("position", "#1f77b4"), ("speed", "#d62728")):
        points = report.reliability[kind]
        axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=colour,
                  label=f"{kind} (unseen episodes)")
    axis.set_xlabel("nominal coverage")
    axis.set_ylabel("coverage reached")
    axis.set_title("Conformal tolerances: reliability")
    axis.set_xlim(0.48, 1.0)
    axis.set_ylim(0.48, 1.0)
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def episodes(world, num_frames: int, seed: int, warmup_frames: int = 2) -> list:
    """Judged frames in 50-frame episodes with their warm-up history (the frames conformal calibration uses)."""
    return generate_episode_frames(world, num_frames, episode_length=50, seed=seed, warmup_frames=warmup_frames)
