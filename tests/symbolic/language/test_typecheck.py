"""Each class of mistake in a rule file: message, line and column."""
import pytest

from symbolic.language.errors import RuleError, RuleErrors
from symbolic.language.loader import parse_rules

HEADER = """sort Color = {red, yellow, green}
pred car(o)
pred pedestrian(o)
pred light(o, Color)
pred near(o, o)
func dist(o): Real in [0, 200]
func ego_speed: Real in [0, 40]
actions stop, yield, go
safe stop
"""
FIRST = HEADER.count("\n") + 1  # the line of the first statement after the header


def error_of(text: str) -> RuleError:
    with pytest.raises(RuleError) as info:
        parse_rules(HEADER + text, "t.rules")
    return info.value


@pytest.mark.parametrize("text, column, message", [
    ("rule r: exists p: pedestrain(p) => stop", 19, "unknown predicate 'pedestrain'. Did you mean 'pedestrian'?"),
    ("rule r: exists o: light(o, rde) => stop", 28, "unknown constant 'rde'. Did you mean 'red'?"),
    ("rule r: exists o: car(o) => stpo", 29, "unknown action 'stpo'. Did you mean 'stop'?"),
    ("prefer goo weight 1", 8, "unknown action 'goo'. Did you mean 'go'?"),
    ("pred color(o, Colour)", 15, "unknown sort 'Colour'. Did you mean 'Color'?"),
    ("rule r: exists o in cars: true => stop", 21, "unknown class predicate 'cars'. Did you mean 'car'?"),
    ("rule r: exists o: light(o) => stop", 19, "predicate 'light' takes 2 arguments (object, Color). Received 1"),
    ("rule r: car => stop", 9, "predicate 'car' takes 1 argument (object). Received 0"),
    ("rule r: stop(1)", 9, "'stop' is an action, not a predicate or function: it takes no arguments"),
    ("rule r: exists o: dist(o) => stop", 19, "expected a condition (true/false) but 'dist(o)' is a number (Real)"),
    ("rule r: exists o: dist(o) < car(o) => stop", 29, "'<' compares numbers but 'car(o)' is a condition"),
    ("rule r: exists o: light(o, go) => stop", 28, "argument 2 of 'light' must be a Color constant (red, yellow, green). "
                                                   "Received 'go', a condition"),
    ("rule r: exists o: light(red, red) => stop", 25, "argument 1 of 'light' must be an object variable. "
                                                      "Received 'red', a Color constant"),
    ("rule r: exists o: dist(o) * dist(o) > 1 => stop", 19, "multiplies two unknowns"),
    ("rule r: ego_speed / ego_speed > 1 => stop", 9, "divides by an unknown"),
    ("rule r: exists o, p: o = red => stop", 22, "cannot compare an object and a Color constant with '='"),
    ("rule r [weight -2]: go", 6, "a soft rule's weight must be a positive number. Received weight=-2"),
    ("constraint forall o: car(o) and go", 12, "a constraint describes the world and cannot mention actions"),
    ("rule r: forall o: car(o) => near(o, o)", 34, "variable 'o' is not bound here: a quantifier's body ends at '=>'"),
    ("rule r: Color", 9, "'Color' is a sort; use one of its values (red, yellow, green)"),
    ("rule r: zzz", 9, "unknown name 'zzz'"),
    ("func f(o): Integer", 6, "unknown function type 'Integer'; expected Real"),
    ("func f(o): Real in [5, 1]", 6, "the range of 'f' is empty: [5, 1]"),
])
def test_each_mistake_is_reported_with_its_place(text, column, message):
    error = error_of(text)
    assert message in error.message
    assert (error.file, error.line, error.column) == ("t.rules", FIRST, column)
    assert str(error).splitlines()[1] == "    " + text
    assert str(error).splitlines()[2] == "    " + " " * (column - 1) + "^"


@pytest.mark.parametrize("text, message", [
    ("pred car(o)", "duplicate name 'car': already declared as a predicate at t.rules:2"),
    ("sort Light = {red, off}", "duplicate name 'red': already declared as a constant of Color at t.rules:1"),
    ("func stop: Real", "duplicate name 'stop': already declared as an action at t.rules:8"),
    ("rule r: go\nrule r: stop", "duplicate rule name 'r': already used at t.rules:10"),
    ("actions walk", "actions are already declared at t.rules:8"),
    ("safe go", "the safe action is already declared as 'stop'"),
    ("define a := b\ndefine b := a", "recursive define: a -> b -> a"),
])
def test_duplicates_and_cycles(text, message):
    assert message in error_of(text).message


def test_several_errors_in_one_pass():
    with pytest.raises(RuleErrors) as info:
        parse_rules(HEADER + "rule a: exists o: carr(o) => stop\nrule b: go => stpo\nprefer goo weight 1\n", "t.rules")
    errors = info.value.errors
    assert [(e.line, e.column) for e in errors] == [(FIRST, 19), (FIRST + 1, 15), (FIRST + 2, 8)]
    assert len(str(info.value).splitlines()) == 9


def test_declarations_may_come_after_use():
    rules = parse_rules("rule r: exists o: light(o, red) => stop\nactions stop, go\npred light(o, Color)\n"
                        "sort Color = {red}", "t.rules")
    assert rules.predicates["light"] == ("object", "Color")


def test_defines_types_and_zero_ary_terms():
    rules = parse_rules(HEADER + "define close(o) := dist(o) < 2 * ego_speed - 1\n"
                        "rule r: exists o in close: car(o) => not go\n", "t.rules")
    assert rules.used_predicates(rules.rules[0]) == {"dist", "ego_speed", "car"}
    assert rules.mentions_action(rules.rules[0].body)


def test_syntax_and_type_errors_are_reported_together():
    text = "pred car(o\nactions stop, go\nrule r: exists o: carr(o) => stop\nrule q: => go\nsafe stpo\n"
    with pytest.raises(RuleErrors) as info:
        parse_rules(text, "x.rules")
    assert [(e.line, e.column) for e in info.value.errors] == [(1, 11), (3, 19), (4, 9), (5, 6)]
    assert info.value.errors[3].message == "unknown action 'stpo'. Did you mean 'stop'?"
