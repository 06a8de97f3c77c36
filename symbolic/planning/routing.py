"""Routes over a road network: A* and Dijkstra, edge updates from facts, incremental replanning.

:class:`RoutePlanner` searches backward, from the destination towards the
vehicle, and keeps the search tree. Everything it learned stays valid while
the vehicle moves along the route, and when an edge gets dearer (blocked by a
stopped vehicle, closed, a red light's expected wait) only the part of the
tree that went through that edge and matters for the vehicle's start is
searched again: :meth:`RoutePlanner.replan` (in the manner of D* Lite: the
queue checks the nodes below a changed edge in order of priority, and stops
once nothing left can change the start's route).

The A* heuristic is the larger of two lower bounds on the cost still to go,
both consistent, so A* routes are exactly as cheap as Dijkstra's:

- the straight-line distance times the smallest cost per straight-line metre
  of any edge (``1 / max speed`` for ``cost="time"`` on a map whose lengths are
  at least the straight-line distances);
- landmarks (ALT): with exact costs from and to a few landmarks computed once
  by :meth:`RoutePlanner.fit`, the triangle inequality bounds the cost between
  any two nodes. Blocks and delays only raise costs, so the bounds stay valid.

Route facts (what the bridge reports about the map; node ids as arguments)::

    closed(u, v)              # the road from u to v is closed
    stopped_vehicle(u, v)     # a stopped vehicle blocks the lane from u to v
    light_wait(u, v) = 12.0   # expected seconds of waiting at a red light on u -> v
"""
from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from symbolic.planning.roadnet import MapError, RoadNetwork
from symbolic.reasoning.facts import Fact

COSTS = ("distance", "time")
ALGORITHMS = ("astar", "dijkstra")
BLOCKING_FACTS = ("closed", "stopped_vehicle")
DELAY_FACTS = ("light_wait",)
ACTIVE_LANDMARKS = 6  # landmarks used per query: those that bound the start-to-goal cost best
BULK_BOUNDS_AFTER = 1024  # bounds computed one by one before a search computes them for every node
CHECK = -math.inf  # second field of a queue entry that asks to check a node rather than expand it


def check_priority(key: float) -> float:
    """A check's priority: a little below ``key``, so that rounding never lets an expansion of equal key go first."""
    return key - 1e-7 * (1.0 + abs(key)) if math.isfinite(key) else key


class NoRouteError(ValueError):
    """No route joins the two nodes; the message says why."""


@dataclass(frozen=True)
class EdgeUpdate:
    """A change to one edge's cost: blocked, or a delay in seconds added to its time.

    Example:
        >>> EdgeUpdate("A", "B", blocked=True, reason="stopped_vehicle(A, B)").blocked
        True
    """

    u: str
    v: str
    blocked: bool = False
    delay_s: float = 0.0
    reason: str = ""


@dataclass
class Route:
    """A route: its nodes in driving order and what it costs.

    Attributes:
        nodes: node ids from origin to destination.
        cost: total cost in the planner's unit (metres, seconds or the callable's).
        length: metres.
        duration: seconds at the speed limits, with delays.
        turns: ``(node, turn)`` for each edge that is not ``straight``, in order.

    Example:
        >>> Route(["A", "B", "C"], cost=2.0, length=2.0, duration=0.2).edges
        [('A', 'B'), ('B', 'C')]
    """

    nodes: list[str]
    cost: float
    length: float
    duration: float
    turns: list[tuple[str, str]] = field(default_factory=list)

    @property
    def edges(self) -> list[tuple[str, str]]:
        return list(zip(self.nodes, self.nodes[1:]))

    def describe(self) -> str:
        """The route in words: endpoints, length, time, turns."""
        turns = ", ".join(f"{turn.replace('_', ' ')} at {node}" for node, turn in self.turns) or "no turns"
        return (f"{self.nodes[0]} -> {self.nodes[-1]}: {len(self.nodes) - 1} edges, "
                f"{self.length:.0f} m, {self.duration:.0f} s; {turns}")

    def to_json(self) -> dict:
        return {"nodes": list(self.nodes), "cost": self.cost, "length": self.length,
                "duration": self.duration, "turns": [list(t) for t in self.turns]}


