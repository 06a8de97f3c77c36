"""Score calibration: monotone precision tables per class, applied before grounding."""
import json

import numpy as np
import pytest
import torch

from perception.detections import Detections
from perception.world import generate_scene, preset_config
from bridge.calibration import ScoreCalibration, fit_calibration, fit_table, isotonic, scene_match_flags
from bridge.ground_truth import scene_detections
from bridge.vocabulary import CLASS_NAMES


def test_isotonic_pools_violators_and_keeps_order():
    assert isotonic([0.2, 0.1, 0.3]).tolist() == pytest.approx([0.15, 0.15, 0.3])
    result = isotonic(np.random.default_rng(0).random(50))
    assert np.all(np.diff(result) >= -1e-12)


def test_precision_table_follows_the_data():
    rng = np.random.default_rng(1)
    scores = rng.random(4000)
    correct = rng.random(4000) < scores ** 2          # true precision is score squared
    table = fit_table(scores, correct)
    assert np.all(np.diff(table) >= 0)
    assert table[10] == pytest.approx(0.25, abs=0.08) and table[18] == pytest.approx(0.81, abs=0.08)


def test_matching_counts_only_same_label_overlaps():
    scene = generate_scene(preset_config("default"), seed=3)
    truth = scene_detections(scene)
    assert len(truth) > 0 and all(scene_match_flags(truth, scene))
    relabelled = Detections(truth.boxes, (truth.labels + 1) % len(CLASS_NAMES), truth.scores, CLASS_NAMES)
    assert not any(scene_match_flags(relabelled, scene))


def test_fit_and_apply_calibration(tmp_path):
    scenes = [generate_scene(preset_config("default"), seed=s) for s in range(6)]
    found = []
    for scene in scenes:
        truth = scene_detections(scene)
        fake = Detections(torch.tensor([[0.0, 0.0, 6.0, 6.0]]), torch.tensor([2]), torch.tensor([0.6]), CLASS_NAMES)
        boxes = torch.cat([truth.boxes, fake.boxes])
        found.append(Detections(boxes, torch.cat([truth.labels, fake.labels]),
                                torch.cat([torch.full((len(truth),), 0.6), fake.scores]), CLASS_NAMES))
    calibration = fit_calibration(found, scenes, class_names=CLASS_NAMES, weights_sha256="abc")
    pedestrians = sum(o.label == "pedestrian" for s in scenes for o in s.objects)
    # at score 0.6 a pedestrian detection is right pedestrians / (pedestrians + 6) of the time
    expected = pedestrians / (pedestrians + 6)
    assert calibration.probability("pedestrian", 0.6) == pytest.approx(expected, abs=0.1)
    assert calibration.probability("car", 0.6) > 0.9
    applied = calibration.apply(found[0])
    assert applied.scores[-1] == pytest.approx(calibration.probability("pedestrian", 0.6))
    assert torch.equal(applied.boxes, found[0].boxes)
    path = calibration.save(tmp_path / "cal.json")
    again = ScoreCalibration.load(path)
    assert again.weights_sha256 == "abc" and again.num_detections == calibration.num_detections


def test_bad_calibration_files_are_named(tmp_path):
    with pytest.raises(ValueError, match="missing.json: calibration file not found"):
        ScoreCalibration.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"probabilities": {"car": [0.5, 2.0]}, "grid": [0.0, 1.0]}))
    with pytest.raises(ValueError, match=r"bad.json: probabilities\['car'\] must be 2 numbers in \[0, 1\]"):
        ScoreCalibration.load(bad)
