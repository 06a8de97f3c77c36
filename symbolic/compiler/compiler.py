"""Compile a :class:`~symbolic.language.ruleset.RuleSet` once into Python closures that ground it over a world.

A *world* says which objects exist and what holds of them. The same compiled
rules ground over two kinds of world:

- :class:`~symbolic.compiler.worlds.FactWorld`: the concrete facts of one frame. What is certain
  evaluates to plain ``True``/``False``/numbers in Python; only uncertain facts
  become variables, so a ground formula is either decided or a small
  *residual*: a z3 term, or (``terms="python"``, what the reasoner uses) a
  :class:`~symbolic.compiler.residual.Residual` built in Python, evaluated exactly and turned into z3 only
  when a question needs a solver.
- :class:`~symbolic.compiler.worlds.SymbolicWorld`: K unknown objects whose every fact is a z3 variable
  (for proving properties of a rule file over all scenes up to K objects).

Each compiled rule yields one :class:`GroundInstance` per binding of its outer
variables, named like ``red_light[o3]``: a rule written
``exists o: C(o) => H`` or ``forall o: (C(o) => H)`` has the *condition*
``C(o)`` (evaluated once per object, no action involved) and the *head* ``H``
(what it asks of the action).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable

import z3

from symbolic.compiler.deadline import CHUNK, BudgetExceeded, in_chunks
from symbolic.compiler.intervals import compare_bounds
from symbolic.compiler.residual import (ARITHMETIC, COMPARISONS, Residual, all_of, and_values, any_of, implies_value,
                                        is_residual, is_z3, negation_of, not_value, or_values)
from symbolic.compiler.worlds import AtomTruths, FunctionValues, World, atom_text, measured_text, object_positions
from symbolic.language import ast
from symbolic.language.ruleset import OBJECT, RuleSet


def exactly_one(terms) -> "z3.BoolRef":
    """z3: exactly one of ``terms`` holds (for a symbolic choice of action).

    Example:
        >>> solver = z3.Solver()
        >>> a, b = z3.Bools("a b")
        >>> solver.add(exactly_one([a, b]), a)
        >>> solver.check(), solver.model()[b]
        (sat, False)
    """
    terms = list(terms)
    return z3.PbEq([(t, 1) for t in terms], 1)


# -- compiled rules -------------------------------------------------------------

Closure = Callable  # (world, env) -> bool | float | str | None | z3 term


@dataclass(eq=False)  # compared by identity: one object per rule
class CompiledRule:
    """One rule ready to ground: outer bindings, a condition and a head.

    ``condition`` never reads the action (``None`` means always true); ``head``
    may. ``head_by_action`` is filled when the head reads nothing but the action
    (``stop or yield``): its truth per action, computed once.
    """

    name: str
    kind: str
    weight: float | None
    source: str
    bindings: tuple  # of (var, label | None)
    condition: Closure | None
    head: Closure
    trace_condition: Closure | None
    trace_head: Closure
    head_by_action: dict | None = None
    head_text: str = ""
    levels: tuple = ()  # the condition split by binding depth (see _Compiler.levels)
    domains: tuple = ()  # per binding, (class whose objects grounding runs over or None, whether to guard)


@dataclass(eq=False)
class GroundInstance:
    """One rule instance of one world: ``red_light[o3]``.

    ``condition`` is ``True`` or a z3 residual (instances whose condition is
    false are not produced).
    """

    rule: CompiledRule
    bindings: tuple
    condition: object
    _negation: object = field(default=None, repr=False)  # ``not condition``, built once

    @property
    def name(self) -> str:
        return f"{self.rule.name}[{', '.join(self.bindings)}]" if self.bindings else self.rule.name

    def head(self, world: World):
        """The head's value in ``world`` (for its current ``actions``)."""
        table = self.rule.head_by_action
        if table is not None and world.chosen is not None:
            return table[world.chosen]
        return self.rule.head(world, self.bindings)

    def holds(self, world: World):
        """``condition => head``: ``True``, ``False`` or a residual."""
        head = self.head(world)
        if head is False and self.condition is not True:  # the same residual for every action it forbids
            if self._negation is None:
                self._negation = negation_of(self.condition)
            return self._negation
        return implies_value(self.condition, head)


