"""Logging and stopping callbacks: TensorBoard event logs, the logger choice, early stopping."""
import csv
import warnings

import pytest
import torch

from perception import callbacks as callbacks_module
from perception.callbacks import Callback, CSVLogger, EarlyStopping, TensorBoardLogger, make_loggers

from detector_helpers import quick_training, rectangle_scenes, small_detector


class FakeWriter:
    """Records what a SummaryWriter would write."""

    def __init__(self, log_dir):
        self.log_dir, self.scalars, self.texts, self.flushes, self.closed = log_dir, [], [], 0, False

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def add_text(self, tag, text, step):
        self.texts.append((tag, text, step))

    def flush(self):
        self.flushes += 1

    def close(self):
        self.closed = True


def test_tensorboard_logger_writes_batch_epoch_and_validation_scalars_and_the_summary(tmp_path):
    writers = []
    logger = TensorBoardLogger(tmp_path / "tb", batch_interval=1,
                               writer_factory=lambda log_dir: writers.append(FakeWriter(log_dir)) or writers[-1])
    scenes = rectangle_scenes(8)
    small_detector().fit(scenes, scenes[:4], epochs=2, training=quick_training(), verbose=False, callbacks=[logger])
    (writer,) = writers
    assert writer.log_dir == tmp_path / "tb" and writer.closed and writer.flushes == 2
    steps = {tag: [step for t, _, step in writer.scalars if t == tag] for tag, _, _ in writer.scalars}
    assert steps["batch/loss"] == steps["batch/lr"] == [1, 2]          # 8 scenes, batch 8: one step per epoch
    assert steps["train/loss"] == steps["val/map_50"] == steps["val/map_50_95"] == [1, 2]
    assert "train/epoch" not in steps and "train/images_per_second" in steps
    assert all(isinstance(value, float) for _, value, _ in writer.scalars)
    (tag, text, _), = writer.texts
    assert tag == "model/summary" and "total parameters" in text


def test_tensorboard_logger_logs_every_nth_step_only():
    logger = TensorBoardLogger("unused", batch_interval=3, writer_factory=FakeWriter)
    logger.set_trainer(type("Trainer", (), {"is_main": True, "global_step": 0,
                                            "detector": small_detector()})())
    logger.on_train_begin({})
    for step in range(7):
        logger.trainer.global_step = step + 1
        logger.on_batch_end(step, {"loss": 1.0, "lr": 0.1})
    assert [step for tag, _, step in logger.writer.scalars if tag == "batch/loss"] == [1, 4, 7]
    with pytest.raises(ValueError, match="`batch_interval` must be a positive integer. Received: batch_interval=0"):
        TensorBoardLogger("unused", batch_interval=0)


def test_tensorboard_logger_writes_real_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    scenes = rectangle_scenes(8)
    small_detector().fit(scenes, epochs=1, training=quick_training(), verbose=False, log_dir=tmp_path,
                         logger="tensorboard")
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_make_loggers_chooses_tensorboard_when_installed_and_csv_otherwise(monkeypatch, tmp_path):
    monkeypatch.setattr(callbacks_module, "tensorboard_available", lambda: True)
    (chosen,) = make_loggers(tmp_path, "auto")
    assert isinstance(chosen, TensorBoardLogger) and chosen.log_dir == tmp_path / "tensorboard"
    monkeypatch.setattr(callbacks_module, "tensorboard_available", lambda: False)
    (chosen,) = make_loggers(tmp_path, "auto")
    assert isinstance(chosen, CSVLogger) and chosen.path == tmp_path / "history.csv"
    with pytest.raises(ImportError, match=r"needs the tensorboard package: pip install 'nesy\[tensorboard\]'"):
        make_loggers(tmp_path, "tensorboard")
    with pytest.raises(ImportError, match="needs the tensorboard package"):
        TensorBoardLogger(tmp_path).writer_factory(tmp_path)


def test_fit_with_a_log_dir_writes_the_chosen_log(monkeypatch, tmp_path):
    monkeypatch.setattr(callbacks_module, "tensorboard_available", lambda: False)
    scenes = rectangle_scenes(8)
    small_detector().fit(scenes, scenes[:4], epochs=2, training=quick_training(), verbose=False, log_dir=tmp_path)
    rows = list(csv.DictReader((tmp_path / "history.csv").open()))
    assert [row["epoch"] for row in rows] == ["1", "2"] and "val_map_50" in rows[0]
    with pytest.raises(ValueError, match="`logger` must be one of auto, tensorboard, csv. Received: logger='csb'"):
        small_detector().fit(scenes, epochs=1, training=quick_training(), verbose=False, logger="csb")


def test_fit_prints_the_model_summary_when_verbose(capsys):
    scenes = rectangle_scenes(8)
    small_detector().fit(scenes, epochs=1, training=quick_training(), verbose=True)
    err = capsys.readouterr().err
    assert "total parameters:" in err and "forward FLOPs:" in err and "epoch 1/1" in err


class _RecordWeights(Callback):
    def __init__(self):
        self.weights = []

    def on_epoch_end(self, epoch, logs):
        self.weights.append({k: v.detach().clone() for k, v in self.trainer.network.state_dict().items()})


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    scenes = rectangle_scenes(8)
    stopper = EarlyStopping(monitor="loss", mode="max", patience=2)  # the loss falls: it never "improves" after epoch 1
    detector = small_detector().fit(scenes, epochs=10, training=quick_training(), verbose=False, callbacks=[stopper])
    assert len(detector.history_) == 3 and stopper.stopped_epoch == 2 and stopper.best_epoch == 0


def test_early_stopping_restores_the_best_weights():
    scenes = rectangle_scenes(8)
    recorder = _RecordWeights()
    stopper = EarlyStopping(monitor="loss", mode="max", patience=1, restore_best_weights=True)
    detector = small_detector().fit(scenes, epochs=10, training=quick_training(), verbose=False,
                                    callbacks=[recorder, stopper])
    assert len(recorder.weights) == 2
    final = detector.network_.state_dict()
    assert all(torch.equal(final[name], value) for name, value in recorder.weights[0].items())
    assert not all(torch.equal(final[name], value) for name, value in recorder.weights[1].items())


def test_early_stopping_on_a_missing_metric_warns_once_naming_what_the_logs_hold():
    scenes = rectangle_scenes(8)
    stopper = EarlyStopping(monitor="val_map_50", patience=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        small_detector().fit(scenes, epochs=2, training=quick_training(), verbose=False, callbacks=[stopper])
    messages = [str(w.message) for w in caught if "EarlyStopping" in str(w.message)]
    assert len(messages) == 1 and "'val_map_50'" in messages[0] and "loss" in messages[0]
    with pytest.raises(ValueError, match=r"`min_delta` must be a number >= 0. Received: min_delta=-0.1"):
        EarlyStopping(min_delta=-0.1)
