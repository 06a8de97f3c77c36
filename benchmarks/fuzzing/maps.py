"""Fuzz target: road map files (OSMnx GraphML, our GraphML and JSON) with damaged values and edges.

Each case takes a shipped map, replaces one to three attribute values with
junk (bad numbers, broken lists and WKT, odd one-way words) or with a value
from elsewhere in the file, sometimes points an edge at an undeclared node or
drops every position, then loads it and routes between two of its nodes with
Dijkstra. Accepted: a map (and a route, or ``NoRouteError``), or a
``MapError`` of one line that names the file.
"""
from __future__ import annotations

import json
import re
import tempfile
import warnings
from pathlib import Path

from benchmarks.fuzzing import Case
from symbolic.planning.roadnet import MapError, RoadNetwork
from symbolic.planning.routing import NoRouteError, RoutePlanner

MAPS = Path(__file__).resolve().parents[2] / "configs" / "maps"
JUNK = ["", "nan", "inf", "-inf", "1e400", "-5", "0", "abc", "[", "[1, 2", "['a', 5]", "None", "-1", "True", "yes;no",
        "50 mph;", "fast", "LINESTRING ()", "LINESTRING (1 2)", "LINESTRING (nan nan, 1 1)", "[[[[]]]]", "'", "{}",
        "9" * 400, "DE:urban", "30 knots", "[False, True]"]
_VALUE = re.compile(r">([^<>]*)</data>")


def generate(rng, index: int) -> Case:
    """One damaged map: ``payload`` is ``(file name, text)``."""
    name = rng.choice(["mitte.graphml", "mitte.graphml", "town.json", "crossing.json"])
    text = (MAPS / name).read_text()
    if name.endswith(".json"):
        data = json.loads(text)
        entries = data["nodes"] + data["edges"]
        for _ in range(rng.randint(1, 3)):
            entry = rng.choice(entries)
            key = rng.choice(sorted(entry))
            entry[key] = rng.choice([rng.choice(JUNK), None, -1, 1e308, [], {"x": 1}])
        if rng.random() < 0.2:
            for node in data["nodes"]:
                node.pop("x", None), node.pop("y", None)
        return Case(f"{name} #{index}", (name, json.dumps(data)))
    values = _VALUE.findall(text)
    for _ in range(rng.randint(1, 3)):
        start, end = rng.choice([m.span(1) for m in _VALUE.finditer(text)])
        text = text[:start] + rng.choice(JUNK + values) + text[end:]
    if rng.random() < 0.2:
        ends = re.findall(r'(?:source|target)="[^"]*"', text)
        old = rng.choice(ends)
        text = text.replace(old, old.split("=")[0] + f'="{rng.choice(["1", "", "29270410x"])}"', 1)
    if rng.random() < 0.1:
        text = re.sub(r'<data key="d[45]">[^<]*</data>', "", text)
    return Case(f"{name} #{index}", (name, text))


def check(case: Case) -> str | None:
    """None when the map loads and routes, or is refused with one line naming the file."""
    name, text = case.payload
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                road = RoadNetwork.load(path)
        except MapError as error:
            message = str(error)
            if "\n" in message or str(path) not in message:
                return f"map error without one line naming the file: {message[:200]!r}"
            return None
    nodes = sorted(road.graph)
    if len(nodes) >= 2:
        try:
            RoutePlanner(algorithm="dijkstra").fit(road).plan(nodes[0], nodes[-1])
        except NoRouteError:
            pass
    return None
