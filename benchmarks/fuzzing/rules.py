"""Fuzz target ``rules``: mutated rule files must load, or fail with a rule error that points into them.

Each case starts from a shipped rule file (``configs/rules/*.rules`` and
``configs/rules/faulty/*.rules``) and applies one to three mutations: byte edits,
token swaps, deep nesting, huge, infinite or tiny numbers, odd line separators
(form feed, vertical tab, U+2028, U+2029, U+0085, lone ``\\r``), invalid UTF-8,
and ``include`` lines with long, odd or non-rule paths (a folder, ``/etc/passwd``,
a file holding a secret that must never be echoed, a mutated included file).

``check`` writes the case into a temporary folder and loads it
(parse, includes, type check), compiles it and decides one small frame of facts
made from its vocabulary; one case in :data:`VERIFY_EVERY` also runs the
verification checks (``nesy rules check``) over one symbolic object. Accepted:
success, or a :class:`~symbolic.language.errors.RuleError` whose every error names
a file of the case, a line and column inside that file, and shows exactly that
line (the line an independent split of the bytes at ``\\n``, ``\\r\\n`` and
``\\r`` gives). Anything else is a failure: another exception, an error without a
place or with a caret on another line, a secret echoed, or a case over the
driver's time limit.

``python -m benchmarks fuzz --target rules --cases 100000``
"""
from __future__ import annotations

import functools
import random
import re
import tempfile
from pathlib import Path

from benchmarks.fuzzing import Case
from symbolic.compiler.compiler import compile_rules
from symbolic.language.errors import RuleError
from symbolic.language.loader import load_rules
from symbolic.language.parser import RuleParser
from symbolic.language.ruleset import OBJECT
from symbolic.reasoning.facts import Fact
from symbolic.reasoning.reasoner import Reasoner
from symbolic.verify.checker import check_rules

ROOT = Path(__file__).resolve().parents[2]
SEED_FOLDERS = (ROOT / "configs" / "rules", ROOT / "configs" / "rules" / "faulty")
#: one case in this many also runs the verification checks.
VERIFY_EVERY = 20
#: written into a non-rule file some cases include; it must never appear in a message.
SECRET = "SECRET-CONTENT-7f3a"

KEYWORDS = ("sort", "pred", "func", "actions", "safe", "define", "constraint", "rule", "prefer", "avoid",
            "include", "weight", "exists", "forall", "in", "and", "or", "not", "true", "false", "Real")
PUNCTUATION = ("(", ")", "[", "]", "{", "}", ",", ":", ":=", "=>", "<=>", "<", "<=", ">", ">=", "=", "!=",
               "+", "-", "*", "/", "#", '"', "\n", " ", "\t", "$", "é")
#: numbers a file may hold, for mutations that keep it loadable.
FINE_NUMBERS = ("0", "12", "0.5", "1e3", "999999999", "1e-9", "2.5", "1000000000")
NUMBERS = ("1e999", "-1e999", "9" * 400, "1e308", "1e309", "1e-400", "1e-9", "1e9", "1000000001", "0.0000",
           "0", "00", "1e9 * 1e9 * 1e9", "1e-9 * 1e-9", "2.5e3", "1e", "1.", ".5", "0.00000001")
LINE_BREAKS = ("\r\n", "\r", "\n\f", "\f\n", "\f", "\v", "\u2028", "\u2029", "\x85", "\r", "\r\n", "\x1c", "\x1d", "\x1e", "\n\f")
BAD_UTF8 = (b"\xff", b"\xfe", b"\xc3", b"\xc3(", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80",
            b"\x80", b"\xf4\x90\x80\x80")
INCLUDE_PATHS = ("a" * 255 + ".rules", "a" * 256 + ".rules", "a" * 1018 + ".rules", "a" * 1019 + ".rules",
                 "a" * 5000, "x/" * 600 + "y.rules", "/etc/passwd", "/etc", "/dev/zero", "/dev/null", ".", "..",
                 "", ".rules", "missing.rules", "folder.rules", "secret.txt", "secret.rules.txt", "inc.rules",
                 "main.rules", "vocabulary.rules", "../rules/vocabulary.rules", "a\x00b.rules", "a\u2028.rules",
                 "a\x1b[31m.rules", "/proc/self/environ", "~/x.rules", "*.rules", "a\tb.rules")
