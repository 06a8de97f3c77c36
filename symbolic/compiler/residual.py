"""Residuals: what uncertain facts leave of a formula, and the three-valued helpers that build them.

A ground formula is decided (a Python ``True``/``False`` or number) or left
undecided by uncertain facts: a *residual*, either a z3 term or a
:class:`Residual` built in Python (evaluated exactly, turned into z3 only when
a question needs a solver). :func:`and_values`, :func:`or_values`,
:func:`not_value` and :func:`implies_value` combine decided values in Python
and residuals of either kind.
"""
from __future__ import annotations

import operator
from fractions import Fraction

import z3

from symbolic.compiler.deadline import CHUNK, in_chunks

#: comparison operator of the rule language -> its Python function (z3 terms and residuals overload them).
COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
               "=": operator.eq, "!=": operator.ne}
#: arithmetic operator of the rule language -> its Python function.
ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def is_z3(value) -> bool:
    return isinstance(value, z3.ExprRef)


def is_residual(value) -> bool:
    """Whether ``value`` is left undecided by uncertain facts: a z3 term or a :class:`Residual`.

    Example:
        >>> is_residual(True), is_residual(2.5), is_residual(z3.Bool("u")), is_residual(Residual.atom("u"))
        (False, False, True, True)
    """
    return isinstance(value, (Residual, z3.ExprRef))


