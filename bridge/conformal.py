"""Split-conformal position uncertainty: how far a detected box may be off, per class, at a stated coverage.

A detector's box errors differ by class (a truck's box is off by more than
a pedestrian's), so one global radius is too wide for most objects and too
narrow for some. Split conformal prediction turns errors measured on
held-out frames into a radius per class that covers a new detection's error
with probability at least ``coverage``: for ``n`` held-out errors of a class,
the radius is the ``ceil((n + 1) * coverage)``-th smallest (infinite when
``n`` is too small for the coverage asked). The guarantee holds for frames
drawn like the held-out ones, whatever the error distribution.

:func:`bridge.evaluation.residuals.box_errors_by_class` measures the errors (the largest error of a box's
centre and edges, metres, as ``ObjectState.position_uncertainty`` reads it);
:func:`fit_class_radii` turns them into radii; the pipeline stamps each
detection with its class's radius (``PipelineConfig.class_position_uncertainty_m``,
:class:`bridge.perception_stage.DetectorPerception`).
``python -m benchmarks conformal`` measures them on held-out
scenes and reports their coverage on scenes it never saw.

Motion is calibrated the same way, scaled rather than fixed: a tracked
object's ``speed_uncertainty`` (how far its closing speed may be off) is
the tracker's own estimate, larger for short tracks and uncertain boxes.
:func:`bridge.evaluation.residuals.speed_residuals_by_class` measures, per class, the closing-speed
error of each tracked object beside the uncertainty it reported;
:func:`fit_class_scales` finds the factor that makes ``factor *
uncertainty`` cover the error at ``coverage`` (normalised split conformal:
the conformal radius of ``error / uncertainty``). :class:`ConformalCalibration`
holds both tables; ``nesy calibrate --conformal`` fits it on held-out
episodes, reports coverage and mean width on episodes it never saw, and
writes the file ``pipeline.conformal`` names.
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from perception.files import write_atomic
from bridge.errors import ConfigError

CONFORMAL_FORMAT = "nesy-conformal/1"


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


def fit_class_scales(residuals: Mapping[str, Sequence[tuple[float, float]]],
                     coverage: float = 0.995) -> dict[str, float]:
    """Per class, the factor on the reported uncertainty that covers the error at ``coverage``.

    The conformal radius of the normalised errors ``error / uncertainty``
    (classes with too few residuals for ``coverage`` are left out).

    Example:
        >>> fit_class_scales({"car": [(0.1, 1.0)] * 300 + [(5.0, 1.0)], "cyclist": [(1.0, 1.0)]}, coverage=0.99)
        {'car': 0.1}
    """
    scores = {label: [error / uncertainty for error, uncertainty in pairs] for label, pairs in residuals.items()}
    scales = {label: conformal_radius(values, coverage) for label, values in scores.items()}
    return {label: round(scale, 4) for label, scale in scales.items() if math.isfinite(scale)}


def scaled_coverage(residuals: Mapping[str, Sequence[tuple[float, float]]], scales: Mapping[str, float],
                    default: float = 1.0) -> dict[str, tuple[float, float, int]]:
    """Per class: the share of errors within ``scale * uncertainty``, the mean width ``scale * uncertainty``, n.

    Example:
        >>> scaled_coverage({"car": [(0.5, 1.0), (3.0, 2.0)]}, {"car": 1.0})
        {'car': (0.5, 1.5, 2)}
    """
    table = {}
    for label, pairs in residuals.items():
        scale = scales.get(label, default)
        errors = np.asarray([e for e, _ in pairs], dtype=float)
        widths = scale * np.asarray([u for _, u in pairs], dtype=float)
        share = float(np.mean(errors <= widths + 1e-9)) if errors.size else 1.0
        table[label] = (share, float(widths.mean()) if widths.size else 0.0, int(errors.size))
    return table


@dataclasses.dataclass(frozen=True)
class ConformalCalibration:
    """Split-conformal tolerances of one detector: per-class box radii and per-class motion scales.

    Args:
        coverage: the nominal coverage both tables were fitted for.
        position_radius_m: class -> metres a detected box (centre and edges)
            may be off; the pipeline grounds each detection of the class with it.
        speed_uncertainty_scale: class -> factor on the tracker's reported
            closing-speed uncertainty.
        weights_sha256: the checkpoint it was fitted for (empty: not recorded).
        fitted_on: how it was fitted (episodes, seeds, preset), for the record.

    Example:
        >>> table = ConformalCalibration(0.995, {"car": 0.4}, {"car": 1.3})
        >>> ConformalCalibration.from_json(table.to_json()) == table
        True
    """

    coverage: float
    position_radius_m: Mapping[str, float]
    speed_uncertainty_scale: Mapping[str, float]
    weights_sha256: str = ""
    fitted_on: Mapping[str, object] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        return {"format": CONFORMAL_FORMAT, "coverage": self.coverage,
                "position_radius_m": dict(sorted(self.position_radius_m.items())),
                "speed_uncertainty_scale": dict(sorted(self.speed_uncertainty_scale.items())),
                "weights_sha256": self.weights_sha256, "fitted_on": dict(self.fitted_on)}

    @classmethod
    def from_json(cls, document, source: str = "conformal file") -> "ConformalCalibration":
        """Read a document written by :meth:`to_json`; a malformed one is one ``ConfigError`` naming ``source``."""
        if not isinstance(document, dict) or document.get("format") != CONFORMAL_FORMAT:
            raise ConfigError(f"{source}: not a conformal calibration file (expected \"format\": "
                              f"\"{CONFORMAL_FORMAT}\"; write one with `nesy calibrate --conformal`)")
        coverage = document.get("coverage")
        if isinstance(coverage, bool) or not isinstance(coverage, (int, float)) or not 0.0 < coverage < 1.0:
            raise ConfigError(f"{source}: coverage: expected a number in (0, 1). Received: {coverage!r}")
        tables = {}
        for key in ("position_radius_m", "speed_uncertainty_scale"):
            table = document.get(key)
            if not isinstance(table, dict):
                raise ConfigError(f"{source}: {key}: expected a mapping of class names to numbers. Received: {table!r}")
            for label, value in table.items():
                if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                        or value < 0):
                    raise ConfigError(f"{source}: {key}.{label}: expected a finite number >= 0. Received: {value!r}")
            tables[key] = {str(label): float(value) for label, value in table.items()}
        return cls(float(coverage), tables["position_radius_m"], tables["speed_uncertainty_scale"],
                   str(document.get("weights_sha256", "")), dict(document.get("fitted_on") or {}))

    def save(self, path: str | Path) -> Path:
        """Write the table as JSON (atomically) and return the path."""
        return write_atomic(Path(path), json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "ConformalCalibration":
        """Read a table written by :meth:`save`; errors name the file."""
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"{path}: cannot read the conformal calibration ({error.strerror or error})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ConfigError(f"{path}: not valid JSON ({error})") from None
        return cls.from_json(document, source=str(path))
