"""Compile a :class:`~symbolic.rules.RuleSet` once into Python closures that ground it over a world.

A *world* says which objects exist and what holds of them. The same compiled
rules ground over two kinds of world:

- :class:`FactWorld`: the concrete facts of one frame. What is certain
  evaluates to plain ``True``/``False``/numbers in Python; only uncertain facts
  become variables, so a ground formula is either decided or a small
  *residual*: a z3 term, or (``terms="python"``, what the reasoner uses) a
  :class:`Residual` built in Python, evaluated exactly and turned into z3 only
  when a question needs a solver.
- :class:`SymbolicWorld`: K unknown objects whose every fact is a z3 variable
  (for proving properties of a rule file over all scenes up to K objects).

Each compiled rule yields one :class:`GroundInstance` per binding of its outer
variables, named like ``red_light[o3]``: a rule written
``exists o: C(o) => H`` or ``forall o: (C(o) => H)`` has the *condition*
``C(o)`` (evaluated once per object, no action involved) and the *head* ``H``
(what it asks of the action).
"""
from __future__ import annotations

import itertools
import operator
from fractions import Fraction
from dataclasses import dataclass, field
from typing import Callable

import z3

from symbolic import ast
from symbolic.rules import OBJECT, RuleSet

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "=": operator.eq, "!=": operator.ne}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}




def exactly_one(terms) -> "z3.BoolRef":
    """z3: exactly one of ``terms`` holds (for a symbolic choice of action).

    Example:
        >>> solver = z3.Solver()
        >>> a, b = z3.Bools("a b")
        >>> solver.add(exactly_one([a, b]), a)
        >>> solver.check(), solver.model()[b]
        (sat, False)
    """
    terms = list(terms)
    return z3.PbEq([(t, 1) for t in terms], 1)


def is_z3(value) -> bool:
    return isinstance(value, z3.ExprRef)


def is_residual(value) -> bool:
    """Whether ``value`` is left undecided by uncertain facts: a z3 term or a :class:`Residual`.

    Example:
        >>> is_residual(True), is_residual(2.5), is_residual(z3.Bool("u")), is_residual(Residual.atom("u"))
        (False, False, True, True)
    """
    return isinstance(value, (Residual, z3.ExprRef))


# -- residuals: what uncertain facts leave of a formula, kept in Python ----------

class Residual:
    """A formula or number over a frame's uncertain facts, built in Python; z3 only on demand.

    A :class:`FactWorld` built with ``terms="python"`` reads an uncertain fact
    as a variable (:meth:`atom`, :meth:`quantity`) instead of a z3 constant.
    The compiled rules combine residuals exactly as they combine z3 terms
    (``and``, ``not``, ``<``, ``+`` ...), so a ground formula is decided in
    Python or is a small residual, without z3's cost of building terms. A
    residual evaluates exactly under an assignment of its variables
    (:meth:`evaluate`: rational arithmetic, numbers read as z3 reads them) and
    becomes the z3 term the same rules build over a z3 world (:meth:`to_z3`).

    Example:
        >>> red, ttc = Residual.atom("light(o3, red)"), Residual.quantity("ttc(o3)", 0.0, 100.0)
        >>> formula = and_values([red, ttc < 2.5])
        >>> formula
        And(light(o3, red), ttc(o3) < 2.5)
        >>> sorted(formula.variables())
        ['light(o3, red)', 'ttc(o3)']
        >>> formula.evaluate({"light(o3, red)": True, "ttc(o3)": 1})
        True
        >>> formula.to_z3({})
        And(light(o3, red), ttc(o3) < 5/2)
    """

    __slots__ = ("op", "args", "_variables", "_exact")

    def __init__(self, op: str, args: tuple):
        self.op = op
        self.args = args
        self._variables = None
        self._exact = None  # args with each float read as z3 reads it

    @classmethod
    def atom(cls, text: str) -> "Residual":
        """An uncertain atom, true or false."""
        return cls("atom", (text,))

    @classmethod
    def quantity(cls, text: str, low=None, high=None) -> "Residual":
        """An uncertain number, anywhere in ``[low, high]`` (unbounded when ``low`` is None)."""
        return cls("quantity", (text, low, high))

    @property
    def is_variable(self) -> bool:
        return self.op in ("atom", "quantity")

    def variables(self) -> frozenset:
        """The texts of the uncertain facts this residual reads."""
        if self._variables is None:
            if self.is_variable:
                self._variables = frozenset((self.args[0],))
            else:
                self._variables = frozenset().union(*(a.variables() for a in self.args if isinstance(a, Residual)))
        return self._variables

    # arithmetic and comparisons build residuals, as z3's operators build terms
    def __add__(self, other): return Residual("+", (self, other))
    def __radd__(self, other): return Residual("+", (other, self))
    def __sub__(self, other): return Residual("-", (self, other))
    def __rsub__(self, other): return Residual("-", (other, self))
    def __mul__(self, other): return Residual("*", (self, other))
    def __rmul__(self, other): return Residual("*", (other, self))
    def __truediv__(self, other): return Residual("/", (self, other))
    def __rtruediv__(self, other): return Residual("/", (other, self))
    def __neg__(self): return Residual("neg", (self,))
    def __lt__(self, other): return Residual("<", (self, other))
    def __le__(self, other): return Residual("<=", (self, other))
    def __gt__(self, other): return Residual(">", (self, other))
    def __ge__(self, other): return Residual(">=", (self, other))
    def __eq__(self, other): return Residual("=", (self, other))  # noqa: PLR0124 (a formula, as in z3)
    def __ne__(self, other): return Residual("!=", (self, other))
    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError(f"the residual {self!r} has no truth value until its uncertain facts are assigned")

    def evaluate(self, assignment):
        """The value under ``assignment`` (variable text -> bool or number), computed exactly.

        Numbers are read as z3 reads them (a float by its decimal ``str``) and
        combined in rational arithmetic, so the answer is z3's.

        Raises:
            ZeroDivisionError: a division by zero (z3 leaves it unspecified).
        """
        op, args = self.op, self.args
        if op == "atom":
            return assignment[args[0]]
        if op == "quantity":
            return _evaluate(assignment[args[0]], assignment)
        if self._exact is None:
            self._exact = tuple(Fraction(str(a)) if isinstance(a, float) else a for a in args)
        args = self._exact
        if op == "and":
            return all(_evaluate(a, assignment) for a in args)
        if op == "or":
            return any(_evaluate(a, assignment) for a in args)
        if op == "not":
            return not _evaluate(args[0], assignment)
        if op == "=>":
            return not _evaluate(args[0], assignment) or _evaluate(args[1], assignment)
        if op == "neg":
            return -_evaluate(args[0], assignment)
        apply = _COMPARE.get(op) or _ARITH[op]
        return apply(_evaluate(args[0], assignment), _evaluate(args[1], assignment))

    def to_z3(self, memo: dict):
        """The z3 term of this residual (``memo``: residual id -> z3 term, shared across calls)."""
        found = memo.get(id(self))
        if found is not None:
            return found[1]
        op, args = self.op, self.args
        if op == "atom":
            term = z3.Bool(args[0])
        elif op == "quantity":
            term = z3.Real(args[0])
        else:
            parts = [a.to_z3(memo) if isinstance(a, Residual) else a for a in args]
            if op == "and":
                term = z3.And(parts)
            elif op == "or":
                term = z3.Or(parts)
            elif op == "not":
                term = z3.Not(parts[0])
            elif op == "=>":
                term = z3.Implies(*parts)
            elif op == "neg":
                term = -parts[0]
            else:
                term = (_COMPARE.get(op) or _ARITH[op])(*parts)
        memo[id(self)] = (self, term)  # keeps self alive, so its id stays its own
        return term

    def extreme(self, want: bool) -> dict | None:
        """An assignment of the variables under which this formula is ``want`` if it is under any.

        By monotonicity: each atom takes the truth that helps, each number the end
        of its range that helps, so one evaluation decides whether ``want`` is
        reachable. None when that reasoning does not apply (a variable pulled both
        ways as in ``x > 1 and x < 3``, an equality, a product of two unknowns, a
        number without a range): then a solver must tell.

        Example:
            >>> ttc, red = Residual.quantity("ttc(o1)", 0.0, 100.0), Residual.atom("red")
            >>> (ttc < 2.5).extreme(True), (ttc < 2.5).extreme(False)
            ({'ttc(o1)': 0.0}, {'ttc(o1)': 100.0})
            >>> and_values([red, not_value(red)]).extreme(True) is None
            True
        """
        found: dict = {}
        return found if _push(self, want, found) else None

    def __repr__(self) -> str:
        op, args = self.op, self.args
        if self.is_variable:
            return args[0]
        if op in ("and", "or"):
            return f"{op.capitalize()}({', '.join(map(repr, args))})"
        if op == "not":
            return f"Not({args[0]!r})"
        if op == "=>":
            return f"Implies({args[0]!r}, {args[1]!r})"
        if op == "neg":
            return f"-{args[0]!r}"
        return f"{args[0]!r} {'==' if op == '=' else op} {args[1]!r}"


