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

import torch

from bridge.frames import continues_episode, frame_name, images_to_tensor
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
        velocity_uncertainty_scale: what a multi-frame detector's
            ``velocity_uncertainty`` (a Laplace scale: the expected absolute
            error per axis) is multiplied by before the facts read it
            (ln 200 = 5.3: a Laplace error exceeds 5.3 scales with
            probability 0.5%).

    A multi-frame detector (``detector.num_frames`` T > 1) is given each
    frame with the T - 1 frames before it in the same episode (the stage
    keeps them between calls, and starts afresh when a frame does not
    continue the previous one, :func:`bridge.frames.continues_episode`);
    until an episode has T frames, the frame alone (motion unknown).

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
                 position_uncertainty_m: float = 0.0, class_position_uncertainty_m: Mapping[str, float] | None = None,
                 velocity_uncertainty_scale: float = math.log(200.0)):
        if not _is_metres(position_uncertainty_m):
            raise ValueError("`position_uncertainty_m` must be a finite number of metres >= 0. "
                             f"Received: position_uncertainty_m={position_uncertainty_m!r}")
        class_position_uncertainty_m = dict(class_position_uncertainty_m or {})
        for label, radius in class_position_uncertainty_m.items():
            if not isinstance(label, str) or not _is_metres(radius):
                raise ValueError("`class_position_uncertainty_m` must map class names to finite numbers of metres "
                                 f">= 0. Received: {label!r}: {radius!r}")
        self.class_position_uncertainty_m = class_position_uncertainty_m
        if not _is_metres(velocity_uncertainty_scale):
            raise ValueError("`velocity_uncertainty_scale` must be a finite number >= 0. "
                             f"Received: velocity_uncertainty_scale={velocity_uncertainty_scale!r}")
        self.velocity_uncertainty_scale = float(velocity_uncertainty_scale)
        self.history_: list = []   # (frame, image tensor) of the current episode, oldest first
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
        frames = list(frames)
        if not frames:
            return []
        images = images_to_tensor([f.image for f in frames])
        num_frames = int(getattr(self.detector, "num_frames", 1) or 1)
        if num_frames > 1:
            images = self._with_history(frames, images, num_frames)
        detections = self.detector.predict(images, score_threshold=self.score_threshold, batch_size=self.batch_size,
                                           precision=precision)
        if num_frames > 1 and self.velocity_uncertainty_scale != 1.0:
            detections = [found if found.velocity_uncertainty is None else dataclasses.replace(
                              found, velocity_uncertainty=found.velocity_uncertainty * self.velocity_uncertainty_scale)
                          for found in detections]
        return [found if found.position_uncertainty is not None else dataclasses.replace(
                    found, position_uncertainty=torch.tensor(
                        [self.class_position_uncertainty_m.get(label, self.position_uncertainty_m)
                         for label in found.label_names()], dtype=torch.float64).reshape(len(found)))
                for found in detections]


    def reset(self) -> "DetectorPerception":
        """Forget the frames kept for a multi-frame detector (a new stream begins)."""
        self.history_ = []
        return self

    def _with_history(self, frames: list, images, num_frames: int) -> list:
        """Each frame as a (T, 3, H, W) stack with its T - 1 predecessors, or alone while the episode is younger."""
        inputs = []
        for frame, image in zip(frames, images):
            previous = self.history_[-1][0] if self.history_ else None
            if not continues_episode(previous, frame):
                self.history_ = []
            self.history_ = [*self.history_, (frame, image)][-num_frames:]
            if len(self.history_) == num_frames:
                inputs.append(torch.stack([kept for _, kept in self.history_]))   # (T, 3, H, W), oldest first
            else:
                inputs.append(image)   # (3, H, W): motion unknown
        return inputs


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
