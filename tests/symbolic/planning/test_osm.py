"""OpenStreetMap maps as OSMnx saves them: projection, speeds, one-way streets, parallel edges, errors."""
import math
from pathlib import Path

import networkx as nx
import pytest

from symbolic.planning.osm import LocalProjection, parse_maxspeed, parse_oneway
from symbolic.planning.roadnet import MapError, RoadNetwork
from symbolic.planning.routing import RoutePlanner

MITTE = Path(__file__).with_name("osmnx_mitte.graphml")
# the six intersections of osmnx_mitte.graphml: a two-way Hauptstraße along the south (A-B-C), a one-way
# Einbahnstraße along the north (D->E->F), two-way Westweg A-D, Mittelweg B-E and Ostweg C-F, and a
# one-way service road from B to C beside the Hauptstraße (a parallel edge, key 1)
A, B, C, D, E, F = "29270410", "29270411", "29270412", "29270520", "29270521", "29270522"
KMH = 1 / 3.6


@pytest.fixture(scope="module")
def mitte():
    return RoadNetwork.load(MITTE)


def with_text(tmp_path, old, new, name="city.graphml"):
    text = MITTE.read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return path


def meridian_arc(lat1, lat2, steps=200):
    """Metres along the WGS84 meridian between two latitudes (Simpson's rule over the meridian radius)."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    h = math.radians(lat2 - lat1) / steps
    radius = [a * (1 - e2) / (1 - e2 * math.sin(math.radians(lat1) + i * h) ** 2) ** 1.5 for i in range(steps + 1)]
    return h / 3 * (radius[0] + radius[-1] + 4 * sum(radius[1:-1:2]) + 2 * sum(radius[2:-1:2]))


def parallel_arc(lat, dlon):
    """Metres along the WGS84 parallel at ``lat`` over ``dlon`` degrees of longitude."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    return a / math.sqrt(1 - e2 * math.sin(math.radians(lat)) ** 2) * math.cos(math.radians(lat)) * math.radians(dlon)


def test_osmnx_file_loads_with_positions_in_metres_around_its_centre(mitte):
    assert mitte.name == "osmnx_mitte" and mitte.num_nodes == 7  # six intersections and one halfway node
    assert mitte.node(A)["lon"] == 13.4 and mitte.node(A)["lat"] == 52.52
    (ax, ay), (cx, cy), (fx, fy) = mitte.position(A), mitte.position(C), mitte.position(F)
    assert ax == pytest.approx(-cx) and ay == pytest.approx(-fy)  # the centre is the middle of the map
    bound = LocalProjection.around([13.4], [52.52, 52.5212]).max_relative_error(52.52, 52.5212)
    assert bound < 2e-5  # tan(52.52 deg) * 0.0006 deg in radians, plus 1e-6
    assert cx - ax == pytest.approx(parallel_arc(52.52, 0.004), rel=bound)
    assert fy - cy == pytest.approx(meridian_arc(52.52, 52.5212), rel=bound)
    assert mitte.edge(A, B)["length"] == 135.321  # lengths come from the file


def test_projection_error_stays_within_its_stated_bound():
    # a map 22 km tall around Berlin; distances measured near its northern edge, far from the centre
    projection = LocalProjection.around([13.2, 13.6], [52.4, 52.6])
    bound = projection.max_relative_error(52.4, 52.6)
    assert 0.001 < bound < 0.0025  # tan(52.5 deg) * 0.1 deg in radians = 0.0023
    (x1, y1), (x2, y2) = projection.to_metres(13.45, 52.59), projection.to_metres(13.55, 52.59)
    east_west = parallel_arc(52.59, 0.1)  # 6.77 km along the parallel (the geodesic is 1 mm shorter)
    assert abs(math.hypot(x2 - x1, y2 - y1) / east_west - 1) <= bound
    (x1, y1), (x2, y2) = projection.to_metres(13.5, 52.4), projection.to_metres(13.5, 52.6)
    assert math.hypot(x2 - x1, y2 - y1) == pytest.approx(meridian_arc(52.4, 52.6), rel=1e-8)
    # the textbook series for a degree of latitude, 111132.954 - 559.822 cos 2φ + 1.175 cos 4φ metres, at 52.5°:
    assert abs(math.hypot(x2 - x1, y2 - y1) - 0.2 * 111_276.8) < 1


