"""The scene graph: objects, the ego and the road map as one typed graph.

Nodes carry ``kind``: ``"ego"``, ``"object"``, ``"lane"``, ``"crosswalk"``
or ``"stop_line"``. Edges carry ``relation``:

=================  ========================  =========================================
relation           from -> to                meaning
=================  ========================  =========================================
``in_lane``        object or ego -> lane     its centre lies in the lane
``ahead_of``       object -> ego             entirely in front of the ego
``behind``         object -> ego             entirely behind the ego
``beside``         object -> ego             overlapping the ego along the road
``near``           object -> object          centres within ``near_radius`` (both ways)
``in_crosswalk``   object -> crosswalk       its centre lies on the crosswalk
``at``             object -> stop_line       within reach of the stop line
``controls``       light or sign -> stop_line  it governs traffic at that line
``governs``        stop_line -> lane         the line stops traffic in that lane
``left_of``        lane -> lane              the lane directly to the left
=================  ========================  =========================================

Object -> ego edges also carry ``side`` (``"left"``, ``"right"`` or ``""``)
and ``distance`` (metres). ``near`` edges carry ``confidence``: 0.5 when the
distance lies within the objects' position uncertainty of ``near_radius``
(:func:`near_confidence`). Relational facts such as ``near(o1, o2)`` are read
off the graph by :meth:`SceneGraph.relational_facts`.
"""
from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Sequence

import networkx as nx

from symbolic.files import write_text_atomic
from symbolic.reasoning.facts import Fact

from bridge import geometry
from bridge.vocabulary import NEAR_RADIUS_M

EGO = "ego"


def lane_node(index: int) -> str:
    """The graph node of lane ``index``.

    Example:
        >>> lane_node(2)
        'lane:2'
    """
    return f"lane:{index}"


