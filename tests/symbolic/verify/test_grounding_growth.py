"""The grounding-growth check: rules whose instances grow past a bound at a given frame size."""
import pytest

from bridge import cli
from symbolic.language.loader import load_rules, parse_rules
from symbolic.verify.checker import check_rules
from symbolic.verify.checks import find_grounding_growth, quantified_depth

RULES = """pred car(o)
pred near(o, o)
pred approaching(o)
actions stop, slow, go
safe stop
define crowded(o) := exists b in car: near(o, b)
rule pileup: exists a in car, b in car, c in car: near(a, b) and near(b, c) and near(a, c) => slow
rule boxed_in: exists a in car: (forall b in car: (near(a, b) => exists c in car: near(b, c))) => stop
rule crowd: exists a in car: crowded(a) and (exists c: approaching(c)) => slow
constraint symmetric: forall a, b: (near(a, b) => near(b, a))
prefer go weight 2
"""


@pytest.fixture
def rules():
    return parse_rules(RULES, "cars.rules")


def test_depth_counts_nested_quantifiers_and_defines_but_not_side_by_side_ones(rules):
    depths = {r.name: quantified_depth(r.body, rules.defines) for r in rules.rules}
    assert depths == {"pileup": 3, "boxed_in": 3, "crowd": 2}
    assert quantified_depth(rules.constraints[0].body, rules.defines) == 2


def test_rules_over_the_bound_are_warned_about_with_their_size(rules):
    findings = find_grounding_growth(rules)
    assert [(f.kind, f.severity, f.rules[0].name, f.rules[0].source) for f in findings] == [
        ("grounding_growth", "warning", "pileup", "cars.rules:7"),
        ("grounding_growth", "warning", "boxed_in", "cars.rules:8")]
    assert "nests 3 quantified variables" in findings[0].message
    assert "100^3 = 1,000,000 instances at 100 objects, over the bound of 100,000" in findings[0].message


def test_the_frame_size_and_the_bound_are_settings(rules):
    assert find_grounding_growth(rules, bound=1_000_000) == []
    found = find_grounding_growth(rules, num_objects=20, bound=300)
    assert [f.rules[0].name for f in found] == ["pileup", "boxed_in", "crowd", "symmetric"]
    assert "20^2 = 400 instances at 20 objects" in found[2].message
    assert found[3].message.startswith("constraint symmetric nests 2")


@pytest.mark.parametrize("options, message", [
    ({"num_objects": 0}, "`num_objects` must be a positive integer. Received: num_objects=0"),
    ({"bound": 2.5}, "`bound` must be a positive integer. Received: bound=2.5")])
def test_bad_settings_are_refused(rules, options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        find_grounding_growth(rules, **options)


def test_check_rules_reports_the_growth_and_the_shipped_rules_have_none(rules):
    report = check_rules(rules, num_objects=1, checks=["grounding_growth"])
    assert [f.rules[0].name for f in report.of_kind("grounding_growth")] == ["pileup", "boxed_in"]
    assert not report.ok
    assert check_rules(load_rules("configs/rules/traffic.rules"), num_objects=1, checks=["grounding_growth"]).ok
    with pytest.raises(ValueError, match="growth_bound|`bound`"):
        check_rules(rules, num_objects=1, checks=["grounding_growth"], growth_bound=0)


def test_nesy_rules_check_warns_and_takes_the_settings(tmp_path, capsys):
    path = tmp_path / "cars.rules"
    path.write_text(RULES)
    assert cli.main(["rules", "check", str(path), "--objects", "1"]) == 1
    out = capsys.readouterr().out
    assert "cars.rules:7: grounding growth: rule pileup nests 3 quantified variables" in out
    assert "grounding growth: rule crowd" not in out
    code = cli.main(["rules", "check", str(path), "--objects", "1", "--growth-objects", "10",
                     "--growth-bound", "50"])
    assert code == 1 and "grounding growth: rule crowd nests 2 quantified variables: grounding it takes up to " \
        "10^2 = 100 instances" in capsys.readouterr().out
