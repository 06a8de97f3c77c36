"""Route constraints: every kind is met exactly, and a blocked query names what blocks it."""

import networkx as nx
import pytest

from symbolic.planning.roadnet import MapError, city_grid
from symbolic.planning.route_constraints import (Avoid, NoTurn, UnsatisfiableRoute, Via, constraints_from_json,
                                        excluded_edges, load_constraints, parse_avoid, plan_route)
from symbolic.planning.routing import NoRouteError, RoutePlanner

ORIGIN, DESTINATION = "0_0_outE", "5_5_inN"


@pytest.fixture(scope="module")
def road():
    """A 6 x 6 grid whose fastest route from ORIGIN to DESTINATION pays a toll and turns left."""
    road = city_grid(6, 6, seed=2, jitter=0)
    free = RoutePlanner(cost="time").fit(road).plan(ORIGIN, DESTINATION)
    lanes = [(u, v) for u, v in free.edges if road.edge(u, v)["kind"] == "lane"]
    road.edge(*lanes[-2])["tags"] = ("toll",)
    return road


@pytest.fixture()
def planner(road):
    return RoutePlanner(cost="time").fit(road)


def brute_force_cost(road, origin, destination, constraints):
    """The exact optimum over walks, on the graph with the excluded edges removed, waypoints in order."""
    graph = road.graph.copy()
    graph.remove_edges_from(excluded_edges(road, constraints))
    stops = [origin] + [c.node for c in constraints if isinstance(c, Via)] + [destination]
    weight = lambda u, v, a: a["length"] / a["speed_limit"]
    return sum(nx.shortest_path_length(graph, a, b, weight=weight) for a, b in zip(stops, stops[1:]))


def test_unconstrained_route_uses_what_the_constraints_forbid(planner):
    route = plan_route(planner, ORIGIN, DESTINATION)
    assert any(turn == "left" for _, turn in route.turns)
    assert any("toll" in planner.road_.edge(u, v).get("tags", ()) for u, v in route.edges)


def test_avoid_uses_no_edge_with_the_property(planner, road):
    constraints = [Avoid("tags", "toll"), Avoid("road", "col 2")]
    route = plan_route(planner, ORIGIN, DESTINATION, constraints)
    for u, v in route.edges:
        assert "toll" not in road.edge(u, v).get("tags", ()) and road.edge(u, v).get("road") != "col 2"
    assert route.cost == pytest.approx(brute_force_cost(road, ORIGIN, DESTINATION, constraints))


def test_via_passes_every_waypoint_in_order(planner, road):
    constraints = [Via("4_1_inS"), Via("1_4_inN")]
    route = plan_route(planner, ORIGIN, DESTINATION, constraints)
    first, second = route.nodes.index("4_1_inS"), route.nodes.index("1_4_inN")
    assert 0 < first < second < len(route.nodes) - 1
    assert route.cost == pytest.approx(brute_force_cost(road, ORIGIN, DESTINATION, constraints))


def test_no_left_turn_at_an_intersection_or_node(planner, road):
    free = plan_route(planner, ORIGIN, DESTINATION)
    left_turns = [node for node, turn in free.turns if turn == "left"]
    assert left_turns, "the unconstrained route should turn left somewhere"
    intersection = road.node(left_turns[0])["intersection"]
    route = plan_route(planner, ORIGIN, DESTINATION, [NoTurn(intersection), NoTurn(left_turns[0], "right")])
    for node, turn in route.turns:
        assert not (turn == "left" and road.node(node)["intersection"] == intersection)
        assert not (turn == "right" and node == left_turns[0])
    assert route.cost > free.cost


@pytest.mark.parametrize("constraints", [
    [Avoid("tags", "toll"), Via("3_4_inE"), NoTurn("2_2")],
    [Avoid("turn", "right"), Via("2_1_inN")],
    [NoTurn("0_5"), NoTurn("2_2"), NoTurn("3_3"), Avoid("kind", "lane_change")],
])
def test_every_constraint_kind_together_is_exact(planner, road, constraints):
    route = plan_route(planner, ORIGIN, DESTINATION, constraints)
    excluded = excluded_edges(road, constraints)
    assert not set(route.edges) & excluded
    positions = [route.nodes.index(c.node) for c in constraints if isinstance(c, Via)]
    assert positions == sorted(positions)
    assert route.cost == pytest.approx(brute_force_cost(road, ORIGIN, DESTINATION, constraints))


def test_unsatisfiable_constraints_are_named_and_the_harmless_ones_left_out(planner):
    # arriving at the bottom-right corner heading east, the only way on is a left turn
    constraints = [Avoid("tags", "toll"), Via("0_5_inE"), NoTurn("0_5")]
    with pytest.raises(UnsatisfiableRoute, match=r"no route from 0_0_outE to 5_5_inN satisfies: "
                                                 r"via 0_5_inE; no left turn at 0_5$") as caught:
        plan_route(planner, ORIGIN, DESTINATION, constraints)
    assert caught.value.blocking == constraints[1:]
    # and the set is minimal: each of the named constraints alone leaves a route
    for constraint in caught.value.blocking:
        assert plan_route(planner, ORIGIN, DESTINATION, [constraint]).nodes[-1] == DESTINATION


def test_blocked_map_without_constraints_says_no_route(planner):
    for edge in list(planner.road_.graph.out_edges(ORIGIN)):
        planner.block_edge(*edge)
    with pytest.raises(NoRouteError, match="no route from 0_0_outE to 5_5_inN in map grid6x6 with the blocked edges"):
        plan_route(planner, ORIGIN, DESTINATION, [Avoid("tags", "toll")])


def test_constraints_naming_unknown_things_are_refused(planner):
    with pytest.raises(MapError, match=r"constraint 'via nowhere': unknown node 'nowhere' in map grid6x6"):
        plan_route(planner, ORIGIN, DESTINATION, [Via("nowhere")])
    with pytest.raises(MapError, match=r"'Z' is neither a node nor an intersection"):
        plan_route(planner, ORIGIN, DESTINATION, [NoTurn("Z")])
    with pytest.raises(MapError, match=r"`turn` must be one of .*Received turn='sharp'"):
        plan_route(planner, ORIGIN, DESTINATION, [NoTurn("1_1", "sharp")])


def test_file_form_and_its_errors(tmp_path):
    path = tmp_path / "route.yaml"
    path.write_text("avoid: [toll, 'road=col 2']\nvia: [3_4_inE]\nno_turn: [{at: '2_2', turn: right}]\nno_left_turn_at: ['1_1']\n")
    assert load_constraints(path) == [Avoid("tags", "toll"), Avoid("road", "col 2"), Via("3_4_inE"),
                                      NoTurn("2_2", "right"), NoTurn("1_1")]
    with pytest.raises(ValueError, match=r"route.json: unknown key 'avoids'; expected one of avoid, via"):
        constraints_from_json({"avoids": []}, "route.json")
    with pytest.raises(ValueError, match=r"x.yaml: avoid\[0\]: an avoid constraint must be KEY=VALUE .*Received 'colour=red'"):
        constraints_from_json({"avoid": ["colour=red"]}, "x.yaml")
    with pytest.raises(ValueError, match=r"no_turn\[0\]: expected \{\"at\": NODE"):
        constraints_from_json({"no_turn": ["2_2"]})
    with pytest.raises(ValueError, match="cannot read constraints file"):
        load_constraints(tmp_path / "missing.yaml")
    assert parse_avoid("kind=lane_change") == Avoid("kind", "lane_change")
