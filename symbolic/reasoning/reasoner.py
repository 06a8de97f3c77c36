"""The reasoner: one action per frame that respects every hard rule, and why.

>>> reasoner = Reasoner.from_file("configs/rules/traffic.rules")
>>> reasoner.decide([Fact("pedestrian", ("p1",)), Fact("in_crosswalk", ("p1",)),
...                  Fact("ahead", ("p1",)), Fact("dist", ("p1",), value=12.0)]).action
'stop'

How a frame is decided:

1. The rule file was compiled once (:mod:`symbolic.compiler.compiler`). The frame's
   facts are read as a :class:`~symbolic.compiler.worlds.FactWorld`; every rule is
   grounded over the frame's objects and what is certain is evaluated in
   Python. Instances whose condition is false vanish.
2. For each action, each remaining hard instance either holds, breaks
   (a why-not), or — in robust mode with uncertain facts — leaves a
   *residual* over the uncertain facts. An action with residuals is robustly
   safe when no completion of the uncertain facts that the file's constraints
   allow breaks any of them. Each residual is asked on its own ("can some
   allowed completion make it false?"); the instances that can break are the
   why-not, the uncertain facts they read are ``Decision.uncertain``. The
   answer for an instance whose head names only actions (``=> stop``) is the
   same for every action and asked once.
   A value known within a tolerance (``Fact(..., value=40.01, tolerance=0.1)``)
   is uncertain over its interval in the same way; a comparison the interval
   cannot change was decided while grounding.
3. Most of those questions are settled in Python: the residual is monotone in
   each uncertain fact, so one extreme completion (each atom on the side that
   breaks the rule, each number at the end of its range or interval that does)
   decides it (a number pulled both ways, as by ``x > 1 and x < 3``, is left to z3),
   evaluated exactly (rational arithmetic, as z3 reads numbers). The rest go
   to z3 (``¬residual ∧ ranges ∧ constraints`` satisfiable?).
4. Among the allowed actions the best score wins: ``prefer``/``avoid`` weights
   minus the weights of violated soft-rule instances (exact: every action is
   scored; a soft residual is read with each uncertain fact at its likely
   value). Ties go to the action listed first on the ``actions`` line and are
   reported in ``Decision.tied``.
5. No allowed action, or the time budget spent: the ``safe`` action, flagged
   as a fallback.

The time budget covers all of ``decide``: every loop that grows with the
frame (reading facts, repair, grounding each rule, nested quantifiers,
residuals, the conflict core, why-nots) checks a
:class:`~symbolic.compiler.deadline.Deadline` every few hundred items, and z3
gets the time left as its timeout. The action is decided first and explained
after, so a budget spent while explaining cuts the explanation short
(``Decision.cut_short``) and keeps the action.
"""
from __future__ import annotations

import gc
import math
import time
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import z3

from symbolic.compiler.compiler import CompiledRules, GroundInstance, compile_rules, exactly_one
from symbolic.compiler.deadline import CHUNK, BudgetExceeded, Deadline, in_chunks, sorted_in_time
from symbolic.compiler.intervals import z3_number
from symbolic.compiler.residual import Residual, is_residual
from symbolic.compiler.worlds import FactWorld, measured_text
from symbolic.language.loader import load_rules
from symbolic.language.ruleset import RuleSet
from symbolic.reasoning.decision import Decision, RuleInstance, WhyNot
from symbolic.reasoning.facts import Fact, FactBase
from symbolic.reasoning.repair import repair as repair_facts

#: how far past its time budget :meth:`Reasoner.decide` may return on an idle core, in milliseconds: the
#: work between two looks at the clock, one z3 call overrunning its timeout, and building the answer.
DEADLINE_SLACK_MS = 10.0
#: the share of the time budget kept for returning: work stops at ``(1 - DEADLINE_RESERVE) * budget``,
#: as freeing what a frame built (about a tenth of the time it took to build) comes after.
DEADLINE_RESERVE = 0.1


