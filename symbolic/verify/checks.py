"""The individual checks of a rule file over every scene of up to K objects.

Example:
    >>> from symbolic.language.loader import parse_rules
    >>> rules = parse_rules("pred red\\npred green\\nactions stop, go\\n"
    ...                     "rule halt: red => stop\\nrule move: green => go")
    >>> scene = SymbolicScene(rules, 0)
    >>> solver = z3.Solver()
    >>> solver.add(*scene.background)
    >>> [f.scene.describe() for f in find_dead_end(scene, solver)]
    [['scene: red, green']]
    >>> [f.message for f in find_conflicts(scene, solver)]
    ['rules halt and move can fire in one scene while no action satisfies both']

Each check takes a :class:`~symbolic.verify.scene.SymbolicScene` and a z3
solver that already holds the scene's background (constraints, ranges,
presence) and returns :class:`~symbolic.verify.report.Finding` objects. The
solver is left as it was found (every query is pushed and popped).

How each question is put to z3 (``H_r(a)``: rule ``r`` holds when action
``a`` is chosen; ``fires(r)``: some instance's condition holds):

- dead end: ``∧_a ¬(∧_r H_r(a))`` — no action keeps every hard rule;
- dead rule: ``fires(r)`` is unsatisfiable;
- redundant rule: ``∨_a (¬H_r(a) ∧ ∧_{s≠r} H_s(a))`` is unsatisfiable (the
  unsat core names the rules that imply it);
- conflict: ``fires(r) ∧ fires(s) ∧ ∧_a ¬(H_r(a) ∧ H_s(a))``;
- ambiguity: two allowed actions with equal, best score.

One check needs no solver: :func:`find_grounding_growth` reads each rule's
quantifiers and warns where grounding it over a large frame would take more
instances than a stated bound (``objects ** k`` for ``k`` nested quantified
variables), as such a rule can spend the reasoner's time budget on its own.
"""
from __future__ import annotations

import dataclasses
import itertools

import z3

from symbolic.compiler.residual import and_values
from symbolic.language import ast
from symbolic.language.ruleset import RuleSet
from symbolic.verify.report import Finding, RuleRef
from symbolic.verify.scene import SymbolicScene, as_z3, solve_scene


def rule_ref(scene: SymbolicScene, index: int) -> RuleRef:
    """The :class:`RuleRef` of rule ``index`` (name, ``file:line``, hard/soft)."""
    rule = scene.rules[index]
    return RuleRef(rule.name, rule.source, rule.kind)


def _incomplete(what: str, refs=()) -> Finding:
    return Finding("incomplete", "warning",
                   f"z3 gave no answer for {what} within the time limit; raise `timeout_ms` or lower K",
                   list(refs))


def find_dead_end(scene: SymbolicScene, solver: z3.Solver) -> list[Finding]:
    """A scene where no action satisfies every hard rule.

    Args:
        scene: the grounding over K objects.
        solver: a solver holding ``scene.background``; left as found.

    Returns:
        At most one finding; its scene is the counterexample (its ``rules`` are
        filled in later, from the concrete scene, by :func:`symbolic.verify.checker.minimal_conflict`).
    """
    actions = scene.ruleset.actions
    blocked = [z3.Not(as_z3(scene.allowed(a))) for a in actions]
    solver.push()
    try:
        solver.add(*blocked)
        result, example = solve_scene(scene, solver)
    finally:
        solver.pop()
    if result == z3.unknown:
        return [_incomplete("the dead-end check")]
    if result == z3.unsat:
        return []
    return [Finding("dead_end", "error", "in this scene no action satisfies every hard rule; "
                    "the rules listed leave no action between them", [], example)]


