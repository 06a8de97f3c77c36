"""``nesy plan``: a route over a road map, or a maneuver over the next seconds; printed and drawn.

``nesy plan --map configs/maps/town.json --from A --to B [--avoid tags=toll]
[--avoid-node N] [--via N] [--no-left-turn-at X] [--constraints FILE] [--cost time] [--out route.png]``

``nesy plan --maneuver scene.json [--rules configs/rules/traffic.rules] [--out plan.png]``
"""
from __future__ import annotations

import argparse
import difflib
import itertools
import json
import sys
from pathlib import Path

from bridge.commands.arguments import float_in_range, positive_int
from bridge.errors import UsageError
from bridge.evaluation.drawing import draw_maneuver, draw_route
from bridge.shipped import shipped_path


def register(subparsers) -> None:
    """Add ``nesy plan``."""
    parser = subparsers.add_parser(
        "plan", help="plan a route over a road map, or a maneuver under the rules, and draw it",
        description="Route mode (--map): find the cheapest route between two nodes of a road map (JSON or "
                    "GraphML) that meets the given constraints. Maneuver mode (--maneuver): find the actions "
                    "that reach a target lane within the horizon, each step allowed by the rule file. Either "
                    "is printed and optionally drawn (docs/planner.md).")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--map", metavar="FILE", help="road map, .json or .graphml, ours or OSMnx's (route mode)")
    mode.add_argument("--maneuver", metavar="SCENE",
                      help="plan a maneuver for the road, ego, tracked objects and target lane in this JSON file")
    parser.add_argument("--from", dest="origin", metavar="NODE", help="start node id (route mode)")
    parser.add_argument("--to", dest="destination", metavar="NODE", help="destination node id (route mode)")
    parser.add_argument("--avoid", action="append", default=[], metavar="KEY=VALUE",
                        help="use no edge with this attribute value, e.g. tags=toll, road='Main St', "
                             "turn=left; a bare word is a tag (repeatable)")
    parser.add_argument("--avoid-node", action="append", default=[], metavar="NODE",
                        help="never pass this node, e.g. a closed intersection (repeatable)")
    parser.add_argument("--via", action="append", default=[], metavar="NODE",
                        help="pass this node; waypoints are passed in the order given (repeatable)")
    parser.add_argument("--no-left-turn-at", action="append", default=[], metavar="NODE",
                        help="make no left turn at this node or intersection (repeatable)")
    parser.add_argument("--constraints", metavar="FILE", help="more constraints from a JSON/YAML file")
    parser.add_argument("--cost", default="distance", choices=("distance", "time"),
                        help="minimise metres (distance, the default) or seconds at the speed limits (time)")
    parser.add_argument("--algorithm", choices=("astar", "dijkstra"),
                        help="search algorithm (default astar; dijkstra on a map without node coordinates)")
    parser.add_argument("--rules", default=shipped_path("rules/traffic.rules"), metavar="FILE",
                        help="rule file that checks every maneuver step (default: the shipped "
                             "configs/rules/traffic.rules)")
    parser.add_argument("--horizon", type=positive_int, default=10, help="maneuver steps to look ahead (default 10)")
    parser.add_argument("--step", type=float_in_range(0.0, 3600.0, include_low=False), default=0.5,
                        help="seconds per maneuver step (default 0.5)")
    parser.add_argument("--out", metavar="PNG", help="draw the route on the map, or the maneuver, into this PNG file")
    parser.add_argument("--json", action="store_true", help="print the route or maneuver as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.maneuver:
        return run_maneuver(args)
    if not args.origin or not args.destination:
        raise UsageError("a route needs `--from NODE` and `--to NODE` with `--map FILE`")
    from symbolic.planning.roadnet import RoadNetwork
    from symbolic.planning.route_constraints import AvoidNode, NoTurn, Via, load_constraints, parse_avoid, plan_route
    from symbolic.planning.routing import RoutePlanner

    road = RoadNetwork.load(args.map)
    for node in args.avoid_node:
        if node not in road.graph:
            print(f"nesy plan: error: argument --avoid-node: {unknown_node(road, node)} (see 'nesy plan --help')",
                  file=sys.stderr)
            return 2
    if args.out and not road.has_coordinates:
        raise ValueError(f"`--out` draws the map at its node coordinates, and map {road.name} has none (no x, y)")
    constraints = [parse_avoid(text) for text in args.avoid]
    constraints += [AvoidNode(node) for node in args.avoid_node]
    constraints += [Via(node) for node in args.via]
    constraints += [NoTurn(node) for node in args.no_left_turn_at]
    if args.constraints:
        constraints += load_constraints(args.constraints)
    algorithm = args.algorithm or ("astar" if road.has_coordinates else "dijkstra")
    planner = RoutePlanner(cost=args.cost, algorithm=algorithm).fit(road)
    route = plan_route(planner, args.origin, args.destination, constraints)
    if args.out:
        if Path(args.out).suffix.lower() != ".png":
            raise UsageError(f"`--out` must name a .png file. Received {str(Path(args.out))!r}")
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


def unknown_node(road, node: str, num_shown: int = 5) -> str:
    """One line for a node id the map lacks, naming a few it has (the closest first).

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> unknown_node(straight_road(num_lanes=1, length=40, spacing=20, crossing_at=None), "L0_9")
        "unknown node 'L0_9' in map straight1; known nodes include L0_2, L0_1, L0_0"
    """
    close = difflib.get_close_matches(node, list(road.graph), n=3, cutoff=0.6) if road.num_nodes <= 10_000 else []
    known = list(dict.fromkeys(close + list(itertools.islice(road.graph, num_shown))))[:num_shown]
    more = road.num_nodes - len(known)
    return (f"unknown node {node!r} in map {road.name}; known nodes include {', '.join(known)}"
            + (f" (and {more} more)" if more > 0 else ""))


def run_maneuver(args: argparse.Namespace) -> int:
    """``nesy plan --maneuver SCENE``: plan, print and optionally draw one maneuver."""
    from symbolic.planning.maneuver import ManeuverPlanner, ManeuverScene
    from symbolic.reasoning.reasoner import Reasoner

    from bridge.maneuver_facts import predicted_fact_list
    from bridge.vocabulary import CLASS_NAMES

    if args.out and Path(args.out).suffix.lower() != ".png":
        raise UsageError(f"`--out` must name a .png file. Received {args.out!r}")
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
