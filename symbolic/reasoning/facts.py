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
the true value lies in ``value ± tolerance``) to 0. ``objects`` names each object's class; it adds
the class fact ``car(o1)`` unless the list already has it.
"""
from __future__ import annotations

import json
import math
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
            object.__setattr__(self, "args", tuple(str(a) for a in args))
        else:
            for arg in args:
                if arg.__class__ is not str:
                    object.__setattr__(self, "args", tuple(str(a) for a in args))
                    break
        confidence = self.confidence
        if confidence.__class__ is not float or not 0.0 <= confidence <= 1.0:
            if not isinstance(confidence, (int, float)) or not 0.0 <= confidence <= 1.0:  # NaN fails the range too
                raise ValueError(f"confidence of {self.atom} must be a number in [0, 1]. Received {confidence!r}")
        value = self.value
        if value is not None and (value.__class__ is not float or not -math.inf < value < math.inf):
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"value of {self.atom} must be a finite number. Received {self.value!r}")
        tolerance = self.tolerance
        if tolerance.__class__ is not float or tolerance != 0.0:  # the common case costs one test
            if tolerance.__class__ is not float or not 0.0 <= tolerance < math.inf or value is None:
                self._check_tolerance(tolerance)

    def _check_tolerance(self, tolerance) -> None:
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) \
                or not math.isfinite(tolerance) or tolerance < 0:
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
        """Build a fact base from its JSON form, naming the bad entry on error."""
        if not isinstance(data, dict) or "facts" not in data:
            raise ValueError(f"{source}: expected an object with a 'facts' list. Received {type(data).__name__}")
        objects = data.get("objects", {})
        if not isinstance(objects, dict):
            raise ValueError(f"{source}: 'objects' must map object ids to class names. Received {objects!r}")
        if not isinstance(data["facts"], list):
            raise ValueError(f"{source}: 'facts' must be a list. Received {type(data['facts']).__name__}")
        facts = [Fact(label, (obj,)) for obj, label in objects.items()]
        for index, entry in enumerate(data["facts"]):
            facts.append(_fact_from_json(entry, f"{source}: facts[{index}]"))
        return cls(facts, objects={str(k): str(v) for k, v in objects.items()})

    @classmethod
    def from_file(cls, path: str | Path) -> "FactBase":
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as error:
            raise ValueError(f"{path}: cannot read facts file ({error.strerror})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}") from None
        return cls.from_json(data, source=str(path))


def _fact_from_json(entry, where: str) -> Fact:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object like {{\"pred\": \"car\", \"args\": [\"o1\"]}}. Received {entry!r}")
    unknown = set(entry) - {"pred", "func", "args", "confidence", "value", "tolerance"}
    if unknown:
        raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r}; expected pred/func, args, confidence, "
                         "value, tolerance")
    if ("pred" in entry) == ("func" in entry):
        raise ValueError(f"{where}: expected exactly one of 'pred' or 'func'. Received {entry!r}")
    args = entry.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, (str, int)) for a in args):
        raise ValueError(f"{where}: 'args' must be a list of constants. Received {args!r}")
    confidence = entry.get("confidence", 1.0)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or math.isnan(confidence) or not 0 <= confidence <= 1:
        raise ValueError(f"{where}: confidence must be a number in [0, 1]. Received {confidence!r}")
    if "func" in entry:
        value = entry.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{where}: function {entry['func']!r} needs a finite numeric 'value'. Received {value!r}")
        tolerance = entry.get("tolerance", 0.0)
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not math.isfinite(tolerance) \
                or tolerance < 0:
            raise ValueError(f"{where}: tolerance must be a finite number >= 0. Received {tolerance!r}")
        return Fact(str(entry["func"]), tuple(args), float(confidence), float(value), float(tolerance))
    for key in ("value", "tolerance"):
        if key in entry:
            raise ValueError(f"{where}: predicate {entry['pred']!r} takes no {key!r} (use 'func' for numbers)")
    return Fact(str(entry["pred"]), tuple(args), float(confidence))

