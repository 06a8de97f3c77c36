"""Road networks: lane segments, junction movements and lane changes as a directed graph.

A :class:`RoadNetwork` wraps a :class:`networkx.DiGraph`. Nodes are points on
lanes (metres, ``x`` to the east/right, ``y`` to the north/forward); each edge
is one way to drive from one point to the next:

- ``kind="lane"``: along a lane segment (``turn="straight"``);
- ``kind="junction"``: a movement through an intersection, with ``turn`` one of
  ``straight``, ``left``, ``right``, ``u_turn``;
- ``kind="lane_change"``: a move into the neighbouring lane, ``turn`` one of
  ``change_left``, ``change_right``.

Edge attributes: ``length`` (m, > 0), ``speed_limit`` (m/s, > 0), ``kind``,
``turn``, and optionally ``road`` (name), ``lane`` (index, 0 = leftmost) and
``tags`` (words such as ``toll`` or ``school_zone``). Node attributes: ``x``,
``y`` and optionally ``lane``, ``road``, ``intersection`` (the intersection an
approach point belongs to), ``label`` and ``lon``, ``lat`` (degrees, kept from
an OpenStreetMap file). Anything else is refused by name.

Positions are optional as a whole: every node has ``x`` and ``y`` or none
does. A map without them needs each edge's ``length``; it routes with
Dijkstra, while A* (which bounds the cost still to go by straight-line
distance) asks for coordinates.

The JSON form (``configs/maps/*.json``)::

    {"name": "town",
     "nodes": [{"id": "A", "x": 0, "y": 0}, {"id": "B", "x": 100, "y": 0}],
     "edges": [{"from": "A", "to": "B", "length": 100, "speed_limit": 13.9,
                "road": "Main St", "tags": ["toll"]}]}

``kind`` defaults to ``lane``, ``turn`` to ``straight``, ``speed_limit`` to
13.9 m/s (50 km/h) and ``length`` to the straight-line distance. GraphML files
(:meth:`RoadNetwork.save` with a ``.graphml`` suffix) hold the same
attributes, ``tags`` as comma-separated text. A GraphML file whose graph has a
``crs`` attribute is read as OpenStreetMap data the way OSMnx writes it
(longitude/latitude projected to metres, ``maxspeed`` text, one-way streets,
parallel edges): see :mod:`symbolic.planning.osm` and :meth:`RoadNetwork.from_osmnx`.
"""
from __future__ import annotations

import difflib
import json
import math
import random
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any, Iterator

import networkx as nx

from symbolic.files import write_text_atomic
from symbolic.planning.osm import osmnx_to_graph

KINDS = ("lane", "junction", "lane_change")
TURNS = ("straight", "left", "right", "u_turn", "change_left", "change_right")
NODE_ATTRIBUTES = ("x", "y", "lane", "road", "intersection", "label", "lon", "lat")
EDGE_ATTRIBUTES = ("length", "speed_limit", "kind", "turn", "road", "lane", "tags")
DEFAULT_SPEED_LIMIT = 13.9  # m/s, 50 km/h


class MapError(ValueError):
    """A road map file or value is invalid; the message names the file and the entry."""


