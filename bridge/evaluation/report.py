"""A self-contained HTML report of a pipeline run: a single-page viewer.

One file, every picture embedded (base64), no server and no network: open it
in a browser. It shows one frame at a time, like a driving-log viewer: a
slider over the frames, play and pause, keyboard stepping (← →, Home End,
space; Shift steps ten; N and P jump to the next and previous flagged frame)
and a timeline with a tick per frame coloured by its action, frames that
disagree with the ground truth, are unsafe or fell back to the safe action
marked above their ticks. A frame shows its image with the grounded objects
(id, class, confidence), the detections read as absent and the ego; the
decision with the rules that fired and why each other action was rejected;
the route and maneuver plan; the scene graph with a legend; and the facts
with their tolerances. The run's figures (agreement, unsafe decisions,
latency) head the page; the latency histogram, action counts and the
confusion matrix follow the viewer.

Each frame's HTML waits as text in a ``<script type="text/html">`` and is
parsed when shown, so the browser builds one frame's elements, not every
frame's, and decodes one image at a time.
"""
from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Sequence

from bridge.evaluation.drawing import EGO_COLOR, frame_picture
from bridge.evaluation.metrics import evaluate_results, latency_summary
from bridge.scene_graph import LABEL_COLORS as GRAPH_COLORS
from perception.files import write_atomic

_STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d2330;font-size:14px}
header{background:#1f2d3d;color:#fff;padding:10px 18px;display:flex;flex-wrap:wrap;align-items:center;gap:8px 24px}
header h1{margin:0;font-size:18px;font-weight:600}
.figures{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:12px;color:#c9d3df}
.figures b{color:#fff;font-size:15px;margin-left:4px}
main{padding:10px 18px}
#viewer{background:#fff;border:1px solid #d9dde3;border-radius:8px;padding:10px 14px}
.controls{display:flex;flex-wrap:wrap;align-items:center;gap:8px}
.controls button,.controls select{font:inherit;padding:3px 10px;border:1px solid #b9c0ca;border-radius:5px;background:#f7f8fa;cursor:pointer}
.controls button:hover{background:#e9edf2}
#play{min-width:78px}
#frame-slider{flex:1 1 300px;accent-color:#1f2d3d}
#frame-label{font-variant-numeric:tabular-nums;min-width:112px;font-weight:600}
.keys{color:#667;font-size:12px}
kbd{border:1px solid #bbb;border-bottom-width:2px;border-radius:3px;padding:0 4px;font-size:11px;background:#fafafa}
#frame-timeline{display:flex;height:30px;margin:8px 0 2px;cursor:pointer;user-select:none}
#frame-timeline .tick{flex:1 1 0;min-width:1px;position:relative;margin-right:1px;border-radius:1px}
#frame-timeline .tick::before{content:"";position:absolute;left:0;right:0;bottom:0;height:18px;background:var(--action)}
#frame-timeline .tick.disagree::after,#frame-timeline .tick.unsafe::after,#frame-timeline .tick.fallback::after{
 content:"";position:absolute;left:0;right:0;top:0;height:9px}
#frame-timeline .tick.fallback::after{background:#f0ad4e}
#frame-timeline .tick.disagree::after{background:#d9534f}
#frame-timeline .tick.unsafe::after{background:#5b0f8a}
#frame-timeline.dense .tick{margin-right:0;border-radius:0}
#frame-timeline .tick.current{outline:2px solid #1d2330;outline-offset:1px;z-index:1}
#frame-timeline .tick:hover::before{filter:brightness(0.85)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:#445;align-items:center;margin:2px 0 6px}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;vertical-align:-1px;margin-right:4px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;vertical-align:-1px;margin-right:4px}
#stage{min-height:560px}
section.frame{border-top:1px solid #e3e6ea;padding-top:8px}
.frame-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 12px;margin-bottom:8px}
.frame-head h2{font-size:16px;margin:0}
.muted{color:#667;font-size:12px}
.frame-body{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.frame-body>.col{flex:1 1 330px;min-width:300px}
.frame-body>.col.picture-col{flex:0 0 auto;min-width:0;width:min-content}
.picture{position:relative;border:1px solid #c6ccd4;border-radius:4px;overflow:hidden;background:#000}
.picture img,.picture svg{position:absolute;left:0;top:0}
.picture svg text{fill:#111;font-family:ui-monospace,Menlo,Consolas,monospace}
.action{font-size:18px;font-weight:700;padding:1px 12px;border-radius:12px;background:var(--action);color:#111;white-space:nowrap}
.frame-body>.col{overflow-x:auto}
.bad{color:#b52b27;font-weight:600}.good{color:#2a7a2e;font-weight:600}
h3{font-size:14px;margin:10px 0 4px}h4{font-size:13px;margin:8px 0 3px;color:#334}
table{border-collapse:collapse;font-size:12px;width:100%}
td,th{border-bottom:1px solid #eef0f3;padding:2px 6px;text-align:left;vertical-align:top}
td.because{overflow-wrap:anywhere}
th{font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.mattered td{background:#fff4d6}
code{font-size:12px}
ul.fired{margin:2px 0;padding-left:18px}
small.source{color:#778}
.facts-table{max-height:330px;overflow:auto;border:1px solid #eef0f3}
svg.scene-graph{width:100%;max-width:390px;height:auto;border:1px solid #d9dde3}
.timeline{display:flex;flex-wrap:wrap;gap:2px;font-size:11px}
.timeline .step{border:1px solid #ccc;border-radius:3px;padding:1px 4px;text-align:center}
svg.route{border:1px solid #ddd;background:#fff}
#summary{margin-top:12px;display:flex;flex-wrap:wrap;gap:14px}
#summary>div{background:#fff;border:1px solid #d9dde3;border-radius:8px;padding:8px 14px;flex:1 1 380px}
.bars{display:grid;grid-template-columns:max-content 1fr;gap:3px 10px;align-items:center;font-size:12px}
.bar{height:9px;border-radius:2px;margin:1px 0}
.bar-row span{font-variant-numeric:tabular-nums;color:#445;font-size:11px;margin-left:4px}
"""

_SCRIPT = r"""
(function () {
  var viewer = document.getElementById('viewer');
  if (!viewer) { return; }
  var templates = document.querySelectorAll('script.frame-template');
  var holder = document.createElement('template');
  var stage = document.getElementById('stage');
  var slider = document.getElementById('frame-slider');
  var label = document.getElementById('frame-label');
  var play = document.getElementById('play');
  var speed = document.getElementById('speed');
  var ticks = document.querySelectorAll('#frame-timeline .tick');
  var count = templates.length, current = -1, timer = null;
  function show(index) {
    index = Math.max(0, Math.min(count - 1, index));
    if (index === current || count === 0) { return; }
    if (current >= 0) { ticks[current].classList.remove('current'); }
    current = index;
    holder.innerHTML = templates[index].textContent;
    stage.replaceChildren(holder.content);
    ticks[index].classList.add('current');
    slider.value = String(index);
    label.textContent = 'frame ' + (index + 1) + ' / ' + count;
    viewer.setAttribute('data-current', String(index));
    try { history.replaceState(null, '', '#frame=' + index); } catch (error) { /* a browser may refuse on file: */ }
  }
  function flagged(step) {
    for (var i = current + step; i >= 0 && i < count; i += step) {
      if (ticks[i].classList.contains('flagged')) { return i; }
    }
    return current;
  }
  function pause() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = '\u25b6 play';
  }
  function start() {
    if (current >= count - 1) { show(0); }
    timer = setInterval(function () {
      if (current >= count - 1) { pause(); } else { show(current + 1); }
    }, 1000 / Number(speed.value));
    play.textContent = '\u275a\u275a pause';
  }
  function toggle() { if (timer === null) { start(); } else { pause(); } }
  function click(id, action) {
    document.getElementById(id).addEventListener('click', function (event) { action(); event.currentTarget.blur(); });
  }
  click('play', toggle);
  click('previous', function () { pause(); show(current - 1); });
  click('next', function () { pause(); show(current + 1); });
  click('previous-flagged', function () { pause(); show(flagged(-1)); });
  click('next-flagged', function () { pause(); show(flagged(1)); });
  slider.addEventListener('input', function () { pause(); show(Number(slider.value)); });
  speed.addEventListener('change', function () { if (timer !== null) { pause(); start(); } speed.blur(); });
  document.getElementById('frame-timeline').addEventListener('click', function (event) {
    var tick = event.target.closest('.tick');
    if (tick) { pause(); show(Number(tick.getAttribute('data-frame'))); }
  });
  document.addEventListener('keydown', function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var step = event.shiftKey ? 10 : 1, key = event.key;
    if (key === 'ArrowRight') { pause(); show(current + step); }
    else if (key === 'ArrowLeft') { pause(); show(current - step); }
    else if (key === 'Home') { pause(); show(0); }
    else if (key === 'End') { pause(); show(count - 1); }
    else if (key === ' ' || key === 'Spacebar') { toggle(); }
    else if (key === 'n' || key === 'N') { pause(); show(flagged(1)); }
    else if (key === 'p' || key === 'P') { pause(); show(flagged(-1)); }
    else { return; }
    event.preventDefault();
  });
  var wanted = /^#frame=(\d+)$/.exec(location.hash);
  show(wanted ? Number(wanted[1]) : 0);
})();
"""

ACTION_COLORS = {"go": "#8fd694", "slow": "#e6dc6e", "yield": "#f5b062", "stop": "#f08a84",
                 "change_left": "#8cb8e8", "change_right": "#b9a2e0"}
PLAYBACK_FPS = (1, 2, 4, 8, 16)


def write_report(results: Sequence, path: str | Path, *, metrics=None, title: str = "nesy report",
                 skipped: Sequence[tuple[str, str]] = (), truth: bool = False, reasoner=None) -> Path:
    """Write the HTML viewer of a run, atomically.

    Args:
        results: :class:`bridge.pipeline.FrameResult` of each frame, in order.
        path: the ``.html`` file to write.
        metrics: :class:`bridge.evaluation.metrics.PipelineMetrics` of the same frames
            (agreement, unsafe decisions, ground-truth actions); computed when
            ``truth`` is set and none is given.
        title: the page's title (name the weights used: :func:`perception_name`).
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
        >>> page = write_report(results, tempfile.mkdtemp() + "/report.html", truth=True,
        ...                     reasoner=pipeline.reasoner).read_text()
        >>> page.count('<script type="text/html" class="frame-template"'), page.count('class="tick')
        (2, 2)
    """
    if metrics is None and truth and results:
        metrics = evaluate_results(results, reasoner=reasoner)
    evaluations = list(metrics.frames) if metrics is not None and len(metrics.frames) == len(results) else []
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width\"><title>{html.escape(title)}</title>",
             f"<style>{_STYLE}</style></head><body><header><h1>{html.escape(title)}</h1>",
             figures_html(results, metrics), "</header><main>",
             viewer_html(results, evaluations),
             summary_html(results, metrics, skipped)]
    for index, result in enumerate(results):
        evaluation = evaluations[index] if evaluations else None
        parts.append(f'<script type="text/html" class="frame-template" data-frame="{index}">'
                     f'{_script_text(frame_html(index, result, evaluation))}</script>')
    parts.append(f"</main><script>{_SCRIPT}</script></body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(parts))
    return path


def _script_text(markup: str) -> str:
    """``markup`` made safe inside a ``<script>`` element (every text in it is escaped; this guards the rest)."""
    return re.sub(r"</(script)", r"<\\/\1", markup, flags=re.IGNORECASE).replace("<!--", "<\\!--")


def perception_name(*, oracle: bool = False, weights: str | Path | None = None) -> str:
    """What perceived a run, for a report's title: the ground truth, the shipped detector or the weights file.

    ``weights`` is the checkpoint the pipeline actually loaded: the command
    line's, else the config's ``pipeline.weights``, else none (the shipped model).

    Example:
        >>> perception_name(weights="runs/a/best.safetensors"), perception_name(), perception_name(oracle=True)
        ('detector runs/a/best.safetensors', 'the shipped detector', 'ground-truth detections')
    """
    if oracle:
        return "ground-truth detections"
    return f"detector {weights}" if weights else "the shipped detector"


def figures_html(results: Sequence, metrics=None) -> str:
    """The run's headline figures: frames, agreement, unsafe decisions, fallbacks, latency."""
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
    cells = "".join(f'<span class="figure">{html.escape(name)}<b>{html.escape(value)}</b></span>'
                    for name, value in figures)
    return f'<div class="figures" id="figures">{cells}</div>'


def viewer_html(results: Sequence, evaluations: Sequence = ()) -> str:
    """The viewer's controls (play, step, slider, speed), its timeline of ticks and legend, and the empty stage.

    Each tick is coloured by the frame's action; ``disagree`` (the ground truth
    chose another action), ``unsafe`` (the action breaks a hard rule under the
    ground truth) and ``fallback`` (the reasoner fell back to the safe action)
    frames carry a mark, and any of them is ``flagged``.

    Example:
        >>> viewer_html([]).count('id="frame-slider"')
        1
    """
    ticks = []
    for index, result in enumerate(results):
        evaluation = evaluations[index] if evaluations else None
        flags = frame_flags(result, evaluation)
        words = [f"#{index} {result.name}: {result.action}"]
        if "disagree" in flags:
            words.append(f"ground truth {evaluation.truth_action}")
        if "unsafe" in flags:
            words.append("unsafe: breaks " + ", ".join(evaluation.unsafe))
        if "fallback" in flags:
            words.append("safe fallback")
        classes = " ".join(["tick", *flags] + (["flagged"] if flags else []))
        ticks.append(f'<div class="{classes}" data-frame="{index}" style="--action:{_action_color(result.action)}" '
                     f'title="{html.escape("; ".join(words))}"></div>')
    actions = list(dict.fromkeys(r.action for r in results))
    legend = "".join(f'<span><span class="swatch" style="background:{_action_color(a)}"></span>{html.escape(a)}</span>'
                     for a in actions)
    marks = ('<span><span class="swatch" style="background:#d9534f"></span>disagrees with ground truth</span>'
             '<span><span class="swatch" style="background:#5b0f8a"></span>unsafe</span>'
             '<span><span class="swatch" style="background:#f0ad4e"></span>safe fallback</span>')
    speeds = "".join(f'<option value="{fps}"{" selected" if fps == 4 else ""}>{fps} frames/s</option>'
                     for fps in PLAYBACK_FPS)
    last = max(len(results) - 1, 0)
    dense = ' class="dense"' if len(results) > 300 else ""   # ticks without gaps
    return (f'<section id="viewer" data-num-frames="{len(results)}" data-current="0">'
            f'<div class="controls"><button id="play" type="button" title="play / pause (space)">&#9654; play</button>'
            f'<button id="previous" type="button" title="previous frame (&#8592;)">&#9664;</button>'
            f'<button id="next" type="button" title="next frame (&#8594;)">&#9654;</button>'
            f'<input id="frame-slider" type="range" min="0" max="{last}" value="0" step="1" aria-label="frame">'
            f'<output id="frame-label">frame {1 if results else 0} / {len(results)}</output>'
            f'<select id="speed" aria-label="playback speed">{speeds}</select>'
            f'<button id="previous-flagged" type="button" title="previous flagged frame (P)">&#9664; flagged</button>'
            f'<button id="next-flagged" type="button" title="next flagged frame (N)">flagged &#9654;</button></div>'
            f'<div id="frame-timeline"{dense} aria-label="frames">{"".join(ticks)}</div>'
            f'<div class="legend">{legend}{marks}<span class="keys"><kbd>&#8592;</kbd> <kbd>&#8594;</kbd> step '
            f'(<kbd>Shift</kbd> 10), <kbd>Home</kbd> <kbd>End</kbd>, <kbd>space</kbd> play, <kbd>N</kbd> <kbd>P</kbd> '
            f'flagged</span></div><div id="stage"><noscript>The viewer needs JavaScript.</noscript></div></section>')


def frame_flags(result, evaluation=None) -> list[str]:
    """The timeline marks of a frame: ``disagree``, ``unsafe``, ``fallback`` (those that apply)."""
    flags = []
    if evaluation is not None and not evaluation.agrees:
        flags.append("disagree")
    if evaluation is not None and evaluation.unsafe:
        flags.append("unsafe")
    if result.decision.fallback:
        flags.append("fallback")
    return flags


def summary_html(results: Sequence, metrics=None, skipped: Sequence[tuple[str, str]] = ()) -> str:
    """The run's summary under the viewer: latency histogram and per stage, action counts, confusion, skipped frames."""
    parts = []
    if results:
        parts.append(f"<div><h3>Latency per frame</h3>{latency_histogram_svg([r.timings_ms.get('total', 0.0) for r in results])}"
                     f"{_latency_table(results)}</div>")
        actions = list(metrics.actions) if metrics is not None else list(dict.fromkeys(r.action for r in results))
        pipeline_counts = {a: sum(r.action == a for r in results) for a in actions}
        truth_counts = metrics.action_counts()["truth"] if metrics is not None else None
        parts.append(f"<div><h3>Actions</h3>{action_bars_html(actions, pipeline_counts, truth_counts)}"
                     f"{_confusion_html(metrics) if metrics is not None and metrics.num_frames else ''}</div>")
    if skipped:
        rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{html.escape(reason)}</td></tr>" for name, reason in skipped)
        parts.append(f"<div><h3>Skipped frames</h3><table><tr><th>file</th><th>reason</th></tr>{rows}</table></div>")
    return f'<section id="summary">{"".join(parts)}</section>'


def latency_histogram_svg(values_ms: Sequence[float], *, width: int = 440, height: int = 150, bins: int = 24) -> str:
    """A histogram of per-frame milliseconds as inline SVG, its scale set by the typical frames.

    The scale ends at 1.25 times the 95th percentile (at least 1.5 times the
    median); slower frames (a stall, start-up) are counted in a last red bar,
    so that a few outliers do not squeeze the rest into one bin. Dashed lines
    mark p50 and p99 (p99 only when on the scale).

    Example:
        >>> svg = latency_histogram_svg([10.0, 11.0, 12.0, 400.0])
        >>> svg.startswith('<svg class="latency"'), svg.count('class="bin"')
        (True, 24)
    """
    values = sorted(float(v) for v in values_ms)
    if not values:
        return ""
    p50, p99 = _percentile(values, 50), _percentile(values, 99)
    top = max(_percentile(values, 95) * 1.25, p50 * 1.5, 1e-3)
    counts = [0] * bins
    over = 0
    for value in values:
        if value > top:
            over += 1
        else:
            counts[min(int(value / top * bins), bins - 1)] += 1
    left, bottom, plot_w, plot_h = 34, height - 30, width - 34 - 40, height - 30 - 10
    tallest = max(counts + [over, 1])
    bar_w = plot_w / bins
    parts = [f'<svg class="latency" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-size="10" font-family="system-ui,sans-serif">']
    for k, n in enumerate(counts):
        h = n / tallest * plot_h
        parts.append(f'<rect class="bin" x="{left + k * bar_w + 0.5:.1f}" y="{bottom - h:.1f}" width="{bar_w - 1:.1f}" '
                     f'height="{h:.1f}" fill="#5b8def"><title>{k * top / bins:.1f}-{(k + 1) * top / bins:.1f} ms: '
                     f'{n} frames</title></rect>')
    if over:
        h = over / tallest * plot_h
        parts.append(f'<rect class="over" x="{left + plot_w + 8:.1f}" y="{bottom - h:.1f}" width="{bar_w:.1f}" '
                     f'height="{h:.1f}" fill="#d9534f"><title>{over} frames over {top:.1f} ms '
                     f'(slowest {values[-1]:.1f} ms)</title></rect>'
                     f'<text x="{left + plot_w + 8:.1f}" y="{bottom + 13}">&gt;{top:.0f}</text>')
    for mark, name in ((p50, "p50"), (p99, "p99")):
        if mark > top:
            continue
        x = left + mark / top * plot_w
        parts.append(f'<line x1="{x:.1f}" y1="{bottom - plot_h}" x2="{x:.1f}" y2="{bottom}" stroke="#1d2330" '
                     f'stroke-dasharray="3,2"/><text x="{x + 2:.1f}" y="{bottom - plot_h + 8}">{name} {mark:.1f}</text>')
    for fraction in (0.0, 0.5, 1.0):
        x = left + fraction * plot_w
        parts.append(f'<text x="{x:.1f}" y="{bottom + 13}" text-anchor="middle">{fraction * top:.0f}</text>')
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="#889"/>'
                 f'<text x="{left + plot_w / 2:.0f}" y="{height - 1}" text-anchor="middle">ms per frame (total)</text>'
                 f'<text x="2" y="{bottom - plot_h + 8}">{tallest}</text></svg>')
    return "".join(parts)


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of sorted values (numpy's default)."""
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _latency_table(results: Sequence) -> str:
    rows = "".join(f'<tr><th>{html.escape(stage)}</th><td class="num">{v["p50"]:.1f}</td><td class="num">{v["p99"]:.1f}'
                   f'</td><td class="num">{v["mean"]:.1f}</td></tr>'
                   for stage, v in latency_summary(r.timings_ms for r in results).items())
    return f'<table><tr><th>stage (ms)</th><th>p50</th><th>p99</th><th>mean</th></tr>{rows}</table>'


def action_bars_html(actions: Sequence[str], pipeline_counts: dict, truth_counts: dict | None = None) -> str:
    """Horizontal bars of how often each action was chosen (and by the ground truth), one labelled row per action.

    Example:
        >>> action_bars_html(["go", "stop"], {"go": 3, "stop": 1}).count('class="bar-row"')
        2
    """
    largest = max([*pipeline_counts.values(), *(truth_counts or {}).values(), 1])
    rows = []
    for action in actions:
        bars = [("pipeline", pipeline_counts.get(action, 0), _action_color(action))]
        if truth_counts is not None:
            bars.append(("ground truth", truth_counts.get(action, 0), "#9aa3ad"))
        cells = "".join(f'<div title="{who}: {n}"><div class="bar" style="width:{max(n / largest * 85, 0.5):.1f}%;'
                        f'background:{color};display:inline-block"></div><span>{n}</span></div>'
                        for who, n, color in bars)
        rows.append(f'<div>{html.escape(action)}</div><div class="bar-row">{cells}</div>')
    key = ('<p class="muted">upper bar: pipeline; lower bar (grey): ground truth</p>' if truth_counts is not None
           else "")
    return f'<div class="bars">{"".join(rows)}</div>{key}'


def _confusion_html(metrics) -> str:
    header = "".join(f"<th>{html.escape(a)}</th>" for a in metrics.actions)
    rows = "".join(f"<tr><th>{html.escape(a)}</th>" + "".join(f'<td class="num">{n}</td>' for n in row) + "</tr>"
                   for a, row in zip(metrics.actions, metrics.confusion()))
    recall = metrics.recall()
    recall_row = "".join(f'<td class="num">{recall[a]:.2f}</td>' if a in recall else "<td>&ndash;</td>"
                         for a in metrics.actions)
    causes = ", ".join(f"{k}: {v}" for k, v in metrics.cause_counts().items()) or "none"
    return (f"<h4>Ground truth (rows) vs pipeline (columns)</h4><table><tr><th></th>{header}</tr>{rows}"
            f"<tr><th>recall</th>{recall_row}</tr></table>"
            f"<p>Balanced agreement (mean recall over true actions): {metrics.balanced_agreement:.3f}. "
            f"Perception errors behind disagreements: {html.escape(causes)}</p>")


def frame_html(index: int, result, evaluation=None) -> str:
    """One frame: picture, decision and plan, scene graph with its legend, facts, perception errors, timings."""
    decision = result.decision
    flags = frame_flags(result, evaluation)
    verdict = ""
    if evaluation is not None:
        if evaluation.agrees:
            verdict = f'<span class="good">agrees with ground truth ({html.escape(evaluation.truth_action)})</span>'
        else:
            verdict = f'<span class="bad">ground truth: {html.escape(evaluation.truth_action)}</span>'
        if evaluation.unsafe:
            verdict += f' <span class="bad">unsafe: breaks {html.escape(", ".join(evaluation.unsafe))}</span>'
    frame = result.frame
    context = []
    if getattr(frame, "time_s", None) is not None:
        context.append(f"t = {float(frame.time_s):.1f} s")
    ego = getattr(frame, "ego", None)
    if ego is not None and getattr(ego, "speed", None) is not None:
        context.append(f"ego {float(ego.speed):.1f} m/s")
    context.append(f"{result.timings_ms.get('total', 0.0):.1f} ms")
    timings = " · ".join(f"{stage} {ms:.1f} ms" for stage, ms in result.timings_ms.items() if stage != "total")
    planning = plan_html(result.plan, getattr(result, "route", None), getattr(result, "route_map", None))
    return (f'<section class="{" ".join(["frame", *flags])}" id="frame-{index}" data-frame="{index}">'
            f'<div class="frame-head"><h2>#{index} {html.escape(result.name)}</h2>'
            f'<span class="action" style="--action:{_action_color(decision.action)}">{html.escape(decision.action)}</span>'
            f'{verdict}<span class="muted">{html.escape(" · ".join(context))}</span></div>'
            f'<div class="frame-body"><div class="col picture-col">{frame_picture(result)}'
            f'<p class="muted">{html.escape(timings)}</p>{picture_legend_html()}</div>'
            f'<div class="col">{decision_html(decision)}{planning}{_errors_html(evaluation)}</div>'
            f'<div class="col"><h3>Scene graph</h3>{result.graph.to_svg()}{graph_legend_html(result.graph)}'
            f'<details class="facts" open><summary><b>{len(result.facts)} facts</b>, {len(result.objects)} objects '
            f'(± tolerance: the true value lies within it)</summary>'
            f'<div class="facts-table">{facts_html(result.facts, mattered=decision.uncertain)}</div></details></div>'
            f'</div></section>')


def picture_legend_html() -> str:
    """What the picture's marks mean."""
    return (f'<p class="legend"><span><span class="swatch" style="background:{EGO_COLOR}"></span>ego</span>'
            '<span>solid box: grounded object (id, class, confidence)</span><span>dashed: coasted by the tracker'
            '</span><span>faint dashed: detection read as absent</span></p>')


def graph_legend_html(graph) -> str:
    """The scene graph's legend: the classes it shows (colour), the ego, lanes and relations.

    Example:
        >>> from types import SimpleNamespace
        >>> import networkx as nx
        >>> g = nx.DiGraph(); g.add_node("o1", kind="object", label="car")
        >>> "car" in graph_legend_html(SimpleNamespace(graph=g))
        True
    """
    labels = sorted({d.get("label") for _, d in graph.graph.nodes(data=True) if d.get("kind") == "object"} - {None})
    classes = "".join(f'<span><span class="dot" style="background:{GRAPH_COLORS.get(label, "#444")}"></span>'
                      f'{html.escape(label.replace("_", " "))}</span>' for label in labels)
    return (f'<p class="legend"><span><span class="dot" style="background:#1f77b4"></span>ego</span>{classes}'
            '<span><span class="swatch" style="background:#dcdcdc"></span>ego lane</span>'
            '<span><span class="swatch" style="background:#e8e8e8;border:1px solid #bbb"></span>other lane</span>'
            '<span><svg width="18" height="8"><line x1="0" y1="4" x2="18" y2="4" stroke="#d9534f" '
            'stroke-dasharray="3,2"/></svg> near</span><span><svg width="18" height="8"><line x1="0" y1="4" x2="18" '
            'y2="4" stroke="#999"/></svg> relation to the ego</span><span class="muted">bird\'s-eye, 50 m across; '
            'hover for names</span></p>')


_LONG_NUMBER = re.compile(r"-?\d+\.\d{3,}")


def short_source(source: str) -> str:
    """A rule's ``file:line`` with the file relative to the working folder when it lies under it.

    Example:
        >>> import os
        >>> short_source(os.path.join(os.getcwd(), "configs", "rules", "traffic.rules") + ":44")
        'configs/rules/traffic.rules:44'
        >>> short_source("/elsewhere/x.rules:3"), short_source("")
        ('/elsewhere/x.rules:3', '')
    """
    file, colon, line = source.rpartition(":")
    if not colon or not file:
        return source
    try:
        return f"{Path(file).relative_to(Path.cwd()).as_posix()}:{line}"
    except ValueError:
        return source


def round_numbers(text: str, digits: int = 2) -> str:
    """``text`` with every number of more than ``digits`` decimals rounded to ``digits``.

    Example:
        >>> round_numbers("ttc(o1) = 0.889702, gap(o1) = 11.5885 ± 0.75, 3 m")
        'ttc(o1) = 0.89, gap(o1) = 11.59 ± 0.75, 3 m'
    """
    return _LONG_NUMBER.sub(lambda match: f"{float(match.group()):.{digits}f}", text)


def decision_html(decision) -> str:
    """The decision: status, rules that fired (why) and why not each other action, numbers rounded."""
    status = html.escape(decision.status) + (" (safe fallback)" if decision.fallback else "")
    fired = "".join(f'<li><code>{html.escape(r.name)}</code> <small class="source">{html.escape(short_source(r.source))}</small></li>'
                    for r in decision.fired) or "<li>no rule fired</li>"
    rows = []
    for action, why in decision.why_not.items():
        rules = "<br>".join(f'<code title="{html.escape(short_source(r.source))}">{html.escape(r.name)}</code> '
                            f'<small class="source">:{html.escape(r.source.rpartition(":")[2])}</small>'
                            for r in why.rules)
        because = ", ".join(f"<code>{html.escape(round_numbers(f))}</code>" for f in why.facts)
        if not rules:
            rules = html.escape(round_numbers(why.text))
        rows.append(f'<tr><th><span class="action" style="--action:{_action_color(action)};font-size:12px">'
                    f'{html.escape(action)}</span></th><td>{rules}</td><td class="because">{because}</td></tr>')
    extra = ""
    if decision.tied:
        extra += f"<p>tied with: {html.escape(', '.join(decision.tied))} (broken by the order of the actions)</p>"
    if decision.uncertain:
        extra += (f"<p>uncertain facts that mattered: <code>{html.escape(round_numbers(', '.join(decision.uncertain)))}"
                  f"</code></p>")
    if decision.repaired:
        extra += f"<p>repaired: <code>{html.escape(', '.join(decision.repaired))}</code></p>"
    table = (f"<table><tr><th>action</th><th>breaks</th><th>because</th></tr>{''.join(rows)}</table>" if rows
             else "<p>every other action was allowed</p>")
    return (f'<h3>Decision <span class="muted">{status}</span></h3><h4>Why (rules that fired)</h4>'
            f'<ul class="fired">{fired}</ul>{extra}<h4>Why not</h4>{table}')


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


def plan_timeline(actions: Sequence[str], *, step_s: float = 0.5) -> str:
    """The plan's actions as a timeline: one box per step, labelled with its start time.

    Example:
        >>> plan_timeline(["go", "change_left"]).count('class="step"')
        2
    """
    steps = "".join(f'<div class="step" style="background:{_action_color(a)}">'
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


def facts_html(facts, *, mattered: Sequence[str] = ()) -> str:
    """The frame's facts as a table: atom, value ± tolerance (functions) and confidence, numbers rounded.

    Facts about the ego come first, then each object's together. Facts in
    ``mattered`` (uncertain facts that changed what was safe) are highlighted.

    Example:
        >>> from symbolic.reasoning.facts import Fact
        >>> table = facts_html([Fact("dist", ("o1",), value=12.5432, tolerance=0.75), Fact("car", ("o1",), confidence=0.9)])
        >>> "12.54" in table, "± 0.75" in table, "0.90" in table
        (True, True, True)
    """
    mattered = set(mattered)
    rows = []
    for fact in sorted(facts, key=lambda f: (len(f.args) > 0, f.args[:1], f.predicate)):
        if fact.is_function:
            value = f"{fact.value:.2f}" + (f" ± {fact.tolerance:.2f}" if fact.tolerance else "")
        else:
            value = ""
        classes = ' class="mattered"' if fact.atom in mattered or str(fact) in mattered else ""
        name = f"{fact.predicate}({', '.join(fact.args)})" if fact.args else fact.predicate
        rows.append(f'<tr{classes}><td><code>{html.escape(name)}</code></td><td class="num">{html.escape(value)}</td>'
                    f'<td class="num">{fact.confidence:.2f}</td></tr>')
    return (f"<table><tr><th>fact</th><th>value ± tolerance</th><th>confidence</th></tr>{''.join(rows)}</table>")


def _action_color(action: str) -> str:
    return ACTION_COLORS.get(action, "#c8d3e0")


def _errors_html(evaluation) -> str:
    if evaluation is None or not evaluation.errors:
        return ""
    items = "".join(f"<li>{html.escape(e.kind)}: {html.escape(e.label)} {html.escape(e.truth_id or e.detected_id)}"
                    f"{' — ' + html.escape(round_numbers(e.detail)) if e.detail else ''}"
                    f"{' (took part in a rule)' if e.relevant else ''}</li>" for e in evaluation.errors)
    return f"<details open><summary>{len(evaluation.errors)} perception errors</summary><ul>{items}</ul></details>"
