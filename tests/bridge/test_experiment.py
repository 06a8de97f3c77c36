"""Paths in an experiment file resolve beside the file or in the package, never in the working directory."""
import json
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.experiment import PipelineConfig, load_config
from bridge.shipped import shipped_path

PLANTED = "this planted file is not a rule file; reading it would stop the run\n"


@pytest.fixture
def planted_cwd(tmp_path, monkeypatch):
    """A working directory holding ``rules/traffic.rules``, ``configs/drive.yaml`` and ``drive`` that must never be read."""
    cwd = tmp_path / "cwd"
    (cwd / "rules").mkdir(parents=True)
    (cwd / "rules" / "traffic.rules").write_text(PLANTED)
    (cwd / "configs").mkdir()
    (cwd / "configs" / "drive.yaml").write_text("pipeline: [planted]\n")
    (cwd / "drive").write_text("pipeline: [planted]\n")
    monkeypatch.chdir(cwd)
    return cwd


def write_config(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "exp.yaml"
    path.write_text(text)
    return path


def test_a_left_out_rule_file_is_the_shipped_one_not_the_working_directorys(planted_cwd, tmp_path):
    config = load_config(write_config(tmp_path / "mine", "pipeline:\n  robust: true\n"))
    assert Path(config.pipeline.rules) == shipped_path("rules/traffic.rules")
    assert config.pipeline.rules_path() == shipped_path("rules/traffic.rules")


def test_a_left_out_rule_file_beside_the_config_is_used(planted_cwd, tmp_path):
    folder = tmp_path / "mine"
    (folder / "rules").mkdir(parents=True)
    (folder / "rules" / "traffic.rules").write_text(shipped_path("rules/traffic.rules").read_text())
    config = load_config(write_config(folder, "world:\n  preset: easy\n"))
    assert Path(config.pipeline.rules) == folder / "rules" / "traffic.rules"


def test_given_paths_are_relative_to_the_config(planted_cwd, tmp_path):
    folder = tmp_path / "mine"
    (folder / "r").mkdir(parents=True)
    (folder / "r" / "x.rules").write_text("")
    (folder / "cal.json").write_text("{}")
    config = load_config(write_config(folder, "pipeline:\n  rules: r/x.rules\n  calibration: cal.json\n"))
    assert (Path(config.pipeline.rules), Path(config.pipeline.calibration)) == (folder / "r" / "x.rules",
                                                                              folder / "cal.json")


def test_the_python_default_never_reads_the_working_directory(planted_cwd):
    assert PipelineConfig().rules_path() == shipped_path("rules/traffic.rules")


def test_a_shipped_name_loads_with_its_paths_in_the_package(planted_cwd):
    config = load_config("drive")
    assert Path(config.pipeline.rules) == shipped_path("rules/traffic.rules")
    assert Path(config.pipeline.calibration) == shipped_path("calibration.json")


def test_the_python_default_config_is_the_shipped_one(planted_cwd):
    from bridge.pipeline import Pipeline

    pipeline = Pipeline.from_config(oracle=True)
    assert pipeline.config.calibration == str(shipped_path("calibration.json"))


def test_run_with_a_config_without_rules_ignores_the_planted_file(planted_cwd, tmp_path, capsys):
    config = write_config(tmp_path / "mine", "pipeline:\n  time_budget_ms: 1000.0\n")
    assert main(["run", "--config", str(config), "--generate", "3", "--oracle", "--out", "out"]) == 0
    assert "error" not in capsys.readouterr().err
    summary = json.loads((planted_cwd / "out" / "summary.json").read_text())
    assert summary["num_frames"] == 3


def test_the_default_config_of_the_commands_is_the_shipped_one(planted_cwd, capsys):
    assert main(["run", "--generate", "2", "--oracle", "--out", "out"]) == 0
    assert main(["demo", "--oracle", "--frames", "2", "--out", "demo"]) == 0
    assert (planted_cwd / "demo" / "report.html").is_file()