def _evaluate(value, assignment):
    if isinstance(value, Residual):
        return value.evaluate(assignment)
    if isinstance(value, float):
        return Fraction(str(value))  # as z3 reads a float
    return value


def _settle(found: dict, name: str, value) -> bool:
    """Record ``name = value``; False if ``name`` was already pulled the other way."""
    previous = found.setdefault(name, value)
    return previous is value or previous == value


def _push(formula, want: bool, found: dict) -> bool:
    """Set in ``found`` each variable of ``formula`` the way that makes it ``want``; False if not monotone."""
    if not isinstance(formula, Residual):
        return True
    op, args = formula.op, formula.args
    if op == "atom":
        return _settle(found, args[0], want)
    if op == "not":
        return _push(args[0], not want, found)
    if op in ("and", "or"):
        return all(_push(a, want, found) for a in args)
    if op == "=>":
        return _push(args[0], not want, found) and _push(args[1], want, found)
    if op in ("<", "<="):  # true: the left side down, the right side up
        return _pull(args[0], not want, found) and _pull(args[1], want, found)
    if op in (">", ">="):
        return _pull(args[0], want, found) and _pull(args[1], not want, found)
    return False  # = and != are not monotone


def _pull(term, up: bool, found: dict) -> bool:
    """Set in ``found`` each variable of the number ``term`` the way that moves it up (or down)."""
    if not isinstance(term, Residual):
        return True
    op, args = term.op, term.args
    if op == "quantity":
        end = args[2] if up else args[1]
        return end is not None and _settle(found, args[0], end)
    if op == "+":
        return _pull(args[0], up, found) and _pull(args[1], up, found)
    if op == "-":
        return _pull(args[0], up, found) and _pull(args[1], not up, found)
    if op == "neg":
        return _pull(args[0], not up, found)
    if op in ("*", "/"):
        left, right = args
        if op == "*" and not isinstance(left, Residual):
            left, right = right, left  # the constant factor on the right
        if isinstance(right, Residual) or isinstance(right, bool) or not isinstance(right, (int, float)):
            return False
        if right == 0:
            return op == "*"  # times zero: the variable does not matter; divided by zero: unspecified
        return _pull(left, up if right > 0 else not up, found)
    return False


def _all_of(residuals: list):
    return Residual("and", tuple(residuals)) if isinstance(residuals[0], Residual) else z3.And(residuals)


def _any_of(residuals: list):
    return Residual("or", tuple(residuals)) if isinstance(residuals[0], Residual) else z3.Or(residuals)


def _negation(residual):
    return Residual("not", (residual,)) if isinstance(residual, Residual) else z3.Not(residual)


def _implication(condition, head):
    if isinstance(condition, Residual) or isinstance(head, Residual):
        return Residual("=>", (condition, head))
    return z3.Implies(condition, head)


