"""Maneuver plans under traffic.rules: wait for a clear lane, fail safely with the blocking rules named."""
from pathlib import Path

import pytest

from symbolic.planning.maneuver import (ManeuverPlanner, ManeuverState, ManeuverTarget, RoadLayout, TrackedObject,
                                        layout_from_road, road_for_layout, route_and_target, step_ego,
                                        target_from_route)
from symbolic.planning.roadnet import straight_road
from symbolic.planning.routing import RoutePlanner

from bridge.maneuver_facts import predict_facts, predicted_fact_list

RULES = Path(__file__).resolve().parents[3] / "configs" / "rules" / "traffic.rules"
ROAD = RoadLayout(num_lanes=3, lane_width=3.5, speed_limit=13.9)


@pytest.fixture(scope="module")
def reasoner(traffic_reasoner):
    return traffic_reasoner


@pytest.fixture()
def planner(reasoner):
    return ManeuverPlanner(reasoner, ROAD, predict_facts=predicted_fact_list, horizon=10, step_s=0.5)


def test_free_target_lane_changes_at_once(planner):
    plan = planner.plan(ManeuverState(lane=1, y=0.0, speed=10.0), [], ManeuverTarget(lane=0))
    assert plan.reached and plan.action == "change_left" and plan.actions == ["change_left"]
    assert plan.states[-1].lane == 0


def test_lane_change_waits_until_the_target_lane_is_clear(planner, reasoner):
    slow_car = TrackedObject("o1", "car", x=ROAD.lane_centre(0), y=8.0, vy=4.0)  # alongside on the left
    ego = ManeuverState(lane=1, y=0.0, speed=12.0)
    plan = planner.plan(ego, [slow_car], ManeuverTarget(lane=0))
    assert plan.reached
    change = plan.actions.index("change_left")
    assert change >= 1 and plan.action != "change_left"  # not now: the left lane is taken
    assert "change_left" not in reasoner.allowed_actions(predict_facts(ego, [slow_car], ROAD, 0.0))
    # at the step it changes, the rules allow it, and the car is more than 20 m behind
    before = plan.states[change]
    facts = predict_facts(before, [slow_car], ROAD, change * 0.5)
    assert "change_left" in reasoner.allowed_actions(facts)
    assert facts.value("gap", "o1") <= -20
    # every planned step was allowed when it was taken
    for step, (action, state) in enumerate(zip(plan.actions, plan.states)):
        assert action in reasoner.allowed_actions(predict_facts(state, [slow_car], ROAD, step * 0.5))


def test_two_lanes_to_cross(planner):
    plan = planner.plan(ManeuverState(lane=2, y=0.0, speed=10.0), [], ManeuverTarget(lane=0))
    assert plan.actions == ["change_left", "change_left"] and plan.states[-1].lane == 0


def test_impossible_plan_returns_the_safe_action_naming_the_blocking_rule(planner):
    parked_truck = TrackedObject("o1", "truck", x=ROAD.lane_centre(0), y=4.0, length=8.0)
    plan = planner.plan(ManeuverState(lane=1, y=0.0, speed=5.0), [parked_truck], ManeuverTarget(lane=0, before_y=15.0))
    assert not plan.reached and plan.action == "stop" and plan.actions == ["stop"]
    assert [r.rule for r in plan.blocking] == ["left_lane_clear"]
    assert plan.blocking[0].source.endswith("traffic.rules:49")
    assert "blocked by left_lane_clear" in plan.reason and "before y=15" in plan.reason


def test_red_light_keeps_the_ego_from_going(planner, reasoner):
    road = RoadLayout(num_lanes=3, stop_line_y=30.0)
    light = TrackedObject("o9", "traffic_light", x=11.5, y=31.0, light="red")
    planner = ManeuverPlanner(reasoner, road, predict_facts=predicted_fact_list)
    plan = planner.plan(ManeuverState(lane=0, y=0.0, speed=8.0), [light], ManeuverTarget(lane=0))
    assert plan.reached and plan.action == "stop"


def test_step_ego_respects_the_speed_limit_and_stops_at_zero():
    fast = step_ego(ManeuverState(lane=1, y=0.0, speed=13.5), "go", ROAD, 0.5)
    assert fast.speed == 13.9 and fast.y == pytest.approx((13.5 + 13.9) / 2 * 0.5)
    assert step_ego(ManeuverState(lane=1, y=0.0, speed=1.0), "yield", ROAD, 0.5).speed == 0.0


