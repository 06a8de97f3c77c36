"""Facts: typed ground atoms with a confidence, and the fact base of one frame.

A fact is a predicate applied to constants, ``light(o3, red)``, with a
confidence in [0, 1]. A numeric function value, ``dist(o3) = 12.5``, is a fact
whose ``value`` is set. Facts are plain Python: no tensors.

The JSON form of a frame (what ``nesy rules explain --facts`` reads)::

    {"objects": {"o1": "car", "o2": "traffic_light"},          # optional
     "facts": [{"pred": "ahead", "args": ["o1"], "confidence": 0.97},
               {"pred": "light", "args": ["o2", "red"]},
               {"func": "dist", "args": ["o1"], "value": 12.5, "tolerance": 0.3}]}

``confidence`` defaults to 1; ``tolerance`` (a measured value's known error,
the true value lies in ``value ± tolerance``) to 0; ``args`` to ``[]``. ``objects`` names each object's
class; it adds the class fact ``car(o1)``, which an entry of ``facts`` on the same atom replaces
(to give the class a confidence).

The JSON form is read strictly, by one validator (:meth:`FactBase.from_json`, which
:meth:`FactBase.from_file` and ``nesy rules explain --facts`` use): nothing in it is
ignored or converted, so no typo changes a decision silently. Each of these is a
``ValueError`` naming the file and the entry (``f.json: objects["o1"]: ...``,
``f.json: facts[3].args[0]: ...``):

- a key other than ``objects`` and ``facts`` at the top level, or other than ``pred``/``func``,
  ``args``, ``confidence``, ``value``, ``tolerance`` in an entry; a key given twice in one object;
- a name (``pred``, ``func``, an object's class) that is not a rule-language name
  (``[A-Za-z_][A-Za-z0-9_]*``);
- an argument or object id that is not a *constant*: a JSON string of letters, digits,
  ``_``, ``-``, ``.`` or ``:`` (``"o3"``, ``"red"``, ``"t-12"``); numbers, ``true`` and
  ``""`` are refused, never turned into text;
- ``confidence`` not a number in [0, 1], ``value`` not a finite number (JSON's ``NaN``,
  ``Infinity`` and numbers too large for a float included), ``tolerance`` not a finite
  number >= 0; ``true``/``false`` are not numbers;
- two entries of ``facts`` on the same atom.
"""
from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator


@dataclass(frozen=True)
class Fact:
    """One ground atom or function value.

    Args:
        predicate: predicate or function name, e.g. ``"light"`` or ``"dist"``.
        args: constants, e.g. ``("o3", "red")``.
        confidence: probability that the fact holds, in [0, 1].
        value: for a numeric function, its value (``None`` for predicates).
        tolerance: for a numeric function, how far the true value may lie from the
            measured one: it is somewhere in ``[value - tolerance, value + tolerance]``.
            Robust decisions act safely for every value there; 0 (the default)
            takes the value as exact.

    Example:
        >>> Fact("light", ("o3", "red"), 0.9)
        Fact('light(o3, red)', confidence=0.9)
        >>> Fact("dist", ("o3",), value=12.5).is_function
        True
        >>> Fact("dist", ("o3",), value=40.01, tolerance=0.3)
        Fact('dist(o3) = 40.01 ± 0.3', confidence=1)
    """

    predicate: str
    args: tuple[str, ...] = ()
    confidence: float = 1.0
    value: float | None = None
    tolerance: float = 0.0

    def __post_init__(self):
        # frames build hundreds of facts each: every check first tests the common case (str, tuple of str,
        # float) by exact class, and falls back to the general test only when that fails
        predicate = self.predicate
        if predicate.__class__ is not str and not isinstance(predicate, str) or not predicate:
            raise ValueError(f"a fact's predicate must be a non-empty string. Received {self.predicate!r}")
        args = self.args
        if args.__class__ is not tuple:
            self._set_args(args)
        else:
            for arg in args:
                if arg.__class__ is not str or not arg:
                    self._set_args(args)
                    break
        confidence = self.confidence
        if confidence.__class__ is not float or not 0.0 <= confidence <= 1.0:
            if not _is_number(confidence) or not 0.0 <= confidence <= 1.0:  # NaN fails the range too
                raise ValueError(f"confidence of {self.atom} must be a number in [0, 1]. Received {confidence!r}")
        value = self.value
        if value is not None and (value.__class__ is not float or not -math.inf < value < math.inf):
            if not _is_number(value) or not _is_finite(value):
                raise ValueError(f"value of {self.atom} must be a finite number. Received {_shown(self.value)}")
        tolerance = self.tolerance
        if tolerance.__class__ is not float or tolerance != 0.0:  # the common case costs one test
            if tolerance.__class__ is not float or not 0.0 <= tolerance < math.inf or value is None:
                self._check_tolerance(tolerance)

    def _set_args(self, args) -> None:
        """Keep ``args`` as a tuple of non-empty strings; anything else is refused, never turned into text."""
        if isinstance(args, str) or not isinstance(args, (tuple, list)):
            raise TypeError(f"the args of a {self.predicate!r} fact must be a tuple of strings. "
                            f"Received {_shown(args)}")
        for arg in args:
            if not isinstance(arg, str) or not arg:
                raise TypeError(f"the args of a {self.predicate!r} fact must be non-empty strings (constants such "
                                f"as 'o3' or 'red'). Received {_shown(arg)} in {_shown(args)}")
        object.__setattr__(self, "args", tuple(str(arg) for arg in args))

    def _check_tolerance(self, tolerance) -> None:
        if not _is_number(tolerance) or not _is_finite(tolerance) or tolerance < 0:
            raise ValueError(f"tolerance of {self.atom} must be a finite number >= 0. Received {tolerance!r}")
        if tolerance and self.value is None:
            raise ValueError(f"{self.atom} is a predicate: only a function value takes a tolerance. "
                             f"Received tolerance={tolerance!r}")
        object.__setattr__(self, "tolerance", float(tolerance))

    @property
    def atom(self) -> str:
        """The fact as text, ``light(o3, red)``."""
        return f"{self.predicate}({', '.join(self.args)})"

    @property
    def is_function(self) -> bool:
        return self.value is not None

    def __repr__(self) -> str:
        if self.is_function:
            spread = f" ± {self.tolerance:g}" if self.tolerance else ""
            return f"Fact('{self.atom} = {self.value:g}{spread}', confidence={self.confidence:g})"
        return f"Fact('{self.atom}', confidence={self.confidence:g})"

    def to_json(self) -> dict:
        if self.is_function:
            found = {"func": self.predicate, "args": list(self.args), "value": self.value,
                     "confidence": self.confidence}
            if self.tolerance:
                found["tolerance"] = self.tolerance
            return found
        return {"pred": self.predicate, "args": list(self.args), "confidence": self.confidence}


