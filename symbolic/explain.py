"""Decisions in words: the text ``nesy rules explain`` prints."""
from __future__ import annotations

from symbolic.decision import Decision


def format_decision(decision: Decision) -> str:
    """A decision as readable text: the action, the rules that fired, why not each other action.

    Args:
        decision: what :meth:`symbolic.reasoner.Reasoner.decide` returned.

    Returns:
        Lines of text (no trailing newline).

    Example:
        >>> from symbolic.decision import RuleInstance, WhyNot
        >>> d = Decision("stop", fired=[RuleInstance("red_light", ("o3",), "traffic.rules:24")],
        ...              why_not={"go": WhyNot("go", text="go breaks red_light[o3]")})
        >>> print(format_decision(d))
        action: stop (optimal)
        fired:
          red_light[o3]  traffic.rules:24
        why not:
          go: go breaks red_light[o3]
    """
    timing = decision.timings_ms.get("total")
    status = decision.status + (f", {timing:.2f} ms" if timing is not None else "")
    lines = [f"action: {decision.action} ({status})"]
    if decision.fallback:
        lines.append("fallback: the safe action, because no action was provably safe"
                     if decision.status != "timeout" else "fallback: the safe action, because the time budget ran out")
    if decision.tied:
        lines.append(f"tied with: {', '.join(decision.tied)} (the first on the actions line wins)")
    if decision.uncertain:
        lines.append(f"uncertain facts that mattered: {', '.join(decision.uncertain)}")
    if decision.repaired:
        lines.append(f"repaired (flipped) facts: {', '.join(decision.repaired)}")
    lines.append("fired:" if decision.fired else "fired: none")
    width = max((len(r.name) for r in decision.fired), default=0)
    lines += [f"  {r.name.ljust(width)}  {r.source}" for r in decision.fired]
    if decision.why_not:
        lines.append("why not:")
        lines += [f"  {action}: {why.text}" for action, why in decision.why_not.items()]
    return "\n".join(lines)