class RoadNetwork:
    """A directed graph of lane points and the ways to drive between them.

    Args:
        graph: a :class:`networkx.DiGraph` whose nodes carry ``x``, ``y`` (all
            of them or none) and whose edges carry the attributes listed in
            the module docstring;
            an empty graph when omitted. Use :meth:`add_node`/:meth:`add_edge`
            (which validate) or :meth:`validate` after building it by hand.
        name: the map's name, for messages and drawings.

    Example:
        >>> road = RoadNetwork(name="two points")
        >>> road.add_node("A", x=0, y=0)
        >>> road.add_node("B", x=30, y=40)
        >>> road.add_edge("A", "B", road="Main St")
        >>> road.edge("A", "B")["length"], road.num_nodes, road.num_edges
        (50.0, 2, 1)
    """

    def __init__(self, graph: nx.DiGraph | None = None, name: str = ""):
        self.graph = nx.DiGraph() if graph is None else graph
        self.name = name

    # ------------------------------------------------------------------ building
    def add_node(self, node: str, *, x: float | None = None, y: float | None = None, **attributes: Any) -> None:
        """Add a lane point at ``(x, y)`` metres (or without a position, on a map that has none).

        Extra attributes come from :data:`NODE_ATTRIBUTES`.
        """
        node = str(node)
        attributes = {**({} if x is None else {"x": x}), **({} if y is None else {"y": y}), **attributes}
        checked = _checked_node(node, attributes, f"node {node!r}")
        if self.num_nodes and ("x" in checked) != self.has_coordinates:
            raise MapError(_mixed_positions(f"node {node!r}", "x" in checked))
        self.graph.add_node(node, **checked)

    def add_edge(self, u: str, v: str, **attributes: Any) -> None:
        """Add a way from ``u`` to ``v``; ``length`` defaults to the straight-line distance."""
        u, v = str(u), str(v)
        where = f"edge {u}->{v}"
        for end in (u, v):
            if end not in self.graph:
                raise MapError(f"{where}: ends at unknown node {end!r} (dangling edge); add the node first")
        if "length" not in attributes:
            attributes["length"] = self._straight_length(u, v, where)
        self.graph.add_edge(u, v, **_checked_edge(attributes, where))

    def validate(self, source: str = "<map>") -> "RoadNetwork":
        """Check every node and edge of :attr:`graph`; return self.

        Raises:
            MapError: naming the first bad node or edge and what was expected.
        """
        positioned = None
        for node, attributes in self.graph.nodes(data=True):
            self.graph.nodes[node].update(_checked_node(node, attributes, f"{source}: node {node!r}"))
            if positioned is None:
                positioned = "x" in attributes
            elif ("x" in attributes) != positioned:
                raise MapError(_mixed_positions(f"{source}: node {node!r}", "x" in attributes))
        for u, v, attributes in self.graph.edges(data=True):
            where = f"{source}: edge {u}->{v}"
            if "length" not in attributes:
                attributes["length"] = self._straight_length(u, v, where)
            attributes.update(_checked_edge(attributes, where))
        return self

    def _straight_length(self, u: str, v: str, where: str) -> float:
        """The straight-line length of a new edge; one line naming it on a map without coordinates."""
        if not self.has_coordinates:
            raise MapError(f"{where}: missing `length` (metres); map {self.name or '<unnamed>'} has no node "
                           f"coordinates to compute it from")
        return self.straight_line(u, v)

    # ------------------------------------------------------------------ reading
    @property
    def num_nodes(self) -> int:
        return self.graph.number_of_nodes()

    @property
    def num_edges(self) -> int:
        return self.graph.number_of_edges()

    @property
    def has_coordinates(self) -> bool:
        """Whether the nodes carry positions ``x``, ``y`` (every node does or none does; True when empty).

        Example:
            >>> road = RoadNetwork(name="no positions")
            >>> road.add_node("A"), road.add_node("B")
            (None, None)
            >>> road.add_edge("A", "B", length=80)
            >>> road.has_coordinates
            False
        """
        first = next(iter(self.graph.nodes(data="x")), None)
        return first is None or first[1] is not None

    def position(self, node: str) -> tuple[float, float]:
        """``(x, y)`` of a node in metres."""
        attributes = self.node(node)
        if "x" not in attributes:
            raise MapError(f"map {self.name or '<unnamed>'} has no node coordinates (node {node!r} has no x, y)")
        return attributes["x"], attributes["y"]

    def node(self, node: str) -> dict:
        """The attributes of a node; a clear error for an unknown id."""
        try:
            return self.graph.nodes[node]
        except KeyError:
            hint = _did_you_mean(node, self.graph) if self.num_nodes <= 10_000 else ""
            raise MapError(f"unknown node {node!r} in map {self.name or '<unnamed>'}.{hint}") from None

    def edge(self, u: str, v: str) -> dict:
        """The attributes of the edge ``u -> v``."""
        try:
            return self.graph.edges[u, v]
        except KeyError:
            raise MapError(f"no edge {u}->{v} in map {self.name or '<unnamed>'}") from None

    def straight_line(self, u: str, v: str) -> float:
        """Straight-line distance between two nodes in metres."""
        (ux, uy), (vx, vy) = self.position(u), self.position(v)
        return math.hypot(vx - ux, vy - uy)

    @property
    def max_speed(self) -> float:
        """The highest speed limit of any edge (m/s); the default limit on an empty map."""
        return max((a["speed_limit"] for _, _, a in self.graph.edges(data=True)), default=DEFAULT_SPEED_LIMIT)

    def edges_where(self, key: str, value: Any) -> Iterator[tuple[str, str]]:
        """Edges whose attribute ``key`` equals ``value`` (for ``tags``: contains it).

        Example:
            >>> road = straight_road(num_lanes=2, length=40, spacing=20, crossing_at=None)
            >>> sorted(road.edges_where("turn", "change_left"))
            [('L1_0', 'L0_1'), ('L1_1', 'L0_2')]
        """
        if key not in EDGE_ATTRIBUTES:
            raise MapError(f"unknown edge attribute {key!r}.{_did_you_mean(key, EDGE_ATTRIBUTES)}")
        for u, v, attributes in self.graph.edges(data=True):
            if _matches(attributes, key, value):
                yield u, v

    # ------------------------------------------------------------------ files
    def to_json(self) -> dict:
        """The JSON form (see the module docstring)."""
        nodes = [{"id": n, **attributes} for n, attributes in self.graph.nodes(data=True)]
        edges = [{"from": u, "to": v, **{k: (list(a) if k == "tags" else a) for k, a in attributes.items()}}
                 for u, v, attributes in self.graph.edges(data=True)]
        return {"name": self.name, "nodes": nodes, "edges": edges}

    @classmethod
    def from_json(cls, data: Any, source: str = "<map>") -> "RoadNetwork":
        """Build and validate a network from its JSON form.

        Raises:
            MapError: e.g. ``town.json: edges[3] (A->Q): ends at unknown node 'Q' (dangling edge)``.

        Example:
            >>> RoadNetwork.from_json({"nodes": [{"id": "A", "x": 0, "y": 0}],
            ...                        "edges": [{"from": "A", "to": "Q"}]}, "town.json")
            Traceback (most recent call last):
            ...
            symbolic.planning.roadnet.MapError: town.json: edges[0] (A->Q): ends at unknown node 'Q' (dangling edge)
        """
        if not isinstance(data, dict):
            raise MapError(f"{source}: expected an object with 'nodes' and 'edges'. Received {type(data).__name__}")
        unknown = set(data) - {"name", "nodes", "edges"}
        if unknown:
            raise MapError(f"{source}: unknown top-level key {sorted(unknown)[0]!r}; expected name, nodes, edges")
        for key in ("nodes", "edges"):
            if not isinstance(data.get(key), list):
                raise MapError(f"{source}: '{key}' must be a list. Received {type(data.get(key)).__name__}")
        road = cls(name=str(data.get("name") or Path(source).stem))
        for index, entry in enumerate(data["nodes"]):
            where = f"{source}: nodes[{index}]"
            if not isinstance(entry, dict) or "id" not in entry:
                raise MapError(f"{where}: expected an object like {{\"id\": \"A\", \"x\": 0, \"y\": 0}}. Received {entry!r}")
            node = str(entry["id"])
            if node in road.graph:
                raise MapError(f"{where}: duplicate node id {node!r}")
            attributes = {k: v for k, v in entry.items() if k != "id"}
            checked = _checked_node(node, attributes, f"{where} ({node})")
            if road.num_nodes and ("x" in checked) != road.has_coordinates:
                raise MapError(_mixed_positions(f"{where} ({node})", "x" in checked))
            road.graph.add_node(node, **checked)
        for index, entry in enumerate(data["edges"]):
            road._add_json_edge(entry, f"{source}: edges[{index}]")
        return road

    def _add_json_edge(self, entry: Any, where: str) -> None:
        if not isinstance(entry, dict) or "from" not in entry or "to" not in entry:
            raise MapError(f"{where}: expected an object like {{\"from\": \"A\", \"to\": \"B\"}}. Received {entry!r}")
        u, v = str(entry["from"]), str(entry["to"])
        where = f"{where} ({u}->{v})"
        for end in (u, v):
            if end not in self.graph:
                raise MapError(f"{where}: ends at unknown node {end!r} (dangling edge)")
        if self.graph.has_edge(u, v):
            raise MapError(f"{where}: duplicate edge {u}->{v}")
        attributes = {k: value for k, value in entry.items() if k not in ("from", "to")}
        if "length" not in attributes:
            attributes["length"] = self._straight_length(u, v, where)
        self.graph.add_edge(u, v, **_checked_edge(attributes, where))

    @classmethod
    def from_osmnx(cls, graph: nx.MultiDiGraph, source: str = "<osmnx>") -> "RoadNetwork":
        """A validated network from an OSMnx street graph, read from GraphML or in memory.

        See :mod:`symbolic.planning.osm` for what becomes of positions, speeds,
        one-way streets and parallel edges.

        Raises:
            MapError: naming the file (``source``), the node or edge, and what was expected.

        Example:
            >>> graph = nx.MultiDiGraph(crs="epsg:4326")
            >>> graph.add_node(1, x=13.400, y=52.5), graph.add_node(2, x=13.401, y=52.5)
            (None, None)
            >>> _ = graph.add_edge(1, 2, length=67.9, maxspeed="30 mph", oneway=True, highway="residential")
            >>> road = RoadNetwork.from_osmnx(graph, "berlin.graphml")
            >>> road, road.edge("1", "2")["tags"]
            (RoadNetwork('berlin', num_nodes=2, num_edges=1), ('residential', 'oneway'))
        """
        try:
            digraph, name = osmnx_to_graph(graph, source)
        except ValueError as error:
            raise MapError(str(error)) from None
        return cls(digraph, name=name).validate(source)

    @classmethod
    def load(cls, path: str | Path) -> "RoadNetwork":
        """Read a map from ``.json`` or ``.graphml`` (ours, or OSMnx's), validating every entry.

        A GraphML file with a graph attribute ``crs`` is OpenStreetMap data as
        OSMnx saves it (``ox.save_graphml``) and is read by :meth:`from_osmnx`.

        Raises:
            MapError: unreadable file, bad JSON/GraphML, or a bad node or edge, naming it.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".json", ".graphml"):
            raise MapError(f"{path}: map files must end in .json or .graphml. Received suffix {suffix or '(none)'!r}")
        if suffix == ".json":
            return cls.from_json(read_json(path, "map", error=MapError), source=str(path))
        return cls._from_graphml(read_text(path, "map", error=MapError), str(path))

    @classmethod
    def _from_graphml(cls, text: str, source: str) -> "RoadNetwork":
        try:
            graph = nx.parse_graphml(text, node_type=str, force_multigraph=True)
        except Exception as error:  # networkx raises several types for bad XML
            raise MapError(f"{source}: invalid GraphML: {str(error).splitlines()[0] if str(error) else type(error).__name__}") from None
        if not graph.is_directed():
            raise MapError(f"{source}: the GraphML graph must be directed (edgedefault=\"directed\"); an undirected "
                           f"graph cannot say which way a one-way street runs")
        _refuse_undeclared_nodes(graph, text, source)
        if "crs" in graph.graph:
            return cls.from_osmnx(graph, source)
        simple = nx.DiGraph()
        simple.add_nodes_from(graph.nodes(data=True))
        for u, v, attributes in graph.edges(data=True):
            if simple.has_edge(u, v):
                raise MapError(f"{source}: edge {u}->{v} appears twice; a map in this format has one edge per "
                               f"ordered pair of nodes (an OSMnx file with parallel edges carries a graph attribute `crs`)")
            if isinstance(attributes.get("tags"), str):
                attributes["tags"] = [t for t in attributes["tags"].split(",") if t]
            simple.add_edge(u, v, **attributes)
        name = graph.graph.get("name", "") or Path(source).stem
        try:
            return cls(simple, name=str(name)).validate(source)
        except MapError as error:
            if any(f"attribute {key!r}" in str(error) for key in ("osmid", "street_count", "highway", "oneway")):
                raise MapError(f"{error}. An OSMnx file needs its graph attribute `crs` (e.g. crs=\"epsg:4326\")") from None
            raise

    def save(self, path: str | Path) -> Path:
        """Write the map as ``.json`` or ``.graphml`` atomically (temp file, then rename)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".json":
            text = json.dumps(self.to_json(), indent=1)
        elif suffix == ".graphml":
            graph = nx.DiGraph(name=self.name)
            graph.add_nodes_from(self.graph.nodes(data=True))
            for u, v, attributes in self.graph.edges(data=True):
                graph.add_edge(u, v, **{k: (",".join(a) if k == "tags" else a) for k, a in attributes.items()})
            text = "\n".join(nx.generate_graphml(graph))
        else:
            raise MapError(f"{path}: map files must end in .json or .graphml. Received suffix {suffix or '(none)'!r}")
        write_text_atomic(path, text)
        return path

    def __repr__(self) -> str:
        return f"RoadNetwork({self.name!r}, num_nodes={self.num_nodes}, num_edges={self.num_edges})"