def updates_from_facts(facts: Iterable[Fact], *, min_confidence: float = 0.5) -> list[EdgeUpdate]:
    """Edge updates from route facts (see the module docstring); other facts are ignored.

    Args:
        facts: a :class:`~symbolic.reasoning.facts.FactBase` or any iterable of facts.
        min_confidence: facts below this confidence are ignored.

    Returns:
        One :class:`EdgeUpdate` per blocking or delay fact.

    Example:
        >>> updates_from_facts([Fact("closed", ("A", "B")), Fact("light_wait", ("B", "C"), value=20.0),
        ...                     Fact("car", ("o1",))])
        [EdgeUpdate(u='A', v='B', blocked=True, delay_s=0.0, reason='closed(A, B)'), EdgeUpdate(u='B', v='C', blocked=False, delay_s=20.0, reason='light_wait(B, C)')]
    """
    updates = []
    for fact in facts:
        if fact.confidence < min_confidence or fact.predicate not in BLOCKING_FACTS + DELAY_FACTS:
            continue
        if len(fact.args) != 2:
            raise ValueError(f"route fact {fact.atom} must name an edge by its two nodes, like {fact.predicate}(u, v)")
        if fact.predicate in BLOCKING_FACTS:
            updates.append(EdgeUpdate(*fact.args, blocked=True, reason=fact.atom))
        else:
            if fact.value is None or fact.value < 0:
                raise ValueError(f"route fact {fact.atom} needs a value in seconds >= 0. Received {fact.value!r}")
            updates.append(EdgeUpdate(*fact.args, delay_s=float(fact.value), reason=fact.atom))
    return updates


class _SearchTree:
    """What a backward search from ``goal`` has learned: costs-to-goal and the next hop (node indices)."""

    def __init__(self, goal: int, exclude: frozenset):
        self.goal = goal
        self.exclude = exclude
        self.cost_to_goal = {goal: 0.0}
        self.next_hop: dict[int, int] = {}
        self.closed: set[int] = set()
        self.heap: list = []
        self.heap_start: int | None = None  # the start the bounds are computed for; None: not yet
        self.heuristic: "_LowerBound | None" = None
        self.key_offset = 0.0  # grows by the bound between successive starts (D* Lite's k_m)
        self.num_invalidated = 0

    def key(self, node: int, cost: float) -> float:
        """The priority of ``node`` at ``cost`` to the goal: a lower bound on the cost of a route through it."""
        h = self.heuristic
        return cost + h[node] + self.key_offset if h is not None else cost

    def queue_check(self, node: int) -> None:
        """Queue a check of a node whose route to the goal got dearer; checks come before expansions of equal priority."""
        heapq.heappush(self.heap, (check_priority(self.key(node, self.cost_to_goal[node])), CHECK, node))