class Reasoner:
    """Decides one action per frame under a rule file and explains it.

    Args:
        ruleset: a checked :class:`~symbolic.language.ruleset.RuleSet`.
        robust: choose an action safe in every completion of the uncertain facts, and for
            every value within a measured value's ``tolerance``. Otherwise facts with
            confidence ≥ 0.5 are taken as true and values as measured.
        low, high: confidence ≤ ``low`` is false, ≥ ``high`` true, between uncertain
            (robust mode).
        time_budget_ms: per-frame bound on :meth:`decide`, everything included (reading
            the facts, repair, grounding, solving, the conflict core, why-nots). When it
            is spent before the action is known, the safe action is returned with
            ``status="timeout"`` and ``Decision.reason`` saying where the time went;
            when it is spent while explaining, the decision keeps its action and its
            explanation is cut short (``Decision.cut_short`` says what is missing).
            Work stops at 90% of the budget (:data:`DEADLINE_RESERVE` is kept for
            freeing what the frame built) and the call returns within the budget plus
            :data:`DEADLINE_SLACK_MS` on an idle core (every loop that grows with the
            frame checks the clock; z3 gets the time left as its timeout).
        repair: first repair the facts (most probable reading consistent with the
            ``constraint`` lines, see :func:`symbolic.reasoning.repair.repair`).
        shortcuts: build each frame's residuals in Python and settle there what
            monotonicity settles, asking z3 only the rest. ``False`` builds z3
            terms and asks z3 every question: the same decisions, many times
            slower (kept to check exactly that).

    Example:
        >>> from symbolic.language.loader import parse_rules
        >>> rules = parse_rules('''
        ...     pred pedestrian(o)  pred in_crosswalk(o)
        ...     actions stop, go
        ...     safe stop
        ...     rule crosswalk: exists p in pedestrian: in_crosswalk(p) => stop
        ...     prefer go weight 1''')
        >>> reasoner = Reasoner(rules)
        >>> reasoner.decide([Fact("pedestrian", ("p1",))]).action
        'go'
        >>> decision = reasoner.decide([Fact("pedestrian", ("p1",)), Fact("in_crosswalk", ("p1",))])
        >>> decision.action, decision.why_not["go"].text
        ('stop', 'go breaks crosswalk[p1] (<rules>:5) because pedestrian(p1), in_crosswalk(p1)')
    """

    def __init__(self, ruleset: RuleSet, *, robust: bool = True, low: float = 0.2, high: float = 0.8,
                 time_budget_ms: float = 20.0, repair: bool = False, shortcuts: bool = True):
        if not isinstance(ruleset, RuleSet):
            raise TypeError(f"`ruleset` must be a RuleSet (see load_rules). Received {type(ruleset).__name__}")
        for name, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"`{name}` must be a number in [0, 1]. Received: {name}={value!r}")
        if not low < high:
            raise ValueError(f"`low` must be below `high`. Received: low={low}, high={high}")
        if isinstance(time_budget_ms, bool) or not isinstance(time_budget_ms, (int, float)) \
                or not time_budget_ms > 0 or math.isnan(time_budget_ms):
            raise ValueError(f"`time_budget_ms` must be a positive number. Received: time_budget_ms={time_budget_ms!r}")
        if not ruleset.actions:
            raise ValueError(f"{ruleset.files[0] if ruleset.files else '<rules>'}: the rule file declares no "
                             "actions; add a line like 'actions stop, go'")
        self.ruleset = ruleset
        self.robust = robust
        self.low = low
        self.high = high
        self.time_budget_ms = time_budget_ms
        self.repair = repair
        self.shortcuts = shortcuts
        self.compiled_: CompiledRules = compile_rules(ruleset)
        self._solver = z3.Solver()
        self._warm_up()

    @classmethod
    def from_file(cls, path: str | Path, *, robust: bool = True, low: float = 0.2, high: float = 0.8,
                  time_budget_ms: float = 20.0, search_path: Iterable[str | Path] = (),
                  repair: bool = False, shortcuts: bool = True) -> "Reasoner":
        """Load a rule file (and its includes) and build a reasoner for it."""
        return cls(load_rules(path, search_path), robust=robust, low=low, high=high,
                   time_budget_ms=time_budget_ms, repair=repair, shortcuts=shortcuts)

    # -- public API
    def decide(self, facts: FactBase | Iterable[Fact], *, explain: bool = True) -> Decision:
        """Choose the action for one frame.

        Args:
            facts: the frame's facts (a FactBase or any iterable of Fact).
            explain: also say why each rejected action was rejected (``why_not``).

        Returns:
            A :class:`~symbolic.reasoning.decision.Decision`; never raises on a valid frame.

        The call returns within ``time_budget_ms`` plus :data:`DEADLINE_SLACK_MS` on an
        idle core. Python's cyclic garbage collector is paused while it runs (a full
        collection over a large heap takes longer than a whole budget; the frame's
        temporaries are freed by reference counting, and the collector catches up after).
        """
        start = time.perf_counter()
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._decide(facts, explain, start)
        finally:
            if collecting:
                gc.enable()

    def _decide(self, facts, explain: bool, start: float) -> Decision:
        deadline = Deadline.after_ms(self.time_budget_ms * (1 - DEADLINE_RESERVE), start=start)
        repaired: list[str] = []
        stage = "reading the facts"
        try:
            facts, objects = _as_facts(facts, deadline)
            if self.repair:
                stage = "repairing the facts"
                result = repair_facts(self.ruleset, facts, objects=objects, compiled=self.compiled_,
                                      timeout_ms=max(1, int(self.time_budget_ms)), deadline=deadline)
                if result.flipped:
                    facts = list(result.facts)
                    repaired = [f.atom for f in result.flipped]
                stage = "reading the facts"
            world = self._world(facts, objects, "python" if self.shortcuts else "z3", deadline)
            stage = "grounding the rules"
            self.compiled_.prepare(world)
            self.compiled_.choose(world, self.ruleset.safe_action)
            instances = list(self.compiled_.ground(world))
            grounded = time.perf_counter()
            stage = "deciding"
            frame = _Frame(self, world, instances, deadline, explain,
                           rebuild=lambda: self._world(facts, objects, "z3", deadline))
            try:
                decision = frame.run()
            finally:
                frame.close()
        except BudgetExceeded as error:
            where = f", in {error.where}" if error.where else ""
            return self._fallback("timeout", start, repaired, f"the time budget ran out while {stage}{where} "
                                                              f"(budget {self.time_budget_ms:g} ms)")
        except z3.Z3Exception as error:  # the solver gave up: stay safe rather than raise
            return self._fallback("fallback", start, repaired, f"the solver failed ({error})")
        decision.repaired = repaired
        decision.timings_ms = {"ground": (grounded - start) * 1000,
                               "total": (time.perf_counter() - start) * 1000}
        return decision

    def reads_false(self, confidence: float) -> bool:
        """Whether a fact of this confidence is read as false (≤ ``low`` when robust, < 0.5 otherwise).

        Example:
            >>> from symbolic.language.loader import parse_rules
            >>> reasoner = Reasoner(parse_rules("actions stop, go\\nsafe stop"), low=0.25)
            >>> reasoner.reads_false(0.25), reasoner.reads_false(0.3)
            (True, False)
        """
        return confidence <= self.low if self.robust else confidence < 0.5

    def allowed_actions(self, facts: FactBase | Iterable[Fact]) -> list[str]:
        """Actions that satisfy every hard rule, facts read as certain (confidence ≥ 0.5 is true).

        Example:
            >>> from symbolic.language.loader import parse_rules
            >>> reasoner = Reasoner(parse_rules("pred red\\nactions stop, go\\nrule r: red => stop"))
            >>> reasoner.allowed_actions([Fact("red")]), reasoner.allowed_actions([])
            (['stop'], ['stop', 'go'])
        """
        world, instances = self._likely_world(facts)
        return [a for a in self.ruleset.actions if not self._broken(world, instances, a)]

    def violations(self, facts: FactBase | Iterable[Fact], action: str) -> list[RuleInstance]:
        """Hard rule instances ``action`` breaks under ``facts`` read as certain (for "unsafe decision" counts).

        Example:
            >>> from symbolic.language.loader import parse_rules
            >>> reasoner = Reasoner(parse_rules("pred red\\nactions stop, go\\nrule r: red => stop"))
            >>> [v.name for v in reasoner.violations([Fact("red")], "go")]
            ['r']
        """
        if action not in self.ruleset.actions:
            raise ValueError(f"unknown action {action!r}; the rule file's actions are "
                             f"{', '.join(self.ruleset.actions)}")
        world, instances = self._likely_world(facts)
        return [_rule_instance(i) for i in self._broken(world, instances, action)]

    # -- helpers
    def _world(self, facts: list[Fact], objects: dict, terms: str, deadline: Deadline | None) -> FactWorld:
        return FactWorld(self.ruleset, facts, objects, low=self.low, high=self.high,
                         reading="robust" if self.robust else "likely", signatures=self.compiled_.signatures,
                         terms=terms, deadline=deadline)

    def _warm_up(self) -> None:
        """Solve one small robust query now, so the first frame does not pay z3's start-up cost."""
        solver = self._solver
        solver.push()
        try:
            solver.set("timeout", 1000)
            probe, value = z3.Bool("warm up"), z3.Real("warm up value")
            solver.add(z3.Or(z3.Not(z3.Implies(probe, value < 1)), value > 2))
            solver.check()
            solver.model()
        finally:
            solver.pop()

    def _likely_world(self, facts):
        facts, objects = _as_facts(facts)
        world = FactWorld(self.ruleset, facts, objects, reading="likely", signatures=self.compiled_.signatures)
        self.compiled_.choose(world, self.ruleset.safe_action)
        return world, [i for i in self.compiled_.ground(world) if i.rule.kind == "hard"]

    def _broken(self, world, instances, action) -> list[GroundInstance]:
        self.compiled_.choose(world, action)
        return [i for i in instances if i.holds(world) is False]

    def _fallback(self, status: str, start: float, repaired: list[str], reason: str) -> Decision:
        safe = self.ruleset.safe_action
        why = {a: WhyNot(a, text=f"{a} was not considered: {reason}; the safe action {safe} was returned")
               for a in self.ruleset.actions if a != safe}
        return Decision(safe, why_not=why, status=status, fallback=True, repaired=repaired, reason=reason,
                        timings_ms={"total": (time.perf_counter() - start) * 1000})


