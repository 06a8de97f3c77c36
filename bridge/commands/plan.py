"""``nesy plan``: a route over a road map, or a maneuver over the next seconds; printed and drawn.

``nesy plan --map configs/maps/town.json --from A --to B [--avoid tags=toll]
[--via N] [--no-left-turn-at X] [--constraints FILE] [--cost time] [--out route.png]``

``nesy plan --maneuver scene.json [--rules configs/rules/traffic.rules] [--out plan.png]``
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from perception.files import write_atomic


def register(subparsers) -> None:
    """Add ``nesy plan``."""
    parser = subparsers.add_parser(
        "plan", help="plan a route over a road map, or a maneuver under the rules, and draw it",
        description="Route mode (--map): find the cheapest route between two nodes of a road map (JSON or "
                    "GraphML) that meets the given constraints. Maneuver mode (--maneuver): find the actions "
                    "that reach a target lane within the horizon, each step allowed by the rule file. Either "
                    "is printed and optionally drawn (docs/planner.md).")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--map", metavar="FILE", help="road map, .json or .graphml (route mode)")
    mode.add_argument("--maneuver", metavar="SCENE",
                      help="plan a maneuver for the road, ego, tracked objects and target lane in this JSON file")
    parser.add_argument("--from", dest="origin", metavar="NODE", help="start node id (route mode)")
    parser.add_argument("--to", dest="destination", metavar="NODE", help="destination node id (route mode)")
    parser.add_argument("--avoid", action="append", default=[], metavar="KEY=VALUE",
                        help="use no edge with this attribute value, e.g. tags=toll, road='Main St', "
                             "turn=left; a bare word is a tag (repeatable)")
    parser.add_argument("--via", action="append", default=[], metavar="NODE",
                        help="pass this node; waypoints are passed in the order given (repeatable)")
    parser.add_argument("--no-left-turn-at", action="append", default=[], metavar="NODE",
                        help="make no left turn at this node or intersection (repeatable)")
    parser.add_argument("--constraints", metavar="FILE", help="more constraints from a JSON/YAML file")
    parser.add_argument("--cost", default="distance", choices=("distance", "time"),
                        help="minimise metres (distance, the default) or seconds at the speed limits (time)")
    parser.add_argument("--algorithm", default="astar", choices=("astar", "dijkstra"), help="search algorithm")
    parser.add_argument("--rules", default="configs/rules/traffic.rules", metavar="FILE",
                        help="rule file that checks every maneuver step (default configs/rules/traffic.rules)")
    parser.add_argument("--horizon", type=int, default=10, help="maneuver steps to look ahead (default 10)")
    parser.add_argument("--step", type=float, default=0.5, help="seconds per maneuver step (default 0.5)")
    parser.add_argument("--out", metavar="PNG", help="draw the route on the map, or the maneuver, into this PNG file")
    parser.add_argument("--json", action="store_true", help="print the route or maneuver as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.maneuver:
        return run_maneuver(args)
    if not args.origin or not args.destination:
        raise ValueError("a route needs `--from NODE` and `--to NODE` with `--map FILE`")
    from symbolic.planning.roadnet import RoadNetwork
    from symbolic.planning.route_constraints import NoTurn, Via, load_constraints, parse_avoid, plan_route
    from symbolic.planning.routing import RoutePlanner

    road = RoadNetwork.load(args.map)
    constraints = [parse_avoid(text) for text in args.avoid]
    constraints += [Via(node) for node in args.via]
    constraints += [NoTurn(node) for node in args.no_left_turn_at]
    if args.constraints:
        constraints += load_constraints(args.constraints)
    planner = RoutePlanner(cost=args.cost, algorithm=args.algorithm).fit(road)
    route = plan_route(planner, args.origin, args.destination, constraints)
    if args.out:
        out = draw_route(road, route, args.out, title=f"{road.name}: {route.describe()}")
    if args.json:
        json.dump({"map": road.name, "constraints": [str(c) for c in constraints], **route.to_json()},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(route.describe())
        if constraints:
            print("constraints: " + "; ".join(map(str, constraints)))
        print("route: " + " -> ".join(route.nodes))
    if args.out:
        print(f"wrote {out}", file=sys.stderr)
    return 0


def draw_route(road, route, path: str | Path, *, title: str = "") -> Path:
    """Draw the map in grey and ``route`` in colour into a PNG file, written atomically.

    Args:
        road: a :class:`~symbolic.planning.roadnet.RoadNetwork`.
        route: a :class:`~symbolic.planning.routing.Route` on it.
        path: the ``.png`` file to write.
        title: text above the drawing.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> from symbolic.planning.roadnet import straight_road
        >>> from symbolic.planning.routing import RoutePlanner
        >>> road = straight_road(num_lanes=2, length=100, spacing=25, crossing_at=50)
        >>> route = RoutePlanner().fit(road).plan("L1_0", "W_end")
        >>> draw_route(road, route, Path(tempfile.mkdtemp()) / "route.png").suffix
        '.png'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"`--out` must name a .png file. Received {str(path)!r}")
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
    return _save_figure(figure, path)


