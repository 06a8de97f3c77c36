"""The compiler grounds the same rules over concrete facts (deciding) and symbolic objects (verifying)."""
import z3

from symbolic.compiler import FactWorld, SymbolicWorld, compile_rules, exactly_one
from symbolic.facts import Fact
from symbolic.rules import load_rules, parse_rules

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
    actions = list(world.actions.values())
    # no action works: for each action, choosing it breaks some hard rule
    for action in ruleset.actions:
        chosen = {a: z3.BoolVal(a == action) for a in ruleset.actions}
        substituted = [z3.substitute(v, *[(world.actions[a], chosen[a]) for a in ruleset.actions]) for v in hard]
        solver.add(z3.Not(z3.And(substituted)))
    assert exactly_one(actions) is not None
    return solver.check()


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
