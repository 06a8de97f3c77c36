"""The text of a rule file: how it is read, where its lines break, and the limits it must keep.

A rule file is UTF-8 text of at most :data:`MAX_FILE_BYTES` bytes (a leading byte-order
mark is skipped). Its lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` and nowhere else:
a form feed, a vertical tab or a Unicode line separator (U+2028, U+2029, U+0085) is a
character inside a line, so every ``file:line:col`` and the line shown under it agree
with what the parser counted. A file holds at most :data:`MAX_TOKENS` tokens, formulas
nest at most :data:`MAX_NESTING` deep, and every number written in a file is 0 or has a
magnitude in [:data:`MIN_MAGNITUDE`, :data:`MAX_MAGNITUDE`] (arithmetic keeps
coefficients within :data:`MAX_COEFFICIENT`), so no rule can overflow the checker, the
compiler or a decision's score. The limits are checked where the file is parsed
(:mod:`~symbolic.language.parser`) and type-checked (:mod:`~symbolic.language.typecheck`).

Example:
    >>> split_lines("pred a\\r\\npred b\\fpred c\\rpred d")
    ['pred a', 'pred b\\x0cpred c', 'pred d']
    >>> decode_rule_bytes(b"actions go\\nrule r: \\xff go", "x.rules")
    Traceback (most recent call last):
    ...
    symbolic.language.errors.RuleError: x.rules:2:9: invalid UTF-8 (invalid start byte 0xff); a rule file is UTF-8 text
        rule r: � go
                ^
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from symbolic.language.errors import RuleError

#: the largest rule file read, in bytes; larger ones are split with ``include``.
MAX_FILE_BYTES = 1_000_000
#: the most tokens (names, numbers, symbols; comments do not count) in one file, about
#: fifteen times ``traffic.rules``: it bounds the time a file takes to parse.
MAX_TOKENS = 10_000
#: how deep a formula may nest: each ``not``, unary ``-``, quantifier, call and operator
#: is a level, and so is every link of a ``+``, ``*`` or ``=>`` chain (parentheses alone are not).
MAX_NESTING = 100
#: the most syntax-tree nodes of a rule, constraint or define written out with the
#: defines it uses (a define that uses another twice doubles it; the reasoner works on the
#: written-out formula). The written-out formula nests at most :data:`MAX_NESTING` deep too.
MAX_EXPANDED_NODES = 10_000
#: the largest magnitude of a number written in a rule file.
MAX_MAGNITUDE = 1e9
#: the smallest magnitude of a nonzero number written in a rule file.
MIN_MAGNITUDE = 1e-9
#: the largest magnitude arithmetic may give a coefficient or constant of a term
#: (``dist(o) * 1e9 * 1e9`` is refused); the smallest nonzero one is its inverse.
MAX_COEFFICIENT = 1e12
#: the longest ``include`` path, in characters.
MAX_INCLUDE_PATH = 1024
#: how many files deep ``include`` lines may nest.
MAX_INCLUDE_DEPTH = 32
#: the suffix every included file's name must have.
RULE_SUFFIX = ".rules"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TOKEN = re.compile(r'#[^\n]*|"[^"\n]*"|[A-Za-z_0-9.]+|\S')


def split_lines(text: str) -> list[str]:
    """The lines of rule text, as the parser counts them: breaks at ``\\n``, ``\\r\\n`` and ``\\r`` only.

    Unlike :meth:`str.splitlines`, a form feed, vertical tab or Unicode line or paragraph
    separator stays inside its line.

    Example:
        >>> split_lines("a\\u2028b\\nc\\r\\n")
        ['a\\u2028b', 'c', '']
    """
    return _LINE_BREAK.split(text)


def normalize_line_breaks(text: str) -> str:
    """``text`` with every ``\\r\\n`` and lone ``\\r`` turned into ``\\n`` (columns do not move).

    Example:
        >>> normalize_line_breaks("a\\r\\nb\\rc")
        'a\\nb\\nc'
    """
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def decode_rule_bytes(data: bytes, filename: str) -> str:
    """Decode a rule file's bytes as UTF-8 (a leading byte-order mark is skipped).

    Raises:
        RuleError: at the line and column of the first byte that is not UTF-8.

    Example:
        >>> decode_rule_bytes("pred café".encode(), "x.rules")
        'pred café'
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = split_lines(data[:error.start].decode("utf-8"))  # (the bytes before the bad one are UTF-8)
        rest = split_lines(data[error.start:].decode("utf-8", "replace"))[0]
        raise RuleError(f"invalid UTF-8 ({error.reason} 0x{data[error.start]:02x}); a rule file is UTF-8 text",
                        filename, len(before), len(before[-1]) + 1, before[-1] + rest) from None


