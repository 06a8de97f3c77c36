"""The detector users hold: :class:`Detector` and its :class:`DetectorConfig`.

One line for the common case::

    detector = Detector().fit(train_data, val_data, epochs=10)
    detections = detector.predict(images)           # list[Detections]
    metrics = detector.evaluate(test_data)          # mAP, per-class AP, light state accuracy
    detector.save("runs/a/model.safetensors"); Detector.load("runs/a/model.safetensors")

and full control underneath (:mod:`perception.training` for the loop and
its callbacks, :mod:`perception.backbone` for the network).

A detector that sees motion takes stacks of consecutive frames and also
reports each object's velocity::

    temporal = Detector.from_single_frame(Detector.load_default(), num_frames=2)
    temporal.fit(InMemoryDataset(EpisodeDataset(world, 200, 8, num_frames=2)), epochs=4)
    temporal.predict(stacks)[0].velocities          # (N, 2) m/s, ego axes
"""
from __future__ import annotations

import copy
import dataclasses
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from perception import distributed
from perception.backbone import FRAME_CHANNELS, STRIDE, CenterNetwork, expand_to_frames, fuse_conv_bn
from perception.checkpoint import CheckpointError, check_label_maps, check_tensors, load_checkpoint, save_checkpoint
from perception.configuration import validate
from perception.decode import decode_outputs, pixel_to_ground_velocity
from perception.detections import Detections
from perception.device import PRECISIONS, autocast, autocast_dtype
from perception.evaluation import evaluate_detections
from perception.inference import iterate_batches, save_prediction_grid, to_image_tensor
from perception.summary import ModelSummary, summarize
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
        num_frames: frames the network sees at once. 1 (the default) is the
            single-image detector. With ``T >= 2`` its input is the current
            frame and the ``T - 1`` previous frames of the stream, stacked on
            channels oldest first (3T channels, the current frame last), and
            it also predicts each object's velocity and that velocity's
            uncertainty.
        metres_per_pixel: ground size of one pixel of the stream a
            multi-frame detector is trained on and sees (the world's
            calibration); converts image motion to m/s.
        fps: frames per second of that stream. ``predict`` may override
            both for a stream with another calibration.

    Example:
        >>> DetectorConfig(width=8).width
        8
        >>> DetectorConfig(num_frames=2).num_frames
        2
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
    num_frames: int = field(default=1, metadata={"range": (1, 16)})
    metres_per_pixel: float = field(default=0.2, metadata={"range": (0.001, 100.0)})
    fps: float = field(default=10.0, metadata={"range": (0.1, 1000.0)})

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

    A detector that sees motion (``num_frames=2``) takes frame stacks
    (B, T, 3, H, W), oldest frame first, and reports velocities in m/s over
    the ground (ego axes: x right, y forward, i.e. image up) with their
    uncertainty; a single image gives boxes and NaN (unknown) velocities:

        >>> temporal = Detector(width=8, num_frames=2)
        >>> temporal.network_ = temporal.build_network().eval()
        >>> stacks = torch.rand(1, 2, 3, 64, 64)    # (B, T, 3, H, W): previous frame, current frame
        >>> found = temporal.predict(stacks, score_threshold=0.0)[0]
        >>> found.velocities.shape[1], found.velocity_uncertainty.shape[1], found.velocities.dtype
        (2, 2, torch.float64)
        >>> bool(temporal.predict(torch.rand(3, 64, 64), score_threshold=0.0)[0].velocities.isnan().all())
        True
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
    def num_frames(self) -> int:
        """Frames the network sees at once (1: single images)."""
        return self.config.num_frames

    @property
    def attribute_sizes(self) -> dict[str, int]:
        """Attribute name -> number of values, in the network's output order."""
        return {name: len(values) for name, values in self.config.attributes.items()}

    def build_network(self) -> CenterNetwork:
        """A freshly initialised network for this configuration."""
        c = self.config
        return CenterNetwork(len(c.class_names), tuple(self.attribute_sizes.values()),
                             width=c.width, depth=c.depth, head_width=c.head_width, num_frames=c.num_frames)

    @classmethod
    def from_single_frame(cls, detector: "Detector", num_frames: int = 2, **overrides) -> "Detector":
        """A multi-frame detector warm-started from a single-frame one: every
        weight is copied; the first convolution keeps the single-frame kernel
        on the current frame's channels and gets zeros on the older frames';
        the velocity head starts at zero. Before any training it detects
        exactly what ``detector`` detects (velocities 0 m/s).

        Args:
            detector: a fitted or loaded detector with ``num_frames=1``.
            num_frames: frames of the new detector (at least 2).
            **overrides: other config fields to change (not the architecture).

        Returns:
            A new Detector with ``network_`` set; ``detector`` is left unchanged.

        Example:
            >>> single = Detector(width=8)
            >>> single.network_ = single.build_network().eval()
            >>> temporal = Detector.from_single_frame(single, num_frames=3)
            >>> temporal.num_frames, temporal.network_.input_convolution.in_channels
            (3, 9)
        """
        if not isinstance(detector, Detector):
            raise TypeError(f"`detector` must be a Detector. Received: {type(detector).__name__}")
        if detector.num_frames != 1:
            raise ValueError(f"`detector` must be a single-frame detector. Received a detector with "
                             f"num_frames={detector.num_frames}")
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 2:
            raise ValueError(f"`num_frames` must be an integer >= 2. Received: num_frames={num_frames!r}")
        source = detector._require_network()
        temporal = cls(dataclasses.replace(detector.config, num_frames=num_frames, **overrides))
        network = temporal.build_network()
        weights = {name: value.detach().clone() for name, value in source.state_dict().items()}
        stem_weight = next(name for name, value in source.named_parameters()
                           if value is source.input_convolution.weight)
        weights[stem_weight] = expand_to_frames(weights[stem_weight], num_frames)
        with torch.no_grad():
            network.velocity_head.weight.zero_()
            network.velocity_head.bias.zero_()
        try:
            missing, unexpected = network.load_state_dict(weights, strict=False)
        except RuntimeError as error:
            raise ValueError("`overrides` may not change the architecture of a warm start "
                             f"({str(error).splitlines()[0]})") from None
        if unexpected or any(not name.startswith("velocity_head.") for name in missing):
            raise ValueError(f"the single-frame weights do not fit a {num_frames}-frame network "
                             f"(missing {missing}, unexpected {unexpected})")
        temporal.network_ = network.to(next(source.parameters()).device).train(source.training)
        return temporal

    def summary(self, input_size: int | tuple[int, int] | None = None) -> ModelSummary:
        """The network's blocks with output shapes, parameters and FLOPs, the
        total parameters, the input size and the forward FLOPs of one input
        (counted by ``torch.utils.flop_counter.FlopCounterMode`` on the meta
        device: nothing is computed and no weights are needed).

        Args:
            input_size: image side (or (height, width)) to count FLOPs at;
                default ``config.input_size``.

        Returns:
            A :class:`perception.summary.ModelSummary`; ``print`` it for the table.

        Example:
            >>> summary = Detector(width=8, depth=1).summary(input_size=64)
            >>> summary.num_parameters, summary.input_shape, round(summary.flops / 1e6, 1)
            (85125, (1, 3, 64, 64), 4.1)
            >>> print(summary)        # doctest: +ELLIPSIS
            Detector: 6 classes, attributes light_state (3 values), 1 frame per input
            ...
            total parameters: 85,125 (trainable 85,125)
            input size: 3 x 64 x 64 (channels x height x width)
            forward FLOPs: 0.004 G per 64x64 input
        """
        size = self.config.input_size if input_size is None else input_size
        height, width = (size, size) if isinstance(size, int) and not isinstance(size, bool) else tuple(size)
        if any(isinstance(side, bool) or not isinstance(side, int) or side < 1 for side in (height, width)):
            raise ValueError(f"`input_size` must be a positive integer or (height, width). Received: input_size={input_size!r}")
        network = getattr(self, "network_", None)
        if network is None:
            with torch.device("meta"):  # the architecture alone: no initialisation, no random numbers drawn
                network = self.build_network()
        attributes = ", ".join(f"{name} ({len(values)} values)" for name, values in self.config.attributes.items())
        frames = f"{self.num_frames} frame{'s' if self.num_frames > 1 else ''} per input"
        title = f"Detector: {len(self.class_names)} classes, attributes {attributes or 'none'}, {frames}"
        input_shape = (1, FRAME_CHANNELS * self.num_frames, height, width)
        return summarize(network, input_shape, title=title)

    def _require_network(self) -> CenterNetwork:
        network = getattr(self, "network_", None)
        if network is None:
            raise ValueError("this Detector has no weights yet: call fit(...) or Detector.load(path) first")
        return network

    # --- training ----------------------------------------------------------------------------
    def fit(self, train_data, val_data=None, *, epochs: int | None = None, training=None,
            callbacks=(), verbose: bool = True, log_dir: str | Path | None = None,
            logger: str = "auto") -> "Detector":
        """Train on ``train_data`` (a Dataset of ``(image, target)`` or a
        DataLoader of ``(images, targets)``), validating on ``val_data`` each
        epoch. Calling ``fit`` again continues from the current weights.

        Args:
            train_data: dataset or loader.
            val_data: optional dataset or loader for per-epoch mAP.
            epochs: overrides ``training.epochs``.
            training: a :class:`perception.training.TrainingConfig`.
            callbacks: :class:`perception.callbacks.Callback` objects.
            verbose: print the model summary (:meth:`summary`), then show the
                progress bar and an epoch summary on stderr.
            log_dir: if given, log the run there with the logger ``logger``
                names (nothing is written without it).
            logger: ``"auto"`` (TensorBoard event files in
                ``log_dir/tensorboard`` when the ``tensorboard`` package is
                installed, else ``log_dir/history.csv``), ``"tensorboard"``
                or ``"csv"`` (:func:`perception.callbacks.make_loggers`).

        Returns:
            self, with ``network_`` and ``history_`` set.

        Example:
            >>> from perception.callbacks import EarlyStopping
            >>> scenes = [(torch.rand(3, 32, 32), {"boxes": torch.tensor([[4., 4., 20., 20.]]),
            ...            "labels": torch.tensor([0])})] * 4
            >>> detector = Detector(width=8, class_names=("car",), attributes={}).fit(
            ...     scenes, epochs=3, training=TrainingConfig(batch_size=2), verbose=False,
            ...     callbacks=[EarlyStopping(monitor="loss", mode="min", patience=2)])
            >>> len(detector.history_)
            3
        """
        training = training if training is not None else TrainingConfig()
        if epochs is not None:
            training = dataclasses.replace(training, epochs=epochs)
        from perception.callbacks import LOGGERS, make_loggers  # callbacks import this module: load on use

        callbacks = list(callbacks)
        if log_dir is not None:
            callbacks += make_loggers(log_dir, logger)
        elif logger not in LOGGERS:
            raise ValueError(f"`logger` must be one of {', '.join(LOGGERS)}. Received: logger={logger!r}")
        if verbose and distributed.is_main_process():
            print(self.summary(), file=sys.stderr, flush=True)
        trainer = Trainer(self, training, callbacks=callbacks, verbose=verbose)
        self.history_ = trainer.run(train_data, val_data)
        self._fast_network = None
        return self

    # --- inference ---------------------------------------------------------------------------
    def predict(self, images, *, score_threshold: float | None = None, batch_size: int = 32,
                precision: str = "auto", metres_per_pixel: float | None = None,
                fps: float | None = None) -> list[Detections]:
        """Detect objects in images (or, for a multi-frame detector, in frame stacks).

        Args:
            images: float tensor (B, 3, H, W) or (3, H, W) in [0, 1], a list
                of (3, H, W) tensors, numpy arrays (H, W), (H, W, 3) or
                (H, W, 4) (uint8, or float in [0, 1]; alpha is dropped,
                grey copied to RGB), PIL images or image file paths (one or
                a list; see :func:`perception.inference.to_image_tensor`).
                A detector with ``num_frames=T >= 2`` also takes frame
                stacks, oldest frame first and the current frame last: a
                float tensor (B, T, 3, H, W) or a list of (T, 3, H, W)
                tensors (a list may mix stacks and single images). A single
                image is detected as a stack of T copies of itself and its
                velocities are unknown (NaN rows). A 4-D tensor is always a
                batch of single images (B, 3, H, W).
            score_threshold: minimum score; defaults to ``config.score_threshold``.
            batch_size: images per forward pass.
            precision: ``"auto"`` (bfloat16 autocast on CPUs that support it,
                float16 on CUDA), ``"float32"``, ``"bfloat16"`` or ``"float16"``.
            metres_per_pixel, fps: the stream's calibration for converting
                motion to m/s; default ``config.metres_per_pixel`` and ``config.fps``.

        Returns:
            One :class:`Detections` per image (or stack), boxes in that
            image's pixels. A multi-frame detector also sets ``velocities``
            (N, 2) float64 m/s over the ground in ego axes (x right, y
            forward: image up) and ``velocity_uncertainty`` (N, 2) float64
            m/s, the expected absolute error of each component.

        Example:
            >>> detector = Detector(width=8, num_frames=2)
            >>> detector.network_ = detector.build_network().eval()
            >>> stacks = [torch.rand(2, 3, 64, 64), torch.rand(2, 3, 32, 96)]   # (T, 3, H, W) each
            >>> [d.velocities.shape[1] for d in detector.predict(stacks, score_threshold=0.0)]
            [2, 2]
        """
        threshold = self.config.score_threshold if score_threshold is None else score_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            raise ValueError(f"`score_threshold` must be a float in [0, 1]. Received: score_threshold={threshold!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"`precision` must be one of {', '.join(PRECISIONS)}. Received: precision={precision!r}")
        calibration = (self.config.metres_per_pixel if metres_per_pixel is None else metres_per_pixel,
                       self.config.fps if fps is None else fps)
        for name, value in zip(("metres_per_pixel", "fps"), calibration):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
        network = self._inference_network()
        device = next(network.parameters()).device
        dtype = autocast_dtype(precision, device)

        def detect(batch: torch.Tensor, known: list[bool] | None = None) -> list[Detections]:
            outputs = self.forward(batch.to(device), network=network, dtype=dtype)
            decoded = decode_outputs(outputs, num_classes=len(self.class_names),
                                     attribute_sizes=self.attribute_sizes, stride=STRIDE,
                                     score_threshold=threshold, max_detections=self.config.max_detections,
                                     velocity=self.num_frames > 1)
            known = known if known is not None else [True] * len(decoded)
            return [self._to_detections(item, batch.shape[-2:], calibration, motion_known)
                    for item, motion_known in zip(decoded, known)]

        with torch.inference_mode():
            if self.num_frames == 1 and _is_float_batch(images):  # slice it, keeping its memory format
                return [d for start in range(0, len(images), batch_size)
                        for d in detect(images[start:start + batch_size])]
            if self.num_frames > 1 and _is_float_stacks(images, self.num_frames):
                return [d for start in range(0, len(images), batch_size)
                        for d in detect(images[start:start + batch_size])]
            if self.num_frames == 1:
                image_list, known = to_image_list(images), None
            else:
                image_list, known = to_frame_stacks(images, self.num_frames)
            results: list[tuple[int, Detections]] = []
            for start in range(0, len(image_list), batch_size):
                chunk = image_list[start:start + batch_size]
                for group in _same_size_groups(chunk):
                    found = detect(torch.stack([chunk[i] for i in group]),
                                   None if known is None else [known[start + i] for i in group])
                    results.extend((start + i, d) for i, d in zip(group, found))
        return [d for _, d in sorted(results, key=lambda pair: pair[0])]

    def forward(self, images: torch.Tensor, *, network=None, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Raw network output for a batch (B, 3, H, W), or for a multi-frame
        detector (B, T, 3, H, W) or (B, 3T, H, W) frame stacks (oldest frame
        first); pads H and W to a multiple of 32 and crops the output back.
        Used by ``predict`` and by export."""
        network = network if network is not None else self._require_network()
        if images.ndim == 5:  # (B, T, 3, H, W) -> (B, 3T, H, W), oldest frame's channels first
            images = images.flatten(1, 2)
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

    def _to_detections(self, item: dict, image_size, calibration=None, motion_known: bool = True) -> Detections:
        height, width = int(image_size[0]), int(image_size[1])
        boxes = item["boxes"].float()
        boxes = torch.stack([boxes[:, 0].clamp(0, width), boxes[:, 1].clamp(0, height),
                             boxes[:, 2].clamp(0, width), boxes[:, 3].clamp(0, height)], dim=1)
        velocities = uncertainty = None
        if "pixel_velocities" in item:
            metres_per_pixel, fps = calibration
            velocities = pixel_to_ground_velocity(item["pixel_velocities"].float().cpu(),
                                                  metres_per_pixel=metres_per_pixel, fps=fps)
            uncertainty = item["pixel_velocity_scales"].double().cpu() * (float(metres_per_pixel) * float(fps))
            if not motion_known:  # a single image: no motion to see
                velocities = torch.full_like(velocities, math.nan)
                uncertainty = torch.full_like(uncertainty, math.nan)
        return Detections(boxes=boxes.cpu(), labels=item["labels"].cpu(), scores=item["scores"].float().cpu(),
                          class_names=self.class_names,
                          attributes={name: item[name].float().cpu() for name in self.attribute_sizes},
                          attribute_values=dict(self.config.attributes),
                          velocities=velocities, velocity_uncertainty=uncertainty)

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
                current = images[:, -1] if images.ndim == 5 else images  # a stack shows its current frame
                shown += list(zip(current, found, batch_targets))[: 16 - len(shown)]
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
    def load(cls, path: str | Path, *, class_names=None, num_frames: int | None = None, device=None) -> "Detector":
        """A detector from a checkpoint written by :meth:`save`.

        Args:
            path: the ``.safetensors`` file.
            class_names: if given, the class map the caller expects; a
                checkpoint with another map is refused.
            num_frames: if given, the frames per input the caller expects
                (1: single images); a checkpoint trained with another
                number is refused. Checkpoints without the setting are
                single-frame.
            device: where to put the weights (default CPU).

        Raises:
            CheckpointError: missing, corrupt or altered file, unknown format
                version, non-finite weights, tensors of another type or shape
                than the stored config describes, class lists that contradict
                each other or ``class_names``, or mismatching ``num_frames``.
        """
        weights, metadata = load_checkpoint(path)
        try:
            config = DetectorConfig(**metadata["config"])
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{path}: checkpoint has no valid detector config ({error})") from None
        check_label_maps(path, metadata, class_names=class_names)
        if num_frames is not None and num_frames != config.num_frames:
            raise CheckpointError(f"{path}: the checkpoint was trained with num_frames={config.num_frames}; "
                                  f"expected num_frames={num_frames}")
        detector = cls(config)
        network = detector.build_network()
        check_tensors(path, weights, network.state_dict())
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

    Args:
        images: a tensor (B, 3, H, W) or (3, H, W); a numpy array
            (B, H, W, C) or one image (H, W) or (H, W, C); one image of any
            kind :func:`perception.inference.to_image_tensor` reads (PIL
            image, file path, ...); or a list of them.

    Example:
        >>> [t.shape for t in to_image_list(np.zeros((4, 6, 3), dtype=np.uint8))]
        [torch.Size([3, 4, 6])]
        >>> [t.shape for t in to_image_list([np.zeros((4, 6)), torch.zeros(3, 4, 6)])]
        [torch.Size([3, 4, 6]), torch.Size([3, 4, 6])]
        >>> to_image_list(torch.zeros(2, 4, 4))
        Traceback (most recent call last):
        ...
        ValueError: tensor images must be (3, H, W), float in [0, 1] or uint8 (numpy arrays: H x W x 3). Received a tensor of shape (2, 4, 4) and dtype torch.float32
    """
    if isinstance(images, torch.Tensor):
        images = list(images) if images.ndim == 4 else [images]
    elif isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    elif not isinstance(images, (list, tuple)):
        images = [images]
    return [to_image_tensor(image) for image in images]


def to_frame_stacks(images, num_frames: int) -> tuple[list[torch.Tensor], list[bool]]:
    """Normalise the inputs of a multi-frame ``predict`` to a list of float
    (T, 3, H, W) stacks (oldest frame first) and whether each shows motion:
    a single image becomes T copies of itself, with motion unknown.

    Args:
        images: a float tensor (B, T, 3, H, W), a list of (T, 3, H, W)
            stacks, or anything :func:`to_image_list` accepts (single images).
        num_frames: T.

    Returns:
        ``(stacks, known)``: list of (T, 3, H, W) tensors and list of bool.

    Example:
        >>> stacks, known = to_frame_stacks([torch.zeros(2, 3, 4, 4), torch.zeros(3, 4, 4)], num_frames=2)
        >>> [tuple(s.shape) for s in stacks], known
        ([(2, 3, 4, 4), (2, 3, 4, 4)], [True, False])
        >>> to_frame_stacks(torch.zeros(1, 3, 3, 4, 4), num_frames=2)
        Traceback (most recent call last):
        ...
        ValueError: a frame stack must be (T, 3, H, W) with T = num_frames = 2, oldest frame first. Received a stack of shape (3, 3, 4, 4)
    """
    if isinstance(images, torch.Tensor) and images.ndim == 5:
        images = list(images)
    elif not isinstance(images, (list, tuple)):
        images = to_image_list(images)
    stacks, known = [], []
    for item in images:
        if isinstance(item, torch.Tensor) and item.ndim == 4:
            if item.shape[0] != num_frames or item.shape[1] != FRAME_CHANNELS:
                raise ValueError(f"a frame stack must be (T, 3, H, W) with T = num_frames = {num_frames}, "
                                 f"oldest frame first. Received a stack of shape {tuple(item.shape)}")
            stack = item.float() / 255 if item.dtype == torch.uint8 else item.float()
            stacks.append(stack)
            known.append(True)
        else:
            image = to_image_list([item])[0]
            stacks.append(image[None].expand(num_frames, -1, -1, -1))
            known.append(False)
    return stacks, known


def _is_float_stacks(images, num_frames: int) -> bool:
    return (isinstance(images, torch.Tensor) and images.ndim == 5 and images.shape[1] == num_frames
            and images.shape[2] == FRAME_CHANNELS and images.is_floating_point())


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