@dataclass
class CompiledRules:
    """A rule set compiled once: its rules and constraints as closures.

    Example:
        >>> from symbolic.compiler.worlds import FactWorld
        >>> from symbolic.language.loader import parse_rules
        >>> from symbolic.reasoning.facts import Fact
        >>> rules = parse_rules("pred red(o)\\nactions stop, go\\nrule halt: exists o: red(o) => stop")
        >>> compiled = compile_rules(rules)
        >>> world = FactWorld(rules, [Fact("red", ("o3",))])
        >>> [i.name for i in compiled.ground(world)]
        ['halt[o3]']
    """

    ruleset: RuleSet
    rules: list[CompiledRule]
    constraints: list[CompiledRule]
    class_tests: dict = field(default_factory=dict)

    def __post_init__(self):
        actions = self.ruleset.actions
        self._choices = {action: {a: a == action for a in actions} for action in actions}
        self.signatures = object_positions(self.ruleset)
        self.position = {id(rule): index for index, rule in enumerate(self.rules)}

    def prepare(self, world: World) -> World:
        """Give ``world`` the class tests its quantifiers use."""
        world._class_tests = self.class_tests
        return world

    def choose(self, world: World, action: str) -> World:
        """Set ``world``'s chosen action (concrete)."""
        world.actions = self._choices[action]
        world.chosen = action
        return world

    def ground(self, world: World, rules=None):
        """Yield the instances whose condition is not false in ``world``.

        Raises:
            BudgetExceeded: ``world.deadline`` passed; its ``where`` names the rule being grounded.
        """
        self.prepare(world)
        for rule in self.rules if rules is None else rules:
            try:
                yield from ground_rule(rule, world)
            except BudgetExceeded as error:
                error.where = error.where or f"rule {rule.name} ({rule.source})"
                raise

    def holds(self, world: World, kind: str = "hard") -> list:
        """``(instance, value)`` for every instance of the ``kind`` rules (``"hard"``, ``"soft"``
        or ``"constraint"``); ``value`` is ``condition => head`` in ``world`` (True, False or z3).

        With a :class:`~symbolic.compiler.worlds.SymbolicWorld` this is the formula a verifier asserts.

        Example:
            >>> from symbolic.compiler.worlds import SymbolicWorld
            >>> from symbolic.language.loader import parse_rules
            >>> rules = parse_rules("pred red(o)\\nactions stop, go\\nrule halt: exists o: red(o) => stop")
            >>> world = SymbolicWorld(rules, 1)
            >>> [(i.name, v) for i, v in compile_rules(rules).holds(world)]
            [('halt[x1]', Implies(red(x1), act_stop))]
        """
        self.prepare(world)
        rules = self.constraints if kind == "constraint" else [r for r in self.rules if r.kind == kind]
        return [(instance, instance.holds(world)) for rule in rules for instance in ground_rule(rule, world)]

    def ground_constraints(self, world: World) -> list:
        """The constraints as values in ``world``: ``True``, ``False`` or z3 residuals, one per instance."""
        self.prepare(world)
        found = []
        for rule in self.constraints:
            try:
                found += [instance.holds(world) for instance in ground_rule(rule, world)]
            except BudgetExceeded as error:
                error.where = error.where or f"constraint {rule.name} ({rule.source})"
                raise
        return found


