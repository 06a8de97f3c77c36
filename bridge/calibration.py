"""Score calibration: detector scores become probabilities that a detection is right.

A detector's score ranks detections but is no probability: here a true car
may score 0.55 while a false pedestrian scores 0.45, and the classes differ.
The rules read confidences against one pair of thresholds (``low``,
``high``), so the bridge maps each class's scores to the measured precision
at that score: the share of detections with that label and score that match a
true object (IoU >= 0.5) on generated scenes with ground truth. The map is
monotone (isotonic regression, pool-adjacent-violators) and stored as a table
per class; between table points it is linear.

Fit it once per checkpoint (``nesy calibrate``), point ``pipeline.calibration``
at the JSON file, and the pipeline calibrates every detection before grounding.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from perception.files import write_atomic

GRID = tuple(round(i / 20, 2) for i in range(21))  # scores 0, 0.05, ..., 1


@dataclass
class ScoreCalibration:
    """Per-class maps from detector score to probability of being right.

    Args:
        probabilities: label -> probability at each score of ``grid``
            (non-decreasing).
        grid: the scores of the table, increasing, from 0 to 1.
        weights_sha256: checksum of the checkpoint it was fitted for ("" if unknown).
        num_detections: label -> detections it was fitted on.

    Example:
        >>> calibration = ScoreCalibration({"car": [0.0] * 10 + [1.0] * 11})
        >>> calibration.probability("car", 0.3), calibration.probability("car", 0.6)
        (0.0, 1.0)
        >>> calibration.probability("truck", 0.6)   # no table: the score itself
        0.6
    """

    probabilities: dict[str, list[float]]
    grid: Sequence[float] = GRID
    weights_sha256: str = ""
    num_detections: dict[str, int] = field(default_factory=dict)

    def probability(self, label: str, score: float) -> float:
        """The calibrated confidence of one detection."""
        table = self.probabilities.get(label)
        if table is None:
            return float(score)
        return float(np.interp(score, self.grid, table))

    def apply(self, detections):
        """A copy of ``detections`` whose scores are calibrated (boxes, labels, attributes unchanged).

        Args:
            detections: :class:`perception.detections.Detections`.

        Returns:
            :class:`perception.detections.Detections`.
        """
        import torch

        labels = detections.label_names()
        scores = [self.probability(label, s) for label, s in zip(labels, detections.scores.tolist())]
        return dataclasses.replace(detections, scores=torch.tensor(scores, dtype=detections.scores.dtype).reshape(len(labels)),
                                   attributes=dict(detections.attributes),
                                   attribute_values=dict(detections.attribute_values))

    def to_json(self) -> dict:
        return {"grid": list(self.grid), "probabilities": {k: [round(p, 5) for p in v] for k, v in self.probabilities.items()},
                "weights_sha256": self.weights_sha256, "num_detections": dict(self.num_detections)}

    @classmethod
    def from_json(cls, data: dict, source: str = "<calibration>") -> "ScoreCalibration":
        """Build from :meth:`to_json` output, naming the file and key on error."""
        if not isinstance(data, dict) or not isinstance(data.get("probabilities"), dict):
            raise ValueError(f"{source}: expected an object with a 'probabilities' mapping of label -> list")
        grid = data.get("grid", list(GRID))
        if not _is_numbers(grid) or list(grid) != sorted(grid) or len(grid) < 2:
            raise ValueError(f"{source}: 'grid' must be an increasing list of scores. Received {grid!r}")
        for label, table in data["probabilities"].items():
            if not _is_numbers(table) or len(table) != len(grid) or not all(0 <= p <= 1 for p in table):
                raise ValueError(f"{source}: probabilities['{label}'] must be {len(grid)} numbers in [0, 1], "
                                 f"one per grid score. Received {table!r}")
        return cls({str(k): [float(p) for p in v] for k, v in data["probabilities"].items()},
                   tuple(float(g) for g in grid), str(data.get("weights_sha256", "")),
                   {str(k): int(v) for k, v in dict(data.get("num_detections", {})).items()})

    def save(self, path: str | Path) -> Path:
        """Write the JSON file atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(self.to_json(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ScoreCalibration":
        """Read a calibration file; one-line errors name the file."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ValueError(f"{path}: calibration file not found (make one with 'nesy calibrate')") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}") from None
        return cls.from_json(data, source=str(path))


def _is_numbers(values) -> bool:
    return isinstance(values, (list, tuple)) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def isotonic(values: Sequence[float], weights: Sequence[float] | None = None) -> np.ndarray:
    """The non-decreasing sequence closest to ``values`` in weighted least squares (pool adjacent violators).

    Example:
        >>> isotonic([0.0, 1.0, 0.0, 1.0]).tolist()
        [0.0, 0.5, 0.5, 1.0]
    """
    values = np.asarray(values, dtype=float)
    weights = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float)
    blocks: list[list[float]] = []  # [mean, weight, count]
    for value, weight in zip(values, weights):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, weight_b, count = blocks.pop()
            previous = blocks[-1]
            total = previous[1] + weight_b
            previous[0] = (previous[0] * previous[1] + mean * weight_b) / total if total > 0 else mean
            previous[1] = total
            previous[2] += count
    return np.concatenate([np.full(count, mean) for mean, _, count in blocks]) if blocks else values


def fit_table(scores: Sequence[float], correct: Sequence[bool], grid: Sequence[float] = GRID,
              prior: float = 2.0) -> list[float]:
    """Precision as a non-decreasing function of score, sampled at ``grid``.

    Detections are binned by the grid; each bin's precision is smoothed
    toward the score itself with ``prior`` pseudo-detections and made
    monotone; between bins with data the table is linear, beyond them it
    keeps to the raw score's side.

    Example:
        >>> table = fit_table([0.1] * 9 + [0.9] * 9, [False] * 9 + [True] * 9, grid=(0.0, 0.5, 1.0), prior=0.0)
        >>> [round(p, 2) for p in table]
        [0.0, 0.5, 1.0]
    """
    grid = np.asarray(grid, dtype=float)
    scores = np.asarray(scores, dtype=float)
    correct = np.asarray(correct, dtype=float)
    nearest = np.abs(scores[:, None] - grid[None, :]).argmin(axis=1) if scores.size else np.zeros(0, int)
    hits = np.bincount(nearest, weights=correct, minlength=len(grid))
    counts = np.bincount(nearest, minlength=len(grid)).astype(float)
    seen = counts > 0
    if not seen.any():
        return grid.tolist()
    precision = (hits[seen] + prior * grid[seen]) / (counts[seen] + prior)
    table = np.interp(grid, grid[seen], isotonic(precision, counts[seen] + prior))
    first, last = grid[seen][0], grid[seen][-1]
    table = np.where(grid < first, np.minimum(table, grid), table)   # below the data: no more than the score
    table = np.where(grid > last, np.maximum(table, grid), table)    # above it: no less
    return np.clip(table, 0.0, 1.0).tolist()


def scene_match_flags(detections, scene, iou_threshold: float = 0.5) -> list[bool]:
    """Whether each detection matches a true object of its label (greedy by score, one to one).

    Unlike :func:`perception.boxes.match_boxes` it matches a scene's objects
    by label name, returns one flag per detection, and of true objects
    overlapping a detection equally it takes the later one.

    Returns:
        One bool per detection, in order.

    Example:
        >>> from perception.world import generate_scene, preset_config
        >>> from bridge.ground_truth import scene_detections
        >>> scene = generate_scene(preset_config("easy"), seed=1)
        >>> all(scene_match_flags(scene_detections(scene), scene))
        True
    """
    import torch
    from torchvision.ops import box_iou

    labels = detections.label_names()
    correct = [False] * len(labels)
    if not labels or not scene.objects:
        return correct
    iou = box_iou(detections.boxes.float(), torch.tensor([list(o.box) for o in scene.objects], dtype=torch.float32))
    taken: set[int] = set()
    for i in torch.argsort(-detections.scores).tolist():
        best, best_j = iou_threshold, None
        for j, obj in enumerate(scene.objects):
            if j not in taken and obj.label == labels[i] and float(iou[i, j]) >= best:
                best, best_j = float(iou[i, j]), j
        if best_j is not None:
            taken.add(best_j)
            correct[i] = True
    return correct


def fit_calibration(detections: Sequence, scenes: Sequence, *, class_names: Sequence[str],
                    weights_sha256: str = "") -> ScoreCalibration:
    """Fit per-class tables from detections of generated scenes and their ground truth.

    Args:
        detections: one :class:`perception.detections.Detections` per scene
            (from a low score threshold, e.g. 0.05).
        scenes: the generated scenes (with ``objects``).
        class_names: the labels to fit.
        weights_sha256: checksum of the checkpoint, recorded in the file.

    Returns:
        :class:`ScoreCalibration`.
    """
    scores: dict[str, list[float]] = {name: [] for name in class_names}
    correct: dict[str, list[bool]] = {name: [] for name in class_names}
    for found, scene in zip(detections, scenes):
        for label, score, right in zip(found.label_names(), found.scores.tolist(), scene_match_flags(found, scene)):
            scores[label].append(score)
            correct[label].append(right)
    return ScoreCalibration({name: fit_table(scores[name], correct[name]) for name in class_names},
                            GRID, weights_sha256, {name: len(scores[name]) for name in class_names})


def expected_calibration_error(scores: Sequence[float], correct: Sequence[bool], num_bins: int = 10) -> float:
    """Expected calibration error: the frequency-weighted gap between mean score and share correct, per score bin.

    0 when every score is the probability of being right; a detector whose
    0.9 scores are right half the time has a large one.

    Example:
        >>> expected_calibration_error([0.9, 0.9, 0.1, 0.1], [True, False, False, False])   # (2 * 0.4 + 2 * 0.1) / 4
        0.25
        >>> expected_calibration_error([0.75, 0.75, 0.75, 0.75], [True, True, True, False])
        0.0
    """
    scores = np.asarray(scores, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if scores.size == 0:
        return 0.0
    bins = np.minimum((scores * num_bins).astype(int), num_bins - 1)
    gap = 0.0
    for b in np.unique(bins):
        inside = bins == b
        gap += inside.sum() * abs(scores[inside].mean() - correct[inside].mean())
    return round(float(gap / scores.size), 12)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile(delete=False) as handle:
        ...     _ = handle.write(b"abc")
        >>> file_sha256(handle.name)[:12]
        'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
