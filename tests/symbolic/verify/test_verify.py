"""Rule-file verification: each check finds its seeded fault, every example scene
reproduces the problem on the concrete reasoner, and clean files report nothing."""
import random
from pathlib import Path

import pytest

from symbolic.language.loader import load_rules, parse_rules
from symbolic.reasoning.facts import Fact
from symbolic.reasoning.reasoner import Reasoner
from symbolic.verify.checker import CHECKS, check_file, check_rules, minimal_conflict, write_scene
from symbolic.verify.scene import ConcreteScene

FAULTY = Path("configs/rules/faulty")


def reasoner_for(ruleset):
    return Reasoner(ruleset, robust=False, time_budget_ms=60_000.0)


@pytest.mark.parametrize("name", ["clean_crossing", "clean_warehouse"])
def test_clean_files_report_nothing(name):
    report = check_file(FAULTY / f"{name}.rules", num_objects=3)
    assert report.findings == []
    assert report.ok and report.exit_code == 0


def test_dead_end_scene_leaves_no_action_on_the_reasoner():
    ruleset = load_rules(FAULTY / "dead_end.rules")
    report = check_rules(ruleset, num_objects=3)
    [finding] = report.of_kind("dead_end")
    assert finding.severity == "error" and report.exit_code == 1
    reasoner = reasoner_for(ruleset)
    facts = finding.scene.fact_base()
    assert reasoner.allowed_actions(facts) == []
    decision = reasoner.decide(facts)
    assert decision.fallback and decision.action == "stop"
    # the three rules are each needed: no pair of them clashes
    assert sorted(r.name.split("[")[0] for r in finding.rules) == ["cyclist_ahead", "keep_moving", "pedestrian_ahead"]
    assert report.of_kind("conflict") == []
    assert all(r.source.startswith(str(FAULTY / "dead_end.rules") + ":") for r in finding.rules)


def test_minimal_conflict_drops_rules_that_are_not_needed():
    ruleset = parse_rules("pred a\npred b\nactions stop, go, turn\n"
                          "rule r1: a => stop\nrule r2: b => go\nrule r3: a => stop or go")
    scene = ConcreteScene([], [Fact("a"), Fact("b")])
    assert [r.name for r in minimal_conflict(ruleset, scene)] == ["r1", "r2"]
    assert minimal_conflict(ruleset, ConcreteScene([], [Fact("a")])) == []


def test_conflict_scene_fires_both_rules_and_every_action_breaks_one():
    ruleset = load_rules(FAULTY / "conflict.rules")
    report = check_rules(ruleset, num_objects=2)
    [finding] = report.of_kind("conflict")
    assert finding.severity == "error" and finding.reproduced
    assert [r.name for r in finding.rules] == ["red_light", "make_way"]
    reasoner = reasoner_for(ruleset)
    facts = finding.scene.fact_base()
    fired = {r.rule for r in reasoner.decide(facts).fired}
    assert {"red_light", "make_way"} <= fired
    for action in ruleset.actions:
        assert {v.rule for v in reasoner.violations(facts, action)} & {"red_light", "make_way"}


def test_dead_rule_is_found_and_never_fires_on_sampled_scenes():
    ruleset = load_rules(FAULTY / "dead_rule.rules")
    report = check_rules(ruleset, num_objects=3)
    [finding] = report.of_kind("dead_rule")
    assert finding.rules[0].name == "far_pedestrian"
    assert finding.rules[0].source == f"{FAULTY / 'dead_rule.rules'}:12"
    reasoner = reasoner_for(ruleset)
    rng = random.Random(0)
    for _ in range(50):
        facts = []
        for index in range(rng.randint(0, 3)):
            obj = f"o{index}"
            facts += [Fact("pedestrian", (obj,)), Fact("dist", (obj,), value=rng.uniform(0, 100))]
            if rng.random() < 0.8:
                facts.append(Fact("ahead", (obj,)))
        assert "far_pedestrian" not in {r.rule for r in reasoner.decide(facts).fired}


def test_redundant_rule_is_found_and_removing_it_changes_no_decision():
    path = FAULTY / "redundant_rule.rules"
    ruleset = load_rules(path)
    report = check_rules(ruleset, num_objects=3)
    [finding] = report.of_kind("redundant_rule")
    assert [r.name for r in finding.rules] == ["pedestrian_close", "pedestrian_ahead"]
    text = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("rule pedestrian_close"))
    with_rule, without_rule = reasoner_for(ruleset), reasoner_for(parse_rules(text, str(path)))
    rng = random.Random(1)
    for _ in range(50):
        facts = []
        for index in range(rng.randint(0, 3)):
            obj = f"o{index}"
            facts += [Fact("pedestrian", (obj,)), Fact("ahead", (obj,)), Fact("dist", (obj,), value=rng.choice(
                [5.0, 9.5, 10.0, 20.0, 29.0, 30.0, 60.0]))]
        assert with_rule.allowed_actions(facts) == without_rule.allowed_actions(facts)


