"""Route planning: optimal routes, updates from facts, incremental replanning."""
import random

import networkx as nx
import pytest

from symbolic.planning.roadnet import MapError, city_grid, straight_road
from symbolic.planning.routing import EdgeUpdate, NoRouteError, RoutePlanner, updates_from_facts
from symbolic.reasoning.facts import Fact, FactBase


def seconds(u, v, attributes):
    return attributes["length"] / attributes["speed_limit"]


@pytest.fixture(scope="module")
def grid():
    return city_grid(8, 8, seed=5, missing_fraction=0.05)


@pytest.mark.parametrize("cost, weight", [("distance", "length"), ("time", seconds)])
@pytest.mark.parametrize("algorithm, num_landmarks", [("astar", 16), ("astar", 0), ("dijkstra", 0)])
def test_routes_are_as_cheap_as_networkx(grid, cost, weight, algorithm, num_landmarks):
    planner = RoutePlanner(cost=cost, algorithm=algorithm, num_landmarks=num_landmarks).fit(grid)
    rng = random.Random(0)
    nodes = sorted(grid.graph)
    checked = 0
    for _ in range(40):
        a, b = rng.sample(nodes, 2)
        if not nx.has_path(grid.graph, a, b):
            with pytest.raises(NoRouteError, match=f"no route from {a} to {b}"):
                planner.plan(a, b)
            continue
        route = planner.plan(a, b)
        assert route.nodes[0] == a and route.nodes[-1] == b
        assert all(grid.graph.has_edge(u, v) for u, v in route.edges)
        assert route.cost == pytest.approx(nx.shortest_path_length(grid.graph, a, b, weight=weight))
        checked += 1
    assert checked > 20


def test_astar_expands_fewer_nodes_than_dijkstra(grid):
    far = ("0_0_outE", "7_7_inN")
    astar = RoutePlanner(cost="time").fit(grid)
    dijkstra = RoutePlanner(cost="time", algorithm="dijkstra").fit(grid)
    assert astar.plan(*far).cost == pytest.approx(dijkstra.plan(*far).cost)
    assert astar.last_search_["expanded"] < dijkstra.last_search_["expanded"] / 2


def test_time_and_distance_costs_choose_different_routes():
    road = city_grid(6, 6, seed=0, arterial_every=5, jitter=0)
    far = ("0_1_outN", "4_5_inS")
    shortest = RoutePlanner(cost="distance").fit(road).plan(*far)
    fastest = RoutePlanner(cost="time").fit(road).plan(*far)
    assert fastest.duration < shortest.duration and shortest.length < fastest.length


