"""The training loop behind :meth:`perception.model.Detector.fit`.

:class:`TrainingConfig` holds the settings (the ``training:`` section of an
experiment file); :class:`Trainer` runs epochs of augmented batches with
AdamW, a warm-up + cosine learning rate, a progress bar (loss, learning
rate, images/s), per-epoch validation mAP and callbacks. Shuffling and
augmentation of epoch ``e`` are drawn from a generator seeded with
``(seed, e)``, so a run is reproducible and a resumed run continues exactly.

A multi-frame detector (``num_frames=T >= 2``) trains on items whose image
is a (T, 3, H, W) frame stack, oldest frame first, and whose target also
holds ``velocities`` (N, 2) m/s over the ground in ego axes (see
:class:`perception.datasets.EpisodeDataset`); the same loop stacks the
frames on channels and adds the velocity term to the loss.
"""
from __future__ import annotations

import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler
from tqdm import tqdm

from perception import distributed
from perception.augment import augment_batch
from perception.backbone import FRAME_CHANNELS, STRIDE
from perception.checkpoint import (CheckpointError, TrainingState, check_label_maps, check_tensors,
                                   load_optimizer_state, load_training_state, save_checkpoint)
from perception.configuration import validate
from perception.datasets import collate_detection
from perception.device import autocast, mixed_precision_dtype, resolve_device
from perception.losses import detection_loss
from perception.targets import encode_targets


class TrainingError(ValueError):
    """Training cannot continue (e.g. the loss became NaN); the message says what to change."""


@dataclass
class TrainingConfig:
    """Settings of a training run (the ``training:`` section).

    Args:
        epochs: passes over the training set.
        batch_size: images per step (per process when distributed).
        learning_rate: peak AdamW learning rate.
        weight_decay: AdamW weight decay.
        warmup_steps: steps of linear warm-up.
        lr_schedule: ``"cosine"`` (decay to 2% of the peak) or ``"constant"``.
        grad_clip: largest gradient norm (0 disables clipping).
        size_weight: weight of the box-size L1 loss (sizes are in stride units).
        velocity_weight: weight of the velocity terms of a multi-frame
            detector's loss (velocities are in pixels per frame).
        seed: seeds weights, shuffling and augmentation.
        augment: random flip, shift and colour jitter.
        num_train_scenes: training scenes rendered per epoch by ``nesy train``.
        num_val_scenes: validation scenes for the per-epoch mAP.
        val_seed: world seed of the validation scenes.
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        amp: mixed precision: float16 on CUDA, bfloat16 on CPUs with native
            bfloat16 support (about 2x faster there); float32 elsewhere.
        num_threads: torch CPU threads during training (0: torch's default).
        num_workers: data-loading processes (0 renders in the training process).
        frames_per_episode: for a multi-frame detector (``model.num_frames``
            T >= 2), ``nesy train`` renders episodes of this many frames and
            trains on their T-frame stacks: ``num_train_scenes`` (and
            ``num_val_scenes``) count stacks, ``frames_per_episode - T + 1``
            per episode.
        init_from: a single-frame checkpoint to start from (relative to the
            config file's folder; ``"shipped"`` for the shipped model): a
            multi-frame model is warm-started from it
            (:meth:`perception.model.Detector.from_single_frame`), a
            single-frame one fine-tunes it. Empty: random initial weights.

    Example:
        >>> TrainingConfig(epochs=3).epochs
        3
        >>> TrainingConfig(batch_size=0)
        Traceback (most recent call last):
        ...
        perception.configuration.InvalidConfigError: `batch_size` must be in [1, 65536]. Received: batch_size=0
    """

    epochs: int = field(default=12, metadata={"range": (1, 100000)})
    batch_size: int = field(default=32, metadata={"range": (1, 65536)})
    learning_rate: float = field(default=3e-3, metadata={"range": (0.0, 10.0)})
    weight_decay: float = field(default=1e-4, metadata={"range": (0.0, 1.0)})
    warmup_steps: int = field(default=100, metadata={"range": (0, 10**9)})
    lr_schedule: str = field(default="cosine", metadata={"choices": ("cosine", "constant")})
    grad_clip: float = field(default=10.0, metadata={"range": (0.0, 1e6)})
    size_weight: float = field(default=1.0, metadata={"range": (0.0, 100.0)})
    velocity_weight: float = field(default=1.0, metadata={"range": (0.0, 100.0)})
    seed: int = field(default=0, metadata={"range": (0, 2**31 - 1)})
    augment: bool = True
    num_train_scenes: int = field(default=4000, metadata={"range": (1, 10**8)})
    num_val_scenes: int = field(default=200, metadata={"range": (0, 10**7)})
    val_seed: int = field(default=10_000_000, metadata={"range": (0, 2**31 - 1)})
    device: str = field(default="auto", metadata={"choices": ("auto", "cpu", "cuda")})
    amp: bool = True
    num_threads: int = field(default=0, metadata={"range": (0, 1024)})
    num_workers: int = field(default=0, metadata={"range": (0, 256)})
    frames_per_episode: int = field(default=10, metadata={"range": (2, 100000)})
    init_from: str | None = None

    def __post_init__(self):
        validate(self)


