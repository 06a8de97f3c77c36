"""The language is general: a warehouse robot and a home assistant, each with its example facts."""
from pathlib import Path

import pytest

from symbolic.reasoning.facts import Fact, FactBase

RULES = Path(__file__).resolve().parents[3] / "configs" / "rules"


@pytest.fixture(scope="module")
def warehouse(make_reasoner):
    return make_reasoner(RULES / "warehouse.rules")


@pytest.fixture(scope="module")
def household(make_reasoner):
    return make_reasoner(RULES / "household.rules")


def why(decision, action):
    return [r.name for r in decision.why_not[action].rules]


def test_warehouse_example_waits_for_the_worker_in_its_path(warehouse):
    facts = FactBase.from_file(RULES / "examples" / "warehouse.facts.json")
    warehouse.ruleset.validate_facts(facts)
    decision = warehouse.decide(facts)
    assert decision.action == "wait"
    assert why(decision, "pick") == ["worker_in_path[w1]"]
    assert why(decision, "place") == ["worker_in_path[w1]", "place_needs_a_load", "place_only_at_packing"]
    assert "not loaded" in decision.why_not["place"].facts


def base(battery=64.0, *extra):
    return [Fact("battery", (), value=battery), Fact("load_kg", (), value=0.0),
            Fact("max_load_kg", (), value=1000.0), Fact("robot_in", ("storage",))] + list(extra)


@pytest.mark.parametrize("facts, action, rejected, rule", [
    (base(), "move", "pick", "pick_needs_a_shelf"),
    (base(64.0, Fact("shelf", ("s1",)), Fact("in_front", ("s1",)), Fact("dist", ("s1",), value=0.5)),
     "pick", "move", "fetch"),
    (base(64.0, Fact("worker", ("w1",)), Fact("dist", ("w1",), value=1.0)), "halt", "wait", "worker_too_close[w1]"),
    (base(64.0, Fact("emergency_stop_pressed")), "halt", "move", "emergency_stop"),
    (base(10.0), "recharge", "move", "battery_low"),
    (base(25.0), "recharge", "move", "charge_early"),
    (base(64.0, Fact("forklift", ("f1",)), Fact("in_front", ("f1",)), Fact("dist", ("f1",), value=7.0)),
     "wait", "move", "forklift_in_path[f1]"),
    (base(64.0, Fact("spill", ("x1",)), Fact("in_front", ("x1",)), Fact("dist", ("x1",), value=3.0)),
     "wait", "move", "spill_ahead[x1]"),
    (base(64.0, Fact("shelf", ("s1",)), Fact("carrying", ("s1",)), Fact("at_target"), Fact("robot_in", ("packing",)),
          Fact("robot_in", ("storage",), 0.0)), "place", "move", "deliver"),
    ([Fact("battery", (), value=64.0), Fact("load_kg", (), value=1500.0), Fact("max_load_kg", (), value=1000.0)],
     "wait", "move", "overloaded"),
])
def test_warehouse_rules(warehouse, facts, action, rejected, rule):
    decision = warehouse.decide(facts)
    assert decision.action == action
    assert rule in why(decision, rejected)


def test_household_example_alerts_for_a_child_at_a_hot_stove(household):
    facts = FactBase.from_file(RULES / "examples" / "household.facts.json")
    household.ruleset.validate_facts(facts)
    decision = household.decide(facts)
    assert decision.action == "alert"
    assert why(decision, "fetch") == ["child_at_hot_stove[c1, s1]"]
    assert decision.why_not["fetch"].facts == ["child(c1)", "stove(s1)", "hot(s1)", "near(c1, s1)"]


def home(*extra):
    return [Fact("battery", (), value=80.0), Fact("robot_in", ("bedroom",))] + list(extra)


@pytest.mark.parametrize("facts, action, rejected, rule", [
    (home(), "vacuum", "fetch", "fetch_needs_a_request"),
    (home(Fact("person", ("m1",)), Fact("fallen", ("m1",))), "alert", "vacuum", "fall_detected[m1]"),
    (home(Fact("pet", ("d1",)), Fact("dist", ("d1",), value=0.3)), "idle", "vacuum", "pet_underfoot[d1]"),
    (home(Fact("person", ("m1",)), Fact("asleep", ("m1",)), Fact("in_room", ("m1", "bedroom"))),
     "idle", "vacuum", "quiet_near_sleepers[m1]"),
    (home(Fact("item", ("v1",)), Fact("fragile", ("v1",)), Fact("on_floor", ("v1",)), Fact("dist", ("v1",), value=0.5)),
     "idle", "vacuum", "mind_fragile_things[v1]"),
    ([Fact("battery", (), value=10.0)], "idle", "vacuum", "vacuum_needs_battery"),
    (home(Fact("person", ("m1",)), Fact("calls_for_help", ("m1",))), "assist", "vacuum", "answer_calls[m1]"),
    (home(Fact("item", ("cup",)), Fact("requested", ("cup",))), "fetch", "vacuum", "bring_requested[cup]"),
])
def test_household_rules(household, facts, action, rejected, rule):
    decision = household.decide(facts)
    assert decision.action == action
    assert rule in why(decision, rejected)


def test_a_sleeper_in_another_room_does_not_stop_vacuuming(household):
    facts = home(Fact("person", ("m1",)), Fact("asleep", ("m1",)), Fact("in_room", ("m1", "kitchen")))
    assert household.decide(facts).action == "vacuum"
