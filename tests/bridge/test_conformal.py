"""Split-conformal position uncertainty: nominal coverage, per-class radii, and a radius reaching the decision."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from perception.detections import Detections
from perception.world import Calibration, EgoState, Lane, RoadMap, WorldConfig
from bridge.conformal import (ConformalCalibration, conformal_radius, coverage_by_class, fit_class_radii,
                              fit_class_scales, scaled_coverage)
from bridge.errors import ConfigError
from bridge.experiment import PipelineConfig
from bridge.geometry import ObjectState
from bridge.pipeline import Pipeline
from bridge.tracker import Tracker
from bridge.evaluation.residuals import box_errors_by_class
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


# ------------------------------------------------------------------ closing-speed scales

@pytest.mark.parametrize("draw_scale", [lambda rng, n: rng.uniform(0.2, 2.0, n), lambda rng, n: rng.gamma(2.0, 0.4, n)])
def test_the_speed_scale_covers_fresh_errors_at_its_nominal_rate(draw_scale):
    """Errors whose spread follows the reported uncertainty, but 1.7 times wider than it says."""
    rng = np.random.default_rng(5)

    def residuals(n):
        reported = draw_scale(rng, n)
        return list(zip(np.abs(rng.laplace(0.0, 1.7 * reported)), reported))

    scales = fit_class_scales({"car": residuals(2000)}, NOMINAL)
    covered, width, n = scaled_coverage({"car": residuals(200_000)}, scales)["car"]
    assert abs(covered - NOMINAL) < TOLERANCE, covered
    assert scales["car"] > 1.7 * math.log(1 / (1 - NOMINAL)) * 0.9   # the Laplace quantile, 1.7 x ln 200, roughly
    unscaled, _, _ = scaled_coverage({"car": residuals(20_000)}, {})["car"]
    assert unscaled < 0.5   # the reported uncertainty alone covers far less


def test_a_conformal_table_round_trips_and_refuses_malformed_files(tmp_path):
    table = ConformalCalibration(0.995, {"car": 1.23, "truck": 2.85}, {"car": 1.4}, "ab" * 32, {"frames": 10})
    path = table.save(tmp_path / "conformal.json")
    assert ConformalCalibration.load(path) == table
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "nesy-conformal/1", "coverage": 0.995, "position_radius_m": {"car": "wide"}, '
                   '"speed_uncertainty_scale": {}}')
    with pytest.raises(ConfigError, match=r"bad.json: position_radius_m.car: expected a finite number >= 0. "
                                          r"Received: 'wide'"):
        ConformalCalibration.load(bad)
    bad.write_text('{"scores": []}')
    with pytest.raises(ConfigError, match="bad.json: not a conformal calibration file"):
        ConformalCalibration.load(bad)
    with pytest.raises(ConfigError, match="missing.json: cannot read"):
        ConformalCalibration.load(tmp_path / "missing.json")


def test_a_class_speed_scale_widens_only_that_class_closing_uncertainty():
    ego = EgoState(lane=0, speed=0.0, odometry=0.0)

    def closing_uncertainty(scales):
        tracker = Tracker(class_speed_uncertainty_scale=scales)
        for step in range(3):
            objects = [ObjectState("d1", "car", (0.0, 20.0 - step), (4.5, 1.8)),
                       ObjectState("d2", "pedestrian", (3.0, 10.0), (0.5, 0.5))]
            out = tracker.update(objects, ego, time_s=0.1 * step)
        return {o.label: o.speed_uncertainty for o in out}

    plain, scaled = closing_uncertainty({}), closing_uncertainty({"car": 2.5})
    assert plain["car"] > 0 and scaled["car"] == pytest.approx(2.5 * plain["car"])
    assert scaled["pedestrian"] == pytest.approx(plain["pedestrian"])


def test_the_pipeline_takes_its_tolerances_from_the_conformal_file(tmp_path):
    ConformalCalibration(0.995, {"car": 1.5, "truck": 2.9}, {"pedestrian": 3.0}).save(tmp_path / "c.json")
    pipeline = Pipeline.from_config(PipelineConfig(conformal=str(tmp_path / "c.json"),
                                                   class_position_uncertainty_m={"truck": 2.0}))
    assert pipeline.perception.class_position_uncertainty_m == {"car": 1.5, "truck": 2.0}   # the config's own wins
    assert pipeline.tracker.class_speed_uncertainty_scale == {"pedestrian": 3.0}


@pytest.mark.slow
def test_calibrate_conformal_fits_reports_and_writes_a_table_and_a_plot(tmp_path, capsys):
    from bridge.cli import main

    out = tmp_path / "conformal.json"
    assert main(["calibrate", "--conformal", "--frames", "30", "--test-frames", "30", "--coverage", "0.8",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert any(line.split()[:2] == ["position", "car"] for line in printed.splitlines())
    assert any(line.split()[:2] == ["speed", "all"] for line in printed.splitlines())
    table = ConformalCalibration.load(out)
    assert table.coverage == 0.8 and "car" in table.position_radius_m and len(table.weights_sha256) == 64
    assert (tmp_path / "conformal.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"



def test_calibrate_refuses_a_coverage_outside_zero_one(capsys):
    from bridge.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["calibrate", "--conformal", "--coverage", "1.5"])
    assert exit_info.value.code == 2
    assert "expected a number in (0.0, 1.0), got '1.5'" in capsys.readouterr().err