# -- three-valued helpers: Python bools where decided, residuals where not ------

def and_values(values):
    """Conjunction of Python bools and z3 terms, simplified where decided.

    Example:
        >>> and_values([True, True]), and_values([True, False])
        (True, False)
        >>> and_values([True, z3.Bool("u")])
        u
    """
    residual = []
    for value in values:
        if value is False:
            return False
        if value is not True:
            residual.append(value)
    if not residual:
        return True
    return residual[0] if len(residual) == 1 else _all_of(residual)


def or_values(values):
    """Disjunction of Python bools and z3 terms, simplified where decided.

    Example:
        >>> or_values([False, z3.Bool("u")]), or_values([z3.Bool("u"), True])
        (u, True)
    """
    residual = []
    for value in values:
        if value is True:
            return True
        if value is not False:
            residual.append(value)
    if not residual:
        return False
    return residual[0] if len(residual) == 1 else _any_of(residual)


def not_value(value):
    """Negation of a Python bool or z3 term.

    Example:
        >>> not_value(True), not_value(z3.Bool("u"))
        (False, Not(u))
    """
    if value is True:
        return False
    if value is False:
        return True
    return _negation(value)


def implies_value(condition, head):
    """``condition => head``, simplified where decided.

    Example:
        >>> implies_value(False, z3.Bool("h")), implies_value(True, z3.Bool("h")), implies_value(z3.Bool("c"), False)
        (True, h, Not(c))
    """
    if condition is False or head is True:
        return True
    if condition is True:
        return head
    if head is False:
        return _negation(condition)
    return _implication(condition, head)


# -- worlds -------------------------------------------------------------------

class _Absent(dict):
    """Atom -> truth; a missing atom is false."""

    def __missing__(self, key):
        return False


class _Unknown(dict):
    """Function term -> value; a missing value is ``None`` (comparisons with it are false)."""

    def __missing__(self, key):
        return None


class _Measured(_Unknown):
    """Function term -> value, where a value known within a tolerance becomes its variable when first
    read (most are never read: their object fails the rest of every condition first)."""

    def __init__(self, world: "FactWorld"):
        super().__init__()
        self.world = world
        self.pending: dict = {}  # (func, args) -> the fact

    def __missing__(self, key):
        fact = self.pending.pop(key, None)
        if fact is None:
            return None
        variable = self[key] = self.world._measured(key, fact)
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
        >>> from symbolic.facts import Fact
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
                found = [(o, g) for o in self.objects if (g := test(self, (o,))) is not False]
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
                found = [(o, g) for o, g in everyone if test(self, (o,)) is not False]
            self._members[key] = found
        return found


class FactWorld(World):
    """A frame's facts read one of two ways.

    Args:
        ruleset: the vocabulary (used to find object arguments and ranges).
        facts: iterable of :class:`~symbolic.facts.Fact` (a FactBase works).
        objects: extra object constants (e.g. ``FactBase.objects``).
        low, high: in ``"robust"`` reading, confidence ≤ ``low`` is false, ≥ ``high``
            true and in between uncertain (a variable).
        reading: ``"likely"`` (confidence ≥ 0.5 is true) or ``"robust"``.
        terms: what an uncertain fact becomes: a z3 constant (``"z3"``; its range in
            ``side_conditions``) or a :class:`Residual` variable (``"python"``; its
            range inside it), which is much cheaper to build and combine.

    In ``"robust"`` reading a function value with a ``tolerance`` is uncertain
    too: present, anywhere in ``[value - tolerance, value + tolerance]`` (exact
    decimal ends, not clipped to the declared range). An uncertain confidence
    still leaves it anywhere in its declared range.

    Attributes:
        uncertain: atom text -> the uncertain :class:`~symbolic.facts.Fact`.
        intervals: atom text -> the fact, for the values uncertain only within their tolerance.
        bounds: atom text -> ``(low, high)`` of each of those, as exact fractions. A
            comparison that holds (or fails) for every value within them is decided
            when grounding, as a certain one is.
        variables: atom text -> its variable (a z3 constant or a :class:`Residual`).

    Example:
        >>> from symbolic.rules import parse_rules
        >>> from symbolic.facts import Fact
        >>> rules = parse_rules("pred car(o)\\nactions go")
        >>> world = FactWorld(rules, [Fact("car", ("o1",), 0.6)], reading="robust")
        >>> world.truth[("car", ("o1",))], world.objects, world.uncertain
        (car(o1), ['o1'], {'car(o1)': Fact('car(o1)', confidence=0.6)})
        >>> type(FactWorld(rules, [Fact("car", ("o1",), 0.6)], reading="robust", terms="python").truth[("car", ("o1",))])
        <class 'symbolic.compiler.Residual'>
        >>> rules = parse_rules("pred car(o)\\nfunc dist(o): Real in [0, 200]\\nactions go")
        >>> measured = [Fact("dist", ("o1",), value=40.01, tolerance=0.1)]
        >>> FactWorld(rules, measured, reading="robust").side_conditions
        [3991/100 <= dist(o1), 4011/100 >= dist(o1)]
        >>> FactWorld(rules, measured, reading="likely").values[("dist", ("o1",))]
        40.01
    """

    def __init__(self, ruleset: RuleSet, facts, objects=(), *, low: float = 0.2, high: float = 0.8,
                 reading: str = "likely", signatures: dict | None = None, terms: str = "z3"):
        if reading not in ("likely", "robust"):
            raise ValueError(f"`reading` must be 'likely' or 'robust'. Received: reading={reading!r}")
        if terms not in ("z3", "python"):
            raise ValueError(f"`terms` must be 'z3' or 'python'. Received: terms={terms!r}")
        in_python = terms == "python"
        truth, values = _Absent(), _Measured(self) if in_python and reading == "robust" else _Unknown()
        seen = dict.fromkeys(objects)
        self.uncertain: dict = {}
        self.intervals = intervals = {}
        self.bounds = bounds = {}
        float_bounds = {}
        self.variables: dict = {}
        side_conditions = []
        signatures = signatures if signatures is not None else object_positions(ruleset)
        robust = reading == "robust"
        threshold = high if robust else 0.5
        for fact in facts:
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
                low_bound, high_bound = bounds[text] = _interval(number, fact.tolerance)
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
        self.side_conditions = side_conditions
        self.intervals, self.bounds, self.float_bounds = intervals, bounds, float_bounds

    def _measured(self, key: tuple, fact) -> Residual:
        """The variable of a value known within its tolerance (``terms="python"``), registered as uncertain."""
        text = atom_text(*key)
        self.float_bounds[text] = (fact.value - fact.tolerance, fact.value + fact.tolerance)
        low, high = self.bounds[text] = _interval(fact.value, fact.tolerance)
        self.intervals[text] = self.uncertain[text] = fact
        variable = self.variables[text] = Residual.quantity(text, low, high)
        return variable


