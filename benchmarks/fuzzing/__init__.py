"""Fuzzers over every input the project reads: ``python -m benchmarks fuzz --target rules --cases 100000``.

Each target is a module ``benchmarks/fuzzing/<target>.py`` exposing

- ``generate(rng: random.Random, index: int) -> Case``: one input, built from the seeded generator;
- ``check(case: Case) -> str | None``: feed the input to the project; ``None`` when the
  project accepted it or refused it with its own one-line error (with the place it
  names), otherwise a short description of the failure.

The driver (``benchmarks/bench_fuzz.py``) times each case, treats a case over the
hang limit as a failure, and prints a table. Tests run each target for a few
seeded cases (``tests/benchmarks/test_fuzzing.py``).
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import random
import signal
import time
from pathlib import Path
from typing import Any, Callable, Iterator

HANG_LIMIT_S = 5.0


@dataclasses.dataclass
class Case:
    """One generated input: a short label for reports and whatever the target needs."""

    label: str
    payload: Any


@dataclasses.dataclass
class Failure:
    index: int
    label: str
    reason: str
    seconds: float


@dataclasses.dataclass
class FuzzResult:
    target: str
    cases: int
    failures: list[Failure]
    seconds: list[float]

    @property
    def slowest(self) -> float:
        return max(self.seconds, default=0.0)


def targets() -> list[str]:
    """The fuzz targets available.

    Example:
        >>> isinstance(targets(), list)
        True
    """
    folder = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if not m.name.startswith("_"))


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def run(target: str, cases: int, seed: int = 0, *, hang_limit_s: float = HANG_LIMIT_S,
        progress: Callable[[int], None] | None = None) -> FuzzResult:
    """Run ``cases`` seeded cases of ``target``; failures are collected, never raised."""
    module = importlib.import_module(f"benchmarks.fuzzing.{target}")
    rng = random.Random(seed)
    failures: list[Failure] = []
    seconds: list[float] = []
    use_alarm = hasattr(signal, "SIGALRM")
    previous = signal.signal(signal.SIGALRM, _alarm) if use_alarm else None
    try:
        for index in range(cases):
            case = module.generate(rng, index)
            start = time.perf_counter()
            try:
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, hang_limit_s * 2)
                reason = module.check(case)
            except _Hang:
                reason = f"hang: killed after {hang_limit_s * 2:.0f} s"
            except Exception as error:  # anything escaping check is a failure to report
                reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            finally:
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.perf_counter() - start
            seconds.append(elapsed)
            if reason is None and elapsed > hang_limit_s:
                reason = f"slow: {elapsed:.1f} s (limit {hang_limit_s:.0f} s)"
            if reason is not None:
                failures.append(Failure(index, case.label, reason, elapsed))
            if progress is not None:
                progress(index + 1)
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, previous)
    return FuzzResult(target, cases, failures, seconds)


def iter_lines(result: FuzzResult, show: int = 10) -> Iterator[str]:
    """The first failures of a run, one line each."""
    for failure in result.failures[:show]:
        yield f"  case {failure.index} ({failure.label}): {failure.reason}"
