"""Perception stages: the detector's uncertainty stamped on its detections, the ground truth's fields."""
import pytest
import torch

from perception.detections import Detections
from perception.world import generate_scene, preset_config
from bridge.perception_stage import DetectorPerception, OraclePerception


class OneCar:
    """A detector finding one car per image, with or without its own position uncertainty."""

    def __init__(self, uncertainty=None):
        self.uncertainty = uncertainty
        self.asked = []

    def predict(self, images, *, score_threshold, batch_size, precision="auto"):
        self.asked.append((images.shape[0], score_threshold, batch_size, precision))
        own = None if self.uncertainty is None else torch.tensor([self.uncertainty], dtype=torch.float64)
        return [Detections(torch.tensor([[0.0, 0.0, 8.0, 8.0]]), torch.tensor([0]), torch.tensor([0.9]), ("car",),
                           position_uncertainty=own) for _ in range(images.shape[0])]


def test_the_detector_stage_stamps_its_uncertainty_unless_the_detector_reports_one():
    scenes = [generate_scene(preset_config("easy"), seed=s) for s in range(2)]
    detector = OneCar()
    found = DetectorPerception(detector, score_threshold=0.2, batch_size=8, position_uncertainty_m=0.75).detect(
        scenes, precision="float32")
    assert detector.asked == [(2, 0.2, 8, "float32")]
    assert [d.position_uncertainty.tolist() for d in found] == [[0.75], [0.75]]
    [own] = DetectorPerception(OneCar(0.3), position_uncertainty_m=0.75).detect(scenes[:1])
    assert own.position_uncertainty.tolist() == [0.3]
    assert DetectorPerception(OneCar()).detect([]) == []
    with pytest.raises(ValueError, match="Received: position_uncertainty_m=-1"):
        DetectorPerception(OneCar(), position_uncertainty_m=-1)


def test_the_oracle_carries_ids_velocities_and_no_position_uncertainty():
    scene = generate_scene(preset_config("default"), seed=5)
    [truth] = OraclePerception().detect([scene])
    assert list(truth.object_ids) == [o.id for o in scene.objects]
    assert truth.velocities.tolist() == [[float(v) for v in o.velocity] for o in scene.objects]
    assert truth.position_uncertainty.tolist() == [0.0] * len(scene.objects)
    assert bool((truth.scores == 1).all())