def read_rule_file(path: str | Path, filename: str | None = None) -> str:
    """Read a rule file: at most :data:`MAX_FILE_BYTES` bytes of UTF-8 text.

    Args:
        path: the file.
        filename: the name shown in messages (default ``str(path)``).

    Raises:
        RuleError: the file cannot be read or is too large (no line: the whole file is
            at fault), or is not UTF-8 (at the first bad byte).

    Example:
        >>> read_rule_file("no/such.rules")
        Traceback (most recent call last):
        ...
        symbolic.language.errors.RuleError: no/such.rules: cannot read rule file (No such file or directory)
    """
    filename = str(path) if filename is None else filename
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise RuleError(f"cannot read rule file ({error.strerror or type(error).__name__})", filename) from None
    except ValueError as error:  # a name with a NUL character
        raise RuleError(f"cannot read rule file ({error})", filename) from None
    if len(data) > MAX_FILE_BYTES:
        raise RuleError(f"rule file is larger than {MAX_FILE_BYTES:,} bytes; split it with 'include'", filename)
    return decode_rule_bytes(data, filename)


def token_limit_offset(text: str, limit: int = MAX_TOKENS) -> int | None:
    """Where the token after the first ``limit`` tokens of ``text`` starts, or ``None`` when there are no more.

    Example:
        >>> token_limit_offset("rule r: a and b  # six tokens and a comment", limit=6)
        >>> token_limit_offset("rule r: a and b", limit=5)
        14
    """
    count = 0
    for match in _TOKEN.finditer(text):
        if match.group().startswith("#"):
            continue
        count += 1
        if count > limit:
            return match.start()
    return None


def number_problem(text: str) -> str | None:
    """Why a number written in a rule file is out of range, or ``None`` when it is fine.

    Example:
        >>> number_problem("12.5") is None, number_problem("0.0") is None
        (True, True)
        >>> number_problem("1e999")
        'number 1e999 is out of range: a number in a rule file is 0 or has a magnitude between 1e-09 and 1e+09'
    """
    value = float(text)
    mantissa = text.lower().split("e")[0]
    written_zero = not mantissa.strip("0.")
    if written_zero or (math.isfinite(value) and MIN_MAGNITUDE <= abs(value) <= MAX_MAGNITUDE):
        return None
    return (f"number {text} is out of range: a number in a rule file is 0 or has a magnitude between "
            f"{MIN_MAGNITUDE:g} and {MAX_MAGNITUDE:g}")


def include_path_problem(path: str) -> str | None:
    """Why an ``include`` path cannot name a rule file, judged from the text alone, or ``None``.

    Example:
        >>> include_path_problem("vocabulary.rules") is None
        True
        >>> include_path_problem("/etc/passwd")
        "included file '/etc/passwd' is not a rule file: its name must end in .rules"
    """
    if len(path) > MAX_INCLUDE_PATH:
        return f"include path is too long: {len(path):,} characters (at most {MAX_INCLUDE_PATH:,})"
    odd = next((c for c in path if not c.isprintable()), None)
    if odd is not None:
        return f"include path {path!r} holds the character {odd!r}; write a plain file name"
    if not path.endswith(RULE_SUFFIX) or path.rsplit("/", 1)[-1] == RULE_SUFFIX:
        return f"included file {path!r} is not a rule file: its name must end in {RULE_SUFFIX}"
    return None