def _interval(value: float, tolerance: float) -> tuple[Fraction, Fraction]:
    """``value ± tolerance`` exactly, each number read as z3 reads it (its decimal ``str``), in integer
    arithmetic (``Fraction(str(x))`` and Fraction sums cost several times more; a frame reads hundreds).

    Example:
        >>> _interval(40.01, 0.3)
        (Fraction(3971, 100), Fraction(4031, 100))
    """
    digits, places = _decimal_digits(value)
    other_digits, other_places = _decimal_digits(tolerance)
    if digits is None or other_digits is None:
        value, tolerance = Fraction(str(value)), Fraction(str(tolerance))
        return value - tolerance, value + tolerance
    if places < other_places:
        digits, places = digits * 10 ** (other_places - places), other_places
    elif other_places < places:
        other_digits *= 10 ** (places - other_places)
    scale = 10 ** places
    return Fraction(digits - other_digits, scale), Fraction(digits + other_digits, scale)


def _decimal_digits(number: float) -> tuple:
    """``(digits, places)`` with ``number == digits / 10 ** places`` as written by ``repr``; ``(None, 0)``
    for exponent notation."""
    text = repr(float(number))
    point = text.find(".")
    if point < 0 or "e" in text:
        return None, 0
    return int(text[:point] + text[point + 1:]), len(text) - point - 1


def z3_number(number):
    """``number`` as z3 reads it: a :class:`~fractions.Fraction` becomes a z3 rational, others stay.

    Example:
        >>> z3_number(Fraction(3991, 100)), z3_number(2.5)
        (3991/100, 2.5)
    """
    return z3.RealVal(f"{number.numerator}/{number.denominator}") if isinstance(number, Fraction) else number


def compare_bounds(op: str, left, right, bounds: dict, float_bounds: dict | None = None) -> bool | None:
    """``left op right`` when it is decided for every value of the variables in ``bounds``, else None.

    ``left`` and ``right`` are numbers, :class:`Residual` terms or z3 terms; a
    variable outside ``bounds`` (or anything but ``+ - * /`` and negation) leaves
    the comparison undecided. With ``float_bounds`` (the same bounds in floating
    point) an order comparison of Residuals is first tried in floating point, and
    in exact arithmetic only when its ends lie within rounding of each other.

    Example:
        >>> dist = Residual.quantity("dist(o1)", Fraction("39.91"), Fraction("40.11"))
        >>> bounds = {"dist(o1)": (Fraction("39.91"), Fraction("40.11"))}
        >>> [compare_bounds(op, dist, 40.2, bounds) for op in ("<", ">=")], compare_bounds("<", dist, 40, bounds)
        ([True, False], None)
        >>> compare_bounds(">", 2 * dist, 70, bounds)
        True
        >>> compare_bounds("<", z3.Real("dist(o1)") - 1, 38, bounds)
        False
    """
    if float_bounds is not None and op in ("<", "<=", ">", ">=") and not isinstance(left, z3.ExprRef) \
            and not isinstance(right, z3.ExprRef):
        decided = _compare_roughly(op, left, right, float_bounds)
        if decided is not _UNSURE:
            return decided
    first = _term_bounds(left, bounds)
    if first is None:
        return None
    second = _term_bounds(right, bounds)
    if second is None:
        return None
    (low, high), (other_low, other_high) = first, second
    if op == "<":
        return True if high < other_low else False if low >= other_high else None
    if op == "<=":
        return True if high <= other_low else False if low > other_high else None
    if op == ">":
        return True if low > other_high else False if high <= other_low else None
    if op == ">=":
        return True if low >= other_high else False if high < other_low else None
    equal = True if low == high == other_low == other_high else False if high < other_low or other_high < low \
        else None
    return equal if op == "=" or equal is None else not equal


_UNSURE = object()


def _compare_roughly(op: str, left, right, bounds: dict):
    """``compare_bounds`` for ``< <= > >=`` in floating point, where rounding cannot change the answer:
    True, False, None (undecided) or ``_UNSURE`` (ask the exact arithmetic)."""
    first = _float_bounds(left, bounds)
    second = None if first is None else _float_bounds(right, bounds)
    if first is _UNSURE or second is _UNSURE:
        return _UNSURE
    if second is None:
        return None
    if op in (">", ">="):  # a > b is b < a
        first, second = second, first
    (low, high, scale), (other_low, other_high, other_scale) = first, second
    margin = 1e-9 * (1.0 + scale + other_scale)  # far above the rounding of a few additions at that scale
    if high < other_low - margin:
        return True  # every value below every other
    if low > other_high + margin:
        return False
    if high > other_low + margin and low < other_high - margin:
        return None  # the intervals overlap: some values compare one way, some the other
    return _UNSURE


