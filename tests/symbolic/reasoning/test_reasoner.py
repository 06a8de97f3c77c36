"""The reasoner: robust decisions, fallbacks, the time budget, ties, explanations, bad arguments."""
import json

import pytest

from symbolic.language.loader import parse_rules
from symbolic.reasoning.facts import Fact, FactBase
from symbolic.reasoning.reasoner import Reasoner

GENEROUS_MS = 10_000  # a cold z3 on a busy machine can take longer than the default 20 ms budget

TRAFFIC = "configs/rules/traffic.rules"


@pytest.fixture(scope="module")
def traffic():
    return Reasoner.from_file(TRAFFIC, time_budget_ms=GENEROUS_MS)


def red_light(confidence=1.0, green=None):
    facts = [Fact("traffic_light", ("o3",)), Fact("applies_to_ego", ("o3",)), Fact("ahead", ("o3",)),
             Fact("dist", ("o3",), value=25.0), Fact("stopping_distance", (), value=20.0),
             Fact("ego_speed", (), value=10.0), Fact("speed_limit", (), value=14.0),
             Fact("light", ("o3", "red"), confidence)]
    if green is not None:
        facts.append(Fact("light", ("o3", "green"), green))
    return facts


def test_robust_mode_stops_for_an_uncertain_red_light(traffic):
    decision = traffic.decide(red_light(0.4))
    assert decision.action == "stop" and decision.status == "robust" and not decision.fallback
    assert decision.uncertain == ["light(o3, red)"]
    assert "not safe in every reading of the uncertain facts light(o3, red)" in decision.why_not["go"].text
    assert [r.name for r in decision.why_not["go"].rules] == ["red_light[o3]"]


def test_the_likely_reading_goes_when_red_is_improbable():
    decision = Reasoner.from_file(TRAFFIC, robust=False, time_budget_ms=GENEROUS_MS).decide(red_light(0.4))
    assert decision.action == "go" and decision.status == "optimal" and decision.uncertain == []


def test_constraints_rule_out_impossible_completions(traffic):
    # green is certain and a light shows one colour, so the uncertain red cannot hold
    decision = traffic.decide(red_light(0.4, green=0.95))
    assert decision.action == "go" and decision.uncertain == []


def test_below_low_is_absent_and_above_high_is_present(traffic):
    assert traffic.decide(red_light(0.1)).action == "go"
    assert traffic.decide(red_light(0.9)).action == "stop"
    assert traffic.decide(red_light(0.9)).uncertain == []


def test_an_uncertain_distance_is_any_value_in_its_range(traffic):
    facts = [f for f in red_light() if f.predicate != "dist"] + [Fact("dist", ("o3",), 0.5, value=150.0)]
    assert traffic.decide(facts).action == "stop"
    assert traffic.decide(facts).uncertain == ["dist(o3)"]
    assert Reasoner.from_file(TRAFFIC, robust=False, time_budget_ms=GENEROUS_MS).decide(facts).action == "go"


def test_a_tiny_time_budget_returns_the_safe_action(traffic):
    reasoner = Reasoner.from_file(TRAFFIC, time_budget_ms=1e-6)
    decision = reasoner.decide([Fact("car", (f"o{i}",)) for i in range(50)])
    assert (decision.action, decision.status, decision.fallback) == ("stop", "timeout", True)
    assert "time budget ran out" in decision.why_not["go"].text


def test_a_huge_frame_within_a_small_budget_still_answers():
    reasoner = Reasoner.from_file(TRAFFIC, time_budget_ms=2.0)
    facts = []
    for i in range(3000):
        facts += [Fact("car", (f"o{i}",)), Fact("in_left_lane", (f"o{i}",)), Fact("gap", (f"o{i}",), value=100.0)]
    decision = reasoner.decide(facts)
    assert decision.action == "stop" and decision.status == "timeout" and decision.fallback


