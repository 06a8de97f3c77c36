"""OpenStreetMap road maps as OSMnx builds them: longitude/latitude, tag text, one-way streets, parallel edges.

Python users get a city's roads with OSMnx (``G = ox.graph_from_place(...)``,
``ox.save_graphml(G, "city.graphml")``): a networkx ``MultiDiGraph`` whose
nodes carry ``x`` (longitude), ``y`` (latitude) and ``street_count``, whose
edges carry ``length`` (metres), ``highway``, ``maxspeed``, ``oneway``,
``reversed``, ``name``, ``osmid``, ``geometry`` (WKT) and more, every value
written as text (lists as ``"['30 mph', '40 mph']"``), and whose graph carries
``crs`` (``"epsg:4326"``). :func:`osmnx_to_graph` turns such a graph into the
``DiGraph`` of a :class:`~symbolic.planning.roadnet.RoadNetwork`, which
``RoadNetwork.from_osmnx`` validates; ``RoadNetwork.load`` calls it for every
GraphML file whose graph has a ``crs``:

- **Positions.** Longitude/latitude are projected to metres around the map's
  centre (:class:`LocalProjection`: ``x`` east, ``y`` north, the WGS84
  ellipsoid's radii of curvature at the centre). Distances come out too long
  or too short by at most ``tan(centre latitude) * (latitude span / 2)``
  (radians) to first order, e.g. 0.1 % for a map 10 km tall at 52 degrees; the
  bound is computed for each map and a warning given above 1 %. A graph in a
  metric projection (``ox.project_graph``: UTM, ``+units=m``) keeps its
  ``x``, ``y``. The degrees stay on each node as ``lon``, ``lat``.
- **Lengths** come from ``length``; without it from ``geometry`` (the
  projected polyline), else the straight line between the nodes.
- **Speeds** (``speed_limit``, m/s) come from ``maxspeed``
  (:func:`parse_maxspeed`: ``mph``, ``km/h``, ``knots``; a plain number is km/h;
  of several values, ``"50;70"`` or a list, the lowest: the limit that holds
  everywhere on the edge, where OSMnx's ``add_edge_speeds`` takes the mean);
  without a number (missing, ``none``, ``signals``, zone codes such as
  ``DE:urban``) from OSMnx's ``speed_kph`` when present, else from the default
  for the edge's ``highway`` type (:data:`DEFAULT_SPEEDS_KMH`). A ``maxspeed``
  that is no speed at all (``"fast"``) gets the default too, with one warning
  per file naming an example.
- **Directions.** Each edge of the file is one direction someone may drive
  (OSMnx adds a two-way street as two edges, ``reversed`` False and True, a
  one-way street as one, a ``oneway=-1`` way already turned around), so no
  edge is added or dropped. ``oneway`` (``True``/``False``, or OSM's
  ``yes``/``no``/``1``/``0``/``-1``/``reversible``) and ``reversed`` are
  checked and a one-way edge gets the tag ``oneway``.
- **Parallel edges** (two roads from ``u`` to ``v``, MultiDiGraph keys 0, 1,
  ...): key 0 stays the edge ``u -> v``; each further key ``k`` becomes
  ``u -> "u-v-k" -> v`` through a node halfway along it, each half carrying
  half its length, so every cost function sees every road.
- **Tags** (for ``Avoid``): the ``highway`` type(s) (``residential``,
  ``motorway``, ...), ``oneway``, and ``bridge``, ``tunnel``, ``toll``,
  ``roundabout`` where the way says so. ``road`` is the ``name`` (several
  names joined by ``"; "``), else the ``ref``. Other tags are ignored.

Errors name the file, the node or edge, and what was expected::

    city.graphml: node '53017091': `x` must be a longitude in [-180, 180]. Received x='abc'
    city.graphml: edge 1->2 (key 0): `oneway` must be True, False, yes, no, 1, 0 or -1. Received oneway='maybe'
"""
from __future__ import annotations

import ast
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import networkx as nx