def _float_bounds(term, bounds: dict):
    """``(low, high, scale)`` of a term in floating point (``bounds``: atom text -> float ends; ``scale``
    bounds every magnitude met on the way), None where a variable is not in ``bounds``, ``_UNSURE`` for
    arithmetic other than sums and constant factors (left to the exact arithmetic)."""
    kind = term.__class__
    if kind is float or kind is int:
        return term, term, abs(term)
    if kind is Fraction:
        number = float(term)
        return number, number, abs(number)
    if kind is not Residual:
        return None
    op, args = term.op, term.args
    if op == "quantity":
        found = bounds.get(args[0])
        if found is None:
            return None
        low, high = found
        return low, high, max(abs(low), abs(high))
    if op == "neg":
        found = _float_bounds(args[0], bounds)
        return found if found is None or found is _UNSURE else (-found[1], -found[0], found[2])
    if op not in ("+", "-", "*", "/"):
        return None
    first = _float_bounds(args[0], bounds)
    if first is None or first is _UNSURE:
        return first
    second = _float_bounds(args[1], bounds)
    if second is None or second is _UNSURE:
        return second
    if op in ("*", "/") and first[0] != first[1] and second[0] != second[1]:
        return _UNSURE  # a product of two unknowns
    if op == "/" and second[0] <= 0 <= second[1]:
        return _UNSURE
    low, high = _combine(op, first[:2], second[:2])
    return low, high, max(abs(low), abs(high), first[2], second[2])


def _term_bounds(term, bounds: dict):
    """``(low, high)`` of a number, Residual or z3 term over the variables in ``bounds`` (exact), or None."""
    if isinstance(term, bool):
        return None
    if isinstance(term, (int, Fraction)):
        return Fraction(term), Fraction(term)
    if isinstance(term, float):
        exact = Fraction(str(term))
        return exact, exact
    if isinstance(term, Residual):
        op, args = term.op, term.args
        if op == "quantity":
            return bounds.get(args[0])
        if op == "neg":
            parts = [_term_bounds(args[0], bounds)]
        elif op in _ARITH:
            parts = [_term_bounds(args[0], bounds), _term_bounds(args[1], bounds)]
        else:
            return None
    elif isinstance(term, z3.ArithRef):
        if z3.is_rational_value(term):
            exact = term.as_fraction()
            return exact, exact
        if z3.is_const(term):
            return bounds.get(term.decl().name()) if term.decl().kind() == z3.Z3_OP_UNINTERPRETED else None
        kind = term.decl().kind()
        op = {z3.Z3_OP_ADD: "+", z3.Z3_OP_SUB: "-", z3.Z3_OP_MUL: "*", z3.Z3_OP_DIV: "/",
              z3.Z3_OP_UMINUS: "neg"}.get(kind)
        if op is None:
            return None
        parts = [_term_bounds(child, bounds) for child in term.children()]
    else:
        return None
    if any(part is None for part in parts):
        return None
    if op == "neg":
        low, high = parts[0]
        return -high, -low
    found = parts[0]
    for low, high in parts[1:]:  # z3 sums and products may have more than two terms
        found = _combine(op, found, (low, high))
        if found is None:
            return None
    return found


def _combine(op: str, first: tuple, second: tuple):
    (low, high), (other_low, other_high) = first, second
    if op == "+":
        return low + other_low, high + other_high
    if op == "-":
        return low - other_high, high - other_low
    if op == "/":
        if other_low <= 0 <= other_high:
            return None  # x / 0 is unspecified
        other_low, other_high = 1 / other_high, 1 / other_low
    products = (low * other_low, low * other_high, high * other_low, high * other_high)
    return min(products), max(products)


def object_positions(ruleset: RuleSet) -> dict:
    """``(name, is_predicate) -> (arity, positions of object arguments)`` for every predicate and function.

    Example:
        >>> from symbolic.rules import parse_rules
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
        >>> from symbolic.rules import parse_rules
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


# -- compiled rules -------------------------------------------------------------

Closure = Callable  # (world, env) -> bool | float | str | None | z3 term


@dataclass(eq=False)  # compared by identity: one object per rule
class CompiledRule:
    """One rule ready to ground: outer bindings, a condition and a head.

    ``condition`` never reads the action (``None`` means always true); ``head``
    may. ``head_by_action`` is filled when the head reads nothing but the action
    (``stop or yield``): its truth per action, computed once.
    """

    name: str
    kind: str
    weight: float | None
    source: str
    bindings: tuple  # of (var, label | None)
    condition: Closure | None
    head: Closure
    trace_condition: Closure | None
    trace_head: Closure
    head_by_action: dict | None = None
    head_text: str = ""
    levels: tuple = ()  # the condition split by binding depth (see _Compiler.levels)
    domains: tuple = ()  # per binding, (class whose objects grounding runs over or None, whether to guard)


@dataclass(eq=False)
class GroundInstance:
    """One rule instance of one world: ``red_light[o3]``.

    ``condition`` is ``True`` or a z3 residual (instances whose condition is
    false are not produced).
    """

    rule: CompiledRule
    bindings: tuple
    condition: object
    _negation: object = field(default=None, repr=False)  # ``not condition``, built once

    @property
    def name(self) -> str:
        return f"{self.rule.name}[{', '.join(self.bindings)}]" if self.bindings else self.rule.name

    def head(self, world: World):
        """The head's value in ``world`` (for its current ``actions``)."""
        table = self.rule.head_by_action
        if table is not None and world.chosen is not None:
            return table[world.chosen]
        return self.rule.head(world, self.bindings)

    def holds(self, world: World):
        """``condition => head``: ``True``, ``False`` or a residual."""
        head = self.head(world)
        if head is False and self.condition is not True:  # the same residual for every action it forbids
            if self._negation is None:
                self._negation = _negation(self.condition)
            return self._negation
        return implies_value(self.condition, head)


