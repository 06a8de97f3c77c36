"""Grounding over K symbolic objects: presence flags, ranges, and scenes read back from models."""
import pytest
import z3

from symbolic.language.loader import parse_rules
from symbolic.reasoning.facts import Fact
from symbolic.verify.scene import ConcreteScene, PresenceWorld, SymbolicScene, as_z3, solve_scene

RULES = parse_rules("sort Color = {red, green}\npred car(o)\npred light(o, Color)\npred near(o, o)\n"
                    "func dist(o): Real in [0, 50]\npred raining\nactions stop, go\n"
                    "rule halt: exists o in car: dist(o) < 10 => stop\nprefer go weight 1")


def test_absent_objects_are_in_no_quantifier_range():
    world = PresenceWorld(RULES, 3)
    world._class_tests = {"car": lambda w, args: w.truth[("car", args)]}
    guards = dict(world.members("car"))
    assert set(guards) == {"x1", "x2", "x3"}
    assert str(guards["x2"]) == "And(present(x2), car(x2))"


def test_every_term_of_every_slot_exists_with_its_range():
    scene = SymbolicScene(RULES, 2)
    assert ("light", ("x2", "green")) in scene.world.truth
    assert ("near", ("x2", "x1")) in scene.world.truth
    assert ("raining", ()) in scene.world.truth
    solver = z3.Solver()
    solver.add(*scene.background)
    solver.add(scene.world.values[("dist", ("x2",))] > 50)
    assert solver.check() == z3.unsat


def test_presence_fills_slots_from_the_first():
    scene = SymbolicScene(RULES, 2)
    solver = z3.Solver()
    solver.add(*scene.background, scene.world.present["x2"], z3.Not(scene.world.present["x1"]))
    assert solver.check() == z3.unsat


def test_solved_scene_is_small_and_leaves_out_absent_objects():
    scene = SymbolicScene(RULES, 3)
    solver = z3.Solver()
    solver.add(*scene.background, scene.fires(0))
    result, example = solve_scene(scene, solver)
    assert result == z3.sat
    assert example.objects == ["x1"]
    atoms = {f.atom for f in example.facts if not f.is_function}
    assert atoms == {"car(x1)"}
    [dist] = [f for f in example.facts if f.predicate == "dist"]
    assert dist.value < 10 and (dist.value * 8).is_integer()
    assert len(solver.assertions()) == len(scene.background) + 1  # the solver is left as it was


def test_unsat_question_has_no_scene():
    scene = SymbolicScene(RULES, 1)
    solver = z3.Solver()
    solver.add(*scene.background, scene.world.values[("dist", ("x1",))] > 60)
    assert solve_scene(scene, solver) == (z3.unsat, None)


def test_scene_json_round_trips_through_facts():
    scene = ConcreteScene(["x1"], [Fact("car", ("x1",)), Fact("raining"), Fact("dist", ("x1",), value=2.5)])
    base = scene.fact_base()
    assert base.value("dist", "x1") == 2.5 and base.confidence("raining") == 1.0
    assert scene.describe() == ["x1: car, dist = 2.5", "scene: raining"]
    assert ConcreteScene([], []).describe() == []


@pytest.mark.parametrize("path", ["configs/rules/traffic.rules", "configs/rules/warehouse.rules",
                                  "configs/rules/household.rules"])
def test_no_rule_over_objects_fires_when_every_slot_is_empty(path):
    """Every ground instance carries its objects' presence, whatever path grounding takes."""
    from symbolic.language.loader import load_rules
    scene = SymbolicScene(load_rules(path), 2)
    solver = z3.Solver()
    solver.add(*scene.background, *[z3.Not(p) for p in scene.world.present.values()])
    with_objects = [i for i, rule in enumerate(scene.rules) if rule.bindings]
    assert with_objects
    for index in with_objects:
        solver.push()
        solver.add(as_z3(scene.fires(index)))
        assert solver.check() == z3.unsat, scene.rules[index].name
        solver.pop()