def _as_facts(facts, deadline: Deadline | None = None) -> tuple[list[Fact], dict]:
    if isinstance(facts, FactBase):
        return list(facts), dict(facts.objects)
    if isinstance(facts, Fact):
        raise TypeError("`facts` must be a FactBase or an iterable of Fact. Received a single Fact; wrap it in a list")
    facts = list(facts)
    for chunk in in_chunks(facts, deadline):
        for fact in chunk:
            if not isinstance(fact, Fact):
                raise TypeError(f"`facts` must hold Fact objects. Received {type(fact).__name__}: {fact!r}")
    return facts, {}


def _rule_instance(instance: GroundInstance) -> RuleInstance:
    return RuleInstance(instance.rule.name, tuple(instance.bindings), instance.rule.source)


class _Frame:
    """The work of one ``decide`` call (kept apart so the Reasoner holds only lasting state).

    ``rebuild`` makes the frame's world again with z3 terms, for the rare
    question only z3 answers with a world of Python residuals (the unsat core
    of a conflict).

    :meth:`run` decides first (each rejected action needs one instance it
    breaks), then explains (every instance each rejected action breaks, the
    facts behind them, the conflict core); a deadline passed while explaining
    cuts the explanation short and keeps the decision.
    """

    def __init__(self, reasoner: Reasoner, world: FactWorld, instances: list[GroundInstance], deadline: Deadline,
                 explain: bool, rebuild):
        self.reasoner = reasoner
        self.rules = reasoner.ruleset
        self.compiled = reasoner.compiled_
        self.world = world
        self.hard = [i for chunk in in_chunks(instances, deadline) for i in chunk if i.rule.kind == "hard"]
        self.soft = [i for chunk in in_chunks(instances, deadline) for i in chunk if i.rule.kind == "soft"]
        self.deadline = deadline
        self.explain = explain
        self.rebuild = rebuild
        self.broken: dict[str, list[GroundInstance]] = {}
        self.counterexample: dict[str, tuple[list[GroundInstance], list[str]]] = {}
        self.unexplained: dict[str, tuple[list, int]] = {}  # action -> (its residuals, the first not yet asked)
        self.scores: dict[str, float] = {}
        self.soft_broken: dict[str, list[GroundInstance]] = {}
        self.fired: dict[int, GroundInstance] = {}
        self.can_break: dict = {}  # instance (and action) -> whether an allowed completion breaks it
        self._constraints: _Constraints | None = None
        self._likely: _Likely | None = None
        self._z3_terms: dict = {}  # residual id -> its z3 term
        self._facts: dict = {}  # instance id -> the facts that make it fire
        self._frame_pushed = False
        self._bounded = 0  # variables (or z3 side conditions) whose range the solver has

    def run(self) -> Decision:
        allowed = []
        for action in self.rules.actions:
            if self.check(action):
                allowed.append(action)
            self.score(action)
        uncertain = sorted({atom for _, atoms in self.counterexample.values() for atom in atoms})
        if not allowed:
            decision = Decision(self.rules.safe_action, status="fallback", fallback=True, uncertain=uncertain,
                                reason="no action was provably safe")
            self.explain_into(decision, None)
            return decision
        best = max(self.scores[a] for a in allowed)
        winners = [a for a in allowed if abs(self.scores[a] - best) <= 1e-9]
        action = winners[0]
        status = "robust" if self.reasoner.robust else "optimal"
        decision = Decision(action, status=status, tied=winners[1:], uncertain=uncertain)
        self.explain_into(decision, action)
        return decision

    def explain_into(self, decision: Decision, chosen: str | None) -> None:
        """Fill in the rules that fired, the conflict core (no ``chosen`` action) and the why-nots, in the
        time left; what the deadline leaves out is said in ``decision.cut_short``."""
        others = [a for a in self.rules.actions if a != chosen]
        missing = ["the rules that fired"] + (["the conflicting rules"] if chosen is None else []) \
            + (["the why-nots"] if self.explain else [])
        stage = "listing the rules that fired"
        try:
            decision.fired = self.fired_instances()
            del missing[0]
            if chosen is None:
                stage = "looking for the conflicting rules"
                decision.conflict = [_rule_instance(i) for i in self.conflict()]
                del missing[0]
            if self.explain:
                stage = "explaining why not the other actions"
                for action in others:
                    decision.why_not[action] = self.why_not(action, chosen)
        except (BudgetExceeded, z3.Z3Exception) as error:
            missing = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
            why = f"the time budget ran out while {stage} (budget {self.reasoner.time_budget_ms:g} ms)" \
                if isinstance(error, BudgetExceeded) else f"the solver failed while {stage} ({error})"
            decision.cut_short = f"{why}: {missing} may be incomplete"
            if self.explain:
                for action in others:
                    if action not in decision.why_not:
                        decision.why_not[action] = self.why_not(action, chosen, brief=True)

    def fired_instances(self) -> list[RuleInstance]:
        """The instances whose condition held, in rule-file order then by binding."""
        position = self.compiled.position
        keyed = []
        for chunk in in_chunks(list(self.fired.values()), self.deadline):
            keyed += [(position[id(i.rule)], i.bindings, i) for i in chunk]
        ordered = sorted_in_time(keyed, self.deadline, key=_first_two)
        return [_rule_instance(i) for chunk in in_chunks(ordered, self.deadline) for _, _, i in chunk]

    def _order(self, instance):
        return (self.compiled.position[id(instance.rule)], instance.bindings)

    # -- hard rules
    def check(self, action: str) -> bool:
        world = self.compiled.choose(self.world, action)
        broken, residual = [], []
        for chunk in in_chunks(self.hard, self.deadline):
            for instance in chunk:
                value = instance.holds(world)
                if value is True:
                    continue
                self.fired[id(instance)] = instance
                if value is False:
                    broken.append(instance)
                else:
                    residual.append((instance, value))
        self.broken[action] = broken
        if broken:
            return False
        if not residual:
            return True
        return self.prove(action, residual)

    def prove(self, action: str, residual) -> bool:
        """Do the residuals hold in every completion of the uncertain facts that the constraints allow?

        Otherwise the first instance that some allowed completion breaks becomes the
        action's why-not (:meth:`complete` finds the others when explaining).
        """
        index = self.first_breaking(action, residual)
        if index is None:
            return True
        atoms = sorted({atom for chunk in in_chunks(residual, self.deadline)
                        for _, value in chunk for atom in _variables(value, self.deadline)})
        self.counterexample[action] = ([residual[index][0]], atoms)
        self.broken[action] = self.counterexample[action][0]
        self.unexplained[action] = (residual, index + 1)
        return False

    def first_breaking(self, action: str, residual, start: int = 0) -> int | None:
        """The index of the first of ``residual[start:]`` that some allowed completion breaks, or None."""
        index = start
        for chunk in in_chunks(residual[start:] if start else residual, self.deadline):
            for instance, value in chunk:
                if self.breakable(instance, value, action):
                    return index
                index += 1
        return None

    def complete(self, action: str) -> None:
        """Add to the action's why-not every other instance that some allowed completion breaks."""
        residual, start = self.unexplained.pop(action)
        breaking = self.broken[action]
        while (index := self.first_breaking(action, residual, start)) is not None:
            breaking.append(residual[index][0])
            start = index + 1

    def breakable(self, instance: GroundInstance, value, action: str) -> bool:
        """Does some completion of the uncertain facts that the constraints allow make ``value`` false?

        With a head that names only actions the residual is ``not condition``
        whatever the action, so the answer is kept per instance.
        """
        key = id(instance) if instance.rule.head_by_action is not None else (id(instance), action)
        found = self.can_break.get(key)
        if found is None:
            if self.reasoner.shortcuts:
                found = self.settle(value)
            if found is None:
                found = self.ask_z3(value)
            self.can_break[key] = found
        return found

    def settle(self, value: Residual) -> bool | None:
        """``breakable`` decided in Python, or None when monotonicity does not decide it.

        The completion that pushes every uncertain fact toward breaking
        ``value`` (:meth:`Residual.extreme`; the other facts as the
        constraints' base sets them) breaks it if any completion does. If it
        breaks it, the answer is yes once some completion that breaks it keeps
        every constraint: that one, or the one that keeps only the facts
        breaking ``value`` needs. Otherwise z3 decides.
        """
        deadline = self.deadline
        extreme = value.extreme(False, deadline)
        if extreme is None:
            return None
        constraints = self.constraints()
        try:
            completion = constraints.completion(extreme)
            if value.evaluate(completion, deadline):
                return False  # holds even in its worst completion
            if constraints.hold(completion, extreme):
                return True
            needed = _needed(value, extreme, constraints, deadline)
            return True if len(needed) < len(extreme) and constraints.hold(constraints.completion(needed), needed) \
                else None
        except ZeroDivisionError:
            return None

    def constraints(self) -> "_Constraints":
        if self._constraints is None:
            self._constraints = _Constraints(
                [v for v in self.compiled.ground_constraints(self.world) if is_residual(v)], self.world.variables,
                self.deadline)
        return self._constraints

    def ask_z3(self, value) -> bool:
        """``breakable`` asked of z3: is ``¬value ∧ ranges ∧ constraints`` satisfiable?"""
        deadline = self.deadline
        deadline.check()
        solver = self.reasoner._solver
        if not self._frame_pushed:
            solver.push()  # the frame's level: ranges of unknown values and the constraints
            self._frame_pushed = True
            for chunk in in_chunks(self.constraints().residuals, deadline):
                solver.add(*[self.as_z3(c) for c in chunk])
        solver.add(*self.side_conditions())  # values first read since the last question get their range
        solver.push()
        try:
            negation = z3.Not(self.as_z3(value))
            solver.set("timeout", deadline.timeout_ms())
            solver.add(negation)
            result = solver.check()
            if result == z3.unknown:
                reason = solver.reason_unknown()
                if deadline.passed() or "timeout" in reason or "cancel" in reason:
                    raise BudgetExceeded("z3")
                raise z3.Z3Exception(f"z3 could not decide a residual: {reason}")
            return result == z3.sat
        finally:
            solver.pop()

    def as_z3(self, value):
        return value.to_z3(self._z3_terms, self.deadline) if isinstance(value, Residual) else value

    def side_conditions(self) -> list:
        """z3: each uncertain number lies in its declared range or tolerance (those not given to the
        solver yet: a value known within a tolerance becomes a variable when a rule first reads it)."""
        done = self._bounded
        if not self.reasoner.shortcuts:
            self._bounded = len(self.world.side_conditions)
            return self.world.side_conditions[done:]
        variables = list(self.world.variables.values())[done:]
        found = []
        for chunk in in_chunks(variables, self.deadline):
            for variable in chunk:
                if variable.op == "quantity" and variable.args[1] is not None:
                    term = self.as_z3(variable)
                    found += [term >= z3_number(variable.args[1]), term <= z3_number(variable.args[2])]
        self._bounded = done + len(variables)
        return found

    def close(self) -> None:
        """Drop the frame's level from the reasoner's solver."""
        if self._frame_pushed:
            self.reasoner._solver.pop()
            self._frame_pushed = False
            self._bounded = 0

    def conflict(self) -> list[GroundInstance]:
        """The hard instances that together leave no action: a minimal unsat core, each instance
        tracked by a literal named like ``red_light[o3]``."""
        world, hard = self.world, self.hard
        deadline = self.deadline
        if self.reasoner.shortcuts:  # the core needs z3 terms: ground the frame again over them
            world = self.compiled.prepare(self.rebuild())
            self.compiled.choose(world, self.rules.safe_action)
            hard = [i for i in self.compiled.ground(world) if i.rule.kind == "hard"]
        actions = {a: z3.Bool(f"action {a}") for a in self.rules.actions}
        world.actions, world.chosen = actions, None
        solver = self.reasoner._solver
        solver.push()
        try:
            solver.set("core.minimize", True)
            solver.add(exactly_one(actions.values()), *world.side_conditions)
            tracked = {}
            for chunk in in_chunks(hard, deadline):
                for instance in chunk:
                    value = instance.holds(world)
                    if value is True:
                        continue
                    literal = z3.Bool(instance.name)
                    tracked[str(literal)] = instance
                    solver.add(z3.Implies(literal, value if is_residual(value) else z3.BoolVal(value)))
            solver.set("timeout", deadline.timeout_ms())
            result = solver.check(*[z3.Bool(name) for name in tracked])
            if result == z3.unknown and deadline.passed():
                raise BudgetExceeded("the conflict core")
            if result != z3.unsat:
                return []  # some reading of the uncertain facts leaves an action
            return sorted((tracked[str(c)] for c in solver.unsat_core()), key=self._order)
        except z3.Z3Exception:
            return []
        finally:
            solver.pop()
            self.compiled.choose(world, self.rules.safe_action)

    # -- soft rules and preferences
    def score(self, action: str) -> None:
        world = self.compiled.choose(self.world, action)
        broken = []
        for chunk in in_chunks(self.soft, self.deadline):
            for instance in chunk:
                value = instance.holds(world)
                if value is True:
                    continue
                self.fired[id(instance)] = instance
                if is_residual(value):
                    value = self.likely(value)
                if value is False:
                    broken.append(instance)
        self.soft_broken[action] = broken
        self.scores[action] = self.rules.preferences.get(action, 0.0) - sum(i.rule.weight for i in broken)

    def likely(self, value) -> bool:
        """A residual read with uncertain facts at their more likely value (for scoring only)."""
        if isinstance(value, Residual):
            if self._likely is None:
                self._likely = _Likely(self.world.uncertain)
            try:
                return bool(value.evaluate(self._likely, self.deadline))
            except ZeroDivisionError:  # z3 leaves x / 0 unspecified: let it read the term
                value = self.as_z3(value)
        pairs = []
        for text, fact in self.world.uncertain.items():
            if fact.value is None:
                pairs.append((z3.Bool(text), z3.BoolVal(fact.confidence >= 0.5)))
            else:  # an uncertain value is read as measured
                pairs.append((z3.Real(text), z3.RealVal(fact.value)))
        return z3.is_true(z3.simplify(z3.substitute(value, *pairs))) if pairs else False

    # -- explanations
    def facts_of(self, instance: GroundInstance) -> list[str]:
        """The facts that make ``instance`` fire (its head's too, unless it names only actions: then
        they are the same for every action and kept)."""
        if instance.rule.head_by_action is None:
            return self.trace(instance)
        found = self._facts.get(id(instance))
        if found is None:
            found = self._facts[id(instance)] = self.trace(instance)
        return found

    def trace(self, instance: GroundInstance) -> list[str]:
        world = self.world
        world.trace = [f"{label}({obj})" for (_, label), obj in zip(instance.rule.bindings, instance.bindings)
                       if label is not None]
        try:
            if instance.rule.trace_condition is not None:
                instance.rule.trace_condition(world, instance.bindings)
            if instance.rule.head_by_action is None:
                instance.rule.trace_head(world, instance.bindings)
            return list(dict.fromkeys(world.trace))
        finally:
            world.trace = None

    def why_not(self, action: str, chosen: str | None, brief: bool = False) -> WhyNot:
        """Why ``action`` was not chosen. ``brief``: without more work (the deadline has passed): the
        instances already found, without the facts behind them, at most :data:`_BRIEF` of them named."""
        if brief:
            return self.brief_why_not(action, chosen)
        if action in self.unexplained:
            self.complete(action)
        broken = self.broken.get(action, [])
        if broken:
            facts = []
            parts = []
            self.compiled.choose(self.world, action)
            for chunk in in_chunks(broken, self.deadline):
                for instance in chunk:
                    found = self.facts_of(instance)
                    facts.extend(found)
                    because = f" because {', '.join(found)}" if found else ""
                    parts.append(f"{instance.name} ({instance.rule.source}){because}")
            if action in self.counterexample:
                atoms = self.counterexample[action][1]
                intervals = self.world.intervals
                named = ", ".join(measured_text(intervals[a]) if a in intervals else a for a in atoms)
                if all(a in intervals for a in atoms):  # only measurement error stands between it and the rule
                    text = f"{action} is not safe for every value within the tolerance of {named}: it could break "
                else:
                    text = f"{action} is not safe in every reading of the uncertain facts {named}: it could break "
                text += "; ".join(parts)
            else:
                text = f"{action} breaks " + "; ".join(parts)
            return WhyNot(action, [_rule_instance(i) for i in broken], list(dict.fromkeys(facts)), text)
        if chosen is None:
            return WhyNot(action, text=f"{action}: no action was provably safe")
        soft = self.soft_broken.get(action, [])
        gap = self.scores[chosen] - self.scores[action]
        if gap <= 1e-9:
            text = (f"{action} ties with {chosen} (score {self.scores[action]:g}); "
                    f"{chosen} comes first on the actions line")
        else:
            text = f"{action} is allowed but scores {self.scores[action]:g} against {self.scores[chosen]:g} for {chosen}"
            if soft:
                text += "; it breaks the soft rules " + ", ".join(f"{i.name} (weight {i.rule.weight:g})" for i in soft)
        return WhyNot(action, [_rule_instance(i) for i in soft], [], text)

    def brief_why_not(self, action: str, chosen: str | None) -> WhyNot:
        broken = self.broken.get(action, [])
        if broken:
            named = "; ".join(f"{i.name} ({i.rule.source})" for i in broken[:_BRIEF])
            more = f" and {len(broken) - _BRIEF} more found" if len(broken) > _BRIEF else ""
            return WhyNot(action, [_rule_instance(i) for i in broken[:_BRIEF]], [],
                          f"{action} breaks {named}{more} (cut short: the time budget ran out before "
                          "every instance and the facts behind them were found)")
        return self.why_not(action, chosen)  # an allowed action's why-not is its score: nothing to look for


