"""Route constraints: avoid edges with a property or a node, pass waypoints, no turns of a kind at a node.

Four kinds, each enforced exactly:

- :class:`Avoid` ``(key, value)``: use no edge whose attribute ``key`` equals
  ``value`` (for ``tags``: contains it), e.g. ``Avoid("tags", "toll")``,
  ``Avoid("road", "Main St")``, ``Avoid("kind", "lane_change")``;
- :class:`AvoidNode` ``(node)``: never pass this node (a closed
  intersection);
- :class:`Via` ``(node)``: pass this node; several waypoints are passed in the
  order given;
- :class:`NoTurn` ``(at, turn="left")``: make no ``turn`` at this node or at
  any approach of this intersection (node attribute ``intersection``).

Avoid, avoid-node and no-turn constraints remove edges; waypoints split the route into
legs, each the cheapest on what is left. The result is the cheapest route
that meets every constraint (it may pass a node twice when a waypoint asks
for it). When none exists, :class:`UnsatisfiableRoute` names a smallest set
of constraints that together leave no route: dropping any one of them would.

The file form (JSON or YAML; also ``nesy plan --constraints FILE``)::

    avoid: ["tags=toll", "road=Main St"]
    avoid_node: ["2_2_inE"]
    via: ["3_4_inN"]
    no_turn: [{"at": "2_2", "turn": "left"}]   # or no_left_turn_at: ["2_2"]

Quote node ids in YAML: unquoted ``2_2`` reads as the number 22.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Union

import yaml

from symbolic.planning.roadnet import EDGE_ATTRIBUTES, TURNS, MapError, RoadNetwork, read_text
from symbolic.planning.routing import NoRouteError, Route, RoutePlanner, route_from_nodes


@dataclass(frozen=True)
class Avoid:
    """Use no edge whose attribute ``key`` equals ``value`` (``tags``: contains it).

    Example:
        >>> str(Avoid("tags", "toll"))
        'avoid tags=toll'
    """

    key: str
    value: Any

    def __str__(self) -> str:
        return f"avoid {self.key}={self.value}"


@dataclass(frozen=True)
class AvoidNode:
    """Never pass the node ``node``: use no edge into or out of it.

    Example:
        >>> str(AvoidNode("N5"))
        'avoid node N5'
    """

    node: str

    def __str__(self) -> str:
        return f"avoid node {self.node}"


@dataclass(frozen=True)
class Via:
    """Pass the node ``node``.

    Example:
        >>> str(Via("N5"))
        'via N5'
    """

    node: str

    def __str__(self) -> str:
        return f"via {self.node}"


@dataclass(frozen=True)
class NoTurn:
    """Make no ``turn`` (default ``left``) at node or intersection ``at``.

    Example:
        >>> str(NoTurn("X"))
        'no left turn at X'
    """

    at: str
    turn: str = "left"

    def __str__(self) -> str:
        return f"no {self.turn.replace('_', ' ')} turn at {self.at}"


Constraint = Union[Avoid, AvoidNode, Via, NoTurn]


class UnsatisfiableRoute(NoRouteError):
    """No route meets the constraints; ``blocking`` holds a smallest set that leaves none."""

    def __init__(self, message: str, blocking: list):
        super().__init__(message)
        self.blocking = blocking


def parse_avoid(text: str) -> Avoid:
    """``"KEY=VALUE"`` as an :class:`Avoid`; a bare word means ``tags=WORD``.

    Example:
        >>> parse_avoid("road=Main St"), parse_avoid("toll")
        (Avoid(key='road', value='Main St'), Avoid(key='tags', value='toll'))
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"an avoid constraint must be text like 'tags=toll' or 'road=Main St'. Received {text!r}")
    key, sign, value = text.partition("=")
    if not sign:
        return Avoid("tags", text.strip())
    key, value = key.strip(), value.strip()
    if key not in EDGE_ATTRIBUTES or not value:
        raise ValueError(f"an avoid constraint must be KEY=VALUE with KEY one of {', '.join(EDGE_ATTRIBUTES)}. "
                         f"Received {text!r}")
    return Avoid(key, value)


