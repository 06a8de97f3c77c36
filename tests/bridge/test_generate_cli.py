"""``nesy generate`` and ``nesy demo``: outputs, determinism across workers, exit codes, config errors."""
import subprocess
import sys
from pathlib import Path

import pytest

from bridge import cli
from bridge.errors import ConfigError
from bridge.experiment import load_config
from perception.coco import read_coco, read_world

ROOT = Path(__file__).resolve().parents[2]


def write_config(folder: Path, world: str) -> Path:
    path = folder / "drive.yaml"
    path.write_text("world:\n" + world)
    return path


@pytest.fixture
def small_config(tmp_path):
    return write_config(tmp_path, "  image_size: 96\n  metres_per_pixel: 0.5\n")


def test_generate_writes_a_coco_dataset(tmp_path, small_config, capsys):
    out = tmp_path / "data"
    code = cli.main(["generate", "--config", str(small_config), "--out", str(out), "--num-scenes", "5", "--seed", "3"])
    assert code == 0
    message = capsys.readouterr().out.strip()
    assert message.startswith("wrote 5 scenes") and str(out / "annotations.json") in message
    assert len(message.splitlines()) == 1
    data = read_coco(out)
    assert [image["id"] for image in data["images"]] == [1, 2, 3, 4, 5]
    assert len(read_world(out)) == 5
    assert len(list((out / "images").glob("*.png"))) == 5


def test_generate_is_the_same_for_any_number_of_workers(tmp_path, small_config):
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        assert cli.main(["generate", "--config", str(small_config), "--out", str(out), "--num-scenes", "20",
                         "--episode-length", "4", "--workers", str(workers)]) == 0
        images = sorted((out / "images").glob("*.png"))
        outputs.append(((out / "annotations.json").read_text(), (out / "world.jsonl").read_text(),
                        [p.read_bytes() for p in images]))
    assert outputs[0] == outputs[1]


def test_generate_episodes_group_frames(tmp_path, small_config):
    out = tmp_path / "episodes"
    assert cli.main(["generate", "--config", str(small_config), "--out", str(out), "--num-scenes", "7",
                     "--episode-length", "3", "--preset", "hard"]) == 0
    records = read_world(out)
    assert [(r["episode_id"], r["frame_index"]) for r in records] == \
        [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0)]
    first = {o["id"] for o in records[0]["objects"]}
    assert first & {o["id"] for o in records[1]["objects"]}


def test_generate_refuses_to_overwrite_without_flag(tmp_path, small_config, capsys):
    out = tmp_path / "data"
    args = ["generate", "--config", str(small_config), "--out", str(out), "--num-scenes", "1"]
    assert cli.main(args) == 0
    assert cli.main(args) == 1
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert cli.main(args + ["--overwrite"]) == 0


def test_overwrite_removes_images_of_the_larger_old_dataset(tmp_path, small_config):
    out = tmp_path / "data"
    base = ["generate", "--config", str(small_config), "--out", str(out)]
    assert cli.main(base + ["--num-scenes", "3"]) == 0
    assert cli.main(base + ["--num-scenes", "2", "--overwrite"]) == 0
    assert sorted(p.name for p in (out / "images").glob("*.png")) == ["000001.png", "000002.png"]


@pytest.mark.parametrize("argv", [
    ["generate"],
    ["generate", "--out", "x", "--num-scenes", "0"],
    ["generate", "--out", "x", "--num-scenes", "many"],
    ["generate", "--out", "x", "--preset", "brutal"],
    ["generate", "--out", "x", "--workers", "-1"],
])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_bad_config_file_exits_1_with_one_line(tmp_path, capsys):
    config = write_config(tmp_path, "  nosie: 3.0\n")
    assert cli.main(["generate", "--config", str(config), "--out", str(tmp_path / "o"), "--num-scenes", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"nesy generate: error: {config}:2: unknown key 'world.nosie'. Did you mean 'noise'?"
    assert not (tmp_path / "o" / "annotations.json").exists()


def test_missing_config_file_exits_2_naming_the_shipped_configs(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["generate", "--config", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "none.yaml: no such config file" in err and "Shipped configs: drive" in err


def test_exit_codes_from_a_real_process(tmp_path, small_config):
    def run(*argv):
        return subprocess.run([sys.executable, "-m", "bridge", *argv], cwd=ROOT, capture_output=True, text=True)
    ok = run("generate", "--config", str(small_config), "--out", str(tmp_path / "d"), "--num-scenes", "2")
    assert ok.returncode == 0, ok.stderr
    assert run("generate", "--num-scenes", "2").returncode == 2
    bad = write_config(tmp_path, "  image_size: big\n")
    failed = run("generate", "--config", str(bad), "--out", str(tmp_path / "e"))
    assert failed.returncode == 1 and "Traceback" not in failed.stderr


@pytest.mark.parametrize("world, message", [
    ("  nosie: 3.0\n", r"drive.yaml:2: unknown key 'world.nosie'. Did you mean 'noise'\?"),
    ("  image_size: big\n", r"drive.yaml:2: `world.image_size` must be an integer. Received: world.image_size='big'"),
    ("  noise: 500\n", r"drive.yaml:2: `world.noise` must be in \[0.0, 80.0\]. Received: world.noise=500"),
    ("  lanes: [3, 1]\n", r"drive.yaml:2: `world.lanes` must be in increasing order"),
    ("  lanes: [1, 7]\n", r"drive.yaml(:2)?: `world.lanes\[1\]` must be in \[1, 4\]. Received: world.lanes\[1\]=7"),
    ("  preset: extreme\n", r"drive.yaml:2: `world.preset` must be one of easy, default, hard"),
])
def test_world_section_errors_read_as_one_line(tmp_path, world, message):
    with pytest.raises(ConfigError, match=message) as error:
        load_config(write_config(tmp_path, world))
    assert "\n" not in str(error.value)


def test_world_section_loads_with_preset_overrides(tmp_path):
    config = load_config(write_config(tmp_path, "  preset: hard\n  noise: 2.0\n  num_objects: [1, 3]\n")).world
    resolved = config.resolved()
    assert (resolved.preset, resolved.noise, resolved.num_objects) == ("hard", 2.0, (1, 3))
    assert resolved.blur == 1.3


def test_the_shipped_config_loads():
    assert load_config(ROOT / "configs" / "drive.yaml").world.image_size == 256