def test_route_gives_the_maneuver_target():
    road = straight_road(num_lanes=3)
    route = RoutePlanner().fit(road).plan("L2_0", "E_end")
    assert target_from_route(road, route).lane == 2
    layout = layout_from_road(road)
    assert (layout.num_lanes, layout.lane_width, layout.stop_line_y) == (3, 3.5, 93.0)


def test_bad_inputs_are_named(reasoner):
    with pytest.raises(ValueError, match=r"`horizon` must be an integer >= 1. Received horizon=0"):
        ManeuverPlanner(reasoner, ROAD, predict_facts=predicted_fact_list, horizon=0)
    with pytest.raises(ValueError, match=r"`target.lane` must be a lane index in \[0, 2\]. Received target.lane=3"):
        ManeuverPlanner(reasoner, ROAD, predict_facts=predicted_fact_list).plan(ManeuverState(lane=0), [],
                                                                                ManeuverTarget(lane=3))
    with pytest.raises(ValueError, match=r"`num_lanes` must be an integer >= 1"):
        RoadLayout(num_lanes=0)
    with pytest.raises(ValueError, match="unknown action 'fly'"):
        step_ego(ManeuverState(lane=0), "fly", ROAD, 0.5)


def test_scene_layout_and_map_agree_and_the_route_sets_the_target(planner):
    layout = RoadLayout(num_lanes=3, lane_width=3.3, speed_limit=11.1, stop_line_y=60.0)
    road = road_for_layout(layout)
    assert layout_from_road(road) == layout
    route = RoutePlanner().fit(road).plan("L2_5", "W_end")  # a left turn at the crossing, from the right lane
    target = target_from_route(road, route)
    assert target == ManeuverTarget(lane=0, before_y=60.0)
    plan = ManeuverPlanner(planner.reasoner, layout, predict_facts=predicted_fact_list).plan(
        ManeuverState(lane=2, y=0.0, speed=8.0), [], target)
    assert plan.reached and plan.actions == ["change_left", "change_left"]


def test_route_and_target_from_the_egos_position(planner):
    layout = RoadLayout(num_lanes=3, stop_line_y=40.0)
    road = road_for_layout(layout)
    routes = RoutePlanner(cost="time").fit(road)
    route, target = route_and_target(routes, lane=0, y=3.0, destination="E_end")  # a right turn ahead
    assert route.nodes[0] == "L0_6" and route.nodes[-1] == "E_end"
    assert target == ManeuverTarget(lane=2, before_y=40.0)
    plan = ManeuverPlanner(planner.reasoner, layout, predict_facts=predicted_fact_list).plan(
        ManeuverState(lane=0, y=3.0, speed=8.0), [], target)
    assert plan.actions == ["change_right", "change_right"]
    with pytest.raises(ValueError, match=r"map straight3 has no node of lane 1 at or ahead of y=500"):
        route_and_target(routes, lane=1, y=500.0, destination="E_end")


def test_a_decided_first_action_starts_the_plan_and_is_not_judged_again(planner):
    slow_car = TrackedObject("o1", "car", x=ROAD.lane_centre(0), y=8.0, vy=4.0)
    ego = ManeuverState(lane=1, y=0.0, speed=12.0)
    # judged on its own facts, the planner starts with go; decided as stop, the plan starts with stop
    assert planner.plan(ego, [slow_car], ManeuverTarget(lane=0)).action == "go"
    stopped = planner.plan(ego, [slow_car], ManeuverTarget(lane=0), first_action="stop")
    assert stopped.action == stopped.actions[0] == "stop"
    # already in the target lane: one step of the decided action; free lane: the change follows it
    assert planner.plan(ego, [], ManeuverTarget(lane=1), first_action="yield").actions == ["yield"]
    assert planner.plan(ego, [], ManeuverTarget(lane=0), first_action="go").actions == ["go", "change_left"]
    # a failed plan keeps the decided action (the rules allowed it now); the blocking rules are still named
    truck = TrackedObject("o1", "truck", x=ROAD.lane_centre(0), y=4.0, length=8.0)
    failed = planner.plan(ManeuverState(lane=1, y=0.0, speed=5.0), [truck], ManeuverTarget(lane=0, before_y=15.0),
                          first_action="slow")
    assert not failed.reached and failed.actions == ["slow"] and [r.rule for r in failed.blocking] == ["left_lane_clear"]
    with pytest.raises(ValueError, match="`first_action` must be one of .* Received first_action='fly'"):
        planner.plan(ego, [], ManeuverTarget(lane=0), first_action="fly")
