"""What a rule-file check found: :class:`Finding` and :class:`VerificationReport`.

Plain data, JSON-ready, plus the human-readable text ``nesy rules check``
prints (grouped by severity, each rule with its ``file:line``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from symbolic.verify.scene import ConcreteScene

#: severities, the most serious first.
SEVERITIES = ("error", "warning", "note")

#: kinds of finding and their titles in the text report.
KINDS = {
    "dead_end": "dead end",
    "conflict": "conflict",
    "dead_rule": "dead rule",
    "redundant_rule": "redundant rule",
    "ambiguity": "ambiguity",
    "grounding_growth": "grounding growth",
    "incomplete": "incomplete check",
}


@dataclass(frozen=True)
class RuleRef:
    """A rule (or rule instance) named in a finding, with where it is written.

    Example:
        >>> RuleRef("red_light[x1]", "traffic.rules:22", "hard").to_json()
        {'name': 'red_light[x1]', 'source': 'traffic.rules:22', 'kind': 'hard'}
    """

    name: str
    source: str
    kind: str = "hard"

    def to_json(self) -> dict:
        return {"name": self.name, "source": self.source, "kind": self.kind}


@dataclass
class Finding:
    """One problem of a rule file.

    Attributes:
        kind: one of :data:`KINDS` (``"dead_end"``, ``"conflict"``, ...).
        severity: ``"error"``, ``"warning"`` or ``"note"`` (worth a look; does not fail the check).
        message: one sentence saying what is wrong.
        rules: the rules involved (for a dead end: a minimal conflicting set of instances).
        scene: an example scene (a counterexample) or ``None`` when there is none to show.
        actions: actions the finding is about (e.g. the tied actions of an ambiguity).
        reproduced: whether the reasoner, fed ``scene`` as facts, shows the same problem
            (``None`` when there is no scene).

    Example:
        >>> finding = Finding("dead_rule", "warning", "rule r can never fire", [RuleRef("r", "a.rules:3")])
        >>> finding.to_json()["rules"][0]["source"]
        'a.rules:3'
    """

    kind: str
    severity: str
    message: str
    rules: list[RuleRef] = field(default_factory=list)
    scene: ConcreteScene | None = None
    actions: list[str] = field(default_factory=list)
    reproduced: bool | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "severity": self.severity, "message": self.message,
                "rules": [r.to_json() for r in self.rules], "actions": list(self.actions),
                "scene": None if self.scene is None else self.scene.to_json(),
                "reproduced": self.reproduced}


@dataclass
class VerificationReport:
    """Everything a check of one rule file found.

    Attributes:
        file: the rule file checked.
        num_objects: K, the most objects per scene considered.
        findings: the findings, errors first, then in file order.
        num_rules: how many rules the file has.
        seconds: how long the check took.

    Example:
        >>> report = VerificationReport("a.rules", 3, [], num_rules=2)
        >>> report.ok, report.exit_code
        (True, 0)
        >>> print(report.format())
        a.rules: no problems in any scene of up to 3 objects (2 rules checked)
    """

    file: str
    num_objects: int
    findings: list[Finding] = field(default_factory=list)
    num_rules: int = 0
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "note"]

    @property
    def ok(self) -> bool:
        """No errors and no warnings (notes do not fail a check)."""
        return not self.errors and not self.warnings

    @property
    def exit_code(self) -> int:
        """0 when clean, 1 when something was found (what ``nesy rules check`` returns)."""
        return 0 if self.ok else 1

    def of_kind(self, kind: str) -> list[Finding]:
        """The findings of one kind, e.g. ``report.of_kind("dead_rule")``."""
        return [f for f in self.findings if f.kind == kind]

    def to_json(self) -> dict:
        return {"file": self.file, "num_objects": self.num_objects, "num_rules": self.num_rules,
                "seconds": round(self.seconds, 4), "ok": self.ok,
                "num_errors": len(self.errors), "num_warnings": len(self.warnings), "num_notes": len(self.notes),
                "findings": [f.to_json() for f in self.findings]}

    def format(self, scene_files: dict | None = None) -> str:
        """The report as text, grouped by severity.

        Args:
            scene_files: finding index -> path of the facts file its scene was written to.
        """
        scene_files = scene_files or {}
        if not self.findings:
            return (f"{self.file}: no problems in any scene of up to {self.num_objects} objects "
                    f"({self.num_rules} rules checked)")
        lines = [f"{self.file}: {len(self.errors)} error(s), {len(self.warnings)} warning(s), "
                 f"{len(self.notes)} note(s) "
                 f"in scenes of up to {self.num_objects} objects ({self.num_rules} rules checked)"]
        for severity in SEVERITIES:
            group = [(i, f) for i, f in enumerate(self.findings) if f.severity == severity]
            if not group:
                continue
            lines.append("")
            lines.append(f"{severity.upper()}S" if len(group) > 1 else severity.upper())
            for index, finding in group:
                lines.extend(_format_finding(finding, scene_files.get(index)))
        return "\n".join(lines)


def _format_finding(finding: Finding, scene_file) -> list[str]:
    where = finding.rules[0].source if finding.rules else ""
    lines = [f"  {where + ': ' if where else ''}{KINDS.get(finding.kind, finding.kind)}: {finding.message}"]
    if finding.rules:
        lines.append("      rules:")
        lines.extend(f"        {r.source}: {r.name}{' (soft)' if r.kind == 'soft' else ''}" for r in finding.rules)
    if finding.scene is not None:
        lines.append("      example scene:")
        lines.extend(f"        {line}" for line in finding.scene.describe() or ["(no objects, no facts)"])
        if finding.reproduced is False:
            lines.append("      note: the reasoner does not reproduce this on the scene's facts")
    if scene_file:
        lines.append(f"      facts file: {scene_file}")
    return lines


_COLOURS = {"error": "#b00", "warning": "#a60", "note": "#357"}


def report_to_html(report: VerificationReport, scene_files: dict | None = None) -> str:
    """A check report as a small self-contained HTML page: a summary, then each finding with its
    rules (``file:line``) and example scene as a table of objects and facts.

    Args:
        report: what :func:`symbolic.verify.checker.check_rules` returned.
        scene_files: finding index -> path of the facts file its scene was written to.

    Returns:
        The HTML text.

    Example:
        >>> finding = Finding("dead_rule", "warning", "rule <r> can never fire", [RuleRef("r", "a.rules:3")])
        >>> page = report_to_html(VerificationReport("a.rules", 3, [finding], num_rules=1))
        >>> "rule &lt;r&gt; can never fire" in page, "a.rules:3" in page
        (True, True)
    """
    scene_files = scene_files or {}

    def row(*cells, header=False):
        tag = "th" if header else "td"
        return "<tr>" + "".join(f"<{tag}>{escape(str(c))}</{tag}>" for c in cells) + "</tr>"

    sections = []
    for index, finding in enumerate(report.findings):
        colour = _COLOURS.get(finding.severity, "#333")
        parts = [f'<div class="finding"><h3 style="color:{colour}">{escape(finding.severity)}: '
                 f'{escape(KINDS.get(finding.kind, finding.kind))}</h3><p>{escape(finding.message)}</p>']
        if finding.rules:
            parts.append("<table>" + row("rule", "source", "kind", header=True)
                         + "".join(row(r.name, r.source, r.kind) for r in finding.rules) + "</table>")
        if finding.scene is not None:
            lines = finding.scene.describe() or ["(no objects, no facts)"]
            parts.append("<table>" + row("example scene", header=True)
                         + "".join(row(line) for line in lines) + "</table>")
            if finding.reproduced is not None:
                parts.append(f"<p class='small'>reproduced by the reasoner: {'yes' if finding.reproduced else 'no'}</p>")
        if index in scene_files:
            parts.append(f"<p class='small'>facts file: <code>{escape(str(scene_files[index]))}</code></p>")
        sections.append("".join(parts) + "</div>")
    summary = (f"{len(report.errors)} error(s), {len(report.warnings)} warning(s), {len(report.notes)} note(s) "
               f"in scenes of up to {report.num_objects} objects ({report.num_rules} rules checked, "
               f"{report.seconds:.2f} s)")
    verdict = "passes" if report.ok else "fails"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>check: {escape(report.file)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}} table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}} th{{background:#f0f0f0}}
.finding{{border-left:4px solid #ddd;padding-left:1em;margin:1.5em 0}} .small{{color:#555;font-size:90%}}</style>
</head><body><h1>{escape(report.file)} {verdict}</h1><p>{escape(summary)}</p>
{"".join(sections) or "<p>No problems found.</p>"}
</body></html>
"""
