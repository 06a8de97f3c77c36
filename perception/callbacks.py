"""Callbacks: what happens around training without more flags on ``fit``.

A callback overrides any of ``on_train_begin``, ``on_epoch_begin``,
``on_batch_end``, ``on_epoch_end`` and ``on_train_end``; ``self.trainer``
(a :class:`perception.training.Trainer`) gives access to the detector,
optimizer and loop state. Files are written by the main process only.

Loggers: :class:`CSVLogger` (one row per epoch) and :class:`TensorBoardLogger`
(event files, needs the optional ``tensorboard`` package:
``pip install 'nesy[tensorboard]'``); :func:`make_loggers` picks them by name,
``"auto"`` choosing TensorBoard when it is installed and CSV otherwise.

Example:
    >>> class CountEpochs(Callback):
    ...     def on_epoch_end(self, epoch, logs):
    ...         self.seen = epoch + 1
"""
from __future__ import annotations

import csv
import importlib.util
import io
import math
import warnings
from pathlib import Path

import torch

from perception.files import remove_orphans, write_atomic


class Callback:
    """Base class; every hook does nothing."""

    trainer = None

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        pass

    def on_batch_end(self, step: int, logs: dict) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, logs: dict) -> None:
        pass


def _improved(value, best, mode: str, min_delta: float) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if best is None:
        return True
    return value > best + min_delta if mode == "max" else value < best - min_delta


def _check_mode(mode: str) -> None:
    if mode not in ("max", "min"):
        raise ValueError(f"`mode` must be 'max' or 'min'. Received: mode={mode!r}")


