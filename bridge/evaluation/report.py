"""A self-contained HTML report of a pipeline run.

One file, every picture embedded (base64), no server needed: open it in a
browser. A summary (figures and plots: latency histogram, action counts,
agreement) comes first; then one section per frame with the image and its
detections (boxes, labels, confidences), the scene graph, the decision with
the rules that fired and why each other action was rejected, and the facts.
"""
from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Sequence

from bridge.evaluation.metrics import evaluate_results, latency_summary
from perception.files import write_atomic

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
header{background:#1f2d3d;color:#fff;padding:12px 20px}
header h1{margin:0;font-size:20px}
main{padding:12px 20px}
.figures{display:flex;flex-wrap:wrap;gap:16px;margin-bottom:8px}
.figure{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}
.figure b{display:block;font-size:22px}
.plots img{max-width:100%;border:1px solid #ddd;background:#fff}
.controls{margin:12px 0}
section.frame{background:#fff;border:1px solid #ddd;border-radius:6px;margin:12px 0;padding:10px 14px}
section.frame.disagree{border-left:6px solid #d9534f}
section.frame h2{font-size:16px;margin:2px 0 8px}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.row>div{flex:1 1 260px}
.frame-image{width:384px;max-width:100%;image-rendering:pixelated;border:1px solid #ccc}
.action{font-size:20px;font-weight:bold;padding:2px 10px;border-radius:4px;background:#e7f0fb}
.action.stop{background:#f9d6d5}.action.go{background:#d7f2d9}
.bad{color:#b52b27;font-weight:bold}.good{color:#2a7a2e}
table{border-collapse:collapse;font-size:12px}
td,th{border-bottom:1px solid #eee;padding:2px 6px;text-align:left;vertical-align:top}
code{font-size:12px}
.hidden{display:none}
.timeline{display:flex;flex-wrap:wrap;gap:2px;font-size:11px}
.timeline .step{border:1px solid #ccc;border-radius:3px;padding:1px 4px;text-align:center}
svg.route{border:1px solid #ddd;background:#fff}
"""

_SCRIPT = """
(function () {
  var button = document.getElementById('only-disagreements');
  if (!button) { return; }
  var only = false;
  button.addEventListener('click', function () {
    only = !only;
    var frames = document.querySelectorAll('section.frame');
    for (var i = 0; i < frames.length; i++) {
      var hide = only && !frames[i].classList.contains('disagree');
      frames[i].classList.toggle('hidden', hide);
    }
    button.textContent = only ? 'show every frame' : 'show only disagreements';
  });
})();
"""


def write_report(results: Sequence, path: str | Path, *, metrics=None, title: str = "nesy report",
                 skipped: Sequence[tuple[str, str]] = (), truth: bool = False, reasoner=None) -> Path:
    """Write the HTML report of a run, atomically.

    Args:
        results: :class:`bridge.pipeline.FrameResult` of each frame, in order.
        path: the ``.html`` file to write.
        metrics: :class:`bridge.evaluation.metrics.PipelineMetrics` of the same frames
            (agreement, unsafe decisions, ground-truth actions); computed when
            ``truth`` is set and none is given.
        title: the page's title.
        skipped: ``(file name, reason)`` of frames that could not be used.
        truth: the frames carry ground truth (generated scenes).
        reasoner: the pipeline's reasoner, to judge against ground truth when
            computing metrics.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> from perception.world import generate_episode, preset_config
        >>> from bridge.pipeline import Pipeline
        >>> pipeline = Pipeline.from_config("configs/drive.yaml", oracle=True)
        >>> results = list(pipeline.stream(generate_episode(preset_config("easy"), seed=2, num_frames=2)))
        >>> path = write_report(results, tempfile.mkdtemp() + "/report.html", truth=True, reasoner=pipeline.reasoner)
        >>> path.read_text().count('<section class="frame')
        2
    """
    if metrics is None and truth and results:
        metrics = evaluate_results(results, reasoner=reasoner)
    evaluations = list(metrics.frames) if metrics is not None and len(metrics.frames) == len(results) else []
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>",
             f"<style>{_STYLE}</style></head><body><header><h1>{html.escape(title)}</h1></header><main>",
             summary_html(results, metrics, skipped)]
    for index, result in enumerate(results):
        parts.append(frame_html(index, result, evaluations[index] if evaluations else None))
    parts.append(f"</main><script>{_SCRIPT}</script></body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(parts))
    return path


def summary_html(results: Sequence, metrics=None, skipped: Sequence[tuple[str, str]] = ()) -> str:
    """The summary block: figures, plots and skipped frames."""
    latency = latency_summary(r.timings_ms for r in results)
    figures = [("frames", str(len(results)))]
    if metrics is not None:
        figures += [("decision agreement", f"{metrics.agreement:.1%}"),
                    ("balanced agreement", f"{metrics.balanced_agreement:.2f}"),
                    ("unsafe decisions", str(metrics.num_unsafe))]
    figures += [("fallbacks", str(sum(bool(r.decision.fallback) for r in results)))]
    if "total" in latency:
        figures += [("latency p50", f"{latency['total']['p50']:.1f} ms"),
                    ("latency p99", f"{latency['total']['p99']:.1f} ms")]
    cells = "".join(f'<div class="figure">{html.escape(name)}<b>{html.escape(value)}</b></div>'
                    for name, value in figures)
    parts = [f'<div class="figures" id="summary">{cells}</div>']
    if results:
        parts.append(f'<div class="plots"><img alt="summary plots" src="{summary_plot(results, metrics)}"></div>')
    if metrics is not None and metrics.num_frames:
        parts.append(_confusion_html(metrics))
    if skipped:
        rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{html.escape(reason)}</td></tr>" for name, reason in skipped)
        parts.append(f"<h3>Skipped frames</h3><table><tr><th>file</th><th>reason</th></tr>{rows}</table>")
    if metrics is not None:
        parts.append('<div class="controls"><button id="only-disagreements" type="button">'
                     'show only disagreements</button></div>')
    return "".join(parts)


def _confusion_html(metrics) -> str:
    header = "".join(f"<th>{html.escape(a)}</th>" for a in metrics.actions)
    rows = "".join(f"<tr><th>{html.escape(a)}</th>" + "".join(f"<td>{n}</td>" for n in row) + "</tr>"
                   for a, row in zip(metrics.actions, metrics.confusion()))
    recall = metrics.recall()
    recall_row = "".join(f"<td>{recall[a]:.2f}</td>" if a in recall else "<td>&ndash;</td>" for a in metrics.actions)
    causes = ", ".join(f"{k}: {v}" for k, v in metrics.cause_counts().items())
    return (f"<h3>Actions: ground truth (rows) vs pipeline (columns)</h3><table><tr><th></th>{header}</tr>{rows}"
            f"<tr><th>recall</th>{recall_row}</tr></table>"
            f"<p>Balanced agreement (mean recall over true actions): {metrics.balanced_agreement:.3f}. "
            f"Perception errors behind disagreements: {html.escape(causes)}</p>")


def summary_plot(results: Sequence, metrics=None) -> str:
    """Latency histogram, action counts and agreement as one PNG data URI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(13, 3.2), dpi=80)
    for stage in ("perception", "grounding", "reasoning", "total"):
        values = [r.timings_ms[stage] for r in results if stage in r.timings_ms]
        if values:
            axes[0].hist(values, bins=30, alpha=0.6, label=stage)
    axes[0].set_xlabel("ms per frame")
    axes[0].set_title("latency")
    axes[0].legend(fontsize=7)
    actions = list(metrics.actions) if metrics is not None else sorted({r.action for r in results})
    pipeline_counts = [sum(r.action == a for r in results) for a in actions]
    positions = range(len(actions))
    axes[1].bar([p - 0.2 for p in positions], pipeline_counts, width=0.4, label="pipeline")
    if metrics is not None:
        truth_counts = [metrics.action_counts()["truth"][a] for a in actions]
        axes[1].bar([p + 0.2 for p in positions], truth_counts, width=0.4, label="ground truth")
    axes[1].set_xticks(list(positions))
    axes[1].set_xticklabels(actions, fontsize=8)
    axes[1].set_title("actions")
    axes[1].legend(fontsize=7)
    if metrics is not None and metrics.num_frames:
        agree = [1.0 if f.agrees else 0.0 for f in metrics.frames]
        running = [sum(agree[:i + 1]) / (i + 1) for i in range(len(agree))]
        axes[2].plot(running, label="agreement so far")
        axes[2].scatter([i for i, a in enumerate(agree) if not a], [0.0] * (len(agree) - int(sum(agree))),
                        color="#d9534f", marker="|", s=200, label="disagreement")
        axes[2].set_ylim(-0.05, 1.05)
        axes[2].legend(fontsize=7, loc="lower right")
        axes[2].set_title(f"agreement {metrics.agreement:.1%}")
    else:
        axes[2].text(0.5, 0.5, "no ground truth", ha="center", va="center")
        axes[2].set_title("agreement")
    axes[2].set_xlabel("frame")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def frame_html(index: int, result, evaluation=None) -> str:
    """One frame's section: image with detections, scene graph, decision, facts."""
    decision = result.decision
    disagree = evaluation is not None and (not evaluation.agrees or evaluation.unsafe)
    classes = "frame disagree" if disagree else "frame"
    verdict = ""
    if evaluation is not None:
        if evaluation.agrees:
            verdict = f'<span class="good">agrees with ground truth ({html.escape(evaluation.truth_action)})</span>'
        else:
            verdict = f'<span class="bad">ground truth: {html.escape(evaluation.truth_action)}</span>'
        if evaluation.unsafe:
            verdict += f' <span class="bad">unsafe: breaks {html.escape(", ".join(evaluation.unsafe))}</span>'
    timings = ", ".join(f"{k} {v:.1f} ms" for k, v in result.timings_ms.items())
    planning = plan_html(result.plan, getattr(result, "route", None), getattr(result, "route_map", None))
    return (f'<section class="{classes}" id="frame-{index}" data-frame="{index}">'
            f'<h2>#{index} {html.escape(result.name)} — <span class="action {html.escape(decision.action)}">'
            f'{html.escape(decision.action)}</span> {verdict}</h2>'
            f'<div class="row"><div><img class="frame-image" alt="frame {index}" src="{frame_image(result)}"></div>'
            f'<div><h3>Scene graph</h3>{result.graph.to_svg()}</div>'
            f'<div>{decision_html(decision)}{planning}</div></div>'
            f'{_errors_html(evaluation)}'
            f'<details><summary>{len(result.facts)} facts, {len(result.objects)} objects; {html.escape(timings)}'
            f'</summary>{facts_html(result.facts)}</details></section>')


def frame_image(result, *, scale: int = 2) -> str:
    """The frame's image with its detections drawn, as a JPEG data URI."""
    from perception.draw import draw_boxes

    detections = result.detections
    picture = draw_boxes(result.frame.image, detections.boxes, detections.label_names(),
                         scores=detections.scores, scale=scale)
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def decision_html(decision) -> str:
    """The decision: status, rules that fired (why) and why not each other action."""
    status = html.escape(decision.status) + (" (safe fallback)" if decision.fallback else "")
    fired = "".join(f"<li><code>{html.escape(r.name)}</code> <small>{html.escape(r.source)}</small></li>"
                    for r in decision.fired) or "<li>no rule fired</li>"
    why_not = "".join(f"<tr><th>{html.escape(action)}</th><td>{html.escape(w.text or ', '.join(r.name for r in w.rules))}"
                      f"</td></tr>" for action, w in decision.why_not.items())
    extra = ""
    if decision.tied:
        extra += f"<p>tied with: {html.escape(', '.join(decision.tied))} (broken by the order of the actions)</p>"
    if decision.uncertain:
        extra += f"<p>uncertain facts that mattered: <code>{html.escape(', '.join(decision.uncertain))}</code></p>"
    if decision.repaired:
        extra += f"<p>repaired: <code>{html.escape(', '.join(decision.repaired))}</code></p>"
    return (f"<h3>Decision</h3><p>status: {status}</p><h4>Why</h4><ul>{fired}</ul>{extra}"
            f"<h4>Why not</h4><table>{why_not or '<tr><td>every other action was allowed</td></tr>'}</table>")


def plan_html(plan, route=None, route_map=None, *, step_s: float = 0.5) -> str:
    """The route (a drawing over the road map) and the maneuver plan (a timeline), when the pipeline plans."""
    parts = []
    if route is not None:
        drawing = route_svg(route_map, route) if route_map is not None else ""
        parts.append(f'<h4>Route</h4><p><code>{html.escape(route.nodes[0])} → {html.escape(route.nodes[-1])}</code>, '
                     f'{len(route.nodes)} nodes, {route.length:.0f} m</p>{drawing}')
    if plan is not None:
        parts.append(f"<h4>Maneuver plan</h4>{plan_timeline(plan.actions, step_s=step_s)}"
                     f"<p>{html.escape(plan.reason)}</p>")
    return "".join(parts)


_ACTION_COLOURS = {"go": "#d7f2d9", "stop": "#f9d6d5", "slow": "#fbeccb", "yield": "#fbeccb"}


def plan_timeline(actions: Sequence[str], *, step_s: float = 0.5) -> str:
    """The plan's actions as a timeline: one box per step, labelled with its start time.

    Example:
        >>> plan_timeline(["go", "change_left"]).count('class="step"')
        2
    """
    steps = "".join(f'<div class="step" style="background:{_ACTION_COLOURS.get(a, "#e7f0fb")}">'
                    f"<small>{i * step_s:g} s</small><br>{html.escape(a)}</div>" for i, a in enumerate(actions))
    return f'<div class="timeline">{steps}</div>'


def route_svg(road, route, *, width: int = 180, height: int = 220) -> str:
    """The road map in grey and the route in red, as an inline SVG (north up).

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> from symbolic.planning.routing import RoutePlanner
        >>> road = straight_road(num_lanes=2, length=100, spacing=25, crossing_at=50)
        >>> svg = route_svg(road, RoutePlanner().fit(road).plan("L1_0", "W_end"))
        >>> svg.startswith('<svg class="route"'), svg.count('class="route-edge"') > 0
        (True, True)
    """
    position = {n: (a["x"], a["y"]) for n, a in road.graph.nodes(data=True)}
    xs, ys = [p[0] for p in position.values()], [p[1] for p in position.values()]
    x0, y1 = min(xs), max(ys)
    scale = min((width - 10) / max(max(xs) - x0, 1e-6), (height - 10) / max(y1 - min(ys), 1e-6))

    def point(node):
        x, y = position[node]
        return f"{5 + (x - x0) * scale:.1f},{5 + (y1 - y) * scale:.1f}"

    def line(u, v, css):
        (ux, uy), (vx, vy) = point(u).split(","), point(v).split(",")
        return f'<line class="{css}" x1="{ux}" y1="{uy}" x2="{vx}" y2="{vy}"/>'

    roads = "".join(line(u, v, "road-edge") for u, v in road.graph.edges)
    path = "".join(line(u, v, "route-edge") for u, v in route.edges)
    start, end = point(route.nodes[0]).split(","), point(route.nodes[-1]).split(",")
    return (f'<svg class="route" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><title>{html.escape(route.describe())}</title>'
            f'<g stroke="#c8c8c8" stroke-width="1">{roads}</g><g stroke="#d62728" stroke-width="3">{path}</g>'
            f'<circle cx="{start[0]}" cy="{start[1]}" r="4" fill="#2ca02c"/>'
            f'<circle cx="{end[0]}" cy="{end[1]}" r="4" fill="#1f77b4"/></svg>')


def facts_html(facts) -> str:
    """The frame's facts as a table (atom, confidence or value).

    Example:
        >>> from symbolic.reasoning.facts import Fact
        >>> facts_html([Fact("dist", ("o1",), value=12.5)])
        '<table><tr><th>fact</th><th>confidence / value</th></tr><tr><td><code>dist(o1)</code></td><td>= 12.5</td></tr></table>'
    """
    rows = []
    for fact in facts:
        value = f"= {fact.value:g}" if fact.is_function else f"{fact.confidence:.2f}"
        rows.append(f"<tr><td><code>{html.escape(fact.atom)}</code></td><td>{html.escape(value)}</td></tr>")
    return f"<table><tr><th>fact</th><th>confidence / value</th></tr>{''.join(rows)}</table>"


def _errors_html(evaluation) -> str:
    if evaluation is None or not evaluation.errors:
        return ""
    items = "".join(f"<li>{html.escape(e.kind)}: {html.escape(e.label)} {html.escape(e.truth_id or e.detected_id)}"
                    f"{' — ' + html.escape(e.detail) if e.detail else ''}{' (took part in a rule)' if e.relevant else ''}</li>"
                    for e in evaluation.errors)
    return f"<details><summary>{len(evaluation.errors)} perception errors</summary><ul>{items}</ul></details>"