def test_no_allowed_action_falls_back_to_safe():
    rules = parse_rules("pred alarm\nactions wait, run\nsafe wait\nrule a: alarm => run\nrule b: alarm => not run")
    decision = Reasoner(rules, time_budget_ms=GENEROUS_MS).decide([Fact("alarm")])
    assert (decision.action, decision.status, decision.fallback) == ("wait", "fallback", True)
    assert [r.name for r in decision.why_not["run"].rules] == ["b"]
    assert [r.name for r in decision.why_not["wait"].rules] == ["a"]
    assert [r.name for r in decision.conflict] == ["a", "b"]


def test_the_conflict_is_a_minimal_core_of_rule_instances():
    rules = parse_rules("pred red(o)\npred fire\nactions stop, go, turn\n"
                        "rule halt: exists o: red(o) => stop\nrule move: fire => go or turn\n"
                        "rule straight: fire => not turn\nrule unrelated: exists o: red(o) => not turn")
    decision = Reasoner(rules, time_budget_ms=GENEROUS_MS).decide([Fact("red", ("o1",)), Fact("red", ("o2",)), Fact("fire")])
    assert decision.fallback and len(decision.conflict) == 2
    assert decision.conflict[1].name == "move" and decision.conflict[0].name in ("halt[o1]", "halt[o2]")


def test_ties_break_by_the_actions_line_and_are_reported():
    rules = parse_rules("actions left, right, wait\nprefer left weight 1\nprefer right weight 1")
    decision = Reasoner(rules, time_budget_ms=GENEROUS_MS).decide([])
    assert decision.action == "left" and decision.tied == ["right"]
    assert "ties with left" in decision.why_not["right"].text


def test_soft_rules_per_instance_weights():
    rules = parse_rules("pred dog(o)\nactions walk, run\nprefer run weight 5\n"
                        "rule calm [weight 2]: exists o: dog(o) => walk")
    reasoner = Reasoner(rules, time_budget_ms=GENEROUS_MS)
    assert reasoner.decide([Fact("dog", ("d1",)), Fact("dog", ("d2",))]).action == "run"   # 5 - 2*2 > 0
    decision = reasoner.decide([Fact("dog", (f"d{i}",)) for i in range(3)])               # 5 - 3*2 < 0
    assert decision.action == "walk"
    assert [r.name for r in decision.why_not["run"].rules] == ["calm[d0]", "calm[d1]", "calm[d2]"]


def test_explain_false_skips_why_nots_but_keeps_fired(traffic):
    decision = traffic.decide(red_light(), explain=False)
    assert decision.action == "stop" and decision.why_not == {}
    assert "red_light[o3]" in [r.name for r in decision.fired]
    assert decision.timings_ms["total"] > 0


def test_decisions_are_json_ready(traffic):
    data = traffic.decide(red_light()).to_json()
    assert data["action"] == "stop" and data["why_not"]["go"]["rules"][0]["rule"] == "red_light"


def test_a_factbase_and_unknown_predicates_are_accepted(traffic):
    facts = FactBase(red_light() + [Fact("weather", ("rain",))], objects={"o3": "traffic_light"})
    assert traffic.decide(facts).action == "stop"


def test_repair_before_deciding_flips_the_least_confident_colour():
    reasoner = Reasoner.from_file(TRAFFIC, repair=True, time_budget_ms=GENEROUS_MS)
    decision = reasoner.decide(red_light(0.9, green=0.85))
    assert decision.repaired == ["light(o3, green)"]
    assert decision.action == "stop"


def test_violations_and_allowed_actions(traffic):
    assert traffic.allowed_actions(red_light()) == ["stop"]
    assert [v.name for v in traffic.violations(red_light(), "go")] == ["red_light[o3]"]
    with pytest.raises(ValueError, match="unknown action 'fly'; the rule file's actions are stop, yield"):
        traffic.violations(red_light(), "fly")


