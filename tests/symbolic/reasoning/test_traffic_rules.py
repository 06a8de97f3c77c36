"""Every rule of configs/rules/traffic.rules on a hand-built frame: the action and the why-not."""
from pathlib import Path

import pytest

from symbolic.reasoning.facts import Fact

TRAFFIC = Path(__file__).resolve().parents[3] / "configs" / "rules" / "traffic.rules"


@pytest.fixture(scope="module")
def reasoner(traffic_reasoner):
    return traffic_reasoner


def road(ego_speed=10.0, speed_limit=14.0, left=True, right=True, **extra):
    facts = [Fact("ego_speed", (), value=ego_speed), Fact("speed_limit", (), value=speed_limit),
             Fact("stopping_distance", (), value=20.0)]
    if left:
        facts.append(Fact("left_lane_exists"))
    if right:
        facts.append(Fact("right_lane_exists"))
    return facts


def obj(name, label, *preds, **values):
    facts = [Fact(label, (name,))] + [Fact(p, (name,)) for p in preds]
    facts += [Fact(f, (name,), value=float(v)) for f, v in values.items()]
    return facts


def light(name, colour, dist):
    return obj(name, "traffic_light", "applies_to_ego", "ahead", dist=dist) + [Fact("light", (name, colour))]


def why_rules(decision, action):
    return [r.name for r in decision.why_not[action].rules]


def test_an_empty_road_gives_go(reasoner):
    decision = reasoner.decide(road())
    assert decision.action == "go" and not decision.fallback and decision.tied == []
    assert "scores 7 against 10" in decision.why_not["slow"].text


def test_red_light_within_reach_stops(reasoner):
    decision = reasoner.decide(road() + light("o3", "red", 25))
    assert decision.action == "stop"
    assert why_rules(decision, "go") == ["red_light[o3]"]
    assert "light(o3, red)" in decision.why_not["go"].facts
    assert "dist(o3) = 25" in decision.why_not["go"].facts
    assert decision.why_not["go"].rules[0].source.endswith("traffic.rules:22")


def test_red_light_out_of_reach_is_ignored(reasoner):
    assert reasoner.decide(road() + light("o3", "red", 80)).action == "go"


def test_red_light_for_another_lane_is_ignored(reasoner):
    facts = road() + obj("o3", "traffic_light", "ahead", dist=25) + [Fact("light", ("o3", "red"))]
    assert reasoner.decide(facts).action == "go"


def test_yellow_light_that_can_be_stopped_for_stops(reasoner):
    decision = reasoner.decide(road() + light("o3", "yellow", 30))
    assert decision.action == "stop"
    assert why_rules(decision, "go") == ["yellow_light[o3]"]


def test_yellow_light_too_close_to_stop_goes(reasoner):
    decision = reasoner.decide(road() + light("o3", "yellow", 10))
    assert decision.action == "go"
    assert why_rules(decision, "stop") == ["yellow_too_close[o3]"]
    assert "soft rules yellow_too_close[o3] (weight 20)" in decision.why_not["stop"].text


def stop_sign(dist=10):
    return obj("s1", "stop_sign", "applies_to_ego", "ahead", dist=dist)


def test_stop_sign_stops_first(reasoner):
    decision = reasoner.decide(road() + stop_sign())
    assert decision.action == "stop"
    assert why_rules(decision, "go") == ["stop_sign[s1]"]
    assert "not stopped_at_sign" in decision.why_not["go"].facts


def test_stop_sign_then_go_when_clear(reasoner):
    assert reasoner.decide(road() + stop_sign() + [Fact("stopped_at_sign")]).action == "go"


def test_stop_sign_yields_to_cross_traffic(reasoner):
    facts = road() + stop_sign() + [Fact("stopped_at_sign")] + obj("v1", "car", "approaching", "left_of", dist=20)
    decision = reasoner.decide(facts)
    assert decision.action == "yield"
    assert why_rules(decision, "go") == ["stop_sign_clear[s1, v1]"]


def test_pedestrian_in_crosswalk_stops(reasoner):
    decision = reasoner.decide(road() + obj("p1", "pedestrian", "in_crosswalk", "ahead", dist=15))
    assert decision.action == "stop"
    assert why_rules(decision, "slow") == ["crosswalk[p1]"]
    assert decision.why_not["slow"].facts[:3] == ["pedestrian(p1)", "in_crosswalk(p1)", "ahead(p1)"]