def ground_rule(rule: CompiledRule, world: World):
    """Yield the :class:`GroundInstance` of ``rule`` whose condition is not false in ``world``
    (checking ``world.deadline``, if any, as it goes).

    Example:
        >>> from symbolic.compiler.worlds import FactWorld
        >>> from symbolic.language.loader import parse_rules
        >>> from symbolic.reasoning.facts import Fact
        >>> rules = parse_rules("pred car(o)\\npred near(o, o)\\nactions stop\\n"
        ...                     "rule r: exists a in car, b in car: near(a, b) => stop")
        >>> compiled = compile_rules(rules)
        >>> world = compiled.prepare(FactWorld(rules, [Fact("car", ("c1",)), Fact("car", ("c2",)),
        ...                                            Fact("near", ("c2", "c1"))]))
        >>> [i.name for i in ground_rule(compiled.rules[0], world)]
        ['r[c2, c1]']
    """
    levels = rule.levels
    first = levels[0]
    deadline = world.deadline
    if deadline is not None:
        deadline.check()
    base = True if first is None else first(world, ())
    if base is False:
        return
    if not rule.bindings:
        yield GroundInstance(rule, (), base)
        return
    domains = [world.members(label) if guarded else world.candidates(label)
               for label, guarded in rule.domains]
    if len(domains) == 1:
        test = levels[1]
        domain = domains[0]
        for chunk in (domain,) if len(domain) <= CHUNK else in_chunks(domain, deadline):
            for obj, guard in chunk:
                env = (obj,)
                value = True if test is None else test(world, env)
                if value is False:
                    continue
                if guard is not True or base is not True:
                    value = and_values([base, guard, value])
                yield GroundInstance(rule, env, value)
        return
    yield from _descend(rule, world, domains, 0, (), [base], deadline)


def _descend(rule, world, domains, depth, env, parts, deadline):
    test = rule.levels[depth + 1]
    last = depth + 1 == len(domains)
    for chunk in in_chunks(domains[depth], deadline):
        for obj, guard in chunk:
            inner = env + (obj,)
            value = True if test is None else test(world, inner)
            if value is False:
                continue
            found = parts + [guard, value]
            if last:
                yield GroundInstance(rule, inner, and_values(found))
            else:
                yield from _descend(rule, world, domains, depth + 1, inner, found, deadline)


def compile_rules(ruleset: RuleSet) -> CompiledRules:
    """Compile every rule and constraint of ``ruleset`` into closures (do it once, reuse per frame).

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> compiled = compile_rules(parse_rules("pred red\\nactions stop, go\\nrule r: red => stop"))
        >>> rule = compiled.rules[0]
        >>> rule.name, rule.bindings, rule.head_by_action
        ('r', (), {'stop': True, 'go': False})
    """
    compiler = _Compiler(ruleset)
    class_tests = {}
    for name, params in ruleset.predicates.items():
        if params == (OBJECT,):
            class_tests[name] = compiler.compile(ast.Call(name, (ast.Name("_x"),)), ("_x",))
    for name, define in ruleset.defines.items():
        if len(define.params) == 1:
            class_tests[name] = compiler.compile(ast.Call(name, (ast.Name("_x"),)), ("_x",))
    rules = [compiler.compile_rule(r.name, r.kind, r.weight, r.source, r.body) for r in ruleset.rules]
    constraints = [compiler.compile_rule(c.name, "hard", None, c.source, c.body) for c in ruleset.constraints]
    return CompiledRules(ruleset, rules, constraints, class_tests)


