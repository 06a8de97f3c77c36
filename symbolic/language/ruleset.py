"""The rule-set data model: :class:`RuleSet` and its statements (:class:`Rule`, :class:`Define`, :class:`Constraint`).

A :class:`RuleSet` is what a rule file means once parsed and checked
(:func:`symbolic.language.loader.load_rules` builds one); :class:`Located`
is a statement with the file and lines it came from, for messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from symbolic.language import ast
from symbolic.language.errors import RuleError, did_you_mean

#: the sort name of scene objects in signatures: ``pred car(o)`` has signature ``("object",)``.
OBJECT = "object"


@dataclass(frozen=True)
class Rule:
    """One ``rule`` statement.

    Attributes:
        name: the rule's name.
        kind: ``"hard"`` (must hold) or ``"soft"`` (has a weight).
        weight: the soft rule's weight (``None`` for hard rules).
        body: the formula (:mod:`symbolic.language.ast`).
        source: ``"file:line"``.
    """

    name: str
    kind: str
    weight: float | None
    body: ast.Node
    source: str


@dataclass(frozen=True)
class Define:
    """``define name(params) := body``: a derived predicate."""

    name: str
    params: tuple[str, ...]
    body: ast.Node
    source: str


@dataclass(frozen=True)
class Constraint:
    """``constraint [name:] body``: what a world can be."""

    name: str
    body: ast.Node
    source: str


@dataclass
class RuleSet:
    """A checked rule file: its vocabulary, actions and rules.

    Attributes:
        sorts: sort name -> its values, ``{"Color": ("red", "yellow", "green")}``.
        predicates: name -> argument sorts (``"object"`` for scene objects).
        functions: name -> (argument sorts, type, (low, high)); bounds may be ``None``.
        actions: the actions, in the file's order (ties break towards the first).
        safe_action: the fallback action (the first action when the file has no ``safe``).
        rules: the hard and soft rules in file order.
        defines: name -> :class:`Define`.
        constraints: the integrity constraints.
        preferences: action -> summed ``prefer`` (+) / ``avoid`` (-) weight.
        declared_at: every declared name -> ``"file:line"``.
        files: the files read, the main one first.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules("pred car(o)\\nactions stop, go\\nrule r: exists o in car: true => stop")
        >>> rules.actions, rules.safe_action, rules.rules[0].source
        (['stop', 'go'], 'stop', '<rules>:3')
        >>> sorted(rules.used_predicates(rules.rules[0]))
        ['car']
    """

    sorts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    predicates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    functions: dict[str, tuple[tuple[str, ...], str, tuple]] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    safe_action: str | None = None
    rules: list[Rule] = field(default_factory=list)
    defines: dict[str, Define] = field(default_factory=dict)
    constraints: list[Constraint] = field(default_factory=list)
    preferences: dict[str, float] = field(default_factory=dict)
    declared_at: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def hard_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.kind == "hard"]

    @property
    def soft_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.kind == "soft"]

    @property
    def sort_of_value(self) -> dict[str, str]:
        """Sort value -> its sort, ``{"red": "Color", ...}``."""
        return {value: sort for sort, values in self.sorts.items() for value in values}

    def class_predicates(self) -> list[str]:
        """Unary predicates over objects (candidate object classes), in declaration order."""
        return [name for name, params in self.predicates.items() if params == (OBJECT,)]

    def used_predicates(self, item) -> set[str]:
        """Predicate and function names a rule, define, constraint or formula reads (defines expanded).

        The bridge compares them with what its grounding can produce.
        """
        body = getattr(item, "body", item)
        used: set[str] = set()
        for node in self._expanded_nodes(body):
            if isinstance(node, (ast.Call, ast.Name)) and (node.name in self.predicates or node.name in self.functions):
                used.add(node.name)
            elif isinstance(node, ast.Quantifier):
                used.update(b.label for b in node.bindings if b.label in self.predicates)
        return used

    def mentions_action(self, node) -> bool:
        """True when the formula (with defines expanded) reads the chosen action."""
        return any(isinstance(sub, ast.Name) and sub.name in self.actions for sub in self._expanded_nodes(node))

    def _expanded_nodes(self, node):
        """Every node of ``node`` and of the defines it uses, each define once (a worklist, not recursion)."""
        pending, seen = [node], set()
        while pending:
            for sub in ast.walk(pending.pop()):
                yield sub
                names = [sub.name] if isinstance(sub, (ast.Call, ast.Name)) else \
                    [b.label for b in sub.bindings] if isinstance(sub, ast.Quantifier) else []
                for name in names:
                    if name in self.defines and name not in seen:
                        seen.add(name)
                        pending.append(self.defines[name].body)

    def validate_facts(self, facts: Iterable, source: str = "<facts>") -> None:
        """Check facts against the vocabulary: known names, arity, sort constants.

        Raises:
            ValueError: naming ``source`` and the offending fact.

        Example:
            >>> from symbolic.language.loader import parse_rules
            >>> from symbolic.reasoning.facts import Fact
            >>> rules = parse_rules("sort Color = {red, green}\\npred light(o, Color)\\nactions stop")
            >>> rules.validate_facts([Fact("light", ("o1", "red"))])
            >>> rules.validate_facts([Fact("ligth", ("o1", "red"))], "f.json")
            Traceback (most recent call last):
            ...
            ValueError: f.json: fact ligth(o1, red): unknown predicate 'ligth'. Did you mean 'light'?
        """
        values = self.sort_of_value
        for fact in facts:
            where = f"{source}: fact {fact.atom}"
            if fact.is_function:
                if fact.predicate not in self.functions:
                    hint = " (it is a predicate: write it with \"pred\")" if fact.predicate in self.predicates else \
                        did_you_mean(fact.predicate, self.functions)
                    raise ValueError(f"{where}: unknown function '{fact.predicate}'.{hint}".replace(".  (", " ("))
                params, _, (low, high) = self.functions[fact.predicate]
                if low is not None and not low <= fact.value <= high:
                    raise ValueError(f"{where}: value must be in [{low:g}, {high:g}] as declared. "
                                     f"Received {fact.value:g}")
            else:
                if fact.predicate not in self.predicates:
                    hint = " It is a function: give it a \"func\" and a \"value\"." \
                        if fact.predicate in self.functions else did_you_mean(fact.predicate, self.predicates)
                    raise ValueError(f"{where}: unknown predicate '{fact.predicate}'.{hint}")
                params = self.predicates[fact.predicate]
            if len(fact.args) != len(params):
                raise ValueError(f"{where}: '{fact.predicate}' takes {len(params)} argument(s) "
                                 f"({', '.join(params) or 'none'}). Received {len(fact.args)}")
            for position, (arg, sort) in enumerate(zip(fact.args, params), start=1):
                if sort == OBJECT and arg in values:
                    raise ValueError(f"{where}: argument {position} must be an object id, not the "
                                     f"{values[arg]} constant '{arg}'")
                if sort != OBJECT and arg not in self.sorts[sort]:
                    raise ValueError(f"{where}: argument {position} must be one of {sort} = "
                                     f"{{{', '.join(self.sorts[sort])}}}. Received '{arg}'."
                                     f"{did_you_mean(arg, self.sorts[sort])}")


@dataclass
class Located:
    """A statement with the file and lines it came from (for messages)."""

    statement: ast.Node
    file: str
    lines: list[str]

    def error(self, message: str, node=None) -> RuleError:
        node = node if node is not None else self.statement
        line = getattr(node, "line", 0)
        source_line = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return RuleError(message, self.file, line, getattr(node, "column", 0), source_line)

    def source(self, node=None) -> str:
        return f"{self.file}:{getattr(node if node is not None else self.statement, 'line', 0)}"
