"""The experiment file (``configs/drive.yaml``): one section per stage.

Each section is a dataclass owned by the package that uses it; this module
only assembles them and validates the file with :mod:`bridge.config`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bridge.config import build_dataclass, load_yaml
from bridge.pipeline import PipelineConfig
from perception.model import DetectorConfig
from perception.training import TrainingConfig
from perception.world.config import WorldConfig


@dataclass
class ExperimentConfig:
    """All settings of one experiment. Sections are added as stages land."""

    path: str = field(default="", init=False, repr=False)
    world: WorldConfig = field(default_factory=WorldConfig)
    model: DetectorConfig = field(default_factory=DetectorConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)


def load_config(path: str | Path) -> ExperimentConfig:
    """Load and validate an experiment file.

    Raises:
        ConfigError: one line naming the file, line, key and what was expected.
    """
    path = Path(path)
    data, lines = load_yaml(path)
    config = build_dataclass(ExperimentConfig, data, source=str(path), lines=lines, base_dir=path.parent)
    config.path = str(path)
    return config