class _Compiler:
    def __init__(self, ruleset: RuleSet):
        self.rules = ruleset
        self.actions = set(ruleset.actions)
        self.sort_values = ruleset.sort_of_value
        self._defines: dict = {}

    # -- rule shapes
    def compile_rule(self, name, kind, weight, source, body) -> CompiledRule:
        bindings, condition, head = self.split(body)
        scope = tuple(var for var, _ in bindings)
        compiled = CompiledRule(
            name, kind, weight, source, bindings,
            None if condition is None else self.compile(condition, scope),
            self.compile(head, scope),
            None if condition is None else self.compile(condition, scope, trace=True),
            self.compile(head, scope, trace=True),
            head_text=ast.to_text(head))
        compiled.levels = self.levels(condition, bindings)
        compiled.domains = self.domains(condition, bindings)
        if self.action_only(head):
            compiled.head_by_action = {
                action: self.compile(head, scope)(World([], AtomTruths(), FunctionValues(),
                                                        {a: a == action for a in self.rules.actions}), ())
                for action in self.rules.actions}
        return compiled

    def levels(self, condition, bindings) -> tuple:
        """The condition's conjuncts grouped by the deepest outer variable they read.

        Entry ``k`` (a closure or ``None``) reads only the first ``k`` bound objects, so
        grounding checks it before looping over the next variable:
        ``stopped_at_sign`` is checked once, not once per pair of objects.
        """
        variables = tuple(var for var, _ in bindings)
        groups = [[] for _ in range(len(variables) + 1)]
        conjuncts = condition.operands if isinstance(condition, ast.Logic) and condition.op == "and" else \
            (() if condition is None else (condition,))
        for conjunct in conjuncts:
            used = self.free_names(conjunct) & set(variables)
            depth = max((variables.index(v) + 1 for v in used), default=0)
            groups[depth].append(conjunct)
        compiled = []
        for depth, group in enumerate(groups):
            if not group:
                compiled.append(None)
                continue
            node = group[0] if len(group) == 1 else ast.Logic("and", tuple(group))
            compiled.append(self.compile(node, variables[:depth]))
        return tuple(compiled)

    def domains(self, condition, bindings) -> tuple:
        """Per binding, a class to run over: the user's (``o in car``) or, when the condition
        is a conjunction with a one-object atom on the variable (``in_left_lane(o) and ...``),
        that atom's predicate, so objects for which it is false are never visited."""
        conjuncts = condition.operands if isinstance(condition, ast.Logic) and condition.op == "and" else \
            (() if condition is None else (condition,))
        unary = {name for name, params in self.rules.predicates.items() if params == (OBJECT,)}
        unary |= {name for name, define in self.rules.defines.items() if len(define.params) == 1}
        found = []
        for var, label in bindings:
            if label is not None:
                found.append((label, True))
                continue
            label = next((c.name for c in conjuncts if isinstance(c, ast.Call) and c.name in unary
                          and isinstance(c.args[0], ast.Name) and c.args[0].name == var), None)
            found.append((label, False))  # the condition itself tests the class: no guard needed
        return tuple(found)

    def split(self, body):
        """(bindings, condition or None, head) of a rule body."""
        if isinstance(body, ast.Logic) and body.op == "=>" and len(body.operands) == 2:
            left, head = body.operands
            if isinstance(left, ast.Quantifier) and left.kind == "exists" and not self.mentions_action(left.body):
                names = {b.var for b in left.bindings}
                if not names & self.free_names(head):
                    return tuple((b.var, b.label) for b in left.bindings), left.body, head
            if not self.mentions_action(left):
                return (), left, head
        if isinstance(body, ast.Quantifier) and body.kind == "forall":
            bindings = tuple((b.var, b.label) for b in body.bindings)
            inner = body.body
            if isinstance(inner, ast.Logic) and inner.op == "=>" and not self.mentions_action(inner.operands[0]):
                return bindings, inner.operands[0], inner.operands[1]
            return bindings, None, inner
        return (), None, body

    def mentions_action(self, node) -> bool:
        return self.rules.mentions_action(node)

    def action_only(self, node) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.name not in self.actions:
                return False
            if not isinstance(sub, (ast.Name, ast.Logic, ast.Not, ast.Truth)):
                return False
        return True

    @staticmethod
    def free_names(node) -> set:
        return {n.name for n in ast.walk(node) if isinstance(n, ast.Name)}

    # -- formulas
    def compile(self, node, scope: tuple, trace: bool = False) -> Closure:
        method = getattr(self, f"_{type(node).__name__.lower()}")
        return method(node, scope, trace)

    def _truth(self, node, scope, trace):
        value = node.value
        return lambda w, env: value

    def _number(self, node, scope, trace):
        value = node.value
        return lambda w, env: value

    def _name(self, node, scope, trace):
        name = node.name
        if name in scope:
            index = len(scope) - 1 - scope[::-1].index(name)  # innermost binding
            return lambda w, env: env[index]
        if name in self.actions:
            return lambda w, env: w.actions[name]
        if name in self.sort_values:
            return lambda w, env: name
        return self._call(ast.Call(name, (), line=node.line, column=node.column), scope, trace)

    def _call(self, node, scope, trace):
        name = node.name
        if name in self.rules.defines:
            return self._define_call(node, scope, trace)
        table = "truth" if name in self.rules.predicates else "values"
        args = [self.compile(a, scope) for a in node.args]
        indexes = [scope.index(a.name) if isinstance(a, ast.Name) and a.name in scope else None for a in node.args]
        if len(node.args) == 1 and indexes[0] is not None:
            index = len(scope) - 1 - scope[::-1].index(node.args[0].name)
            make_key = lambda w, env: (name, (env[index],))  # noqa: E731
        elif not node.args:
            key = (name, ())
            make_key = lambda w, env: key  # noqa: E731
        elif len(args) == 2:  # light(o, red), near(a, b): no generator per lookup
            first, second = args
            make_key = lambda w, env: (name, (first(w, env), second(w, env)))  # noqa: E731
        else:
            make_key = lambda w, env: (name, tuple(a(w, env) for a in args))  # noqa: E731
        if table == "truth":
            if not trace:
                if len(node.args) == 1 and indexes[0] is not None:
                    return lambda w, env: w.truth[(name, (env[index],))]
                return lambda w, env: w.truth[make_key(w, env)]

            def traced_atom(w, env):
                key = make_key(w, env)
                value = w.truth[key]
                text = atom_text(*key)
                w.trace.append(text if value is True else f"not {text}" if value is False else f"{text} (uncertain)")
                return value
            return traced_atom
        if not trace:
            return lambda w, env: w.values[make_key(w, env)]

        def traced_value(w, env):
            key = make_key(w, env)
            value = w.values[key]
            text = atom_text(*key)
            w.trace.append(f"{text} = {value:g}" if isinstance(value, float) else
                           f"{text} unknown" if value is None else
                           measured_text(w.intervals[text]) if text in w.intervals else f"{text} (uncertain)")
            return value
        return traced_value

    def _define_call(self, node, scope, trace):
        define = self.rules.defines[node.name]
        key = (node.name, trace)
        if key not in self._defines:
            self._defines[key] = None  # marks the define as being expanded (defines are not recursive)
            self._defines[key] = self.compile(define.body, define.params, trace)
        body = self._defines[key]
        args = [self.compile(a, scope) for a in node.args]
        name = node.name
        if trace:
            def traced_define(w, env):
                bound = tuple(a(w, env) for a in args)
                mark = len(w.trace)
                value = body(w, bound)
                if value is False:  # say the define's name, not every atom that made it false
                    del w.trace[mark:]
                    w.trace.append(f"not {atom_text(name, bound)}")
                return value
            return traced_define
        if not args:
            return lambda w, env: body(w, ())
        if len(node.args) == 1 and isinstance(node.args[0], ast.Name) and node.args[0].name in scope:
            index = len(scope) - 1 - scope[::-1].index(node.args[0].name)
            return lambda w, env: body(w, (env[index],))
        return lambda w, env: body(w, tuple(a(w, env) for a in args))

    def _not(self, node, scope, trace):
        operand = self.compile(node.operand, scope, trace)

        def negation(w, env):
            value = operand(w, env)
            if value is True:
                return False
            if value is False:
                return True
            return negation_of(value)
        return negation

    def _logic(self, node, scope, trace):
        operands = [self.compile(o, scope, trace) for o in node.operands]
        if node.op == "and":
            # traced or not: a false conjunction keeps the trace of the conjunct that made it false
            def conjunction(w, env):
                residual = None
                for operand in operands:
                    value = operand(w, env)
                    if value is False:
                        return False
                    if value is not True:
                        residual = [value] if residual is None else residual + [value]
                if residual is None:
                    return True
                return residual[0] if len(residual) == 1 else all_of(residual)
            return conjunction
        if node.op == "or":
            if trace:
                def traced_or(w, env):
                    results = []
                    for o in operands:
                        mark = len(w.trace)
                        value = o(w, env)
                        if value is False:
                            del w.trace[mark:]
                        results.append(value)
                        if value is True:
                            break
                    return or_values(results)
                return traced_or
            def disjunction(w, env):
                residual = None
                for operand in operands:
                    value = operand(w, env)
                    if value is True:
                        return True
                    if value is not False:
                        residual = [value] if residual is None else residual + [value]
                if residual is None:
                    return False
                return residual[0] if len(residual) == 1 else any_of(residual)
            return disjunction
        left, right = operands
        if node.op == "=>":
            def implication(w, env):
                condition = left(w, env)
                if condition is False:
                    return True
                return implies_value(condition, right(w, env))
            return implication

        def equivalence(w, env):
            a, b = left(w, env), right(w, env)
            if not is_residual(a) and not is_residual(b):
                return a == b
            return a == b if is_residual(a) else b == a
        return equivalence

    def _quantifier(self, node, scope, trace):
        variables = tuple(b.var for b in node.bindings)
        labels = tuple(b.label for b in node.bindings)
        body = self.compile(node.body, scope + variables, trace)
        exists = node.kind == "exists"

        def quantified(w, env):
            residual = []
            domains = [w.members(label) for label in labels]
            combos = itertools.product(*domains)
            for chunk in in_chunks(combos, w.deadline, length=math.prod(map(len, domains))):
                for combo in chunk:
                    mark = len(w.trace) if trace else 0
                    value = body(w, env + tuple(obj for obj, _ in combo))
                    guards = [g for _, g in combo if g is not True]
                    if exists:
                        if guards and value is not False:
                            value = and_values(guards + [value])
                        if value is True:
                            return True
                        if value is False:
                            if trace:
                                del w.trace[mark:]
                            continue
                    else:
                        if guards and value is not True:
                            value = or_values([not_value(and_values(guards))] + [value])
                        if value is False:
                            return False
                        if value is True:
                            if trace:
                                del w.trace[mark:]
                            continue
                    residual.append(value)
            if not residual:
                return not exists
            if len(residual) == 1:
                return residual[0]
            return any_of(residual) if exists else all_of(residual)
        return quantified

    def _compare(self, node, scope, trace):
        left = self.compile(node.left, scope, trace)
        right = self.compile(node.right, scope, trace)
        compare, op = COMPARISONS[node.op], node.op

        def comparison(w, env):
            a, b = left(w, env), right(w, env)
            if a is None or b is None:
                return False  # a missing value satisfies no comparison
            if w.bounds and (a.__class__ is Residual or b.__class__ is Residual or is_z3(a) or is_z3(b)):
                decided = compare_bounds(op, a, b, w.bounds, w.float_bounds)  # the same for every measured value
                if decided is not None:
                    return decided
            result = compare(a, b)
            return bool(result) if isinstance(result, bool) else result
        return comparison

    def _arith(self, node, scope, trace):
        left = self.compile(node.left, scope, trace)
        right = self.compile(node.right, scope, trace)
        apply = ARITHMETIC[node.op]

        def arithmetic(w, env):
            a, b = left(w, env), right(w, env)
            if a is None or b is None:
                return None
            return apply(a, b)
        return arithmetic

    def _negate(self, node, scope, trace):
        operand = self.compile(node.operand, scope, trace)

        def negation(w, env):
            value = operand(w, env)
            return None if value is None else -value
        return negation
