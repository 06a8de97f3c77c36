"""The motion prior: closing-speed bounds from top speeds and one-way lanes, and how grounding reads them."""
import math
import random

import pytest

from perception.world import EgoState, Lane, RoadMap
from bridge.geometry import ObjectState, closing_speed
from bridge.grounding import UNKNOWN_MOTION_CONFIDENCE, ground_objects
from bridge.motion_prior import TOP_SPEEDS_MPS, MotionPrior
from bridge.experiment import PipelineConfig
from bridge.pipeline import Pipeline

# Lane 0 oncoming (x -3.5), lanes 1 (ego, x 0) and 2 (x 3.5) run the ego's way; borders -1.75 and 1.75.
ROAD = RoadMap(lanes=[Lane(0, -3.5, 3.5, -1, 13.9), Lane(1, 0.0, 3.5, 1, 13.9), Lane(2, 3.5, 3.5, 1, 13.9)],
               ego_lane=1)
EGO = EgoState(lane=1, speed=10.0, odometry=0.0, length=4.0, width=2.0)
PRIOR = MotionPrior()


def car(x, y, label="car", velocity=None, **kwargs):
    return ObjectState("o1", label, (x, y), (4.0, 2.0), velocity=velocity, **kwargs)


def test_a_vehicle_ahead_in_a_lane_running_the_ego_way_closes_no_faster_than_the_ego():
    assert PRIOR.closing_bound(car(0.0, 30.0), ROAD, EGO) == pytest.approx(10.0)
    # off the line of sight it may still move across: its top speed times the lateral share
    expected = 10.0 * 30.0 / math.hypot(3.5, 30.0) + 25.0 * 3.5 / math.hypot(3.5, 30.0)
    assert PRIOR.closing_bound(car(3.5, 30.0), ROAD, EGO) == pytest.approx(expected)


def test_oncoming_lanes_border_doubt_and_behind_leave_the_top_speed():
    oncoming = PRIOR.closing_bound(car(-3.5, 30.0), ROAD, EGO)
    assert oncoming == pytest.approx(10.0 * 30.0 / math.hypot(3.5, 30.0) + 25.0)
    # the centre may lie in either lane of the border at -1.75: no one-way bound
    on_border = car(-1.2, 30.0, position_uncertainty=1.0)
    assert PRIOR.closing_bound(on_border, ROAD, EGO) == pytest.approx(10.0 * 30.0 / math.hypot(1.2, 30.0) + 25.0)
    # a car behind the ego in its lane may close at its top speed
    assert PRIOR.closing_bound(car(0.0, -15.0), ROAD, EGO) == pytest.approx(-10.0 + 25.0)


def test_pedestrians_use_their_top_speed_and_unlisted_classes_are_unbounded():
    walker = ObjectState("p1", "pedestrian", (0.0, 12.0), (0.5, 0.5))
    assert PRIOR.closing_bound(walker, ROAD, EGO) == pytest.approx(10.0 + 3.0)
    assert MotionPrior(top_speeds={"car": 20.0}).closing_bound(walker, ROAD, EGO) == math.inf
    assert MotionPrior(one_way_lanes=False).closing_bound(car(0.0, 30.0), ROAD, EGO) == pytest.approx(35.0)


def test_no_motion_the_prior_allows_closes_faster_than_its_bound():
    rng = random.Random(0)
    for _ in range(2000):
        label = rng.choice(sorted(TOP_SPEEDS_MPS))
        x, y, r = rng.uniform(-6, 6), rng.uniform(-20, 45), rng.choice([0.0, 0.5, 1.0])
        seen = car(x, y, label, position_uncertainty=r)
        top = TOP_SPEEDS_MPS[label]
        speed, heading = rng.uniform(0, top), rng.uniform(-math.pi, math.pi)
        vx, vy = speed * math.cos(heading), speed * math.sin(heading)
        direction = PRIOR.lane_direction(seen, ROAD)
        if direction is not None and vy * direction < 0:
            vy = 0.0    # what the lane forbids: moving against it
        ego = EgoState(lane=1, speed=rng.uniform(0, 14), odometry=0.0, length=4.0, width=2.0)
        moving = car(x, y, label, velocity=(vx, vy))
        assert closing_speed(moving, ego) <= PRIOR.closing_bound(seen, ROAD, ego) + 1e-9, (label, x, y, vx, vy)