@pytest.mark.parametrize("kwargs, message", [
    ({"low": 1.5}, r"`low` must be a number in \[0, 1\]. Received: low=1.5"),
    ({"low": 0.9, "high": 0.5}, "`low` must be below `high`. Received: low=0.9, high=0.5"),
    ({"time_budget_ms": 0}, "`time_budget_ms` must be a positive number. Received: time_budget_ms=0"),
])
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Reasoner.from_file(TRAFFIC, **kwargs)


def test_bad_inputs(traffic):
    with pytest.raises(TypeError, match="Received a single Fact"):
        traffic.decide(Fact("car", ("o1",)))
    with pytest.raises(TypeError, match="`facts` must hold Fact objects. Received str"):
        traffic.decide(["car(o1)"])
    with pytest.raises(TypeError, match="`ruleset` must be a RuleSet"):
        Reasoner("configs/rules/traffic.rules")
    with pytest.raises(ValueError, match="declares no actions"):
        Reasoner(parse_rules("pred a"))


def test_soft_rules_read_uncertain_values_as_measured():
    rules = parse_rules("func ego_speed: Real in [0, 40]\nactions slow, go\nprefer go weight 1\n"
                        "rule calm [weight 5]: ego_speed > 10 => slow")
    reasoner = Reasoner(rules, time_budget_ms=GENEROUS_MS)
    assert reasoner.decide([Fact("ego_speed", (), 0.5, value=12.0)]).action == "slow"
    assert reasoner.decide([Fact("ego_speed", (), 0.5, value=8.0)]).action == "go"


def oracle_action(ruleset, facts):
    """The same choice by brute force: one z3 Optimize over the whole frame, every fact as a z3 term."""
    import z3

    from symbolic.compiler.compiler import compile_rules, exactly_one
    from symbolic.compiler.worlds import SymbolicWorld

    compiled = compile_rules(ruleset)
    world = SymbolicWorld(ruleset, 0)
    world.objects = sorted({f.args[0] for f in facts if f.args})
    optimizer = z3.Optimize()
    optimizer.add(exactly_one(world.actions.values()))
    optimizer.add(*[v for _, v in compiled.holds(world, "hard")])
    for instance, value in compiled.holds(world, "soft"):
        optimizer.add_soft(value, str(instance.rule.weight))
    for position, action in enumerate(ruleset.actions):
        weight = ruleset.preferences.get(action, 0.0) + 20 + 1e-3 * (len(ruleset.actions) - position)
        optimizer.add_soft(world.actions[action], f"{weight:.4f}")
    known = {(f.predicate, f.args): f for f in facts}
    for key, variable in list(world.truth.items()):
        optimizer.add(variable == (key in known))
    for key, variable in list(world.values.items()):
        if key in known:
            optimizer.add(variable == known[key].value)
    assert optimizer.check() == z3.sat
    model = optimizer.model()
    return next(a for a in ruleset.actions if z3.is_true(model.eval(world.actions[a], model_completion=True)))


@pytest.mark.parametrize("seed", range(20))
def test_choices_match_a_brute_force_optimizer(traffic, seed):
    import random
    rng = random.Random(seed)
    facts = [Fact("ego_speed", (), value=rng.uniform(5, 16)), Fact("speed_limit", (), value=13.9),
             Fact("stopping_distance", (), value=20.0)]
    facts += [Fact(name) for name in ("left_lane_exists", "right_lane_exists", "stopped_at_sign") if rng.random() < 0.5]
    for i in range(rng.randint(1, 5)):
        o = f"o{i}"
        facts.append(Fact(rng.choice(("car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign")), (o,)))
        facts += [Fact(p, (o,)) for p in ("ahead", "same_lane", "in_left_lane", "in_right_lane", "in_crosswalk",
                                           "on_sidewalk", "approaching", "applies_to_ego", "on_road")
                  if rng.random() < 0.4]
        if rng.random() < 0.5:
            facts.append(Fact("light", (o, rng.choice(("red", "yellow", "green")))))
        dist = rng.uniform(1, 40)
        facts += [Fact("dist", (o,), value=dist), Fact("gap", (o,), value=dist - 1),
                  Fact("speed", (o,), value=rng.uniform(0, 15)), Fact("ttc", (o,), value=rng.uniform(1, 100))]
    likely = Reasoner.from_file(TRAFFIC, robust=False, time_budget_ms=GENEROUS_MS)
    decision = likely.decide(facts)
    assert not decision.fallback, decision.status  # a fallback would be compared with nothing
    assert decision.action == oracle_action(likely.ruleset, facts)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TRAFFIC_RULES = Reasoner.from_file(TRAFFIC).ruleset