class SceneGraph:
    """A typed ``networkx.DiGraph`` of one frame.

    Args:
        graph: the graph; build one with :meth:`from_objects`.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap
        >>> from bridge.geometry import ObjectState
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> objects = [ObjectState("o1", "car", (0.0, 12.0), (4.5, 1.8)),
        ...            ObjectState("o2", "pedestrian", (2.0, 14.0), (0.6, 0.6))]
        >>> sg = SceneGraph.from_objects(objects, road, EgoState(lane=0, speed=0.0))
        >>> sg.graph.edges["o1", "ego"]["relation"], sg.graph.edges["o1", "lane:0"]["relation"]
        ('ahead_of', 'in_lane')
        >>> [f.atom for f in sg.relational_facts()]
        ['near(o1, o2)', 'near(o2, o1)']
    """

    def __init__(self, graph: nx.DiGraph):
        self.graph = graph

    @classmethod
    def from_objects(cls, objects: Sequence[geometry.ObjectState], road, ego, *,
                     near_radius: float = NEAR_RADIUS_M) -> "SceneGraph":
        """Build the graph of one frame from its objects, road map and ego state."""
        graph = nx.DiGraph()
        _add_road(graph, road)
        graph.add_node(EGO, kind="ego", label="ego", x=0.0, y=0.0, speed=float(ego.speed),
                       length=float(ego.length), width=float(ego.width))
        if lane_node(road.ego_lane) in graph:
            graph.add_edge(EGO, lane_node(road.ego_lane), relation="in_lane")
        for obj in objects:
            _add_object(graph, obj, road, ego)
        _add_near(graph, objects, near_radius)
        return cls(graph)

    def objects(self) -> list[str]:
        """Ids of the object nodes."""
        return [n for n, kind in self.graph.nodes(data="kind") if kind == "object"]

    def edges(self, relation: str) -> list[tuple[str, str]]:
        """Every ``(u, v)`` edge with this relation.

        Example:
            >>> SceneGraph(nx.DiGraph([("a", "b", {"relation": "near"})])).edges("near")
            [('a', 'b')]
        """
        return [(u, v) for u, v, r in self.graph.edges(data="relation") if r == relation]

    def relational_facts(self) -> list[Fact]:
        """Facts relating two objects: ``near(a, b)`` for each near edge, with its confidence."""
        return [Fact("near", (u, v), float(data.get("confidence", 1.0)))
                for u, v, data in self.graph.edges(data=True) if data.get("relation") == "near"]

    def to_json(self) -> dict:
        """Node-link JSON: ``{"nodes": [...], "edges": [...]}``."""
        nodes = [{"id": n, **_plain(data)} for n, data in self.graph.nodes(data=True)]
        edges = [{"source": u, "target": v, **_plain(data)} for u, v, data in self.graph.edges(data=True)]
        return {"directed": True, "nodes": nodes, "edges": edges}

    @classmethod
    def from_json(cls, data: dict) -> "SceneGraph":
        """Inverse of :meth:`to_json`."""
        graph = nx.DiGraph()
        for node in data["nodes"]:
            attributes = {k: v for k, v in node.items() if k != "id"}
            graph.add_node(node["id"], **attributes)
        for edge in data["edges"]:
            attributes = {k: v for k, v in edge.items() if k not in ("source", "target")}
            graph.add_edge(edge["source"], edge["target"], **attributes)
        return cls(graph)

    def write_json(self, path: str | Path) -> Path:
        """Write :meth:`to_json` to ``path`` atomically."""
        return write_text_atomic(Path(path), json.dumps(self.to_json(), indent=1))

    def write_graphml(self, path: str | Path) -> Path:
        """Write GraphML (lists become comma-separated strings) to ``path`` atomically."""
        graph = nx.DiGraph()
        graph.add_nodes_from((n, _graphml_safe(d)) for n, d in self.graph.nodes(data=True))
        graph.add_edges_from((u, v, _graphml_safe(d)) for u, v, d in self.graph.edges(data=True))
        return write_text_atomic(Path(path), "\n".join(nx.generate_graphml(graph)))

    def to_svg(self, *, size: int = 260, extent_m: float = 50.0) -> str:
        """A bird's-eye drawing of the graph as inline SVG (ego at the bottom centre).

        Objects sit at their positions; lanes are grey bands; edges between
        objects (``near``) are dashed; object -> ego edges are thin lines.
        """
        scale = size / extent_m

        def to_px(x, y):
            return size / 2 + x * scale, size * 0.85 - y * scale

        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
                 f'viewBox="0 0 {size} {size}" class="scene-graph"><rect width="{size}" height="{size}" fill="#f7f7f7"/>']
        for node, data in self.graph.nodes(data=True):
            if data.get("kind") == "lane":
                left, _ = to_px(data["center_x"] - data["width"] / 2, 0)
                right, _ = to_px(data["center_x"] + data["width"] / 2, 0)
                fill = "#dcdcdc" if data.get("ego_lane") else "#e8e8e8"
                parts.append(f'<rect x="{left:.1f}" y="0" width="{right - left:.1f}" height="{size}" fill="{fill}" '
                             f'stroke="#bbb" stroke-width="0.5"><title>{html.escape(node)}</title></rect>')
        positions = {n: to_px(d["x"], d["y"]) for n, d in self.graph.nodes(data=True) if d.get("kind") in ("object", "ego")}
        for u, v, relation in self.graph.edges(data="relation"):
            if u in positions and v in positions:
                (x1, y1), (x2, y2) = positions[u], positions[v]
                dash = ' stroke-dasharray="3,2"' if relation == "near" else ""
                color = "#d9534f" if relation == "near" else "#999"
                parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
                             f'stroke-width="0.8"{dash}><title>{html.escape(f"{relation}({u}, {v})")}</title></line>')
        for node, (x, y) in positions.items():
            data = self.graph.nodes[node]
            color = "#1f77b4" if node == EGO else LABEL_COLORS.get(data.get("label"), "#444")
            radius = 5 if node == EGO else 3.5
            title = html.escape(f"{node}: {data.get('label')}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{color}"><title>{title}</title></circle>')
            parts.append(f'<text x="{x + 5:.1f}" y="{y - 4:.1f}" font-size="8" fill="#222">{html.escape(node)}</text>')
        parts.append("</svg>")
        return "".join(parts)


#: The colour of each class's nodes in :meth:`SceneGraph.to_svg` (the report's legend reads it).
LABEL_COLORS = {"car": "#2ca02c", "truck": "#8c564b", "pedestrian": "#d62728", "cyclist": "#ff7f0e",
                "traffic_light": "#9467bd", "stop_sign": "#e377c2"}


def _add_road(graph: nx.DiGraph, road) -> None:
    for lane in road.lanes:
        graph.add_node(lane_node(lane.index), kind="lane", index=int(lane.index), center_x=float(lane.center_x),
                       width=float(lane.width), direction=int(lane.direction), speed_limit=float(lane.speed_limit),
                       ego_lane=lane.index == road.ego_lane)
    for lane in road.lanes:
        left = geometry.neighbour_lane(road, lane.index, "left")
        if left is not None:
            graph.add_edge(lane_node(left.index), lane_node(lane.index), relation="left_of")
    for i, crosswalk in enumerate(road.crosswalks):
        graph.add_node(f"crosswalk:{i}", kind="crosswalk", x_min=float(crosswalk.x_min), x_max=float(crosswalk.x_max),
                       y_min=float(crosswalk.y_min), y_max=float(crosswalk.y_max))
    for i, line in enumerate(road.stop_lines):
        node = f"stop_line:{i}"
        graph.add_node(node, kind="stop_line", y=float(line.y), x_min=float(line.x_min), x_max=float(line.x_max))
        for index in line.lanes:
            if lane_node(index) in graph:
                graph.add_edge(node, lane_node(index), relation="governs")


def _add_object(graph: nx.DiGraph, obj, road, ego) -> None:
    graph.add_node(obj.id, kind="object", label=obj.label, x=float(obj.position[0]), y=float(obj.position[1]),
                   length=float(obj.size[0]), width=float(obj.size[1]), confidence=float(obj.confidence))
    if geometry.is_ahead(obj, ego):
        relation = "ahead_of"
    elif geometry.is_behind(obj, ego):
        relation = "behind"
    else:
        relation = "beside"
    side = "left" if geometry.is_left_of(obj, ego) else "right" if geometry.is_right_of(obj, ego) else ""
    graph.add_edge(obj.id, EGO, relation=relation, side=side, distance=round(geometry.distance(obj), 3))
    lane = geometry.lane_of(obj, road)
    if lane is not None and lane_node(lane) in graph:
        graph.add_edge(obj.id, lane_node(lane), relation="in_lane")
    x, y = obj.position
    for i, c in enumerate(road.crosswalks):
        if c.x_min <= x <= c.x_max and c.y_min <= y <= c.y_max:
            graph.add_edge(obj.id, f"crosswalk:{i}", relation="in_crosswalk")
    line = geometry.stop_line_of(obj, road)
    if line is not None:
        node = f"stop_line:{list(road.stop_lines).index(line)}"
        relation = "controls" if obj.label in geometry.CONTROL_LABELS and obj.position[1] > 0 else "at"
        graph.add_edge(obj.id, node, relation=relation)


def _add_near(graph: nx.DiGraph, objects, radius: float) -> None:
    """Near edges both ways between every two objects, with :func:`near_confidence` inlined (a frame of
    20 objects has 190 pairs)."""
    edges = []
    rows = [(o.id, o.position, o.position_uncertainty) for o in objects]
    root_two, uncertain = math.sqrt(2), geometry.UNCERTAIN_GEOMETRY_CONFIDENCE
    for i, (a, a_position, a_uncertainty) in enumerate(rows):
        for b, b_position, b_uncertainty in rows[i + 1:]:
            d = math.dist(a_position, b_position)
            slack = root_two * (a_uncertainty + b_uncertainty)
            if d + slack <= radius:
                confidence = 1.0
            elif d - slack > radius:
                continue
            else:
                confidence = uncertain
            edges.append((a, b, {"relation": "near", "confidence": confidence}))
            edges.append((b, a, {"relation": "near", "confidence": confidence}))
    graph.add_edges_from(edges)


def near_confidence(a, b, radius: float) -> float:
    """Confidence of ``near(a, b)``: centres within ``radius``, given how far each position may be off.

    1 when the centres are within ``radius`` however far off the two
    positions are, 0 when they are surely farther, and
    ``geometry.UNCERTAIN_GEOMETRY_CONFIDENCE`` when their distance lies
    within the two objects' ``position_uncertainty`` (each axis, so up to
    sqrt(2) times that in distance) of ``radius``.

    Example:
        >>> from bridge.geometry import ObjectState
        >>> a = ObjectState("a", "pedestrian", (0.0, 10.0), (0.6, 0.6), position_uncertainty=0.2)
        >>> b = ObjectState("b", "pedestrian", (0.0, 14.9), (0.6, 0.6), position_uncertainty=0.2)
        >>> near_confidence(a, b, 5.0), near_confidence(a, b, 6.0), near_confidence(a, b, 4.0)
        (0.5, 1.0, 0.0)
    """
    d = math.dist(a.position, b.position)
    slack = math.sqrt(2) * (a.position_uncertainty + b.position_uncertainty)
    if d + slack <= radius:
        return 1.0
    if d - slack > radius:
        return 0.0
    return geometry.UNCERTAIN_GEOMETRY_CONFIDENCE


def _plain(data: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items()}


def _graphml_safe(data: dict) -> dict:
    return {k: (",".join(map(str, v)) if isinstance(v, (tuple, list)) else v) for k, v in data.items()}


