"""Grounding stops at its deadline and names the rule it was grounding."""
import pytest

from symbolic.compiler.compiler import compile_rules
from symbolic.compiler.deadline import BudgetExceeded, Deadline, in_chunks, sorted_in_time
from symbolic.compiler.worlds import FactWorld
from symbolic.language.loader import parse_rules
from symbolic.reasoning.facts import Fact

RULES = parse_rules("pred car(o)\npred near(o, o)\nactions stop, go\n"
                    "rule pair: exists a in car, b in car: near(a, b) => stop\n", "pair.rules")


def test_grounding_past_the_deadline_names_the_rule():
    world = FactWorld(RULES, [Fact("car", (f"c{i}",)) for i in range(3)])
    world.deadline = Deadline(0.0)
    with pytest.raises(BudgetExceeded, match=r"in rule pair \(pair.rules:4\)"):
        list(compile_rules(RULES).ground(world))


def test_reading_facts_past_the_deadline_stops():
    with pytest.raises(BudgetExceeded):
        FactWorld(RULES, [Fact("car", ("c1",))], deadline=Deadline(0.0))


def test_a_deadline_checked_by_chunks_stops_a_long_loop_early():
    ticks = iter(range(100))
    deadline = Deadline(2.5, clock=lambda: next(ticks))  # passes at the fourth look at the clock
    seen = []
    with pytest.raises(BudgetExceeded):
        for chunk in in_chunks(list(range(10_000)), deadline, size=100):
            seen += chunk
    assert len(seen) == 300


def test_sorting_in_chunks_sorts_like_sorted():
    items = [(i * 7919) % 1000 for i in range(1000)]
    assert sorted_in_time(items, Deadline.after_ms(60_000), size=64) == sorted(items)
