"""Pictures for people: a route on its road map, a maneuver plan, and frames with their ground-truth boxes.

The route and maneuver drawings are matplotlib figures saved as PNG files, each written atomically
(:func:`perception.files.write_atomic`); the ground-truth preview is a PIL image. matplotlib is imported
inside the functions that draw with it, so importing this module stays cheap.
"""
from __future__ import annotations

import io
from pathlib import Path

from perception.draw import draw_boxes, image_grid
from perception.files import write_atomic

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


def _png_path(path: str | Path) -> Path:
    """``path`` as a Path, or a ValueError when it does not name a .png file."""
    if Path(path).suffix.lower() != ".png":
        raise ValueError(f"`path` must name a .png file. Received: path={str(path)!r}")
    return Path(path)