@st.composite
def traffic_frames(draw):
    rules = _TRAFFIC_RULES
    objects = [f"o{i}" for i in range(draw(st.integers(0, 4)))]
    facts = []
    for _ in range(draw(st.integers(0, 25))):
        confidence = draw(st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]))
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(rules.predicates)))
            sorts = rules.predicates[name]
            args = tuple(draw(st.sampled_from(objects or ["o0"])) if s == "object" else
                         draw(st.sampled_from(rules.sorts[s])) for s in sorts)
            facts.append(Fact(name, args, confidence))
        else:
            name = draw(st.sampled_from(sorted(rules.functions)))
            sorts, _, (low, high) = rules.functions[name]
            args = tuple(draw(st.sampled_from(objects or ["o0"])) for _ in sorts)
            facts.append(Fact(name, args, confidence, value=draw(st.floats(low, high)),
                              tolerance=draw(st.sampled_from([0.0, 0.0, 0.5, 5.0]))))
    return facts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(traffic_frames())
def test_any_valid_frame_gets_an_action_and_never_raises(traffic, facts):
    decision = traffic.decide(facts)
    assert decision.action in traffic.ruleset.actions
    assert decision.fallback or decision.action not in decision.why_not
    likely = Reasoner(traffic.ruleset, robust=False, time_budget_ms=GENEROUS_MS).decide(facts)
    if not likely.fallback:  # the chosen action breaks no hard rule, and every rejected one has a reason
        assert traffic.violations(facts, likely.action) == []
        assert all(w.text for w in likely.why_not.values())


# -- the fast path (residuals in Python) decides as z3 alone does --------------------

LABELS = ("car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign")


def uncertain_frame(rng, num_objects, tolerances=False):
    """A driving frame as the pipeline grounds one: weak detections, unknown motion, unsure light colours,
    sometimes a second class on one object and unsure positions; with ``tolerances``, measured values
    known within a tolerance (positions, speeds, the ego's speed and stopping distance)."""
    def confidence(share_uncertain=0.4):
        return round(rng.uniform(0.06, 0.79), 2) if rng.random() < share_uncertain else 1.0

    def tolerance(*choices):
        return rng.choice(choices) if tolerances else 0.0

    ego_speed = rng.uniform(0, 16)
    facts = [Fact("ego_speed", (), value=ego_speed, tolerance=tolerance(0.0, 0.2, 1.0)),
             Fact("speed_limit", (), value=13.9),
             Fact("stopping_distance", (), value=0.5 * ego_speed + ego_speed ** 2 / 7,
                  tolerance=tolerance(0.0, 0.5, 3.0))]
    facts += [Fact(name, (), confidence(0.3)) for name in ("left_lane_exists", "right_lane_exists", "ego_stopped",
                                                           "stopped_at_sign") if rng.random() < 0.5]
    for i in range(num_objects):
        o = f"o{i}"
        label = rng.choices(LABELS, (4, 1, 3, 1, 1, 1))[0]
        facts.append(Fact(label, (o,), confidence()))
        if rng.random() < 0.1:
            facts.append(Fact(rng.choice(LABELS), (o,), confidence(1.0)))
        ahead = rng.random() < 0.7
        dist = rng.uniform(1, 90)
        placed = 0.5 if rng.random() < 0.1 else 1.0
        spread = tolerance(0.0, 0.3, 1.0, 5.0, 20.0)
        facts += [Fact("ahead" if ahead else "behind", (o,)), Fact("dist", (o,), placed, value=dist, tolerance=spread),
                  Fact("gap", (o,), placed, value=dist - 2 if ahead else -dist, tolerance=spread)]
        if label in ("traffic_light", "stop_sign"):
            if rng.random() < 0.7:
                facts.append(Fact("applies_to_ego", (o,), confidence(0.2)))
            if label == "traffic_light":
                facts += [Fact("light", (o, colour), round(rng.random(), 2)) for colour in ("red", "yellow", "green")]
            continue
        facts.append(Fact(rng.choice(("same_lane", "in_left_lane", "in_right_lane", "on_sidewalk")), (o,),
                          confidence(0.2)))
        if label == "pedestrian":
            facts.append(Fact(rng.choice(("in_crosswalk", "on_sidewalk", "on_sidewalk", "on_road")), (o,)))
        else:
            facts.append(Fact("on_road", (o,)))
        known = rng.random() < 0.5
        motion = 1.0 if known else 0.5
        facts += [Fact("speed", (o,), motion, value=rng.uniform(0, 15), tolerance=tolerance(0.0, 0.5, 2.0)),
                  Fact("ttc", (o,), motion, value=rng.choice((100.0, 100.0, rng.uniform(0.3, 8.0))),
                       tolerance=tolerance(0.0, 0.5, 2.0)),
                  Fact("approaching", (o,), rng.choice((0.0, 1.0)) if known else 0.5)]
    objects = [f"o{i}" for i in range(num_objects)]
    facts += [Fact("near", (a, b)) for a in objects for b in objects if a != b and rng.random() < 0.1]
    return facts


