"""Callbacks: what happens around training without more flags on ``fit``.

A callback overrides any of ``on_train_begin``, ``on_epoch_begin``,
``on_batch_end``, ``on_epoch_end`` and ``on_train_end``; ``self.trainer``
(a :class:`perception.training.Trainer`) gives access to the detector,
optimizer and loop state. Files are written by the main process only.

Example:
    >>> class CountEpochs(Callback):
    ...     def on_epoch_end(self, epoch, logs):
    ...         self.seen = epoch + 1
"""
from __future__ import annotations

import csv
import io
import math
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
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Example:
        >>> EarlyStopping(monitor="loss", mode="min", patience=2).patience
        2
    """

    def __init__(self, *, monitor: str = "val_map_50", mode: str = "max", patience: int = 3, min_delta: float = 0.0):
        _check_mode(mode)
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"`patience` must be a non-negative integer. Received: patience={patience!r}")
        self.monitor, self.mode, self.patience, self.min_delta = monitor, mode, patience, min_delta
        self.best, self.wait, self.stopped_epoch = None, 0, None

    def on_epoch_end(self, epoch, logs):
        value = logs.get(self.monitor)
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait > self.patience:
            self.trainer.stop_training = True
            self.stopped_epoch = epoch


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