def constraints_from_json(data: Any, source: str = "<constraints>") -> list[Constraint]:
    """Constraints from their file form (see the module docstring).

    Example:
        >>> constraints_from_json({"avoid": ["tags=toll"], "avoid_node": ["N2"], "via": ["N5"], "no_left_turn_at": ["X"]})
        [Avoid(key='tags', value='toll'), AvoidNode(node='N2'), Via(node='N5'), NoTurn(at='X', turn='left')]
    """
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a mapping with avoid, via, no_turn, no_left_turn_at or avoid_node. "
                         f"Received {type(data).__name__}")
    keys = ("avoid", "via", "no_turn", "no_left_turn_at", "avoid_node")
    constraints: list[Constraint] = []
    for key, entries in data.items():
        if key not in keys:
            raise ValueError(f"{source}: unknown key {key!r}; expected one of {', '.join(keys)}")
        if not isinstance(entries, list):
            raise ValueError(f"{source}: `{key}` must be a list. Received {key}={entries!r}")
        for index, entry in enumerate(entries):
            where = f"{source}: {key}[{index}]"
            if key == "avoid":
                try:
                    constraints.append(parse_avoid(entry))
                except ValueError as error:
                    raise ValueError(f"{where}: {error}") from None
            elif key in ("avoid_node", "via", "no_left_turn_at"):
                if not isinstance(entry, (str, int)) or isinstance(entry, bool):
                    raise ValueError(f"{where}: expected a node id. Received {entry!r}")
                constraints.append({"avoid_node": AvoidNode, "via": Via, "no_left_turn_at": NoTurn}[key](str(entry)))
            else:
                if not isinstance(entry, dict) or "at" not in entry or set(entry) - {"at", "turn"}:
                    raise ValueError(f"{where}: expected {{\"at\": NODE, \"turn\": \"left\"}}. Received {entry!r}")
                constraints.append(NoTurn(str(entry["at"]), str(entry.get("turn", "left"))))
    return constraints


def load_constraints(path: str | Path) -> list[Constraint]:
    """Read constraints from a JSON or YAML file (one-line errors naming the file).

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "route.yaml"
        >>> _ = path.write_text("avoid: [toll]\\nvia: ['N5']\\n")
        >>> load_constraints(path)
        [Avoid(key='tags', value='toll'), Via(node='N5')]
    """
    path = Path(path)
    text = read_text(path, "constraints")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: invalid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: "
                         f"{str(error).splitlines()[0]}") from None
    return constraints_from_json(data, source=str(path))


def check_constraints(road: RoadNetwork, constraints: Iterable[Constraint]) -> list[Constraint]:
    """Check that every constraint names things the map has; return them as a list.

    Raises:
        MapError: an unknown node, intersection, attribute or turn, naming the constraint.

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> check_constraints(straight_road(num_lanes=1, crossing_at=None), [Via("L0_3"), Via("Z")])
        Traceback (most recent call last):
        ...
        symbolic.planning.roadnet.MapError: constraint 'via Z': unknown node 'Z' in map straight1
    """
    constraints = list(constraints)
    intersections = {a.get("intersection") for _, a in road.graph.nodes(data=True)} - {None}
    for constraint in constraints:
        if isinstance(constraint, Avoid):
            if constraint.key not in EDGE_ATTRIBUTES:
                raise MapError(f"constraint '{constraint}': unknown edge attribute {constraint.key!r}; "
                               f"expected one of {', '.join(EDGE_ATTRIBUTES)}")
        elif isinstance(constraint, (AvoidNode, Via)):
            if constraint.node not in road.graph:
                raise MapError(f"constraint '{constraint}': unknown node {constraint.node!r} in map {road.name}")
        elif isinstance(constraint, NoTurn):
            if constraint.turn not in TURNS:
                raise MapError(f"constraint '{constraint}': `turn` must be one of {', '.join(TURNS)}. "
                               f"Received turn={constraint.turn!r}")
            if constraint.at not in road.graph and constraint.at not in intersections:
                raise MapError(f"constraint '{constraint}': {constraint.at!r} is neither a node nor an "
                               f"intersection of map {road.name}")
        else:
            raise TypeError(f"a route constraint must be Avoid, AvoidNode, Via or NoTurn. "
                            f"Received {type(constraint).__name__}")
    return constraints