KMH = 1 / 3.6  # m/s per km/h
SPEED_UNITS = {"km/h": KMH, "kmh": KMH, "kph": KMH, "mph": 0.44704, "knots": 0.514444, "knot": 0.514444,
               "kn": 0.514444}
NO_NUMBER = ("none", "signals", "variable", "unposted", "implicit", "walk")  # maxspeed words without a limit
DEFAULT_SPEEDS_KMH = {  # by `highway` type, for edges whose maxspeed gives no number (urban values)
    "motorway": 100, "motorway_link": 60, "trunk": 80, "trunk_link": 50, "primary": 60, "primary_link": 40,
    "secondary": 50, "secondary_link": 40, "tertiary": 50, "tertiary_link": 30, "unclassified": 40,
    "residential": 30, "living_street": 10, "service": 20, "road": 40, "track": 20, "busway": 50,
}
ONEWAY_VALUES = {"true": True, "yes": True, "1": True, "-1": True, "reverse": True, "t": True, "reversible": True,
                 "alternating": True, "false": False, "no": False, "0": False, "f": False}
FLAG_TAGS = ("bridge", "tunnel", "toll")  # way tags that become edge tags when set (not "no")
WAY_KEYS = ("highway", "maxspeed", "speed_kph", "oneway", "reversed", "name", "ref", "junction") + FLAG_TAGS
WGS84_A = 6378137.0  # semi-major axis (m)
WGS84_F = 1 / 298.257223563  # flattening
MAX_PROJECTION_ERROR = 0.01  # warn above this relative distance error
_SPEED = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z/]*)$")
_LINESTRING = re.compile(r"^\s*LINESTRING\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class LocalProjection:
    """Longitude/latitude (degrees) to metres east and north of a centre: a local equirectangular projection.

    ``x = N cos(lat0) * (lon - lon0)``, ``y = M * (lat - lat0)`` with ``M``,
    ``N`` the WGS84 meridian and prime-vertical radii of curvature at the
    centre (angles in radians). Exact in scale at the centre's latitude; a
    distance elsewhere is off by at most :meth:`max_relative_error` (to first
    order ``tan(lat0) * |lat - lat0|``).

    Example:
        >>> projection = LocalProjection(lon0=13.4, lat0=52.5)
        >>> [round(value, 1) for value in projection.to_metres(13.4, 52.509)]  # 0.009 degrees north
        [0.0, 1001.5]
        >>> round(projection.max_relative_error(52.45, 52.55), 4)  # a map 11 km tall: 0.11 %
        0.0011
    """

    lon0: float
    lat0: float

    @classmethod
    def around(cls, lons: Iterable[float], lats: Iterable[float]) -> "LocalProjection":
        """The projection centred on the middle of the points' bounding box (longitudes may cross 180)."""
        lons, lats = list(lons), list(lats)
        if not lons:
            return cls(0.0, 0.0)
        offsets = [_wrapped(lon - lons[0]) for lon in lons]
        lon0 = _wrapped(lons[0] + (min(offsets) + max(offsets)) / 2)
        return cls(lon0, (min(lats) + max(lats)) / 2)

    @property
    def _radii(self) -> tuple[float, float]:
        """``(M, N)`` at the centre's latitude, metres per radian."""
        e2 = WGS84_F * (2 - WGS84_F)
        w = 1 - e2 * math.sin(math.radians(self.lat0)) ** 2
        return WGS84_A * (1 - e2) / w ** 1.5, WGS84_A / math.sqrt(w)

    def to_metres(self, lon: float, lat: float) -> tuple[float, float]:
        """``(x, y)`` in metres east and north of the centre."""
        meridian, prime_vertical = self._radii
        x = prime_vertical * math.cos(math.radians(self.lat0)) * math.radians(_wrapped(lon - self.lon0))
        return x, meridian * math.radians(lat - self.lat0)

    def max_relative_error(self, lat_min: float, lat_max: float) -> float:
        """The largest relative error of a projected distance between latitudes ``lat_min`` and ``lat_max``.

        The east-west scale at latitude ``lat`` is ``N(lat0) cos(lat0) / (N(lat) cos(lat))``
        of the truth (the north-south scale varies a hundred times less); the
        worst of the two extremes, plus 1e-6 for second-order terms at city scale.
        """
        def parallel_radius(lat):
            e2 = WGS84_F * (2 - WGS84_F)
            return WGS84_A / math.sqrt(1 - e2 * math.sin(math.radians(lat)) ** 2) * math.cos(math.radians(lat))

        centre = parallel_radius(self.lat0)
        return max(abs(centre / parallel_radius(lat) - 1) for lat in (lat_min, lat_max)) + 1e-6


def parse_maxspeed(value: Any) -> float | None:
    """A ``maxspeed`` tag in m/s: the lowest of its values; None when it gives no number.

    Args:
        value: OSM text such as ``"50"`` (km/h), ``"30 mph"``, ``"25 knots"``,
            ``"50;70"`` (several: the lowest), an OSMnx list (``['30', '50']``
            or its text ``"['30', '50']"``), ``"none"``/``"signals"``/``"DE:urban"``
            (no number: None), or a number (km/h).

    Returns:
        The speed in m/s, or None.

    Raises:
        ValueError: a value that is no speed, naming it and what was expected.

    Example:
        >>> round(parse_maxspeed("50 mph"), 2), round(parse_maxspeed("30"), 2), round(parse_maxspeed("50;70"), 2)
        (22.35, 8.33, 13.89)
        >>> round(parse_maxspeed("['30 mph', '40 mph']"), 2), parse_maxspeed("none"), parse_maxspeed("DE:urban")
        (13.41, None, None)
        >>> parse_maxspeed("fast")
        Traceback (most recent call last):
        ...
        ValueError: 'fast' is not a speed; expected a number (km/h) or a number with mph, km/h or knots
    """
    speeds = []
    for text in osm_values(value):
        for token in re.split(r"[;|]", text):
            token = token.strip().lower()
            if not token or token in NO_NUMBER or re.fullmatch(r"[a-z]{2}:[a-z0-9_:.]+", token):
                continue
            match = _SPEED.match(token.replace("km/h", " km/h"))
            unit = match and (match.group(2) or "km/h")
            if not match or unit not in SPEED_UNITS or float(match.group(1)) <= 0:
                raise ValueError(f"{token!r} is not a speed; expected a number (km/h) or a number with mph, "
                                 f"km/h or knots")
            speeds.append(float(match.group(1)) * SPEED_UNITS[unit])
    return min(speeds, default=None)


def default_speed(highway: Any) -> float:
    """The speed (m/s) assumed for a road of this ``highway`` type without a speed limit.

    Several types (a merged edge): the lowest default. Unknown types: 50 km/h.

    Example:
        >>> round(default_speed("residential") * 3.6), round(default_speed("['primary', 'residential']") * 3.6)
        (30, 30)
    """
    speeds = [DEFAULT_SPEEDS_KMH[kind] * KMH for kind in osm_values(highway) if kind in DEFAULT_SPEEDS_KMH]
    return min(speeds, default=50 * KMH)


def parse_oneway(value: Any) -> bool:
    """Whether an OSM/OSMnx ``oneway`` value makes the way one-way (``-1``: one-way against its drawing).

    Raises:
        ValueError: for a value OSM does not use.

    Example:
        >>> parse_oneway("True"), parse_oneway("no"), parse_oneway("-1"), parse_oneway("[False, True]")
        (True, False, True, True)
    """
    flags = []
    for text in osm_values(value):
        flag = ONEWAY_VALUES.get(text.strip().lower())
        if flag is None:
            raise ValueError(f"`oneway` must be True, False, yes, no, 1, 0 or -1. Received oneway={text!r}")
        flags.append(flag)
    return any(flags)


def osm_values(value: Any) -> list[str]:
    """The values of an OSMnx attribute as text: one, or each of a list (OSMnx writes lists as their Python text).

    Example:
        >>> osm_values("['Main Street', 'High Street']"), osm_values(30), osm_values(None)
        (['Main Street', 'High Street'], ['30'], [])
    """
    if value is None:
        return []
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return [value]
    if isinstance(value, (list, tuple, set)):
        return [str(item) for item in value]
    return [str(value)]


def parse_linestring(value: Any) -> list[tuple[float, float]]:
    """The points of a WKT ``LINESTRING (x y, x y, ...)`` (or of a shapely-like object with ``coords``).

    Raises:
        ValueError: for anything else.

    Example:
        >>> parse_linestring("LINESTRING (13.40 52.50, 13.41 52.51)")
        [(13.4, 52.5), (13.41, 52.51)]
    """
    if hasattr(value, "coords"):
        return [(float(p[0]), float(p[1])) for p in value.coords]
    match = _LINESTRING.match(str(value))
    points = []
    for pair in (match.group(1).split(",") if match else ()):
        numbers = pair.split()
        try:
            x, y = (float(n) for n in numbers[:2])
        except ValueError:
            break
        if len(numbers) not in (2, 3) or not (math.isfinite(x) and math.isfinite(y)):
            break
        points.append((x, y))
    else:
        if len(points) >= 2:
            return points
    shown = str(value) if len(str(value)) <= 60 else str(value)[:57] + "..."
    raise ValueError(f"`geometry` must be WKT like 'LINESTRING (lon lat, lon lat, ...)'. Received geometry={shown!r}")


def osmnx_to_graph(graph: nx.MultiDiGraph, source: str = "<osmnx>") -> tuple[nx.DiGraph, str]:
    """The road map of an OSMnx street graph (read from GraphML, or in memory), and its name.

    ``RoadNetwork.from_osmnx(graph)`` wraps this and validates the result.

    Args:
        graph: a networkx ``MultiDiGraph`` (or ``DiGraph``) in OSMnx's form
            (module docstring), its graph attribute ``crs`` geographic
            (``epsg:4326``) or a metric projection.
        source: the file name for messages and the map's name.

    Returns:
        ``(digraph, name)``: a ``DiGraph`` with the node and edge attributes of
        a :class:`~symbolic.planning.roadnet.RoadNetwork`, and ``source``'s stem.

    Raises:
        ValueError: naming the file, the node or edge, and what was expected.

    Example:
        >>> graph = nx.MultiDiGraph(crs="epsg:4326")
        >>> graph.add_node(1, x="13.400", y="52.500", street_count="3")
        >>> graph.add_node(2, x="13.401", y="52.500", street_count="1")
        >>> _ = graph.add_edge(1, 2, length="67.9", maxspeed="30 mph", oneway="True", highway="residential")
        >>> road, name = osmnx_to_graph(graph, "berlin.graphml")
        >>> edge = road.edges["1", "2"]
        >>> name, edge["tags"], round(edge["speed_limit"], 2), road.has_edge("2", "1")
        ('berlin', ('residential', 'oneway'), 13.41, False)
        >>> [round(road.nodes["2"][key], 1) for key in ("x", "y")]
        [34.0, 0.0]
    """
    if not graph.is_directed():
        raise ValueError(f"{source}: the graph must be directed (an OSMnx MultiDiGraph); an undirected graph "
                       f"cannot say which way a one-way street runs")
    geographic = _is_geographic(graph.graph.get("crs"), source)
    nodes = {str(node): _node_position(str(node), attributes, geographic, source)
             for node, attributes in graph.nodes(data=True)}
    projection = None
    if geographic:
        projection = LocalProjection.around([p[0] for p in nodes.values()], [p[1] for p in nodes.values()])
        if nodes:
            lats = [p[1] for p in nodes.values()]
            error = projection.max_relative_error(min(lats), max(lats))
            if error > MAX_PROJECTION_ERROR:
                warnings.warn(f"{source}: the map spans latitudes {min(lats):.3f} to {max(lats):.3f}; its local "
                              f"projection to metres misstates distances by up to {error:.1%} (lengths come from "
                              f"the file and stay exact)", stacklevel=3)
    road = nx.DiGraph()
    for node, (x, y) in nodes.items():
        if projection is None:
            road.add_node(node, x=x, y=y)
        else:
            road.add_node(node, **dict(zip(("x", "y"), projection.to_metres(x, y))), lon=x, lat=y)
    speed_problems: list[str] = []
    ways: dict[tuple, tuple[dict, bool]] = {}  # way tags -> road attributes: many edges share their way's tags
    multigraph = graph.is_multigraph()
    edges = graph.edges(keys=True, data=True) if multigraph else ((u, v, 0, a) for u, v, a in graph.edges(data=True))
    for u, v, key, attributes in sorted(edges, key=_edge_order):
        u, v = str(u), str(v)
        where = f"{source}: edge {u}->{v} (key {key})"
        tags = tuple(repr(attributes.get(key)) for key in WAY_KEYS)
        if tags not in ways:
            try:
                ways[tags] = _way_attributes(attributes)
            except ValueError as error:
                raise ValueError(f"{where}: {error}") from None
        way, no_speed = ways[tags]
        if no_speed:
            speed_problems.append(f"edge {u}->{v} (key {key}) maxspeed={attributes.get('maxspeed')!r}")
        edge, points = _edge_geometry(attributes, where, projection)
        edge.update(way)
        if not road.has_edge(u, v):
            edge.setdefault("length", _polyline_length(points or [road.nodes[u], road.nodes[v]]))
            road.add_edge(u, v, **edge)
        else:
            _add_parallel_edge(road, u, v, key, edge, points)
    if speed_problems:
        warnings.warn(f"{source}: {len(speed_problems)} edge(s) have a maxspeed that is no speed (first: "
                      f"{speed_problems[0]}); they get the default speed of their highway type", stacklevel=3)
    name = str(graph.graph.get("name") or Path(source).stem)
    return road, name


def _edge_order(edge: tuple) -> tuple:
    """Edges grouped by their ends, parallel edges by key (0 first; numbers in numeric order)."""
    key = edge[2]
    return str(edge[0]), str(edge[1]), (0, key, "") if isinstance(key, int) else (1, 0, str(key))


def _wrapped(degrees: float) -> float:
    """An angle difference in [-180, 180)."""
    return (degrees + 180.0) % 360.0 - 180.0


def _is_geographic(crs: Any, source: str) -> bool:
    """Whether ``crs`` is longitude/latitude (True) or a metric projection (False); refuse anything else."""
    text = str(crs or "").strip().lower()
    if re.search(r"epsg:(4326|4269|4258|4167)\b|\+proj=(longlat|latlong)|^wgs ?84$|\bcrs84\b", text):
        return True
    if re.search(r"\+proj=utm|\+units=m\b|epsg:(326|327)\d\d\b", text):
        return False
    raise ValueError(f"{source}: graph attribute `crs` must be longitude/latitude (epsg:4326) or a metric projection "
                   f"(UTM, +units=m). Received crs={crs!r}")


def _node_position(node: str, attributes: dict, geographic: bool, source: str) -> tuple[float, float]:
    where = f"{source}: node {node!r}"
    position = []
    for key, limit, what in (("x", 180.0, "longitude"), ("y", 90.0, "latitude")):
        if key not in attributes:
            raise ValueError(f"{where}: missing `{key}`; expected OSMnx node attributes x (longitude) and y (latitude)"
                           if geographic else f"{where}: missing `{key}` (metres)")
        try:
            value = float(attributes[key])
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or (geographic and abs(value) > limit):
            expected = f"a {what} in [-{limit:g}, {limit:g}]" if geographic else "a finite number (metres)"
            raise ValueError(f"{where}: `{key}` must be {expected}. Received {key}={attributes[key]!r}")
        position.append(value)
    return position[0], position[1]


def _edge_geometry(attributes: dict, where: str, projection: LocalProjection | None) -> tuple[dict, list]:
    """An edge's ``length`` (when given) and its geometry in metres (empty without one)."""
    edge: dict[str, Any] = {}
    if attributes.get("length") is not None:
        try:
            length = float(attributes["length"])
        except (TypeError, ValueError):
            length = math.nan
        if not math.isfinite(length) or length < 0:
            raise ValueError(f"{where}: `length` must be a number of metres >= 0. Received length={attributes['length']!r}")
        edge["length"] = length
    points: list[tuple[float, float]] = []
    if attributes.get("geometry") is not None:
        try:
            points = parse_linestring(attributes["geometry"])
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        if projection is not None:
            points = [projection.to_metres(lon, lat) for lon, lat in points]
    return edge, points


def _way_attributes(attributes: dict) -> tuple[dict, bool]:
    """The RoadNetwork attributes that come from an edge's way tags (:data:`WAY_KEYS`).

    Returns:
        ``(attributes, no_speed)``: ``no_speed`` is True when ``maxspeed`` was
        no speed and the default was used.

    Raises:
        ValueError: a bad ``oneway``, ``reversed`` or ``speed_kph``, naming it.
    """
    way: dict[str, Any] = {"kind": "lane", "turn": "straight"}
    try:
        speed, no_speed = parse_maxspeed(attributes.get("maxspeed")), False
    except ValueError:
        speed, no_speed = None, True
    if speed is None and attributes.get("speed_kph") is not None:
        try:
            kph = float(attributes["speed_kph"])
        except (TypeError, ValueError):
            kph = math.nan
        if not (math.isfinite(kph) and kph > 0):
            raise ValueError(f"`speed_kph` must be a positive number. Received speed_kph={attributes['speed_kph']!r}")
        speed = kph * KMH
    way["speed_limit"] = default_speed(attributes.get("highway")) if speed is None else speed
    tags = list(dict.fromkeys(osm_values(attributes.get("highway"))))
    if parse_oneway(attributes.get("oneway", False)):
        tags.append("oneway")
    for text in osm_values(attributes.get("reversed")):
        if text.strip().lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"`reversed` must be True or False. Received reversed={text!r}")
    for flag in FLAG_TAGS:
        if any(value.strip().lower() not in ("no", "false", "0", "") for value in osm_values(attributes.get(flag))):
            tags.append(flag)
    if "roundabout" in osm_values(attributes.get("junction")):
        tags.append("roundabout")
    way["tags"] = tuple(tag.strip() for tag in tags if tag.strip())
    names = osm_values(attributes.get("name")) or osm_values(attributes.get("ref"))
    if names:
        way["road"] = "; ".join(dict.fromkeys(names))
    return way, no_speed