def learning_rate_at(step: int, *, total_steps: int, peak: float, warmup_steps: int, schedule: str) -> float:
    """Learning rate of optimisation step ``step`` (0-based).

    Example:
        >>> [round(learning_rate_at(s, total_steps=10, peak=1.0, warmup_steps=2, schedule="cosine"), 3)
        ...  for s in (0, 1, 2, 9)]
        [0.5, 1.0, 1.0, 0.057]
    """
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    if schedule == "constant":
        return peak
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    floor = 0.02
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator that draws epoch ``epoch``'s order and augmentation.

    Example:
        >>> torch.randint(100, (1,), generator=epoch_generator(0, 1)).item() == \\
        ...     torch.randint(100, (1,), generator=epoch_generator(0, 1)).item()
        True
    """
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def loader_factory(data, *, batch_size: int, seed: int, num_workers: int = 0, rank: int = 0, world_size: int = 1):
    """A function ``epoch -> DataLoader`` that shuffles each epoch from ``(seed, epoch)``.

    Args:
        data: a Dataset of ``(image, target)`` (shuffled and sharded here)
            or a ready DataLoader (used as it is).
        batch_size: images per step per process.
        seed: shuffling seed.
        num_workers: loader processes.
        rank, world_size: this process's shard.
    """
    if isinstance(data, DataLoader):
        def reuse(epoch: int) -> DataLoader:
            if isinstance(getattr(data, "sampler", None), DistributedSampler):
                data.sampler.set_epoch(epoch)
            return data
        return reuse
    if not isinstance(data, Dataset) and not hasattr(data, "__getitem__"):
        raise TypeError(f"training data must be a Dataset or a DataLoader. Received {type(data).__name__}")

    def make(epoch: int) -> DataLoader:
        if world_size > 1:
            sampler = DistributedSampler(data, num_replicas=world_size, rank=rank, shuffle=True, seed=seed,
                                         drop_last=True)
            sampler.set_epoch(epoch)
        else:
            sampler = RandomSampler(data, generator=epoch_generator(seed, epoch))
        return DataLoader(data, batch_size=batch_size, sampler=sampler, collate_fn=collate_detection,
                          num_workers=num_workers, drop_last=True, persistent_workers=False)
    return make


class Trainer:
    """Runs :meth:`Detector.fit`. Callbacks see it as ``callback.trainer``
    and may read ``detector``, ``network``, ``optimizer``, ``epoch``,
    ``global_step``, ``history``, ``is_main`` and set ``stop_training``,
    ``learning_rate`` (the peak rate) or ``initial_epoch``;
    :meth:`save_checkpoint` and :meth:`restore_checkpoint` write and read
    the whole loop state as one file (see
    :class:`perception.callbacks.BackupAndRestore`).

    Args:
        detector: the :class:`perception.model.Detector` to train.
        config: a :class:`TrainingConfig`.
        callbacks: :class:`perception.callbacks.Callback` objects.
        verbose: progress bar and an epoch summary line on stderr.
    """

    def __init__(self, detector, config: TrainingConfig, *, callbacks=(), verbose: bool = True):
        self.detector = detector
        self.config = config
        self.callbacks = list(callbacks)
        self.verbose = verbose

    # The loop ---------------------------------------------------------------------------------
    def run(self, train_data, val_data=None) -> list[dict]:
        """Train for ``config.epochs`` epochs; returns the per-epoch logs."""
        if not isinstance(self.config, TrainingConfig):
            raise TypeError(f"`training` must be a TrainingConfig. Received: {type(self.config).__name__}")
        self.rank, self.world_size = distributed.rank_and_size()
        self.is_main = self.rank == 0
        self.device = distributed.local_device(resolve_device(self.config.device))
        previous_threads = torch.get_num_threads()
        if self.config.num_threads:
            torch.set_num_threads(self.config.num_threads)
        try:
            return self._run(train_data, val_data)
        finally:
            torch.set_num_threads(previous_threads)

    def _run(self, train_data, val_data) -> list[dict]:
        config = self.config
        _check_calibration(train_data, self.detector.config)
        torch.manual_seed(config.seed)
        if getattr(self.detector, "network_", None) is None:
            self.detector.network_ = self.detector.build_network()
        self.network = self.detector.network_.to(self.device)
        self.network = self.network.to(memory_format=torch.channels_last)
        self.model = distributed.wrap(self.network, self.device)
        self.optimizer = torch.optim.AdamW(self.network.parameters(), lr=config.learning_rate,
                                           weight_decay=config.weight_decay)
        self.amp_dtype = mixed_precision_dtype(self.device) if config.amp else None
        self.use_amp = self.amp_dtype is not None
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.learning_rate = config.learning_rate
        self.initial_epoch, self.global_step, self.history = 0, 0, []
        self.stop_training = False
        self.last_checkpoint = None
        loader_for = loader_factory(train_data, batch_size=config.batch_size, seed=config.seed,
                                                num_workers=config.num_workers, rank=self.rank,
                                                world_size=self.world_size)
        self.steps_per_epoch = len(loader_for(0))
        if self.steps_per_epoch == 0:
            raise ValueError(f"the training data has fewer images than one batch "
                             f"(batch_size={config.batch_size}); lower `training.batch_size` or add scenes")
        self.total_steps = self.steps_per_epoch * config.epochs
        for callback in self.callbacks:
            callback.set_trainer(self)
        self._call("on_train_begin", {})
        started = time.perf_counter()
        previous_elapsed = self.history[-1].get("elapsed_seconds", 0.0) if self.history else 0.0
        for epoch in range(self.initial_epoch, config.epochs):
            self.epoch = epoch
            self._call("on_epoch_begin", epoch, {})
            logs = self._train_epoch(loader_for(epoch), epoch)
            if val_data is not None:
                logs.update(self._validate(val_data))
            logs["elapsed_seconds"] = round(previous_elapsed + time.perf_counter() - started, 1)
            self.history.append(logs)
            if self.verbose and self.is_main:
                print(_epoch_line(epoch, config.epochs, logs), file=sys.stderr, flush=True)
            self._call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        distributed.broadcast_buffers(self.network)
        self._call("on_train_end", {"history": self.history})
        self.detector.network_ = self.network.eval()
        return self.history

    def _train_epoch(self, loader, epoch: int) -> dict:
        config = self.config
        generator = epoch_generator(config.seed + 7919 * (self.rank + 1), epoch)
        self.model.train()
        totals: dict[str, float] = {}
        num_images, started = 0, time.perf_counter()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False, file=sys.stderr,
                   disable=None if (self.verbose and self.is_main) else True, dynamic_ncols=True)
        for step, (images, targets) in enumerate(bar):
            lr = learning_rate_at(self.global_step, total_steps=self.total_steps, peak=self.learning_rate,
                                  warmup_steps=config.warmup_steps, schedule=config.lr_schedule)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            parts = self._train_step(images, targets, generator, epoch, step)
            for name, value in parts.items():
                totals[name] = totals.get(name, 0.0) + value
            num_images += len(targets)
            self.global_step += 1
            elapsed = time.perf_counter() - started
            bar.set_postfix(loss=f"{parts['loss']:.3f}", lr=f"{lr:.2e}", img_s=f"{num_images / elapsed:.0f}")
            self._call("on_batch_end", step, {"loss": parts["loss"], "lr": lr})
        bar.close()
        elapsed = time.perf_counter() - started
        logs = {"epoch": epoch + 1, **{name: round(v / max(1, step + 1), 5) for name, v in totals.items()},
                "lr": lr, "images_per_second": round(num_images * self.world_size / elapsed, 1),
                "seconds": round(elapsed, 1)}
        return logs

    def _train_step(self, images, targets, generator, epoch: int, step: int) -> dict[str, float]:
        config, detector = self.config, self.detector
        images = stack_frames(images, detector.config.num_frames)
        if config.augment:
            images, targets = augment_batch(images, targets, generator)
        height, width = images.shape[-2:]
        calibration = {}
        if detector.config.num_frames > 1:
            calibration = {"metres_per_pixel": detector.config.metres_per_pixel, "fps": detector.config.fps}
        encoded = encode_targets(targets, num_classes=len(detector.class_names), height=height // STRIDE,
                                 width=width // STRIDE, stride=STRIDE, attribute_names=tuple(detector.attribute_sizes),
                                 **calibration)
        encoded = {k: v.to(self.device, non_blocking=True) for k, v in encoded.items()}
        images = images.to(self.device, non_blocking=True)
        images = images.contiguous(memory_format=torch.channels_last)
        with autocast(self.device, self.amp_dtype):
            outputs = self.model(images)
        outputs = outputs.float()
        parts = detection_loss(outputs, encoded, num_classes=len(detector.class_names),
                               attribute_sizes=detector.attribute_sizes, size_weight=config.size_weight,
                               velocity_weight=config.velocity_weight)
        loss = parts["loss"]
        if not torch.isfinite(loss):
            where = f" The last good checkpoint is {self.last_checkpoint}." if self.last_checkpoint else ""
            raise TrainingError(f"the training loss became {loss.item()} at epoch {epoch + 1}, step {step + 1} "
                                f"(learning rate {self.optimizer.param_groups[0]['lr']:.2e}).{where} "
                                "Lower `training.learning_rate` or check the data for broken boxes")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if config.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.network.parameters(), config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return {name: float(value.detach()) for name, value in parts.items()}

    def _validate(self, val_data) -> dict:
        self.detector.network_ = self.network.eval()
        self.detector._fast_network = None
        metrics = self.detector.evaluate(val_data, batch_size=self.config.batch_size)
        self.detector._fast_network = None
        self.model.train()
        logs = {"val_map_50": metrics["map_50"], "val_map_50_95": metrics["map_50_95"]}
        for key, value in metrics.items():
            if key.endswith("_accuracy") or key == "velocity_mae":
                logs[f"val_{key}"] = value
        return logs

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    # Saving and resuming ----------------------------------------------------------------------
    def save_checkpoint(self, path, logs: dict) -> Path:
        """Write the weights with everything a resumed run needs (optimizer,
        learning-rate schedule position, random states, epoch, history) as
        one checkpoint file, atomically; ``logs`` (this epoch's) become its
        metrics. Call at the end of an epoch."""
        self.detector.network_ = self.network
        metrics = {k: v for k, v in logs.items() if isinstance(v, (int, float)) or v is None}
        state = TrainingState(
            optimizer=self.optimizer.state_dict(),
            info={"epoch": self.epoch, "global_step": self.global_step, "learning_rate": self.learning_rate,
                  "history": self.history, "seed": self.config.seed, "scaler": self.scaler.state_dict()},
            rng_states=_rng_states())
        return save_checkpoint(path, dict(self.network.state_dict()), self.detector.metadata(metrics), training=state)

    def restore_checkpoint(self, path) -> None:
        """Continue from a checkpoint written by :meth:`save_checkpoint`: the
        next epoch, weights, optimizer, schedule, random states and history
        are the saved ones. Call from ``on_train_begin``.

        Raises:
            CheckpointError: one line naming the file(s) when the checkpoint
                holds no training state, pairs weights and state from
                different epochs, was altered, or does not fit this model.
        """
        path = Path(path)
        state = load_training_state(path)
        try:
            config = type(self.detector.config)(**state.metadata["config"])
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{path}: checkpoint has no valid detector config ({error})") from None
        if config != self.detector.config:
            raise CheckpointError(f"{path}: the checkpoint's model config {config} does not match "
                                  f"this run's {self.detector.config}")
        check_label_maps(path, state.metadata, class_names=self.detector.class_names)
        check_tensors(path, state.weights, self.network.state_dict())
        saved_seed = state.info.get("seed", self.config.seed)
        if saved_seed != self.config.seed:
            warnings.warn(f"{path}: the run was started with seed {saved_seed} and continues with seed "
                          f"{self.config.seed}; it will differ from an uninterrupted run", stacklevel=2)
        self.network.load_state_dict(state.weights)
        load_optimizer_state(path, self.optimizer, state.optimizer)
        if state.info.get("scaler"):
            self.scaler.load_state_dict(state.info["scaler"])
        _set_rng_states(path, state.rng_states)
        self.initial_epoch = state.info["epoch"] + 1
        self.global_step = state.info["global_step"]
        self.learning_rate = float(state.info["learning_rate"])
        self.history = list(state.info.get("history", []))
        self.last_checkpoint = str(path)


def _rng_states() -> dict[str, torch.Tensor]:
    """The random states a resumed run continues from: torch's CPU generator and each CUDA device's."""
    states = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            states[f"cuda.{index}"] = state
    return states


def _set_rng_states(path: Path, states: dict[str, torch.Tensor]) -> None:
    cuda = [states[f"cuda.{index}"] for index in range(len(states)) if f"cuda.{index}" in states]
    try:
        if "torch" in states:
            torch.set_rng_state(states["torch"])
        if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
    except RuntimeError as error:
        raise CheckpointError(f"{path}: the saved random state does not fit this torch "
                              f"({str(error).splitlines()[0]}); expected one written by this torch version") from None


def _check_calibration(data, detector_config) -> None:
    """Velocity targets are converted with the detector's calibration: refuse data made with another."""
    if detector_config.num_frames == 1:
        return
    for name in ("metres_per_pixel", "fps"):
        given = getattr(data, name, None)
        expected = getattr(detector_config, name)
        if isinstance(given, (int, float)) and not math.isclose(given, expected, rel_tol=1e-6):
            raise ValueError(f"the training data has {name}={given} but the detector expects {name}={expected}; "
                             f"build the detector with {name}={given}")


def stack_frames(images: torch.Tensor, num_frames: int) -> torch.Tensor:
    """A training batch as the network's input: (B, 3, H, W) images for a
    single-frame detector; (B, T, 3, H, W) frame stacks (oldest first) as
    (B, 3T, H, W) for a detector with ``num_frames=T``.

    Example:
        >>> stack_frames(torch.zeros(4, 2, 3, 8, 8), num_frames=2).shape
        torch.Size([4, 6, 8, 8])
        >>> stack_frames(torch.zeros(4, 3, 8, 8), num_frames=2)
        Traceback (most recent call last):
        ...
        ValueError: a detector with num_frames=2 trains on frame stacks (B, 2, 3, H, W), oldest frame first (e.g. perception.datasets.EpisodeDataset(..., num_frames=2)). Received a batch of shape (4, 3, 8, 8)
    """
    if images.ndim == 5:
        images = images.flatten(1, 2)
    if images.ndim != 4 or images.shape[1] != FRAME_CHANNELS * num_frames:
        if num_frames == 1:
            raise ValueError("a single-frame detector trains on images (B, 3, H, W). "
                             f"Received a batch of shape {tuple(images.shape)}")
        raise ValueError(f"a detector with num_frames={num_frames} trains on frame stacks (B, {num_frames}, 3, H, W), "
                         f"oldest frame first (e.g. perception.datasets.EpisodeDataset(..., num_frames={num_frames})). "
                         f"Received a batch of shape {tuple(images.shape)}")
    return images


def _epoch_line(epoch: int, epochs: int, logs: dict) -> str:
    shown = [f"epoch {epoch + 1}/{epochs}"]
    for key in ("loss", "heatmap", "size", "offset", "velocity", "val_map_50", "val_map_50_95", "val_light_state_accuracy",
                "images_per_second", "elapsed_seconds"):
        if key in logs and logs[key] is not None:
            value = logs[key]
            shown.append(f"{key} {value:.4f}" if isinstance(value, float) and key not in ("images_per_second", "elapsed_seconds") else f"{key} {value}")
    return "  ".join(shown)


class InMemoryDataset(torch.utils.data.Dataset):
    """A dataset read (or rendered) once and kept in memory as uint8, so
    epochs after the first cost no rendering or decoding.

    Args:
        data: any dataset of ``(image (3, H, W) in [0, 1], target)``.
        verbose: show a progress bar while filling.

    Example:
        >>> data = InMemoryDataset([(torch.ones(3, 2, 2), {"labels": torch.tensor([0])})])
        >>> len(data), data[0][0].max().item()
        (1, 1.0)
    """

    BLOCK = 256  # images per preallocated uint8 block

    def __init__(self, data, *, verbose: bool = False, desc: str = "render"):
        # Images live in preallocated uint8 blocks, one series per image shape: storing each
        # image as its own small tensor fragments the heap (about 4x the pixels' size in RSS).
        self._blocks: list[torch.Tensor] = []
        self._open_block: dict[tuple, tuple[int, int]] = {}  # shape -> (block index, rows used)
        self._where: list[tuple[int, int]] = []
        self.targets = []
        for index in tqdm(range(len(data)), desc=desc, leave=False, file=sys.stderr,
                          disable=None if verbose else True):
            image, target = data[index]
            self._store(image)
            self.targets.append(target)
        self.class_names = getattr(data, "class_names", None)
        for name in ("metres_per_pixel", "fps", "num_frames"):  # the calibration of frame-stack data
            if hasattr(data, name):
                setattr(self, name, getattr(data, name))

    def _store(self, image: torch.Tensor) -> None:
        shape = tuple(image.shape)
        block, used = self._open_block.get(shape, (-1, self.BLOCK))
        if used == self.BLOCK:
            self._blocks.append(torch.empty((self.BLOCK, *shape), dtype=torch.uint8))
            block, used = len(self._blocks) - 1, 0
        self._blocks[block][used] = image.mul(255).round_()
        self._where.append((block, used))
        self._open_block[shape] = (block, used + 1)

    def __len__(self) -> int:
        return len(self._where)

    def __getitem__(self, index: int):
        block, row = self._where[index]
        return self._blocks[block][row].float().div_(255), self.targets[index]