def test_a_continent_wide_map_warns_about_its_projection(tmp_path):
    path = with_text(tmp_path, "<data key=\"d4\">52.5212</data>", "<data key=\"d4\">58.5212</data>")
    with pytest.warns(UserWarning, match=r"city.graphml: the map spans latitudes 52.520 to 58.521; .* up to 8\.4%"):
        RoadNetwork.load(path)


@pytest.mark.parametrize("text, kmh", [
    ("50", 50), ("30 mph", 48.28), ("25 knots", 46.3), ("80 km/h", 80), ("80kmh", 80), ("50;70", 50),
    ("['30 mph', '40 mph']", 48.28), ("30;none", 30), (45, 45), ("none", None), ("signals", None),
    ("DE:urban", None), (None, None),
])
def test_maxspeed_text_parses_with_units_and_the_lowest_of_several(text, kmh):
    speed = parse_maxspeed(text)
    assert speed is None if kmh is None else speed * 3.6 == pytest.approx(kmh, abs=0.01)


@pytest.mark.parametrize("text", ["fast", "0", "-30", "50 furlongs", "50;fast"])
def test_maxspeed_that_is_no_speed_is_refused(text):
    with pytest.raises(ValueError, match="is not a speed; expected a number"):
        parse_maxspeed(text)


def test_speeds_on_the_map_follow_maxspeed_then_the_highway_default(mitte):
    assert mitte.edge(A, B)["speed_limit"] == pytest.approx(50 * KMH)  # "50;70"
    assert mitte.edge(B, E)["speed_limit"] == pytest.approx(20 * 0.44704)  # "20 mph"
    assert mitte.edge(E, F)["speed_limit"] == pytest.approx(30 * KMH)  # ['30', '20 mph']
    assert mitte.edge(A, D)["speed_limit"] == pytest.approx(30 * KMH)  # no maxspeed: residential
    assert mitte.edge(B, f"{B}-{C}-1")["speed_limit"] == pytest.approx(20 * KMH)  # no maxspeed: service


def test_a_maxspeed_that_is_no_speed_warns_once_and_gets_the_default(tmp_path):
    path = with_text(tmp_path, "<data key=\"d13\">20 mph</data>", "<data key=\"d13\">fast</data>")
    with pytest.warns(UserWarning, match=rf"1 edge\(s\) have a maxspeed that is no speed \(first: edge {B}->{E} "
                                         rf"\(key 0\) maxspeed='fast'\)"):
        road = RoadNetwork.load(path)
    assert road.edge(B, E)["speed_limit"] == pytest.approx(30 * KMH)


def test_tags_and_road_names_come_from_the_way(mitte):
    assert mitte.edge(D, E)["tags"] == ("residential", "oneway") and mitte.edge(D, E)["road"] == "Einbahnstraße"
    assert mitte.edge(B, E)["tags"] == ("residential", "bridge")
    assert mitte.edge(A, B)["tags"] == ("secondary",) and mitte.edge(A, B)["road"] == "Hauptstraße"
    assert sorted(mitte.edges_where("tags", "bridge")) == [(B, E), (E, B)]


@pytest.mark.parametrize("value, one_way", [("True", True), ("False", False), ("yes", True), ("no", False),
                                            ("-1", True), ("1", True), ("0", False), ("reversible", True),
                                            (True, True), ("[False, True]", True)])
def test_oneway_values(value, one_way):
    assert parse_oneway(value) is one_way


def test_one_way_streets_are_driven_one_way_only(mitte):
    assert mitte.graph.has_edge(D, E) and not mitte.graph.has_edge(E, D)
    route = RoutePlanner(cost="distance").fit(mitte).plan(F, D)
    assert route.nodes == [F, C, B, A, D]  # around the block, not back along the Einbahnstraße


def test_raw_oneway_values_keep_the_edges_as_given():
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node, lon in (("1", 13.400), ("2", 13.401), ("3", 13.402)):
        graph.add_node(node, x=str(lon), y="52.5")
    graph.add_edge("1", "2", oneway="yes", length="68")
    graph.add_edge("3", "2", oneway="-1", length="68", reversed="False")  # OSMnx has turned the way around
    road = RoadNetwork.from_osmnx(graph, "raw.graphml")
    assert sorted(road.graph.edges) == [("1", "2"), ("3", "2")]
    assert all("oneway" in tags for _, _, tags in road.graph.edges(data="tags"))


