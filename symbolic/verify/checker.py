"""Verify a rule file for every scene of up to K objects: :func:`check_rules`.

Instead of concrete facts, the rules are grounded over K *symbolic* objects
(:mod:`symbolic.verify.scene`) and z3 answers, for all scenes at once that
the file's ``constraint`` lines and declared ranges allow:

1. dead end — is there a scene where no action satisfies every hard rule?
2. dead rules — rules whose condition can never hold;
3. redundant rules — hard rules implied by the others;
4. conflicts — pairs of rules that can fire together with no action satisfying both;
5. ambiguity — scenes where two actions tie for the best score;
6. grounding growth — rules whose grounding over a large frame (``objects ** k`` instances
   for ``k`` nested quantified variables) exceeds a bound (no solver: read from the rules).

Every example scene is replayed through the concrete
:class:`~symbolic.reasoning.reasoner.Reasoner`; ``Finding.reproduced`` records that the
problem shows there too.

Example:
    >>> from symbolic.language.loader import parse_rules
    >>> rules = parse_rules('''
    ...     pred red(o)  pred green(o)
    ...     actions stop, go
    ...     rule halt: exists o: red(o) => stop
    ...     rule move: exists o: green(o) => go
    ...     prefer go weight 1''')
    >>> report = check_rules(rules, num_objects=2)
    >>> [f.kind for f in report.findings]
    ['dead_end', 'conflict']
    >>> report.findings[0].scene.describe(), report.findings[0].reproduced
    (['x1: red, green'], True)
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterable

import z3

from symbolic.compiler.compiler import compile_rules
from symbolic.compiler.worlds import FactWorld
from symbolic.files import write_text_atomic
from symbolic.language.errors import RuleError
from symbolic.language.loader import load_rules
from symbolic.language.ruleset import RuleSet
from symbolic.reasoning.reasoner import Reasoner
from symbolic.verify.checks import (GROWTH_BOUND, GROWTH_OBJECTS, find_ambiguities, find_conflicts, find_dead_end,
                                    find_dead_rules, find_grounding_growth, find_redundant_rules)
from symbolic.verify.report import KINDS, SEVERITIES, Finding, RuleRef, VerificationReport
from symbolic.verify.scene import ConcreteScene, SymbolicScene

#: the checks :func:`check_rules` runs, in order.
CHECKS = ("dead_end", "dead_rule", "redundant_rule", "conflict", "ambiguity", "grounding_growth")


def check_rules(ruleset: RuleSet, num_objects: int = 3, *, checks: Iterable[str] = CHECKS,
                timeout_ms: int = 10_000, progress: bool = False, growth_objects: int = GROWTH_OBJECTS,
                growth_bound: int = GROWTH_BOUND) -> VerificationReport:
    """Check a rule file for every scene of up to ``num_objects`` objects.

    Args:
        ruleset: a checked :class:`~symbolic.language.ruleset.RuleSet` (see :func:`~symbolic.language.loader.load_rules`).
        num_objects: K, the most objects in a scene (scenes with fewer are covered too).
        checks: which of :data:`CHECKS` to run.
        timeout_ms: z3 time limit per question; a question left open becomes an
            ``"incomplete"`` warning.
        progress: show a progress bar on stderr.
        growth_objects, growth_bound: the grounding-growth check warns about each rule that
            grounds into more than ``growth_bound`` instances at ``growth_objects`` objects
            (see :func:`~symbolic.verify.checks.find_grounding_growth`).

    Returns:
        A :class:`~symbolic.verify.report.VerificationReport`; ``report.ok`` when it holds no error or warning.

    Raises:
        ValueError: on a bad argument, naming it and the value received.
        RuleError: the rule file declares no actions.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules("pred red(o)\\nactions stop, go\\nrule halt: exists o: red(o) => stop\\n"
        ...                     "prefer go weight 1")
        >>> check_rules(rules, num_objects=2).ok
        True
    """
    checks = _validate(ruleset, num_objects, checks, timeout_ms)
    growth = find_grounding_growth(ruleset, growth_objects, growth_bound) if "grounding_growth" in checks else []
    start = time.perf_counter()
    scene = SymbolicScene(ruleset, num_objects)
    solver = z3.Solver()
    solver.set("timeout", int(timeout_ms))
    solver.set("core.minimize", True)
    solver.add(*scene.background)
    findings: list[Finding] = []
    dead: set[int] = set()
    for name in _progress(checks, progress):
        if name == "dead_end":
            findings += find_dead_end(scene, solver)
        elif name == "dead_rule":
            found, dead = find_dead_rules(scene, solver)
            findings += found
        elif name == "redundant_rule":
            findings += find_redundant_rules(scene, solver, skip=dead)
        elif name == "conflict":
            findings += find_conflicts(scene, solver, skip=dead)
        elif name == "ambiguity":
            findings += find_ambiguities(scene, solver)
        elif name == "grounding_growth":
            findings += growth
    replay = _Replay(ruleset, scene)
    for finding in findings:
        replay.complete(finding)
    order = list(KINDS)
    findings.sort(key=lambda f: (SEVERITIES.index(f.severity), order.index(f.kind)))
    return VerificationReport(ruleset.files[0] if ruleset.files else "<rules>", num_objects, findings,
                              num_rules=len(ruleset.rules), seconds=time.perf_counter() - start)


def check_file(path: str | Path, num_objects: int = 3, *, search_path: Iterable[str | Path] = (),
               **options) -> VerificationReport:
    """Load a rule file and check it (see :func:`check_rules` for ``options``).

    Example:
        >>> check_file("configs/rules/traffic.rules", num_objects=1, checks=["dead_end"]).ok
        True
    """
    return check_rules(load_rules(path, search_path), num_objects, **options)


def write_scene(scene: ConcreteScene, path: str | Path) -> Path:
    """Write ``scene`` as a facts JSON file (``nesy rules explain --facts``), atomically.

    Example:
        >>> import tempfile, os
        >>> from symbolic.reasoning.facts import Fact, FactBase
        >>> folder = tempfile.mkdtemp()
        >>> path = write_scene(ConcreteScene(["x1"], [Fact("red", ("x1",))]), os.path.join(folder, "s.facts.json"))
        >>> [f.atom for f in FactBase.from_file(path)]
        ['red(x1)']
    """
    return write_text(json.dumps(scene.to_json(), indent=2) + "\n", path)


def write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, then a rename).

    Example:
        >>> import tempfile, os
        >>> path = write_text("hello\\n", os.path.join(tempfile.mkdtemp(), "sub", "a.txt"))
        >>> path.read_text()
        'hello\\n'
    """
    return write_text_atomic(path, text)


