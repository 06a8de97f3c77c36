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


class TwoFrameCar:
    """A two-frame detector stand-in: records what it is given, reports a car moving 3 m/s forward (scale 0.5)."""

    num_frames = 2

    def __init__(self):
        self.given = []

    def predict(self, images, *, score_threshold, batch_size, precision="auto"):
        self.given.append([tuple(item.shape) for item in images])
        found = []
        for item in images:
            stacked = item.dim() == 4
            velocity = [[0.0, 3.0]] if stacked else [[float("nan")] * 2]
            found.append(Detections(torch.tensor([[120.0, 60.0, 128.0, 80.0]]), torch.tensor([0]), torch.tensor([0.9]),
                                    ("car",), velocities=torch.tensor(velocity, dtype=torch.float64),
                                    velocity_uncertainty=torch.tensor([[0.5, 0.5]], dtype=torch.float64)))
        return found


def test_a_multi_frame_detector_gets_each_frame_with_its_history_from_the_same_episode():
    from perception.world import generate_episode

    world = preset_config("easy", image_size=128, metres_per_pixel=0.4)
    first, second = generate_episode(world, seed=1, num_frames=3), generate_episode(world, seed=2, num_frames=2)
    detector = TwoFrameCar()
    stage = DetectorPerception(detector, velocity_uncertainty_scale=4.0)
    stage.detect(first[:2])                      # one call: the second frame already has its predecessor
    [late] = stage.detect(first[2:])             # the next call continues the episode
    stage.detect(second[:1])                     # a new episode starts without history
    image = (3, 128, 128)
    assert detector.given == [[image, (2, *image)], [(2, *image)], [image]]
    assert late.velocities.tolist() == [[0.0, 3.0]] and late.velocity_uncertainty.tolist() == [[2.0, 2.0]]
    assert bool(torch.equal(stage.history_[-1][1], torch.from_numpy(second[0].image).permute(2, 0, 1).float() / 255))


def test_a_detected_velocity_reaches_the_object_and_a_new_track_keeps_it():
    from perception.world import EgoState, generate_episode

    from bridge.grounding import detections_to_objects
    from bridge.tracker import Tracker

    frames = generate_episode(preset_config("easy"), seed=1, num_frames=2)
    stage = DetectorPerception(TwoFrameCar(), velocity_uncertainty_scale=4.0)
    first, second = stage.detect(frames)
    [unknown] = detections_to_objects(first, frames[0].calibration)
    [seen] = detections_to_objects(second, frames[1].calibration)
    assert unknown.velocity is None and unknown.speed_uncertainty == 0.0
    x, y = seen.position
    assert seen.velocity == (0.0, 3.0)
    assert seen.speed_uncertainty == pytest.approx((abs(x) * 2.0 + abs(y) * 2.0) / (x * x + y * y) ** 0.5)
    [tracked] = Tracker().update([seen], EgoState(lane=0, speed=5.0), time_s=0.0)   # a new track: no fit yet
    assert tracked.velocity == (0.0, 3.0) and tracked.speed_uncertainty == seen.speed_uncertainty