def test_parallel_edges_stay_routable_through_a_halfway_node(mitte):
    halfway = f"{B}-{C}-1"
    assert mitte.edge(B, halfway)["length"] == mitte.edge(halfway, C)["length"] == pytest.approx(244.409 / 2)
    (hx, hy), (_, by) = mitte.position(halfway), mitte.position(B)
    assert hx == pytest.approx(0.5 * mitte.position(C)[0], abs=2) and hy < by - 50  # on the curve, south of B
    planner = RoutePlanner(cost="distance").fit(mitte)
    assert planner.plan(A, C).nodes == [A, B, C]
    planner.block_edge(B, C, reason="closed")
    route = planner.replan()
    assert route.nodes == [A, B, halfway, C] and route.length == pytest.approx(135.321 + 244.409)


def test_avoiding_a_node_routes_around_it(mitte):
    planner = RoutePlanner().fit(mitte)
    assert planner.plan(A, F).nodes == [A, B, C, F]
    planner.block_node(C, reason="closed intersection")
    assert planner.replan().nodes == [A, D, E, F]
    with pytest.raises(MapError, match=r"unknown node '2927041' in map osmnx_mitte. Did you mean"):
        planner.block_node("2927041")


def test_a_loaded_osm_map_survives_a_json_round_trip(mitte, tmp_path):
    again = RoadNetwork.load(mitte.save(tmp_path / "mitte.json"))
    assert dict(again.graph.nodes(data=True)) == dict(mitte.graph.nodes(data=True))
    assert sorted(again.graph.edges(data=True)) == sorted(mitte.graph.edges(data=True))


def test_a_projected_graph_keeps_its_metres():
    graph = nx.MultiDiGraph(crs="+proj=utm +zone=33 +ellps=WGS84 +datum=WGS84 +units=m +no_defs +type=crs")
    graph.add_node(1, x="391000.0", y="5820000.0")
    graph.add_node(2, x="391100.0", y="5820000.0")
    graph.add_edge(1, 2)
    road = RoadNetwork.from_osmnx(graph, "utm.graphml")
    assert road.position("2") == (391100.0, 5820000.0) and road.edge("1", "2")["length"] == 100.0


@pytest.mark.parametrize("old, new, message", [
    ("<data key=\"d5\">13.4</data>", "<data key=\"d5\">abc</data>",
     r"city.graphml: node '29270410': `x` must be a longitude in \[-180, 180\]. Received x='abc'"),
    ("<data key=\"d4\">52.52</data>", "<data key=\"d4\">95</data>",
     r"node '29270410': `y` must be a latitude in \[-90, 90\]. Received y='95'"),
    ("<data key=\"d4\">52.52</data>", "",
     r"node '29270410': missing `y`; expected OSMnx node attributes x \(longitude\) and y \(latitude\)"),
    ("<data key=\"d9\">True</data>", "<data key=\"d9\">maybe</data>",
     r"edge 29270411->29270412 \(key 1\): `oneway` must be True, False, yes, no, 1, 0 or -1. Received oneway='maybe'"),
    ("<data key=\"d14\">False</data>", "<data key=\"d14\">sideways</data>",
     r"edge 29270410->29270411 \(key 0\): `reversed` must be True or False"),
    ("<data key=\"d15\">135.321</data>", "<data key=\"d15\">-4</data>",
     r"edge 29270410->29270411 \(key 0\): `length` must be a number of metres >= 0. Received length='-4'"),
    ("LINESTRING (13.402 52.52,", "LINESTRING (13.402,",
     r"edge 29270411->29270412 \(key 1\): `geometry` must be WKT like 'LINESTRING \(lon lat, lon lat, \.\.\.\)'"),
    ("<data key=\"d2\">epsg:4326</data>", "<data key=\"d2\">epsg:3857</data>",
     r"city.graphml: graph attribute `crs` must be longitude/latitude \(epsg:4326\) or a metric projection"),
    ("edgedefault=\"directed\"", "edgedefault=\"undirected\"",
     r"city.graphml: the GraphML graph must be directed .* cannot say which way a one-way street runs"),
    ("target=\"29270520\" id=\"0\"", "target=\"29279999\" id=\"0\"",
     r"edge 29270410->29279999 ends at node '29279999', which the file does not declare \(dangling edge\)"),
])
def test_bad_osmnx_files_name_the_file_the_element_and_what_was_expected(tmp_path, old, new, message):
    with pytest.raises(MapError, match=message):
        RoadNetwork.load(with_text(tmp_path, old, new))


