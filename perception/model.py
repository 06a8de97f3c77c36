"""The detector users hold: :class:`Detector` and its :class:`DetectorConfig`.

One line for the common case::

    detector = Detector().fit(train_data, val_data, epochs=10)
    detections = detector.predict(images)           # list[Detections]
    metrics = detector.evaluate(test_data)          # mAP, per-class AP, light state accuracy
    detector.save("runs/a/model.safetensors"); Detector.load("runs/a/model.safetensors")

and full control underneath (:mod:`perception.training` for the loop and
its callbacks, :mod:`perception.backbone` for the network).
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from perception.backbone import STRIDE, CenterNetwork, fuse_conv_bn
from perception.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from perception.configuration import validate
from perception.decode import decode_outputs
from perception.detections import Detections
from perception.device import PRECISIONS, autocast, autocast_dtype
from perception.evaluation import evaluate_detections
from perception.inference import iterate_batches, save_prediction_grid
from perception.training import Trainer, TrainingConfig

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "default.safetensors"
# The classes and attributes of a detector built without others (those the shipped
# weights were trained on). A checkpoint carries its own class map.
DEFAULT_CLASS_NAMES = ("car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign")
DEFAULT_ATTRIBUTES = {"light_state": ("red", "yellow", "green")}
PAD_MULTIPLE = 32


@dataclass
class DetectorConfig:
    """Architecture and decoding settings of a :class:`Detector` (the
    ``model:`` section of an experiment file).

    Args:
        class_names: the class map; label ``i`` is ``class_names[i]``.
        attributes: attribute name -> its value names, e.g. light state.
        width: channels of the stride-4 features (deeper stages: 2x, 4x, 8x).
        depth: extra 3x3 convolutions per backbone stage.
        head_width: channels of the shared prediction head.
        input_size: image side the model is trained, benchmarked and
            exported at; ``predict`` accepts any size.
        score_threshold: default minimum score of a detection.
        max_detections: most detections per image.

    Example:
        >>> DetectorConfig(width=8).width
        8
        >>> DetectorConfig(score_threshold=1.5)
        Traceback (most recent call last):
        ...
        perception.configuration.InvalidConfigError: `score_threshold` must be in [0.0, 1.0]. Received: score_threshold=1.5
    """

    class_names: tuple[str, ...] = DEFAULT_CLASS_NAMES
    attributes: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ATTRIBUTES))
    width: int = field(default=16, metadata={"range": (4, 256)})
    depth: int = field(default=1, metadata={"range": (0, 6)})
    head_width: int = field(default=32, metadata={"range": (4, 512)})
    input_size: int = field(default=256, metadata={"range": (32, 2048)})
    score_threshold: float = field(default=0.3, metadata={"range": (0.0, 1.0)})
    max_detections: int = field(default=100, metadata={"range": (1, 10000)})

    def __post_init__(self):
        validate(self)
        if not self.class_names or len(set(self.class_names)) != len(self.class_names):
            raise ValueError(f"`class_names` must be distinct names. Received: class_names={self.class_names!r}")
        if self.input_size % PAD_MULTIPLE:
            raise ValueError(f"`input_size` must be a multiple of {PAD_MULTIPLE}. Received: input_size={self.input_size}")

    def to_dict(self) -> dict:
        """JSON-ready form (tuples become lists)."""
        return {k: (list(v) if isinstance(v, tuple) else ({a: list(b) for a, b in v.items()} if isinstance(v, dict) else v))
                for k, v in dataclasses.asdict(self).items()}


class Detector:
    """A CenterNet-style detector: class heatmaps, box size and offset and
    attribute heads at stride 4 on a compact conv backbone.

    Args:
        config: a :class:`DetectorConfig`; keyword arguments override its fields.

    Attributes (after ``fit`` or ``load``):
        network_: the torch module.
        history_: per-epoch logs of the last ``fit``.
        metrics_: the metrics stored with a loaded checkpoint, or the last ``evaluate``.

    Example:
        >>> detector = Detector(width=8, class_names=("car", "pedestrian"))
        >>> detector.class_names, detector.config.width
        (('car', 'pedestrian'), 8)
    """

    def __init__(self, config: DetectorConfig | None = None, **overrides):
        config = config if config is not None else DetectorConfig()
        if not isinstance(config, DetectorConfig):
            raise TypeError(f"`config` must be a DetectorConfig. Received: {type(config).__name__}")
        names = {f.name for f in dataclasses.fields(DetectorConfig)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"Detector() got an unknown setting {unknown[0]!r}. Expected one of: {', '.join(sorted(names))}")
        self.config = dataclasses.replace(config, **overrides) if overrides else config
        self._fast_network = None

    # --- names -------------------------------------------------------------------------------
    @property
    def class_names(self) -> tuple[str, ...]:
        """The class map: label ``i`` names ``class_names[i]``."""
        return self.config.class_names

    @property
    def attribute_sizes(self) -> dict[str, int]:
        """Attribute name -> number of values, in the network's output order."""
        return {name: len(values) for name, values in self.config.attributes.items()}

    def build_network(self) -> CenterNetwork:
        """A freshly initialised network for this configuration."""
        c = self.config
        return CenterNetwork(len(c.class_names), tuple(self.attribute_sizes.values()),
                             width=c.width, depth=c.depth, head_width=c.head_width)

    def _require_network(self) -> CenterNetwork:
        network = getattr(self, "network_", None)
        if network is None:
            raise ValueError("this Detector has no weights yet: call fit(...) or Detector.load(path) first")
        return network

    # --- training ----------------------------------------------------------------------------
    def fit(self, train_data, val_data=None, *, epochs: int | None = None, training=None,
            callbacks=(), verbose: bool = True) -> "Detector":
        """Train on ``train_data`` (a Dataset of ``(image, target)`` or a
        DataLoader of ``(images, targets)``), validating on ``val_data`` each
        epoch. Calling ``fit`` again continues from the current weights.

        Args:
            train_data: dataset or loader.
            val_data: optional dataset or loader for per-epoch mAP.
            epochs: overrides ``training.epochs``.
            training: a :class:`perception.training.TrainingConfig`.
            callbacks: :class:`perception.callbacks.Callback` objects.
            verbose: show the progress bar and an epoch summary on stderr.

        Returns:
            self, with ``network_`` and ``history_`` set.
        """
        training = training if training is not None else TrainingConfig()
        if epochs is not None:
            training = dataclasses.replace(training, epochs=epochs)
        trainer = Trainer(self, training, callbacks=callbacks, verbose=verbose)
        self.history_ = trainer.run(train_data, val_data)
        self._fast_network = None
        return self

    # --- inference ---------------------------------------------------------------------------
    def predict(self, images, *, score_threshold: float | None = None, batch_size: int = 32,
                precision: str = "auto") -> list[Detections]:
        """Detect objects in images.

        Args:
            images: float tensor (B, 3, H, W) or (3, H, W) in [0, 1], a list
                of (3, H, W) tensors, or uint8 numpy arrays (H, W, 3) (one or a list).
            score_threshold: minimum score; defaults to ``config.score_threshold``.
            batch_size: images per forward pass.
            precision: ``"auto"`` (bfloat16 autocast on CPUs that support it,
                float16 on CUDA), ``"float32"``, ``"bfloat16"`` or ``"float16"``.

        Returns:
            One :class:`Detections` per image, boxes in that image's pixels.
        """
        threshold = self.config.score_threshold if score_threshold is None else score_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            raise ValueError(f"`score_threshold` must be a float in [0, 1]. Received: score_threshold={threshold!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"`precision` must be one of {', '.join(PRECISIONS)}. Received: precision={precision!r}")
        network = self._inference_network()
        device = next(network.parameters()).device
        dtype = autocast_dtype(precision, device)

        def detect(batch: torch.Tensor) -> list[Detections]:
            outputs = self.forward(batch.to(device), network=network, dtype=dtype)
            decoded = decode_outputs(outputs, num_classes=len(self.class_names),
                                     attribute_sizes=self.attribute_sizes, stride=STRIDE,
                                     score_threshold=threshold, max_detections=self.config.max_detections)
            return [self._to_detections(item, batch.shape[-2:]) for item in decoded]

        with torch.inference_mode():
            if _is_float_batch(images):  # one (B, 3, H, W) tensor: slice it, keeping its memory format
                return [d for start in range(0, len(images), batch_size)
                        for d in detect(images[start:start + batch_size])]
            image_list = to_image_list(images)
            results: list[tuple[int, Detections]] = []
            for start in range(0, len(image_list), batch_size):
                chunk = image_list[start:start + batch_size]
                for group in _same_size_groups(chunk):
                    found = detect(torch.stack([chunk[i] for i in group]))
                    results.extend((start + i, d) for i, d in zip(group, found))
        return [d for _, d in sorted(results, key=lambda pair: pair[0])]

    def forward(self, images: torch.Tensor, *, network=None, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Raw network output for a batch (B, 3, H, W); pads H and W to a
        multiple of 32 and crops the output back. Used by ``predict`` and
        by export."""
        network = network if network is not None else self._require_network()
        height, width = images.shape[-2:]
        pad_h, pad_w = -height % PAD_MULTIPLE, -width % PAD_MULTIPLE
        if pad_h or pad_w:
            images = F.pad(images, (0, pad_w, 0, pad_h))
        if images.device.type == "cpu" or images.device.type == "cuda":
            images = images.contiguous(memory_format=torch.channels_last)
        with autocast(images.device, dtype):
            outputs = network(images)
        return outputs[..., : -(-height // STRIDE), : -(-width // STRIDE)].float()

    def _inference_network(self):
        network = self._require_network()
        if self._fast_network is None:
            fast = copy.deepcopy(network).eval()
            fuse_conv_bn(fast)
            self._fast_network = fast.to(memory_format=torch.channels_last)
        return self._fast_network

    def _to_detections(self, item: dict, image_size) -> Detections:
        height, width = int(image_size[0]), int(image_size[1])
        boxes = item["boxes"].float()
        boxes = torch.stack([boxes[:, 0].clamp(0, width), boxes[:, 1].clamp(0, height),
                             boxes[:, 2].clamp(0, width), boxes[:, 3].clamp(0, height)], dim=1)
        return Detections(boxes=boxes.cpu(), labels=item["labels"].cpu(), scores=item["scores"].float().cpu(),
                          class_names=self.class_names,
                          attributes={name: item[name].float().cpu() for name in self.attribute_sizes},
                          attribute_values=dict(self.config.attributes))

    def to(self, device) -> "Detector":
        """Move the weights to ``device`` (e.g. ``"cuda"``); returns self."""
        self.network_ = self._require_network().to(device)
        self._fast_network = None
        return self

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, data, *, batch_size: int = 32, score_threshold: float = 0.01, precision: str = "auto",
                 grid_path: str | Path | None = None, verbose: bool = False) -> dict:
        """COCO mAP@0.5 and mAP@[.5:.95], per-class AP, attribute accuracy
        and a confusion summary on a dataset or loader of ``(image, target)``.

        Args:
            data: Dataset of ``(image, target)`` or DataLoader of ``(images, targets)``.
            batch_size: images per forward pass.
            score_threshold: lowest score kept for the mAP computation.
            precision: as in :meth:`predict`.
            grid_path: if given, write a PNG grid of predictions vs truth there.
            verbose: show a progress bar.

        Returns:
            The metrics dict of :func:`perception.evaluation.evaluate_detections`;
            also stored as ``metrics_``.
        """
        predictions, targets, sizes, shown = [], [], [], []
        for images, batch_targets in iterate_batches(data, batch_size=batch_size, verbose=verbose, desc="evaluate"):
            found = self.predict(images, score_threshold=score_threshold, batch_size=batch_size, precision=precision)
            predictions += found
            targets += batch_targets
            sizes += [tuple(images.shape[-2:])] * len(batch_targets)
            if grid_path is not None and len(shown) < 16:
                shown += list(zip(images, found, batch_targets))[: 16 - len(shown)]
        metrics = evaluate_detections(predictions, targets, class_names=self.class_names, image_sizes=sizes,
                                      attribute_names=tuple(self.attribute_sizes))
        if grid_path is not None:
            save_prediction_grid(shown, grid_path, score_threshold=self.config.score_threshold)
        self.metrics_ = metrics
        return metrics

    # --- checkpoints -------------------------------------------------------------------------
    def metadata(self, metrics: dict | None = None) -> dict:
        """What a checkpoint stores beside the weights."""
        return {"kind": "nesy.Detector", "nesy_version": _package_version(), "config": self.config.to_dict(), "class_names": list(self.class_names),
                "attributes": {k: list(v) for k, v in self.config.attributes.items()},
                "metrics": metrics if metrics is not None else getattr(self, "metrics_", None),
                "torch_version": torch.__version__}

    def save(self, path: str | Path, *, metrics: dict | None = None) -> Path:
        """Write weights (safetensors) and metadata atomically to ``path``
        (and ``<name>.json`` beside it); returns the path."""
        state = {k: v for k, v in self._require_network().state_dict().items()}
        return save_checkpoint(path, state, self.metadata(metrics))

    @classmethod
    def load(cls, path: str | Path, *, class_names=None, device=None) -> "Detector":
        """A detector from a checkpoint written by :meth:`save`.

        Args:
            path: the ``.safetensors`` file.
            class_names: if given, the class map the caller expects; a
                checkpoint with another map is refused.
            device: where to put the weights (default CPU).

        Raises:
            CheckpointError: missing/corrupt file or mismatching class map.
        """
        weights, metadata = load_checkpoint(path)
        try:
            config = DetectorConfig(**metadata["config"])
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{path}: checkpoint has no valid detector config ({error})") from None
        if class_names is not None and tuple(class_names) != config.class_names:
            raise CheckpointError(f"{path}: the checkpoint's class map {list(config.class_names)} does not match "
                                  f"the expected class map {list(class_names)}")
        detector = cls(config)
        network = detector.build_network()
        try:
            network.load_state_dict(weights)
        except RuntimeError as error:
            raise CheckpointError(f"{path}: weights do not fit the stored config "
                                  f"({str(error).splitlines()[0]})") from None
        detector.network_ = network.eval().to(device or "cpu")
        if metadata.get("metrics") is not None:
            detector.metrics_ = metadata["metrics"]
        return detector

    @classmethod
    def load_default(cls, *, device=None) -> "Detector":
        """The detector shipped with nesy, trained on the default world preset."""
        return cls.load(DEFAULT_WEIGHTS, device=device)


def to_image_list(images) -> list[torch.Tensor]:
    """Normalise the image inputs ``predict`` accepts to a list of float
    (3, H, W) tensors in [0, 1].

    Example:
        >>> [t.shape for t in to_image_list(np.zeros((4, 6, 3), dtype=np.uint8))]
        [torch.Size([3, 4, 6])]
        >>> to_image_list(torch.zeros(2, 4, 4))
        Traceback (most recent call last):
        ...
        ValueError: images must be (3, H, W) in [0, 1] (or uint8 H x W x 3). Received a tensor of shape (2, 4, 4)
    """
    if isinstance(images, np.ndarray) and images.ndim == 3:
        images = [images]
    if isinstance(images, torch.Tensor):
        images = list(images) if images.ndim == 4 else [images]
    if not isinstance(images, (list, tuple)):
        raise TypeError(f"images must be a tensor, a numpy array or a list of them. Received {type(images).__name__}")
    result = []
    for image in images:
        if isinstance(image, np.ndarray):
            if image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(f"numpy images must be H x W x 3. Received an array of shape {image.shape}")
            image = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
            image = image.float() / 255 if image.dtype == torch.uint8 else image.float()
        if not isinstance(image, torch.Tensor):
            raise TypeError(f"each image must be a tensor or numpy array. Received {type(image).__name__}")
        if image.ndim != 3 or image.shape[0] != 3:
            raise ValueError("images must be (3, H, W) in [0, 1] (or uint8 H x W x 3). "
                             f"Received a tensor of shape {tuple(image.shape)}")
        if image.dtype == torch.uint8:
            image = image.float() / 255
        result.append(image.float())
    return result


def _is_float_batch(images) -> bool:
    return (isinstance(images, torch.Tensor) and images.ndim == 4 and images.shape[1] == 3
            and images.is_floating_point())


def _same_size_groups(images: list[torch.Tensor]) -> list[list[int]]:
    groups: dict[tuple, list[int]] = {}
    for i, image in enumerate(images):
        groups.setdefault(tuple(image.shape), []).append(i)
    return list(groups.values())


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("nesy")
    except PackageNotFoundError:
        return "unknown"
