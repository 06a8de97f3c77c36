"""``nesy plan``: routes printed and drawn, constraints from flags and files, one-line errors."""
import json
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
    (["--map", TOWN, "--from", "0_0_outE", "--to", "2_3_inN", "--out", "route.jpg"], "must name a .png file"),
])
def test_user_errors_are_one_line_exit_1(argv, message, capsys):
    assert cli.main(["plan", *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("nesy plan: error: ") and message in err


def test_bad_cost_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["plan", "--map", TOWN, "--from", "a", "--to", "b", "--cost", "fast"])
    assert exit_info.value.code == 2
