"""The driving vocabulary: every predicate and function the grounding produces.

Declared here once, in Python, with each term's argument sorts, numeric range
and meaning. Rule files declare the same names in
``configs/rules/vocabulary.rules`` (a test keeps the two identical), and
:func:`check_rules_vocabulary` refuses a rule file that relies on a term the
grounding never produces, so a typo or a wish becomes an error at load time
instead of a rule that silently never fires.

Argument sorts: ``"object"`` is an object of the scene (``o3``), any other
name is a sort of :attr:`Vocabulary.sorts` (``"Color"``).
"""
from __future__ import annotations

from dataclasses import dataclass

from perception.world import LIGHT_STATES

OBJECT = "object"


@dataclass(frozen=True)
class Term:
    """One predicate or numeric function of the vocabulary.

    Args:
        name: the name rules use, e.g. ``"dist"``.
        kind: ``"predicate"`` or ``"function"``.
        args: argument sorts, e.g. ``("object", "Color")``; ``()`` for facts
            about the ego or the road.
        meaning: one line saying what the grounding means by it.
        value_range: ``(low, high)`` of a function's values; ``None`` for
            predicates.

    Example:
        >>> Term("dist", "function", ("object",), "metres from the ego", (0.0, 200.0)).arity
        1
    """

    name: str
    kind: str
    args: tuple[str, ...]
    meaning: str
    value_range: tuple[float, float] | None = None

    @property
    def arity(self) -> int:
        return len(self.args)


@dataclass(frozen=True)
class Vocabulary:
    """Sorts, terms and actions shared by the grounding and the rule files.

    Args:
        sorts: ``(sort name, values)`` pairs, e.g. ``(("Color", ("red", ...)),)``.
        terms: every predicate and function, class predicates first.
        class_names: predicates that name an object's class, in label order.
        actions: the actions, in order of caution.
        safe_action: the action taken when nothing is provably safe.

    Example:
        >>> DRIVING_VOCABULARY.term("light").args
        ('object', 'Color')
        >>> DRIVING_VOCABULARY.actions[0], DRIVING_VOCABULARY.safe_action
        ('stop', 'stop')
    """

    sorts: tuple[tuple[str, tuple[str, ...]], ...]
    terms: tuple[Term, ...]
    class_names: tuple[str, ...]
    actions: tuple[str, ...]
    safe_action: str

    @property
    def names(self) -> tuple[str, ...]:
        """Every predicate and function name."""
        return tuple(term.name for term in self.terms)

    @property
    def predicates(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.kind == "predicate")

    @property
    def functions(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.kind == "function")

    def sort(self, name: str) -> tuple[str, ...]:
        """The values of sort ``name``.

        Example:
            >>> DRIVING_VOCABULARY.sort("Color")
            ('red', 'yellow', 'green')
        """
        for sort_name, values in self.sorts:
            if sort_name == name:
                return values
        raise KeyError(f"unknown sort {name!r}. Expected one of: {', '.join(n for n, _ in self.sorts)}")

    def term(self, name: str) -> Term:
        """The term called ``name``.

        Raises:
            KeyError: naming the closest known term.
        """
        for term in self.terms:
            if term.name == name:
                return term
        raise KeyError(f"unknown term {name!r}{_did_you_mean(name, self.names)}")

    def __contains__(self, name: object) -> bool:
        return any(term.name == name for term in self.terms)


def _did_you_mean(name: str, options) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f". Did you mean {close[0]!r}?" if close else ""


def _predicate(name, args, meaning):
    return Term(name, "predicate", tuple(args), meaning)


def _function(name, args, low, high, meaning):
    return Term(name, "function", tuple(args), meaning, (float(low), float(high)))


_O = (OBJECT,)
CLASS_NAMES = ("car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign")
NEAR_RADIUS_M = 5.0

DRIVING_VOCABULARY = Vocabulary(
    sorts=(("Color", LIGHT_STATES),),
    terms=(
        *(_predicate(name, _O, f"the object is a {name.replace('_', ' ')}") for name in CLASS_NAMES),
        _predicate("light", (OBJECT, "Color"), "the traffic light shows this colour"),
        _predicate("applies_to_ego", _O, "a traffic light or stop sign governing the ego's lane and direction"),
        _predicate("ahead", _O, "entirely in front of the ego's front bumper"),
        _predicate("behind", _O, "entirely behind the ego's rear bumper"),
        _predicate("left_of", _O, "entirely left of the ego's left side"),
        _predicate("right_of", _O, "entirely right of the ego's right side"),
        _predicate("same_lane", _O, "a road user whose centre lies in the ego's lane (lights and signs never are)"),
        _predicate("in_left_lane", _O, "its centre lies in the lane directly left of the ego's lane"),
        _predicate("in_right_lane", _O, "its centre lies in the lane directly right of the ego's lane"),
        _predicate("in_adjacent_lane", _O, "in_left_lane or in_right_lane"),
        _predicate("in_crosswalk", _O, "its centre lies on a crosswalk"),
        _predicate("on_sidewalk", _O, "its centre lies on a sidewalk"),
        _predicate("at_stop_line", _O, "within 3 m along the road of a stop line (signs and lights beside it count)"),
        _predicate("on_road", _O, "a road user whose centre lies in a lane"),
        _predicate("approaching", _O, "its distance to the ego is shrinking faster than 0.5 m/s"),
        _predicate("near", (OBJECT, OBJECT), f"two objects whose centres are within {NEAR_RADIUS_M:g} m"),
        _function("dist", _O, 0, 200, "metres from the ego's centre to the object's centre"),
        _function("gap", _O, -200, 200, "metres from the ego's front to the object's rear (negative: behind)"),
        _function("speed", _O, 0, 60, "the object's own speed over the ground, m/s"),
        _function("ttc", _O, 0, 100, "seconds until the ego reaches the object at the current closing speed; 100 when not closing"),
        _predicate("left_lane_exists", (), "a lane in the ego's direction lies directly to its left"),
        _predicate("right_lane_exists", (), "a lane in the ego's direction lies directly to its right"),
        _predicate("ego_stopped", (), "the ego's speed is below 0.1 m/s"),
        _predicate("stopped_at_sign", (), "the ego is stopped within 6 m before a stop line governing its lane"),
        _function("ego_speed", (), 0, 40, "the ego's speed, m/s"),
        _function("speed_limit", (), 0, 40, "speed limit of the ego's lane, m/s"),
        _function("stopping_distance", (), 0, 200, "metres the ego needs to stop comfortably from its speed"),
    ),
    class_names=CLASS_NAMES,
    actions=("stop", "yield", "slow", "go", "change_left", "change_right"),
    safe_action="stop",
)


