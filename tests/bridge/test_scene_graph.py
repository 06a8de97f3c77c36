"""The scene graph: typed nodes and edges, relational facts, JSON and GraphML export."""
import networkx as nx
import pytest

from perception.world import Crosswalk, EgoState, Lane, RoadMap, StopLine
from bridge.geometry import ObjectState
from bridge.scene_graph import SceneGraph

ROAD = RoadMap(
    lanes=[Lane(0, -3.5, 3.5, 1, 13.9), Lane(1, 0.0, 3.5, 1, 13.9)], ego_lane=1,
    crosswalks=[Crosswalk(-5.25, 1.75, 20.0, 23.0)],
    stop_lines=[StopLine(19.0, -5.25, 1.75, (0, 1), "traffic_light", 1)],
)
EGO = EgoState(lane=1, speed=8.0, length=4.0, width=2.0)
OBJECTS = [
    ObjectState("o1", "car", (0.0, 12.0), (4.0, 2.0), 0.9),
    ObjectState("o2", "pedestrian", (-2.0, 21.0), (0.6, 0.6)),
    ObjectState("o3", "pedestrian", (0.5, 22.0), (0.6, 0.6)),
    ObjectState("o4", "traffic_light", (6.0, 19.5), (1.0, 1.0)),
    ObjectState("o5", "car", (-3.5, -9.0), (4.0, 2.0)),
]


@pytest.fixture
def graph():
    return SceneGraph.from_objects(OBJECTS, ROAD, EGO)


def test_nodes_are_typed(graph):
    kinds = dict(graph.graph.nodes(data="kind"))
    assert kinds["ego"] == "ego"
    assert kinds["lane:0"] == kinds["lane:1"] == "lane"
    assert kinds["crosswalk:0"] == "crosswalk" and kinds["stop_line:0"] == "stop_line"
    assert sorted(graph.objects()) == ["o1", "o2", "o3", "o4", "o5"]
    assert graph.graph.nodes["o1"]["label"] == "car" and graph.graph.nodes["o1"]["confidence"] == 0.9


def test_edges_are_typed(graph):
    relation = lambda u, v: graph.graph.edges[u, v]["relation"]
    assert relation("ego", "lane:1") == "in_lane"
    assert relation("o1", "lane:1") == "in_lane" and relation("o5", "lane:0") == "in_lane"
    assert relation("o1", "ego") == "ahead_of" and relation("o5", "ego") == "behind"
    assert graph.graph.edges["o5", "ego"]["side"] == "left"
    assert relation("o2", "crosswalk:0") == "in_crosswalk"
    assert relation("o4", "stop_line:0") == "controls"
    assert relation("stop_line:0", "lane:0") == "governs"
    assert relation("lane:0", "lane:1") == "left_of"


def test_near_facts_come_from_the_graph(graph):
    assert graph.edges("near") == [("o2", "o3"), ("o3", "o2")]
    assert [f.atom for f in graph.relational_facts()] == ["near(o2, o3)", "near(o3, o2)"]


def test_json_round_trip(graph):
    again = SceneGraph.from_json(graph.to_json())
    assert nx.utils.graphs_equal(again.graph, graph.graph)


def test_write_json_and_graphml(graph, tmp_path):
    graph.write_json(tmp_path / "g.json")
    assert SceneGraph.from_json(__import__("json").loads((tmp_path / "g.json").read_text())).objects() == graph.objects()
    path = graph.write_graphml(tmp_path / "sub" / "g.graphml")
    loaded = nx.read_graphml(path)
    assert set(loaded.nodes) == set(graph.graph.nodes)
    assert loaded.edges["o1", "ego"]["relation"] == "ahead_of"
    assert not list(tmp_path.glob("**/*.tmp"))


def test_svg_draws_every_object(graph):
    svg = graph.to_svg()
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for node in graph.objects():
        assert f">{node}</text>" in svg


def test_an_empty_scene_has_the_ego_and_the_road():
    graph = SceneGraph.from_objects([], ROAD, EGO)
    assert graph.objects() == [] and graph.relational_facts() == []
    assert "ego" in graph.graph and "lane:0" in graph.graph


def test_near_is_uncertain_within_the_position_uncertainty_of_the_radius():
    from bridge.scene_graph import near_confidence

    a = ObjectState("a", "pedestrian", (0.0, 20.0), (0.6, 0.6), position_uncertainty=0.1)
    b = ObjectState("b", "pedestrian", (0.0, 25.2), (0.6, 0.6), position_uncertainty=0.1)   # 5.2 m apart
    assert near_confidence(a, b, 5.0) == 0.5          # 0.2 m beyond, each may be off 0.1 m per axis
    exact_b = ObjectState("b", "pedestrian", (0.0, 25.2), (0.6, 0.6))
    exact_a = ObjectState("a", "pedestrian", (0.0, 20.0), (0.6, 0.6))
    assert near_confidence(exact_a, exact_b, 5.0) == 0.0
    graph = SceneGraph.from_objects([a, b], ROAD, EGO, near_radius=5.0)
    assert [(f.atom, f.confidence) for f in graph.relational_facts()] == [("near(a, b)", 0.5), ("near(b, a)", 0.5)]
    assert SceneGraph.from_objects([exact_a, exact_b], ROAD, EGO, near_radius=5.0).relational_facts() == []


def test_near_edges_carry_near_confidence_for_every_pair_of_random_objects():
    import random

    from bridge.scene_graph import near_confidence

    rng = random.Random(3)
    road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
    for _ in range(60):
        objects = [ObjectState(f"o{i}", "pedestrian", (rng.uniform(-8, 8), rng.uniform(-5, 30)), (0.6, 0.6),
                               position_uncertainty=rng.choice([0.0, 0.3, 1.01, rng.uniform(0, 2)]))
                   for i in range(rng.randint(0, 14))]
        radius = rng.choice([2.0, 5.0, rng.uniform(0.5, 10.0)])
        graph = SceneGraph.from_objects(objects, road, EgoState(lane=0, speed=0.0), near_radius=radius)
        expected = {(a.id, b.id): near_confidence(a, b, radius) for a in objects for b in objects if a is not b}
        expected = {pair: confidence for pair, confidence in expected.items() if confidence > 0}
        found = {(u, v): data["confidence"] for u, v, data in graph.graph.edges(data=True)
                 if data["relation"] == "near"}
        assert found == expected
