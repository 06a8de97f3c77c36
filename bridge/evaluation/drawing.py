"""Pictures for people: a route on its road map, a maneuver plan, frames with their ground-truth boxes,
and a pipeline frame with what it found, for the report.

The route and maneuver drawings are matplotlib figures saved as PNG files, each written atomically
(:func:`perception.files.write_atomic`); the ground-truth preview is a PIL image; :func:`frame_picture`
is HTML (the image as an embedded JPEG under an SVG of boxes, labels and the ego, so labels stay sharp
at any zoom). matplotlib is imported inside the functions that draw with it, so importing this module
stays cheap.
"""
from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from perception.draw import color_for, draw_boxes, image_grid, to_pil
from perception.files import write_atomic

#: CSS pixels of a box label on screen, whatever the image's size
LABEL_PX = 13.0
EGO_COLOR = "#3d8bfd"

ACTION_COLORS = {"go": "#2ca02c", "slow": "#bcbd22", "yield": "#ff7f0e", "stop": "#d62728",
                 "change_left": "#1f77b4", "change_right": "#9467bd"}


def draw_route(road, route, path: str | Path, *, title: str = "") -> Path:
    """Draw the map in grey and ``route`` in colour into a PNG file, written atomically.

    Args:
        road: a :class:`~symbolic.planning.roadnet.RoadNetwork`.
        route: a :class:`~symbolic.planning.routing.Route` on it.
        path: the ``.png`` file to write.
        title: text above the drawing.

    Returns:
        The path written.

    Raises:
        ValueError: ``path`` does not end in ``.png``.

    Example:
        >>> import tempfile
        >>> from symbolic.planning.roadnet import straight_road
        >>> from symbolic.planning.routing import RoutePlanner
        >>> road = straight_road(num_lanes=2, length=100, spacing=25, crossing_at=50)
        >>> route = RoutePlanner().fit(road).plan("L1_0", "W_end")
        >>> draw_route(road, route, Path(tempfile.mkdtemp()) / "route.png").suffix
        '.png'
        >>> draw_route(road, route, "route.jpg")
        Traceback (most recent call last):
        ...
        ValueError: `path` must name a .png file. Received: path='route.jpg'
    """
    path = _png_path(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    position = {n: (a["x"], a["y"]) for n, a in road.graph.nodes(data=True)}
    figure, axes = plt.subplots(figsize=(8, 8), dpi=100)
    segments = [(position[u], position[v]) for u, v in road.graph.edges]
    axes.add_collection(LineCollection(segments, colors="#c8c8c8", linewidths=0.8))
    route_segments = [(position[u], position[v]) for u, v in route.edges]
    axes.add_collection(LineCollection(route_segments, colors="#d62728", linewidths=2.5))
    for node, turn in route.turns:
        axes.annotate(turn.replace("_", " "), position[node], fontsize=7, color="#1f3b73",
                      xytext=(4, 4), textcoords="offset points")
    (sx, sy), (gx, gy) = position[route.nodes[0]], position[route.nodes[-1]]
    axes.plot([sx], [sy], "o", color="#2ca02c", markersize=9, label=f"from {route.nodes[0]}")
    axes.plot([gx], [gy], "*", color="#1f77b4", markersize=13, label=f"to {route.nodes[-1]}")
    axes.autoscale()
    axes.set_aspect("equal")
    axes.set_xlabel("x (m)")
    axes.set_ylabel("y (m)")
    axes.legend(loc="best", fontsize=8)
    axes.set_title(title, fontsize=9, wrap=True)
    return save_figure(figure, path)


def draw_maneuver(scene, plan, path: str | Path, *, step_s: float = 0.5, horizon: int = 10) -> Path:
    """Draw a maneuver from above (lanes, the ego's planned positions, the objects' predicted paths)
    beside its timeline of actions, into a PNG file written atomically.

    Args:
        scene: a :class:`~symbolic.planning.maneuver.ManeuverScene`.
        plan: the :class:`~symbolic.planning.maneuver.ManeuverPlan` for it.
        path: the ``.png`` file to write.
        step_s, horizon: the planner's step and horizon (for the objects' paths).

    Returns:
        The path written.

    Raises:
        ValueError: ``path`` does not end in ``.png``.

    Example:
        >>> import tempfile
        >>> from symbolic.planning.maneuver import ManeuverPlan, ManeuverScene
        >>> scene = ManeuverScene.from_json({"ego": {"lane": 1, "speed": 10}, "target": {"lane": 0}})
        >>> plan = ManeuverPlan("change_left", ["change_left"], [scene.ego], True)
        >>> draw_maneuver(scene, plan, Path(tempfile.mkdtemp()) / "plan.png").name
        'plan.png'
    """
    path = _png_path(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    road = scene.road
    figure, (above, timeline) = plt.subplots(1, 2, figsize=(9, 8), dpi=100, gridspec_kw={"width_ratios": [1.2, 1]})
    ys = [s.y for s in plan.states] + [o.y + o.vy * t for o in scene.objects for t in (0, horizon * step_s)]
    low, high = min(ys + [scene.ego.y]) - 10, max(ys + [scene.ego.y]) + 10
    for lane in range(road.num_lanes + 1):
        above.plot([lane * road.lane_width] * 2, [low, high], color="#888888",
                   linestyle="-" if lane in (0, road.num_lanes) else "--", linewidth=1)
    if road.stop_line_y is not None:
        above.plot([0, road.width], [road.stop_line_y] * 2, color="black", linewidth=3)
    for obj in scene.objects:
        times = [k * step_s for k in range(horizon + 1)]
        above.plot([obj.x + obj.vx * t for t in times], [obj.y + obj.vy * t for t in times], color="#aaaaaa",
                   marker=".", markersize=3, linewidth=0.8)
        above.annotate(f"{obj.id} {obj.label}", (obj.x, obj.y), fontsize=7, xytext=(3, -8), textcoords="offset points")
    xs = [road.lane_centre(s.lane) for s in plan.states]
    above.plot(xs, [s.y for s in plan.states], color="black", linewidth=1.5)
    for step, (action, state) in enumerate(zip(plan.actions, plan.states)):
        above.plot([road.lane_centre(state.lane)], [state.y], "s", color=ACTION_COLORS.get(action, "black"), markersize=8)
        above.annotate(f"t={step * step_s:g}s", (road.lane_centre(state.lane), state.y), fontsize=7,
                       xytext=(6, 0), textcoords="offset points")
    above.set_xlim(-3, road.width + 3)
    above.set_ylim(low, high)
    above.set_xlabel("x (m)")
    above.set_ylabel("y (m), forward")
    above.set_title("from above: ego plan (squares), objects' predicted paths", fontsize=9)
    timeline.axis("off")
    rows = [[f"{k * step_s:g}", action, str(state.lane), f"{state.speed:.1f}"]
            for k, (action, state) in enumerate(zip(plan.actions, plan.states))]
    table = timeline.table(cellText=rows, colLabels=["t (s)", "action", "lane", "speed (m/s)"], loc="upper center")
    for (row, _), cell in table.get_celld().items():
        if row > 0:
            cell.set_facecolor(ACTION_COLORS.get(rows[row - 1][1], "white") + "33")
    verdict = "reaches the target" if plan.reached else "no plan: " + ", ".join(r.name for r in plan.blocking)
    timeline.set_title(f"action now: {plan.action}\n{verdict}", fontsize=9)
    return save_figure(figure, path)


def save_figure(figure, path: str | Path) -> Path:
    """Save a matplotlib figure as a PNG file, written atomically, and close the figure.

    Args:
        figure: a ``matplotlib.figure.Figure``.
        path: the file to write.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> figure, axes = plt.subplots()
        >>> save_figure(figure, Path(tempfile.mkdtemp()) / "figure.png").read_bytes()[:4]
        b'\\x89PNG'
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        plt.close(figure)
    return write_atomic(Path(path), buffer.getvalue())


def ground_truth_preview(scenes, columns: int = 4, scale: int = 2):
    """A grid of frames with their ground-truth boxes; a traffic light is labelled with its state.

    Args:
        scenes: :class:`~perception.world.scene.Scene` objects (an ``image`` and its ``objects``).
        columns: frames per row.
        scale: enlarge each frame this many times before drawing (labels stay readable).

    Returns:
        PIL.Image.

    Example:
        >>> from perception.world import WorldConfig, generate_episode
        >>> frames = generate_episode(WorldConfig(image_size=64, metres_per_pixel=0.8), seed=0, num_frames=2)
        >>> ground_truth_preview(frames, columns=2, scale=1).size
        (132, 64)
    """
    pictures = []
    for scene in scenes:
        labels = [o.label if "light_state" not in o.attributes else f"light:{o.attributes['light_state']}"
                  for o in scene.objects]
        pictures.append(draw_boxes(scene.image, [o.box for o in scene.objects], labels, scale=scale))
    return image_grid(pictures, columns=columns, padding=4)


def frame_picture(result, *, scale: float = 2.0) -> str:
    """A pipeline frame for the report: its image with the grounded objects, dropped detections and the ego.

    The image is an embedded JPEG shown ``scale`` times its size; above it an
    SVG in the image's pixels draws each grounded object's box labelled with
    its id, class (a light's state) and confidence, each detection read as
    absent as a faint dashed box, objects the tracker coasted (not seen this
    frame) as dashed boxes where their velocity puts them, and the ego's
    outline with its speed. Labels are ``LABEL_PX`` CSS pixels at any image
    size and are moved so that they do not cover each other.

    Args:
        result: a :class:`bridge.pipeline.FrameResult` whose ``frame`` has an ``image``
            (and, to draw the ego and coasted objects, a ``calibration`` and ``ego``).
        scale: display size over image size.

    Returns:
        HTML: ``<div class="picture">`` holding the ``<img>`` and the ``<svg>``.

    Example:
        >>> from perception.world import generate_scene, preset_config
        >>> from symbolic.reasoning.reasoner import Reasoner
        >>> from bridge.experiment import PipelineConfig
        >>> from bridge.pipeline import Pipeline
        >>> pipeline = Pipeline(reasoner=Reasoner.from_file(PipelineConfig().rules_path()), oracle=True)
        >>> [result] = pipeline([generate_scene(preset_config("easy"), seed=1)])
        >>> picture = frame_picture(result)
        >>> picture.count('class="object"') == len(result.objects), 'class="ego"' in picture
        (True, True)
    """
    frame = result.frame
    picture = to_pil(frame.image)
    width, height = picture.size
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=90)
    source = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    font = LABEL_PX / scale                       # image pixels
    labels = _Labels(font, width, height)
    shapes, tabs = [], []   # labels go last, above every box
    calibration = getattr(frame, "calibration", None)
    ego = getattr(frame, "ego", None)
    if calibration is not None:
        u0, v0 = calibration.ego_to_pixel(-0.9, 2.25)      # the ego's 1.8 x 4.5 m outline
        u1, v1 = calibration.ego_to_pixel(0.9, -2.25)
        text = "ego" + (f" {float(ego.speed):.1f} m/s" if ego is not None and hasattr(ego, "speed") else "")
        shapes.append(f'<g class="ego"><rect x="{u0:.1f}" y="{v0:.1f}" width="{u1 - u0:.1f}" height="{v1 - v0:.1f}" '
                      f'fill="{EGO_COLOR}" fill-opacity="0.35" stroke="{EGO_COLOR}" stroke-width="{1.5 / scale:.2f}" '
                      f'rx="{1.5 / scale:.2f}"><title>{html.escape(text)}</title></rect>'
                      '</g>')
        tabs.append(labels.place(text, (u0, v0, u1, v1), EGO_COLOR, beside=True))
    kept = set()
    for obj in result.objects:
        box = obj.box
        dashed = ""
        if box is None:
            if calibration is None:
                continue
            (length, width_m), (x, y) = obj.size, obj.position
            ua, va = calibration.ego_to_pixel(x - width_m / 2, y + length / 2)
            ub, vb = calibration.ego_to_pixel(x + width_m / 2, y - length / 2)
            box, dashed = (ua, va, ub, vb), f' stroke-dasharray="{4 / scale:.1f},{3 / scale:.1f}"'
        else:
            kept.add(tuple(round(float(c)) for c in box))
        x1, y1, x2, y2 = (float(c) for c in box)
        color = "#%02x%02x%02x" % color_for(obj.label)
        states = obj.attributes.get("light_state") or {}
        kind = f"light {max(states, key=states.get)}" if states else obj.label.replace("_", " ")
        text = f"{obj.id} {kind} {obj.confidence:.0%}"
        title = f"{text}; {'coasted: not seen this frame' if dashed else 'seen'}; at ({obj.position[0]:.1f}, " \
                f"{obj.position[1]:.1f}) m"
        shapes.append(f'<g class="object"><rect x="{x1:.1f}" y="{y1:.1f}" width="{x2 - x1:.1f}" height="{y2 - y1:.1f}" '
                      f'fill="none" stroke="{color}" stroke-width="{2 / scale:.2f}"{dashed}>'
                      f'<title>{html.escape(title)}</title></rect></g>')
        tabs.append(labels.place(text, (x1, y1, x2, y2), color))
    detections = result.detections
    names = detections.label_names()
    for box, name, score in zip(detections.boxes.tolist(), names, detections.scores.tolist()):
        if tuple(round(c) for c in box) in kept:
            continue
        x1, y1, x2, y2 = box
        shapes.append(f'<rect class="dropped" x="{x1:.1f}" y="{y1:.1f}" width="{x2 - x1:.1f}" height="{y2 - y1:.1f}" '
                      f'fill="none" stroke="#dddddd" stroke-opacity="0.6" stroke-width="{1 / scale:.2f}" '
                      f'stroke-dasharray="{2 / scale:.1f},{2 / scale:.1f}"><title>{html.escape(name)} {score:.2f}: '
                      f'not grounded (read as absent)</title></rect>')
    shown_w, shown_h = round(width * scale), round(height * scale)
    return (f'<div class="picture" style="width:{shown_w}px;height:{shown_h}px">'
            f'<img class="frame-image" alt="{html.escape(result.name)}" width="{shown_w}" height="{shown_h}" '
            f'src="{source}"><svg class="overlay" xmlns="http://www.w3.org/2000/svg" width="{shown_w}" '
            f'height="{shown_h}" viewBox="0 0 {width} {height}" font-size="{font:.2f}">{"".join(shapes + tabs)}</svg></div>')


class _Labels:
    """Places box labels (text on a coloured tab) so that no two cover each other."""

    def __init__(self, font: float, width: float, height: float):
        self.font, self.width, self.height = font, width, height
        self.placed: list[tuple[float, float, float, float]] = []

    def place(self, text: str, box, color: str, *, beside: bool = False) -> str:
        """A label tab above the box (else below, inside, then further away); ``beside``: right of it."""
        x1, y1, x2, y2 = box
        tab_w, tab_h = 0.62 * self.font * len(text) + 0.5 * self.font, 1.3 * self.font
        left = min(max(x2 + 0.3 * self.font if beside else x1, 0.0), max(self.width - tab_w, 0.0))
        tops = [(y1 + y2 - tab_h) / 2, y1 - tab_h] if beside else [y1 - tab_h, y2, y1]
        tops += [tops[-1] + k * tab_h for k in range(1, 6)] + [tops[0] - k * tab_h for k in range(1, 6)]
        candidates = [min(max(t, 0.0), self.height - tab_h) for t in tops]
        top = next((t for t in candidates if not any(_overlaps((left, t, left + tab_w, t + tab_h), other)
                                                     for other in self.placed)), candidates[0])
        self.placed.append((left, top, left + tab_w, top + tab_h))
        return (f'<rect class="tab" x="{left:.1f}" y="{top:.1f}" width="{tab_w:.1f}" height="{tab_h:.1f}" '
                f'fill="{color}" fill-opacity="0.85" rx="{0.2 * self.font:.1f}"/>'
                f'<text x="{left + 0.25 * self.font:.1f}" y="{top + 1.0 * self.font:.1f}">{html.escape(text)}</text>')


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _png_path(path: str | Path) -> Path:
    """``path`` as a Path, or a ValueError when it does not name a .png file."""
    if Path(path).suffix.lower() != ".png":
        raise ValueError(f"`path` must name a .png file. Received: path={str(path)!r}")
    return Path(path)
