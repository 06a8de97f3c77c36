"""Errors in rule files: where they are, what was found, what was expected.

A :class:`RuleError` reads like a compiler message::

    traffic.rules:12:15: unknown predicate 'pedestrain'. Did you mean 'pedestrian'?
        rule crosswalk: exists p: pedestrain(p) and in_crosswalk(p) => stop
                                  ^

:class:`RuleErrors` gathers every error found in one pass over a file; it is
itself a :class:`RuleError`, so ``except RuleError`` catches both.
"""
from __future__ import annotations

import difflib
from typing import Iterable


#: the most characters of the offending line a message shows (a window around the caret).
SHOWN_WIDTH = 160


class RuleError(ValueError):
    """One mistake in a rule file, with its place and the offending line.

    Args:
        message: what is wrong and what was expected.
        file: the rule file's name as the user gave it.
        line: 1-based line number (0 when unknown).
        column: 1-based column (0 when unknown).
        source_line: the text of that line, shown with a caret under ``column``.

    Example:
        >>> error = RuleError("unknown action 'stpo'. Did you mean 'stop'?", "a.rules", 3, 7, "safe  stpo")
        >>> print(error)
        a.rules:3:7: unknown action 'stpo'. Did you mean 'stop'?
            safe  stpo
                  ^
        >>> isinstance(error, ValueError), error.line, error.column
        (True, 3, 7)
    """

    def __init__(self, message: str, file: str = "<rules>", line: int = 0, column: int = 0,
                 source_line: str = ""):
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.source_line = source_line.rstrip("\n")
        super().__init__(self._render())

    @property
    def where(self) -> str:
        """``file:line:col`` (or less when the place is not known)."""
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file

    def _render(self) -> str:
        text = f"{self.where}: {self.message}"
        if self.source_line and self.column:
            shown, caret = printable_line(self.source_line), self.column - 1
            if len(shown) > SHOWN_WIDTH:  # a window of the line around the caret
                start = max(0, min(caret - SHOWN_WIDTH // 2, len(shown) - SHOWN_WIDTH))
                end = start + SHOWN_WIDTH
                shown = ("..." if start else "") + shown[start:end] + ("..." if end < len(shown) else "")
                caret += (3 if start else 0) - start
            text += f"\n    {shown}\n    {' ' * caret}^"
        return text

    def to_json(self) -> dict:
        """The error as data: file, line, column, message."""
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message}


class RuleErrors(RuleError):
    """Several rule errors found in one pass, in file order.

    Example:
        >>> errors = RuleErrors([RuleError("first", "a.rules", 1, 1), RuleError("second", "a.rules", 2, 1)])
        >>> print(errors)
        a.rules:1:1: first
        a.rules:2:1: second
        >>> len(errors.errors)
        2
    """

    def __init__(self, errors: Iterable[RuleError]):
        self.errors = sorted(errors, key=lambda e: (e.file, e.line, e.column))
        first = self.errors[0] if self.errors else RuleError("no errors")
        super().__init__(first.message, first.file, first.line, first.column, first.source_line)
        self.args = ("\n".join(str(e) for e in self.errors),)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)

    def to_json(self) -> dict:
        return {"errors": [e.to_json() for e in self.errors]}


def printable_line(line: str) -> str:
    """``line`` as it is shown above a caret: one printable character per column.

    A tab becomes one space, and a character a terminal would not print as one
    (a control character, a form feed, a line separator) becomes ``?``.

    Example:
        >>> printable_line("rule\\tr:\\x0cgo\\u2028")
        'rule r:?go?'
    """
    return "".join(" " if c == "\t" else c if c.isprintable() else "?" for c in line)


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """A " Did you mean 'x'?" suffix for the closest option, or "".

    Example:
        >>> did_you_mean("pedestrain", ["pedestrian", "car"])
        " Did you mean 'pedestrian'?"
        >>> did_you_mean("zzz", ["car"])
        ''
    """
    close = difflib.get_close_matches(name, sorted(set(options)), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