def decision_record(decision):
    record = decision.to_json()
    del record["timings_ms"]
    return record


@pytest.mark.parametrize("tolerances", [False, True])
def test_shortcuts_change_no_decision(monkeypatch, tolerances):
    import random

    from symbolic.reasoning import reasoner as module

    verdicts = []
    settle = module._Frame.settle
    monkeypatch.setattr(module._Frame, "settle", lambda frame, value: verdicts.append(settle(frame, value)) or
                        verdicts[-1])
    fast = Reasoner.from_file(TRAFFIC, low=0.05, high=0.8, time_budget_ms=60_000)
    z3_only = Reasoner.from_file(TRAFFIC, low=0.05, high=0.8, time_budget_ms=60_000, shortcuts=False)
    rng = random.Random(0)
    measured = 0  # why-nots where only a value's tolerance could break a rule
    for _ in range(150):
        facts = uncertain_frame(rng, rng.randint(0, 12), tolerances)
        for explain in (True, False):
            expected = z3_only.decide(facts, explain=explain)
            assert decision_record(fast.decide(facts, explain=explain)) == decision_record(expected)
            measured += sum("within the tolerance of" in w.text for w in expected.why_not.values())
    assert (measured > 10) if tolerances else measured == 0
    assert len([v for v in verdicts if v is not None]) > 200  # settled in Python ...
    assert verdicts.count(None) > 10                           # ... and the rest asked of z3


def test_an_uncertain_value_that_cannot_reach_a_threshold_is_settled_safe(monkeypatch):
    from symbolic.reasoning import reasoner as module

    monkeypatch.setattr(module._Frame, "ask_z3", lambda frame, value: pytest.fail(f"asked z3 about {value}"))
    rules = parse_rules("pred car(o)\nfunc speed(o): Real in [0, 60]\nactions stop, go\nsafe stop\n"
                        "rule too_fast: exists o in car: speed(o) - 10 > 50 => stop\nprefer go weight 1")
    decision = Reasoner(rules, time_budget_ms=GENEROUS_MS).decide([Fact("car", ("c1",), 0.5), Fact("speed", ("c1",), 0.5, value=12.0)])
    assert decision.action == "go" and decision.uncertain == [] and decision.fired[0].name == "too_fast[c1]"