def read_text(path: str | Path, what: str, *, error: type = ValueError) -> str:
    """The text of a file, or one line naming the file when it cannot be read.

    Example:
        >>> read_text("no/such/file.json", "map")
        Traceback (most recent call last):
        ...
        ValueError: no/such/file.json: cannot read map file (No such file or directory)
    """
    try:
        return Path(path).read_text()
    except OSError as failure:
        raise error(f"{path}: cannot read {what} file ({failure.strerror})") from None


def read_json(path: str | Path, what: str, *, error: type = ValueError):
    """The parsed JSON of a file; one line naming the file, line and column when it is not JSON.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "scene.json"
        >>> _ = path.write_text('{"ego": }')
        >>> read_json(path, "scene")
        Traceback (most recent call last):
        ...
        ValueError: ...scene.json:1:9: invalid JSON: Expecting value
    """
    text = read_text(path, what, error=error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as failure:
        raise error(f"{path}:{failure.lineno}:{failure.colno}: invalid JSON: {failure.msg}") from None


# ---------------------------------------------------------------------- validation
def _refuse_undeclared_nodes(graph: nx.MultiDiGraph, text: str, source: str) -> None:
    """Refuse an edge that ends at a node the file never declares (networkx adds such nodes bare)."""
    if all(graph.nodes[n] for n in graph):
        return  # every node carries data, so every node was declared
    declared = {element.get("id") for element in ElementTree.fromstring(text).iter()
                if element.tag.rsplit("}", 1)[-1] == "node"}
    for u, v in graph.edges():
        for end in (u, v):
            if end not in declared:
                raise MapError(f"{source}: edge {u}->{v} ends at node {end!r}, which the file does not declare "
                               f"(dangling edge); expected <node id=\"{end}\"> in the graph")


def _mixed_positions(where: str, has_position: bool) -> str:
    """The message for a map whose nodes have positions and lack them; ``where`` names the odd node."""
    found = "has a position x, y while the nodes before it have none" if has_position else \
        "has no position x, y while the nodes before it have one"
    return f"{where}: {found}; expected x and y (metres) on every node or on none"


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _number(value: Any, key: str, where: str, *, positive: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if isinstance(value, str):  # GraphML may keep numbers as text
        try:
            value, ok = float(value), True
        except ValueError:
            ok = False
    if not ok or (positive and value <= 0):
        what = "a positive number" if positive else "a finite number"
        raise MapError(f"{where}: `{key}` must be {what}. Received {key}={value!r}")
    return float(value)


def _checked_node(node: str, attributes: dict, where: str) -> dict:
    checked = {}
    for key, value in attributes.items():
        if key not in NODE_ATTRIBUTES:
            raise MapError(f"{where}: unknown node attribute {key!r}.{_did_you_mean(key, NODE_ATTRIBUTES)} "
                           f"Expected some of: {', '.join(NODE_ATTRIBUTES)}")
        if key in ("x", "y", "lon", "lat"):
            checked[key] = _number(value, key, where)
        elif key == "lane":
            checked[key] = _lane(value, where)
        else:
            checked[key] = str(value)
    for key, other in (("x", "y"), ("y", "x")):
        if other in checked and key not in checked:
            raise MapError(f"{where}: missing position `{key}` (metres)")
    return checked


def _lane(value: Any, where: str) -> int:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MapError(f"{where}: `lane` must be a lane index >= 0 (0 = leftmost). Received lane={value!r}")
    return value


def _checked_edge(attributes: dict, where: str) -> dict:
    checked = {"speed_limit": DEFAULT_SPEED_LIMIT, "kind": "lane", "turn": "straight"}
    for key, value in attributes.items():
        if key not in EDGE_ATTRIBUTES:
            raise MapError(f"{where}: unknown edge attribute {key!r}.{_did_you_mean(key, EDGE_ATTRIBUTES)} "
                           f"Expected some of: {', '.join(EDGE_ATTRIBUTES)}")
        if key == "length":
            length = _number(value, key, where)
            if length < 0:
                raise MapError(f"{where}: `length` must be >= 0 metres. Received negative length={length!r}")
            checked[key] = length
        elif key == "speed_limit":
            checked[key] = _number(value, key, where, positive=True)
        elif key in ("kind", "turn"):
            choices = KINDS if key == "kind" else TURNS
            if value not in choices:
                raise MapError(f"{where}: `{key}` must be one of {', '.join(choices)}. "
                               f"Received {key}={value!r}.{_did_you_mean(value, choices)}".rstrip("."))
            checked[key] = value
        elif key == "lane":
            checked[key] = _lane(value, where)
        elif key == "tags":
            if isinstance(value, str) or not all(isinstance(t, str) for t in value):
                raise MapError(f"{where}: `tags` must be a list of words. Received tags={value!r}")
            checked[key] = tuple(value)
        else:
            checked[key] = str(value)
    return checked


def _matches(attributes: dict, key: str, value: Any) -> bool:
    if key == "tags":
        return value in attributes.get("tags", ())
    actual = attributes.get(key)
    if isinstance(actual, (int, float)) and isinstance(value, str):
        try:
            return actual == float(value)
        except ValueError:
            return False
    return actual == value


# ---------------------------------------------------------------------- generators
_HEADINGS = {"N": (0, 1), "E": (1, 0), "S": (0, -1), "W": (-1, 0)}
_LEFT_OF = {"N": "W", "W": "S", "S": "E", "E": "N"}
_RIGHT_OF = {v: k for k, v in _LEFT_OF.items()}


def city_grid(rows: int, cols: int, *, block_length: float = 100.0, jitter: float = 10.0,
              missing_fraction: float = 0.0, arterial_every: int = 5, seed: int = 0) -> RoadNetwork:
    """A city of ``rows x cols`` four-way intersections joined by two-way roads.

    Each intersection has an approach point per incoming road and an exit
    point per outgoing road (right-hand traffic); junction edges join them
    with ``straight``/``left``/``right`` turns. Every ``arterial_every``-th row
    and column is an arterial at 22.2 m/s (80 km/h), other roads 13.9 m/s.
    About ``8 * rows * cols`` nodes: ``city_grid(112, 112)`` has ~100k.

    Args:
        rows, cols: intersections per column and per row (each >= 1).
        block_length: metres between neighbouring intersections.
        jitter: intersections move up to this many metres (seeded).
        missing_fraction: share of road segments left out (seeded), in [0, 1).
        arterial_every: period of the faster roads (0: none).
        seed: the seed of positions and missing roads.

    Returns:
        A validated :class:`RoadNetwork` named ``grid{rows}x{cols}``; node ids
        look like ``"3_4_inN"`` (approach of intersection row 3, column 4 for
        traffic heading north) and ``"3_4_outE"``; intersection ids ``"3_4"``.

    Example:
        >>> road = city_grid(2, 2, seed=1)
        >>> road.num_nodes, road.num_edges
        (16, 16)
        >>> road.edge("0_0_inS", "0_0_outE")["turn"]
        'left'
    """
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be an integer >= 1. Received {name}={value!r}")
    if not 0.0 <= missing_fraction < 1.0:
        raise ValueError(f"`missing_fraction` must be in [0, 1). Received missing_fraction={missing_fraction!r}")
    if block_length <= 4 * 8.0 or jitter < 0 or jitter * 2 >= block_length - 2 * 8.0:
        raise ValueError(f"`block_length` must exceed 32 m and leave room for `jitter`. "
                         f"Received block_length={block_length!r}, jitter={jitter!r}")
    rng = random.Random(seed)
    centres = {(r, c): (c * block_length + rng.uniform(-jitter, jitter), r * block_length + rng.uniform(-jitter, jitter))
               for r in range(rows) for c in range(cols)}
    segments = []  # undirected neighbour pairs, each a two-way road
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                segments.append(((r, c), (r, c + 1), r))
            if r + 1 < rows:
                segments.append(((r, c), (r + 1, c), c))
    segments = [s for s in segments if rng.random() >= missing_fraction]
    graph = nx.DiGraph()
    half, offset = 8.0, 1.75  # intersection half width, lane centre offset (m)

    def point(cell, heading, sign):
        (cx, cy), (hx, hy) = centres[cell], _HEADINGS[heading]
        return cx + sign * half * hx + offset * hy, cy + sign * half * hy - offset * hx

    def node(cell, inout, heading):
        name = f"{cell[0]}_{cell[1]}_{inout}{heading}"
        if name not in graph:
            x, y = point(cell, heading, -1 if inout == "in" else 1)
            graph.add_node(name, x=x, y=y, intersection=f"{cell[0]}_{cell[1]}")
        return name

    for a, b, line in segments:
        speed = 22.2 if arterial_every and line % arterial_every == 0 else DEFAULT_SPEED_LIMIT
        forward = "E" if a[0] == b[0] else "N"
        road_name = f"{'row' if forward == 'E' else 'col'} {line}"
        for start, end, heading in ((a, b, forward), (b, a, "W" if forward == "E" else "S")):
            u, v = node(start, "out", heading), node(end, "in", heading)
            pu, pv = graph.nodes[u], graph.nodes[v]
            graph.add_edge(u, v, length=math.hypot(pv["x"] - pu["x"], pv["y"] - pu["y"]), speed_limit=speed, kind="lane",
                           turn="straight", road=road_name, lane=0)
    for name in list(graph.nodes):
        row, col, tail = name.split("_")
        if not tail.startswith("in"):
            continue
        heading = tail[2:]
        for turn, out_heading, length in (("straight", heading, 2 * half),
                                          ("left", _LEFT_OF[heading], math.pi / 2 * (half + offset)),
                                          ("right", _RIGHT_OF[heading], math.pi / 2 * (half - offset))):
            target = f"{row}_{col}_out{out_heading}"
            if target in graph:
                graph.add_edge(name, target, length=length, speed_limit=8.3 if turn != "straight" else DEFAULT_SPEED_LIMIT,
                               kind="junction", turn=turn)
    return RoadNetwork(graph, name=f"grid{rows}x{cols}")


def straight_road(*, num_lanes: int = 3, length: float = 200.0, spacing: float = 10.0, lane_width: float = 3.5,
                  speed_limit: float = DEFAULT_SPEED_LIMIT, crossing_at: float | None = 100.0,
                  crossing_half_width: float = 7.0, start_y: float = 0.0) -> RoadNetwork:
    """The synthetic world's road: ``num_lanes`` lanes heading north (+y), optionally crossed by an east-west road.

    Lane ``i`` (0 = leftmost) has its centre at ``x = (i + 0.5) * lane_width``
    and nodes ``L{i}_{k}`` every ``spacing`` metres from ``y = start_y``; lane-change
    edges join ``L{i}_{k}`` to the neighbouring lane's ``L{i±1}_{k+1}``. With
    ``crossing_at`` set, the lanes stop at ``L{i}_stop`` (the stop line,
    ``y = crossing_at - crossing_half_width``), cross to ``L{i}_exit`` and go
    on; the leftmost lane may turn left onto the westbound lane (nodes
    ``W_*``), the rightmost right onto the eastbound lane (``E_*``).

    Args:
        num_lanes: lanes in the ego's direction (>= 1).
        length: metres of road from ``y = start_y``.
        spacing: metres between lane nodes.
        lane_width: metres.
        speed_limit: m/s on every lane.
        crossing_at: ``y`` of the crossing road's centre line, or None.
        crossing_half_width: half the crossing road's width (m).
        start_y: ``y`` of the road's first nodes (m).

    Returns:
        A :class:`RoadNetwork` named ``straight{num_lanes}``; its stop-line
        nodes carry ``intersection="X"``.

    Example:
        >>> road = straight_road(num_lanes=2, length=100, spacing=25, crossing_at=50)
        >>> road.edge("L0_stop", "L0_exit")["turn"], road.node("L1_0")["lane"]
        ('straight', 1)
        >>> sorted(t for _, _, t in road.graph.edges(data="turn") if t in ("left", "right"))
        ['left', 'right']
    """
    if isinstance(num_lanes, bool) or not isinstance(num_lanes, int) or num_lanes < 1:
        raise ValueError(f"`num_lanes` must be an integer >= 1. Received num_lanes={num_lanes!r}")
    if spacing <= 0 or length < spacing:
        raise ValueError(f"`spacing` must be > 0 and <= `length`. Received spacing={spacing!r}, length={length!r}")
    if crossing_at is not None and not (crossing_half_width + spacing <= crossing_at - start_y
                                        <= length - crossing_half_width - spacing):
        raise ValueError(f"`crossing_at` must leave one `spacing` of road on each side of the crossing. "
                         f"Received crossing_at={crossing_at!r}")
    road = RoadNetwork(name=f"straight{num_lanes}")
    stop_y = None if crossing_at is None else crossing_at - crossing_half_width
    exit_y = None if crossing_at is None else crossing_at + crossing_half_width
    lanes: list[list[str]] = []
    for lane in range(num_lanes):
        x = (lane + 0.5) * lane_width
        ys = [start_y + k * spacing for k in range(int(length // spacing) + 1)]
        names = []
        for k, y in enumerate(ys):
            if stop_y is not None and stop_y - spacing / 2 < y < exit_y + spacing / 2:
                continue  # the crossing and the stop-line approach
            names.append(f"L{lane}_{k}")
            road.add_node(names[-1], x=x, y=y, lane=lane, road="main")
        if stop_y is not None:
            road.add_node(f"L{lane}_stop", x=x, y=stop_y, lane=lane, road="main", intersection="X")
            road.add_node(f"L{lane}_exit", x=x, y=exit_y, lane=lane, road="main")
            names.append(f"L{lane}_stop")
            names.append(f"L{lane}_exit")
        names.sort(key=lambda n: road.node(n)["y"])
        lanes.append(names)
        for u, v in zip(names, names[1:]):
            kind = "junction" if u.endswith("_stop") else "lane"
            road.add_edge(u, v, speed_limit=speed_limit, kind=kind, turn="straight", road="main", lane=lane)
    for lane in range(num_lanes):
        for side, turn in ((-1, "change_left"), (1, "change_right")):
            other = lane + side
            if not 0 <= other < num_lanes:
                continue
            ahead = {road.node(n)["y"]: n for n in lanes[other]}
            for u, v in zip(lanes[lane], lanes[lane][1:]):
                target = ahead.get(road.node(v)["y"])
                no_change = u.endswith("_stop") or v.endswith("_stop")  # solid line before the crossing
                if target is not None and not no_change:
                    road.add_edge(u, target, speed_limit=speed_limit, kind="lane_change", turn=turn, road="main")
    if crossing_at is not None:
        _add_crossing(road, num_lanes, lane_width, crossing_at, speed_limit)
    return road


def _add_crossing(road: RoadNetwork, num_lanes: int, lane_width: float, crossing_at: float, speed_limit: float) -> None:
    """The east-west road of :func:`straight_road` and the turns onto it."""
    width = num_lanes * lane_width
    for prefix, y, xs in (("E", crossing_at - lane_width / 2, (-30.0, width + 30.0)),
                          ("W", crossing_at + lane_width / 2, (width + 30.0, -30.0))):
        start, end = f"{prefix}_start", f"{prefix}_end"
        entry, leave = f"{prefix}_in", f"{prefix}_out"
        near, far = (-2.0, width + 2.0) if prefix == "E" else (width + 2.0, -2.0)
        for name, x in ((start, xs[0]), (entry, near), (leave, far), (end, xs[1])):
            road.add_node(name, x=x, y=y, road="cross", **({"intersection": "X"} if name == entry else {}))
        road.add_edge(start, entry, speed_limit=speed_limit, road="cross")
        road.add_edge(entry, leave, speed_limit=speed_limit, kind="junction", turn="straight", road="cross")
        road.add_edge(leave, end, speed_limit=speed_limit, road="cross")
    (sx, sy), (ex, ey) = road.position("L0_stop"), road.position("W_out")
    road.add_edge("L0_stop", "W_out", length=math.pi / 2 * max(abs(ex - sx), abs(ey - sy)),
                  speed_limit=8.3, kind="junction", turn="left", road="cross")
    last = num_lanes - 1
    (sx, sy), (ex, ey) = road.position(f"L{last}_stop"), road.position("E_out")
    road.add_edge(f"L{last}_stop", "E_out", length=math.pi / 2 * max(abs(ex - sx), abs(ey - sy)),
                  speed_limit=8.3, kind="junction", turn="right", road="cross")
