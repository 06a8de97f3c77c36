"""Worlds: what the compiled rules read (objects, atom truths, function values, the chosen action).

- :class:`FactWorld`: the concrete facts of one frame; only uncertain facts
  become variables (z3 constants or :class:`~symbolic.compiler.residual.Residual` ones).
- :class:`SymbolicWorld`: K unknown objects whose every fact is a z3 variable.
"""
from __future__ import annotations

import z3

from symbolic.compiler.deadline import Deadline, in_chunks
from symbolic.compiler.intervals import exact_interval, z3_number
from symbolic.compiler.residual import Residual
from symbolic.language.ruleset import OBJECT, RuleSet


class AtomTruths(dict):
    """Atom -> truth; a missing atom is false."""

    def __missing__(self, key):
        return False


class FunctionValues(dict):
    """Function term -> value; a missing value is ``None`` (comparisons with it are false)."""

    def __missing__(self, key):
        return None


class _Measured(FunctionValues):
    """Function term -> value, where a value known within a tolerance becomes its variable when first
    read (most are never read: their object fails the rest of every condition first), registered
    in the world's ``uncertain``, ``intervals``, ``bounds``, ``float_bounds`` and ``variables``
    (given as those dicts, not the world: no reference cycle for the garbage collector to find)."""

    def __init__(self, uncertain: dict, intervals: dict, bounds: dict, float_bounds: dict, variables: dict):
        super().__init__()
        self.uncertain, self.intervals, self.bounds = uncertain, intervals, bounds
        self.float_bounds, self.variables = float_bounds, variables
        self.pending: dict = {}  # (func, args) -> the fact

    def __missing__(self, key):
        fact = self.pending.pop(key, None)
        if fact is None:
            return None
        text = atom_text(*key)
        self.float_bounds[text] = (fact.value - fact.tolerance, fact.value + fact.tolerance)
        low, high = self.bounds[text] = exact_interval(fact.value, fact.tolerance)
        self.intervals[text] = self.uncertain[text] = fact
        variable = self[key] = self.variables[text] = Residual.quantity(text, low, high)
        return variable


def atom_text(name: str, args: tuple) -> str:
    """``light(o3, red)``; a 0-ary atom is its name.

    Example:
        >>> atom_text("light", ("o3", "red")), atom_text("ego_stopped", ())
        ('light(o3, red)', 'ego_stopped')
    """
    return f"{name}({', '.join(args)})" if args else name


def measured_text(fact) -> str:
    """A value known within a tolerance, as explanations show it: ``dist(o3) = 40.01 ± 0.1``.

    Example:
        >>> from symbolic.reasoning.facts import Fact
        >>> measured_text(Fact("dist", ("o3",), value=40.01, tolerance=0.1))
        'dist(o3) = 40.01 ± 0.1'
    """
    return f"{atom_text(fact.predicate, fact.args)} = {fact.value:g} ± {fact.tolerance:g}"


class World:
    """What the compiled rules read: objects, atom truths, function values, the action.

    Attributes:
        objects: the scene's object constants.
        truth: ``(pred, args) -> True | False | z3 Bool``.
        values: ``(func, args) -> float | None | z3 Real``.
        actions: action -> ``True``/``False`` (one chosen action) or z3 Bool.
        side_conditions: z3 facts the world's unknowns obey (declared ranges).
        deadline: a :class:`~symbolic.compiler.deadline.Deadline` that grounding over this world
            checks (``None``: no limit).
    """

    def __init__(self, objects, truth, values, actions=None):
        self.objects = list(objects)
        self.truth = truth
        self.values = values
        self.actions = actions or {}
        self.chosen: str | None = None  # the action when ``actions`` is concrete
        self.side_conditions: list = []
        self.intervals: dict = {}  # atom text -> fact whose value is known within its tolerance
        self.bounds: dict = {}  # atom text -> (low, high) of those values, exact
        self.float_bounds: dict = {}  # the same in floating point (within rounding)
        self.trace: list | None = None
        self.deadline: Deadline | None = None
        self._members: dict = {}
        self._class_tests: dict = {}

    def members(self, label: str | None) -> list:
        """``(object, guard)`` pairs of the objects of class ``label`` (all objects for ``None``);
        ``guard`` is ``True`` or the z3 condition that the object belongs to the class."""
        found = self._members.get(label)
        if found is None:
            if label is None:
                found = [(o, True) for o in self.objects]
            else:
                test = self._class_tests[label]
                found = [(o, g) for chunk in in_chunks(self.objects, self.deadline)
                         for o in chunk if (g := test(self, (o,))) is not False]
            self._members[label] = found
        return found

    def candidates(self, label: str | None) -> list:
        """The ``(object, guard)`` pairs of ``members(None)`` whose class ``label`` is not false:
        for a caller whose condition tests the class itself (the guard does not repeat it)."""
        key = ("candidates", label)
        found = self._members.get(key)
        if found is None:
            everyone = self.members(None)
            if label is None:
                found = everyone
            else:
                test = self._class_tests[label]
                found = [(o, g) for chunk in in_chunks(everyone, self.deadline)
                         for o, g in chunk if test(self, (o,)) is not False]
            self._members[key] = found
        return found