def find_dead_rules(scene: SymbolicScene, solver: z3.Solver) -> tuple[list[Finding], set[int]]:
    """Rules whose condition cannot hold in any scene allowed by the constraints.

    Args:
        scene: the grounding over K objects.
        solver: a solver holding ``scene.background``; left as found.

    Returns:
        ``(findings, indexes of the dead rules)``.
    """
    findings, dead = [], set()
    for index in range(len(scene.rules)):
        fires = scene.fires(index)
        if fires is True:
            continue
        result = _check(solver, [as_z3(fires)])
        if result == z3.unknown:
            findings.append(_incomplete(f"whether rule {scene.rules[index].name} can fire", [rule_ref(scene, index)]))
        elif result == z3.unsat:
            dead.add(index)
            findings.append(Finding(
                "dead_rule", "warning",
                f"rule {scene.rules[index].name} can never fire: its condition is false in every scene of up to "
                f"{scene.num_objects} objects that the constraints and declared ranges allow"
                + ("; it needs objects, so try a larger K" if scene.num_objects < len(scene.rules[index].bindings)
                   else ""),
                [rule_ref(scene, index)]))
    return findings, dead


def find_redundant_rules(scene: SymbolicScene, solver: z3.Solver, skip: set[int] = frozenset()) -> list[Finding]:
    """Hard rules implied by the other hard rules (and the constraints): removing one changes no decision.

    Rules are tried from the last to the first; a rule found redundant is set aside
    before the next is tried, so of two copies of a rule only the later is reported.

    Args:
        scene: the grounding over K objects.
        solver: a solver holding ``scene.background``; left as found.
        skip: rule indexes to leave out (the dead rules).

    Returns:
        One warning per redundant rule, naming the rules that imply it.
    """
    actions = scene.ruleset.actions
    remaining = [i for i in scene.hard_indexes() if i not in skip]
    labels = {i: z3.Bool(f"keep!{scene.rules[i].name}!{i}") for i in remaining}
    # every rule, switched on by its label; a rule whose label is not assumed is left out
    kept = {a: z3.And([z3.Implies(labels[i], as_z3(scene.holds(i, a))) for i in remaining] or [True])
            for a in actions}
    findings = []
    for index in reversed(list(remaining)):
        others = [i for i in remaining if i != index]
        escape = [z3.And(z3.Not(as_z3(scene.holds(index, a))), kept[a]) for a in actions]
        solver.push()
        try:
            solver.add(z3.Or(escape))
            result = solver.check([labels[i] for i in others])
            core = solver.unsat_core() if result == z3.unsat else []
        finally:
            solver.pop()
        if result == z3.unknown:
            findings.append(_incomplete(f"whether rule {scene.rules[index].name} is redundant",
                                        [rule_ref(scene, index)]))
            continue
        if result == z3.sat:
            continue
        implied_by = [i for i in others if any(z3.eq(labels[i], c) for c in core)]
        remaining.remove(index)
        if implied_by:
            names = ", ".join(scene.rules[i].name for i in implied_by)
            message = (f"rule {scene.rules[index].name} is implied by {names}: removing it changes no decision "
                       f"in any scene of up to {scene.num_objects} objects")
        else:
            message = (f"rule {scene.rules[index].name} never rejects an action in any scene of up to "
                       f"{scene.num_objects} objects the constraints allow: removing it changes no decision")
        findings.append(Finding("redundant_rule", "warning", message,
                                [rule_ref(scene, index)] + [rule_ref(scene, i) for i in implied_by]))
    findings.reverse()
    return findings


