"""Decision: what the reasoner returns for one frame.

Plain data, JSON-ready through :meth:`Decision.to_json`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class RuleInstance:
    """One ground instance of a rule, e.g. ``red_light[o3]`` from traffic.rules:12.

    Example:
        >>> RuleInstance("red_light", ("o3",), "traffic.rules:12").name
        'red_light[o3]'
    """

    rule: str
    bindings: tuple[str, ...] = ()
    source: str = ""

    @property
    def name(self) -> str:
        return f"{self.rule}[{', '.join(self.bindings)}]" if self.bindings else self.rule


@dataclass
class WhyNot:
    """Why one action was rejected: the rule instances and facts that forbid it.

    ``text`` says it in words; ``rules`` and ``facts`` hold it as data (facts as
    atom strings such as ``"light(o3, red)"``). ``str()`` is the sentence the
    report shows: ``text``, else the rules' names.

    Example:
        >>> print(WhyNot("go", [RuleInstance("red_light", ("o3",))], text="go breaks red_light[o3]"))
        go breaks red_light[o3]
        >>> print(WhyNot("go", [RuleInstance("red_light", ("o3",))]))
        red_light[o3]
    """

    action: str
    rules: list[RuleInstance] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    text: str = ""

    def __str__(self) -> str:
        return self.text or ", ".join(rule.name for rule in self.rules) or f"{self.action} was rejected"


@dataclass
class Decision:
    """The chosen action of one frame and why.

    Attributes:
        action: the chosen action.
        fired: rule instances whose conditions held.
        why_not: rejected action -> the reason it was rejected.
        status: ``"optimal"``, ``"robust"``, ``"fallback"`` or ``"timeout"``.
        fallback: True when the declared safe action was returned because no
            action was provably safe or the time budget ran out.
        tied: actions that scored equally with ``action`` (tie broken by the
            order in the rule file's ``actions`` line).
        uncertain: uncertain facts that changed what was safe (atom strings).
        repaired: facts flipped by repair before deciding (atom strings).
        timings_ms: stage -> milliseconds.
        conflict: when no action was allowed, a minimal set of hard rule instances
            that together leave no action (from a z3 unsat core).
        reason: why the safe action was returned as a fallback, in words (``""`` otherwise):
            ``"no action was provably safe"`` or where the time budget ran out, as
            ``"the time budget ran out while grounding the rules, in rule r (a.rules:4) (budget 50 ms)"``.
        cut_short: ``""`` when the explanation is complete; otherwise what the time budget
            cut short (the rules that fired, the conflict, or some why-nots), in words.
            The action is decided before it is explained, so a cut-short explanation
            never changes the action.

    Example:
        >>> d = Decision("stop", fired=[RuleInstance("red_light", ("o3",))])
        >>> d.to_json()["fired"]
        [{'rule': 'red_light', 'bindings': ['o3'], 'source': ''}]
    """

    action: str
    fired: list[RuleInstance] = field(default_factory=list)
    why_not: dict[str, WhyNot] = field(default_factory=dict)
    status: str = "optimal"
    fallback: bool = False
    tied: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    conflict: list[RuleInstance] = field(default_factory=list)
    reason: str = ""
    cut_short: str = ""

    def to_json(self) -> dict:
        data = asdict(self)
        data["fired"] = [_instance_json(r) for r in self.fired]
        data["conflict"] = [_instance_json(r) for r in self.conflict]
        data["why_not"] = {
            action: {"rules": [_instance_json(r) for r in w.rules], "facts": list(w.facts), "text": w.text}
            for action, w in self.why_not.items()
        }
        return data


def _instance_json(instance: RuleInstance) -> dict:
    return {"rule": instance.rule, "bindings": list(instance.bindings), "source": instance.source}
