"""``nesy plan``: a route over a road map, printed and drawn.

``nesy plan --map configs/maps/town.json --from A --to B [--avoid tags=toll]
[--via N] [--no-left-turn-at X] [--constraints FILE] [--cost time] [--out route.png]``
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    """Add ``nesy plan``."""
    parser = subparsers.add_parser(
        "plan", help="plan a route over a road map and draw it",
        description="Find the cheapest route between two nodes of a road map (JSON or GraphML) that meets "
                    "the given constraints; print it and optionally draw it (docs/planner.md).")
    parser.add_argument("--map", required=True, metavar="FILE", help="road map, .json or .graphml")
    parser.add_argument("--from", dest="origin", required=True, metavar="NODE", help="start node id")
    parser.add_argument("--to", dest="destination", required=True, metavar="NODE", help="destination node id")
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
    parser.add_argument("--out", metavar="PNG", help="draw the map and the route into this PNG file")
    parser.add_argument("--json", action="store_true", help="print the route as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from symbolic.roadnet import RoadNetwork
    from symbolic.route_constraints import NoTurn, Via, load_constraints, parse_avoid, plan_route
    from symbolic.routing import RoutePlanner

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
        road: a :class:`~symbolic.roadnet.RoadNetwork`.
        route: a :class:`~symbolic.routing.Route` on it.
        path: the ``.png`` file to write.
        title: text above the drawing.

    Returns:
        The path written.
    """
    import os
    import tempfile

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
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(handle)
    try:
        figure.savefig(temporary, format="png", bbox_inches="tight")
        os.replace(temporary, path)
    finally:
        plt.close(figure)
        Path(temporary).unlink(missing_ok=True)
    return path