def find_conflicts(scene: SymbolicScene, solver: z3.Solver, skip: set[int] = frozenset()) -> list[Finding]:
    """Pairs of rules that can fire together while no action satisfies both.

    Two hard rules in conflict are an error (that scene is a dead end). Two
    soft rules in conflict are a warning: their weights decide. A soft rule
    that a hard rule overrides is what soft rules are for; those pairs are
    gathered into one note per soft rule, listing the hard rules that override it.

    Args:
        scene: the grounding over K objects.
        solver: a solver holding ``scene.background``; left as found.
        skip: rule indexes to leave out (the dead rules).

    Returns:
        The findings, each with an example scene.
    """
    findings, overridden = [], {}
    for first, second in itertools.combinations([i for i in range(len(scene.rules)) if i not in skip], 2):
        rule_a, rule_b = scene.rules[first], scene.rules[second]
        soft = first if rule_a.kind == "soft" else second
        # only the first hard rule overriding a soft rule needs an example scene
        want_scene = rule_a.kind == rule_b.kind or soft not in overridden
        result, example = _conflict_scene(scene, solver, first, second, want_scene)
        refs = [rule_ref(scene, first), rule_ref(scene, second)]
        if result == z3.unknown:
            findings.append(_incomplete(f"whether {rule_a.name} and {rule_b.name} conflict", refs))
        elif result == z3.sat:
            kinds = {rule_a.kind, rule_b.kind}
            if kinds == {"hard"}:
                findings.append(Finding("conflict", "error", f"rules {rule_a.name} and {rule_b.name} can fire in "
                                        "one scene while no action satisfies both", refs, example))
            elif kinds == {"soft"}:
                findings.append(Finding(
                    "conflict", "warning", f"soft rules {rule_a.name} and {rule_b.name} can fire in one scene while "
                    f"no action satisfies both; the larger weight ({max(rule_a.weight, rule_b.weight):g}) decides",
                    refs, example))
            else:
                soft, hard = (first, second) if rule_a.kind == "soft" else (second, first)
                overridden.setdefault(soft, []).append((hard, example))
    for soft, pairs in overridden.items():
        names = ", ".join(scene.rules[h].name for h, _ in pairs)
        findings.append(Finding(
            "conflict", "note",
            f"soft rule {scene.rules[soft].name} (weight {scene.rules[soft].weight:g}) is overridden by the hard "
            f"rule(s) {names} in some scenes; the example shows the first", [rule_ref(scene, soft)]
            + [rule_ref(scene, h) for h, _ in pairs], pairs[0][1]))
    return findings


def _conflict_scene(scene: SymbolicScene, solver: z3.Solver, first: int, second: int, want_scene: bool = True):
    """``(result, ConcreteScene | None)``: can rules ``first`` and ``second`` fire together with no action for both?"""
    actions = scene.ruleset.actions
    table_a, table_b = scene.rules[first].head_by_action, scene.rules[second].head_by_action
    if table_a is not None and table_b is not None:
        if any(table_a[a] and table_b[a] for a in actions):
            return z3.unsat, None  # some action always satisfies both heads
        query = []
    else:
        query = [z3.Not(as_z3(and_values([scene.holds(first, a), scene.holds(second, a)]))) for a in actions]
    solver.push()
    try:
        solver.add(as_z3(scene.fires(first)), as_z3(scene.fires(second)), *query)
        return solve_scene(scene, solver) if want_scene else (solver.check(), None)
    finally:
        solver.pop()


def find_ambiguities(scene: SymbolicScene, solver: z3.Solver) -> list[Finding]:
    """Scenes where two allowed actions tie for the best score, so the order of the ``actions`` line decides.

    Args:
        scene: the grounding over K objects.
        solver: a solver holding ``scene.background``; left as found.

    Returns:
        One warning per pair of actions that can tie, with an example scene.
    """
    actions = scene.ruleset.actions
    allowed = {a: as_z3(scene.allowed(a)) for a in actions}
    scores = {a: scene.score(a) for a in actions}
    findings = []
    for first, second in itertools.combinations(actions, 2):
        best = [z3.Implies(allowed[c], scores[c] <= scores[first]) for c in actions]
        solver.push()
        try:
            solver.add(allowed[first], allowed[second], scores[first] == scores[second], *best)
            result, example = solve_scene(scene, solver)
        finally:
            solver.pop()
        if result == z3.unknown:
            findings.append(_incomplete(f"whether {first} and {second} can tie"))
        elif result == z3.sat:
            findings.append(Finding(
                "ambiguity", "warning",
                f"actions {first} and {second} can tie for the best score, so only the order of the actions "
                f"line decides between them", [], example, [first, second]))
    return findings


def _check(solver: z3.Solver, assertions: list):
    solver.push()
    try:
        solver.add(*assertions)
        return solver.check()
    finally:
        solver.pop()


#: defaults of :func:`find_grounding_growth`: a frame of this many objects ...
GROWTH_OBJECTS = 100
#: ... may ground a rule into at most this many instances (``objects ** k`` for k nested quantified variables).
GROWTH_BOUND = 100_000