#: how many rule instances a why-not cut short by the deadline names.
_BRIEF = 3


def _first_two(item):
    return item[0], item[1]


def _variables(term, deadline: Deadline | None = None) -> frozenset:
    """The texts of the uncertain facts a residual (a :class:`Residual` or a z3 term) reads."""
    if isinstance(term, Residual):
        return term.variables(deadline)
    found, stack, seen = set(), [term], set()
    while stack:
        if deadline is not None and len(seen) % CHUNK == 0:
            deadline.check()
        node = stack.pop()
        if node.get_id() in seen:
            continue
        seen.add(node.get_id())
        if z3.is_const(node) and node.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            found.add(node.decl().name())
        stack.extend(node.children())
    return frozenset(found)


class _Completion(dict):
    """A completion of the uncertain facts: the given values, then those of ``base`` (read, not
    copied: a completion costs the size of ``given``), every other atom false and every other
    number at the low end of its range (0 without one)."""

    def __init__(self, given: dict, variables: dict, base: dict | None = None):
        super().__init__(given)
        self.variables = variables
        self.base = base or {}

    def __missing__(self, text):
        found = self.base.get(text)
        if found is not None:
            return found
        variable = self.variables[text]
        if variable.op == "atom":
            return False
        low = variable.args[1]
        return 0 if low is None else low


