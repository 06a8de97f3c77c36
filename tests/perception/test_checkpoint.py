import json
import os

import pytest
import torch

from perception.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, sidecar_path

from detector_helpers import quick_training, rectangle_scenes, small_detector


def test_an_interrupted_write_leaves_the_old_checkpoint_loadable(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, {"w": torch.ones(3)}, {"note": "old"})

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-save")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"w": torch.zeros(3)}, {"note": "new"})
    monkeypatch.undo()
    weights, metadata = load_checkpoint(path)
    assert weights["w"].tolist() == [1.0, 1.0, 1.0] and metadata["note"] == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.safetensors"]


def test_a_truncated_file_gives_one_line_naming_it(tmp_path):
    path = tmp_path / "broken.safetensors"
    save_checkpoint(path, {"w": torch.ones(100)}, {})
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(CheckpointError, match=r"broken\.safetensors: not a readable safetensors checkpoint") as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)


def test_a_foreign_safetensors_file_is_refused(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.ones(1)}, str(path))
    with pytest.raises(CheckpointError, match="other.safetensors: .*no 'nesy' metadata"):
        load_checkpoint(path)


def test_save_and_load_give_the_same_predictions_and_a_readable_sidecar(tmp_path):
    scenes = rectangle_scenes(8)
    detector = small_detector().fit(scenes, epochs=2, training=quick_training(), verbose=False)
    path = detector.save(tmp_path / "m.safetensors", metrics={"map_50": 0.5})
    loaded = type(detector).load(path)
    images = torch.stack([image for image, _ in scenes[:2]])
    before = detector.predict(images, score_threshold=0.0, precision="float32")
    after = loaded.predict(images, score_threshold=0.0, precision="float32")
    assert torch.allclose(before[0].scores, after[0].scores) and torch.allclose(before[1].boxes, after[1].boxes)
    sidecar = json.loads(sidecar_path(path).read_text())
    assert sidecar["class_names"] == ["red", "blue"] and sidecar["metrics"]["map_50"] == 0.5
    assert loaded.metrics_["map_50"] == 0.5


def test_a_class_map_mismatch_is_refused_naming_both_maps(tmp_path, tiny_detector):
    path = tiny_detector.save(tmp_path / "m.safetensors")
    with pytest.raises(CheckpointError, match=r"class map \['red', 'blue'\] does not match .*\['car', 'truck'\]"):
        type(tiny_detector).load(path, class_names=("car", "truck"))


def test_resume_reaches_the_same_weights_as_an_uninterrupted_run(tmp_path):
    from perception.callbacks import BackupAndRestore, Callback

    scenes = rectangle_scenes(16)
    training = quick_training(augment=True, epochs=3)
    straight = small_detector().fit(scenes, training=training, verbose=False)

    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, epoch, logs):
            self.trainer.stop_training = True

    backup = tmp_path / "last.safetensors"
    small_detector().fit(scenes, training=training, verbose=False,  # "killed" after epoch 1 of 3
                         callbacks=[BackupAndRestore(backup), StopAfterFirstEpoch()])
    # a later run with 3 epochs picks up the state written after epoch 1
    interrupted = small_detector()
    interrupted.fit(scenes, training=training, verbose=False, callbacks=[BackupAndRestore(backup)])
    for name, value in straight.network_.state_dict().items():
        assert torch.equal(value, interrupted.network_.state_dict()[name]), name
    assert len(interrupted.history_) == 3