def find_grounding_growth(ruleset: RuleSet, num_objects: int = GROWTH_OBJECTS,
                          bound: int = GROWTH_BOUND) -> list[Finding]:
    """Rules (and constraints) whose grounding grows beyond ``bound`` instances at ``num_objects`` objects.

    A rule with ``k`` quantified variables nested one inside another (its own
    ``exists a, b`` and any quantifier inside it or inside a define it calls)
    is grounded over ``num_objects ** k`` combinations of objects in the worst
    case; at 100 objects ``k = 3`` is a million. The reasoner then spends its
    time budget grounding that rule and falls back to the safe action. Each
    such rule gets a warning naming it, ``k`` and the count.

    Args:
        ruleset: the rule file.
        num_objects: the frame size to size the grounding at.
        bound: the most instances a rule may take at that size without a warning.

    Returns:
        One warning per rule or constraint over the bound, in file order.

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules('''
        ...     pred car(o)  pred near(o, o)
        ...     actions stop, go
        ...     rule pileup: exists a in car, b in car, c in car: near(a, b) and near(b, c) => stop
        ...     rule pair: exists a in car, b in car: near(a, b) => stop''', "cars.rules")
        >>> [(f.severity, f.rules[0].source) for f in find_grounding_growth(rules)]
        [('warning', 'cars.rules:4')]
        >>> print(find_grounding_growth(rules)[0].message)  # doctest: +NORMALIZE_WHITESPACE
        rule pileup nests 3 quantified variables: grounding it takes up to 100^3 = 1,000,000 instances
        at 100 objects, over the bound of 100,000; a frame that large can spend the time budget on this
        rule and get the safe action
        >>> find_grounding_growth(rules, bound=10**6)
        []
    """
    for name, value in (("num_objects", num_objects), ("bound", bound)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    depths: dict = {}
    findings = []
    statements = [(r.name, r.kind, r.body, r.source, "rule") for r in ruleset.rules]
    statements += [(c.name, "hard", c.body, c.source, "constraint") for c in ruleset.constraints]
    for name, kind, body, source, what in statements:
        k = quantified_depth(body, ruleset.defines, depths)
        instances = num_objects ** k
        if instances > bound:
            findings.append(Finding(
                "grounding_growth", "warning",
                f"{what} {name} nests {k} quantified variables: grounding it takes up to {num_objects}^{k} = "
                f"{instances:,} instances at {num_objects} objects, over the bound of {bound:,}; a frame that "
                f"large can spend the time budget on this {what} and get the safe action",
                [RuleRef(name, source, kind)]))
    return findings


def quantified_depth(node, defines: dict, memo: dict | None = None) -> int:
    """How many quantified variables grounding ``node`` nests one inside another (defines expanded).

    Quantifiers side by side add no depth (``(exists a: p(a)) and (exists b: q(b))`` is 1);
    nested ones add up (``exists a: forall b: r(a, b)`` is 2).

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules('''pred p(o)  pred r(o, o)  actions stop
        ...     define busy(o) := exists b: r(o, b)
        ...     rule x: exists a: busy(a) and (exists c: p(c)) => stop''')
        >>> quantified_depth(rules.rules[0].body, rules.defines)
        2
    """
    memo = {} if memo is None else memo
    if isinstance(node, ast.Quantifier):
        return len(node.bindings) + quantified_depth(node.body, defines, memo)
    depth = 0
    if isinstance(node, (ast.Name, ast.Call)) and node.name in defines:
        if node.name not in memo:
            memo[node.name] = 0  # defines are not recursive; this only guards the walk
            memo[node.name] = quantified_depth(defines[node.name].body, defines, memo)
        depth = memo[node.name]
    for child in _children(node):
        depth = max(depth, quantified_depth(child, defines, memo))
    return depth


def _children(node):
    for item in dataclasses.fields(node):
        value = getattr(node, item.name)
        if isinstance(value, ast.Node):
            yield value
        elif isinstance(value, tuple):
            yield from (v for v in value if isinstance(v, ast.Node))