def excluded_edges(road: RoadNetwork, constraints: Iterable[Constraint]) -> set[tuple[str, str]]:
    """The edges that the avoid, avoid-node and no-turn constraints rule out.

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> road = straight_road(num_lanes=2, length=100, spacing=25, crossing_at=50)
        >>> sorted(excluded_edges(road, [NoTurn("X"), Avoid("turn", "right")]))
        [('L0_stop', 'W_out'), ('L1_stop', 'E_out')]
        >>> sorted(excluded_edges(road, [AvoidNode("L0_1")]))
        [('L0_0', 'L0_1'), ('L0_1', 'L0_stop'), ('L1_0', 'L0_1')]
    """
    excluded: set[tuple[str, str]] = set()
    for constraint in constraints:
        if isinstance(constraint, Avoid):
            excluded.update(road.edges_where(constraint.key, constraint.value))
        elif isinstance(constraint, AvoidNode):
            excluded.update(road.graph.in_edges(constraint.node))
            excluded.update(road.graph.out_edges(constraint.node))
        elif isinstance(constraint, NoTurn):
            for u, v, turn in road.graph.edges(data="turn"):
                if turn == constraint.turn and (u == constraint.at or road.graph.nodes[u].get("intersection") == constraint.at):
                    excluded.add((u, v))
    return excluded


def plan_route(planner: RoutePlanner, origin: str, destination: str, constraints: Iterable[Constraint] = ()) -> Route:
    """The cheapest route from ``origin`` to ``destination`` that meets every constraint.

    Args:
        planner: a fitted :class:`~symbolic.planning.routing.RoutePlanner` (its cost and blocked edges apply).
        origin, destination: node ids.
        constraints: :class:`Avoid`, :class:`AvoidNode`, :class:`Via` and :class:`NoTurn` constraints.

    Returns:
        A :class:`~symbolic.planning.routing.Route`.

    Raises:
        UnsatisfiableRoute: ``no route from A to B satisfies: ...`` naming the constraints that block it.
        NoRouteError: when no route exists even without constraints.

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> planner = RoutePlanner().fit(straight_road(num_lanes=2, length=100, spacing=25, crossing_at=50))
        >>> plan_route(planner, "L1_0", "W_end").turns
        [('L1_0', 'change_left'), ('L0_stop', 'left')]
        >>> plan_route(planner, "L1_0", "W_end", [Avoid("tags", "toll"), NoTurn("X")])
        Traceback (most recent call last):
        ...
        symbolic.planning.route_constraints.UnsatisfiableRoute: no route from L1_0 to W_end satisfies: no left turn at X
    """
    constraints = check_constraints(planner.road_, constraints)
    if not _satisfiable(planner, origin, destination, constraints):
        if not _satisfiable(planner, origin, destination, []):
            return planner.plan(origin, destination)  # raises NoRouteError naming the two nodes
        blocking = _smallest_blocking_set(planner, origin, destination, constraints)
        raise UnsatisfiableRoute(f"no route from {origin} to {destination} satisfies: "
                                 f"{'; '.join(map(str, blocking))}", blocking)
    excluded = excluded_edges(planner.road_, constraints)
    stops = [origin] + [c.node for c in constraints if isinstance(c, Via)] + [destination]
    nodes, cost = [origin], 0.0
    for a, b in zip(stops, stops[1:]):
        leg = planner.plan(a, b, exclude=excluded)
        nodes += leg.nodes[1:]
        cost += leg.cost
    return route_from_nodes(planner.road_, nodes, cost=cost, updates=planner.updates_)


def _satisfiable(planner: RoutePlanner, origin: str, destination: str, constraints: list) -> bool:
    excluded = excluded_edges(planner.road_, constraints)
    stops = [origin] + [c.node for c in constraints if isinstance(c, Via)] + [destination]
    return all(planner.has_route(a, b, exclude=excluded) for a, b in zip(stops, stops[1:]))


def _smallest_blocking_set(planner: RoutePlanner, origin: str, destination: str, constraints: list) -> list:
    """Drop constraints one at a time while the rest still leave no route (a minimal unsatisfiable subset)."""
    blocking = list(constraints)
    for constraint in list(constraints):
        rest = [c for c in blocking if c is not constraint]
        if not _satisfiable(planner, origin, destination, rest):
            blocking = rest
    return blocking
