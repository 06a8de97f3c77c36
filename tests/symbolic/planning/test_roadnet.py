"""Road networks: building, generators, JSON/GraphML round trips and map errors."""
import json

import pytest

from symbolic.planning.roadnet import MapError, RoadNetwork, city_grid, straight_road


def write_map(tmp_path, data, name="town.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def small_map():
    return {"name": "town",
            "nodes": [{"id": "A", "x": 0, "y": 0}, {"id": "B", "x": 100, "y": 0}],
            "edges": [{"from": "A", "to": "B", "length": 120, "road": "Main St", "tags": ["toll"]}]}


def test_json_round_trip_keeps_every_attribute(tmp_path):
    road = RoadNetwork.load(write_map(tmp_path, small_map()))
    again = RoadNetwork.load(road.save(tmp_path / "copy.json"))
    assert again.edge("A", "B") == {"length": 120.0, "speed_limit": 13.9, "kind": "lane", "turn": "straight",
                                    "road": "Main St", "tags": ("toll",)}
    assert again.position("B") == (100.0, 0.0) and again.name == "town"


@pytest.mark.parametrize("suffix", [".json", ".graphml"])
def test_generated_map_survives_a_round_trip(tmp_path, suffix):
    road = straight_road(num_lanes=2, length=100, spacing=25, crossing_at=50)
    road.edge("L0_0", "L0_1")["tags"] = ("school_zone", "bumpy")
    again = RoadNetwork.load(road.save(tmp_path / f"road{suffix}"))
    assert sorted(again.graph.edges(data=True)) == sorted(road.graph.edges(data=True))
    assert dict(again.graph.nodes(data=True)) == dict(road.graph.nodes(data=True))


@pytest.mark.parametrize("change, message", [
    (lambda d: d["edges"].append({"from": "A", "to": "Q"}), r"town.json: edges\[1\] \(A->Q\): ends at unknown node 'Q' \(dangling edge\)"),
    (lambda d: d["edges"][0].update(length=-5), r"edges\[0\] \(A->B\): `length` must be >= 0 metres. Received negative length=-5"),
    (lambda d: d["edges"][0].update(lenght=5), r"edges\[0\] \(A->B\): unknown edge attribute 'lenght'. Did you mean 'length'\?"),
    (lambda d: d["nodes"][0].update(colour="red"), r"nodes\[0\] \(A\): unknown node attribute 'colour'"),
    (lambda d: d["nodes"][1].pop("y"), r"nodes\[1\] \(B\): missing position `y`"),
    (lambda d: d["edges"][0].update(turn="sideways"), r"`turn` must be one of straight, left"),
    (lambda d: d["edges"][0].update(speed_limit=0), r"`speed_limit` must be a positive number. Received speed_limit=0"),
    (lambda d: d["nodes"].append({"id": "A", "x": 1, "y": 1}), r"nodes\[2\]: duplicate node id 'A'"),
    (lambda d: d.update(roads=[]), r"unknown top-level key 'roads'"),
])
def test_map_errors_name_the_entry_and_what_was_expected(tmp_path, change, message):
    data = small_map()
    change(data)
    with pytest.raises(MapError, match=message):
        RoadNetwork.load(write_map(tmp_path, data))


def test_unreadable_and_malformed_files_are_one_line_errors(tmp_path):
    with pytest.raises(MapError, match="cannot read map file"):
        RoadNetwork.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": [}')
    with pytest.raises(MapError, match=r"bad.json:1:12: invalid JSON"):
        RoadNetwork.load(bad)
    with pytest.raises(MapError, match="must end in .json or .graphml. Received suffix '.txt'"):
        RoadNetwork.load(tmp_path / "map.txt")
    xml = tmp_path / "bad.graphml"
    xml.write_text("<graphml><graph")
    with pytest.raises(MapError, match="bad.graphml: invalid GraphML"):
        RoadNetwork.load(xml)


def test_graphml_dangling_edge_and_unknown_attribute_are_named(tmp_path):
    road = RoadNetwork.from_json(small_map())
    path = road.save(tmp_path / "town.graphml")
    text = path.read_text()
    dangling = text.replace('target="B"', 'target="Q"')
    (tmp_path / "dangling.graphml").write_text(dangling)
    with pytest.raises(MapError, match=r"dangling.graphml: edge A->Q ends at node 'Q', which the file does not "
                                       r"declare \(dangling edge\)"):
        RoadNetwork.load(tmp_path / "dangling.graphml")
    unknown = text.replace('attr.name="road"', 'attr.name="rood"')
    (tmp_path / "unknown.graphml").write_text(unknown)
    with pytest.raises(MapError, match=r"edge A->B: unknown edge attribute 'rood'. Did you mean 'road'\?"):
        RoadNetwork.load(tmp_path / "unknown.graphml")


def test_add_edge_refuses_a_dangling_end():
    road = RoadNetwork()
    road.add_node("A", x=0, y=0)
    with pytest.raises(MapError, match=r"edge A->B: ends at unknown node 'B' \(dangling edge\)"):
        road.add_edge("A", "B")


def test_unknown_node_suggests_a_close_id():
    road = straight_road(num_lanes=1, length=40, spacing=20, crossing_at=None)
    with pytest.raises(MapError, match=r"unknown node 'L0_O' in map straight1. Did you mean 'L0_"):
        road.node("L0_O")


def test_city_grid_size_turns_and_seed():
    road = city_grid(5, 6, seed=3)
    assert road.num_nodes == 2 * 2 * (5 * 5 + 6 * 4)  # two nodes per directed road segment
    turns = {t for _, _, t in road.graph.edges(data="turn")}
    assert turns == {"straight", "left", "right"}
    assert road.to_json() == city_grid(5, 6, seed=3).to_json()
    assert road.to_json() != city_grid(5, 6, seed=4).to_json()
    for u, v, length in road.graph.edges(data="length"):
        assert length >= road.straight_line(u, v) - 1e-9  # lengths never undercut the straight line
    assert city_grid(5, 6, seed=3, missing_fraction=0.3).num_edges < road.num_edges


def test_city_grid_rejects_bad_sizes():
    with pytest.raises(ValueError, match=r"`rows` must be an integer >= 1. Received rows=0"):
        city_grid(0, 3)
    with pytest.raises(ValueError, match=r"`missing_fraction` must be in \[0, 1\)"):
        city_grid(2, 2, missing_fraction=1.0)


def test_straight_road_lanes_lane_changes_and_crossing():
    road = straight_road(num_lanes=3, length=200, spacing=10, crossing_at=100)
    assert {road.node(n)["lane"] for n in road.graph if n.startswith("L")} == {0, 1, 2}
    assert road.edge("L1_3", "L0_4")["turn"] == "change_left"
    assert road.edge("L1_3", "L2_4")["turn"] == "change_right"
    assert road.edge("L0_stop", "W_out")["turn"] == "left"
    assert road.edge("L2_stop", "E_out")["turn"] == "right"
    assert not any(v.endswith("_stop") for _, v, k in road.graph.edges(data="kind") if k == "lane_change")
    assert road.position("L2_stop") == (8.75, 93.0)