def test_shortcuts_ask_z3_what_monotonicity_cannot_settle():
    # a gap between two bounds pulls the uncertain gap both ways; a certain red leaves no room for yellow
    facts = [Fact("car", ("o1",)), Fact("in_left_lane", ("o1",)), Fact("gap", ("o1",), 0.5, value=80.0),
             Fact("left_lane_exists", ()), Fact("traffic_light", ("o2",)), Fact("applies_to_ego", ("o2",)),
             Fact("ahead", ("o2",)), Fact("dist", ("o2",), value=60.0), Fact("stopping_distance", (), value=20.0),
             Fact("light", ("o2", "red")), Fact("light", ("o2", "yellow"), 0.4)]
    fast = Reasoner.from_file(TRAFFIC, time_budget_ms=GENEROUS_MS).decide(facts)
    assert decision_record(fast) == decision_record(Reasoner.from_file(TRAFFIC, shortcuts=False, time_budget_ms=GENEROUS_MS).decide(facts))
    assert fast.action == "go" and "change_left" in fast.why_not
    assert "could break left_lane_clear" in fast.why_not["change_left"].text
    assert fast.uncertain == ["gap(o1)"]  # the yellow light cannot show: the constraints rule it out


def test_a_why_not_names_every_instance_some_reading_breaks(traffic):
    # an unsure pedestrian on the road ahead and a car of unknown motion in the lane: either can stop the ego
    facts = [Fact("pedestrian", ("p1",), 0.3), Fact("on_road", ("p1",)), Fact("same_lane", ("p1",)),
             Fact("ahead", ("p1",)), Fact("dist", ("p1",), value=12.0), Fact("stopping_distance", (), value=20.0),
             Fact("car", ("c1",)), Fact("same_lane", ("c1",)), Fact("ahead", ("c1",)),
             Fact("ttc", ("c1",), 0.5, value=100.0), Fact("ego_speed", (), value=8.0),
             Fact("gap", ("c1",), value=40.0), Fact("gap", ("p1",), value=10.0)]
    decision = traffic.decide(facts)
    assert decision.action == "stop" and decision.uncertain == ["pedestrian(p1)", "ttc(c1)"]
    assert [r.name for r in decision.why_not["go"].rules] == ["pedestrian_on_road[p1]", "emergency_brake[c1]"]
    assert decision.why_not["go"].text.startswith(
        "go is not safe in every reading of the uncertain facts pedestrian(p1), ttc(c1): it could break "
        "pedestrian_on_road[p1]")


# -- values known within a tolerance -------------------------------------------------

def crosswalk_frame(dist, tolerance=0.0):
    return [Fact("pedestrian", ("p1",)), Fact("in_crosswalk", ("p1",)), Fact("ahead", ("p1",)),
            Fact("dist", ("p1",), value=dist, tolerance=tolerance), Fact("ego_speed", (), value=5.0),
            Fact("speed_limit", (), value=14.0), Fact("stopping_distance", (), value=8.0)]


@pytest.mark.parametrize("shortcuts", [True, False])
def test_a_pedestrian_measured_just_past_the_threshold_stops_the_robust_reasoner(shortcuts):
    # read at 40.01 m, truly anywhere in [39.91, 40.11]: `dist(p) < 40 => stop` may apply
    robust = Reasoner.from_file(TRAFFIC, shortcuts=shortcuts, time_budget_ms=GENEROUS_MS).decide(crosswalk_frame(40.01, 0.1))
    assert robust.action == "stop" and robust.uncertain == ["dist(p1)"]
    assert robust.why_not["go"].text == (
        "go is not safe for every value within the tolerance of dist(p1) = 40.01 ± 0.1: it could break "
        "crosswalk[p1] (configs/rules/traffic.rules:35) because pedestrian(p1), in_crosswalk(p1), ahead(p1), "
        "dist(p1) = 40.01 ± 0.1")
    assert all(r.name == "crosswalk[p1]" for w in robust.why_not.values() if w.action in ("go", "slow", "yield")
               for r in w.rules)
    plain = Reasoner.from_file(TRAFFIC, robust=False, shortcuts=shortcuts, time_budget_ms=GENEROUS_MS).decide(crosswalk_frame(40.01, 0.1))
    assert plain.action == "go" and plain.uncertain == []