def test_an_unknown_motion_time_to_collision_is_read_at_the_prior_bound():
    facts = ground_objects([car(0.0, 29.0)], ROAD, EGO, motion_prior=PRIOR)[0]
    assert facts.confidence("ttc", "o1") == 1.0
    assert facts.value("ttc", "o1") == pytest.approx((29.0 - 2.0 - 2.0) / 10.0)   # clearance / ego speed
    # speed and approaching stay uncertain: the car may stand or drive off
    assert facts.confidence("approaching", "o1") == facts.confidence("speed", "o1") == UNKNOWN_MOTION_CONFIDENCE
    # without the prior, every motion is possible: ttc is uncertain
    assert ground_objects([car(0.0, 29.0)], ROAD, EGO)[0].confidence("ttc", "o1") == UNKNOWN_MOTION_CONFIDENCE
    # a stopped ego: nothing in its lane ahead can close in, so nothing there approaches
    stopped = EgoState(lane=1, speed=0.0, odometry=0.0, length=4.0, width=2.0)
    assert ground_objects([car(0.0, 29.0)], ROAD, stopped, motion_prior=PRIOR)[0].confidence("approaching", "o1") == 0.0


def test_an_estimated_velocity_is_read_no_faster_than_the_prior_allows():
    rough = car(0.0, 29.0, velocity=(0.0, 8.0), speed_uncertainty=20.0)   # a two-frame fit: closing 2 +- 20 m/s
    assert ground_objects([rough], ROAD, EGO)[0].value("ttc", "o1") == pytest.approx(25.0 / 22.0)
    assert ground_objects([rough], ROAD, EGO, motion_prior=PRIOR)[0].value("ttc", "o1") == pytest.approx(25.0 / 10.0)
    exact = car(0.0, 29.0, velocity=(0.0, 8.0))   # true motion is never bounded
    assert ground_objects([exact], ROAD, EGO, motion_prior=PRIOR)[0].value("ttc", "o1") == pytest.approx(25.0 / 2.0)


def test_a_first_frame_decision_with_the_prior_is_safe_for_every_motion_it_allows(traffic_reasoner):
    reasoner = traffic_reasoner
    actions = {}
    for y in (14.0, 22.0, 29.0, 40.0):
        action = reasoner.decide(ground_objects([car(0.0, y)], ROAD, EGO, motion_prior=PRIOR)[0], explain=False).action
        for velocity in [(0.0, 0.0), (0.0, 5.0), (0.0, 14.0), (3.0, 0.0), (-25.0, 0.0)]:
            truth = ground_objects([car(0.0, y, velocity=velocity)], ROAD, EGO)[0]
            assert reasoner.violations(truth, action) == [], (y, velocity, action)
        actions[y] = action
    # safe without always stopping: far enough ahead the prior lets the ego go, where unknown motion alone stops it
    assert actions[29.0] != "stop" and actions[40.0] != "stop", actions
    assert reasoner.decide(ground_objects([car(0.0, 40.0)], ROAD, EGO)[0], explain=False).action == "stop"


def test_the_pipeline_builds_the_prior_from_its_config_and_not_in_oracle_mode():
    default = Pipeline(config=PipelineConfig())
    assert default.grounder.motion_prior == MotionPrior()
    custom = Pipeline(config=PipelineConfig(top_speeds_mps={"pedestrian": 2.0}, one_way_lanes=False))
    assert custom.grounder.motion_prior == MotionPrior({"pedestrian": 2.0}, one_way_lanes=False)
    assert Pipeline(config=PipelineConfig(motion_prior=False)).grounder.motion_prior is None
    assert Pipeline(config=PipelineConfig(), oracle=True).grounder.motion_prior is None