def test_of_two_identical_rules_only_the_later_is_redundant():
    ruleset = parse_rules("pred red\nactions stop, go\nrule first: red => stop\nrule second: red => stop\n"
                          "prefer go weight 1")
    [finding] = check_rules(ruleset, num_objects=0).of_kind("redundant_rule")
    assert [r.name for r in finding.rules] == ["second", "first"]


def test_rule_that_never_rejects_an_action_is_redundant():
    ruleset = parse_rules("pred red\nactions stop, go\nrule empty: red => stop or go\nprefer go weight 1")
    [finding] = check_rules(ruleset, num_objects=0).findings
    assert finding.kind == "redundant_rule" and "never rejects" in finding.message


def test_ambiguity_scene_ties_on_the_reasoner():
    ruleset = load_rules(FAULTY / "ambiguity.rules")
    [finding] = check_rules(ruleset, num_objects=2).findings
    assert finding.kind == "ambiguity" and finding.actions == ["slow", "go"]
    decision = reasoner_for(ruleset).decide(finding.scene.fact_base())
    assert decision.action == "slow" and "go" in decision.tied


def test_soft_rules_in_conflict_warn_and_soft_rules_overridden_by_hard_rules_are_notes():
    ruleset = parse_rules("pred wet\npred late\npred child\nactions stop, slow, go\n"
                          "rule child_near: child => stop\n"
                          "rule hurry [weight 3]: late => go\nrule careful [weight 2]: wet => slow\n"
                          "prefer go weight 10\nprefer slow weight 5")
    report = check_rules(ruleset, num_objects=0, checks=["conflict"])
    kinds = [(f.severity, [r.name for r in f.rules]) for f in report.findings]
    assert ("warning", ["hurry", "careful"]) in kinds
    assert ("note", ["hurry", "child_near"]) in kinds and ("note", ["careful", "child_near"]) in kinds
    assert all(f.reproduced for f in report.findings)


def test_scenes_with_fewer_than_k_objects_are_covered():
    # every object is a car; the rules clash only when there is no object at all
    ruleset = parse_rules("pred car(o)\nactions stop, go\nconstraint cars: forall o: car(o)\n"
                          "rule a: (not exists o: car(o)) => stop\nrule b: (not exists o: car(o)) => go\n"
                          "prefer go weight 1")
    [finding] = check_rules(ruleset, num_objects=2, checks=["dead_end"]).findings
    assert finding.scene.objects == [] and finding.reproduced


def test_counterexample_numbers_sit_on_boundaries_exactly():
    ruleset = parse_rules("pred car(o)\nfunc dist(o): Real in [0, 100]\nfunc speed: Real in [0, 40]\n"
                          "actions stop, go\nrule gap: exists c in car: dist(c) < 2 * speed + 0.3 => stop\n"
                          "rule open_road: exists c in car: dist(c) >= 2 * speed => go\nprefer go weight 1")
    report = check_rules(ruleset, num_objects=1, checks=["dead_end"])
    [finding] = report.findings
    assert finding.reproduced
    assert reasoner_for(ruleset).allowed_actions(finding.scene.fact_base()) == []


@pytest.mark.parametrize("name", ["traffic", "warehouse", "household"])
def test_shipped_rules_have_no_dead_end_and_every_scene_reproduces(name):
    ruleset = load_rules(f"configs/rules/{name}.rules")
    report = check_rules(ruleset, num_objects=3)
    assert report.errors == []
    assert report.of_kind("dead_rule") == [] and report.of_kind("redundant_rule") == []
    assert all(f.reproduced for f in report.findings if f.scene is not None)


def test_written_scene_is_a_facts_file_the_reasoner_reads(tmp_path):
    ruleset = load_rules(FAULTY / "dead_end.rules")
    [finding] = check_rules(ruleset, num_objects=3, checks=["dead_end"]).findings
    path = write_scene(finding.scene, tmp_path / "deep" / "scene.facts.json")
    from symbolic.reasoning.facts import FactBase
    facts = FactBase.from_file(path)
    ruleset.validate_facts(facts, source=str(path))
    assert reasoner_for(ruleset).allowed_actions(facts) == []
    assert [p.name for p in path.parent.iterdir()] == ["scene.facts.json"]  # no temporary file left


def test_report_json_and_text_name_rules_with_file_and_line():
    report = check_file(FAULTY / "conflict.rules", num_objects=2)
    data = report.to_json()
    assert data["ok"] is False and data["num_errors"] == 2
    assert data["findings"][0]["rules"][0]["source"].endswith("conflict.rules:17")
    text = report.format()
    assert text.splitlines()[2] == "ERRORS"
    assert "conflict.rules:17: red_light" in text


@pytest.mark.parametrize("kwargs, message", [
    ({"num_objects": -1}, r"`num_objects` must be a non-negative integer. Received: num_objects=-1"),
    ({"num_objects": 2.5}, r"Received: num_objects=2.5"),
    ({"checks": ["dead_ends"]}, r"`checks` must name some of .*Received: 'dead_ends'"),
    ({"timeout_ms": 0}, r"`timeout_ms` must be a number >= 1. Received: timeout_ms=0"),
])
def test_bad_arguments_are_named(kwargs, message):
    ruleset = parse_rules("actions stop")
    with pytest.raises(ValueError, match=message):
        check_rules(ruleset, **kwargs)