def minimal_conflict(ruleset: RuleSet, scene: ConcreteScene, compiled=None) -> list[RuleRef]:
    """A smallest-by-deletion set of hard rule instances that, in ``scene``, leave no action.

    Removing any one of them frees some action. Empty when some action is allowed.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> from symbolic.reasoning.facts import Fact
        >>> rules = parse_rules("pred red(o)\\npred green(o)\\nactions stop, go\\n"
        ...                     "rule halt: exists o: red(o) => stop\\nrule move: exists o: green(o) => go")
        >>> [r.name for r in minimal_conflict(rules, ConcreteScene(["x1"], [Fact("red", ("x1",)), Fact("green", ("x1",))]))]
        ['halt[x1]', 'move[x1]']
    """
    compiled = compiled or compile_rules(ruleset)
    world = FactWorld(ruleset, scene.facts, scene.objects, reading="likely")
    compiled.choose(world, ruleset.actions[0])
    instances = [i for i in compiled.ground(world) if i.rule.kind == "hard"]
    allowed = {}
    for instance in instances:
        allowed[id(instance)] = {a for a in ruleset.actions
                                 if instance.holds(compiled.choose(world, a)) is True}
    core = [i for i in instances if len(allowed[id(i)]) < len(ruleset.actions)]

    def leaves_none(group) -> bool:
        free = set(ruleset.actions)
        for instance in group:
            free &= allowed[id(instance)]
        return not free

    if not leaves_none(core):
        return []
    for instance in list(core):
        rest = [i for i in core if i is not instance]
        if leaves_none(rest):
            core = rest
    return [RuleRef(i.name, i.rule.source, i.rule.kind) for i in core]


