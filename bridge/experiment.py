"""The experiment file (``configs/drive.yaml``): one section per stage.

Each section is a dataclass owned by the package that uses it; the
pipeline's own, :class:`PipelineConfig`, lives here. This module assembles
them and validates the file with :mod:`bridge.config`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from bridge.class_evidence import CONFUSABLE_CLASSES
from bridge.config import build_dataclass, load_yaml
from bridge.motion_prior import TOP_SPEEDS_MPS
from bridge.shipped import find_config, shipped_path
from bridge.vocabulary import CLASS_NAMES, NEAR_RADIUS_M
from perception.configuration import validate
from perception.model import DetectorConfig
from perception.training import TrainingConfig
from perception.world.config import WorldConfig

#: The rule file a pipeline uses when none is given, relative to the config's folder or ``configs/``.
DEFAULT_RULES = "rules/traffic.rules"


@dataclass
class PipelineConfig:
    """The ``pipeline:`` section of an experiment file.

    Args:
        rules: rule file, relative to the config file's folder. Left out of
            a file, ``rules/traffic.rules`` beside the file when there is
            one, else the shipped ``configs/rules/traffic.rules``; never a
            file of the working directory.
        weights: detector checkpoint; empty for the shipped model.
        calibration: score calibration file (``nesy calibrate``) mapping
            each class's detector scores to probabilities; used only with
            the checkpoint it was fitted for.
        conformal: split-conformal tolerance file (``nesy calibrate
            --conformal``, :class:`bridge.conformal.ConformalCalibration`):
            per-class box radii and closing-speed scales fitted on held-out
            episodes; it fills the classes ``class_position_uncertainty_m``
            and ``class_speed_uncertainty_scale`` leave out.
        duplicate_iou: of two detections (any classes) overlapping at least
            this much, only the more confident is kept: one object, one
            class (1.0 keeps all). It runs before ``class_groups`` share
            evidence, so below 1 it also removes the overlapping readings
            of confusable classes that sharing would keep open.
        score_threshold: detections below it are dropped before tracking.
        low, high: confidence at or below ``low`` is false, at or above
            ``high`` true, in between uncertain. An object whose class
            confidence the reasoner reads as false is absent: it is not
            grounded at all (a rule quantifying over every object, such as
            ``exists o: in_path(o) and ttc(o) < 2.5``, does not see it).
            With a tracker its confidence is the highest score of its last
            ``track_existence_window`` sightings, so a weak detection of a
            track seen confidently just before stays (uncertain or true),
            while a weak detection with no confident history is absent.
        robust: choose actions safe in every completion of uncertain facts.
        repair: repair facts against the rules' constraints before deciding
            (the reasoner reports flipped facts in ``Decision.repaired``).
        time_budget_ms: the reasoner's bound per frame.
        near_radius_m: metres within which two objects are ``near``.
        batch_size: images per detector call in batched mode.
        precision: the detector's inference precision when batched
            (``Detector.predict``; ``auto``: bfloat16 autocast on CPUs that
            support it, measured 1.7x faster at batch 32 here).
        stream_precision: the same for streaming (batch 1): float32, as
            bfloat16 was no faster at batch 1 on a quiet 2-core CPU and far
            slower when its cores were busy (500 ms against 11 ms).
        stream_threads: torch threads for one streamed image (0: torch's
            setting). One by default: at batch 1 two threads gain little
            and, when another process holds a core, wait on each other
            (measured 293 ms against 4 ms per image).
        track_max_distance_m, track_max_misses, track_window,
            track_speed_uncertainty: tracker settings (streaming): gate,
            patience, frames per velocity fit, m/s each axis of an estimated
            velocity may be off (the cautious reading of estimated motion).
        position_uncertainty_m: metres each coordinate of a detected box may
            be off (the detector's measured localisation error,
            ``python -m benchmarks localization``): geometric facts within it of a
            border are uncertain and tracked velocities widen by it; 0 in
            oracle mode.
        class_position_uncertainty_m: class -> metres, the same per class
            (split-conformal radii at a stated coverage, :mod:`bridge.conformal`,
            ``python -m benchmarks conformal``); a class left
            out takes ``position_uncertainty_m``.
        class_speed_uncertainty_scale: class -> factor on the tracker's
            closing-speed uncertainty for that class
            (``Tracker.class_speed_uncertainty_scale``; 1 for a class left out).
        velocity_uncertainty_scale: what a multi-frame detector's velocity
            uncertainty (a Laplace scale per axis) is multiplied by for the
            facts (5.3 = ln 200: 99.5% of Laplace errors); unused with a
            single-frame detector.
        track_jitter_fraction: what of ``position_uncertainty_m`` widens a
            velocity fitted to three or more positions
            (``Tracker.jitter_fraction``; 0.25 with five-frame fits covered
            99.75% of the shipped detector's closing speeds on default and
            99.48% on hard episodes, ``python -m benchmarks localization``).
        track_existence_window: sightings of a track whose best score is
            its confidence (``Tracker.existence_window``; 1: this frame's).
        class_groups: classes the detector confuses with each other
            (:mod:`bridge.class_evidence`): detections of one group whose
            boxes overlap by ``class_share_iou`` or more are one object of
            uncertain class, and each is grounded with their summed score
            (at most 1), so a figure scored 0.24 pedestrian and 0.27
            cyclist stays present as both. ``[]`` turns it off; never in
            oracle mode.
        class_share_iou: box overlap at which such detections are one object.
        track_coast: a track missed for a frame or two (occluded, a weak
            detection) is still grounded where its velocity predicts, its
            position uncertainty grown with the time unseen
            (``Tracker.coast``).
        track_memory_s: class -> seconds a confirmed track of that class is
            still grounded after it was last seen (``Tracker.memory_s``):
            where it was, or where its velocity puts it, its position
            uncertainty growing with the time unseen (by the class's top
            speed when its motion is unknown), with the confidence it was
            last seen with. An occluded pedestrian stays in the facts.
        motion_prior: bound how fast an object of unknown or only estimated
            motion may close in (:class:`bridge.motion_prior.MotionPrior`):
            a new track's time to collision is then read at the fastest
            closing its class and lane allow, instead of being uncertain.
            Off in oracle mode (true motion needs no bound).
        top_speeds_mps: class -> top speed over the ground, m/s (the prior's
            ``top_speeds``; a class left out is unbounded).
        one_way_lanes: vehicles and cyclists in a lane move its way or stand
            (the prior's ``one_way_lanes``).

    Example:
        >>> PipelineConfig(score_threshold=0.1).low
        0.25
    """

    rules: str = field(default=DEFAULT_RULES, metadata={"path": "file"})
    weights: str | None = field(default=None, metadata={"path": "file"})
    calibration: str | None = field(default=None, metadata={"path": "file"})
    conformal: str | None = field(default=None, metadata={"path": "file"})
    duplicate_iou: float = field(default=1.0, metadata={"range": (0.0, 1.0)})
    score_threshold: float = field(default=0.08, metadata={"range": (0.0, 1.0)})
    low: float = field(default=0.25, metadata={"range": (0.0, 1.0)})
    high: float = field(default=0.8, metadata={"range": (0.0, 1.0)})
    robust: bool = True
    repair: bool = False
    time_budget_ms: float = field(default=50.0, metadata={"range": (0.1, 60000.0)})
    near_radius_m: float = field(default=NEAR_RADIUS_M, metadata={"range": (0.0, 100.0)})
    batch_size: int = field(default=32, metadata={"range": (1, 4096)})
    precision: str = field(default="auto", metadata={"choices": ("auto", "float32", "bfloat16", "float16")})
    stream_precision: str = field(default="float32",
                                  metadata={"choices": ("auto", "float32", "bfloat16", "float16")})
    stream_threads: int = field(default=1, metadata={"range": (0, 256)})
    track_max_distance_m: float = field(default=4.0, metadata={"range": (0.1, 100.0)})
    track_max_misses: int = field(default=2, metadata={"range": (0, 1000)})
    track_window: int = field(default=5, metadata={"range": (2, 100)})
    track_speed_uncertainty: float = field(default=0.8, metadata={"range": (0.0, 60.0)})
    position_uncertainty_m: float = field(default=0.75, metadata={"range": (0.0, 10.0)})
    class_position_uncertainty_m: dict[str, float] = field(default_factory=dict,
                                                           metadata={"keys": CLASS_NAMES, "range": (0.0, 10.0)})
    class_speed_uncertainty_scale: dict[str, float] = field(default_factory=dict,
                                                            metadata={"keys": CLASS_NAMES, "range": (0.0, 100.0)})
    velocity_uncertainty_scale: float = field(default=5.3, metadata={"range": (0.0, 100.0)})
    track_jitter_fraction: float = field(default=0.25, metadata={"range": (0.0, 1.0)})
    track_existence_window: int = field(default=3, metadata={"range": (1, 100)})
    track_coast: bool = True
    track_memory_s: dict[str, float] = field(default_factory=dict,
                                             metadata={"keys": CLASS_NAMES, "range": (0.0, 60.0)})
    class_groups: list[list[str]] = field(default_factory=lambda: [list(g) for g in CONFUSABLE_CLASSES],
                                          metadata={"choices": CLASS_NAMES})
    class_share_iou: float = field(default=0.5, metadata={"range": (0.0, 1.0)})
    motion_prior: bool = True
    top_speeds_mps: dict[str, float] = field(default_factory=lambda: dict(TOP_SPEEDS_MPS),
                                             metadata={"keys": CLASS_NAMES, "range": (0.1, 200.0)})
    one_way_lanes: bool = True

    def __post_init__(self):
        validate(self)
        if not self.low < self.high:
            raise ValueError(f"`low` must be below `high`. Received: low={self.low}, high={self.high}")

    def rules_path(self) -> Path:
        """The rule file.

        The default is the shipped ``configs/rules/traffic.rules``, wherever
        the program runs; another relative path given in Python is relative
        to the working directory, or else to the shipped ``configs/``. (Read
        from a file, :func:`load_config` has made every path absolute.)

        Example:
            >>> PipelineConfig().rules_path() == shipped_path("rules/traffic.rules")
            True
        """
        path = Path(self.rules)
        if path.is_absolute():
            return path
        if self.rules == DEFAULT_RULES or (not path.exists() and shipped_path(path).exists()):
            return shipped_path(path)
        return path


@dataclass
class ExperimentConfig:
    """All settings of one experiment. Sections are added as stages land."""

    path: str = field(default="", init=False, repr=False)
    world: WorldConfig = field(default_factory=WorldConfig)
    model: DetectorConfig = field(default_factory=DetectorConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)


def load_config(path: str | Path) -> ExperimentConfig:
    """Load and validate an experiment file: a path, or the name of a shipped one.

    Every relative path in the file is resolved against the file's folder.
    A path key left out (``pipeline.rules``) takes its default beside the
    file when that exists, else the shipped one in ``configs/``: the
    working directory is never searched.

    Args:
        path: an experiment file, or a shipped config's name such as
            ``"drive"`` (:func:`bridge.shipped.find_config`).

    Raises:
        ConfigError: one line naming the file, line, key and what was expected.

    Example:
        >>> config = load_config("drive")
        >>> Path(config.pipeline.rules).relative_to(Path(config.path).parent).as_posix()
        'rules/traffic.rules'
    """
    path = find_config(path)
    data, lines = load_yaml(path)
    config = build_dataclass(ExperimentConfig, data, source=str(path), lines=lines, base_dir=path.parent)
    for section in dataclasses.fields(ExperimentConfig):
        value = getattr(config, section.name)
        if dataclasses.is_dataclass(value):
            given = data.get(section.name) if isinstance(data.get(section.name), dict) else {}
            setattr(config, section.name, _default_paths_resolved(value, given, path.parent))
    config.path = str(path)
    return config


def _default_paths_resolved(section, given: dict, folder: Path):
    """``section`` with each relative default path (a ``path`` field absent from ``given``)
    made absolute: beside the config file when it exists there, else in the shipped ``configs/``."""
    changes = {}
    for item in dataclasses.fields(section):
        value = getattr(section, item.name)
        if item.metadata.get("path") and item.name not in given and isinstance(value, str) \
                and not Path(value).is_absolute():
            beside = folder / value
            changes[item.name] = str(beside if beside.exists() else shipped_path(value))
    return dataclasses.replace(section, **changes) if changes else section


def pipeline_config(config) -> PipelineConfig:
    """The :class:`PipelineConfig` of an experiment file's path, an ``ExperimentConfig`` or a ``PipelineConfig``.

    Raises:
        TypeError: ``config`` is none of these.

    Example:
        >>> pipeline_config(ExperimentConfig()).score_threshold
        0.08
    """
    if isinstance(config, PipelineConfig):
        return config
    if isinstance(config, (str, Path)):
        config = load_config(config)
    section = getattr(config, "pipeline", None)
    if not isinstance(section, PipelineConfig):
        raise TypeError(f"`config` must be an experiment file, an ExperimentConfig or a PipelineConfig. "
                        f"Received {type(config).__name__}")
    return section