def _polyline_length(points: list) -> float:
    """Metres along points given as ``(x, y)`` pairs or node attribute dicts."""
    xy = [(p["x"], p["y"]) if isinstance(p, dict) else p for p in points]
    return sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(xy, xy[1:]))


def _add_parallel_edge(road: nx.DiGraph, u: str, v: str, key: Any, edge: dict, points: list) -> None:
    """A second road from ``u`` to ``v``: ``u -> "u-v-key" -> v`` through a node halfway along it."""
    ends = [(road.nodes[u]["x"], road.nodes[u]["y"]), (road.nodes[v]["x"], road.nodes[v]["y"])]
    path = points if len(points) >= 2 else ends
    length = edge.get("length", _polyline_length(path))
    middle = f"{u}-{v}-{key}"
    while middle in road:
        middle += "'"
    road.add_node(middle, **dict(zip(("x", "y"), _point_along(path, 0.5))), label=f"halfway along {u}->{v} key {key}")
    half = {**edge, "length": length / 2}
    road.add_edge(u, middle, **half)
    road.add_edge(middle, v, **half)


def _point_along(points: list[tuple[float, float]], fraction: float) -> tuple[float, float]:
    """The point ``fraction`` of the way along a polyline."""
    target = fraction * _polyline_length(points)
    for a, b in zip(points, points[1:]):
        step = math.hypot(b[0] - a[0], b[1] - a[1])
        if step >= target and step > 0:
            t = target / step
            return a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
        target -= step
    return points[-1]
