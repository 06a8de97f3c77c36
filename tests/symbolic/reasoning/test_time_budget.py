"""The time budget bounds all of ``decide``: nested quantifiers, large groundings, repair, the conflict core
and why-nots. The work below takes seconds without a deadline; the bounds leave room for a loaded machine."""
import time

import pytest

from benchmarks.bench_deadline import NESTED, THREE_VARIABLES
from symbolic.language.loader import parse_rules
from symbolic.reasoning import reasoner as reasoner_module
from symbolic.reasoning.facts import Fact
from symbolic.reasoning.reasoner import DEADLINE_SLACK_MS, Reasoner

BUDGET_MS = 50
SLACK_S = 0.5  # far above DEADLINE_SLACK_MS: a busy two-core machine stalls a process for that long


def cars(num_cars, spacing, near_within, approaching=1.0):
    """Cars ``spacing`` metres apart on a road; ``near`` both ways within ``near_within`` metres."""
    facts = [Fact("car", (f"c{i}",)) for i in range(num_cars)]
    for i in range(num_cars):
        facts.append(Fact("approaching", (f"c{i}",), approaching))
        for j in range(i + 1, num_cars):
            if (j - i) * spacing < near_within:
                facts += [Fact("near", (f"c{i}", f"c{j}")), Fact("near", (f"c{j}", f"c{i}"))]
    return facts


def decide_timed(reasoner, facts, **options):
    start = time.perf_counter()
    decision = reasoner.decide(facts, **options)
    return decision, time.perf_counter() - start


def assert_timed_out_safely(decision, elapsed, budget_ms=BUDGET_MS):
    assert elapsed < budget_ms / 1000 + SLACK_S
    assert (decision.action, decision.status, decision.fallback) == ("stop", "timeout", True)
    assert decision.reason.startswith("the time budget ran out while ") and f"(budget {budget_ms} ms)" in decision.reason
    assert all(decision.reason in why.text for why in decision.why_not.values())


def test_the_stated_slack_is_small():
    assert 0 < DEADLINE_SLACK_MS <= 20


def test_nested_quantifiers_get_the_safe_action_within_the_budget():
    # exists a: forall b: exists c: forall d over 30 cars near each other, every `approaching` uncertain:
    # nothing cuts a quantifier short, and grounding alone is 30^4 steps (over ten seconds without a deadline)
    reasoner = Reasoner(parse_rules(NESTED, "nested.rules"), time_budget_ms=BUDGET_MS)
    decision, elapsed = decide_timed(reasoner, cars(30, 1.0, 100.0, approaching=0.5))
    assert_timed_out_safely(decision, elapsed)


def test_a_three_variable_rule_over_many_cars_gets_the_safe_action_within_the_budget():
    # 300 cars, each near the twenty on either side: millions of (a, b, c) to try
    reasoner = Reasoner(parse_rules(THREE_VARIABLES, "pileup.rules"), time_budget_ms=BUDGET_MS)
    decision, elapsed = decide_timed(reasoner, cars(300, 5.0, 100.0))
    assert_timed_out_safely(decision, elapsed)


def test_the_same_rule_on_a_small_frame_is_decided_normally():
    reasoner = Reasoner(parse_rules(THREE_VARIABLES, "pileup.rules"), time_budget_ms=10_000)
    decision = reasoner.decide(cars(4, 5.0, 11.0))
    assert (decision.action, decision.status, decision.reason, decision.cut_short) == ("slow", "robust", "", "")
    assert decision.why_not["go"].text.startswith("go breaks pileup[c0, c1, c2] (pileup.rules:9) because")


def test_repair_over_a_large_frame_is_cut_short_and_says_so():
    # 5,000 lights each read red (0.9) and green (0.6) and 5,000 cars: the constraints are grounded over
    # 10,000 objects in z3 terms before anything is decided
    facts = []
    for i in range(5000):
        facts += [Fact("traffic_light", (f"l{i}",)), Fact("light", (f"l{i}", "red"), 0.9),
                  Fact("light", (f"l{i}", "green"), 0.6), Fact("car", (f"c{i}",))]
    reasoner = Reasoner.from_file("configs/rules/traffic.rules", time_budget_ms=BUDGET_MS, repair=True)
    decision, elapsed = decide_timed(reasoner, facts)
    assert_timed_out_safely(decision, elapsed)
    assert "repairing the facts" in decision.reason


def spend_the_budget_after(monkeypatch, method):
    """Make ``_Frame.<method>`` do its work and then wait out the frame's deadline."""
    original = getattr(reasoner_module._Frame, method)

    def slow(frame, *args):
        found = original(frame, *args)
        time.sleep(max(0.0, frame.deadline.remaining_ms() / 1000) + 0.002)
        return found
    monkeypatch.setattr(reasoner_module._Frame, method, slow)


def crossing(num_pedestrians):
    facts = [Fact("ego_speed", (), value=10.0), Fact("speed_limit", (), value=13.9),
             Fact("stopping_distance", (), value=22.5)]
    for i in range(num_pedestrians):
        p = f"p{i}"
        facts += [Fact("pedestrian", (p,)), Fact("in_crosswalk", (p,)), Fact("ahead", (p,)),
                  Fact("dist", (p,), value=10.0 + i)]
    return facts


def test_why_nots_cut_short_keep_the_action_and_say_so(monkeypatch):
    spend_the_budget_after(monkeypatch, "fired_instances")  # the action is known; explaining it is not done
    reasoner = Reasoner.from_file("configs/rules/traffic.rules", time_budget_ms=300)
    decision, elapsed = decide_timed(reasoner, crossing(5))
    assert elapsed < 0.3 + SLACK_S
    assert (decision.action, decision.status, decision.fallback) == ("stop", "robust", False)
    assert decision.cut_short == ("the time budget ran out while explaining why not the other actions "
                                  "(budget 300 ms): the why-nots may be incomplete")
    why = decision.why_not["go"].text
    assert why.startswith("go breaks crosswalk[p0] (") and "cut short: the time budget ran out" in why
    assert {r.rule for r in decision.fired} >= {"crosswalk"}


def test_a_conflict_core_cut_short_keeps_the_fallback_and_says_so(monkeypatch):
    spend_the_budget_after(monkeypatch, "fired_instances")
    rules = parse_rules("pred alarm\nactions wait, run\nsafe wait\nrule a: alarm => run\nrule b: alarm => not run")
    decision = Reasoner(rules, time_budget_ms=300).decide([Fact("alarm")])
    assert (decision.action, decision.status, decision.reason) == ("wait", "fallback", "no action was provably safe")
    assert decision.conflict == []
    assert decision.cut_short.startswith("the time budget ran out while looking for the conflicting rules")
    assert decision.cut_short.endswith("the conflicting rules and the why-nots may be incomplete")


def test_a_complete_decision_says_nothing_was_cut_short():
    decision = Reasoner.from_file("configs/rules/traffic.rules", time_budget_ms=10_000).decide(crossing(3))
    assert (decision.action, decision.reason, decision.cut_short) == ("stop", "", "")
    assert decision.to_json()["cut_short"] == ""
    assert "cut short" not in decision.why_not["go"].text