class _Likely(dict):
    """The likely reading of the uncertain facts: an atom is true at confidence ≥ 0.5, a number is
    as measured (read as z3 reads it)."""

    def __init__(self, uncertain: dict):
        super().__init__()
        self.uncertain = uncertain

    def __missing__(self, text):
        fact = self.uncertain[text]
        value = self[text] = fact.confidence >= 0.5 if fact.value is None else Fraction(str(fact.value))
        return value


class _Constraints:
    """The frame's constraint instances left undecided by uncertain facts, and a completion that keeps them.

    ``base`` sets the facts that keep every constraint (``light(o19, red)``
    certain leaves ``traffic_light(o19)`` to be true), found as for a witness:
    each constraint broken at the defaults is pushed to hold by monotonicity.
    A completion built on ``base`` needs only the constraints that read the
    facts it changes evaluated again.
    """

    def __init__(self, residuals: list, variables: dict, deadline: Deadline | None = None):
        self.residuals = residuals  # Residual or z3 terms
        self.variables = variables
        self.deadline = deadline
        self._reading: dict[str, list[int]] | None = None
        self.base: dict = {}
        self._broken_at_base: set[int] = set()

    def completion(self, given: dict) -> _Completion:
        """``given`` on top of ``base``, every other fact at its default."""
        if self._reading is None:
            self._index()
        return _Completion(given, self.variables, self.base)

    def hold(self, completion: _Completion, changed) -> bool:
        """Whether every constraint holds in ``completion``, which differs from ``base`` in ``changed``.

        Raises:
            ZeroDivisionError: a constraint divides by zero there.
        """
        touched = {index for text in changed for index in self._reading.get(text, ())}
        if not self._broken_at_base <= touched:
            return False
        deadline = self.deadline
        return all(self.residuals[index].evaluate(completion, deadline) for index in touched)

    def _index(self) -> None:
        deadline = self.deadline
        self._reading = {}
        indexed = list(enumerate(self.residuals))
        for chunk in in_chunks(indexed, deadline):
            for index, residual in chunk:
                for text in residual.variables(deadline):
                    self._reading.setdefault(text, []).append(index)
        for chunk in in_chunks(self.residuals, deadline):
            for residual in chunk:
                if _holds(residual, _Completion(self.base, self.variables), deadline) is not True:
                    pushed = residual.extreme(True, deadline)
                    if pushed is not None and all(self.base.get(text, value) == value
                                                  for text, value in pushed.items()):
                        self.base.update(pushed)
        at_base = _Completion(self.base, self.variables)
        self._broken_at_base = {index for chunk in in_chunks(indexed, deadline) for index, residual in chunk
                                if _holds(residual, at_base, deadline) is not True}


def _needed(value: Residual, extreme: dict, constraints: _Constraints, deadline: Deadline | None = None) -> dict:
    """The part of ``extreme`` that breaking ``value`` needs: each fact whose return to the constraints'
    base still leaves ``value`` false is returned (``car(o8) or truck(o8)`` needs one of them, and
    an object has one class)."""
    needed = dict(extreme)
    for text in extreme:
        trial = {name: setting for name, setting in needed.items() if name != text}
        if not value.evaluate(constraints.completion(trial), deadline):
            needed = trial
    return needed


def _holds(residual: Residual, completion: _Completion, deadline: Deadline | None = None) -> bool | None:
    """The residual's truth in ``completion``; None where it divides by zero."""
    try:
        return bool(residual.evaluate(completion, deadline))
    except ZeroDivisionError:
        return None
