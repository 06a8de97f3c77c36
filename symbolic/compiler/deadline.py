"""Deadline: the moment a frame's time budget runs out, checked by every loop that can grow with the frame.

Grounding a rule, reading the facts, evaluating a residual, repairing and
explaining all loop over objects, instances or formula nodes; each such loop
checks the deadline between chunks of :data:`CHUNK` items (or at each
``and``/``or`` node of a residual), and the first check after the moment has
passed raises :class:`BudgetExceeded`. So work stops at most one chunk after
the budget is spent, whatever the size of the frame or the nesting of its
quantifiers. A z3 call gets the time left as its timeout instead.

Example:
    >>> deadline = Deadline.after_ms(60_000)
    >>> deadline.check()  # time is left: nothing happens
    >>> deadline.remaining_ms() > 59_000
    True
    >>> [len(chunk) for chunk in in_chunks(list(range(600)), deadline)]
    [256, 256, 88]
    >>> Deadline(0.0).check()
    Traceback (most recent call last):
    ...
    symbolic.compiler.deadline.BudgetExceeded: the time budget ran out
"""
from __future__ import annotations

import heapq
import itertools
import time
from typing import Callable

#: items handled between two looks at the clock (about a quarter of a millisecond of work).
CHUNK = 256


class BudgetExceeded(TimeoutError):
    """The time budget ran out; ``where`` names what was being worked on (``"rule pileup (cars.rules:9)"``),
    filled in by the first caller that knows it.

    Example:
        >>> error = BudgetExceeded()
        >>> error.where = "rule r (a.rules:3)"
        >>> str(error)
        'the time budget ran out in rule r (a.rules:3)'
    """

    def __init__(self, where: str = ""):
        super().__init__()
        self.where = where

    def __str__(self) -> str:
        return "the time budget ran out" + (f" in {self.where}" if self.where else "")


class Deadline:
    """A moment on a clock (``time.perf_counter`` seconds by default) after which work stops.

    Args:
        end: the moment, in the clock's seconds.
        clock: a function returning the current time in seconds.

    Example:
        >>> ticks = iter([0.0, 0.5, 2.0])
        >>> deadline = Deadline(1.0, clock=lambda: next(ticks))
        >>> deadline.check(); deadline.passed()
        False
        >>> deadline.check()
        Traceback (most recent call last):
        ...
        symbolic.compiler.deadline.BudgetExceeded: the time budget ran out
    """

    __slots__ = ("end", "clock")

    def __init__(self, end: float, clock: Callable[[], float] = time.perf_counter):
        self.end = end
        self.clock = clock

    @classmethod
    def after_ms(cls, milliseconds: float, *, start: float | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> "Deadline":
        """The deadline ``milliseconds`` after ``start`` (default: now)."""
        return cls((clock() if start is None else start) + milliseconds / 1000.0, clock)

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` when the deadline has passed."""
        if self.clock() > self.end:
            raise BudgetExceeded()

    def passed(self) -> bool:
        """Whether the deadline has passed."""
        return self.clock() > self.end

    def remaining_ms(self) -> float:
        """Milliseconds left (negative once passed)."""
        return (self.end - self.clock()) * 1000.0

    def timeout_ms(self) -> int:
        """The time left as a z3 ``timeout`` (whole milliseconds, at least 1); raises
        :class:`BudgetExceeded` when none is left."""
        remaining = self.remaining_ms()
        if remaining <= 0:
            raise BudgetExceeded()
        return max(1, int(remaining))


def in_chunks(items, deadline: Deadline | None, size: int = CHUNK, *, length: int | None = None):
    """``items`` in chunks of ``size``, the deadline checked before each (one chunk, unchecked, without one).

    A short list (or an iterable whose ``length`` is given and short) comes back
    whole after one check, so a loop over it costs one look at the clock.

    Args:
        items: a list (sliced) or any iterable (read ``size`` at a time).
        deadline: a :class:`Deadline` or None.
        size: items per chunk.
        length: how many items an iterable that is not a list holds, when known.

    Returns:
        An iterable of lists (or of ``items`` itself).

    Example:
        >>> [len(c) for c in in_chunks(range(5), None)], [c for c in in_chunks(iter("abc"), Deadline.after_ms(1e6), 2)]
        ([5], [['a', 'b'], ['c']])
        >>> [len(c) for c in in_chunks(iter(range(600)), Deadline.after_ms(1e6))]  # an iterable: 16, 32, ... 256
        [16, 32, 64, 128, 256, 104]
    """
    if deadline is None:
        return (items,)
    if isinstance(items, (list, tuple)):
        if len(items) <= size:
            deadline.check()
            return (items,)
        return _sliced(items, deadline, size)
    if length is not None and length <= size:
        deadline.check()
        return (items,)
    return _read(iter(items), deadline, size)


def sorted_in_time(items: list, deadline: Deadline | None, key=None, size: int = CHUNK) -> list:
    """``sorted(items, key=key)``, the deadline checked every ``size`` items: chunks are sorted
    apart and merged, so a long list costs no long stretch without a look at the clock.

    Example:
        >>> sorted_in_time([3, 1, 2] * 200, Deadline.after_ms(1e6), size=100)[:5]
        [1, 1, 1, 1, 1]
        >>> sorted_in_time(["b", "A"], None, key=str.lower)
        ['A', 'b']
    """
    if deadline is None or len(items) <= size:
        if deadline is not None:
            deadline.check()
        return sorted(items, key=key)
    runs = [sorted(chunk, key=key) for chunk in in_chunks(items, deadline, size)]
    merged = []
    for chunk in in_chunks(heapq.merge(*runs, key=key), deadline, size):
        merged += chunk
    return merged


def _sliced(items, deadline: Deadline, size: int):
    for start in range(0, len(items), size):
        deadline.check()
        yield items[start:start + size]


def _read(iterator, deadline: Deadline, size: int):
    step = min(16, size)  # small at first: a loop that stops early (an ``exists`` found) reads little ahead
    while True:
        deadline.check()
        chunk = list(itertools.islice(iterator, step))
        if not chunk:
            return
        yield chunk
        step = min(2 * step, size)
