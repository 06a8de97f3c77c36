"""`nesy rules explain --facts`: a malformed facts file is one line naming the file and the entry."""
import json
from pathlib import Path

import pytest

from bridge.cli import main

TRAFFIC = str(Path(__file__).resolve().parents[2] / "configs" / "rules" / "traffic.rules")


@pytest.mark.parametrize("document, place", [
    ({"object": {"o1": "pedestrian"}, "facts": []}, "unknown key 'object' at the top level"),
    ({"facts": [{"pred": "ahead", "args": [7]}]}, r"facts[0].args[0]: expected a constant"),
    ({"objects": {"": "car"}, "facts": []}, "objects['']: object id"),
])
def test_a_malformed_facts_file_fails_with_one_line_naming_it(tmp_path, capsys, document, place):
    path = tmp_path / "frame.json"
    path.write_text(json.dumps(document))
    code = main(["rules", "explain", TRAFFIC, "--facts", str(path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and f"error: {path}: " in err and place in err
