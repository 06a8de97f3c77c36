"""Post-processing: calibration files for another checkpoint, duplicates across classes, the steps in order."""
import pytest
import torch

from perception.detections import Detections
from bridge.calibration import ScoreCalibration
from bridge.postprocess import PostProcess, load_calibration, suppress_duplicates
from bridge.vocabulary import CLASS_NAMES


def test_a_calibration_for_another_checkpoint_is_not_used(tmp_path):
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"weights")
    path = ScoreCalibration({"car": [0.0] * 21}, weights_sha256="0" * 64).save(tmp_path / "cal.json")
    with pytest.warns(UserWarning, match="fitted for another checkpoint"):
        assert load_calibration(str(path), str(weights)) is None


def test_duplicates_across_classes_keep_the_most_confident():
    d = Detections(torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 1.0, 10.0, 10.0]]), torch.tensor([2, 5]),
                   torch.tensor([0.4, 0.7]), CLASS_NAMES)
    assert suppress_duplicates(d, 0.5).label_names() == ["stop_sign"]
    assert len(suppress_duplicates(d, 0.95)) == 2


def test_post_processing_keeps_the_per_object_fields_aligned():
    d = Detections(torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 1.0, 10.0, 10.0], [30.0, 30.0, 40.0, 40.0]]),
                   torch.tensor([2, 5, 0]), torch.tensor([0.4, 0.7, 0.9]), CLASS_NAMES,
                   velocities=torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], dtype=torch.float64),
                   object_ids=("a", "b", "c"), position_uncertainty=torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64))
    calibration = ScoreCalibration({name: [g for g in [i / 20 for i in range(21)]] for name in CLASS_NAMES})
    cleaned = PostProcess(calibration, duplicate_iou=0.5).clean(d)
    assert cleaned.object_ids == ("c", "b") and cleaned.velocities[:, 0].tolist() == [3.0, 2.0]
    assert cleaned.position_uncertainty.tolist() == [0.3, 0.2]
