"""Repair: the most probable reading consistent with the constraints."""
import pytest

from symbolic.language.loader import load_rules, parse_rules
from symbolic.reasoning.facts import Fact, FactBase
from symbolic.reasoning.repair import log_odds_weight, repair

RULES = parse_rules("""
sort Color = {red, yellow, green}
pred light(o, Color)  pred traffic_light(o)  pred car(o)
actions stop, go
constraint one_colour: forall o: not (light(o, red) and light(o, green))
constraint lights: forall o: ((light(o, red) or light(o, green)) => traffic_light(o))
constraint not_both: forall o: not (car(o) and traffic_light(o))
""", "r.rules")


@pytest.mark.parametrize("red, green, flipped", [(0.9, 0.6, "light(o1, green)"), (0.55, 0.7, "light(o1, red)")])
def test_the_least_confident_of_two_contradicting_facts_is_flipped(red, green, flipped):
    facts = [Fact("traffic_light", ("o1",)), Fact("light", ("o1", "red"), red), Fact("light", ("o1", "green"), green)]
    result = repair(RULES, facts)
    assert result.status == "repaired"
    assert [f.atom for f in result.flipped] == [flipped]
    assert result.facts.confidence(*flipped.replace(")", "").replace("(", ", ").split(", ")) == 0.0
    assert result.cost == pytest.approx(log_odds_weight(min(red, green)))


def test_a_chain_of_constraints_chooses_the_cheapest_set_of_flips():
    # o1 looks like a car (0.7) with a red light (0.95): a light needs a traffic light, which cannot be a car
    facts = [Fact("car", ("o1",), 0.7), Fact("traffic_light", ("o1",), 0.6), Fact("light", ("o1", "red"), 0.95)]
    result = repair(RULES, facts)
    assert [f.atom for f in result.flipped] == ["car(o1)"]


def test_consistent_facts_are_left_alone():
    facts = FactBase([Fact("traffic_light", ("o1",)), Fact("light", ("o1", "red"), 0.7)])
    result = repair(RULES, facts)
    assert result.status == "consistent" and result.flipped == []
    assert list(result.facts) == list(facts)


def test_certain_contradictions_cannot_be_repaired():
    facts = [Fact("traffic_light", ("o1",)), Fact("light", ("o1", "red")), Fact("light", ("o1", "green"))]
    result = repair(RULES, facts)
    assert result.status == "inconsistent" and result.broken == ["one_colour[o1]"]


def test_traffic_rules_repair_a_red_and_green_light():
    rules = load_rules("configs/rules/traffic.rules")
    facts = [Fact("traffic_light", ("o3",)), Fact("light", ("o3", "red"), 0.9), Fact("light", ("o3", "green"), 0.85)]
    assert [f.atom for f in repair(rules, facts).flipped] == ["light(o3, green)"]


def test_repair_past_its_deadline_raises_budget_exceeded():
    from symbolic.compiler.deadline import BudgetExceeded, Deadline

    facts = [Fact("traffic_light", ("o1",)), Fact("light", ("o1", "red"), 0.9), Fact("light", ("o1", "green"), 0.6)]
    with pytest.raises(BudgetExceeded):
        repair(RULES, facts, deadline=Deadline(0.0))
    assert repair(RULES, facts, deadline=Deadline.after_ms(60_000)).status == "repaired"
