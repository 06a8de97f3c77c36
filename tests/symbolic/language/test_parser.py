"""Syntax: every construct parses; syntax errors point at the token; no input raises anything else."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbolic.language import ast
from symbolic.language.errors import RuleError, RuleErrors
from symbolic.language.parser import RuleParser


@pytest.fixture(scope="module")
def parser():
    return RuleParser()


def test_every_statement_kind_parses(parser):
    text = """
    include "common.rules"          # comment
    sort Color = {red, yellow, green}
    pred light(o, Color)  pred ego_stopped
    func dist(o): Real in [0, 200]
    func ego_speed: Real
    actions stop, go
    safe stop
    define close(o) := dist(o) < 10
    constraint one: forall o: not (light(o, red) and light(o, green))
    constraint forall o in car: true
    rule r: exists o in car, p: close(o) and near(o, p) => stop or not go
    rule s [weight 2.5]: ego_speed * 2 - 1 >= -3 / 2 <=> go
    prefer go weight 10
    avoid stop weight 1
    """
    kinds = [type(s).__name__ for s in parser.parse(text, "all.rules")]
    assert kinds == ["IncludeDecl", "SortDecl", "PredDecl", "PredDecl", "FuncDecl", "FuncDecl", "ActionsDecl",
                     "SafeDecl", "DefineDecl", "ConstraintDecl", "ConstraintDecl", "RuleDecl", "RuleDecl",
                     "PreferDecl", "PreferDecl"]


def test_a_quantifier_body_ends_at_the_implication(parser):
    (rule,) = parser.parse("rule r: exists o: a(o) and b(o) => stop", "x.rules")
    assert isinstance(rule.body, ast.Logic) and rule.body.op == "=>"
    assert isinstance(rule.body.operands[0], ast.Quantifier)
    assert ast.to_text(rule.body) == "(exists o: a(o) and b(o)) => stop"


def test_keywords_inside_names_are_names(parser):
    (rule,) = parser.parse("rule r: android(o) and notice and existsx and order", "x.rules")
    assert [o.name for o in rule.body.operands] == ["android", "notice", "existsx", "order"]


def test_positions_are_recorded(parser):
    (_, rule) = parser.parse("pred car(o)\nrule   r: car(x)", "x.rules")
    assert (rule.line, rule.column) == (2, 8)
    assert (rule.body.line, rule.body.column) == (2, 11)


def test_syntax_error_names_place_token_and_expectation(parser):
    with pytest.raises(RuleError) as info:
        parser.parse("pred car(o)\nrule r exists o: car(o) => stop\n", "bad.rules")
    error = info.value
    assert (error.file, error.line, error.column) == ("bad.rules", 2, 8)
    assert "unexpected 'exists'; expected one of: ':', '['" in error.message
    assert str(error).splitlines()[1:] == ["    rule r exists o: car(o) => stop", "           ^"]


def test_unexpected_character(parser):
    with pytest.raises(RuleError, match=r"x.rules:1:15: unexpected character '\$'"):
        parser.parse("rule r: a and $b", "x.rules")


def test_unterminated_string(parser):
    with pytest.raises(RuleError, match="a string must end on the same line"):
        parser.parse('include "abc\n', "x.rules")


def test_end_of_file(parser):
    with pytest.raises(RuleError, match=r"x.rules:1:14: unexpected end of file; expected"):
        parser.parse("rule r: a and", "x.rules")


def test_several_syntax_errors_are_reported_in_one_pass(parser):
    text = "pred car(o\nrule ok: car\nrule bad: => stop\nsort S = {a b}\n"
    with pytest.raises(RuleErrors) as info:
        parser.parse(text, "many.rules")
    assert [(e.line, e.column) for e in info.value.errors] == [(1, 11), (3, 11), (4, 13)]
    assert info.value.errors[0].message.startswith("unexpected end of statement; expected one of: ')', ','")
    # read as a single RuleError, it is the first error, and its text lists every error in file order
    assert (info.value.file, info.value.line, info.value.column) == ("many.rules", 1, 11)
    assert [line.split(": ")[0] for line in str(info.value).splitlines() if line.startswith("many.rules")] == [
        "many.rules:1:11", "many.rules:3:11", "many.rules:4:13"]


def test_text_must_be_a_string(parser):
    with pytest.raises(TypeError, match="rule text must be a string. Received bytes"):
        parser.parse(b"pred a", "x.rules")


ALPHABET = st.sampled_from(list("abo()[]{},:;=<>!+-*/#\"\n\t .0123456789_") +
                           ["exists ", "forall ", "and ", "or ", "not ", "=>", "<=>", ":=", "rule ", "pred ",
                            "sort ", "func ", "actions ", "safe ", "define ", "constraint ", "prefer ", "avoid ",
                            "weight ", "include ", "in ", "true ", "Real ", "é", "\x00"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_fuzz_parser_raises_only_rule_errors(parser, text):
    try:
        parser.parse(text, "fuzz.rules")
    except RuleError as error:  # and the error points into the text
        for one in getattr(error, "errors", [error]):
            assert one.file == "fuzz.rules" and 1 <= one.line <= text.count("\n") + 1 and one.column >= 1, one


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_checker_raises_only_rule_errors(text):
    from symbolic.language.loader import parse_rules
    try:
        parse_rules("pred car(o)\nactions stop, go\n" + text, "fuzz.rules", base_dir="/nonexistent")
    except RuleError:
        pass