class FactWorld(World):
    """A frame's facts read one of two ways.

    Args:
        ruleset: the vocabulary (used to find object arguments and ranges).
        facts: iterable of :class:`~symbolic.reasoning.facts.Fact` (a FactBase works).
        objects: extra object constants (e.g. ``FactBase.objects``).
        low, high: in ``"robust"`` reading, confidence ≤ ``low`` is false, ≥ ``high``
            true and in between uncertain (a variable).
        reading: ``"likely"`` (confidence ≥ 0.5 is true) or ``"robust"``.
        terms: what an uncertain fact becomes: a z3 constant (``"z3"``; its range in
            ``side_conditions``) or a :class:`~symbolic.compiler.residual.Residual` variable (``"python"``; its
            range inside it), which is much cheaper to build and combine.
        deadline: a :class:`~symbolic.compiler.deadline.Deadline` checked while the facts are read
            (:class:`~symbolic.compiler.deadline.BudgetExceeded` once it passes) and kept as
            ``self.deadline`` for grounding.

    In ``"robust"`` reading a function value with a ``tolerance`` is uncertain
    too: present, anywhere in ``[value - tolerance, value + tolerance]`` (exact
    decimal ends, not clipped to the declared range). An uncertain confidence
    still leaves it anywhere in its declared range.

    Attributes:
        uncertain: atom text -> the uncertain :class:`~symbolic.reasoning.facts.Fact`.
        intervals: atom text -> the fact, for the values uncertain only within their tolerance.
        bounds: atom text -> ``(low, high)`` of each of those, as exact fractions. A
            comparison that holds (or fails) for every value within them is decided
            when grounding, as a certain one is.
        variables: atom text -> its variable (a z3 constant or a :class:`~symbolic.compiler.residual.Residual`).

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> from symbolic.reasoning.facts import Fact
        >>> rules = parse_rules("pred car(o)\\nactions go")
        >>> world = FactWorld(rules, [Fact("car", ("o1",), 0.6)], reading="robust")
        >>> world.truth[("car", ("o1",))], world.objects, world.uncertain
        (car(o1), ['o1'], {'car(o1)': Fact('car(o1)', confidence=0.6)})
        >>> type(FactWorld(rules, [Fact("car", ("o1",), 0.6)], reading="robust", terms="python").truth[("car", ("o1",))])
        <class 'symbolic.compiler.residual.Residual'>
        >>> rules = parse_rules("pred car(o)\\nfunc dist(o): Real in [0, 200]\\nactions go")
        >>> measured = [Fact("dist", ("o1",), value=40.01, tolerance=0.1)]
        >>> FactWorld(rules, measured, reading="robust").side_conditions
        [3991/100 <= dist(o1), 4011/100 >= dist(o1)]
        >>> FactWorld(rules, measured, reading="likely").values[("dist", ("o1",))]
        40.01
    """

    def __init__(self, ruleset: RuleSet, facts, objects=(), *, low: float = 0.2, high: float = 0.8,
                 reading: str = "likely", signatures: dict | None = None, terms: str = "z3",
                 deadline: Deadline | None = None):
        if reading not in ("likely", "robust"):
            raise ValueError(f"`reading` must be 'likely' or 'robust'. Received: reading={reading!r}")
        if terms not in ("z3", "python"):
            raise ValueError(f"`terms` must be 'z3' or 'python'. Received: terms={terms!r}")
        in_python = terms == "python"
        seen = dict.fromkeys(objects)
        self.uncertain: dict = {}
        self.intervals = intervals = {}
        self.bounds = bounds = {}
        float_bounds = {}
        self.variables: dict = {}
        truth = AtomTruths()
        values = _Measured(self.uncertain, intervals, bounds, float_bounds, self.variables) \
            if in_python and reading == "robust" else FunctionValues()
        side_conditions = []
        signatures = signatures if signatures is not None else object_positions(ruleset)
        robust = reading == "robust"
        threshold = high if robust else 0.5
        for chunk in in_chunks(facts, deadline):
            for fact in chunk:
                name, args, confidence, number = fact.predicate, fact.args, fact.confidence, fact.value
                signature = signatures.get((name, number is None))
                if signature is None or signature[0] != len(args):
                    continue  # not in this vocabulary: nothing reads it
                for position in signature[1]:
                    if args[position] not in seen:
                        seen[args[position]] = None
                if not robust or confidence >= high or confidence <= low:
                    if number is None:
                        truth[(name, args)] = confidence >= threshold
                        continue
                    if confidence < threshold:
                        continue
                    if not robust or not fact.tolerance:
                        values[(name, args)] = float(number)
                        continue
                    if in_python:  # its variable is made when a rule first reads it
                        values.pop((name, args), None)
                        values.pending[(name, args)] = fact
                        continue
                    text = atom_text(name, args)  # present, its value known within the tolerance
                    intervals[text] = fact
                    low_bound, high_bound = bounds[text] = exact_interval(number, fact.tolerance)
                    float_bounds[text] = (number - fact.tolerance, number + fact.tolerance)
                else:
                    text = atom_text(name, args)
                    low_bound, high_bound = (None, None) if number is None else ruleset.functions[name][2]
                self.uncertain[text] = fact
                if number is None:
                    variable = truth[(name, args)] = Residual.atom(text) if in_python else z3.Bool(text)
                else:
                    if in_python:
                        variable = values[(name, args)] = Residual.quantity(text, low_bound, high_bound)
                    else:
                        variable = values[(name, args)] = z3.Real(text)
                        if low_bound is not None:
                            side_conditions += [variable >= z3_number(low_bound), variable <= z3_number(high_bound)]
                self.variables[text] = variable
        super().__init__(seen, truth, values)
        self.deadline = deadline
        self.side_conditions = side_conditions
        self.intervals, self.bounds, self.float_bounds = intervals, bounds, float_bounds