class ModelCheckpoint(Callback):
    """Save the detector after each epoch (or only when ``monitor`` improves).

    Args:
        path: the ``.safetensors`` file to write (atomically).
        monitor: log key to watch, e.g. ``"val_map_50"`` or ``"loss"``.
        mode: ``"max"`` or ``"min"``.
        save_best_only: write only when ``monitor`` improves.

    Example:
        >>> ModelCheckpoint("runs/a/best.safetensors", monitor="val_map_50").mode
        'max'
    """

    def __init__(self, path, *, monitor: str = "val_map_50", mode: str = "max", save_best_only: bool = True):
        _check_mode(mode)
        self.path = Path(path)
        self.monitor = monitor
        self.mode = mode
        self.save_best_only = save_best_only
        self.best = None

    def on_epoch_end(self, epoch, logs):
        value = logs.get(self.monitor)
        if self.save_best_only and not _improved(value, self.best, self.mode, 0.0):
            return
        if value is not None:
            self.best = value if _improved(value, self.best, self.mode, 0.0) else self.best
        if self.trainer.is_main:
            metrics = {k: v for k, v in logs.items() if isinstance(v, (int, float)) or v is None}
            self.trainer.detector.network_ = self.trainer.network
            self.trainer.detector.save(self.path, metrics=metrics)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs in a row (Keras' rule; ``patience=0`` stops at the
    first epoch without improvement, as ``patience=1`` does).

    Args:
        monitor: log key to watch, e.g. ``"val_map_50"`` (needs validation data) or ``"loss"``.
        mode: ``"max"`` or ``"min"``.
        patience: epochs without improvement before stopping.
        min_delta: the least change that counts as an improvement.
        restore_best_weights: at the end of training, put back the weights
            of the best epoch (kept in memory on the CPU).

    Attributes:
        best, best_epoch: the best value seen and its epoch (0-based).
        stopped_epoch: the epoch after which training stopped, or None.

    A ``monitor`` missing from the logs (e.g. ``val_map_50`` without
    validation data) is warned about once and never counts as an improvement.

    Example:
        >>> EarlyStopping(monitor="loss", mode="min", patience=2).patience
        2
        >>> EarlyStopping(patience=-1)
        Traceback (most recent call last):
        ...
        ValueError: `patience` must be a non-negative integer. Received: patience=-1
    """

    def __init__(self, *, monitor: str = "val_map_50", mode: str = "max", patience: int = 3, min_delta: float = 0.0,
                 restore_best_weights: bool = False):
        _check_mode(mode)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"`patience` must be a non-negative integer. Received: patience={patience!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or not min_delta >= 0:
            raise ValueError(f"`min_delta` must be a number >= 0. Received: min_delta={min_delta!r}")
        self.monitor, self.mode, self.patience, self.min_delta = monitor, mode, patience, min_delta
        self.restore_best_weights = restore_best_weights
        self.best, self.best_epoch, self.wait, self.stopped_epoch = None, None, 0, None
        self._best_weights = None
        self._warned_missing = False

    def on_train_begin(self, logs):
        self.best, self.best_epoch, self.wait, self.stopped_epoch = None, None, 0, None
        self._best_weights = None

    def on_epoch_end(self, epoch, logs):
        value = logs.get(self.monitor)
        if self.monitor not in logs and not self._warned_missing:
            self._warned_missing = True
            warnings.warn(f"EarlyStopping watches {self.monitor!r}, which the epoch logs do not hold "
                          f"(they hold {', '.join(sorted(logs))}); pass validation data or choose another `monitor`",
                          stacklevel=2)
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._best_weights = {name: tensor.detach().to("cpu", copy=True)
                                      for name, tensor in self.trainer.network.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= max(1, self.patience):
            self.trainer.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self, logs):
        if self.restore_best_weights and self._best_weights is not None and self.best_epoch != self.trainer.epoch:
            self.trainer.network.load_state_dict(self._best_weights)


class LearningRateScheduler(Callback):
    """Set the peak learning rate at the start of each epoch from
    ``schedule(epoch, learning_rate) -> learning_rate``; the warm-up and
    cosine shape of the training config apply on top.

    Example:
        >>> halve = LearningRateScheduler(lambda epoch, lr: lr / 2 if epoch == 5 else lr)
    """

    def __init__(self, schedule):
        if not callable(schedule):
            raise TypeError(f"`schedule` must be callable (epoch, lr) -> lr. Received {type(schedule).__name__}")
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs):
        value = float(self.schedule(epoch, self.trainer.learning_rate))
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"the learning-rate schedule returned {value} for epoch {epoch}; expected a number >= 0")
        self.trainer.learning_rate = value


class CSVLogger(Callback):
    """Write the history as a CSV file, one row per epoch (rewritten
    atomically after each epoch). Columns keep the order of their first
    appearance; a resumed run keeps the order of the file it continues.

    Example:
        >>> CSVLogger("runs/a/log.csv").path.name
        'log.csv'
    """

    def __init__(self, path):
        self.path = Path(path)
        self._resumed_columns: list[str] | None = None

    def on_train_begin(self, logs):
        self._resumed_columns = None

    def on_epoch_end(self, epoch, logs):
        if not self.trainer.is_main:
            return
        if self._resumed_columns is None:
            self._resumed_columns = self._columns_of_continued_file()
        rows = [dict(row) for row in self.trainer.history]
        keys = list(self._resumed_columns)
        for row in rows:
            keys += [k for k in row if k not in keys]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
        write_atomic(self.path, buffer.getvalue())

    def _columns_of_continued_file(self) -> list[str]:
        """The header of the file a resumed run continues (none for a new run)."""
        if not self.trainer.initial_epoch or not self.path.is_file():
            return []
        with self.path.open(newline="", encoding="utf-8") as file:
            header = next(csv.reader(file), [])
        return [column for column in header if column]


class BackupAndRestore(Callback):
    """Write ``path`` after each epoch: the weights together with the
    training state (optimizer, learning-rate schedule position, random
    state, epoch, history) in one file, committed atomically; with
    ``restore=True`` a run that finds it continues from there, reaching the
    same weights as an uninterrupted run with the same seed. Temporary files
    of killed saves in its folder are deleted at the start.

    Raises (at the start of training):
        CheckpointError: the file holds no training state, a weights/state
            pair saved apart, or a model or optimizer that does not fit.

    Example:
        >>> BackupAndRestore("runs/a/last.safetensors", restore=True).restore
        True
    """

    def __init__(self, path, *, restore: bool = True):
        self.path = Path(path)
        self.restore = restore

    def on_train_begin(self, logs):
        if self.trainer.is_main:
            remove_orphans(self.path.parent)
        if self.restore and self.path.is_file():
            self.trainer.restore_checkpoint(self.path)

    def on_epoch_end(self, epoch, logs):
        trainer = self.trainer
        if trainer.is_main:
            trainer.save_checkpoint(self.path, logs)
        trainer.last_checkpoint = str(self.path)


LOGGERS = ("auto", "tensorboard", "csv")


def tensorboard_available() -> bool:
    """Whether the ``tensorboard`` package (which ``torch.utils.tensorboard`` needs) is installed.

    Example:
        >>> tensorboard_available() in (True, False)
        True
    """
    return importlib.util.find_spec("tensorboard") is not None


def _summary_writer(log_dir: Path):
    if not tensorboard_available():
        raise ImportError("TensorBoard logging needs the tensorboard package: pip install 'nesy[tensorboard]' "
                          "(or pip install tensorboard)")
    from torch.utils.tensorboard import SummaryWriter  # optional dependency, loaded once per run

    return SummaryWriter(log_dir=str(log_dir))


class TensorBoardLogger(Callback):
    """Write TensorBoard event files into ``log_dir``: the loss and learning
    rate of every ``batch_interval``-th step (tags ``batch/loss``,
    ``batch/lr``, x axis: optimisation step), each epoch's numbers (training
    ones as ``train/<key>``, validation ones as ``val/<key>``, x axis: epoch
    number) and the model summary as text. View with
    ``tensorboard --logdir <log_dir>``.

    Args:
        log_dir: folder of the event files (created).
        batch_interval: log every this many steps (1: every step).
        writer_factory: ``log_dir -> writer`` with ``add_scalar``,
            ``add_text``, ``flush`` and ``close`` (default
            ``torch.utils.tensorboard.SummaryWriter``, which needs the
            ``tensorboard`` package).

    Example:
        >>> TensorBoardLogger("runs/a/tensorboard").log_dir.name
        'tensorboard'
    """

    def __init__(self, log_dir, *, batch_interval: int = 10, writer_factory=None):
        if isinstance(batch_interval, bool) or not isinstance(batch_interval, int) or batch_interval < 1:
            raise ValueError(f"`batch_interval` must be a positive integer. Received: batch_interval={batch_interval!r}")
        if writer_factory is not None and not callable(writer_factory):
            raise TypeError(f"`writer_factory` must be callable log_dir -> writer. Received {type(writer_factory).__name__}")
        self.log_dir = Path(log_dir)
        self.batch_interval = batch_interval
        self.writer_factory = writer_factory or _summary_writer
        self.writer = None

    def on_train_begin(self, logs):
        if not self.trainer.is_main:
            return
        self.writer = self.writer_factory(self.log_dir)
        summary = self.trainer.detector.summary()
        self.writer.add_text("model/summary", "    " + str(summary).replace("\n", "\n    "), 0)

    def on_batch_end(self, step, logs):
        if self.writer is None:
            return
        global_step = self.trainer.global_step  # already counts this step
        if (global_step - 1) % self.batch_interval == 0:
            for key in ("loss", "lr"):
                if isinstance(logs.get(key), (int, float)):
                    self.writer.add_scalar(f"batch/{key}", float(logs[key]), global_step)

    def on_epoch_end(self, epoch, logs):
        if self.writer is None:
            return
        for key, value in logs.items():
            if key == "epoch" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            tag = f"val/{key.removeprefix('val_')}" if key.startswith("val_") else f"train/{key}"
            self.writer.add_scalar(tag, float(value), epoch + 1)
        self.writer.flush()

    def on_train_end(self, logs):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def make_loggers(log_dir, logger: str = "auto") -> list[Callback]:
    """The logger callbacks of a run writing into ``log_dir``.

    Args:
        log_dir: folder for the logs: ``log_dir/history.csv`` or TensorBoard
            event files in ``log_dir/tensorboard``.
        logger: ``"auto"`` (TensorBoard when the ``tensorboard`` package is
            installed, CSV otherwise), ``"tensorboard"`` or ``"csv"``.

    Returns:
        A list of callbacks for ``fit``.

    Raises:
        ValueError: an unknown ``logger``; ImportError: ``"tensorboard"``
        without the package (the message says what to install).

    Example:
        >>> [type(c).__name__ for c in make_loggers("runs/a", "csv")]
        ['CSVLogger']
        >>> make_loggers("runs/a", "wandb")
        Traceback (most recent call last):
        ...
        ValueError: `logger` must be one of auto, tensorboard, csv. Received: logger='wandb'
    """
    if logger not in LOGGERS:
        raise ValueError(f"`logger` must be one of {', '.join(LOGGERS)}. Received: logger={logger!r}")
    log_dir = Path(log_dir)
    if logger == "tensorboard" and not tensorboard_available():
        raise ImportError("logger='tensorboard' needs the tensorboard package: pip install 'nesy[tensorboard]' "
                          "(or pip install tensorboard), or use logger='csv'")
    if logger == "csv" or (logger == "auto" and not tensorboard_available()):
        return [CSVLogger(log_dir / "history.csv")]
    return [TensorBoardLogger(log_dir / "tensorboard")]