DEPTHS = (50, 98, 99, 100, 101, 102, 150, 1000, 10_000)


@functools.lru_cache(maxsize=1)
def _seeds() -> tuple[tuple[str, bytes], ...]:
    files = sorted(p for folder in SEED_FOLDERS for p in folder.glob("*.rules"))
    return tuple((p.name, p.read_bytes()) for p in files)


@functools.lru_cache(maxsize=1)
def _parser() -> RuleParser:
    return RuleParser()  # building one compiles the grammar: once per run


# -- generation -----------------------------------------------------------

def generate(rng: random.Random, index: int) -> Case:
    """A mutated rule file (and the files it may include)."""
    name, data = rng.choice(_seeds())
    if rng.random() < 0.25:
        mutations = [rng.choice(GENTLE) for _ in range(rng.choice((1, 2)))]
    else:
        mutations = [rng.choice(MUTATIONS) for _ in range(rng.choice((1, 1, 2, 3)))]
    extra: dict[str, bytes] = {}
    for mutation in mutations:
        data = mutation(rng, data, extra)
    label = f"{name} " + "+".join(m.__name__.lstrip("_") for m in mutations)
    return Case(label, {"main": data, "extra": extra, "seed": rng.randrange(2 ** 32),
                        "verify": index % VERIFY_EVERY == 0})


def _position(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def _line_starts(data: bytes) -> list[int]:
    return [0] + [m.end() for m in re.finditer(rb"\n", data)]


def _bytes(rng, data, extra):
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        kind, at = rng.randrange(3), _position(rng, data)
        if kind == 0 and at < len(data):
            data[at] = rng.randrange(256)
        elif kind == 1:
            data[at:at] = bytes([rng.randrange(256)])
        elif at < len(data):
            del data[at:at + rng.randint(1, 20)]
    return bytes(data)


def _tokens(rng, data, extra):
    tokens = re.findall(rb"[A-Za-z_][A-Za-z0-9_]*|[0-9.]+(?:[eE][+-]?[0-9]+)?|\s+|.", data, re.S)
    if not tokens:
        return data
    words = [t for t in tokens if t[:1].isalpha()] or [b"x"]
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(tokens))
        kind = rng.randrange(5)
        choice = rng.choice((rng.choice(KEYWORDS), rng.choice(PUNCTUATION), rng.choice(NUMBERS)))
        if kind == 0:
            tokens[at] = choice.encode()
        elif kind == 1:
            tokens.insert(at, b" " + choice.encode() + b" ")
        elif kind == 2:
            del tokens[at]
        elif kind == 3:
            tokens[at] = rng.choice(words)
        else:
            tokens.insert(at, tokens[rng.randrange(len(tokens))])
    return b"".join(tokens)


def _nesting(rng, data, extra):
    depth = rng.choice(DEPTHS)
    shape = rng.randrange(6)
    if shape == 0:
        body = "not " * depth + "true"
    elif shape == 1:
        body = "(" * depth + "true" + ")" * depth
    elif shape == 2:
        body = "(true and " * depth + "true" + ")" * depth
    elif shape == 3:
        body = "1 + " * depth + "1 > 0"
    elif shape == 4:
        body = "- " * depth + "1 < 0"
    else:
        body = "true => " * depth + "true"
    line = f"\nrule deep_{depth}: {body} => {rng.choice(('stop', 'go', 'wait'))}\n".encode()
    if rng.random() < 0.2:
        line = line[:rng.randrange(len(line))]  # cut short: nested and unfinished
    at = rng.choice(_line_starts(data))
    return data[:at] + line + data[at:]