def test_ruleset_must_be_a_ruleset():
    with pytest.raises(TypeError, match="`ruleset` must be a RuleSet"):
        check_rules("configs/rules/traffic.rules")


def test_checks_can_be_chosen():
    report = check_file(FAULTY / "conflict.rules", num_objects=2, checks=["dead_rule", "ambiguity"])
    assert report.findings == []
    assert set(CHECKS) == {"dead_end", "dead_rule", "redundant_rule", "conflict", "ambiguity", "grounding_growth"}


def random_rule_text(seed: int, num_rules: int = 8) -> str:
    """A small random rule file whose rules can clash (hard heads that exclude each other, soft rules, 0-ary facts)."""
    rng = random.Random(seed)
    lines = ["pred car(o)", "pred walker(o)", "pred ahead(o)", "pred close(o)", "pred wet",
             "func dist(o): Real in [0, 50]", "func speed: Real in [0, 20]",
             "actions stop, slow, go, turn", "safe stop",
             "constraint one_class: forall o: not (car(o) and walker(o))",
             f"prefer go weight {rng.choice((3, 4, 6))}", f"prefer slow weight {rng.choice((1, 2, 3))}"]
    heads = ("stop", "go", "slow or stop", "not go", "turn or go", "not stop", "slow")
    for index in range(num_rules):
        label = rng.choice(("car", "walker"))
        parts = [f"{p}(o)" for p in rng.sample(("ahead", "close"), rng.randint(0, 2))]
        parts.append(rng.choice((f"dist(o) < {rng.randint(1, 40)}", f"dist(o) >= 2 * speed",
                                 f"dist(o) + speed > {rng.randint(10, 60)}")))
        if rng.random() < 0.3:
            parts.append(rng.choice(("wet", "not wet")))
        weight = f" [weight {rng.choice((1, 2, 3, 5))}]" if rng.random() < 0.3 else ""
        lines.append(f"rule r{index}{weight}: exists o in {label}: {' and '.join(parts)} => {rng.choice(heads)}")
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(6))
def test_every_example_scene_of_random_rule_files_reproduces(seed):
    ruleset = parse_rules(random_rule_text(seed), f"random{seed}.rules")
    report = check_rules(ruleset, num_objects=2)
    with_scene = [f for f in report.findings if f.scene is not None]
    assert all(f.reproduced for f in with_scene), [(f.kind, f.message) for f in with_scene if not f.reproduced]
    reasoner = reasoner_for(ruleset)
    for finding in report.of_kind("dead_end"):
        assert reasoner.allowed_actions(finding.scene.fact_base()) == []


def test_random_rule_files_do_find_problems():
    kinds = set()
    for seed in range(6):
        kinds |= {f.kind for f in check_rules(parse_rules(random_rule_text(seed)), num_objects=2).findings}
    assert {"dead_end", "conflict"} <= kinds


def random_scene(rng: random.Random, num_objects: int) -> list:
    """Concrete facts over the vocabulary of :func:`random_rule_text`."""
    facts = [Fact("speed", value=rng.choice((0.0, 5.0, 10.0, 17.5, 20.0)))]
    if rng.random() < 0.5:
        facts.append(Fact("wet"))
    for index in range(rng.randint(0, num_objects)):
        obj = f"o{index}"
        facts += [Fact(rng.choice(("car", "walker")), (obj,)),
                  Fact("dist", (obj,), value=rng.choice((0.0, 1.0, 8.0, 12.5, 20.0, 30.0, 40.0, 50.0)))]
        facts += [Fact(p, (obj,)) for p in ("ahead", "close") if rng.random() < 0.5]
    return facts


@pytest.mark.parametrize("seed", [0, 3, 4])  # 4 reports nothing: no sampled scene may be a dead end
def test_sampled_scenes_agree_with_the_proofs(seed):
    """Concrete scenes of up to K objects: a dead end there means the checker reported one; a rule
    reported redundant never changes the allowed actions; a rule reported dead never fires."""
    text = random_rule_text(seed)
    ruleset = parse_rules(text)
    report = check_rules(ruleset, num_objects=2)
    reasoner = reasoner_for(ruleset)
    redundant = [f.rules[0].name for f in report.of_kind("redundant_rule")]
    without = {name: reasoner_for(parse_rules("\n".join(line for line in text.splitlines()
                                                        if not line.startswith(f"rule {name}:"))))
               for name in redundant}
    dead = {f.rules[0].name for f in report.of_kind("dead_rule")}
    rng = random.Random(seed)
    for _ in range(60):
        facts = random_scene(rng, 2)
        allowed = reasoner.allowed_actions(facts)
        if not allowed:
            assert report.of_kind("dead_end"), facts
        for name, other in without.items():
            assert other.allowed_actions(facts) == allowed, (name, facts)
        assert not dead & {r.rule for r in reasoner.decide(facts).fired}