class FactBase:
    """The facts of one frame, indexed by atom.

    Args:
        facts: the facts; a later fact on the same atom replaces an earlier one.
        objects: object constant -> class name (the scene's objects).
        class_names: predicates that name a class; a fact ``car(o1)`` with
            ``"car"`` among them registers ``o1`` as an object.

    Example:
        >>> fb = FactBase([Fact("car", ("o1",)), Fact("dist", ("o1",), value=8.0)],
        ...               class_names=("car", "pedestrian"))
        >>> fb.objects
        {'o1': 'car'}
        >>> fb.value("dist", "o1"), fb.confidence("car", "o1"), fb.confidence("car", "o2")
        (8.0, 1.0, 0.0)
    """

    def __init__(self, facts: Iterable[Fact] = (), objects: dict[str, str] | None = None,
                 class_names: tuple[str, ...] = ()):
        self.objects: dict[str, str] = dict(objects or {})
        self.class_names = tuple(class_names)
        self._by_atom: dict[tuple[str, tuple[str, ...]], Fact] = {}
        for fact in facts:
            self.add(fact)

    @property
    def facts(self) -> list[Fact]:
        """The facts, in the order their atoms were first added."""
        return list(self._by_atom.values())

    def add(self, fact: Fact) -> None:
        """Add or replace a fact; a class fact (predicate in ``class_names``) registers its object."""
        self._by_atom[(fact.predicate, fact.args)] = fact
        if len(fact.args) == 1 and not fact.is_function and fact.predicate in self.class_names:
            self.objects.setdefault(fact.args[0], fact.predicate)

    def __eq__(self, other) -> bool:
        return isinstance(other, FactBase) and self._by_atom == other._by_atom and self.objects == other.objects

    def __repr__(self) -> str:
        return f"FactBase({len(self)} facts, {len(self.objects)} objects)"

    def __iter__(self) -> Iterator[Fact]:
        return iter(self._by_atom.values())

    def __len__(self) -> int:
        return len(self._by_atom)

    def get(self, predicate: str, *args: str) -> Fact | None:
        return self._by_atom.get((predicate, tuple(args)))

    def confidence(self, predicate: str, *args: str) -> float:
        """Confidence that the atom holds; 0 when absent."""
        fact = self.get(predicate, *args)
        return 0.0 if fact is None else fact.confidence

    def value(self, function: str, *args: str) -> float | None:
        fact = self.get(function, *args)
        return None if fact is None else fact.value

    def tolerance(self, function: str, *args: str) -> float:
        """How far the true value of ``function(args)`` may lie from its measured value; 0 when exact or absent.

        Example:
            >>> fb = FactBase([Fact("dist", ("o1",), value=40.01, tolerance=0.3)])
            >>> fb.tolerance("dist", "o1"), fb.tolerance("dist", "o2")
            (0.3, 0.0)
        """
        fact = self.get(function, *args)
        return 0.0 if fact is None else fact.tolerance

    def with_predicate(self, predicate: str) -> list[Fact]:
        return [f for f in self._by_atom.values() if f.predicate == predicate]

    def to_json(self) -> dict:
        return {"objects": dict(self.objects), "facts": [f.to_json() for f in self]}

    @classmethod
    def from_json(cls, data: dict, source: str = "<facts>") -> "FactBase":
        """Build a fact base from its JSON form, strictly (the module docstring lists every check).

        Raises:
            ValueError: one line naming ``source``, the entry and what was expected.

        Example:
            >>> FactBase.from_json({"objects": {"o1": "car"}, "facts": [{"pred": "ahead", "args": ["o1"]}]})
            FactBase(2 facts, 1 objects)
            >>> FactBase.from_json({"object": {"o1": "car"}, "facts": []}, "f.json")
            Traceback (most recent call last):
            ...
            ValueError: f.json: unknown key 'object' at the top level; expected objects, facts. Did you mean 'objects'?
            >>> FactBase.from_json({"facts": [{"pred": "ahead", "args": [7]}]}, "f.json")
            Traceback (most recent call last):
            ...
            ValueError: f.json: facts[0].args[0]: expected a constant: a non-empty string of letters, digits, _ - . : (e.g. 'o3'). Received 7
        """
        if not isinstance(data, dict):
            raise ValueError(f"{source}: expected an object with a 'facts' list. Received {_json_type(data)}")
        _refuse_unknown_keys(data, ("objects", "facts"), f"{source}: ", "at the top level")
        if "facts" not in data:
            raise ValueError(f"{source}: missing key 'facts' at the top level (a list of facts, maybe empty)")
        objects = data.get("objects", {})
        if not isinstance(objects, dict):
            raise ValueError(f"{source}: objects: expected an object mapping object ids to class names, "
                             f"e.g. {{\"o1\": \"car\"}}. Received {_json_type(objects)}")
        if not isinstance(data["facts"], list):
            raise ValueError(f"{source}: facts: expected a list. Received {_json_type(data['facts'])}")
        for obj, label in objects.items():
            _check_constant(obj, f"{source}: objects[{_shown(obj)}]: object id")
            _check_name(label, f"{source}: objects[{_shown(obj)}]: class name")
        facts = [Fact(label, (obj,)) for obj, label in objects.items()]
        first_entry: dict[tuple[str, tuple[str, ...]], int] = {}
        for index, entry in enumerate(data["facts"]):
            fact = _fact_from_json(entry, f"{source}: facts[{index}]")
            atom = (fact.predicate, fact.args)
            if atom in first_entry:
                raise ValueError(f"{source}: facts[{index}]: {fact.atom} is already given by "
                                 f"facts[{first_entry[atom]}]; give each atom once")
            first_entry[atom] = index
            facts.append(fact)
        return cls(facts, objects=dict(objects))

    @classmethod
    def from_file(cls, path: str | Path) -> "FactBase":
        """Read a facts JSON file (:meth:`from_json`'s checks, every message naming the file).

        Example:
            >>> FactBase.from_file("configs/rules/examples/traffic.facts.json").objects["o3"]
            'traffic_light'
        """
        path = Path(path)
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: cannot read facts file ({getattr(error, 'strerror', None) or error})") from None
        return cls.from_json(_parse_json(text, path), source=str(path))


