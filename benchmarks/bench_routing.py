"""Route queries on city grids, and replanning after a blocked edge against planning from scratch.

    python -m benchmarks.bench_routing                      # 10k and 100k nodes
    python -m benchmarks.bench_routing --sizes 10k,100k,1M  # also a million nodes (minutes, ~3 GB)

Far queries join the grid's opposite corners (each end picked at random in
the outer tenth); local ones lie within three blocks. Replanning: the
vehicle has driven part of its route when an edge ahead gets blocked (five
edges ahead, as perception sees it, or in the middle of what is left); the
incremental planner repairs its search tree, a second planner with the same
blocked edges searches from scratch. Times are medians and 99th percentiles
over the queries, in milliseconds: wall clock, and the process's CPU time
(which leaves out waiting while other programs hold the cores).
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import time

from symbolic.planning.roadnet import city_grid
from symbolic.planning.routing import NoRouteError, RoutePlanner

SIZES = {"10k": 36, "100k": 112, "1M": 354}  # rows = cols of the grid; about 8 * rows * cols nodes


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def pick(road, rng: random.Random, rows: int, corner: str, *, span: int) -> str:
    """A random approach node in a ``span``-wide square at a corner ("low" or "high")."""
    while True:
        r = rng.randrange(span) if corner == "low" else rows - 1 - rng.randrange(span)
        c = rng.randrange(span) if corner == "low" else rows - 1 - rng.randrange(span)
        node = f"{r}_{c}_in{rng.choice('NESW')}"
        if node in road.graph:
            return node


def query_pairs(road, rows: int, num: int, *, far: bool, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pairs = []
    span = max(1, rows // 10)
    while len(pairs) < num:
        if far:
            pairs.append((pick(road, rng, rows, "low", span=span), pick(road, rng, rows, "high", span=span)))
        else:
            a = f"{rng.randrange(rows)}_{rng.randrange(rows)}_inN"
            r, c, _ = a.split("_")
            b = f"{min(rows - 1, int(r) + rng.randrange(4))}_{min(rows - 1, int(c) + rng.randrange(4))}_inE"
            if a in road.graph and b in road.graph and a != b:
                pairs.append((a, b))
    return pairs


class Stopwatch:
    """Wall-clock and CPU milliseconds of a block (CPU time leaves out waiting for a busy machine)."""

    def __init__(self):
        self.wall, self.cpu = [], []

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, kind, error, trace):
        if kind is None:
            self.wall.append((time.perf_counter() - self._wall) * 1e3)
            self.cpu.append((time.process_time() - self._cpu) * 1e3)


def time_queries(planner: RoutePlanner, pairs) -> tuple[Stopwatch, list[int]]:
    watch, expanded = Stopwatch(), []
    for a, b in pairs:
        try:
            with watch:
                planner.plan(a, b)
        except NoRouteError:
            continue
        expanded.append(planner.last_search_["expanded"])
    return watch, expanded


def replanning(road, planner: RoutePlanner, fresh: RoutePlanner, pairs, *, driven: float, ahead: int | None):
    """Per trial: drive a share ``driven`` of the route, block an edge ``ahead`` edges on (None: half of
    what is left), replan incrementally and from scratch."""
    incremental, scratch, same = Stopwatch(), Stopwatch(), 0
    for a, b in pairs:
        planner.clear_updates()
        fresh.clear_updates()
        route = planner.plan(a, b)
        position = int(len(route.edges) * driven)
        index = position + ahead if ahead is not None else position + (len(route.edges) - position) // 2
        if index >= len(route.edges) - 1:
            continue
        edge = route.edges[index]
        planner.block_edge(*edge, reason="stopped vehicle")
        fresh.block_edge(*edge, reason="stopped vehicle")
        start = route.nodes[position]
        try:
            with incremental:
                replanned = planner.replan(start)
            with scratch:
                fresh_route = fresh.plan(start, b)
        except NoRouteError:
            continue
        same += abs(replanned.cost - fresh_route.cost) < 1e-6 * max(1.0, fresh_route.cost)
    planner.clear_updates()
    fresh.clear_updates()
    return incremental, scratch, same


def row(name: str, watch: Stopwatch, extra: str = "") -> str:
    if not watch.wall:
        return f"{name:<44} (no queries)"
    numbers = [statistics.median(watch.wall), percentile(watch.wall, 99),
               statistics.median(watch.cpu), percentile(watch.cpu, 99)]
    return f"{name:<44} " + " ".join(f"{v:9.2f}" for v in numbers) + f" {len(watch.wall):5d}  {extra}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_routing", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated grid sizes among 10k, 100k, 1M")
    parser.add_argument("--queries", type=int, default=40, help="queries per measurement (fewer at 1M)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; choose among {', '.join(SIZES)}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), cpus: {os.cpu_count()}")
    for size in sizes:
        rows = SIZES[size]
        num = max(5, args.queries // 10) if size == "1M" else args.queries
        began = time.perf_counter()
        road = city_grid(rows, rows, missing_fraction=0.05, seed=args.seed)
        build_s = time.perf_counter() - began
        print(f"\n{road.name}: {road.num_nodes:,} nodes, {road.num_edges:,} edges, 5% of roads missing; "
              f"built in {build_s:.1f} s")
        print(f"{'query':<44} {'p50 ms':>9} {'p99 ms':>9} {'p50 cpu':>9} {'p99 cpu':>9} {'n':>5}  expanded (median)")
        far = query_pairs(road, rows, num, far=True, seed=args.seed + 1)
        local = query_pairs(road, rows, num, far=False, seed=args.seed + 2)
        planners = {}
        for cost in ("distance", "time"):
            for algorithm in ("astar", "dijkstra"):
                if size == "1M" and algorithm == "dijkstra" and cost == "time":
                    continue
                began = time.perf_counter()
                planner = RoutePlanner(cost=cost, algorithm=algorithm).fit(road)
                fit_s = time.perf_counter() - began
                planners[cost, algorithm] = planner
                for kind, pairs in (("far", far), ("local", local)):
                    if kind == "local" and algorithm == "dijkstra":
                        continue
                    times, expanded = time_queries(planner, pairs)
                    note = f"{statistics.median(expanded):,.0f}" if expanded else ""
                    if kind == "far":
                        note += f"; fit {fit_s:.1f} s"
                    print(row(f"{kind:<5} {cost:<8} {algorithm}", times, note))
        if size != "1M":
            fresh = RoutePlanner(cost="time").fit(road)
            planner = planners["time", "astar"]
            for label, driven, ahead in (("at origin, block 5 ahead", 0.0, 5),
                                         ("1/4 driven, block 5 ahead", 0.25, 5),
                                         ("1/4 driven, block mid-way", 0.25, None)):
                incremental, scratch, same = replanning(road, planner, fresh, far, driven=driven, ahead=ahead)
                print(row(f"replan {label}: incremental", incremental,
                          f"same cost as scratch: {same}/{len(incremental.wall)}"))
                print(row(f"replan {label}: from scratch", scratch))
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
        print(f"peak memory so far: {peak_gb:.2f} GB")
        del road, planners
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (1 min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
