"""Perception stages: frames in, one :class:`~perception.detections.Detections` per frame out.

Every perception stage has one method::

    detect(frames, *, precision="auto") -> list[Detections]

- :class:`DetectorPerception` runs a detector (anything with
  ``predict(images, *, score_threshold, batch_size, precision)``, e.g.
  :class:`perception.model.Detector`) on the frames' images and stamps each
  detection with the detector's measured position uncertainty;
- :class:`OraclePerception` reads each frame's ground truth: true boxes,
  score 1, one-hot light states, and the objects' true ids and velocities
  with a position uncertainty of 0: what the rules decide with a perfect eye.

A multi-frame detector fills ``velocities`` and ``position_uncertainty`` on
its detections itself; the stage keeps them.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Mapping, Sequence

from bridge.frames import frame_name, images_to_tensor
from bridge.ground_truth import scene_detections


class DetectorPerception:
    """A detector as a perception stage.

    Args:
        detector: an object with ``predict(images, *, score_threshold,
            batch_size, precision) -> list[Detections]``
            (:class:`perception.model.Detector`).
        score_threshold: detections below it are dropped.
        batch_size: images per detector call.
        position_uncertainty_m: metres each coordinate of a detected box may
            be off (the detector's measured localisation error), stamped on
            every detection that carries no ``position_uncertainty`` of its own.
        class_position_uncertainty_m: class -> metres, the same measured per
            class (:mod:`bridge.conformal`); a class left out takes
            ``position_uncertainty_m``.

    Example:
        >>> import torch
        >>> from perception.detections import Detections
        >>> from perception.world import generate_scene, preset_config
        >>> class OneBox:
        ...     def predict(self, images, *, score_threshold, batch_size, precision="auto"):
        ...         return [Detections(torch.tensor([[0., 0., 4., 4.]]), torch.tensor([0]), torch.tensor([0.9]), ("car",))
        ...                 for _ in range(images.shape[0])]
        >>> [d] = DetectorPerception(OneBox(), position_uncertainty_m=0.5).detect([generate_scene(preset_config("easy"), seed=1)])
        >>> d.position_uncertainty.tolist()
        [0.5]
        >>> stage = DetectorPerception(OneBox(), position_uncertainty_m=0.5, class_position_uncertainty_m={"car": 0.3})
        >>> stage.detect([generate_scene(preset_config("easy"), seed=1)])[0].position_uncertainty.tolist()
        [0.3]
    """

    def __init__(self, detector, score_threshold: float = 0.08, batch_size: int = 32,
                 position_uncertainty_m: float = 0.0, class_position_uncertainty_m: Mapping[str, float] | None = None):
        if not _is_metres(position_uncertainty_m):
            raise ValueError("`position_uncertainty_m` must be a finite number of metres >= 0. "
                             f"Received: position_uncertainty_m={position_uncertainty_m!r}")
        class_position_uncertainty_m = dict(class_position_uncertainty_m or {})
        for label, radius in class_position_uncertainty_m.items():
            if not isinstance(label, str) or not _is_metres(radius):
                raise ValueError("`class_position_uncertainty_m` must map class names to finite numbers of metres "
                                 f">= 0. Received: {label!r}: {radius!r}")
        self.class_position_uncertainty_m = class_position_uncertainty_m
        self.detector = detector
        self.score_threshold = score_threshold
        self.batch_size = batch_size
        self.position_uncertainty_m = position_uncertainty_m

    def detect(self, frames: Sequence, *, precision: str = "auto") -> list:
        """The detections of each frame's ``image``, in order.

        Args:
            frames: frames with an ``image`` ((H, W, 3) uint8).
            precision: the detector's inference precision (``"auto"``, ``"float32"``, ...).

        Returns:
            One :class:`~perception.detections.Detections` per frame.
        """
        import torch

        frames = list(frames)
        if not frames:
            return []
        detections = self.detector.predict(images_to_tensor([f.image for f in frames]),
                                           score_threshold=self.score_threshold, batch_size=self.batch_size,
                                           precision=precision)
        return [found if found.position_uncertainty is not None else dataclasses.replace(
                    found, position_uncertainty=torch.tensor(
                        [self.class_position_uncertainty_m.get(label, self.position_uncertainty_m)
                         for label in found.label_names()], dtype=torch.float64).reshape(len(found)))
                for found in detections]


class OraclePerception:
    """Ground-truth perception: each frame's true objects as detections.

    True boxes and labels, score 1, one-hot light states, and each object's
    true id and velocity with a position uncertainty of 0
    (:func:`bridge.ground_truth.scene_detections` with ``truth=True``).

    Example:
        >>> from perception.world import generate_scene, preset_config
        >>> scene = generate_scene(preset_config("easy"), seed=1)
        >>> [d] = OraclePerception().detect([scene])
        >>> list(d.object_ids) == [o.id for o in scene.objects], float(d.position_uncertainty.sum())
        (True, 0.0)
    """

    def detect(self, frames: Sequence, *, precision: str = "auto") -> list:
        """The ground truth of each frame as detections (``precision`` is ignored).

        Raises:
            ValueError: a frame carries no ground truth (``objects``).
        """
        frames = list(frames)
        for frame in frames:
            if not hasattr(frame, "objects"):
                raise ValueError(f"oracle mode needs ground truth, but frame {frame_name(frame)!r} has no objects")
        return [scene_detections(frame, truth=True) for frame in frames]


def load_detector(weights: str | None = None):
    """The shipped detector, or the checkpoint at ``weights``."""
    from perception.model import Detector

    if weights:
        return Detector.load(weights)
    return Detector.load_default()


def weights_path(weights: str | None = None) -> Path:
    """The checkpoint file ``load_detector(weights)`` reads."""
    if weights:
        return Path(weights)
    from perception.model import DEFAULT_WEIGHTS

    return Path(DEFAULT_WEIGHTS)


def _is_metres(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and 0 <= value < math.inf
