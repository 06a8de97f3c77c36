"""Split-conformal position uncertainty: nominal coverage, per-class radii, and a radius reaching the decision."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from perception.detections import Detections
from perception.world import Calibration, EgoState, Lane, RoadMap, WorldConfig
from bridge.conformal import (box_errors_by_class, conformal_radius, coverage_by_class, fit_class_radii)
from bridge.grounding import DrivingGrounder
from bridge.perception_stage import DetectorPerception

NOMINAL = 0.995
TOLERANCE = 0.005   # about 3 standard deviations of the coverage of one split with 2,000 calibration errors


@pytest.mark.parametrize("draw", [lambda rng, n: rng.exponential(0.3, n), lambda rng, n: rng.lognormal(-1, 0.6, n),
                                  lambda rng, n: np.abs(rng.standard_t(3, n)) * 0.2])
def test_the_conformal_radius_covers_fresh_errors_at_its_nominal_rate(draw):
    rng = np.random.default_rng(12)
    radius = conformal_radius(draw(rng, 2000), NOMINAL)
    fresh = draw(rng, 200_000)
    coverage = float(np.mean(fresh <= radius))
    assert abs(coverage - NOMINAL) < TOLERANCE, coverage


def test_the_radius_is_the_conformal_rank_and_refuses_what_it_cannot_promise():
    errors = list(range(1, 101))   # 1..100
    assert conformal_radius(errors, 0.9) == 91     # ceil(101 * 0.9) = 91st smallest
    assert conformal_radius(errors, 0.995) == math.inf
    with pytest.raises(ValueError, match="Received: coverage=1.0"):
        conformal_radius(errors, 1.0)
    radii = fit_class_radii({"car": [0.2] * 400 + [2.0], "truck": [1.0] * 10}, coverage=0.99)
    assert radii == {"car": 0.2}   # a truck's ten errors cannot promise 99%
    table = coverage_by_class({"car": [0.1, 0.3], "truck": [0.5, 0.9]}, radii, default=0.75)
    assert table == {"car": (0.5, 0.2, 2), "truck": (0.5, 0.75, 2)}


def test_true_boxes_have_no_box_error():
    from perception.world import generate_scene, preset_config
    from bridge.pipeline import Pipeline

    oracle = Pipeline.from_config("configs/drive.yaml", oracle=True)
    results = oracle([generate_scene(preset_config("default"), seed=s) for s in range(3)])
    errors = box_errors_by_class(results)
    assert errors and all(max(values) < 1e-6 for values in errors.values())


class CarAhead:
    """A detector seeing one car in the ego lane at ``box`` (pixels), moving at the ego's speed."""

    def __init__(self, box):
        self.box = box

    def predict(self, images, *, score_threshold, batch_size, precision="auto"):
        return [Detections(torch.tensor([self.box]), torch.tensor([0]), torch.tensor([0.95]), ("car",),
                           velocities=torch.tensor([[0.0, 10.0]], dtype=torch.float64))
                for _ in range(images.shape[0])]


def test_a_class_radius_reaches_the_facts_and_decides_at_the_headway_threshold(traffic_reasoner):
    calibration = Calibration.from_config(WorldConfig())
    road = RoadMap([Lane(0, 0.0, 3.5, 1, 30.0)], 0)
    ego = EgoState(lane=0, speed=10.0)
    frame = SimpleNamespace(image=np.zeros((256, 256, 3), np.uint8), road=road, calibration=calibration, ego=ego,
                            name="car-ahead")
    (u0, v0), (u1, v1) = calibration.ego_to_pixel(-0.9, 27.2), calibration.ego_to_pixel(0.9, 22.7)
    box = [float(min(u0, u1)), float(min(v0, v1)), float(max(u0, u1)), float(max(v0, v1))]
    grounder = DrivingGrounder(near_radius_m=5.0, motion_prior=None)

    def decide(radius):
        stage = DetectorPerception(CarAhead(box), position_uncertainty_m=0.75,
                                   class_position_uncertainty_m={"car": radius})
        [found] = stage.detect([frame])
        facts, _ = grounder.ground(grounder.locate(found, frame), frame)
        [gap] = [f for f in facts if f.predicate == "gap"]
        return gap, traffic_reasoner.decide(facts, explain=False).action

    gap, _ = decide(0.0)
    # the headway rule forbids go when gap < 2 * ego_speed = 20 m: put the gap just above it
    margin = gap.value - 20.0
    assert 0.2 < margin < 1.5, gap
    narrow, action_narrow = decide(margin / 2)
    wide, action_wide = decide(margin * 2)
    assert narrow.tolerance == pytest.approx(margin / 2) and wide.tolerance == pytest.approx(margin * 2)
    assert action_narrow == "go"            # every gap the narrow radius allows keeps the headway
    assert action_wide != "go"              # the wide radius allows a gap under it: robust mode does not go
