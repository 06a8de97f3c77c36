import csv

import pytest
import torch

from perception.callbacks import CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint
from perception.training import TrainingConfig, TrainingError, learning_rate_at

from detector_helpers import quick_training, rectangle_scenes, small_detector


def test_same_seed_gives_the_same_weights():
    scenes = rectangle_scenes(8)
    first = small_detector().fit(scenes, epochs=1, training=quick_training(augment=True), verbose=False)
    second = small_detector().fit(scenes, epochs=1, training=quick_training(augment=True), verbose=False)
    for name, value in first.network_.state_dict().items():
        assert torch.equal(value, second.network_.state_dict()[name]), name


def test_a_nan_loss_raises_naming_the_epoch_and_the_last_good_checkpoint(tmp_path):
    from perception.callbacks import BackupAndRestore

    scenes = rectangle_scenes(8)
    poisoned = [(image, target) for image, target in scenes]

    class PoisonSecondEpoch(torch.utils.data.Dataset):
        def __init__(self):
            self.epoch = 0

        def __len__(self):
            return len(poisoned)

        def __getitem__(self, index):
            image, target = poisoned[index]
            if self.epoch >= 1:
                image = image.clone()
                image[0, 0, 0] = float("nan")
            return image, target

    data = PoisonSecondEpoch()

    class Advance(BackupAndRestore):
        def on_epoch_end(self, epoch, logs):
            super().on_epoch_end(epoch, logs)
            data.epoch += 1

    backup = tmp_path / "last.safetensors"
    with pytest.raises(TrainingError, match=r"loss became nan at epoch 2, step 1 .*last good checkpoint is .*last"):
        small_detector().fit(data, epochs=3, training=quick_training(), verbose=False, callbacks=[Advance(backup)])
    assert backup.exists()


def test_callbacks_checkpoint_log_and_stop_early(tmp_path):
    scenes = rectangle_scenes(8)
    stopper = EarlyStopping(monitor="loss", mode="max", patience=0)  # the loss falls, so never "improves"
    seen_rates = []
    scheduler = LearningRateScheduler(lambda epoch, lr: seen_rates.append(lr) or lr * 0.5)
    detector = small_detector().fit(
        scenes, scenes[:4], epochs=5, training=quick_training(), verbose=False,
        callbacks=[ModelCheckpoint(tmp_path / "best.safetensors", monitor="val_map_50"),
                   CSVLogger(tmp_path / "log.csv"), stopper, scheduler])
    assert len(detector.history_) == 2 and stopper.stopped_epoch == 1
    assert seen_rates == [1e-2, 5e-3]
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and "val_map_50" in rows[0]
    assert (tmp_path / "best.safetensors").exists() and (tmp_path / "best.json").exists()


def test_learning_rate_warms_up_then_decays():
    rates = [learning_rate_at(s, total_steps=100, peak=1.0, warmup_steps=10, schedule="cosine") for s in range(100)]
    assert rates[0] < rates[9] == 1.0 and rates[50] < 1.0 and rates[-1] < 0.05
    assert learning_rate_at(50, total_steps=100, peak=1.0, warmup_steps=10, schedule="constant") == 1.0


@pytest.mark.parametrize("bad, message", [
    (dict(epochs=0), r"`epochs` must be in \[1, 100000\]. Received: epochs=0"),
    (dict(learning_rate=-1.0), r"`learning_rate` must be in .*Received: learning_rate=-1.0"),
    (dict(device="tpu"), r"`device` must be one of auto, cpu, cuda. Received: device='tpu'"),
])
def test_training_config_rejects_bad_values(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**bad)


def test_too_few_images_for_one_batch_is_explained():
    with pytest.raises(ValueError, match="fewer images than one batch"):
        small_detector().fit(rectangle_scenes(2), epochs=1, training=quick_training(batch_size=8), verbose=False)


@pytest.mark.slow
def test_train_command_writes_a_run_refuses_to_overwrite_it_and_resumes(tmp_path, capsys):
    from bridge import cli
    from perception.model import Detector

    config = tmp_path / "tiny.yaml"
    config.write_text("world:\n  image_size: 64\n  metres_per_pixel: 0.8\n"
                      "model:\n  width: 8\n  head_width: 16\n"
                      "training:\n  epochs: 1\n  batch_size: 8\n  num_train_scenes: 16\n  num_val_scenes: 4\n")
    out = tmp_path / "run"
    assert cli.main(["train", str(config), "--out", str(out), "--quiet"]) == 0
    written = {p.name for p in out.iterdir()}
    assert {"last.safetensors", "best.safetensors", "model.safetensors", "history.csv", "metrics.json"} <= written
    assert "last.state.safetensors" not in written  # the training state lives inside last.safetensors
    assert Detector.load(out / "model.safetensors").metrics_["num_images"] == 4
    capsys.readouterr()
    assert cli.main(["train", str(config), "--out", str(out), "--quiet"]) == 1
    assert "already holds a training run" in capsys.readouterr().err
    assert cli.main(["train", str(config), "--out", str(out), "--quiet", "--resume", "--epochs", "2"]) == 0
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 3  # header + epochs 1 and 2


def test_in_memory_dataset_keeps_images_of_any_shape_to_the_grey_level():
    from perception.training import InMemoryDataset

    generator = torch.Generator().manual_seed(0)
    shapes = [(3, 8, 8), (3, 4, 6), (3, 8, 8)] * 100  # more images than one storage block holds
    items = [(torch.rand(shape, generator=generator), {"image_id": i}) for i, shape in enumerate(shapes)]
    data = InMemoryDataset(items)
    assert len(data) == len(items)
    for index in (0, 1, 2, 257, 299):
        image, target = data[index]
        assert image.shape == items[index][0].shape and target["image_id"] == index
        assert (image - items[index][0]).abs().max() <= 0.5 / 255 + 1e-6
