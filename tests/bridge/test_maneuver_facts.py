"""Facts predicted for a maneuver's steps: objects at constant velocity, seen from the planned ego."""
import pytest

from symbolic.planning.maneuver import ManeuverState, RoadLayout, TrackedObject

from bridge.maneuver_facts import predict_facts

ROAD = RoadLayout(num_lanes=3, lane_width=3.5, speed_limit=13.9)


def test_predicted_facts_follow_constant_velocity():
    car = TrackedObject("o1", "car", x=ROAD.lane_centre(2), y=-10.0, vy=14.0)  # coming up on the right
    ego = ManeuverState(lane=1, y=0.0, speed=10.0)
    now, later = predict_facts(ego, [car], ROAD, 0.0), predict_facts(ego, [car], ROAD, 2.0)
    assert now.confidence("behind", "o1") == 1.0 and now.confidence("approaching", "o1") == 1.0
    assert later.confidence("ahead", "o1") == 1.0 and later.value("gap", "o1") == pytest.approx(18 - 4.5)
    assert now.confidence("in_right_lane", "o1") == 1.0 and now.confidence("in_adjacent_lane", "o1") == 1.0
    assert later.value("speed", "o1") == 14.0 and now.value("ego_speed") == 10.0
    assert {f.atom for f in now if not f.args and not f.is_function} == {"left_lane_exists()", "right_lane_exists()"}