@dataclass
class CompiledRules:
    """A rule set compiled once: its rules and constraints as closures.

    Example:
        >>> from symbolic.rules import parse_rules
        >>> from symbolic.facts import Fact
        >>> rules = parse_rules("pred red(o)\\nactions stop, go\\nrule halt: exists o: red(o) => stop")
        >>> compiled = compile_rules(rules)
        >>> world = FactWorld(rules, [Fact("red", ("o3",))])
        >>> [i.name for i in compiled.ground(world)]
        ['halt[o3]']
    """

    ruleset: RuleSet
    rules: list[CompiledRule]
    constraints: list[CompiledRule]
    class_tests: dict = field(default_factory=dict)

    def __post_init__(self):
        actions = self.ruleset.actions
        self._choices = {action: {a: a == action for a in actions} for action in actions}
        self.signatures = object_positions(self.ruleset)
        self.position = {id(rule): index for index, rule in enumerate(self.rules)}

    def prepare(self, world: World) -> World:
        """Give ``world`` the class tests its quantifiers use."""
        world._class_tests = self.class_tests
        return world

    def choose(self, world: World, action: str) -> World:
        """Set ``world``'s chosen action (concrete)."""
        world.actions = self._choices[action]
        world.chosen = action
        return world

    def ground(self, world: World, rules=None, deadline: float | None = None, clock=None):
        """Yield the instances whose condition is not false in ``world``."""
        self.prepare(world)
        for rule in self.rules if rules is None else rules:
            yield from ground_rule(rule, world)
            if deadline is not None and clock() > deadline:
                raise TimeoutError(rule.name)

    def holds(self, world: World, kind: str = "hard") -> list:
        """``(instance, value)`` for every instance of the ``kind`` rules (``"hard"``, ``"soft"``
        or ``"constraint"``); ``value`` is ``condition => head`` in ``world`` (True, False or z3).

        With a :class:`SymbolicWorld` this is the formula a verifier asserts.

        Example:
            >>> from symbolic.rules import parse_rules
            >>> rules = parse_rules("pred red(o)\\nactions stop, go\\nrule halt: exists o: red(o) => stop")
            >>> world = SymbolicWorld(rules, 1)
            >>> [(i.name, v) for i, v in compile_rules(rules).holds(world)]
            [('halt[x1]', Implies(red(x1), act_stop))]
        """
        self.prepare(world)
        rules = self.constraints if kind == "constraint" else [r for r in self.rules if r.kind == kind]
        return [(instance, instance.holds(world)) for rule in rules for instance in ground_rule(rule, world)]

    def ground_constraints(self, world: World) -> list:
        """The constraints as values in ``world``: ``True``, ``False`` or z3 residuals, one per instance."""
        self.prepare(world)
        return [instance.holds(world) for rule in self.constraints for instance in ground_rule(rule, world)]


def ground_rule(rule: CompiledRule, world: World):
    """Yield the :class:`GroundInstance` of ``rule`` whose condition is not false in ``world``.

    Example:
        >>> from symbolic.rules import parse_rules
        >>> from symbolic.facts import Fact
        >>> rules = parse_rules("pred car(o)\\npred near(o, o)\\nactions stop\\n"
        ...                     "rule r: exists a in car, b in car: near(a, b) => stop")
        >>> compiled = compile_rules(rules)
        >>> world = compiled.prepare(FactWorld(rules, [Fact("car", ("c1",)), Fact("car", ("c2",)),
        ...                                            Fact("near", ("c2", "c1"))]))
        >>> [i.name for i in ground_rule(compiled.rules[0], world)]
        ['r[c2, c1]']
    """
    levels = rule.levels
    first = levels[0]
    base = True if first is None else first(world, ())
    if base is False:
        return
    if not rule.bindings:
        yield GroundInstance(rule, (), base)
        return
    domains = [world.members(label) if guarded else world.candidates(label)
               for label, guarded in rule.domains]
    if len(domains) == 1:
        test = levels[1]
        for obj, guard in domains[0]:
            env = (obj,)
            value = True if test is None else test(world, env)
            if value is False:
                continue
            if guard is not True or base is not True:
                value = and_values([base, guard, value])
            yield GroundInstance(rule, env, value)
        return
    yield from _descend(rule, world, domains, 0, (), [base])


def _descend(rule, world, domains, depth, env, parts):
    test = rule.levels[depth + 1]
    last = depth + 1 == len(domains)
    for obj, guard in domains[depth]:
        inner = env + (obj,)
        value = True if test is None else test(world, inner)
        if value is False:
            continue
        found = parts + [guard, value]
        if last:
            yield GroundInstance(rule, inner, and_values(found))
        else:
            yield from _descend(rule, world, domains, depth + 1, inner, found)


def compile_rules(ruleset: RuleSet) -> CompiledRules:
    """Compile every rule and constraint of ``ruleset`` into closures (do it once, reuse per frame).

    Example:
        >>> from symbolic.rules import parse_rules
        >>> compiled = compile_rules(parse_rules("pred red\\nactions stop, go\\nrule r: red => stop"))
        >>> rule = compiled.rules[0]
        >>> rule.name, rule.bindings, rule.head_by_action
        ('r', (), {'stop': True, 'go': False})
    """
    compiler = _Compiler(ruleset)
    class_tests = {}
    for name, params in ruleset.predicates.items():
        if params == (OBJECT,):
            class_tests[name] = compiler.compile(ast.Call(name, (ast.Name("_x"),)), ("_x",))
    for name, define in ruleset.defines.items():
        if len(define.params) == 1:
            class_tests[name] = compiler.compile(ast.Call(name, (ast.Name("_x"),)), ("_x",))
    rules = [compiler.compile_rule(r.name, r.kind, r.weight, r.source, r.body) for r in ruleset.rules]
    constraints = [compiler.compile_rule(c.name, "hard", None, c.source, c.body) for c in ruleset.constraints]
    return CompiledRules(ruleset, rules, constraints, class_tests)