class _Replay:
    """Feeds each example scene back to the concrete reasoner and records whether the problem shows."""

    def __init__(self, ruleset: RuleSet, scene: SymbolicScene):
        self.ruleset = ruleset
        self.compiled = scene.compiled
        self.reasoner = Reasoner(ruleset, robust=False, time_budget_ms=60_000.0)

    def complete(self, finding: Finding) -> None:
        if finding.scene is None:
            return
        facts = finding.scene.fact_base()
        if finding.kind == "dead_end":
            finding.rules = minimal_conflict(self.ruleset, finding.scene, self.compiled)
            finding.reproduced = not self.reasoner.allowed_actions(facts) and bool(finding.rules)
        elif finding.kind == "conflict":
            finding.reproduced = self._conflicts(finding.scene, [r.name for r in finding.rules[:2]])
        elif finding.kind == "ambiguity":
            decision = self.reasoner.decide(facts, explain=False)
            first, second = finding.actions
            finding.reproduced = {first, second} <= {decision.action, *decision.tied}
            self._explain_tie(finding)

    def _explain_tie(self, finding: Finding) -> None:
        """Name the soft rules either tied action breaks in the scene, and the tied score."""
        world = FactWorld(self.ruleset, finding.scene.facts, finding.scene.objects, reading="likely")
        self.compiled.choose(world, self.ruleset.actions[0])
        soft = [i for i in self.compiled.ground(world) if i.rule.kind == "soft"]
        broken, scores = {}, {}
        for action in finding.actions:
            self.compiled.choose(world, action)
            lost = [i for i in soft if i.holds(world) is False]
            scores[action] = self.ruleset.preferences.get(action, 0.0) - sum(i.rule.weight for i in lost)
            broken.update((i.name, i) for i in lost)
        finding.rules = [RuleRef(i.name, i.rule.source, "soft") for i in broken.values()]
        first = finding.actions[0]
        finding.message += f" (both score {scores[first]:g} in the example"
        finding.message += ", counting the soft rules listed)" if broken else ")"

    def _conflicts(self, scene: ConcreteScene, names: list[str]) -> bool:
        world = FactWorld(self.ruleset, scene.facts, scene.objects, reading="likely")
        self.compiled.choose(world, self.ruleset.actions[0])
        instances = {name: [i for i in self.compiled.ground(world) if i.rule.name == name] for name in names}
        if not all(instances.values()):
            return False  # one of the rules does not fire
        for action in self.ruleset.actions:
            self.compiled.choose(world, action)
            if all(all(i.holds(world) is True for i in group) for group in instances.values()):
                return False
        return True


def _validate(ruleset, num_objects, checks, timeout_ms) -> list[str]:
    if not isinstance(ruleset, RuleSet):
        raise TypeError(f"`ruleset` must be a RuleSet (see load_rules). Received {type(ruleset).__name__}")
    if isinstance(num_objects, bool) or not isinstance(num_objects, int) or num_objects < 0:
        raise ValueError(f"`num_objects` must be a non-negative integer. Received: num_objects={num_objects!r}")
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, (int, float)) or timeout_ms < 1:
        raise ValueError(f"`timeout_ms` must be a number >= 1. Received: timeout_ms={timeout_ms!r}")
    if not ruleset.actions:
        raise RuleError("the rule file declares no actions; add a line like 'actions stop, go'",
                        ruleset.files[0] if ruleset.files else "<rules>")
    checks = [checks] if isinstance(checks, str) else list(checks)
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ValueError(f"`checks` must name some of {', '.join(CHECKS)}. Received: {unknown[0]!r}")
    return [c for c in CHECKS if c in checks]


def _progress(items, enabled: bool):
    if not enabled:
        return items
    from tqdm import tqdm
    return tqdm(items, desc="checking", unit="check", leave=False)
