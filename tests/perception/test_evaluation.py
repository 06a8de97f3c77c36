import json

import pytest
import torch

from bridge import cli
from perception.detections import Detections
from perception.evaluation import attribute_accuracy, confusion_summary, evaluate_detections

from detector_helpers import quick_training, rectangle_scenes, small_detector

NAMES = ("car", "traffic_light")


def _truth():
    return {"boxes": torch.tensor([[0., 0., 10., 10.], [20., 20., 30., 40.]]), "labels": torch.tensor([0, 1]),
            "light_state": torch.tensor([-1, 2])}


def _detections(boxes, labels, scores, states):
    return Detections(torch.tensor(boxes), torch.tensor(labels), torch.tensor(scores), NAMES,
                      attributes={"light_state": torch.tensor(states)},
                      attribute_values={"light_state": ("red", "yellow", "green")})


def test_perfect_detections_score_one_and_a_miss_lowers_map():
    perfect = _detections([[0., 0., 10., 10.], [20., 20., 30., 40.]], [0, 1], [0.9, 0.8],
                          [[1., 0., 0.], [0., 0., 1.]])
    metrics = evaluate_detections([perfect], [_truth()], class_names=NAMES, image_sizes=[(64, 64)],
                                  attribute_names=("light_state",))
    assert metrics["map_50"] == 1.0 and metrics["map_50_95"] == 1.0
    assert metrics["light_state_accuracy"] == 1.0
    assert metrics["per_class"]["traffic_light"]["ap_50"] == 1.0
    json.dumps(metrics)  # JSON-ready
    shifted = _detections([[0., 0., 10., 10.], [24., 26., 34., 46.]], [0, 1], [0.9, 0.8],
                          [[1., 0., 0.], [0., 0., 1.]])
    worse = evaluate_detections([shifted], [_truth()], class_names=NAMES, image_sizes=[(64, 64)])
    assert worse["map_50"] == pytest.approx(0.5, abs=0.01)


def test_light_state_is_scored_on_matched_lights_only():
    wrong_state = _detections([[20., 20., 30., 40.], [50., 50., 60., 60.]], [1, 1], [0.9, 0.8],
                              [[1., 0., 0.], [0., 0., 1.]])
    result = attribute_accuracy([wrong_state], [_truth()], "light_state")
    assert result == {"accuracy": 0.0, "num_matched": 1, "num_objects": 1}


def test_confusion_summary_names_misses_and_false_positives():
    called_a_light = _detections([[0., 0., 10., 10.], [50., 50., 60., 60.]], [1, 0], [0.9, 0.9],
                                 [[1., 0., 0.], [1., 0., 0.]])
    summary = confusion_summary([called_a_light], [_truth()], NAMES)
    assert summary["called"]["car"] == {"traffic_light": 1}
    assert summary["called"]["traffic_light"] == {"missed": 1}
    assert summary["false_positives"] == {"car": 1, "traffic_light": 1}


@pytest.fixture(scope="module")
def world_checkpoint(tmp_path_factory):
    """A barely trained detector with the world's class map, and a small COCO folder of scenes."""
    from perception.coco import write_coco
    from perception.model import Detector
    from perception.world import CLASS_NAMES, WorldConfig, generate_scene

    folder = tmp_path_factory.mktemp("coco")
    config = WorldConfig(image_size=64, metres_per_pixel=0.8)
    write_coco([generate_scene(config, seed) for seed in range(4)], folder, class_names=CLASS_NAMES)
    detector = Detector(width=8, head_width=16, class_names=CLASS_NAMES)
    detector.network_ = detector.build_network().eval()
    weights = detector.save(folder / "model.safetensors")
    return folder, weights


def test_evaluate_command_writes_table_json_and_grid(world_checkpoint, tmp_path, capsys):
    folder, weights = world_checkpoint
    code = cli.main(["evaluate", "--weights", str(weights), "--data", str(folder), "--out", str(tmp_path)])
    assert code == 0
    assert "all (mAP)" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics) >= {"map_50", "map_50_95", "per_class", "light_state_accuracy", "confusion"}
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"


def test_a_coco_file_with_missing_keys_is_one_line_naming_the_file(world_checkpoint, tmp_path, capsys):
    _, weights = world_checkpoint
    bad = tmp_path / "annotations.json"
    bad.write_text(json.dumps({"images": [], "categories": []}))
    assert cli.main(["evaluate", "--weights", str(weights), "--data", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and "missing key 'annotations'" in err
    config = tmp_path / "c.yaml"
    config.write_text("training:\n  epochs: 1\n")
    assert cli.main(["train", str(config), "--data", str(bad), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err


@pytest.mark.parametrize("damage", ["corrupt", "wrong_size"])
def test_a_broken_image_is_one_line_naming_the_file(world_checkpoint, tmp_path, capsys, damage):
    import shutil

    from PIL import Image

    folder, weights = world_checkpoint
    copy = tmp_path / "data"
    shutil.copytree(folder, copy)
    image = sorted((copy / "images").iterdir())[1]
    if damage == "corrupt":
        image.write_bytes(b"not a png at all")
    else:
        Image.new("RGB", (32, 48)).save(image)
    assert cli.main(["evaluate", "--weights", str(weights), "--data", str(copy)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and image.name in err


def test_evaluate_method_on_rectangles_writes_a_grid(tmp_path):
    scenes = rectangle_scenes(8)
    detector = small_detector().fit(scenes, epochs=1, training=quick_training(), verbose=False)
    metrics = detector.evaluate(scenes, grid_path=tmp_path / "grid.png")
    assert 0.0 <= metrics["map_50"] <= 1.0 and metrics["num_images"] == 8
    assert (tmp_path / "grid.png").exists() and detector.metrics_ is metrics