def test_an_osmnx_file_without_crs_is_told_to_add_it(tmp_path):
    path = with_text(tmp_path, "<data key=\"d2\">epsg:4326</data>", "")
    with pytest.raises(MapError, match=r"city.graphml: edge 29270411->29270412 appears twice; .*an OSMnx file with "
                                       r"parallel edges carries a graph attribute `crs`"):
        RoadNetwork.load(path)
    path.write_text(path.read_text().replace('target="29270412" id="1"', 'target="29270520" id="1"'))
    with pytest.raises(MapError, match=r"node '29270410': unknown node attribute 'street_count'.* An OSMnx file needs "
                                       r"its graph attribute `crs` \(e.g. crs=\"epsg:4326\"\)"):
        RoadNetwork.load(path)


GRAPHML_WITHOUT_POSITIONS = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="length" for="edge" attr.name="length" attr.type="double"/>
<graph edgedefault="directed">
<node id="A"/><node id="B"/><node id="C"/>
<edge source="A" target="B"><data key="length">100</data></edge>
<edge source="B" target="C"><data key="length">50</data></edge>
<edge source="A" target="C"><data key="length">200</data></edge>
</graph></graphml>
"""


def test_a_map_without_coordinates_routes_with_dijkstra(tmp_path):
    path = tmp_path / "plain.graphml"
    path.write_text(GRAPHML_WITHOUT_POSITIONS)
    road = RoadNetwork.load(path)
    assert not road.has_coordinates
    route = RoutePlanner(algorithm="dijkstra").fit(road).plan("A", "C")
    assert route.nodes == ["A", "B", "C"] and route.length == 150.0
    with pytest.raises(MapError, match=r"algorithm='astar' needs node coordinates \(x, y\) .* map plain has none; "
                                       r"use algorithm='dijkstra'"):
        RoutePlanner().fit(road)
    with pytest.raises(MapError, match=r"map plain has no node coordinates \(node 'A' has no x, y\)"):
        road.position("A")


def test_a_map_without_coordinates_needs_lengths_and_all_or_no_positions(tmp_path):
    path = tmp_path / "plain.graphml"
    path.write_text(GRAPHML_WITHOUT_POSITIONS.replace('<data key="length">100</data>', ""))
    with pytest.raises(MapError, match=r"plain.graphml: edge A->B: missing `length` \(metres\); map plain has no node "
                                       r"coordinates to compute it from"):
        RoadNetwork.load(path)
    with pytest.raises(MapError, match=r"nodes\[1\] \(B\): has no position x, y while the nodes before it have one"):
        RoadNetwork.from_json({"nodes": [{"id": "A", "x": 0, "y": 0}, {"id": "B"}], "edges": []}, "mixed.json")
    road = RoadNetwork.from_json({"nodes": [{"id": "A"}, {"id": "B"}],
                                  "edges": [{"from": "A", "to": "B", "length": 10}]}, "plain.json")
    assert RoutePlanner(algorithm="dijkstra").fit(road).plan("A", "B").length == 10.0


class LineString:
    """Stands in for shapely's LineString, which OSMnx puts on edges in memory."""

    def __init__(self, coords):
        self.coords = coords


def test_an_osmnx_graph_in_memory_converts_with_its_native_values():
    graph = nx.MultiDiGraph(crs="EPSG:4326")
    graph.add_node(101, x=13.400, y=52.520, street_count=3)
    graph.add_node(102, x=13.402, y=52.520, street_count=3)
    graph.add_edge(101, 102, osmid=[1, 2], oneway=True, reversed=False, maxspeed=["30", "20 mph"],
                   highway="tertiary", name=["Hauptstraße", "Marktplatz"],
                   geometry=LineString([(13.400, 52.520), (13.401, 52.5205), (13.402, 52.520)]))
    graph.add_edge(102, 101, oneway=True, reversed=True, highway="tertiary", length=140.0)
    road = RoadNetwork.from_osmnx(graph)
    edge = road.edge("101", "102")
    assert edge["speed_limit"] == pytest.approx(30 * KMH) and edge["road"] == "Hauptstraße; Marktplatz"
    assert edge["length"] == pytest.approx(2 * math.hypot(68.0, 55.6), rel=0.01)  # along the geometry
    assert road.edge("102", "101")["speed_limit"] == pytest.approx(50 * KMH)  # tertiary's default


def test_a_loaded_osm_map_survives_a_graphml_round_trip(mitte, tmp_path):
    again = RoadNetwork.load(mitte.save(tmp_path / "mitte.graphml"))
    assert dict(again.graph.nodes(data=True)) == dict(mitte.graph.nodes(data=True))
    assert sorted(again.graph.edges(data=True)) == sorted(mitte.graph.edges(data=True))
