"""`nesy rules explain`: output, JSON, exit codes and one-line errors."""
import json
from pathlib import Path

import pytest

from bridge.cli import main

ROOT = Path(__file__).resolve().parents[2]
TRAFFIC = str(ROOT / "configs" / "rules" / "traffic.rules")


def facts_file(tmp_path, facts, objects=None):
    path = tmp_path / "frame.json"
    path.write_text(json.dumps({"objects": objects or {}, "facts": facts}))
    return str(path)


RED = [{"pred": "light", "args": ["o3", "red"], "confidence": 0.95}, {"pred": "applies_to_ego", "args": ["o3"]},
       {"pred": "ahead", "args": ["o3"]}, {"func": "dist", "args": ["o3"], "value": 25},
       {"func": "stopping_distance", "args": [], "value": 20}]


def test_explain_prints_decision_fired_rules_and_why_nots(tmp_path, capsys):
    code = main(["rules", "explain", TRAFFIC, "--facts", facts_file(tmp_path, RED, {"o3": "traffic_light"})])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("action: stop (robust, ")
    assert "  red_light[o3]" in out and "traffic.rules:22" in out
    assert "  go: go breaks red_light[o3]" in out and "light(o3, red)" in out


def test_explain_json(tmp_path, capsys):
    code = main(["rules", "explain", TRAFFIC, "--facts", facts_file(tmp_path, RED, {"o3": "traffic_light"}), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["action"] == "stop" and data["fallback"] is False
    assert data["why_not"]["go"]["rules"][0] == {"rule": "red_light", "bindings": ["o3"],
                                                 "source": TRAFFIC + ":22"}


def test_explain_writes_an_html_page(tmp_path, capsys):
    page = tmp_path / "out" / "why.html"
    code = main(["rules", "explain", TRAFFIC, "--facts", facts_file(tmp_path, RED, {"o3": "traffic_light"}),
                 "--html", str(page)])
    assert code == 0 and capsys.readouterr().out.startswith("action: stop")
    html = page.read_text()
    assert "<h1>stop</h1>" in html and "red_light[o3]" in html and "light(o3, red)" in html
    assert [p.name for p in page.parent.iterdir()] == ["why.html"]


def test_shipped_examples_explain(capsys):
    for rules, facts in [("traffic.rules", "traffic.facts.json"), ("warehouse.rules", "warehouse.facts.json"),
                         ("household.rules", "household.facts.json")]:
        folder = ROOT / "configs" / "rules"
        assert main(["rules", "explain", str(folder / rules), "--facts", str(folder / "examples" / facts)]) == 0
    assert capsys.readouterr().out.count("action: ") == 3


def test_a_bad_rule_file_exits_1_with_the_caret_message(tmp_path, capsys):
    bad = tmp_path / "bad.rules"
    bad.write_text("pred car(o)\nactions stop, go\nrule r: exists o: carr(o) => stop\n")
    code = main(["rules", "explain", str(bad), "--facts", facts_file(tmp_path, [])])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines() == [f"nesy rules: error: {bad}:3:19: unknown predicate 'carr'. Did you mean 'car'?",
                                "    rule r: exists o: carr(o) => stop", "                      ^"]
    assert "Traceback" not in err


def test_bad_facts_exit_1_naming_the_entry(tmp_path, capsys):
    cases = [([{"pred": "ahead", "args": ["o1"], "confidence": 2}], "facts[0]: confidence must be a number in [0, 1]"),
             ([{"pred": "aheda", "args": ["o1"]}], "fact aheda(o1): unknown predicate 'aheda'. Did you mean 'ahead'?"),
             ([{"pred": "light", "args": ["o1"]}], "'light' takes 2 argument(s) (object, Color). Received 1")]
    for facts, message in cases:
        assert main(["rules", "explain", TRAFFIC, "--facts", facts_file(tmp_path, facts)]) == 1
        assert message in capsys.readouterr().err


def test_missing_facts_file_and_missing_option(tmp_path, capsys):
    assert main(["rules", "explain", TRAFFIC, "--facts", str(tmp_path / "none.json")]) == 1
    assert "cannot read facts file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["rules", "explain", TRAFFIC])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["rules"])
    assert info.value.code == 2


def test_explain_refuses_low_above_high_as_a_bad_argument(tmp_path, capsys):
    facts = facts_file(tmp_path, RED, {"o3": "traffic_light"})
    assert main(["rules", "explain", TRAFFIC, "--facts", facts, "--low", "0.9", "--high", "0.5"]) == 2
    assert "--low must be below --high. Received: --low 0.9 --high 0.5" in capsys.readouterr().err
