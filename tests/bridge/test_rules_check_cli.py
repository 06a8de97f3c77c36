"""``nesy rules check``: exit codes, text and JSON reports, scene files that ``nesy rules explain`` replays."""
import json
from pathlib import Path

import pytest

from bridge import cli

FAULTY = Path("configs/rules/faulty")


def test_clean_file_exits_0(capsys, tmp_path):
    code = cli.main(["rules", "check", str(FAULTY / "clean_crossing.rules"), "--out", str(tmp_path)])
    assert code == 0
    assert "no problems in any scene of up to 3 objects" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_dead_end_exits_1_and_writes_a_scene_explain_replays(capsys, tmp_path):
    rules = str(FAULTY / "dead_end.rules")
    assert cli.main(["rules", "check", rules, "--objects", "3", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ERROR" in out and "dead end" in out and "dead_end.rules:14: pedestrian_ahead[" in out
    [scene] = sorted(tmp_path.glob("*.facts.json"))
    assert f"facts file: {scene}" in out
    assert cli.main(["rules", "explain", rules, "--facts", str(scene), "--json"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["fallback"] is True and decision["action"] == "stop"


def test_json_report(capsys, tmp_path):
    code = cli.main(["rules", "check", str(FAULTY / "dead_rule.rules"), "--json", "--out", str(tmp_path)])
    assert code == 1
    data = json.loads(capsys.readouterr().out)
    assert data["num_warnings"] == 1 and data["num_objects"] == 3
    [finding] = data["findings"]
    assert finding["kind"] == "dead_rule" and finding["scene_file"] is None
    assert finding["rules"][0]["source"].endswith("dead_rule.rules:12")


def test_fail_on_error_lets_warnings_pass(capsys):
    rules = str(FAULTY / "redundant_rule.rules")
    assert cli.main(["rules", "check", rules]) == 1
    assert cli.main(["rules", "check", rules, "--fail-on", "error"]) == 0
    assert "redundant rule" in capsys.readouterr().out
    assert cli.main(["rules", "check", str(FAULTY / "conflict.rules"), "--fail-on", "error"]) == 1


def test_scenes_are_written_only_with_out(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rules = str(Path(__file__).resolve().parents[2] / FAULTY / "conflict.rules")
    assert cli.main(["rules", "check", rules, "--objects", "2"]) == 1
    assert list(tmp_path.iterdir()) == []
    out = capsys.readouterr().out
    assert "facts file:" not in out and "write the example scenes as facts files with --out DIR" in out
    assert cli.main(["rules", "check", rules, "--objects", "2", "--out", "scenes"]) == 1
    assert sorted(p.name for p in (tmp_path / "scenes").iterdir()) == [
        "01-dead_end.facts.json", "02-conflict.facts.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["scenes"]


def test_parse_error_exits_2_with_the_caret_message(capsys, tmp_path):
    bad = tmp_path / "bad.rules"
    bad.write_text("pred car(o)\nactions stop, go\nrule r: exists o: cra(o) => stop\n")
    assert cli.main(["rules", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.rules:3:19: unknown predicate 'cra'. Did you mean 'car'?" in err
    assert "^" in err and "Traceback" not in err


def test_missing_file_exits_2(capsys):
    assert cli.main(["rules", "check", "no/such.rules"]) == 2
    assert "no/such.rules: cannot read rule file" in capsys.readouterr().err


@pytest.mark.parametrize("content, message", [
    (b"actions go\nrule r: \xff\xfe go\n", ":2:9: invalid UTF-8 (invalid start byte 0xff)"),
    (b"pred car(o)\n", "the rule file declares no actions"),
])
def test_unreadable_rule_file_exits_2(capsys, tmp_path, content, message):
    path = tmp_path / "bad.rules"
    path.write_bytes(content)
    assert cli.main(["rules", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"nesy rules check: error: {path}" in err and message in err and "Traceback" not in err


def test_a_folder_as_the_rule_file_exits_2(capsys, tmp_path):
    assert cli.main(["rules", "check", str(tmp_path)]) == 2
    assert "cannot read rule file" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--objects", "-1"], "--objects must be a non-negative integer. Received: '-1'"),
    (["--objects", "three"], "--objects must be a non-negative integer. Received: 'three'"),
    (["--timeout-ms", "0"], "--timeout-ms must be a positive integer. Received: '0'"),
])
def test_bad_arguments_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["rules", "check", str(FAULTY / "clean_crossing.rules")] + argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_lists_check(capsys):
    with pytest.raises(SystemExit):
        cli.main(["rules", "--help"])
    assert "check" in capsys.readouterr().out


def test_html_page(capsys, tmp_path):
    page = tmp_path / "report" / "check.html"
    rules = str(FAULTY / "dead_end.rules")
    assert cli.main(["rules", "check", rules, "--out", str(tmp_path), "--html", str(page)]) == 1
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "dead_end.rules fails" in text
    assert "dead_end.rules:14" in text and ": pedestrian, ahead" in text
    assert "01-dead_end.facts.json" in text
