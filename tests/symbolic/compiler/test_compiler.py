"""The compiler grounds the same rules over concrete facts (deciding) and symbolic objects (verifying)."""
import z3

from symbolic.compiler.compiler import compile_rules, exactly_one
from symbolic.compiler.worlds import FactWorld, SymbolicWorld
from symbolic.language.loader import load_rules, parse_rules
from symbolic.reasoning.facts import Fact

RULES = parse_rules("""
sort Color = {red, green}
pred light(o, Color)  pred car(o)  pred near(o, o)  pred night
func dist(o): Real in [0, 100]
actions stop, go
define close(o) := dist(o) < 10
constraint forall o: not (light(o, red) and light(o, green))
rule red: exists o: light(o, red) and dist(o) - 5 < 2 * 10 => stop
rule pair: exists a in car, b in car: a != b and near(a, b) => stop
rule dark: night => not go
rule all_far: forall o in car: not close(o) => go   # (forall ...) => go: one instance
""", "t.rules")


def world_of(*facts, reading="likely"):
    world = FactWorld(RULES, facts, reading=reading)
    return compile_rules(RULES).prepare(world)


def names(compiled, world):
    return [i.name for i in compiled.ground(world)]


def test_instances_are_named_by_their_bindings():
    compiled = compile_rules(RULES)
    world = world_of(Fact("light", ("o1", "red")), Fact("dist", ("o1",), value=3.0),
                     Fact("car", ("c1",)), Fact("car", ("c2",)), Fact("near", ("c1", "c2")))
    assert names(compiled, world) == ["red[o1]", "pair[c1, c2]", "all_far"]


def test_certain_facts_evaluate_in_python():
    compiled = compile_rules(RULES)
    world = world_of(Fact("light", ("o1", "red")), Fact("dist", ("o1",), value=3.0))
    (instance,) = [i for i in compiled.ground(world) if i.rule.name == "red"]
    assert instance.condition is True
    assert instance.holds(compiled.choose(world, "go")) is False
    assert instance.holds(compiled.choose(world, "stop")) is True


def test_missing_values_satisfy_no_comparison():
    compiled = compile_rules(RULES)
    world = world_of(Fact("light", ("o1", "red")))
    assert [i.name for i in compiled.ground(world)] == ["all_far"]  # no car: every car is far


def test_uncertain_facts_leave_a_z3_residual():
    compiled = compile_rules(RULES)
    world = world_of(Fact("light", ("o1", "red"), 0.5), Fact("dist", ("o1",), value=3.0), reading="robust")
    (instance,) = [i for i in compiled.ground(world) if i.rule.name == "red"]
    assert str(instance.condition) == "light(o1, red)"
    assert str(instance.holds(compiled.choose(world, "go"))) == "Not(light(o1, red))"


def test_constraints_ground_to_values():
    compiled = compile_rules(RULES)
    world = world_of(Fact("light", ("o1", "red")), Fact("light", ("o1", "green")))
    assert compiled.ground_constraints(world) == [False]


def test_symbolic_world_grounds_every_object_as_unknown():
    compiled = compile_rules(RULES)
    world = SymbolicWorld(RULES, 2)
    hard = compiled.holds(world)
    assert [i.name for i, _ in hard] == ["red[x1]", "red[x2]", "pair[x1, x2]", "pair[x2, x1]", "dark", "all_far"]
    assert all(isinstance(v, z3.ExprRef) for _, v in hard)


def verify_no_dead_end(ruleset, num_objects):
    """A tiny verifier: is there a scene of num_objects objects where no action satisfies the hard rules?"""
    compiled = compile_rules(ruleset)
    world = SymbolicWorld(ruleset, num_objects)
    solver = z3.Solver()
    hard = [v for _, v in compiled.holds(world)]
    constraints = [v for _, v in compiled.holds(world, "constraint")]
    solver.add(*world.side_conditions, *constraints)
    # no action works: for each action, choosing it breaks some hard rule
    for action in ruleset.actions:
        chosen = {a: z3.BoolVal(a == action) for a in ruleset.actions}
        substituted = [z3.substitute(v, *[(world.actions[a], chosen[a]) for a in ruleset.actions]) for v in hard]
        solver.add(z3.Not(z3.And(substituted)))
    return solver.check()