class RoutePlanner:
    """Shortest or fastest routes, with edge updates and incremental replanning.

    Args:
        cost: ``"distance"`` (metres), ``"time"`` (seconds at the speed limit,
            plus delays), or a callable ``cost(u, v, attributes) -> float``
            (``None`` or ``inf``: impassable; delays are not added to it).
        algorithm: ``"astar"`` or ``"dijkstra"``. A* bounds the cost still to go
            by straight-line distances and places landmarks by position, so
            it needs a map with node coordinates; Dijkstra routes any map.
        num_landmarks: with A*, also bound the remaining cost by the triangle
            inequality through this many landmarks (distances precomputed by
            :meth:`fit`); 0 keeps the straight-line bound alone.

    Attributes (after :meth:`fit`):
        road_: the :class:`~symbolic.planning.roadnet.RoadNetwork`.
        heuristic_scale_: cost per straight-line metre the A* heuristic uses.
        landmarks_: node ids of the landmarks.
        updates_: ``(u, v) -> EdgeUpdate`` in force.
        last_search_: ``{"expanded", "invalidated", "reused", "ms"}`` of the last query.

    Example:
        >>> from symbolic.planning.roadnet import city_grid
        >>> planner = RoutePlanner(cost="time").fit(city_grid(4, 4, seed=0))
        >>> route = planner.plan("0_0_outE", "3_3_inN")
        >>> route.nodes[0], route.nodes[-1], route.duration > 0
        ('0_0_outE', '3_3_inN', True)
        >>> planner.block_edge(*route.edges[1], reason="closed")
        >>> new = planner.replan()
        >>> route.edges[1] in new.edges, new.cost > route.cost
        (False, True)
    """

    def __init__(self, cost: str | Callable = "distance", algorithm: str = "astar", num_landmarks: int = 16):
        self.cost = cost
        self.algorithm = algorithm
        self.num_landmarks = num_landmarks

    # ------------------------------------------------------------------ setup
    def fit(self, road: RoadNetwork) -> "RoutePlanner":
        """Validate the settings, index ``road`` and place the landmarks; return self."""
        if not (callable(self.cost) or self.cost in COSTS):
            raise ValueError(f"`cost` must be one of {', '.join(COSTS)} or a callable (u, v, attributes) -> float. "
                             f"Received cost={self.cost!r}")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"`algorithm` must be one of {', '.join(ALGORITHMS)}. Received algorithm={self.algorithm!r}")
        if isinstance(self.num_landmarks, bool) or not isinstance(self.num_landmarks, int) or self.num_landmarks < 0:
            raise ValueError(f"`num_landmarks` must be an integer >= 0. Received num_landmarks={self.num_landmarks!r}")
        if not isinstance(road, RoadNetwork):
            raise TypeError(f"`road` must be a RoadNetwork. Received {type(road).__name__}")
        if self.algorithm == "astar" and not road.has_coordinates:
            raise MapError(f"algorithm='astar' needs node coordinates (x, y) to bound the cost still to go, and map "
                           f"{road.name or '<unnamed>'} has none; use algorithm='dijkstra' or add x, y to every node")
        self.road_ = road
        self.updates_: dict[tuple[str, str], EdgeUpdate] = {}
        self.last_search_: dict = {}
        graph = road.graph
        self._names = list(graph)
        self._index = {n: i for i, n in enumerate(self._names)}
        positioned = road.has_coordinates  # Dijkstra needs no positions: zeros stand in for them
        self._x = np.array([graph.nodes[n]["x"] if positioned else 0.0 for n in self._names], dtype=float)
        self._y = np.array([graph.nodes[n]["y"] if positioned else 0.0 for n in self._names], dtype=float)
        self._xs, self._ys = self._x.tolist(), self._y.tolist()
        self._succ: list[list[tuple[int, float]]] = [[] for _ in self._names]
        self._pred: list[list[tuple[int, float]]] = [[] for _ in self._names]
        heads, tails, costs = [], [], []
        for u, v, attributes in graph.edges(data=True):
            cost = self._base_cost(u, v, attributes)
            if cost == math.inf:
                continue
            i, j = self._index[u], self._index[v]
            self._succ[i].append((j, cost))
            self._pred[j].append((i, cost))
            heads.append(i), tails.append(j), costs.append(cost)
        costs = np.asarray(costs, dtype=float)
        heads, tails = np.asarray(heads, dtype=np.int64), np.asarray(tails, dtype=np.int64)
        straight = np.hypot(self._x[tails] - self._x[heads], self._y[tails] - self._y[heads])
        usable = straight > 1e-9
        scale = float(np.min(costs[usable] / straight[usable])) if usable.any() else 0.0
        self.heuristic_scale_ = 0.0 if self.algorithm == "dijkstra" else max(0.0, scale * (1 - 1e-12))
        self._place_landmarks(heads, tails, costs)
        self._tree: _SearchTree | None = None
        self._start: int | None = None
        return self

    def _place_landmarks(self, heads, tails, costs) -> None:
        """Landmarks on the map's rim (the farthest node in each sector around the centre), with exact costs from and to each."""
        self.landmarks_: list[str] = []
        self._from_landmark = self._to_landmark = None
        count = self.num_landmarks if self.algorithm == "astar" else 0
        if count == 0 or len(costs) == 0 or (costs <= 0).any():  # sparse graphs drop zero-cost edges
            return
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        connected = np.array([bool(s) and bool(p) for s, p in zip(self._succ, self._pred)])
        dx, dy = self._x - self._x[connected].mean(), self._y - self._y[connected].mean()
        sector = ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * count).astype(int) % count
        radius = np.where(connected, np.hypot(dx, dy), -1.0)
        chosen = []  # per sector of directions around the centre, its farthest node
        for index in range(count):
            in_sector = np.where(sector == index, radius, -1.0)
            best = int(np.argmax(in_sector))
            if in_sector[best] >= 0:
                chosen.append(best)
        matrix = csr_matrix((costs, (heads, tails)), shape=(len(self._names),) * 2)
        self._from_landmark = dijkstra(matrix, directed=True, indices=chosen)  # (K, N)
        self._to_landmark = dijkstra(matrix.T.tocsr(), directed=True, indices=chosen)  # (K, N)
        self._from_lists = [row.tolist() for row in self._from_landmark]
        self._to_lists = [row.tolist() for row in self._to_landmark]
        self.landmarks_ = [self._names[i] for i in chosen]

    def _heuristic(self, start: int, goal: int, landmark_ids: list[int] | None = None) -> "_LowerBound | None":
        """A consistent lower bound on the cost from ``start`` to each node, computed when first asked; None for Dijkstra.

        Uses the straight-line bound and the landmarks ``landmark_ids``; by
        default the ``ACTIVE_LANDMARKS`` that bound the cost from ``start`` to ``goal`` best.
        """
        if self.heuristic_scale_ == 0.0 and self._from_landmark is None:
            return None
        if landmark_ids is None:
            landmark_ids = []
            if self._from_landmark is not None:
                from_landmark, to_landmark = self._from_landmark, self._to_landmark
                with np.errstate(invalid="ignore"):
                    pair = np.fmax(from_landmark[:, goal] - from_landmark[:, start],
                                   to_landmark[:, start] - to_landmark[:, goal])
                landmark_ids = [int(k) for k in np.argsort(-np.nan_to_num(pair, nan=-np.inf))[:ACTIVE_LANDMARKS]]
        landmarks = [(self._from_lists[k], self._to_lists[k], self._from_lists[k][start], self._to_lists[k][start], k)
                     for k in landmark_ids]
        return _LowerBound(self, start, landmarks)

    def _bound_between(self, bound: "_LowerBound | None", a: int, b: int) -> float:
        """A lower bound on the cost from ``a`` to ``b`` with ``bound``'s landmarks (0 for Dijkstra)."""
        if bound is None:
            return 0.0
        best = self.heuristic_scale_ * math.hypot(self._xs[b] - self._xs[a], self._ys[b] - self._ys[a])
        for from_landmark, to_landmark, _, _, _ in bound.landmarks:
            forward = from_landmark[b] - from_landmark[a]
            backward = to_landmark[a] - to_landmark[b]
            if forward > best:
                best = forward
            if backward > best:
                best = backward
        return best

    def _base_cost(self, u: str, v: str, attributes: dict) -> float:
        if self.cost == "distance":
            return attributes["length"]
        if self.cost == "time":
            return attributes["length"] / attributes["speed_limit"]
        value = self.cost(u, v, attributes)
        if value is None:
            return math.inf
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
            raise ValueError(f"the cost callable must return a number >= 0 or None for edge {u}->{v}. Received {value!r}")
        return float(value)

    def _edge_cost(self, u: str, v: str) -> float:
        cost = self._base_cost(u, v, self.road_.graph.edges[u, v])
        update = self.updates_.get((u, v))
        if update is not None:
            if update.blocked:
                return math.inf
            if self.cost == "time":
                cost += update.delay_s
        return cost

    def _check_fitted(self) -> None:
        if not hasattr(self, "road_"):
            raise RuntimeError("this RoutePlanner is not fitted yet; call planner.fit(road) first")

    def _node_index(self, node: str) -> int:
        self.road_.node(node)  # a clear error for an unknown id
        return self._index[node]

    # ------------------------------------------------------------------ updates
    def update(self, updates: EdgeUpdate | Iterable[EdgeUpdate]) -> None:
        """Apply edge updates (they replace earlier updates of the same edge)."""
        self._check_fitted()
        for update in [updates] if isinstance(updates, EdgeUpdate) else list(updates):
            if not self.road_.graph.has_edge(update.u, update.v):
                raise MapError(f"cannot update edge {update.u}->{update.v} ({update.reason or 'no reason'}): "
                               f"map {self.road_.name} has no such edge")
            before = self._edge_cost(update.u, update.v)
            self.updates_[update.u, update.v] = update
            self._set_cost(update.u, update.v, before)

    def block_edge(self, u: str, v: str, reason: str = "") -> None:
        """Make the edge ``u -> v`` impassable."""
        self.update(EdgeUpdate(u, v, blocked=True, reason=reason))

    def block_node(self, node: str, reason: str = "") -> None:
        """Make ``node`` impassable (a closed intersection): block every edge into and out of it.

        :meth:`clear_updates` opens it again.

        Example:
            >>> from symbolic.planning.roadnet import city_grid
            >>> planner = RoutePlanner().fit(city_grid(3, 3, seed=0))
            >>> route = planner.plan("0_0_outE", "2_2_inN")
            >>> closed = route.nodes[2]
            >>> planner.block_node(closed, reason="closed intersection")
            >>> new = planner.replan()
            >>> closed in new.nodes, new.cost > route.cost
            (False, True)
        """
        self._check_fitted()
        self.road_.node(node)  # a clear error for an unknown id
        graph = self.road_.graph
        edges = list(graph.in_edges(node)) + [e for e in graph.out_edges(node) if e[0] != e[1]]
        self.update([EdgeUpdate(u, v, blocked=True, reason=reason or f"node {node} blocked") for u, v in edges])

    def add_delay(self, u: str, v: str, seconds: float, reason: str = "") -> None:
        """Expect ``seconds`` of waiting on ``u -> v`` (counts for ``cost="time"``)."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < math.inf:
            raise ValueError(f"`seconds` must be a finite number >= 0. Received seconds={seconds!r}")
        self.update(EdgeUpdate(u, v, delay_s=float(seconds), reason=reason))

    def apply_facts(self, facts: Iterable[Fact], *, min_confidence: float = 0.5) -> list[EdgeUpdate]:
        """Apply the route facts among ``facts`` (see :func:`updates_from_facts`); return the updates."""
        updates = updates_from_facts(facts, min_confidence=min_confidence)
        self.update(updates)
        return updates

    def clear_updates(self) -> None:
        """Drop every update: all edges back to their map costs."""
        self._check_fitted()
        for u, v in list(self.updates_):
            before = self._edge_cost(u, v)
            del self.updates_[u, v]
            self._set_cost(u, v, before)

    def _set_cost(self, u: str, v: str, before: float) -> None:
        after = self._edge_cost(u, v)
        i, j = self._index[u], self._index[v]
        self._succ[i] = [(w, c) for w, c in self._succ[i] if w != j] + ([(j, after)] if after < math.inf else [])
        self._pred[j] = [(w, c) for w, c in self._pred[j] if w != i] + ([(i, after)] if after < math.inf else [])
        if after < before:
            self._tree = None  # a cheaper edge can change anything: search afresh
        elif after > before and self._tree is not None and self._tree.next_hop.get(i) == j:
            self._tree.queue_check(i)  # the search tree's route from u went over this edge

    # ------------------------------------------------------------------ queries
    def plan(self, origin: str, destination: str, *, exclude: Iterable[tuple[str, str]] = ()) -> Route:
        """The cheapest route from ``origin`` to ``destination``, searched afresh.

        Args:
            origin, destination: node ids.
            exclude: edges ``(u, v)`` this query may not use (kept for :meth:`replan`).

        Returns:
            A :class:`Route`.

        Raises:
            NoRouteError: when no route exists (the message names both nodes).
            MapError: for an unknown node.
        """
        self._check_fitted()
        start, goal = self._node_index(origin), self._node_index(destination)
        self._tree = _SearchTree(goal, self._excluded(exclude))
        self._start = start
        return self._run(start, reused=False)

    def has_route(self, origin: str, destination: str, *, exclude: Iterable[tuple[str, str]] = ()) -> bool:
        """Whether any route joins the nodes without the ``exclude`` edges (a breadth-first search).

        Example:
            >>> from symbolic.planning.roadnet import straight_road
            >>> planner = RoutePlanner().fit(straight_road(num_lanes=1, length=40, spacing=20, crossing_at=None))
            >>> planner.has_route("L0_0", "L0_2"), planner.has_route("L0_0", "L0_2", exclude=[("L0_1", "L0_2")])
            (True, False)
        """
        self._check_fitted()
        start, goal = self._node_index(origin), self._node_index(destination)
        excluded = self._excluded(exclude)
        seen, frontier = {start}, [start]
        while frontier:
            node = frontier.pop()
            if node == goal:
                return True
            for nxt, _ in self._succ[node]:
                if nxt not in seen and not (excluded and (node, nxt) in excluded):
                    seen.add(nxt)
                    frontier.append(nxt)
        return False

    def _excluded(self, exclude: Iterable[tuple[str, str]]) -> frozenset:
        index = self._index
        return frozenset((index[u], index[v]) for u, v in exclude if u in index and v in index)

    def replan(self, start: str | None = None) -> Route:
        """The cheapest route from ``start`` (default: the last origin) to the last destination.

        Reuses the last search: nodes whose route to the destination avoids
        every edge that got dearer keep their costs; the others are checked and
        searched again as far as the start's route needs. After an edge got
        cheaper it searches afresh. The route always equals a fresh search's.
        """
        self._check_fitted()
        if self._start is None:
            raise RuntimeError("replan() needs an earlier plan(origin, destination) call")
        self._start = self._start if start is None else self._node_index(start)
        if self._tree is None:
            self._tree = _SearchTree(self._last_goal, self._last_exclude)
            return self._run(self._start, reused=False)
        return self._run(self._start, reused=True)

    def _run(self, start: int, *, reused: bool) -> Route:
        began = time.perf_counter()
        tree = self._tree
        self._last_goal, self._last_exclude = tree.goal, tree.exclude
        tree.num_invalidated = 0
        expanded = self._search(tree, start)
        self.last_search_ = {"expanded": expanded, "invalidated": tree.num_invalidated, "reused": reused,
                             "ms": (time.perf_counter() - began) * 1e3}
        if start not in tree.closed:
            raise NoRouteError(f"no route from {self._names[start]} to {self._names[tree.goal]} in map {self.road_.name}"
                               + (" with the blocked edges" if any(u.blocked for u in self.updates_.values()) else ""))
        nodes = [start]
        while nodes[-1] != tree.goal:
            nodes.append(tree.next_hop[nodes[-1]])
        return route_from_nodes(self.road_, [self._names[i] for i in nodes], cost=tree.cost_to_goal[start],
                                updates=self.updates_)

    def _search(self, tree: _SearchTree, start: int) -> int:
        """Backward A* from the tree's goal until ``start`` is settled and nothing queued could change it.

        The queue holds expansions ``(key, -cost, node)`` and checks ``(key, CHECK, node)`` of nodes whose
        route to the goal got dearer. Keys grow along the search tree (the bounds are consistent), so a
        check reaches every node below a changed edge before that node's own key comes up, and parts of
        the tree beyond the start's key are never touched (D* Lite's lazy handling of dearer edges).
        """
        pred = self._pred
        cost_to_goal, next_hop, closed, exclude = tree.cost_to_goal, tree.next_hop, tree.closed, tree.exclude
        h = tree.heuristic
        if tree.heap_start is None or (h is not None and not math.isfinite(self._bound_between(h, tree.heap_start, start))):
            # a fresh search, or a start the old bounds cannot relate: bounds towards this start, priorities anew
            checks = [node for _, kind, node in tree.heap if kind == CHECK and node in cost_to_goal]
            tree.heuristic = h = self._heuristic(start, tree.goal)
            tree.key_offset = 0.0
            tree.heap = [(tree.key(n, g), -g, n) for n, g in cost_to_goal.items() if n not in closed]
            tree.heap += [(check_priority(tree.key(n, cost_to_goal[n])), CHECK, n) for n in checks]
            heapq.heapify(tree.heap)
        elif tree.heap_start != start and h is not None:
            # the vehicle moved: old priorities stay lower bounds once the offset grows by the bound between
            # the two starts; each is brought up to date when it comes to the top (D* Lite's lazy re-keying)
            tree.key_offset += self._bound_between(h, tree.heap_start, start)
            tree.heuristic = h = self._heuristic(start, tree.goal, [k for *_, k in h.landmarks])
        tree.heap_start = start
        heap, expanded, inf, offset = tree.heap, 0, math.inf, tree.key_offset
        while heap:
            if start in closed and heap[0][0] > tree.key(start, cost_to_goal[start]):
                break  # the start is settled and nothing queued comes before it
            key, second, v = heapq.heappop(heap)
            if second == CHECK:
                self._check(tree, v, key)
                continue
            g = -second
            if v in closed or cost_to_goal.get(v) != g:
                continue  # settled already, or a stale entry
            if h is not None:
                current = g + h[v] + offset
                if key < current - 1e-9 * (1.0 + abs(current)):  # an outdated priority (never when current is inf)
                    heapq.heappush(heap, (current, second, v))
                    continue
                if current == inf:  # this node cannot lead to the start; keep it for later starts
                    heapq.heappush(heap, (inf, second, v))
                    if key == inf:
                        break  # and neither can anything left in the queue
                    continue
            closed.add(v)
            expanded += 1
            if h is tree.heuristic and h is not None and h.everything is not None:
                h = h.everything  # every bound is known now: index the list directly
            for u, cost in pred[v]:  # the start too: a settled node has always offered itself to its predecessors
                if u in closed or (exclude and (u, v) in exclude):
                    continue
                new = g + cost
                if new < cost_to_goal.get(u, inf):
                    cost_to_goal[u] = new
                    next_hop[u] = v
                    heapq.heappush(heap, (new + h[u] + offset if h is not None else new, -new, u))
            if v == start:
                break
        return expanded

    def _check(self, tree: _SearchTree, node: int, key: float) -> None:
        """A queued check: if ``node``'s cost no longer holds, forget it, queue checks below it, reseed it."""
        cost = tree.cost_to_goal.get(node)
        hop = tree.next_hop.get(node)
        if cost is None or hop is None:
            return  # forgotten already, or the goal
        current = check_priority(tree.key(node, cost))
        if math.isfinite(current) and key < current - 1e-7 * (1.0 + abs(current)):
            heapq.heappush(tree.heap, (current, CHECK, node))  # bring the priority up to date first
            return
        if hop in tree.closed and cost == self._edge_cost_between(node, hop) + tree.cost_to_goal[hop]:
            return  # its route still costs what it did
        tree.num_invalidated += 1
        tree.closed.discard(node)
        del tree.cost_to_goal[node], tree.next_hop[node]
        for child, _ in self._pred[node]:
            if tree.next_hop.get(child) == node:
                tree.queue_check(child)
        best, hop = math.inf, None
        for v, cost in self._succ[node]:
            if v in tree.closed and not (tree.exclude and (node, v) in tree.exclude):
                candidate = cost + tree.cost_to_goal[v]
                if candidate < best:
                    best, hop = candidate, v
        if hop is not None:
            tree.cost_to_goal[node], tree.next_hop[node] = best, hop
            heapq.heappush(tree.heap, (tree.key(node, best), -best, node))

    def _edge_cost_between(self, u: int, v: int) -> float:
        """The current cost of the edge ``u -> v`` (infinity when blocked)."""
        for w, cost in self._succ[u]:
            if w == v:
                return cost
        return math.inf


