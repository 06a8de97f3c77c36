"""Shipped configs are found by name or path from any folder; an unknown name lists the names."""
import pytest

from bridge.errors import ConfigError
from bridge.shipped import CONFIGS_DIR, config_names, find_config, shipped_config, shipped_path


def test_the_shipped_folder_is_the_repository_configs_folder(rules_dir):
    assert CONFIGS_DIR == rules_dir.parent
    assert shipped_path("rules/traffic.rules") == rules_dir / "traffic.rules"


def test_names_are_the_yaml_files_of_configs():
    assert "drive" in config_names()
    assert config_names() == sorted(p.stem for p in CONFIGS_DIR.glob("*.yaml"))


@pytest.mark.parametrize("text", ["drive", "drive.yaml", "configs/drive.yaml"])
def test_a_name_finds_the_shipped_file_from_any_folder(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_config(text) == CONFIGS_DIR / "drive.yaml"


def test_a_file_path_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "drive.yaml").write_text("world:\n  seed: 3\n")
    (tmp_path / "drive").write_text("planted\n")
    assert find_config("./drive") == tmp_path.joinpath("drive").relative_to(tmp_path)
    assert find_config("drive.yaml") == tmp_path.joinpath("drive.yaml").relative_to(tmp_path)
    assert find_config(tmp_path / "drive.yaml") == tmp_path / "drive.yaml"
    assert find_config("drive") == CONFIGS_DIR / "drive.yaml"   # a bare name is never a file of the working directory


@pytest.mark.parametrize("text, message", [
    ("drvie", r"drvie: no such config file, and no shipped config of that name\. Did you mean 'drive'\? "
              r"Shipped configs: .*drive"),
    ("nowhere/exp.yaml", r"nowhere/exp.yaml: no such config file, and no shipped config of that name\. "
                         r"Shipped configs: .*drive"),
])
def test_neither_file_nor_name_lists_the_shipped_names(text, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        find_config(text)


def test_a_folder_is_not_a_config(tmp_path):
    with pytest.raises(ConfigError, match="is a folder, not a config file"):
        find_config(tmp_path)


def test_shipped_config_refuses_paths():
    with pytest.raises(ConfigError, match="no shipped config of that name"):
        shipped_config("rules/traffic")