def test_pedestrian_entering_crosswalk_gets_yielded_to(reasoner):
    decision = reasoner.decide(road() + obj("p1", "pedestrian", "on_sidewalk", "approaching", "ahead", dist=10))
    assert decision.action == "yield"
    assert why_rules(decision, "go") == ["crosswalk_entering[p1]"]


def test_pedestrian_walking_in_the_lane_stops(reasoner):
    decision = reasoner.decide(road() + obj("p1", "pedestrian", "on_road", "same_lane", "ahead", dist=25, gap=24))
    assert decision.action == "stop"
    assert why_rules(decision, "yield") == ["pedestrian_on_road[p1]"]


def test_cyclist_close_ahead_slows(reasoner):
    decision = reasoner.decide(road() + obj("c1", "cyclist", "same_lane", "ahead", "on_road", dist=30, gap=15))
    assert decision.action == "slow"
    assert why_rules(decision, "change_left") == ["cyclist_ahead[c1]"]
    assert why_rules(decision, "go") == ["cyclist_ahead[c1]", "headway[c1]"]


def test_vulnerable_road_user_nearby_prefers_slow(reasoner):
    decision = reasoner.decide(road() + obj("p1", "pedestrian", "on_sidewalk", "ahead", dist=20))
    assert decision.action == "slow"
    assert why_rules(decision, "go") == ["vulnerable_nearby[p1]"]
    assert "allowed but scores 2 against 7" in decision.why_not["go"].text


def test_short_time_headway_forbids_go(reasoner):
    decision = reasoner.decide(road(right=False, left=False)
                               + obj("v1", "car", "same_lane", "ahead", dist=16, gap=15, speed=10, ttc=100))
    assert decision.action == "slow"
    assert why_rules(decision, "go") == ["headway[v1]"]
    assert "gap(v1) = 15" in decision.why_not["go"].facts and "ego_speed = 10" in decision.why_not["go"].facts


def test_emergency_brake_when_time_to_collision_is_short(reasoner):
    decision = reasoner.decide(road() + obj("v1", "truck", "same_lane", "ahead", dist=26, gap=25, speed=9, ttc=1.5))
    assert decision.action == "stop"
    assert why_rules(decision, "slow") == ["emergency_brake[v1]"]


def slow_car_ahead():
    return obj("v1", "car", "same_lane", "ahead", dist=41, gap=40, speed=3, ttc=6)


def test_overtakes_a_slow_vehicle_on_the_left(reasoner):
    decision = reasoner.decide(road() + slow_car_ahead())
    assert decision.action == "change_left"
    assert why_rules(decision, "go") == ["overtake_slow[v1]"]


def test_no_left_lane_no_lane_change(reasoner):
    decision = reasoner.decide(road(left=False) + slow_car_ahead())
    assert decision.action == "go"
    assert why_rules(decision, "change_left") == ["left_lane_needed"]
    assert decision.why_not["change_left"].facts == ["not left_lane_exists"]


def test_occupied_left_lane_blocks_the_change(reasoner):
    facts = road() + slow_car_ahead() + obj("v2", "car", "in_left_lane", "in_adjacent_lane", "left_of", dist=6, gap=5)
    decision = reasoner.decide(facts)
    assert decision.action == "go"
    assert why_rules(decision, "change_left") == ["left_lane_clear"]


def test_right_lane_rules(reasoner):
    no_lane = reasoner.violations(road(right=False), "change_right")
    assert [v.name for v in no_lane] == ["right_lane_needed"]
    occupied = reasoner.violations(road() + obj("v2", "car", "in_right_lane", dist=3, gap=-10), "change_right")
    assert [v.name for v in occupied] == ["right_lane_clear"]
    assert "change_right" in reasoner.allowed_actions(road())


def test_speeding_slows_down(reasoner):
    decision = reasoner.decide(road(ego_speed=16))
    assert decision.action == "slow"
    assert why_rules(decision, "go") == ["speed_limit"]
    assert decision.why_not["go"].facts == ["ego_speed = 16", "speed_limit = 14"]
