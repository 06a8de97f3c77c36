"""The syntax tree of a rule file: statements and formulas, each with its place.

Nodes are plain frozen dataclasses built by :mod:`symbolic.language.parser`. Every node
keeps ``line`` and ``column`` (1-based) so later passes can point at it.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Node:
    """Base of every node: where it starts in its file."""

    line: int = field(default=0, kw_only=True, compare=False, repr=False)
    column: int = field(default=0, kw_only=True, compare=False, repr=False)


# -- formulas -------------------------------------------------------------

@dataclass(frozen=True)
class Name(Node):
    """A bare name: a variable, an action, a sort constant or a 0-ary predicate/function."""

    name: str


@dataclass(frozen=True)
class Call(Node):
    """A predicate, define or function applied to arguments: ``light(o, red)``."""

    name: str
    args: tuple


@dataclass(frozen=True)
class Number(Node):
    value: float


@dataclass(frozen=True)
class Truth(Node):
    """``true`` or ``false``."""

    value: bool


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class Logic(Node):
    """``and``, ``or``, ``=>`` or ``<=>`` over two or more operands."""

    op: str
    operands: tuple


@dataclass(frozen=True)
class Binding(Node):
    """One quantified variable, optionally limited to objects of a class: ``p: pedestrian``."""

    var: str
    label: str | None = None


@dataclass(frozen=True)
class Quantifier(Node):
    """``exists``/``forall`` over scene objects."""

    kind: str
    bindings: tuple
    body: Node


@dataclass(frozen=True)
class Compare(Node):
    """``<``, ``<=``, ``>``, ``>=``, ``=``, ``!=`` between two terms."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Arith(Node):
    """``+``, ``-``, ``*``, ``/`` between two numeric terms."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate(Node):
    """Unary minus."""

    operand: Node


# -- statements ------------------------------------------------------------

@dataclass(frozen=True)
class Param(Node):
    """A declared argument: an object placeholder (``o``) or a sort name (``Color``)."""

    name: str


@dataclass(frozen=True)
class SortDecl(Node):
    name: str
    values: tuple  # of Name


@dataclass(frozen=True)
class PredDecl(Node):
    name: str
    params: tuple  # of Param


@dataclass(frozen=True)
class FuncDecl(Node):
    name: str
    params: tuple
    type: str
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ActionsDecl(Node):
    names: tuple  # of Name


@dataclass(frozen=True)
class SafeDecl(Node):
    action: Name


@dataclass(frozen=True)
class DefineDecl(Node):
    name: str
    params: tuple  # of Param (variables)
    body: Node


@dataclass(frozen=True)
class ConstraintDecl(Node):
    name: str | None
    body: Node


@dataclass(frozen=True)
class RuleDecl(Node):
    name: str
    weight: float | None
    body: Node


@dataclass(frozen=True)
class PreferDecl(Node):
    """``prefer go weight 10`` (sign +1) or ``avoid change_left weight 2`` (sign -1)."""

    action: Name
    weight: float
    sign: int


@dataclass(frozen=True)
class IncludeDecl(Node):
    path: str


def walk(node):
    """Yield ``node`` and every node below it, depth first.

    Example:
        >>> tree = Logic("and", (Name("a"), Not(Name("b"))))
        >>> [type(n).__name__ for n in walk(tree)]
        ['Logic', 'Name', 'Not', 'Name']
    """
    yield node
    for child in children(node):
        yield from walk(child)


def children(node) -> tuple:
    """The direct sub-formulas of ``node``.

    Example:
        >>> children(Compare("<", Name("x"), Number(1.0)))
        (Name(name='x'), Number(value=1.0))
    """
    if isinstance(node, (Not, Negate)):
        return (node.operand,)
    if isinstance(node, Logic):
        return tuple(node.operands)
    if isinstance(node, Call):
        return tuple(node.args)
    if isinstance(node, Quantifier):
        return (node.body,)
    if isinstance(node, (Compare, Arith)):
        return (node.left, node.right)
    return ()


_PRECEDENCE = {"<=>": 1, "=>": 2, "or": 3, "and": 4}


def to_text(node) -> str:
    """The formula written back as rule-language text (for messages and explanations).

    Example:
        >>> to_text(Logic("=>", (Logic("and", (Call("car", (Name("o"),)), Compare("<", Call("dist", (Name("o"),)), Number(10.0)))), Name("stop"))))
        '(car(o) and dist(o) < 10) => stop'
    """
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Number):
        return f"{node.value:g}"
    if isinstance(node, Truth):
        return "true" if node.value else "false"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(to_text(a) for a in node.args)})"
    if isinstance(node, Not):
        return f"not {_wrapped(node.operand)}"
    if isinstance(node, Negate):
        return f"-{_wrapped(node.operand)}"
    if isinstance(node, Logic):
        return f" {node.op} ".join(_wrapped(o) if not isinstance(o, Compare) else to_text(o) for o in node.operands)
    if isinstance(node, Quantifier):
        bindings = ", ".join(b.var + (f" in {b.label}" if b.label else "") for b in node.bindings)
        return f"{node.kind} {bindings}: {to_text(node.body)}"
    if isinstance(node, Compare):
        return f"{to_text(node.left)} {node.op} {to_text(node.right)}"
    if isinstance(node, Arith):
        return f"{_wrapped(node.left, Arith)} {node.op} {_wrapped(node.right, Arith)}"
    return type(node).__name__


def _wrapped(node, also=()) -> str:
    text = to_text(node)
    return f"({text})" if isinstance(node, (Logic, Quantifier, Compare) + (also if isinstance(also, tuple) else (also,))) else text
