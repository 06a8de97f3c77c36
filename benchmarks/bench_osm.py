"""Loading OSMnx GraphML maps: parsing the XML against turning it into a RoadNetwork, then a route.

    python -m benchmarks.bench_osm                       # 2,500 intersections (seconds)
    python -m benchmarks.bench_osm --sides 50,200        # also 40,000 intersections (minutes on a busy machine)

The city is a grid of two-way residential streets in OSMnx's form (every
value as text, ``maxspeed`` among "30", "50", "20 mph" and "50;70", a one-way
street every fifth row, a parallel service road every seventh block), blocks
of 100 x 110 m around 52.5 N, written with networkx's GraphML writer. The
table gives the seconds networkx takes to read the file, the seconds
:meth:`RoadNetwork.from_osmnx` takes to convert it (projection,
tag parsing, validation), and the time of one corner-to-corner route (A*,
``cost="time"``): wall clock, and the process's CPU time (which leaves out
waiting while other programs hold the cores).
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import networkx as nx

from symbolic.planning.roadnet import RoadNetwork
from symbolic.planning.routing import RoutePlanner


def osmnx_grid(side: int, seed: int = 0) -> nx.MultiDiGraph:
    """A ``side x side`` street grid as OSMnx would build it (values as text)."""
    rng = random.Random(seed)
    graph = nx.MultiDiGraph(crs="epsg:4326", created_with="OSMnx 1.9.4", simplified="True")
    for row in range(side):
        for col in range(side):
            graph.add_node(row * side + col, x=f"{13.3 + col * 0.0015:.7f}", y=f"{52.45 + row * 0.001:.7f}",
                           street_count="4")
    for row in range(side):
        for col in range(side):
            u = row * side + col
            for v, length in (((u + 1, "101.8") if col + 1 < side else (None, "")),
                              ((u + side, "111.3") if row + 1 < side else (None, ""))):
                if v is None:
                    continue
                way = {"osmid": str(rng.randrange(10**8)), "highway": "residential", "name": f"Weg {row}",
                       "maxspeed": rng.choice(["30", "50", "20 mph", "50;70"]), "length": length}
                one_way = v == u + 1 and row % 5 == 0
                graph.add_edge(u, v, oneway=str(one_way), reversed="False", **way)
                if not one_way:
                    graph.add_edge(v, u, oneway="False", reversed="True", **way)
                if (row + col) % 7 == 0:
                    graph.add_edge(u, v, osmid=str(rng.randrange(10**8)), highway="service", oneway="True",
                                   reversed="False", length=f"{float(length) * 1.6:.1f}")
    return graph


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_osm", description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="50", help="comma-separated grid sides (nodes = side squared)")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), cpus: {os.cpu_count()}")
    print(f"{'nodes':>8} {'edges':>8} {'MB':>6} {'parse s':>8} {'cpu':>6} {'convert s':>10} {'cpu':>6} "
          f"{'route ms':>9}  route")
    for side in (int(s) for s in args.sides.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "city.graphml"
            nx.write_graphml(osmnx_grid(side), path)
            began, began_cpu = time.perf_counter(), time.process_time()
            graph = nx.read_graphml(path, node_type=str, force_multigraph=True)
            parsed, parsed_cpu = time.perf_counter(), time.process_time()
            road = RoadNetwork.from_osmnx(graph, str(path))
            converted, converted_cpu = time.perf_counter(), time.process_time()
            megabytes = path.stat().st_size / 1e6
        planner = RoutePlanner(cost="time").fit(road)
        start = time.perf_counter()
        route = planner.plan("0", str(side * side - 1))
        route_ms = (time.perf_counter() - start) * 1e3
        print(f"{road.num_nodes:>8,} {road.num_edges:>8,} {megabytes:>6.1f} {parsed - began:>8.2f} "
              f"{parsed_cpu - began_cpu:>6.2f} {converted - parsed:>10.2f} {converted_cpu - parsed_cpu:>6.2f} "
              f"{route_ms:>9.1f}  {route.length:,.0f} m, {route.duration:,.0f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