def _numbers(rng, data, extra):
    spots = [m for m in re.finditer(rb"(?<![A-Za-z_0-9])[0-9]+(?:\.[0-9]+)?", data)]
    if spots and rng.random() < 0.7:
        spot = rng.choice(spots)
        number = rng.choice(FINE_NUMBERS if rng.random() < 0.4 else NUMBERS)
        return data[:spot.start()] + number.encode() + data[spot.end():]
    action = rng.choice(re.findall(rb"actions\s+([A-Za-z_]+)", data) or [b"go"])
    kind = rng.choice((b"prefer", b"avoid"))
    lines = [kind + b" " + action + b" weight " + rng.choice(NUMBERS).encode() for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.5:
        lines.append(b"rule big [weight " + rng.choice(NUMBERS).encode() + b"]: true => " + action)
    if rng.random() < 0.5:
        lines.append(b"func huge: Real in [" + rng.choice(NUMBERS).encode() + b", " + rng.choice(NUMBERS).encode() + b"]")
    return data + b"\n" + b"\n".join(lines) + b"\n"


def _line_breaks(rng, data, extra):
    breaks = [m.start() for m in re.finditer(rb"\n", data)]
    if not breaks:
        return data + rng.choice(LINE_BREAKS).encode()
    out = bytearray(data)
    for at in sorted(rng.sample(breaks, min(len(breaks), rng.randint(1, 6))), reverse=True):
        out[at:at + 1] = rng.choice(LINE_BREAKS).encode()
    if rng.random() < 0.3:  # and a mistake after them, so an error must point past the odd breaks
        out += b"\nrule after_breaks: undeclared_thing => stop\n"
    return bytes(out)


def _invalid_utf8(rng, data, extra):
    for _ in range(rng.randint(1, 3)):
        at = _position(rng, data)
        data = data[:at] + rng.choice(BAD_UTF8) + data[at:]
    return data


def _include(rng, data, extra):
    path = rng.choice(INCLUDE_PATHS)
    if path == "secret.txt" or path == "secret.rules.txt":
        extra[path] = f"{SECRET}\n{SECRET} more\n".encode()
    elif path == "folder.rules":
        extra[path] = None  # a folder
    elif path == "inc.rules":
        seed = rng.choice(_seeds())[1]
        extra[path] = rng.choice((_bytes, _invalid_utf8, _line_breaks, _numbers, _tokens))(rng, seed, extra)
    line = b'include "' + path.encode("utf-8", "surrogateescape") + b'"\n'
    return line + data if rng.random() < 0.6 else data + b"\n" + line


def _fine_numbers(rng, data, extra):
    spots = list(re.finditer(rb"(?<![A-Za-z_0-9.])[0-9]+(?:\.[0-9]+)?(?![0-9.eE])", data))
    for spot in sorted(rng.sample(spots, min(len(spots), rng.randint(1, 4))), key=lambda m: -m.start()):
        data = data[:spot.start()] + rng.choice(FINE_NUMBERS).encode() + data[spot.end():]
    return data


def _fine_breaks(rng, data, extra):
    breaks = [m.start() for m in re.finditer(rb"\n", data)]
    out = bytearray(data)
    for at in sorted(rng.sample(breaks, min(len(breaks), rng.randint(1, 10))), reverse=True):
        out[at:at + 1] = rng.choice((b"\r\n", b"\r", b"\f\n", b"\n\f"))
    return bytes(out)


def _shallow_nesting(rng, data, extra):
    action = rng.choice(re.findall(rb"actions\s+([A-Za-z_]+)", data) or [b"go"])
    depth = rng.randint(1, 90)
    body = rng.choice((b"not " * (2 * (depth // 2)) + b"true", b"(" * depth + b"true" + b")" * depth,
                       b"1 + " * depth + b"1 > 0"))
    return data + b"\nrule shallow: " + body + b" => " + action + b"\n"


#: mutations after which the file may well still load (one case in four uses one of them alone).
GENTLE = (_fine_numbers, _fine_breaks, _shallow_nesting)
MUTATIONS = (_bytes, _tokens, _tokens, _nesting, _numbers, _numbers, _line_breaks, _invalid_utf8, _include)


# -- checking -------------------------------------------------------------

def check(case: Case) -> str | None:
    """Load, compile and decide the case; ``None`` when it succeeds or fails with a well-placed rule error."""
    with tempfile.TemporaryDirectory(prefix="nesy-fuzz-rules-") as folder:
        folder = Path(folder)
        for source in (ROOT / "configs" / "rules").glob("*.rules"):
            (folder / source.name).write_bytes(source.read_bytes())  # the shipped includes resolve
        for name, content in case.payload["extra"].items():
            if content is None:
                (folder / name).mkdir(exist_ok=True)
            else:
                (folder / name).write_bytes(content)
        main = folder / "main.rules"
        main.write_bytes(case.payload["main"])
        try:
            ruleset = load_rules(main, parser=_parser())
        except RuleError as error:
            return _misplaced(error, folder)
        compile_rules(ruleset)  # the compiler on its own, as the pipeline builds it
        if not ruleset.actions:
            return None  # an included-only vocabulary: nothing to decide or verify
        reasoner = Reasoner(ruleset, time_budget_ms=2000.0)
        facts = _small_facts(ruleset, random.Random(case.payload["seed"]))
        decision = reasoner.decide(facts)
        if decision.action not in ruleset.actions:
            return f"decide chose {decision.action!r}, not one of the file's actions"
        if case.payload["verify"]:
            check_rules(ruleset, 1, timeout_ms=500)
    return None


def _misplaced(error: RuleError, folder: Path) -> str | None:
    """Why a rule error is not acceptable, or ``None`` when every error in it points into its file."""
    text = str(error)
    if SECRET in text:
        return "the content of a non-rule file is echoed in the message"
    for one in getattr(error, "errors", [error]):
        path = Path(one.file)
        if folder not in path.parents:
            return f"error names a file outside the case: {one.file!r}"
        if not (one.line >= 1 and one.column >= 1):
            return f"error without line and column: {str(one).splitlines()[0][:160]}"
        lines = _independent_lines(path.read_bytes())
        if one.line > len(lines) or one.column > len(lines[one.line - 1]) + 1:
            return f"{one.file.rsplit('/', 1)[-1]}:{one.line}:{one.column} is outside the file ({len(lines)} lines)"
        if one.source_line != lines[one.line - 1]:
            return (f"caret on the wrong line: error at line {one.line} shows {one.source_line[:60]!r}, "
                    f"the file's line is {lines[one.line - 1][:60]!r}")
        if f"{one.file}:{one.line}:{one.column}: " not in text:
            return f"message without file:line:col: {str(one).splitlines()[0][:160]}"
    return None


def _independent_lines(data: bytes) -> list[str]:
    """The file's lines as an editor shows them: UTF-8 (bad bytes replaced), breaks at \\n, \\r\\n, \\r."""
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return re.split(r"\r\n|\r|\n", text)


def _small_facts(ruleset, rng: random.Random) -> list[Fact]:
    """A frame of a few objects with random facts drawn from the file's vocabulary."""
    objects = [f"o{i}" for i in range(1, rng.randint(1, 3) + 1)]

    def arguments(params):
        return tuple(rng.choice(objects) if sort == OBJECT else rng.choice(ruleset.sorts[sort] or ("none",))
                     for sort in params)

    facts = {}
    for name, params in ruleset.predicates.items():
        if rng.random() < 0.5 and all(sort == OBJECT or ruleset.sorts.get(sort) for sort in params):
            fact = Fact(name, arguments(params), rng.choice((1.0, 1.0, 0.9, 0.6, 0.3)))
            facts[fact.atom] = fact
    for name, (params, _, (low, high)) in ruleset.functions.items():
        if all(sort == OBJECT or ruleset.sorts.get(sort) for sort in params):
            for _ in range(len(objects)):
                low_value = -100.0 if low is None else low
                high_value = 100.0 if high is None else high
                fact = Fact(name, arguments(params), 1.0, rng.uniform(low_value, high_value))
                facts.setdefault(fact.atom, fact)
    return list(facts.values())