def test_blocking_an_edge_on_the_route_changes_the_route(grid):
    planner = RoutePlanner(cost="distance").fit(grid)
    route = planner.plan("0_0_outE", "7_7_inN")
    blocked = route.edges[len(route.edges) // 2]
    planner.block_edge(*blocked, reason="stopped vehicle")
    new = planner.replan()
    assert blocked not in new.edges
    assert new.cost > route.cost
    assert new.nodes[0] == "0_0_outE" and new.nodes[-1] == "7_7_inN"


def test_replanning_matches_planning_from_scratch_and_does_less_work(grid):
    rng = random.Random(1)
    incremental = RoutePlanner(cost="time").fit(grid)
    route = incremental.plan("0_0_outE", "7_6_inE")
    for _ in range(4):
        position = rng.randrange(len(route.nodes) // 2)
        incremental.block_edge(*route.edges[position + 2])
        start = route.nodes[position]
        route = incremental.replan(start)
        assert incremental.last_search_["reused"] and incremental.last_search_["invalidated"] > 0
        fresh = RoutePlanner(cost="time").fit(grid)
        fresh.update(incremental.updates_.values())
        assert route.cost == pytest.approx(fresh.plan(start, "7_6_inE").cost)
        assert incremental.last_search_["expanded"] < fresh.last_search_["expanded"]


def test_moving_along_the_route_needs_no_search(grid):
    planner = RoutePlanner().fit(grid)
    route = planner.plan("0_0_outE", "7_7_inN")
    again = planner.replan(route.nodes[5])
    assert again.nodes == route.nodes[5:] and planner.last_search_["expanded"] == 0


def test_a_cheaper_edge_triggers_a_fresh_search(grid):
    planner = RoutePlanner(cost="time").fit(grid)
    route = planner.plan("0_0_outE", "7_7_inN")
    planner.add_delay(*route.edges[3], seconds=600, reason="red light")
    detour = planner.replan()
    planner.clear_updates()
    assert planner.replan().cost == pytest.approx(route.cost) and detour.cost > route.cost
    assert not planner.last_search_["reused"]


def test_facts_block_edges_and_add_delays():
    road = straight_road(num_lanes=2, length=100, spacing=25, crossing_at=None)
    facts = FactBase([Fact("stopped_vehicle", ("L0_1", "L0_2")), Fact("closed", ("L1_0", "L1_1"), confidence=0.3),
                      Fact("light_wait", ("L0_0", "L0_1"), value=30.0), Fact("car", ("o1",))])
    planner = RoutePlanner(cost="time").fit(road)
    updates = planner.apply_facts(facts)
    assert [(u.u, u.v, u.blocked, u.delay_s) for u in updates] == [("L0_1", "L0_2", True, 0.0),
                                                                     ("L0_0", "L0_1", False, 30.0)]
    route = planner.plan("L0_0", "L0_4")
    assert ("L0_1", "L0_2") not in route.edges  # around the stopped vehicle by changing lanes
    assert any(turn.startswith("change_") for _, turn in route.turns)


def test_fact_and_update_errors():
    with pytest.raises(ValueError, match=r"route fact closed\(A\) must name an edge by its two nodes"):
        updates_from_facts([Fact("closed", ("A",))])
    with pytest.raises(ValueError, match=r"light_wait\(A, B\) needs a value in seconds"):
        updates_from_facts([Fact("light_wait", ("A", "B"))])
    planner = RoutePlanner().fit(city_grid(2, 2))
    with pytest.raises(MapError, match=r"cannot update edge X->Y \(closed\(X, Y\)\): map grid2x2 has no such edge"):
        planner.update(EdgeUpdate("X", "Y", blocked=True, reason="closed(X, Y)"))
    with pytest.raises(ValueError, match=r"`seconds` must be a finite number >= 0. Received seconds=-1"):
        planner.add_delay("0_0_outE", "0_1_inE", -1)


def test_settings_and_nodes_are_validated(grid):
    with pytest.raises(ValueError, match=r"`cost` must be one of distance, time or a callable.*Received cost='fast'"):
        RoutePlanner(cost="fast").fit(grid)
    with pytest.raises(ValueError, match=r"`algorithm` must be one of astar, dijkstra. Received algorithm='bfs'"):
        RoutePlanner(algorithm="bfs").fit(grid)
    with pytest.raises(RuntimeError, match="not fitted yet"):
        RoutePlanner().plan("a", "b")
    with pytest.raises(MapError, match="unknown node 'nowhere'"):
        RoutePlanner().fit(grid).plan("nowhere", "0_0_outE")
    with pytest.raises(ValueError, match=r"cost callable must return a number >= 0 or None for edge .*Received -1"):
        RoutePlanner(cost=lambda u, v, a: -1).fit(grid)


def test_callable_cost_can_forbid_edges():
    grid = city_grid(8, 8, seed=5)
    no_left = RoutePlanner(cost=lambda u, v, a: None if a["turn"] == "left" else a["length"]).fit(grid)
    route = no_left.plan("0_0_outN", "7_7_inE")
    assert all(turn != "left" for _, turn in route.turns) and route.turns
    with pytest.raises(NoRouteError, match="no route from 0_0_outE to 7_7_inN"):
        no_left.plan("0_0_outE", "7_7_inN")  # heading east on the bottom row, only a left turn leads north


def test_long_searches_with_bounds_computed_in_bulk_stay_exact(monkeypatch):
    monkeypatch.setattr("symbolic.planning.routing.BULK_BOUNDS_AFTER", 32)
    road = city_grid(12, 12, seed=9, missing_fraction=0.05)
    planner = RoutePlanner(cost="time").fit(road)
    fresh = RoutePlanner(cost="time", algorithm="dijkstra").fit(road)
    goal = next(n for n in ("11_11_inN", "11_11_inE", "11_10_inE", "10_11_inN") if n in road.graph)
    route = planner.plan("0_0_outE", goal)
    assert planner._tree.heuristic.everything is not None  # the search switched to bounds for all nodes
    assert route.cost == pytest.approx(fresh.plan("0_0_outE", goal).cost)
    for position in (3, 10, 20):
        planner.block_edge(*route.edges[position + 2])
        fresh.block_edge(*route.edges[position + 2])
        route = planner.replan(route.nodes[position])
        assert route.cost == pytest.approx(fresh.plan(route.nodes[0], goal).cost)


@pytest.mark.parametrize("cost", ["distance", "time"])
@pytest.mark.parametrize("seed", [0, 1])
def test_replanning_stays_exact_under_random_blocks_delays_and_moves(cost, seed):
    """Random rounds of blocked edges, added delays and new starts, against a fresh Dijkstra each time."""
    rng = random.Random(seed * 7 + 16)
    road = city_grid(10 + seed, 9, seed=seed, missing_fraction=0.05)
    nodes, edges = sorted(road.graph), sorted(road.graph.edges)
    planner = RoutePlanner(cost=cost).fit(road)
    checked = 0
    for _ in range(15):
        origin, destination = rng.sample(nodes, 2)
        planner.clear_updates()
        try:
            route = planner.plan(origin, destination)
        except NoRouteError:
            continue
        for _ in range(6):
            for _ in range(rng.randint(1, 3)):
                near = rng.random() < 0.6
                edge = rng.choice(route.edges) if route.edges and near else rng.choice(edges)
                if rng.random() < 0.7:
                    planner.block_edge(*edge)
                else:
                    planner.add_delay(*edge, seconds=rng.uniform(1, 60))
            start = rng.choice(route.nodes) if rng.random() < 0.8 else rng.choice(nodes)
            reference = RoutePlanner(cost=cost, algorithm="dijkstra").fit(road)
            reference.update(planner.updates_.values())
            try:
                expected = reference.plan(start, destination).cost
            except NoRouteError:
                with pytest.raises(NoRouteError):
                    planner.replan(start)
                continue
            route = planner.replan(start)
            assert route.cost == pytest.approx(expected)
            checked += 1
    assert checked > 20


def test_replanning_from_behind_the_last_start():
    """The node a search stops at still offers itself to its predecessors (a later start behind it)."""
    road = straight_road(num_lanes=1, length=40, spacing=10, crossing_at=None)
    planner = RoutePlanner().fit(road)
    planner.plan("L0_2", "L0_4")
    assert planner.replan("L0_0").nodes == ["L0_0", "L0_1", "L0_2", "L0_3", "L0_4"]