def test_exactly_one_action_holds_in_every_model():
    world = SymbolicWorld(RULES, 1)
    stop, go = world.actions["stop"], world.actions["go"]
    solver = z3.Solver()
    solver.add(exactly_one(world.actions.values()))
    assert solver.check(stop, go) == z3.unsat                       # two at once: impossible
    assert solver.check(z3.Not(stop), z3.Not(go)) == z3.unsat       # none: impossible
    assert solver.check(stop) == z3.sat and z3.is_false(solver.model().eval(go, model_completion=True))
    assert solver.check(go) == z3.sat and z3.is_false(solver.model().eval(stop, model_completion=True))
    three = z3.Bools("a b c")
    solver = z3.Solver()
    solver.add(exactly_one(three))
    assert solver.check(z3.Sum([z3.If(t, 1, 0) for t in three]) != 1) == z3.unsat


def test_the_same_rules_prove_properties_over_all_scenes():
    assert verify_no_dead_end(RULES, 2) == z3.sat  # night and every car far: go and not go
    assert verify_no_dead_end(load_rules("configs/rules/traffic.rules"), 1) == z3.unsat  # stop always works


def test_pruning_by_class_keeps_a_worlds_own_guards():
    rules = parse_rules("pred red(o)\npred car(o)\nactions stop, go\nrule r: exists o: red(o) and car(o) => stop")

    class PresenceWorld(SymbolicWorld):
        def members(self, label):
            guards = [(o, z3.Bool(f"present({o})")) for o in self.objects]
            if label is None:
                return guards
            return [(o, z3.And(g, self.truth[(label, (o,))])) for o, g in guards]

    compiled = compile_rules(rules)
    (instance,) = list(compiled.ground(PresenceWorld(rules, 1)))
    assert str(instance.condition) == "And(present(x1), And(red(x1), car(x1)))"
    concrete = FactWorld(rules, [Fact("car", ("c1",)), Fact("car", ("c2",)), Fact("red", ("c2",))])
    assert [i.name for i in compiled.ground(compiled.prepare(concrete))] == ["r[c2]"]


# -- residuals in Python -----------------------------------------------------------

from fractions import Fraction  # noqa: E402

import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from symbolic.compiler.residual import Residual, and_values, implies_value, not_value, or_values  # noqa: E402

UNCERTAIN = [Fact("light", ("o1", "red"), 0.5), Fact("light", ("o1", "green"), 0.3), Fact("car", ("c1",), 0.6),
             Fact("car", ("c2",)), Fact("near", ("c1", "c2"), 0.7), Fact("dist", ("o1",), 0.5, value=3.0),
             Fact("night", (), 0.4)]


def test_python_residuals_are_the_terms_a_z3_world_builds():
    compiled = compile_rules(RULES)
    z3_world = world_of(*UNCERTAIN, reading="robust")
    python_world = compiled.prepare(FactWorld(RULES, UNCERTAIN, reading="robust", terms="python"))
    assert python_world.variables.keys() == z3_world.variables.keys() == python_world.uncertain.keys()
    z3_instances, python_instances = list(compiled.ground(z3_world)), list(compiled.ground(python_world))
    assert [i.name for i in python_instances] == [i.name for i in z3_instances] == \
        ["red[o1]", "pair[c1, c2]", "dark", "all_far"]
    memo = {}
    for action in RULES.actions:
        for ours, theirs in zip(python_instances, z3_instances):
            mine, expected = ours.holds(compiled.choose(python_world, action)), theirs.holds(compiled.choose(z3_world, action))
            if isinstance(expected, bool):
                assert mine is expected
            else:
                assert mine.to_z3(memo).eq(expected), (ours.name, mine, expected)
    assert [c.to_z3(memo) if isinstance(c, Residual) else c for c in compiled.ground_constraints(python_world)] == \
        [c for c in compiled.ground_constraints(z3_world)]


