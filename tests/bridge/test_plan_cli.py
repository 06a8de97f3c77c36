"""``nesy plan``: routes printed and drawn, constraints from flags and files, one-line errors."""
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from bridge import cli

TOWN = str(Path(__file__).resolve().parents[2] / "configs" / "maps" / "town.json")
CROSSING = str(Path(__file__).resolve().parents[2] / "configs" / "maps" / "crossing.json")


def test_plan_prints_the_route_and_draws_it(tmp_path, capsys):
    out = tmp_path / "route.png"
    assert cli.main(["plan", "--map", TOWN, "--from", "0_0_outE", "--to", "2_3_inN", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("0_0_outE -> 2_3_inN: 9 edges")
    assert "route: 0_0_outE -> 0_1_inE" in printed.out and f"wrote {out}" in printed.err
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width > 300
    assert [p.name for p in tmp_path.iterdir()] == ["route.png"]  # no temporary file left behind


def test_constraints_from_flags_change_the_route(capsys):
    cli.main(["plan", "--map", TOWN, "--from", "0_0_outE", "--to", "2_3_inN", "--json"])
    free = json.loads(capsys.readouterr().out)
    assert cli.main(["plan", "--map", TOWN, "--from", "0_0_outE", "--to", "2_3_inN", "--json", "--cost", "time",
                     "--avoid", "toll", "--no-left-turn-at", "0_3", "--via", "1_1_inN"]) == 0
    constrained = json.loads(capsys.readouterr().out)
    assert constrained["constraints"] == ["avoid tags=toll", "via 1_1_inN", "no left turn at 0_3"]
    assert "1_1_inN" in constrained["nodes"] and constrained["nodes"] != free["nodes"]
    assert ["0_3_inE", "left"] not in constrained["turns"]


def test_constraints_file(tmp_path, capsys):
    path = tmp_path / "route.yaml"
    path.write_text("avoid: [school_zone]\nno_turn: [{at: X, turn: right}]\n")
    assert cli.main(["plan", "--map", CROSSING, "--from", "L2_0", "--to", "W_end", "--constraints", str(path)]) == 0
    assert "change left" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--map", "missing.json", "--from", "A", "--to", "B"], "missing.json: cannot read map file"),
    (["--map", TOWN, "--from", "0_0_outE", "--to", "nowhere"], "unknown node 'nowhere' in map town"),
    (["--map", TOWN, "--from", "0_0_outE", "--to", "2_3_inN", "--via", "0_3_inE", "--no-left-turn-at", "0_3"],
     "no route from 0_0_outE to 2_3_inN satisfies: via 0_3_inE; no left turn at 0_3"),
    (["--map", TOWN, "--from", "0_0_outE", "--to", "2_3_inN", "--avoid", "colour=red"],
     "an avoid constraint must be KEY=VALUE"),
])
def test_user_errors_are_one_line_exit_1(argv, message, capsys):
    assert cli.main(["plan", *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("nesy plan: error: ") and message in err


@pytest.mark.parametrize("argv, message", [
    (["--map", TOWN, "--from", "0_0_outE", "--to", "2_3_inN", "--out", "route.jpg"], "must name a .png file"),
])
def test_arguments_that_do_not_fit_exit_2(argv, message, capsys):
    assert cli.main(["plan", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("nesy plan: error: ") and message in err


def test_bad_cost_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["plan", "--map", TOWN, "--from", "a", "--to", "b", "--cost", "fast"])
    assert exit_info.value.code == 2


MANEUVER = str(Path(__file__).resolve().parents[2] / "configs" / "maneuvers" / "overtaken.json")


def test_maneuver_mode_prints_and_draws_the_plan(tmp_path, capsys):
    out = tmp_path / "plan.png"
    assert cli.main(["plan", "--maneuver", MANEUVER, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "action now: go" in printed and printed.splitlines()[1].endswith("change_left")
    with Image.open(out) as image:
        assert image.format == "PNG"


def test_maneuver_json_and_a_blocked_plan(tmp_path, capsys):
    scene = tmp_path / "blocked.json"
    scene.write_text(json.dumps({"ego": {"lane": 1, "speed": 5}, "target": {"lane": 0, "before_y": 15},
                                 "objects": [{"id": "o1", "label": "truck", "x": 1.75, "y": 4, "length": 8}]}))
    assert cli.main(["plan", "--maneuver", str(scene), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["action"] == "stop" and not plan["reached"]
    assert [b["rule"] for b in plan["blocking"]] == ["left_lane_clear"]


@pytest.mark.parametrize("scene, message", [
    ({"ego": {"lane": 1}, "target": {"lane": 7}}, r"`target.lane` must be a lane index in \[0, 2\]. Received target.lane=7"),
    ({"ego": {"lane": 1, "speed": "fast"}, "target": {"lane": 0}}, r"ego: `speed` must be a finite number"),
    ({"ego": {"lane": 1}, "target": {"lane": 0}, "objects": [{"id": "o1", "label": "car", "x": 1}]},
     r"objects\[0\]: missing key 'y'"),
    ({"ego": {"lane": 1}, "target": {"lane": 0}, "weather": "rain"}, r"unknown key 'weather'"),
])
def test_bad_maneuver_scenes_are_one_line_errors(tmp_path, capsys, scene, message):
    path = tmp_path / "scene.json"
    path.write_text(json.dumps(scene))
    assert cli.main(["plan", "--maneuver", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err
    assert re.search(message, err)


def test_route_mode_needs_both_ends(capsys):
    assert cli.main(["plan", "--map", TOWN, "--from", "0_0_outE"]) == 2
    assert "a route needs `--from NODE` and `--to NODE`" in capsys.readouterr().err


OSMNX = str(Path(__file__).resolve().parents[2] / "tests" / "symbolic" / "planning" / "osmnx_mitte.graphml")


def test_avoid_node_routes_around_a_closed_intersection(capsys):
    assert cli.main(["plan", "--map", OSMNX, "--from", "29270410", "--to", "29270522", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["nodes"] == ["29270410", "29270411", "29270412", "29270522"]
    assert cli.main(["plan", "--map", OSMNX, "--from", "29270410", "--to", "29270522", "--json",
                     "--avoid-node", "29270412", "--avoid-node", "29270411"]) == 0
    route = json.loads(capsys.readouterr().out)
    assert route["nodes"] == ["29270410", "29270520", "29270521", "29270522"]
    assert route["constraints"] == ["avoid node 29270412", "avoid node 29270411"]


def test_avoid_node_refuses_an_unknown_id_naming_known_ones(capsys):
    assert cli.main(["plan", "--map", TOWN, "--from", "0_0_outE", "--to", "2_3_inN", "--avoid-node", "1_1_inX"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("nesy plan: error: argument --avoid-node: unknown node '1_1_inX' in map town; "
                          "known nodes include 1_1_in")
    assert err.endswith("more) (see 'nesy plan --help')")


def test_avoiding_the_only_way_is_an_unsatisfiable_route(capsys):
    assert cli.main(["plan", "--map", OSMNX, "--from", "29270410", "--to", "29270522",
                     "--avoid-node", "29270412", "--avoid-node", "29270521"]) == 1
    assert "no route from 29270410 to 29270522 satisfies: avoid node 29270412; avoid node 29270521" in \
        capsys.readouterr().err


def test_a_map_without_coordinates_routes_with_dijkstra_by_default(tmp_path, capsys):
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"nodes": [{"id": "A"}, {"id": "B"}, {"id": "C"}],
                                "edges": [{"from": "A", "to": "B", "length": 10}, {"from": "B", "to": "C", "length": 5},
                                          {"from": "A", "to": "C", "length": 30}]}))
    assert cli.main(["plan", "--map", str(path), "--from", "A", "--to", "C"]) == 0
    assert "route: A -> B -> C" in capsys.readouterr().out
    assert cli.main(["plan", "--map", str(path), "--from", "A", "--to", "C", "--algorithm", "astar"]) == 1
    assert "algorithm='astar' needs node coordinates" in capsys.readouterr().err
    assert cli.main(["plan", "--map", str(path), "--from", "A", "--to", "C", "--out", str(tmp_path / "r.png")]) == 1
    assert "`--out` draws the map at its node coordinates, and map plain has none" in capsys.readouterr().err