def test_a_tolerance_that_cannot_reach_the_threshold_or_is_zero_changes_nothing(traffic):
    beyond = traffic.decide(crosswalk_frame(40.2, 0.1))  # decided while grounding, as an exact 40.2 is
    assert beyond.action == "go" and beyond.uncertain == [] and "crosswalk[p1]" not in [r.name for r in beyond.fired]
    exact = traffic.decide(crosswalk_frame(40.01))
    assert exact.action == "go"
    assert decision_record(traffic.decide(crosswalk_frame(40.01, 0.0))) == decision_record(exact)
    # [38.5, 39.5] lies wholly under 40: stop as when exact, the why-nots showing the tolerance
    within = traffic.decide(crosswalk_frame(39.0, 0.5))
    assert within.action == "stop" and within.uncertain == []
    assert within.why_not["go"].text.startswith("go breaks crosswalk[p1]")
    assert json.dumps(decision_record(within)).replace(" \\u00b1 0.5", "") == \
        json.dumps(decision_record(traffic.decide(crosswalk_frame(39.0))))


def test_an_unsure_value_with_a_tolerance_is_still_anywhere_in_its_range(traffic):
    facts = [f for f in red_light() if f.predicate != "dist"] + [Fact("dist", ("o3",), 0.5, value=150.0, tolerance=0.1)]
    assert traffic.decide(facts).action == "stop" and traffic.decide(facts).uncertain == ["dist(o3)"]


BAND = parse_rules("pred car(o)\nfunc dist(o): Real in [0, 200]\nfunc gap(o): Real in [-200, 200]\n"
                   "func ego_speed: Real in [0, 40]\nactions stop, go\nsafe stop\nprefer go weight 1\n"
                   "rule band: exists o in car: dist(o) > 10 and dist(o) < 10.5 => stop\n"
                   "rule headway: exists o in car: gap(o) < 2 * ego_speed => stop\n"
                   "rule twice: exists o in car: dist(o) - 2 * dist(o) > -5 => stop")


@pytest.mark.parametrize("dist, tolerance, action", [
    (10.6, 0.05, "go"),    # [10.55, 10.65]: above the band
    (10.6, 0.15, "stop"),  # reaches 10.45
    (9.9, 0.15, "stop"),   # reaches 10.05
    (9.9, 0.05, "go"),     # [9.85, 9.95]: below it
    (10.25, 5.0, "stop"),  # both ends outside, the band inside: only z3 can tell
])
@pytest.mark.parametrize("shortcuts", [True, False])
def test_a_two_sided_condition_breaks_anywhere_inside_the_interval(dist, tolerance, action, shortcuts):
    facts = [Fact("car", ("c1",)), Fact("dist", ("c1",), value=dist, tolerance=tolerance)]
    decision = Reasoner(BAND, shortcuts=shortcuts, time_budget_ms=GENEROUS_MS).decide(facts)
    assert decision.action == action
    if action == "stop" and dist > 6:
        assert [r.name for r in decision.why_not["go"].rules] == ["band[c1]"]