def test_a_residual_evaluates_exactly_as_z3_reads_numbers():
    x = Residual.quantity("x", 0.0, 1.0)
    assert (x + 0.2 == 0.3).evaluate({"x": 0.1}) is True  # 0.1 + 0.2 != 0.3 in floats, = in z3
    assert z3.is_true(z3.simplify(z3.substitute((x + 0.2 == 0.3).to_z3({}), (z3.Real("x"), z3.RealVal(0.1)))))
    assert (x * 2 <= 1).evaluate({"x": Fraction(1, 2)}) is True
    with pytest.raises(ZeroDivisionError):
        (x / 0 < 1).evaluate({"x": 1})
    with pytest.raises(TypeError, match="no truth value"):
        bool(x < 1)


def test_extreme_is_none_where_monotonicity_does_not_decide():
    x, y, a = Residual.quantity("x", 0.0, 10.0), Residual.quantity("y", 0.0, 10.0), Residual.atom("a")
    assert and_values([x > 1, x < 3]).extreme(True) is None        # pulled both ways
    assert (x == 2).extreme(True) is None                          # an equality
    assert (x * y < 3).extreme(True) is None                       # a product of unknowns
    assert (x / 0 < 3).extreme(True) is None                       # unspecified
    assert (Residual.quantity("z") < 3).extreme(True) is None      # no range
    assert and_values([a, not_value(a)]).extreme(True) is None
    assert (3 - 2 * x > 1).extreme(True) == {"x": 0.0}
    assert (x * 0 < 1).extreme(True) == {}


_ATOMS = [Residual.atom(name) for name in ("a", "b")]
_NUMBERS = [Residual.quantity("x", -5.0, 5.0), Residual.quantity("y", 0.0, 2.5)]


def _numbers():
    leaf = st.one_of(st.sampled_from(_NUMBERS), st.sampled_from([-7.5, -2.0, 0.0, 0.5, 3, 6.0]))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.tuples(st.sampled_from(["+", "-", "*", "/"]), inner, inner).map(_arithmetic),
        inner.map(lambda term: -term if isinstance(term, Residual) else term)), max_leaves=4)


def _arithmetic(parts):
    op, left, right = parts
    if not isinstance(left, Residual) and not isinstance(right, Residual):
        return left
    if op == "/" and not isinstance(right, Residual) and right == 0:
        right = 2.0
    return {"+": left + right, "-": left - right, "*": left * right, "/": left / right}[op]


def _comparison(parts):
    op, left, right = parts
    if not isinstance(left, Residual) and not isinstance(right, Residual):
        left = _NUMBERS[0]
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _formulas():
    leaf = st.one_of(st.sampled_from(_ATOMS),
                     st.tuples(st.sampled_from(["<", "<=", ">", ">="]), _numbers(), _numbers()).map(_comparison))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(and_values), st.lists(inner, min_size=2, max_size=3).map(or_values),
        inner.map(not_value), st.tuples(inner, inner).map(lambda pair: implies_value(*pair))), max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(_formulas(), st.booleans())
def test_the_extreme_completion_reaches_a_value_exactly_when_one_exists(formula, want):
    extreme = formula.extreme(want)
    if extreme is None:
        return
    defaults = {"a": False, "b": False, "x": -5.0, "y": 0.0}
    try:
        reached = formula.evaluate({**defaults, **extreme}) == want
    except ZeroDivisionError:
        return
    solver = z3.Solver()
    x, y = z3.Reals("x y")
    solver.add(x >= -5.0, x <= 5.0, y >= 0.0, y <= 2.5, formula.to_z3({}) == want)
    assert reached == (solver.check() == z3.sat), (formula, want, extreme)