class _Compiler:
    def __init__(self, ruleset: RuleSet):
        self.rules = ruleset
        self.actions = set(ruleset.actions)
        self.sort_values = ruleset.sort_of_value
        self._defines: dict = {}

    # -- rule shapes
    def compile_rule(self, name, kind, weight, source, body) -> CompiledRule:
        bindings, condition, head = self.split(body)
        scope = tuple(var for var, _ in bindings)
        compiled = CompiledRule(
            name, kind, weight, source, bindings,
            None if condition is None else self.compile(condition, scope),
            self.compile(head, scope),
            None if condition is None else self.compile(condition, scope, trace=True),
            self.compile(head, scope, trace=True),
            head_text=ast.to_text(head))
        compiled.levels = self.levels(condition, bindings)
        compiled.domains = self.domains(condition, bindings)
        if self.action_only(head):
            compiled.head_by_action = {
                action: self.compile(head, scope)(World([], _Absent(), _Unknown(),
                                                        {a: a == action for a in self.rules.actions}), ())
                for action in self.rules.actions}
        return compiled

    def levels(self, condition, bindings) -> tuple:
        """The condition's conjuncts grouped by the deepest outer variable they read.

        Entry ``k`` (a closure or ``None``) reads only the first ``k`` bound objects, so
        grounding checks it before looping over the next variable:
        ``stopped_at_sign`` is checked once, not once per pair of objects.
        """
        variables = tuple(var for var, _ in bindings)
        groups = [[] for _ in range(len(variables) + 1)]
        conjuncts = condition.operands if isinstance(condition, ast.Logic) and condition.op == "and" else \
            (() if condition is None else (condition,))
        for conjunct in conjuncts:
            used = self.free_names(conjunct) & set(variables)
            depth = max((variables.index(v) + 1 for v in used), default=0)
            groups[depth].append(conjunct)
        compiled = []
        for depth, group in enumerate(groups):
            if not group:
                compiled.append(None)
                continue
            node = group[0] if len(group) == 1 else ast.Logic("and", tuple(group))
            compiled.append(self.compile(node, variables[:depth]))
        return tuple(compiled)

    def domains(self, condition, bindings) -> tuple:
        """Per binding, a class to run over: the user's (``o in car``) or, when the condition
        is a conjunction with a one-object atom on the variable (``in_left_lane(o) and ...``),
        that atom's predicate, so objects for which it is false are never visited."""
        conjuncts = condition.operands if isinstance(condition, ast.Logic) and condition.op == "and" else \
            (() if condition is None else (condition,))
        unary = {name for name, params in self.rules.predicates.items() if params == (OBJECT,)}
        unary |= {name for name, define in self.rules.defines.items() if len(define.params) == 1}
        found = []
        for var, label in bindings:
            if label is not None:
                found.append((label, True))
                continue
            label = next((c.name for c in conjuncts if isinstance(c, ast.Call) and c.name in unary
                          and isinstance(c.args[0], ast.Name) and c.args[0].name == var), None)
            found.append((label, False))  # the condition itself tests the class: no guard needed
        return tuple(found)

    def split(self, body):
        """(bindings, condition or None, head) of a rule body."""
        if isinstance(body, ast.Logic) and body.op == "=>" and len(body.operands) == 2:
            left, head = body.operands
            if isinstance(left, ast.Quantifier) and left.kind == "exists" and not self.mentions_action(left.body):
                names = {b.var for b in left.bindings}
                if not names & self.free_names(head):
                    return tuple((b.var, b.label) for b in left.bindings), left.body, head
            if not self.mentions_action(left):
                return (), left, head
        if isinstance(body, ast.Quantifier) and body.kind == "forall":
            bindings = tuple((b.var, b.label) for b in body.bindings)
            inner = body.body
            if isinstance(inner, ast.Logic) and inner.op == "=>" and not self.mentions_action(inner.operands[0]):
                return bindings, inner.operands[0], inner.operands[1]
            return bindings, None, inner
        return (), None, body

    def mentions_action(self, node) -> bool:
        return self.rules.mentions_action(node)

    def action_only(self, node) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.name not in self.actions:
                return False
            if not isinstance(sub, (ast.Name, ast.Logic, ast.Not, ast.Truth)):
                return False
        return True

    @staticmethod
    def free_names(node) -> set:
        return {n.name for n in ast.walk(node) if isinstance(n, ast.Name)}

    # -- formulas
    def compile(self, node, scope: tuple, trace: bool = False) -> Closure:
        method = getattr(self, f"_{type(node).__name__.lower()}")
        return method(node, scope, trace)

    def _truth(self, node, scope, trace):
        value = node.value
        return lambda w, env: value

    def _number(self, node, scope, trace):
        value = node.value
        return lambda w, env: value

    def _name(self, node, scope, trace):
        name = node.name
        if name in scope:
            index = len(scope) - 1 - scope[::-1].index(name)  # innermost binding
            return lambda w, env: env[index]
        if name in self.actions:
            return lambda w, env: w.actions[name]
        if name in self.sort_values:
            return lambda w, env: name
        return self._call(ast.Call(name, (), line=node.line, column=node.column), scope, trace)

    def _call(self, node, scope, trace):
        name = node.name
        if name in self.rules.defines:
            return self._define_call(node, scope, trace)
        table = "truth" if name in self.rules.predicates else "values"
        args = [self.compile(a, scope) for a in node.args]
        indexes = [scope.index(a.name) if isinstance(a, ast.Name) and a.name in scope else None for a in node.args]
        if len(node.args) == 1 and indexes[0] is not None:
            index = len(scope) - 1 - scope[::-1].index(node.args[0].name)
            make_key = lambda w, env: (name, (env[index],))  # noqa: E731
        elif not node.args:
            key = (name, ())
            make_key = lambda w, env: key  # noqa: E731
        elif len(args) == 2:  # light(o, red), near(a, b): no generator per lookup
            first, second = args
            make_key = lambda w, env: (name, (first(w, env), second(w, env)))  # noqa: E731
        else:
            make_key = lambda w, env: (name, tuple(a(w, env) for a in args))  # noqa: E731
        if table == "truth":
            if not trace:
                if len(node.args) == 1 and indexes[0] is not None:
                    return lambda w, env: w.truth[(name, (env[index],))]
                return lambda w, env: w.truth[make_key(w, env)]

            def traced_atom(w, env):
                key = make_key(w, env)
                value = w.truth[key]
                text = atom_text(*key)
                w.trace.append(text if value is True else f"not {text}" if value is False else f"{text} (uncertain)")
                return value
            return traced_atom
        if not trace:
            return lambda w, env: w.values[make_key(w, env)]

        def traced_value(w, env):
            key = make_key(w, env)
            value = w.values[key]
            text = atom_text(*key)
            w.trace.append(f"{text} = {value:g}" if isinstance(value, float) else
                           f"{text} unknown" if value is None else
                           measured_text(w.intervals[text]) if text in w.intervals else f"{text} (uncertain)")
            return value
        return traced_value

    def _define_call(self, node, scope, trace):
        define = self.rules.defines[node.name]
        key = (node.name, trace)
        if key not in self._defines:
            self._defines[key] = None  # placeholder (defines are not recursive)
            self._defines[key] = self.compile(define.body, define.params, trace)
        body = self._defines[key]
        args = [self.compile(a, scope) for a in node.args]
        name = node.name
        if trace:
            def traced_define(w, env):
                bound = tuple(a(w, env) for a in args)
                mark = len(w.trace)
                value = body(w, bound)
                if value is False:  # say the define's name, not every atom that made it false
                    del w.trace[mark:]
                    w.trace.append(f"not {atom_text(name, bound)}")
                return value
            return traced_define
        if not args:
            return lambda w, env: body(w, ())
        if len(node.args) == 1 and isinstance(node.args[0], ast.Name) and node.args[0].name in scope:
            index = len(scope) - 1 - scope[::-1].index(node.args[0].name)
            return lambda w, env: body(w, (env[index],))
        return lambda w, env: body(w, tuple(a(w, env) for a in args))

    def _not(self, node, scope, trace):
        operand = self.compile(node.operand, scope, trace)

        def negation(w, env):
            value = operand(w, env)
            if value is True:
                return False
            if value is False:
                return True
            return _negation(value)
        return negation

    def _logic(self, node, scope, trace):
        operands = [self.compile(o, scope, trace) for o in node.operands]
        if node.op == "and":
            # traced or not: a false conjunction keeps the trace of the conjunct that made it false
            def conjunction(w, env):
                residual = None
                for operand in operands:
                    value = operand(w, env)
                    if value is False:
                        return False
                    if value is not True:
                        residual = [value] if residual is None else residual + [value]
                if residual is None:
                    return True
                return residual[0] if len(residual) == 1 else _all_of(residual)
            return conjunction
        if node.op == "or":
            if trace:
                def traced_or(w, env):
                    results = []
                    for o in operands:
                        mark = len(w.trace)
                        value = o(w, env)
                        if value is False:
                            del w.trace[mark:]
                        results.append(value)
                        if value is True:
                            break
                    return or_values(results)
                return traced_or
            def disjunction(w, env):
                residual = None
                for operand in operands:
                    value = operand(w, env)
                    if value is True:
                        return True
                    if value is not False:
                        residual = [value] if residual is None else residual + [value]
                if residual is None:
                    return False
                return residual[0] if len(residual) == 1 else _any_of(residual)
            return disjunction
        left, right = operands
        if node.op == "=>":
            def implication(w, env):
                condition = left(w, env)
                if condition is False:
                    return True
                return implies_value(condition, right(w, env))
            return implication

        def equivalence(w, env):
            a, b = left(w, env), right(w, env)
            if not is_residual(a) and not is_residual(b):
                return a == b
            return a == b if is_residual(a) else b == a
        return equivalence

    def _quantifier(self, node, scope, trace):
        variables = tuple(b.var for b in node.bindings)
        labels = tuple(b.label for b in node.bindings)
        body = self.compile(node.body, scope + variables, trace)
        exists = node.kind == "exists"

        def quantified(w, env):
            residual = []
            for combo in itertools.product(*(w.members(label) for label in labels)):
                mark = len(w.trace) if trace else 0
                value = body(w, env + tuple(obj for obj, _ in combo))
                guards = [g for _, g in combo if g is not True]
                if exists:
                    if guards and value is not False:
                        value = and_values(guards + [value])
                    if value is True:
                        return True
                    if value is False:
                        if trace:
                            del w.trace[mark:]
                        continue
                else:
                    if guards and value is not True:
                        value = or_values([not_value(and_values(guards))] + [value])
                    if value is False:
                        return False
                    if value is True:
                        if trace:
                            del w.trace[mark:]
                        continue
                residual.append(value)
            if not residual:
                return not exists
            if len(residual) == 1:
                return residual[0]
            return _any_of(residual) if exists else _all_of(residual)
        return quantified

    def _compare(self, node, scope, trace):
        left = self.compile(node.left, scope, trace)
        right = self.compile(node.right, scope, trace)
        compare, op = _COMPARE[node.op], node.op

        def comparison(w, env):
            a, b = left(w, env), right(w, env)
            if a is None or b is None:
                return False  # a missing value satisfies no comparison
            if w.bounds and (a.__class__ is Residual or b.__class__ is Residual or is_z3(a) or is_z3(b)):
                decided = compare_bounds(op, a, b, w.bounds, w.float_bounds)  # the same for every measured value
                if decided is not None:
                    return decided
            result = compare(a, b)
            return bool(result) if isinstance(result, bool) else result
        return comparison

    def _arith(self, node, scope, trace):
        left = self.compile(node.left, scope, trace)
        right = self.compile(node.right, scope, trace)
        apply = _ARITH[node.op]

        def arithmetic(w, env):
            a, b = left(w, env), right(w, env)
            if a is None or b is None:
                return None
            return apply(a, b)
        return arithmetic

    def _negate(self, node, scope, trace):
        operand = self.compile(node.operand, scope, trace)

        def negation(w, env):
            value = operand(w, env)
            return None if value is None else -value
        return negation