def run_maneuver(args: argparse.Namespace) -> int:
    """``nesy plan --maneuver SCENE``: plan, print and optionally draw one maneuver."""
    from symbolic.planning.maneuver import ManeuverPlanner, ManeuverScene
    from symbolic.reasoning.reasoner import Reasoner

    from bridge.maneuver_facts import predicted_fact_list
    from bridge.vocabulary import CLASS_NAMES

    if args.out and Path(args.out).suffix.lower() != ".png":
        raise ValueError(f"`--out` must name a .png file. Received {args.out!r}")
    scene = ManeuverScene.load(args.maneuver, labels=CLASS_NAMES)
    reasoner = Reasoner.from_file(args.rules)
    planner = ManeuverPlanner(reasoner, scene.road, predict_facts=predicted_fact_list, horizon=args.horizon,
                              step_s=args.step)
    plan = planner.plan(scene.ego, scene.objects, scene.target)
    if args.json:
        json.dump(plan.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"action now: {plan.action}")
        print(f"plan: {' -> '.join(plan.actions)}")
        print(plan.reason)
        for rule in plan.blocking:
            print(f"  blocked by {rule.name} ({rule.source})")
    if args.out:
        out = draw_maneuver(scene, plan, args.out, step_s=args.step, horizon=args.horizon)
        print(f"wrote {out}", file=sys.stderr)
    return 0


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

    Example:
        >>> import tempfile
        >>> from symbolic.planning.maneuver import ManeuverPlan, ManeuverScene
        >>> scene = ManeuverScene.from_json({"ego": {"lane": 1, "speed": 10}, "target": {"lane": 0}})
        >>> plan = ManeuverPlan("change_left", ["change_left"], [scene.ego], True)
        >>> draw_maneuver(scene, plan, Path(tempfile.mkdtemp()) / "plan.png").name
        'plan.png'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    road, colours = scene.road, {"go": "#2ca02c", "slow": "#bcbd22", "yield": "#ff7f0e", "stop": "#d62728",
                                 "change_left": "#1f77b4", "change_right": "#9467bd"}
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
        above.plot([road.lane_centre(state.lane)], [state.y], "s", color=colours.get(action, "black"), markersize=8)
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
            cell.set_facecolor(colours.get(rows[row - 1][1], "white") + "33")
    verdict = "reaches the target" if plan.reached else "no plan: " + ", ".join(r.name for r in plan.blocking)
    timeline.set_title(f"action now: {plan.action}\n{verdict}", fontsize=9)
    return _save_figure(figure, Path(path))


def _save_figure(figure, path: Path) -> Path:
    """Save a matplotlib figure as PNG atomically (:func:`perception.files.write_atomic`)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        plt.close(figure)
    return write_atomic(path, buffer.getvalue())