@pytest.mark.parametrize("gap, gap_tolerance, speed_tolerance, action", [
    (20.15, 0.1, 0.05, "stop"),  # 20.05 < 2 * 10.05: both errors together reach it
    (20.15, 0.1, 0.0, "go"),     # 20.05 < 20 fails
    (20.15, 0.0, 0.05, "go"),    # 20.15 < 20.1 fails
    (20.3, 0.1, 0.05, "go"),     # 20.2 < 20.1 fails
])
@pytest.mark.parametrize("shortcuts", [True, False])
def test_two_measured_values_in_one_comparison(gap, gap_tolerance, speed_tolerance, action, shortcuts):
    facts = [Fact("car", ("c1",)), Fact("gap", ("c1",), value=gap, tolerance=gap_tolerance),
             Fact("ego_speed", (), value=10.0, tolerance=speed_tolerance)]
    decision = Reasoner(BAND, shortcuts=shortcuts, time_budget_ms=GENEROUS_MS).decide(facts)
    assert decision.action == action
    if action == "stop":
        assert decision.uncertain == ["ego_speed", "gap(c1)"]
        assert "within the tolerance of ego_speed = 10 ± 0.05, gap(c1) = 20.15 ± 0.1" in decision.why_not["go"].text


@pytest.mark.parametrize("dist, action", [(40.01, "go"), (39.99, "stop")])
def test_soft_rules_read_a_measured_value_as_measured(dist, action):
    rules = parse_rules("pred car(o)\nfunc dist(o): Real in [0, 200]\nactions stop, go\nprefer go weight 1\n"
                        "rule calm [weight 5]: exists o in car: dist(o) < 40 => stop")
    facts = [Fact("car", ("c1",)), Fact("dist", ("c1",), value=dist, tolerance=0.1)]
    assert Reasoner(rules, time_budget_ms=GENEROUS_MS).decide(facts).action == action


@pytest.mark.parametrize("dist, action", [(5.05, "stop"), (5.2, "go")])
@pytest.mark.parametrize("shortcuts", [True, False])
def test_one_value_on_both_sides_with_a_negative_coefficient(dist, action, shortcuts):
    # dist - 2 * dist > -5 is dist < 5: pulled both ways, so only z3 settles it
    facts = [Fact("car", ("c1",)), Fact("dist", ("c1",), value=dist, tolerance=0.1)]
    assert Reasoner(BAND, shortcuts=shortcuts, time_budget_ms=GENEROUS_MS).decide(facts).action == action


def test_a_single_threshold_is_settled_in_python_at_an_interval_end(monkeypatch):
    from symbolic.reasoning import reasoner as module

    monkeypatch.setattr(module._Frame, "ask_z3", lambda frame, value: pytest.fail(f"asked z3 about {value}"))
    reasoner = Reasoner.from_file(TRAFFIC, time_budget_ms=GENEROUS_MS)
    assert reasoner.decide(crosswalk_frame(40.01, 0.1)).action == "stop"
    assert reasoner.decide(crosswalk_frame(40.2, 0.1)).action == "go"
    facts = [Fact("car", ("c1",)), Fact("gap", ("c1",), value=20.15, tolerance=0.1),
             Fact("ego_speed", (), value=10.0, tolerance=0.05)]
    assert Reasoner(BAND, time_budget_ms=GENEROUS_MS).decide(facts).action == "stop"  # gap at its low end, ego_speed at its high end


@pytest.mark.parametrize("rule, action", [("dist(o) < 39.9", "go"), ("dist(o) <= 39.9", "stop"),
                                          ("dist(o) > 40.1", "go"), ("dist(o) >= 40.1", "stop"),
                                          ("2 * dist(o) - 0.2 < 79.6", "go"), ("2 * dist(o) - 0.2 <= 79.6", "stop")])
@pytest.mark.parametrize("shortcuts", [True, False])
def test_the_ends_of_a_tolerance_are_exact(rule, action, shortcuts):
    # 40 ± 0.1 is [39.9, 40.1] exactly, as the numbers are written, though 40.0 - 0.1 rounds in floating point
    rules = parse_rules(f"pred car(o)\nfunc dist(o): Real in [0, 200]\nactions stop, go\nsafe stop\n"
                        f"prefer go weight 1\nrule r: exists o in car: {rule} => stop")
    facts = [Fact("car", ("c1",)), Fact("dist", ("c1",), value=40.0, tolerance=0.1)]
    assert Reasoner(rules, shortcuts=shortcuts, time_budget_ms=GENEROUS_MS).decide(facts).action == action