class Residual:
    """A formula or number over a frame's uncertain facts, built in Python; z3 only on demand.

    A :class:`~symbolic.compiler.worlds.FactWorld` built with ``terms="python"`` reads an uncertain fact
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

    def variables(self, deadline=None) -> frozenset:
        """The texts of the uncertain facts this residual reads (``deadline``: a
        :class:`~symbolic.compiler.deadline.Deadline` checked at each node not yet visited)."""
        if self._variables is None:
            if self.is_variable:
                self._variables = frozenset((self.args[0],))
            else:
                self._variables = frozenset().union(*(a.variables(deadline) for a in _each(self.args, deadline)
                                                      if isinstance(a, Residual)))
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

    def evaluate(self, assignment, deadline=None):
        """The value under ``assignment`` (variable text -> bool or number), computed exactly.

        Numbers are read as z3 reads them (a float by its decimal ``str``) and
        combined in rational arithmetic, so the answer is z3's.

        Args:
            assignment: variable text -> value.
            deadline: a :class:`~symbolic.compiler.deadline.Deadline` checked at each
                ``and``, ``or`` and ``=>`` node, or None.

        Raises:
            ZeroDivisionError: a division by zero (z3 leaves it unspecified).
            BudgetExceeded: the deadline passed.
        """
        op, args = self.op, self.args
        if op == "atom":
            return assignment[args[0]]
        if op == "quantity":
            return _evaluate(assignment[args[0]], assignment, deadline)
        if self._exact is None:
            self._exact = tuple(Fraction(str(a)) if isinstance(a, float) else a for a in args)
        args = self._exact
        if op == "and":
            return all(_evaluate(a, assignment, deadline) for a in _each(args, deadline))
        if op == "or":
            return any(_evaluate(a, assignment, deadline) for a in _each(args, deadline))
        if op == "not":
            return not _evaluate(args[0], assignment, deadline)
        if op == "=>":
            if deadline is not None:
                deadline.check()
            return not _evaluate(args[0], assignment, deadline) or _evaluate(args[1], assignment, deadline)
        if op == "neg":
            return -_evaluate(args[0], assignment, deadline)
        apply = COMPARISONS.get(op) or ARITHMETIC[op]
        return apply(_evaluate(args[0], assignment, deadline), _evaluate(args[1], assignment, deadline))

    def to_z3(self, memo: dict, deadline=None):
        """The z3 term of this residual (``memo``: residual id -> z3 term, shared across calls;
        ``deadline``: a :class:`~symbolic.compiler.deadline.Deadline` checked at each new inner node)."""
        found = memo.get(id(self))
        if found is not None:
            return found[1]
        op, args = self.op, self.args
        if op == "atom":
            term = z3.Bool(args[0])
        elif op == "quantity":
            term = z3.Real(args[0])
        else:
            parts = [a.to_z3(memo, deadline) if isinstance(a, Residual) else a for a in _each(args, deadline)]
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
                term = (COMPARISONS.get(op) or ARITHMETIC[op])(*parts)
        memo[id(self)] = (self, term)  # keeps self alive, so its id stays its own
        return term

    def extreme(self, want: bool, deadline=None) -> dict | None:
        """An assignment of the variables under which this formula is ``want`` if it is under any.

        By monotonicity: each atom takes the truth that helps, each number the end
        of its range that helps, so one evaluation decides whether ``want`` is
        reachable. None when that reasoning does not apply (a variable pulled both
        ways as in ``x > 1 and x < 3``, an equality, a product of two unknowns, a
        number without a range): then a solver must tell. ``deadline`` (a
        :class:`~symbolic.compiler.deadline.Deadline` or None) is checked at each ``and``/``or`` node.

        Example:
            >>> ttc, red = Residual.quantity("ttc(o1)", 0.0, 100.0), Residual.atom("red")
            >>> (ttc < 2.5).extreme(True), (ttc < 2.5).extreme(False)
            ({'ttc(o1)': 0.0}, {'ttc(o1)': 100.0})
            >>> and_values([red, not_value(red)]).extreme(True) is None
            True
        """
        found: dict = {}
        return found if _push(self, want, found, deadline) else None

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


def _each(args: tuple, deadline):
    """``args``, the deadline (if any) checked first and then every :data:`~symbolic.compiler.deadline.CHUNK`
    of them (an ``or`` over every object of a large frame is one node with thousands of arguments)."""
    if deadline is None:
        return args
    deadline.check()
    if len(args) <= CHUNK:
        return args
    return (a for chunk in in_chunks(args, deadline) for a in chunk)


def _evaluate(value, assignment, deadline=None):
    if isinstance(value, Residual):
        return value.evaluate(assignment, deadline)
    if isinstance(value, float):
        return Fraction(str(value))  # as z3 reads a float
    return value


def _settle(found: dict, name: str, value) -> bool:
    """Record ``name = value``; False if ``name`` was already pulled the other way."""
    previous = found.setdefault(name, value)
    return previous is value or previous == value


def _push(formula, want: bool, found: dict, deadline=None) -> bool:
    """Set in ``found`` each variable of ``formula`` the way that makes it ``want``; False if not monotone."""
    if not isinstance(formula, Residual):
        return True
    op, args = formula.op, formula.args
    if op == "atom":
        return _settle(found, args[0], want)
    if op == "not":
        return _push(args[0], not want, found, deadline)
    if op in ("and", "or"):
        return all(_push(a, want, found, deadline) for a in _each(args, deadline))
    if op == "=>":
        if deadline is not None:
            deadline.check()
        return _push(args[0], not want, found, deadline) and _push(args[1], want, found, deadline)
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


def all_of(residuals: list):
    """The conjunction of undecided values (all Residuals or all z3 terms, as the first one)."""
    return Residual("and", tuple(residuals)) if isinstance(residuals[0], Residual) else z3.And(residuals)


def any_of(residuals: list):
    """The disjunction of undecided values (all Residuals or all z3 terms, as the first one)."""
    return Residual("or", tuple(residuals)) if isinstance(residuals[0], Residual) else z3.Or(residuals)


def negation_of(residual):
    """``not residual``, as a Residual or a z3 term like ``residual``."""
    return Residual("not", (residual,)) if isinstance(residual, Residual) else z3.Not(residual)


def implication_of(condition, head):
    """``condition => head`` of undecided values: a Residual when either is one, else a z3 term."""
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
    return residual[0] if len(residual) == 1 else all_of(residual)


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
    return residual[0] if len(residual) == 1 else any_of(residual)


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
    return negation_of(value)


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
        return negation_of(condition)
    return implication_of(condition, head)
