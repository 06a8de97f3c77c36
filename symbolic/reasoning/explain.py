"""Decisions in words: the text ``nesy rules explain`` prints."""
from __future__ import annotations

from html import escape

from symbolic.reasoning.decision import Decision


def format_decision(decision: Decision) -> str:
    """A decision as readable text: the action, the rules that fired, why not each other action.

    Args:
        decision: what :meth:`symbolic.reasoning.reasoner.Reasoner.decide` returned.

    Returns:
        Lines of text (no trailing newline).

    Example:
        >>> from symbolic.reasoning.decision import RuleInstance, WhyNot
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
        lines.append(f"fallback: the safe action, because {_fallback_reason(decision)}")
    if decision.cut_short:
        lines.append(f"explanation cut short: {decision.cut_short}")
    if decision.conflict:
        lines.append("no action satisfies these together: " +
                     ", ".join(f"{r.name} ({r.source})" for r in decision.conflict))
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


def decision_to_html(decision: Decision, title: str = "Decision") -> str:
    """A decision as a small self-contained HTML page: the action, fired rules, and a why-not table.

    Args:
        decision: what :meth:`symbolic.reasoning.reasoner.Reasoner.decide` returned.
        title: the page title.

    Returns:
        The HTML text.

    Example:
        >>> from symbolic.reasoning.decision import WhyNot
        >>> page = decision_to_html(Decision("stop", why_not={"go": WhyNot("go", text="go breaks <r>")}))
        >>> "<h1>stop</h1>" in page, "go breaks &lt;r&gt;" in page
        (True, True)
    """
    def row(*cells, header=False):
        tag = "th" if header else "td"
        return "<tr>" + "".join(f"<{tag}>{escape(str(c))}</{tag}>" for c in cells) + "</tr>"

    notes = []
    if decision.fallback:
        notes.append(f"fallback: the safe action ({_fallback_reason(decision)})")
    if decision.cut_short:
        notes.append(f"explanation cut short: {decision.cut_short}")
    if decision.conflict:
        notes.append("no action satisfies these together: " + ", ".join(r.name for r in decision.conflict))
    if decision.tied:
        notes.append(f"tied with {', '.join(decision.tied)}; the first on the actions line wins")
    if decision.uncertain:
        notes.append(f"uncertain facts that mattered: {', '.join(decision.uncertain)}")
    if decision.repaired:
        notes.append(f"repaired (flipped) facts: {', '.join(decision.repaired)}")
    fired = "".join(row(r.name, r.source) for r in decision.fired) or row("none", "")
    why = "".join(row(action, ", ".join(r.name for r in w.rules), ", ".join(w.facts), w.text)
                  for action, w in decision.why_not.items())
    timing = decision.timings_ms.get("total")
    status = decision.status + (f", {timing:.2f} ms" if timing is not None else "")
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}} h1{{margin-bottom:0}}
table{{border-collapse:collapse;margin:1em 0}} td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left;
vertical-align:top}} th{{background:#f0f0f0}} .status{{color:#555}} .note{{color:#a40}}</style></head>
<body><h1>{escape(decision.action)}</h1><p class="status">{escape(status)}</p>
{"".join(f'<p class="note">{escape(n)}</p>' for n in notes)}
<h2>Rules that fired</h2><table>{row("instance", "source", header=True)}{fired}</table>
<h2>Why not the other actions</h2><table>{row("action", "rule instances", "facts", "reason", header=True)}{why}</table>
</body></html>
"""


def _fallback_reason(decision: Decision) -> str:
    if decision.reason:
        return decision.reason
    return "the time budget ran out" if decision.status == "timeout" else "no action was provably safe"
