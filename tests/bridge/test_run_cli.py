"""`nesy run`: JSON lines per frame, bad images reported by name, exit codes."""
import json
import re

import numpy as np
import pytest
from PIL import Image

from perception.coco import write_coco
from perception.world import CLASS_NAMES, generate_episode, generate_scene, preset_config
from bridge.cli import main


def exits_2(argv) -> bool:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code == 2


def read_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_generated_episode_in_oracle_mode(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--generate", "4", "--oracle", "--out", str(out), "--report"]) == 0
    lines = read_lines(out / "frames.jsonl")
    assert len(lines) == 4 and [line["frame_index"] for line in lines] == [0, 1, 2, 3]
    first = lines[0]
    assert {"detections", "objects", "facts", "decision", "timings_ms", "action"} <= set(first)
    assert first["decision"]["action"] == first["action"] and "why_not" in first["decision"]
    assert set(first["timings_ms"]) == {"perception", "grounding", "reasoning", "total"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_frames"] == 4 and summary["mode"] == "stream" and summary["oracle"] is True
    assert (out / "report.html").read_text().count('<section class="frame') == 4
    assert not list(out.glob("*.partial")) and not list(out.glob("*.tmp"))
    assert "4 frames (0 skipped)" in capsys.readouterr().out


def test_bad_images_are_reported_by_name_and_the_run_goes_on(tmp_path, capsys):
    data = tmp_path / "data"
    scenes = []
    for i, seed in enumerate(range(4)):
        scene = generate_scene(preset_config("default"), seed=seed)
        scene.image_id = i
        scenes.append(scene)
    write_coco(scenes, data, class_names=CLASS_NAMES)
    (data / "images" / "000001.png").write_bytes(b"not a png at all")
    Image.fromarray(np.zeros((100, 120, 3), np.uint8)).save(data / "images" / "000002.png")
    out = tmp_path / "out"
    assert main(["run", "--data", str(data), "--oracle", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "skipped images/000001.png: cannot decode image" in err
    assert "skipped images/000002.png: image is 120x100 pixels; expected 256x256" in err
    lines = read_lines(out / "frames.jsonl")
    assert [line["frame"] for line in lines] == ["images/000000.png", "images/000003.png"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_skipped"] == 2 and summary["mode"] == "batch"
    assert [s["file"] for s in summary["skipped"]] == ["images/000001.png", "images/000002.png"]


def test_episode_folders_are_streamed(tmp_path):
    data = tmp_path / "episode"
    write_coco(generate_episode(preset_config("easy"), seed=2, num_frames=3), data, class_names=CLASS_NAMES)
    out = tmp_path / "out"
    assert main(["run", "--data", str(data), "--oracle", "--out", str(out)]) == 0
    assert json.loads((out / "summary.json").read_text())["mode"] == "stream"


@pytest.mark.parametrize("argv", [
    ["run", "--oracle", "--out", "x"],                       # no source
    ["run", "--generate", "0", "--out", "x"],                # not positive
    ["run", "--generate", "2", "--data", "d", "--out", "x"], # both sources
    ["run", "--generate", "2"],                              # no --out
])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_user_errors_exit_1_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipeline:\n  robust: maybe\n")
    assert main(["run", "--config", str(bad), "--generate", "2", "--oracle", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"nesy run: error: {bad}:2: `pipeline.robust` must be true or false. Received: pipeline.robust='maybe'"
    assert main(["run", "--data", str(tmp_path / "missing"), "--oracle", "--out", str(tmp_path / "o")]) == 1
    assert "--data: not a folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["run", "--data", str(empty), "--oracle", "--out", str(tmp_path / "o")]) == 1
    assert "annotations.json: annotations file not found" in capsys.readouterr().err


def test_evaluate_pipeline_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", "--pipeline", "--oracle", "--generate", "6", "--episode-length", "3",
                 "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "agreement           100.00%" in table and "unsafe decisions    0" in table and "confusion" in table
    assert "balanced agreement  1.000" in table and "warm-up frames not judged" in table
    data = json.loads((out / "pipeline_metrics.json").read_text())
    assert data["num_frames"] == 6 and data["agreement"] == 1.0 and data["mode"] == "stream"
    assert exits_2(["evaluate", "--pipeline", "--oracle", "--generate", "2", "--episode-length", "0"])
    assert "argument --episode-length: expected an integer >= 1, got '0'" in capsys.readouterr().err


def test_demo_writes_the_report_and_prints_its_path(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--oracle", "--frames", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(out / "report.html")
    assert (out / "report.html").read_text().count('<section class="frame') == 3
    assert {p.name for p in out.iterdir()} == {"report.html", "frames.jsonl", "metrics.json", "preview.png"}
    assert json.loads((out / "metrics.json").read_text())["agreement"] == 1.0
    assert exits_2(["demo", "--oracle", "--frames", "0", "--out", str(out)])
    assert "argument --frames: expected an integer in [1, 400], got '0'" in capsys.readouterr().err


def test_calibrate_needs_a_place_to_write(tmp_path, capsys):
    config = tmp_path / "drive.yaml"
    config.write_text("pipeline:\n  robust: true\n")
    assert main(["calibrate", "--config", str(config), "--scenes", "2"]) == 1
    assert "no pipeline.calibration file is set; pass --out FILE" in capsys.readouterr().err
    assert exits_2(["calibrate", "--scenes", "0", "--out", str(tmp_path / "c.json")])
    assert "argument --scenes: expected an integer >= 1, got '0'" in capsys.readouterr().err


def test_a_decompression_bomb_is_skipped_by_name_and_the_run_goes_on(tmp_path, capsys):
    """A tiny PNG declaring 100000 x 100000 pixels used to abort the whole run (DecompressionBombError)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    data = tmp_path / "data"
    scenes = [generate_scene(preset_config("easy"), seed=seed) for seed in range(3)]
    for i, scene in enumerate(scenes):
        scene.image_id = i
    write_coco(scenes, data, class_names=CLASS_NAMES)
    (data / "images" / "000001.png").write_bytes(bomb)
    out = tmp_path / "out"
    assert main(["run", "--data", str(data), "--oracle", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "skipped images/000001.png: image declares more pixels than the limit" in err
    assert [line["frame"] for line in read_lines(out / "frames.jsonl")] == ["images/000000.png", "images/000002.png"]


@pytest.mark.slow
def test_the_report_title_names_the_weights_the_config_sets(tmp_path, capsys):
    import shutil

    from perception.model import DEFAULT_WEIGHTS

    weights = tmp_path / "mine.safetensors"
    shutil.copy(DEFAULT_WEIGHTS, weights)
    shutil.copy(DEFAULT_WEIGHTS.with_suffix(".json"), weights.with_suffix(".json"))
    config = tmp_path / "drive.yaml"
    config.write_text(f"pipeline:\n  weights: {weights}\n")
    assert main(["demo", "--config", str(config), "--frames", "1", "--out", str(tmp_path / "demo")]) == 0
    title = re.search(r"<title>([^<]*)</title>", (tmp_path / "demo" / "report.html").read_text()).group(1)
    assert title.endswith(f"detector {weights}") and "shipped" not in title
    assert main(["run", "--config", str(config), "--generate", "1", "--report", "--out", str(tmp_path / "run")]) == 0
    title = re.search(r"<title>([^<]*)</title>", (tmp_path / "run" / "report.html").read_text()).group(1)
    assert title == f"nesy run: 1 generated frames, detector {weights}"


def test_calibrate_without_out_never_overwrites_a_shipped_file(capsys):
    from bridge.shipped import CONFIGS_DIR

    before = (CONFIGS_DIR / "calibration.json").read_bytes()
    assert main(["calibrate", "--config", "drive", "--scenes", "2"]) == 1
    assert "pipeline.calibration is the shipped" in capsys.readouterr().err
    assert main(["calibrate", "--conformal", "--config", "drive", "--frames", "2"]) == 1
    assert "no pipeline.conformal file is set; pass --out FILE" in capsys.readouterr().err
    assert (CONFIGS_DIR / "calibration.json").read_bytes() == before