class VocabularyError(ValueError):
    """A rule file relies on a term the grounding never produces."""


def check_rules_vocabulary(ruleset, vocabulary: Vocabulary = DRIVING_VOCABULARY) -> None:
    """Refuse a rule file that uses a predicate or function the grounding never produces.

    Names a ``define`` introduces are fine; any other name a rule, define or
    constraint uses must be in ``vocabulary`` with the same arity.

    Args:
        ruleset: a loaded :class:`symbolic.language.ruleset.RuleSet`.
        vocabulary: what the grounding produces.

    Raises:
        VocabularyError: one line naming the rule, its ``file:line`` and the
            predicate, e.g. ``traffic.rules:12: rule 'fog' uses predicate
            'foggy', which the grounding never produces``.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules('''pred car(o)
        ... pred ahead(o)
        ... actions stop, go
        ... safe stop
        ... rule r: exists o: car(o) and ahead(o) => stop''', "ok.rules")
        >>> check_rules_vocabulary(rules)
    """
    defined = set(_define_names(ruleset))
    for kind, name, source, used in _statements(ruleset):
        for predicate in sorted(used - defined):
            problem = _problem(predicate, ruleset, vocabulary)
            if problem:
                raise VocabularyError(f"{source or '<rules>'}: {kind} '{name}' uses {problem}")


def check_detector_classes(class_names, ruleset, *, detector: str = "the detector",
                           vocabulary: Vocabulary = DRIVING_VOCABULARY) -> None:
    """Refuse a detector that reports a class the rules do not know.

    A detection's class becomes the class fact ``label(o)``; a class the rules
    do not declare (a checkpoint trained with ``automobile`` for ``car``) would
    switch every rule about that class off without a word. The classes the
    rules know are the vocabulary's class names that the rule file declares.

    Args:
        class_names: the detector's class map (``Detector.class_names``).
        ruleset: the loaded :class:`symbolic.language.ruleset.RuleSet`.
        detector: how messages name the detector, e.g. its checkpoint path.
        vocabulary: what the grounding produces.

    Raises:
        VocabularyError: one line naming the detector, the class and the rule file.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules("pred car(o)\\npred pedestrian(o)\\nactions stop\\nsafe stop", "r.rules")
        >>> check_detector_classes(("car", "pedestrian"), rules)
        >>> check_detector_classes(("automobile", "pedestrian"), rules, detector="a.safetensors")
        Traceback (most recent call last):
        ...
        bridge.vocabulary.VocabularyError: a.safetensors: detector class 'automobile' is not a class of the rules in r.rules (they know car, pedestrian); train the detector with the rules' class names
    """
    declared = getattr(ruleset, "predicates", {}) or {}
    known = [name for name in vocabulary.class_names if name in declared]
    rules_file = ruleset.files[0] if getattr(ruleset, "files", None) else "<rules>"
    for name in class_names:
        if name not in known:
            raise VocabularyError(f"{detector}: detector class {name!r} is not a class of the rules in {rules_file} "
                                  f"(they know {', '.join(known) or 'no class'}); train the detector with the rules' class names"
                                  f"{_did_you_mean(str(name), known)}")


def _problem(name: str, ruleset, vocabulary: Vocabulary) -> str | None:
    if name not in vocabulary:
        hint = _did_you_mean(name, vocabulary.names)
        return f"'{name}', which the grounding never produces{hint}"
    declared = _declared_arity(ruleset, name)
    expected = vocabulary.term(name).arity
    if declared is not None and declared != expected:
        return f"'{name}' with {declared} argument(s), but the grounding produces it with {expected}"
    return None


def _declared_arity(ruleset, name: str) -> int | None:
    if name in getattr(ruleset, "predicates", {}):
        return len(ruleset.predicates[name])
    if name in getattr(ruleset, "functions", {}):
        signature = ruleset.functions[name]
        args = getattr(signature, "args", None)
        if args is None and isinstance(signature, tuple):
            args = signature[0]
        return None if args is None else len(args)
    return None


def _define_names(ruleset):
    defines = getattr(ruleset, "defines", {}) or {}
    if isinstance(defines, dict):
        return defines.keys()
    return [d.name for d in defines]


def _statements(ruleset):
    """(kind, name, source, used names) for every rule, define and constraint."""
    defines = getattr(ruleset, "defines", {}) or {}
    defines = defines.values() if isinstance(defines, dict) else defines
    for kind, items in (("define", defines), ("rule", ruleset.rules),
                        ("constraint", getattr(ruleset, "constraints", ()) or ())):
        for index, item in enumerate(items):
            name = getattr(item, "name", None) or f"#{index + 1}"
            yield kind, name, getattr(item, "source", ""), set(ruleset.used_predicates(item))