class _LowerBound(dict):
    """Node index -> lower bound on the cost from ``start`` to it; each computed on first use.

    The larger of ``scale`` times the straight-line distance and, per landmark
    L, ``d(L, v) - d(L, start)`` and ``d(start, L) - d(v, L)`` (triangle
    inequality). An unreachable landmark bound gives infinity: no route.
    Once a search has asked for many nodes, the bounds of all nodes are
    computed at once with numpy (cheaper per node than one at a time).
    """

    def __init__(self, planner: "RoutePlanner", start: int, landmarks: list):
        super().__init__()
        self.planner, self.start, self.landmarks = planner, start, landmarks
        self.xs, self.ys, self.scale = planner._xs, planner._ys, planner.heuristic_scale_
        self.sx, self.sy = self.xs[start], self.ys[start]
        self.num_left = max(BULK_BOUNDS_AFTER, len(self.xs) // 50)  # single computations before all at once
        self.everything: list[float] | None = None

    def __missing__(self, node: int) -> float:
        if self.everything is not None:
            return self.everything[node]
        self.num_left -= 1
        if self.num_left < 0:
            self.everything = self._all_nodes()
            return self.everything[node]
        bound = self.scale * math.hypot(self.xs[node] - self.sx, self.ys[node] - self.sy)
        for from_landmark, to_landmark, from_start, to_start, _ in self.landmarks:
            forward = from_landmark[node] - from_start
            backward = to_start - to_landmark[node]
            if forward > bound:
                bound = forward
            if backward > bound:
                bound = backward
        bound *= 1 - 1e-12
        self[node] = bound
        return bound

    def _all_nodes(self) -> list[float]:
        planner = self.planner
        bound = self.scale * np.hypot(planner._x - self.sx, planner._y - self.sy)
        for _, _, from_start, to_start, k in self.landmarks:
            with np.errstate(invalid="ignore"):
                forward = planner._from_landmark[k] - from_start
                backward = to_start - planner._to_landmark[k]
            bound = np.fmax(bound, np.fmax(forward, backward))
        return (bound * (1 - 1e-12)).tolist()


def route_from_nodes(road: RoadNetwork, nodes: list[str], *, cost: float | None = None,
                     updates: dict | None = None) -> Route:
    """A :class:`Route` along ``nodes`` with its length, duration (with delays) and turns.

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> road = straight_road(num_lanes=1, length=40, spacing=20, crossing_at=None)
        >>> route_from_nodes(road, ["L0_0", "L0_1", "L0_2"]).length
        40.0
    """
    length = duration = 0.0
    turns = []
    for u, v in zip(nodes, nodes[1:]):
        attributes = road.edge(u, v)
        length += attributes["length"]
        duration += attributes["length"] / attributes["speed_limit"]
        update = (updates or {}).get((u, v))
        if update is not None:
            duration += math.inf if update.blocked else update.delay_s
        if attributes["turn"] != "straight":
            turns.append((u, attributes["turn"]))
    return Route(list(nodes), cost=length if cost is None else cost, length=length, duration=duration, turns=turns)