#: a name of the rule language: a predicate, function or class.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: a constant: an object id or a sort value.
_CONSTANT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*")
_ENTRY_KEYS = ("pred", "func", "args", "confidence", "value", "tolerance")


def _parse_json(text: str, path: Path):
    """The JSON value of ``text``, refusing a key given twice in one object; errors name ``path``."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}") from None
    except _DuplicateKey as error:
        raise ValueError(f"{path}: key {_shown(error.args[0])} appears twice in one object; give it once") from None
    except RecursionError:
        raise ValueError(f"{path}: invalid facts file: JSON nested too deeply") from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise ValueError(f"{path}: invalid JSON: {_first_line(error)}") from None


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list) -> dict:
    found = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _fact_from_json(entry, where: str) -> Fact:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object like {{\"pred\": \"car\", \"args\": [\"o1\"]}}. "
                         f"Received {_json_type(entry)}")
    _refuse_unknown_keys(entry, _ENTRY_KEYS, f"{where}: ", "")
    if ("pred" in entry) == ("func" in entry):
        raise ValueError(f"{where}: expected exactly one of 'pred' or 'func'. Received keys {_shown(list(entry))}")
    kind = "func" if "func" in entry else "pred"
    name = entry[kind]
    _check_name(name, f"{where}.{kind}")
    args = entry.get("args", [])
    if not isinstance(args, list):
        raise ValueError(f"{where}.args: expected a list of constants, e.g. [\"o1\"]. Received {_json_type(args)}")
    for position, arg in enumerate(args):
        _check_constant(arg, f"{where}.args[{position}]")
    confidence = entry.get("confidence", 1.0)
    if not _is_number(confidence) or not _is_finite(confidence) or not 0 <= confidence <= 1:
        raise ValueError(f"{where}: confidence must be a number in [0, 1]. Received {_shown(confidence)}")
    if kind == "func":
        if "value" not in entry:
            raise ValueError(f"{where}: function {name!r} needs a finite numeric 'value'. Received none")
        value = entry["value"]
        if not _is_number(value) or not _is_finite(value):
            raise ValueError(f"{where}: function {name!r} needs a finite numeric 'value'. Received {_shown(value)}")
        tolerance = entry.get("tolerance", 0.0)
        if not _is_number(tolerance) or not _is_finite(tolerance) or tolerance < 0:
            raise ValueError(f"{where}: tolerance must be a finite number >= 0. Received {_shown(tolerance)}")
        return Fact(name, tuple(args), float(confidence), float(value), float(tolerance))
    for key in ("value", "tolerance"):
        if key in entry:
            raise ValueError(f"{where}: predicate {name!r} takes no {key!r} (use 'func' for numbers)")
    return Fact(name, tuple(args), float(confidence))


def _refuse_unknown_keys(data: dict, expected: tuple[str, ...], prefix: str, place: str) -> None:
    for key in data:
        if key not in expected:
            close = difflib.get_close_matches(str(key), expected, n=1, cutoff=0.6)
            hint = f". Did you mean {close[0]!r}?" if close else ""
            where = f" {place}" if place else ""
            raise ValueError(f"{prefix}unknown key {_shown(key)}{where}; expected {', '.join(expected)}{hint}")


def _check_name(value, where: str) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"{where}: expected a name (a letter or _, then letters, digits or _, e.g. 'car'). "
                         f"Received {_shown(value)}")


def _check_constant(value, where: str) -> None:
    if not isinstance(value, str) or not _CONSTANT.fullmatch(value):
        raise ValueError(f"{where}: expected a constant: a non-empty string of letters, digits, _ - . : "
                         f"(e.g. 'o3'). Received {_shown(value)}")


def _is_number(value) -> bool:
    """An int or float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_finite(number) -> bool:
    """Whether ``number`` is finite as a float: an int too large for a float is not."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _json_type(value) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return f"{names.get(type(value), type(value).__name__)} {_shown(value)}"


def _shown(value, limit: int = 60) -> str:
    """``value``'s repr, cut to ``limit`` characters (inputs may be huge)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10 ** 30:
        return f"an integer of {len(str(abs(value)))} digits"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0][:160] if str(error) else type(error).__name__
