"""Repair: the most probable reading of the facts that the rule file's constraints allow.

Each fact with a confidence strictly between 0 and 1 may be flipped; keeping it
at its likely value (true when confidence ≥ 0.5) earns its log-odds weight
``|log(p / (1 - p))|``. z3's Optimize finds the reading that satisfies every
``constraint`` while giving up the least weight (weighted MaxSAT): the least
confident of two contradicting facts is the one flipped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

import z3

from symbolic.compiler.compiler import CompiledRules, compile_rules, ground_rule
from symbolic.compiler.deadline import BudgetExceeded, Deadline, in_chunks
from symbolic.compiler.residual import is_z3
from symbolic.compiler.worlds import FactWorld, atom_text
from symbolic.language.ruleset import RuleSet
from symbolic.reasoning.facts import Fact, FactBase


@dataclass
class RepairResult:
    """What :func:`repair` found.

    Attributes:
        facts: the repaired facts: flipped facts now have confidence 1 (true) or 0 (false).
        flipped: the original facts that were flipped.
        cost: the summed log-odds weight of the flips.
        status: ``"consistent"`` (nothing to do), ``"repaired"``, ``"inconsistent"`` (certain
            facts break a constraint: nothing can be flipped to fix it) or ``"timeout"``.
        broken: constraint instances broken by certain facts (``"one_colour[o3]"``).
    """

    facts: FactBase
    flipped: list[Fact] = field(default_factory=list)
    cost: float = 0.0
    status: str = "consistent"
    broken: list[str] = field(default_factory=list)


def log_odds_weight(confidence: float, limit: float = 1e-6) -> float:
    """The weight of keeping a fact at its likely value: ``|log(p / (1 - p))|``.

    Example:
        >>> round(log_odds_weight(0.9), 3), log_odds_weight(0.5)
        (2.197, 0.0)
    """
    p = min(max(confidence, limit), 1 - limit)
    return abs(math.log(p / (1 - p)))


def repair(ruleset: RuleSet, facts: FactBase | Iterable[Fact], *, objects: dict | None = None,
           compiled: CompiledRules | None = None, timeout_ms: int = 1000,
           deadline: Deadline | None = None) -> RepairResult:
    """Flip the least probable set of facts so that every constraint holds.

    Args:
        ruleset: the rule file (its ``constraint`` lines).
        facts: the frame's facts with confidences.
        objects: extra object constants (default: ``facts.objects`` for a FactBase).
        compiled: the rule file already compiled (a Reasoner's ``compiled_``), to save work.
        timeout_ms: bound on the optimisation.
        deadline: a :class:`~symbolic.compiler.deadline.Deadline` for all of it (reading the facts,
            grounding the constraints, the optimisation, building the result); the
            optimisation gets at most the time left before it.

    Returns:
        A :class:`RepairResult`.

    Raises:
        BudgetExceeded: ``deadline`` passed before the repair was done.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules('''sort Color = {red, green}
        ...     pred light(o, Color)
        ...     actions stop, go
        ...     constraint one_colour: forall o: not (light(o, red) and light(o, green))''')
        >>> result = repair(rules, [Fact("light", ("o1", "red"), 0.9), Fact("light", ("o1", "green"), 0.6)])
        >>> result.status, [f.atom for f in result.flipped]
        ('repaired', ['light(o1, green)'])
    """
    if isinstance(facts, FactBase):
        objects = dict(facts.objects) if objects is None else objects
        class_names = facts.class_names
    else:
        class_names = ()
    facts = list(facts)
    compiled = compiled or compile_rules(ruleset)
    flippable = {}
    for chunk in in_chunks(facts, deadline):
        for fact in chunk:
            if not fact.is_function and 0.0 < fact.confidence < 1.0 and fact.predicate in ruleset.predicates:
                flippable[atom_text(fact.predicate, fact.args)] = fact
    world = FactWorld(ruleset, facts, objects or {}, reading="likely", deadline=deadline)
    for chunk in in_chunks(list(flippable.items()), deadline):
        for text, fact in chunk:
            world.truth[(fact.predicate, fact.args)] = z3.Bool(text)
    compiled.prepare(world)
    compiled.choose(world, ruleset.safe_action)
    values, names = [], []
    for rule in compiled.constraints:
        try:
            for instance in ground_rule(rule, world):
                values.append(instance.holds(world))
                names.append(instance.name)
        except BudgetExceeded as error:
            error.where = error.where or f"constraint {rule.name} ({rule.source})"
            raise
    broken = [name for name, value in zip(names, values) if value is False]
    if broken:
        return RepairResult(_fact_base(facts, objects, class_names, deadline), status="inconsistent", broken=broken)
    residual = [v for v in values if is_z3(v)]
    if not residual:
        return RepairResult(_fact_base(facts, objects, class_names, deadline))
    likely = {text: fact.confidence >= 0.5 for text, fact in flippable.items()}
    optimizer = z3.Optimize()
    optimizer.add(*residual)
    for chunk in in_chunks(list(flippable.items()), deadline):
        for text, fact in chunk:
            weight = max(log_odds_weight(fact.confidence), 1e-6)
            optimizer.add_soft(z3.Bool(text) == likely[text], f"{weight:.6f}")
    optimizer.set("timeout", int(timeout_ms) if deadline is None else min(int(timeout_ms), deadline.timeout_ms()))
    result = optimizer.check()
    if result == z3.unknown and deadline is not None and deadline.passed():
        raise BudgetExceeded("the repair's optimisation")
    if result != z3.sat:
        status = "timeout" if result == z3.unknown else "inconsistent"
        return RepairResult(_fact_base(facts, objects, class_names, deadline), status=status)
    model = optimizer.model()
    flipped, repaired = [], []
    for chunk in in_chunks(facts, deadline):
        for fact in chunk:
            text = atom_text(fact.predicate, fact.args)
            if text in flippable:
                value = z3.is_true(model.eval(z3.Bool(text), model_completion=True))
                if value != likely[text]:
                    flipped.append(fact)
                    fact = Fact(fact.predicate, fact.args, 1.0 if value else 0.0)
            repaired.append(fact)
    cost = sum(log_odds_weight(f.confidence) for f in flipped)
    return RepairResult(_fact_base(repaired, objects, class_names, deadline), flipped, cost,
                        "repaired" if flipped else "consistent")


def _fact_base(facts: list[Fact], objects: dict | None, class_names: tuple, deadline: Deadline | None) -> FactBase:
    """``facts`` as a :class:`FactBase`, the deadline checked as it fills."""
    base = FactBase(objects=dict(objects or {}), class_names=class_names)
    for chunk in in_chunks(facts, deadline):
        for fact in chunk:
            base.add(fact)
    return base
