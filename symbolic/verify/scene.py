"""A rule file grounded over K symbolic objects, and the concrete scenes read back from z3 models.

The verifier asks questions about *every* scene of up to K objects. It grounds
the compiled rules (:mod:`symbolic.compiler.compiler`) over a world whose objects
``x1 .. xK`` are unknown: each atom is a z3 Bool, each function value a z3 Real
in its declared range, and each object slot has a *present* flag, so that
scenes with fewer than K objects are covered too (an absent object belongs to
no quantifier's range).

:class:`SymbolicScene` holds that grounding; :func:`scene_from_model` turns a
z3 model into a :class:`ConcreteScene` (a fact list that
``nesy rules explain`` accepts).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction

import z3

from symbolic.compiler.compiler import compile_rules
from symbolic.compiler.residual import and_values, is_z3, or_values
from symbolic.compiler.worlds import SymbolicWorld
from symbolic.language.ruleset import OBJECT, RuleSet
from symbolic.reasoning.facts import Fact, FactBase

#: numeric values of a counterexample are first sought on this grid (exact in floating point).
GRID = 8


class PresenceWorld(SymbolicWorld):
    """A :class:`~symbolic.compiler.worlds.SymbolicWorld` whose object slots may be empty.

    Quantifiers range over the objects whose ``present`` flag holds.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules("pred car(o)\\nactions go")
        >>> world = PresenceWorld(rules, 2)
        >>> world.members(None)
        [('x1', present(x1)), ('x2', present(x2))]
    """

    def __init__(self, ruleset: RuleSet, num_objects: int):
        super().__init__(ruleset, num_objects)
        self.present = {o: z3.Bool(f"present({o})") for o in self.objects}

    def members(self, label: str | None) -> list:
        found = self._members.get(label)
        if found is None:
            found = []
            for obj in self.objects:
                guard = self.present[obj]
                if label is not None:
                    guard = and_values([guard, self._class_tests[label](self, (obj,))])
                if guard is not False:
                    found.append((obj, guard))
            self._members[label] = found
        return found


@dataclass
class SymbolicScene:
    """Rules, constraints and ranges of a rule file grounded over ``num_objects`` unknown objects.

    Args:
        ruleset: the checked rule file.
        num_objects: K, the most objects a scene may hold.
        compiled: the compiled rules (compiled here when ``None``).

    Attributes:
        world: the :class:`PresenceWorld`.
        instances: rule index -> its ground instances (conditions are z3 terms).
        background: z3 facts every scene obeys: ranges, constraints, presence order.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules("pred red(o)\\nactions stop, go\\nrule r: exists o: red(o) => stop")
        >>> scene = SymbolicScene(rules, 1)
        >>> scene.holds(0, "stop"), scene.holds(0, "go")
        (True, Not(And(present(x1), red(x1))))
    """

    ruleset: RuleSet
    num_objects: int
    compiled: object = None
    world: PresenceWorld = field(init=False)
    instances: dict = field(init=False)
    background: list = field(init=False)

    def __post_init__(self):
        self.compiled = self.compiled or compile_rules(self.ruleset)
        self.world = self.compiled.prepare(PresenceWorld(self.ruleset, self.num_objects))
        self._touch_every_term()
        self.compiled.choose(self.world, self.ruleset.actions[0])
        self.instances = {index: list(self.compiled.ground(self.world, rules=[rule]))
                          for index, rule in enumerate(self.compiled.rules)}
        self._holds: dict = {}
        constraints = [v for v in self.compiled.ground_constraints(self.world) if v is not True]
        present = [self.world.present[o] for o in self.world.objects]
        order = [z3.Implies(later, earlier) for earlier, later in zip(present, present[1:])]
        self.background = [as_z3(v) for v in constraints] \
            + list(self.world.side_conditions) + order + self._visibility()

    @property
    def rules(self) -> list:
        """The compiled rules, in file order."""
        return self.compiled.rules

    def fires(self, index: int):
        """The condition under which rule ``index`` fires (some instance's condition holds)."""
        return or_values([i.condition for i in self.instances[index]])

    def holds(self, index: int, action: str):
        """Rule ``index`` holds when ``action`` is chosen: ``True``, ``False`` or a z3 term."""
        key = (index, action)
        if key not in self._holds:
            world = self.compiled.choose(self.world, action)
            self._holds[key] = and_values([i.holds(world) for i in self.instances[index]])
        return self._holds[key]

    def allowed(self, action: str, indexes=None):
        """Every hard rule (or those in ``indexes``) holds when ``action`` is chosen."""
        indexes = self.hard_indexes() if indexes is None else indexes
        return and_values([self.holds(i, action) for i in indexes])

    def score(self, action: str):
        """z3 score of ``action`` as the reasoner ranks it: preference minus broken soft instances' weights."""
        world = self.compiled.choose(self.world, action)
        total = z3.RealVal(str(Fraction(self.ruleset.preferences.get(action, 0.0))))
        for index, rule in enumerate(self.rules):
            if rule.kind != "soft":
                continue
            weight = z3.RealVal(str(Fraction(rule.weight)))
            for instance in self.instances[index]:
                value = instance.holds(world)
                if value is True:
                    continue
                total = total - (weight if value is False else z3.If(value, 0, weight))
        return total

    def hard_indexes(self) -> list[int]:
        return [i for i, r in enumerate(self.rules) if r.kind == "hard"]

    def _touch_every_term(self) -> None:
        """Create every atom and function value of the K objects (so ranges hold for all of them)."""
        for name, signature in self.ruleset.predicates.items():
            for args in self._arguments(signature):
                self.world.truth[(name, args)]
        for name, (signature, _, _) in self.ruleset.functions.items():
            for args in self._arguments(signature):
                self.world.values[(name, args)]

    def _arguments(self, signature) -> list[tuple]:
        choices = [self.world.objects if sort == OBJECT else self.ruleset.sorts[sort] for sort in signature]
        return [tuple(combo) for combo in itertools.product(*choices)]

    def _visibility(self) -> list:
        """A present object shows in the facts: it has a function value or a true unary atom."""
        has_values = any(OBJECT in signature for signature, _, _ in self.ruleset.functions.values())
        if has_values:
            return []
        unary = [n for n, s in self.ruleset.predicates.items() if s == (OBJECT,)]
        return [z3.Implies(self.world.present[o], as_z3(or_values([self.world.truth[(n, (o,))] for n in unary])))
                for o in self.world.objects]


@dataclass
class ConcreteScene:
    """A concrete scene: the objects and the facts that hold (a counterexample or a witness).

    Example:
        >>> scene = ConcreteScene(["x1"], [Fact("car", ("x1",)), Fact("dist", ("x1",), value=12.5)])
        >>> scene.to_json()["facts"][1]
        {'func': 'dist', 'args': ['x1'], 'value': 12.5, 'confidence': 1.0}
        >>> scene.describe()
        ['x1: car, dist = 12.5']
    """

    objects: list[str]
    facts: list[Fact]

    def fact_base(self) -> FactBase:
        """The scene as a :class:`~symbolic.reasoning.facts.FactBase` (what the reasoner reads)."""
        return FactBase(self.facts)

    def to_json(self) -> dict:
        """The scene in the facts JSON form (``nesy rules explain --facts``)."""
        return {"objects": {}, "facts": [f.to_json() for f in self.facts]}

    def describe(self) -> list[str]:
        """One line per object, then one for the facts about no object (the ego, the road)."""
        lines = []
        for obj in self.objects:
            parts = [_fact_text(f, obj) for f in self.facts if f.args and f.args[0] == obj]
            lines.append(f"{obj}: {', '.join(parts) if parts else '(no facts)'}")
        rest = [_fact_text(f, None) for f in self.facts if not f.args or f.args[0] not in self.objects]
        if rest:
            lines.append(f"scene: {', '.join(rest)}")
        return lines


def _fact_text(fact: Fact, subject) -> str:
    args = fact.args[1:] if subject is not None else fact.args
    name = fact.predicate + (f"({', '.join(args)})" if args else "")
    return f"{name} = {fact.value:g}" if fact.is_function else name


def scene_from_model(scene: SymbolicScene, model) -> ConcreteScene:
    """Read the concrete scene of a z3 model: present objects, true atoms, function values.

    Args:
        scene: the grounding the model answers.
        model: a z3 model of (some of) ``scene``'s terms.

    Returns:
        A :class:`ConcreteScene`; atoms of absent objects are left out.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> scene = SymbolicScene(parse_rules("pred car(o)\\nactions go"), 2)
        >>> solver = z3.Solver()
        >>> solver.add(*scene.background, scene.world.truth[("car", ("x1",))], scene.world.present["x1"])
        >>> solver.add(z3.Not(scene.world.present["x2"]))
        >>> solver.check()
        sat
        >>> scene_from_model(scene, solver.model()).describe()
        ['x1: car']
    """
    world = scene.world
    present = [o for o in world.objects if z3.is_true(model.eval(world.present[o], model_completion=True))]
    absent = set(world.objects) - set(present)
    facts = []
    for (name, args), atom in world.truth.items():
        if is_z3(atom) and not absent & set(args) and z3.is_true(model.eval(atom, model_completion=True)):
            facts.append(Fact(name, args))
    for (name, args), term in world.values.items():
        if is_z3(term) and not absent & set(args):
            facts.append(Fact(name, args, value=_number(model.eval(term, model_completion=True))))
    return ConcreteScene(present, facts)


def solve_scene(scene: SymbolicScene, solver: z3.Solver, *, minimize: bool = True):
    """Check ``solver`` and, when sat, read a small, exact example scene from the model.

    The scene is made small greedily (fewest objects, then fewest true atoms,
    each kept only while the question stays satisfiable), and its numbers are
    put on a 1/8 grid where possible: such values compute exactly in floating
    point, so the reasoner reading the scene sees the comparisons z3 saw.

    Args:
        scene: the grounding the question is about.
        solver: a solver holding the question; left as found.
        minimize: make the scene small first.

    Returns:
        ``(result, ConcreteScene | None)``.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules("pred car(o)\\nfunc dist(o): Real in [0, 9]\\nactions go")
        >>> scene = SymbolicScene(rules, 3)
        >>> solver = z3.Solver()
        >>> x2 = scene.world.present["x2"]
        >>> solver.add(*scene.background, x2, scene.world.values[("dist", ("x2",))] > 8.9)
        >>> result, example = solve_scene(scene, solver)
        >>> result, example.describe()
        (sat, ['x1: dist = 0', 'x2: dist = 9'])
    """
    result = solver.check()
    if result != z3.sat:
        return result, None
    model = solver.model()
    solver.push()
    try:
        if minimize:
            model = _shrink(scene, solver, model)
        if not _on_grid(scene, model):
            for atom in _bool_terms(scene):
                solver.add(atom == model.eval(atom, model_completion=True))
            for index, term in enumerate(_real_terms(scene)):
                solver.add(term * GRID == z3.ToReal(z3.Int(f"grid!{index}")))
            if solver.check() == z3.sat:
                model = solver.model()
    finally:
        solver.pop()
    return result, scene_from_model(scene, model)


def _shrink(scene: SymbolicScene, solver: z3.Solver, model):
    """Greedily drop objects, then true atoms, while ``solver`` stays sat (adds what it keeps)."""
    world = scene.world
    for obj in reversed(world.objects):  # fewer objects: slots fill from x1 on
        found = _try(solver, z3.Not(world.present[obj]))
        if found is None:
            break
        model = found
    present = {o for o in world.objects if z3.is_true(model.eval(world.present[o], model_completion=True))}
    atoms = [a for (name, args), a in world.truth.items() if is_z3(a) and set(args) <= present | _constants(scene)]
    solver.add(*[z3.Not(a) for a in atoms if not z3.is_true(model.eval(a, model_completion=True))])
    for atom in atoms:
        if z3.is_true(model.eval(atom, model_completion=True)):
            model = _try(solver, z3.Not(atom)) or model
    return model


def _try(solver: z3.Solver, assertion):
    """Keep ``assertion`` and return the new model when it stays satisfiable; else ``None``."""
    solver.push()
    solver.add(assertion)
    if solver.check() == z3.sat:
        model = solver.model()
        solver.pop()
        solver.add(assertion)
        return model
    solver.pop()
    return None


def _constants(scene: SymbolicScene) -> set:
    return set(scene.ruleset.sort_of_value)


def _on_grid(scene: SymbolicScene, model) -> bool:
    """Every numeric value of ``model`` is already a multiple of ``1 / GRID``."""
    for term in _real_terms(scene):
        value = model.eval(term, model_completion=True)
        if not z3.is_rational_value(value) or GRID % value.denominator_as_long():
            return False
    return True


def _real_terms(scene: SymbolicScene) -> list:
    return [t for t in scene.world.values.values() if is_z3(t)]


def _bool_terms(scene: SymbolicScene) -> list:
    return [t for t in scene.world.truth.values() if is_z3(t)] + list(scene.world.present.values())


def _number(value) -> float:
    if z3.is_rational_value(value):
        return float(Fraction(value.numerator_as_long(), value.denominator_as_long()))
    if z3.is_algebraic_value(value):
        return float(value.approx(20).as_fraction())
    return 0.0


def as_z3(value):
    """A Python bool as a z3 constant; z3 terms unchanged.

    Example:
        >>> as_z3(True), as_z3(z3.Bool("a"))
        (True, a)
    """
    return z3.BoolVal(value) if isinstance(value, bool) else value
