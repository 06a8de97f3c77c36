"""The installed package: every package and shipped file in it, and the ``nesy`` command working from an empty folder.

``pip install --target`` (no dependencies, no build isolation: torch and the
rest come from this interpreter) puts the package where only ``PYTHONPATH``
finds it, and each command then runs in a fresh empty folder: the
repository is never on the path and never the working directory.
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("perception", "symbolic", "bridge")
#: what ``pip install .`` reads; copied so the build leaves the repository untouched.
SOURCES = ("pyproject.toml", "README.md", *PACKAGES, "configs")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_pyproject_lists_every_package_and_configs_folder():
    setuptools = pytest.importorskip("setuptools")
    setup = pyproject()["tool"]["setuptools"]
    code = set(setuptools.find_packages(str(ROOT), include=[f"{p}*" for p in PACKAGES]))
    data = {"perception.weights"}
    configs = {"bridge.configs"} | {"bridge.configs." + ".".join(path.relative_to(ROOT / "configs").parts)
                                    for path in (ROOT / "configs").rglob("*") if path.is_dir()
                                    and path.name != "__pycache__"}
    assert set(setup["packages"]) == code | data | configs
    assert setup["package-dir"] == {"bridge.configs": "configs"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(environment, (wall, cpu))``: the package installed with pip into a folder of its own, and the
    seconds pip took."""
    folder = tmp_path_factory.mktemp("install")
    source = folder / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    target = folder / "site"
    started, cpu = time.perf_counter(), children_cpu_seconds()
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, cwd=folder, timeout=600)
    seconds = (time.perf_counter() - started, children_cpu_seconds() - cpu)
    environment = {**os.environ, "PYTHONPATH": str(target), "PATH": f"{target / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    environment.pop("PYTHONSTARTUP", None)
    return environment, seconds


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def nesy(environment, *argv, cwd, timeout=300):
    return subprocess.run(["nesy", *argv], env=environment, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def empty_folder(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    return folder


@pytest.mark.slow
def test_installed_package_is_the_copy_with_its_configs(installed, tmp_path):
    environment, _ = installed
    probe = "import bridge, bridge.shipped as s; print(bridge.__file__); print(s.CONFIGS_DIR); print(s.config_names())"
    result = subprocess.run([sys.executable, "-c", probe], env=environment, cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    module, configs, names = result.stdout.splitlines()
    site = Path(environment["PYTHONPATH"])
    assert Path(module).is_relative_to(site) and Path(configs) == site / "bridge" / "configs"
    shipped = {p.relative_to(ROOT / "configs") for p in (ROOT / "configs").rglob("*") if p.is_file()}
    assert shipped == {p.relative_to(Path(configs)) for p in Path(configs).rglob("*") if p.is_file()}
    assert "drive" in names
    version = nesy(environment, "--version", cwd=tmp_path)
    assert (version.returncode, version.stdout.strip()) == (0, f"nesy {pyproject()['project']['version']}")


@pytest.mark.slow
def test_demo_from_an_empty_folder(installed, tmp_path):
    """The time from ``pip install`` to a demo report, with planted files the tool must not read."""
    environment, (install_wall, install_cpu) = installed
    folder = empty_folder(tmp_path, "demo")
    (folder / "rules").mkdir()
    (folder / "rules" / "traffic.rules").write_text("planted: not a rule file\n")
    (folder / "configs").mkdir()
    (folder / "configs" / "drive.yaml").write_text("planted: [not, a, config]\n")
    started, cpu = time.perf_counter(), children_cpu_seconds()
    result = nesy(environment, "demo", "--frames", "3", cwd=folder)
    demo_wall, demo_cpu = time.perf_counter() - started, children_cpu_seconds() - cpu
    assert result.returncode == 0, result.stderr
    assert Path(folder, result.stdout.strip()).resolve() == (folder / "runs" / "demo" / "report.html").resolve()
    print(f"\npip install: {install_wall:.1f} s ({install_cpu:.1f} s CPU); nesy demo --frames 3: {demo_wall:.1f} s "
          f"({demo_cpu:.1f} s CPU); from pip install to a report in an empty folder: "
          f"{install_wall + demo_wall:.1f} s ({install_cpu + demo_cpu:.1f} s CPU)")


@pytest.mark.slow
def test_run_evaluate_and_rules_check_from_an_empty_folder(installed, tmp_path):
    environment, _ = installed
    folder = empty_folder(tmp_path, "work")
    run = nesy(environment, "run", "--generate", "20", "--out", "r", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert json.loads((folder / "r" / "summary.json").read_text())["num_frames"] == 20
    evaluate = nesy(environment, "evaluate", "--pipeline", "--generate", "20", "--episode-length", "10", cwd=folder)
    assert evaluate.returncode == 0, evaluate.stderr
    assert "agreement" in evaluate.stdout
    configs = Path(environment["PYTHONPATH"]) / "bridge" / "configs"
    check = nesy(environment, "rules", "check", str(configs / "rules" / "faulty" / "clean_crossing.rules"),
                 "--objects", "2", cwd=folder)
    assert check.returncode == 0, check.stdout + check.stderr
    explain = nesy(environment, "rules", "explain", str(configs / "rules" / "traffic.rules"),
                   "--facts", str(configs / "rules" / "examples" / "traffic.facts.json"), cwd=folder)
    assert explain.returncode == 0 and explain.stdout.startswith("action: "), explain.stderr
    unknown = nesy(environment, "run", "--config", "nonesuch", "--generate", "1", "--out", "r", cwd=folder)
    assert unknown.returncode == 2 and "Shipped configs: drive" in unknown.stderr


@pytest.mark.slow
def test_train_quick_from_an_empty_folder(installed, tmp_path):
    environment, _ = installed
    if not (Path(environment["PYTHONPATH"]) / "bridge" / "configs" / "quick.yaml").is_file():
        pytest.skip("no shipped configs/quick.yaml")
    folder = empty_folder(tmp_path, "train")
    result = nesy(environment, "train", "--config", "quick", "--quiet", cwd=folder, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (folder / "runs" / "quick" / "model.safetensors").is_file()
