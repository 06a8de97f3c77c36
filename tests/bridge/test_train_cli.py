"""``nesy train`` (and ``nesy evaluate``) options: --device, --early-stopping, --logger, the model summary."""
import csv

import pytest
import torch

from bridge import cli
from bridge.commands import train as train_command
from perception import callbacks as callbacks_module

TINY = ("world:\n  image_size: 64\n  metres_per_pixel: 0.8\n"
        "model:\n  width: 8\n  head_width: 16\n  input_size: 64\n"
        "training:\n  epochs: 2\n  batch_size: 8\n  num_train_scenes: 16\n  num_val_scenes: {num_val}\n")


@pytest.fixture
def tiny_config(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.format(num_val=4))
    return path


def _exit_code_and_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    return exit_info.value.code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("option, value, message", [
    ("--device", "tpu", "argument --device: expected one of auto, cpu, cuda, got 'tpu'"),
    ("--early-stopping", "0", "argument --early-stopping: expected an integer >= 1, got '0'"),
    ("--early-stopping", "three", "argument --early-stopping: expected an integer >= 1, got 'three'"),
    ("--logger", "wandb", "argument --logger: invalid choice: 'wandb'"),
])
def test_bad_option_values_exit_2_with_one_line(tiny_config, capsys, option, value, message):
    code, err = _exit_code_and_error(["train", str(tiny_config), option, value], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and message in err


def test_cuda_on_a_machine_without_it_exits_2(tiny_config, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    for command in (["train", str(tiny_config)], ["evaluate", "--generate", "2"]):
        code, err = _exit_code_and_error([*command, "--device", "cuda"], capsys)
        assert code == 2 and "argument --device: 'cuda' was asked for but this machine has no CUDA device" in err


def test_early_stopping_without_validation_data_exits_2(tmp_path, capsys):
    config = tmp_path / "noval.yaml"
    config.write_text(TINY.format(num_val=0))
    assert cli.main(["train", str(config), "--out", str(tmp_path / "run"), "--early-stopping", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("nesy train: error: --early-stopping watches the validation mAP@0.5, but this run has no "
                   "validation data (training.num_val_scenes is 0 and no --val-data)")
    assert not (tmp_path / "run").exists()


def test_tensorboard_logger_without_the_package_is_one_line(tiny_config, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(callbacks_module, "tensorboard_available", lambda: False)
    assert cli.main(["train", str(tiny_config), "--out", str(tmp_path / "run"), "--logger", "tensorboard"]) == 1
    assert "--logger tensorboard needs the tensorboard package: pip install 'nesy[tensorboard]'" in \
        capsys.readouterr().err


class FakeWriter:
    """Records what a SummaryWriter would write."""

    def __init__(self, log_dir):
        self.log_dir, self.scalars, self.closed = log_dir, [], False

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def add_text(self, tag, text, step):
        pass

    def flush(self):
        pass

    def close(self):
        self.closed = True


class _Spy(callbacks_module.EarlyStopping):
    made = []

    def __init__(self, **settings):
        super().__init__(**settings)
        self.settings = settings
        _Spy.made.append(self)

    def on_train_begin(self, logs):
        super().on_train_begin(logs)
        self.device = self.trainer.device


def test_train_wires_device_early_stopping_tensorboard_and_prints_the_summary(tiny_config, tmp_path, monkeypatch,
                                                                               capsys):
    writers = []
    monkeypatch.setattr(callbacks_module, "tensorboard_available", lambda: True)
    monkeypatch.setattr(callbacks_module, "_summary_writer", lambda log_dir: writers.append(FakeWriter(log_dir))
                        or writers[-1])
    monkeypatch.setattr(callbacks_module, "EarlyStopping", _Spy)
    out = tmp_path / "run"
    assert cli.main(["train", str(tiny_config), "--out", str(out), "--device", "cpu", "--early-stopping", "3"]) == 0
    (stopper,) = _Spy.made
    assert stopper.settings == dict(monitor="val_map_50", mode="max", patience=3, restore_best_weights=True)
    assert stopper.device == torch.device("cpu")
    (writer,) = writers
    assert writer.log_dir == out / "tensorboard" and writer.closed
    assert [step for tag, _, step in writer.scalars if tag == "val/map_50"] == [1, 2]
    assert len(list(csv.DictReader((out / "history.csv").open()))) == 2   # CSV as well
    err = capsys.readouterr().err
    assert "total parameters:" in err and "input size: 3 x 64 x 64" in err and "forward FLOPs:" in err


def test_quiet_training_prints_no_summary_and_csv_logger_writes_no_tensorboard(tiny_config, tmp_path, monkeypatch,
                                                                               capsys):
    monkeypatch.setattr(callbacks_module, "tensorboard_available", lambda: True)
    out = tmp_path / "run"
    assert cli.main(["train", str(tiny_config), "--out", str(out), "--quiet", "--logger", "csv", "--epochs", "1"]) == 0
    assert "total parameters" not in capsys.readouterr().err
    assert (out / "history.csv").exists() and not (out / "tensorboard").exists()


def test_logger_names_match_the_library():
    assert train_command.LOGGERS == callbacks_module.LOGGERS


QUICK = __import__("pathlib").Path(__file__).resolve().parents[2] / "configs" / "quick.yaml"


def test_quick_config_is_a_small_run_of_the_size_it_trains_at():
    from bridge.experiment import load_config

    config = load_config(QUICK)
    assert config.model.input_size == config.world.image_size == 128
    steps = config.training.epochs * (config.training.num_train_scenes // config.training.batch_size)
    assert steps <= 300 and config.training.num_val_scenes > 0      # measured: under two CPU-minutes


@pytest.mark.slow
def test_quick_config_learns_a_visible_map(tmp_path):
    """About 100 s of CPU time (one thread); validation mAP@0.5 0.5-0.7 with seed 0."""
    import json

    assert cli.main(["train", str(QUICK), "--out", str(tmp_path / "quick"), "--quiet", "--logger", "csv"]) == 0
    metrics = json.loads((tmp_path / "quick" / "metrics.json").read_text())["validation"]
    assert metrics["map_50"] >= 0.5
