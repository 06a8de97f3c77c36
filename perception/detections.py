"""Detections: what perception hands to the bridge for one image.

The data contract, written down once:

- ``boxes``: float tensor (N, 4), xyxy in pixels of the input image.
- ``labels``: int64 tensor (N,), indices into ``class_names``.
- ``scores``: float tensor (N,) in [0, 1].
- ``attributes``: named float tensors of shape (N, K), one row of K
  probabilities per detection (e.g. ``"light_state"``: (N, 3) over
  red/yellow/green; rows of detections the attribute does not apply to are
  still present and may be ignored).
- ``class_names``: the class map naming each label.

Optional per-object fields (None when perception does not know them; when
set, one row per detection, kept aligned by :meth:`Detections.select`):

- ``velocities``: float tensor (N, 2), each object's ``(vx, vy)`` over the
  ground in m/s, in the ego's axes (x right, y forward); a row of NaN is an
  unknown velocity. A multi-frame detector or the ground truth fills it.
- ``object_ids``: tuple of N strings, stable object ids (e.g. the ground
  truth's ``"o3"``).
- ``position_uncertainty``: float tensor (N,), metres by which each
  coordinate of the object's box on the ground may be off.
- ``velocity_uncertainty``: float tensor (N, 2), m/s, the expected absolute
  error of each component of ``velocities`` (a multi-frame detector's
  Laplace scale); NaN where the velocity is unknown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch


@dataclass
class Detections:
    """Detected objects of one image, in torchvision's tensor convention.

    Args:
        boxes: float tensor (N, 4), xyxy pixels.
        labels: int64 tensor (N,), indices into ``class_names``.
        scores: float tensor (N,), confidences in [0, 1].
        class_names: names of the labels, e.g. ``("car", "pedestrian")``.
        attributes: attribute name -> float tensor (N, K) of probabilities.
        attribute_values: attribute name -> the K value names.
        velocities: optional float tensor (N, 2), m/s over the ground (ego
            axes); NaN rows are unknown.
        object_ids: optional tuple of N object ids.
        position_uncertainty: optional float tensor (N,), metres.
        velocity_uncertainty: optional float tensor (N, 2), m/s per component.

    Example:
        >>> d = Detections(boxes=torch.tensor([[0., 0., 4., 2.]]),
        ...                labels=torch.tensor([0]), scores=torch.tensor([0.9]),
        ...                class_names=("car",))
        >>> len(d), d.label_names()
        (1, ['car'])
    """

    boxes: torch.Tensor
    labels: torch.Tensor
    scores: torch.Tensor
    class_names: tuple[str, ...]
    attributes: dict[str, torch.Tensor] = field(default_factory=dict)
    attribute_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    velocities: torch.Tensor | None = None
    object_ids: tuple[str, ...] | None = None
    position_uncertainty: torch.Tensor | None = None
    velocity_uncertainty: torch.Tensor | None = None

    def __post_init__(self):
        num = self.boxes.shape[0] if self.boxes.ndim == 2 else -1
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4:
            raise ValueError(f"`boxes` must have shape (N, 4). Received shape {tuple(self.boxes.shape)}")
        for name, tensor in (("labels", self.labels), ("scores", self.scores)):
            if tensor.shape != (num,):
                raise ValueError(f"`{name}` must have shape ({num},). Received shape {tuple(tensor.shape)}")
        for name, tensor in self.attributes.items():
            if tensor.ndim != 2 or tensor.shape[0] != num:
                raise ValueError(f"attribute `{name}` must have shape ({num}, K). Received shape {tuple(tensor.shape)}")
        if self.velocities is not None and tuple(self.velocities.shape) != (num, 2):
            raise ValueError(f"`velocities` must have shape ({num}, 2). Received shape {tuple(self.velocities.shape)}")
        if self.object_ids is not None:
            self.object_ids = tuple(str(i) for i in self.object_ids)
            if len(self.object_ids) != num:
                raise ValueError(f"`object_ids` must have one id per detection ({num}). "
                                 f"Received {len(self.object_ids)} ids")
        if self.position_uncertainty is not None and tuple(self.position_uncertainty.shape) != (num,):
            raise ValueError(f"`position_uncertainty` must have shape ({num},). "
                             f"Received shape {tuple(self.position_uncertainty.shape)}")
        if self.velocity_uncertainty is not None and tuple(self.velocity_uncertainty.shape) != (num, 2):
            raise ValueError(f"`velocity_uncertainty` must have shape ({num}, 2). "
                             f"Received shape {tuple(self.velocity_uncertainty.shape)}")
        if num and not torch.isfinite(self.scores).all():
            raise ValueError("`scores` must be finite numbers in [0, 1]. Received NaN or infinity")

    def __len__(self) -> int:
        return self.boxes.shape[0]

    def label_names(self) -> list[str]:
        """Class name of each detection."""
        return [self.class_names[i] for i in self.labels.tolist()]

    def select(self, keep: torch.Tensor) -> "Detections":
        """A new Detections holding only the rows ``keep`` (bool mask or indices).

        Example:
            >>> d = Detections(torch.zeros(2, 4), torch.tensor([0, 0]), torch.tensor([.2, .8]), ("car",),
            ...                object_ids=("a", "b"))
            >>> kept = d.select(d.scores > 0.5)
            >>> len(kept), kept.object_ids
            (1, ('b',))
        """
        ids = None
        if self.object_ids is not None:
            ids = tuple(self.object_ids[i] for i in torch.arange(len(self))[keep].reshape(-1).tolist())
        return Detections(
            boxes=self.boxes[keep], labels=self.labels[keep], scores=self.scores[keep],
            class_names=self.class_names,
            attributes={k: v[keep] for k, v in self.attributes.items()},
            attribute_values=dict(self.attribute_values),
            velocities=None if self.velocities is None else self.velocities[keep],
            object_ids=ids,
            position_uncertainty=None if self.position_uncertainty is None else self.position_uncertainty[keep],
            velocity_uncertainty=None if self.velocity_uncertainty is None else self.velocity_uncertainty[keep],
        )

    def to(self, device) -> "Detections":
        """The same detections on another device."""
        return Detections(
            boxes=self.boxes.to(device), labels=self.labels.to(device), scores=self.scores.to(device),
            class_names=self.class_names,
            attributes={k: v.to(device) for k, v in self.attributes.items()},
            attribute_values=dict(self.attribute_values),
            velocities=None if self.velocities is None else self.velocities.to(device),
            object_ids=self.object_ids,
            position_uncertainty=None if self.position_uncertainty is None else self.position_uncertainty.to(device),
            velocity_uncertainty=None if self.velocity_uncertainty is None else self.velocity_uncertainty.to(device),
        )

    def to_records(self) -> list[dict]:
        """One JSON-ready dict per detection (for logs and reports): label, score, box and attributes.

        The optional per-object fields are not part of the record (a grounded
        object's JSON carries its id, velocity and position uncertainty).

        Example:
            >>> d = Detections(torch.tensor([[1., 2., 3., 4.]]), torch.tensor([0]), torch.tensor([0.5]), ("car",))
            >>> d.to_records()
            [{'label': 'car', 'score': 0.5, 'box': [1.0, 2.0, 3.0, 4.0]}]
        """
        records = []
        for i in range(len(self)):
            record = {
                "label": self.class_names[int(self.labels[i])],
                "score": round(float(self.scores[i]), 4),
                "box": [round(float(v), 2) for v in self.boxes[i].tolist()],
            }
            for name, probs in self.attributes.items():
                values = self.attribute_values.get(name) or tuple(str(k) for k in range(probs.shape[1]))
                record[name] = {v: round(float(p), 4) for v, p in zip(values, probs[i].tolist()) if not math.isnan(p)}
            records.append(record)
        return records
