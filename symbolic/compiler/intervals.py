"""Comparisons decided over intervals: values known within a tolerance, read exactly as z3 reads them.

A measured value ``40.01 ± 0.1`` is a variable in ``[39.91, 40.11]``;
:func:`compare_bounds` decides a comparison that holds (or fails) for every
value in such intervals without a solver, first in floating point where
rounding cannot change the answer, else in exact rational arithmetic.
"""
from __future__ import annotations

from fractions import Fraction

import z3

from symbolic.compiler.residual import ARITHMETIC, Residual


def exact_interval(value: float, tolerance: float) -> tuple[Fraction, Fraction]:
    """``value ± tolerance`` exactly, each number read as z3 reads it (its decimal ``str``), in integer
    arithmetic (``Fraction(str(x))`` and Fraction sums cost several times more; a frame reads hundreds).

    Example:
        >>> exact_interval(40.01, 0.3)
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

    ``left`` and ``right`` are numbers, :class:`~symbolic.compiler.residual.Residual` terms or z3 terms; a
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
        elif op in ARITHMETIC:
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
