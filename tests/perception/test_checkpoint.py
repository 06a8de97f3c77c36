import json
import os
import re

import pytest
import torch

from perception.callbacks import BackupAndRestore, Callback, CSVLogger
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
    scenes = rectangle_scenes(16)
    training = quick_training(augment=True, epochs=3)
    straight = small_detector().fit(scenes, training=training, verbose=False)

    backup = tmp_path / "last.safetensors"
    small_detector().fit(scenes, training=training, verbose=False,  # "killed" after epoch 1 of 3
                         callbacks=[BackupAndRestore(backup), StopAfterFirstEpoch()])
    # a later run with 3 epochs picks up the state written after epoch 1
    interrupted = small_detector()
    interrupted.fit(scenes, training=training, verbose=False, callbacks=[BackupAndRestore(backup)])
    for name, value in straight.network_.state_dict().items():
        assert torch.equal(value, interrupted.network_.state_dict()[name]), name
    assert len(interrupted.history_) == 3


# --- tampered checkpoints: refused with one line naming the file and what was expected ----------------
def rewrite_metadata(path, edit):
    """Edit a checkpoint's header metadata in place, as a hand edit would (tensors untouched)."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as file:
        metadata = json.loads(file.metadata()["nesy"])
    tensors = load_file(str(path))
    edit(metadata)
    save_file(tensors, str(path), metadata={"nesy": json.dumps(metadata)})


def refusal(load, path) -> str:
    with pytest.raises(CheckpointError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_the_shipped_single_frame_checkpoint_still_loads():
    from perception.model import DEFAULT_WEIGHTS, Detector

    weights, metadata = load_checkpoint(DEFAULT_WEIGHTS)
    assert metadata["format_version"] == 1 and weights
    assert Detector.load(DEFAULT_WEIGHTS, class_names=metadata["class_names"]).config.num_frames == 1


def test_swapped_class_names_are_refused(tmp_path, tiny_detector):
    detector_class = type(tiny_detector)
    path = tiny_detector.save(tmp_path / "m.safetensors")

    def swap_everywhere(metadata):
        metadata["class_names"] = metadata["config"]["class_names"] = ["blue", "red"]

    rewrite_metadata(path, swap_everywhere)
    assert "do not match the content_sha256" in refusal(detector_class.load, path)

    # the same file re-saved with a valid hash but only one of its two class lists edited
    weights, metadata = load_checkpoint(tiny_detector.save(tmp_path / "forged.safetensors"))
    metadata["class_names"] = ["blue", "red"]
    forged = save_checkpoint(tmp_path / "forged.safetensors", weights, metadata)
    assert re.search(r"lists class_names \['blue', 'red'\] but its model config has \['red', 'blue'\]",
                     refusal(detector_class.load, forged))


def test_a_nan_tensor_is_refused_naming_it(tmp_path, tiny_detector):
    weights = dict(tiny_detector.network_.state_dict())
    name = next(k for k, v in weights.items() if v.is_floating_point())
    weights[name] = weights[name].contiguous().clone()
    weights[name].view(-1)[0] = float("nan")
    path = save_checkpoint(tmp_path / "nan.safetensors", weights, tiny_detector.metadata())
    assert f"tensor '{name}' holds NaN; expected finite numbers" in refusal(type(tiny_detector).load, path)


def test_an_int64_tensor_where_float_is_expected_is_refused(tmp_path, tiny_detector):
    weights = dict(tiny_detector.network_.state_dict())
    weights["head.weight"] = weights["head.weight"].round().long()
    path = save_checkpoint(tmp_path / "int.safetensors", weights, tiny_detector.metadata())
    assert "tensor 'head.weight' is int64; expected float32" in refusal(type(tiny_detector).load, path)


def test_a_tensor_of_another_shape_than_the_config_is_refused(tmp_path, tiny_detector):
    weights = dict(tiny_detector.network_.state_dict())
    weights["head.bias"] = torch.zeros(len(weights["head.bias"]) + 1)
    path = save_checkpoint(tmp_path / "shape.safetensors", weights, tiny_detector.metadata())
    assert re.search(r"tensor 'head.bias' has shape \(\d+,\); expected \(\d+,\)", refusal(type(tiny_detector).load, path))


def test_an_unknown_format_version_is_refused_naming_the_known_ones(tmp_path, tiny_detector):
    path = tiny_detector.save(tmp_path / "m.safetensors")
    rewrite_metadata(path, lambda metadata: metadata.update(format_version=999))
    assert "unknown checkpoint format_version 999; this nesy reads format_version 1, 2" in \
        refusal(type(tiny_detector).load, path)


def test_a_flipped_byte_in_the_weights_is_refused(tmp_path, tiny_detector):
    path = tiny_detector.save(tmp_path / "m.safetensors")
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01   # a bit of the last tensor: still a readable file of finite numbers
    path.write_bytes(bytes(data))
    assert "changed or damaged after it was written" in refusal(type(tiny_detector).load, path)


# --- killed saves: orphans go, the previous checkpoint stays whole ------------------------------------
def dead_process_id() -> int:
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporaries_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    path = tmp_path / "m.safetensors"
    orphan = tmp_path / f".m.safetensors.{dead_process_id()}.0123abcd.tmp"
    orphan.write_bytes(b"half a checkpoint")
    in_progress = tmp_path / f".m.safetensors.{os.getpid()}.89abcdef.tmp"   # a live writer's
    in_progress.write_bytes(b"")
    save_checkpoint(path, {"w": torch.ones(1)}, {})
    assert not orphan.exists() and in_progress.exists()
    in_progress.unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]


# --- resuming: one unit, or a refusal naming the files ------------------------------------------------
class StopAfterFirstEpoch(Callback):
    """Ends the run after its first epoch, as a kill right after that epoch's save would."""

    def on_epoch_end(self, epoch, logs):
        self.trainer.stop_training = True