def object_positions(ruleset: RuleSet) -> dict:
    """``(name, is_predicate) -> (arity, positions of object arguments)`` for every predicate and function.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> object_positions(parse_rules("sort C = {a}\\npred p(o, C)\\nfunc f: Real"))
        {('p', True): (2, (0,)), ('f', False): (0, ())}
    """
    found = {(name, True): (len(params), tuple(i for i, s in enumerate(params) if s == OBJECT))
             for name, params in ruleset.predicates.items()}
    found.update({(name, False): (len(params), tuple(i for i, s in enumerate(params) if s == OBJECT))
                  for name, (params, _, _) in ruleset.functions.items()})
    return found


class SymbolicWorld(World):
    """K unknown objects: every atom is a z3 Bool and every function value a z3 Real in its range.

    Args:
        ruleset: the vocabulary.
        num_objects: how many objects (named ``x1 .. xK``).
        actions: action -> z3 Bool; by default one Bool per action (``act_stop``, ...);
            the caller asserts that exactly one holds.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules("pred car(o)\\nfunc dist(o): Real in [0, 10]\\nactions go")
        >>> world = SymbolicWorld(rules, 2)
        >>> world.objects, world.truth[("car", ("x1",))], world.values[("dist", ("x2",))]
        (['x1', 'x2'], car(x1), dist(x2))
        >>> world.side_conditions
        [dist(x2) >= 0, dist(x2) <= 10]
    """

    def __init__(self, ruleset: RuleSet, num_objects: int, actions: dict | None = None):
        if not isinstance(num_objects, int) or num_objects < 0:
            raise ValueError(f"`num_objects` must be a non-negative integer. Received: num_objects={num_objects!r}")
        world = self

        class LazyTruth(dict):
            def __missing__(self, key):
                value = self[key] = z3.Bool(atom_text(*key))
                return value

        class LazyValues(dict):
            def __missing__(self, key):
                variable = self[key] = z3.Real(atom_text(*key))
                low, high = ruleset.functions[key[0]][2]
                if low is not None:
                    world.side_conditions += [variable >= low, variable <= high]
                return variable

        actions = actions if actions is not None else {a: z3.Bool(f"act_{a}") for a in ruleset.actions}
        super().__init__([f"x{i}" for i in range(1, num_objects + 1)], LazyTruth(), LazyValues(), actions)