def write_format1_pair(path, *, weights_epoch: int, state_epoch: int) -> None:
    """The two files format 1 wrote for ``last.safetensors``: weights (their metrics name the epoch,
    1-based) and ``last.state.safetensors`` (optimizer, random state, 0-based epoch)."""
    from safetensors.torch import save_file

    detector = small_detector()
    network = detector.build_network()
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-2)
    for parameter in network.parameters():
        parameter.grad = torch.zeros_like(parameter)
    optimizer.step()
    metadata = {**detector.metadata({"epoch": weights_epoch}), "format_version": 1}
    save_file(dict(network.state_dict()), str(path), metadata={"nesy": json.dumps(metadata)})
    state = optimizer.state_dict()
    tensors = {f"state.{index}.{name}": value for index, values in state["state"].items()
               for name, value in values.items()}
    tensors["rng.torch"] = torch.get_rng_state()
    info = {"epoch": state_epoch, "global_step": 2 * (state_epoch + 1), "learning_rate": 1e-2, "history": [],
            "seed": 0, "format_version": 1,
            "optimizer": {"param_groups": state["param_groups"], "plain_state": {}}}
    save_file(tensors, str(path.with_name(path.name.replace(".safetensors", ".state.safetensors"))),
              metadata={"nesy": json.dumps(info)})


def test_resume_refuses_new_weights_beside_the_previous_epochs_optimizer_state(tmp_path):
    """A kill between the two writes of a format-1 save: weights of epoch 2, optimizer state of epoch 1."""
    backup = tmp_path / "last.safetensors"
    write_format1_pair(backup, weights_epoch=2, state_epoch=0)
    with pytest.raises(CheckpointError) as info:
        small_detector().fit(rectangle_scenes(8), training=quick_training(epochs=3), verbose=False,
                             callbacks=[BackupAndRestore(backup)])
    message = str(info.value)
    assert "\n" not in message and str(backup) in message and "last.state.safetensors" in message
    assert "weights are from epoch 2 but the training state from epoch 1" in message

    write_format1_pair(backup, weights_epoch=1, state_epoch=0)   # a pair saved together still resumes
    resumed = small_detector().fit(rectangle_scenes(8), training=quick_training(epochs=2), verbose=False,
                                   callbacks=[BackupAndRestore(backup)])
    assert [row["epoch"] for row in resumed.history_] == [2]
    assert not (tmp_path / "last.state.safetensors").exists()   # superseded by the state inside the new save


def test_resume_refuses_a_checkpoint_without_training_state(tmp_path, tiny_detector):
    backup = tiny_detector.save(tmp_path / "last.safetensors")
    with pytest.raises(CheckpointError, match=r"last\.safetensors: holds weights but no training state"):
        small_detector().fit(rectangle_scenes(8), training=quick_training(epochs=2), verbose=False,
                             callbacks=[BackupAndRestore(backup)])


def test_a_save_killed_at_any_of_its_writes_resumes_to_the_uninterrupted_weights(tmp_path, monkeypatch):
    scenes = rectangle_scenes(16)
    training = quick_training(augment=True, epochs=3)
    straight = small_detector().fit(scenes, training=training, verbose=False).network_.state_dict()
    real_replace = os.replace
    for kill_at in (1, 2, 3):   # the n-th file moved into place during the save after epoch 2
        backup = tmp_path / f"kill{kill_at}" / "last.safetensors"

        class KilledDuringTheSecondSave(BackupAndRestore):
            def on_epoch_end(self, epoch, logs):
                moved = []

                def replace(source, target):
                    moved.append(target)
                    if len(moved) == kill_at:
                        raise KeyboardInterrupt("killed")
                    real_replace(source, target)

                if epoch == 1:
                    monkeypatch.setattr(os, "replace", replace)
                try:
                    super().on_epoch_end(epoch, logs)
                finally:
                    monkeypatch.setattr(os, "replace", real_replace)

        try:
            small_detector().fit(scenes, training=training, verbose=False,
                                 callbacks=[KilledDuringTheSecondSave(backup)])
        except KeyboardInterrupt:
            pass
        orphan = backup.parent / f".last.safetensors.{dead_process_id()}.0123abcd.tmp"
        orphan.write_bytes(b"")
        resumed = small_detector().fit(scenes, training=training, verbose=False, callbacks=[BackupAndRestore(backup)])
        assert not orphan.exists()
        for name, value in straight.items():
            assert torch.equal(value, resumed.network_.state_dict()[name]), (kill_at, name)
        assert [row["epoch"] for row in resumed.history_] == [1, 2, 3]


def test_resume_keeps_the_column_order_of_history_csv(tmp_path):
    scenes = rectangle_scenes(8)
    training = quick_training(epochs=2)
    log, backup = tmp_path / "history.csv", tmp_path / "last.safetensors"
    small_detector().fit(scenes, training=training, verbose=False,
                         callbacks=[BackupAndRestore(backup), CSVLogger(log), StopAfterFirstEpoch()])
    header = log.read_text().splitlines()[0]
    assert header.split(",")[0] == "epoch" and header.split(",") != sorted(header.split(","))
    small_detector().fit(scenes, training=training, verbose=False, callbacks=[BackupAndRestore(backup), CSVLogger(log)])
    lines = log.read_text().splitlines()
    assert lines[0] == header and len(lines) == 3
