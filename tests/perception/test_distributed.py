"""Data-parallel training and sharded inference with 2 CPU processes under torchrun."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
HELPERS = Path(__file__).resolve().parent

SCRIPT = textwrap.dedent("""
    import json
    import sys
    from pathlib import Path
    sys.path[:0] = [{root!r}, {helpers!r}]
    import torch
    from perception import distributed
    from perception.callbacks import ModelCheckpoint
    from perception.inference import predict_folder
    from detector_helpers import quick_training, rectangle_scenes, small_detector

    out = Path({out!r})
    distributed.init_from_environment()
    rank, size = distributed.rank_and_size()
    torch.set_num_threads(1)
    detector = small_detector().fit(rectangle_scenes(16), epochs=2, training=quick_training(batch_size=4),
                                    verbose=False, callbacks=[ModelCheckpoint(out / "best.safetensors", monitor="loss",
                                                                               mode="min", save_best_only=False)])
    torch.save({{k: v.clone() for k, v in detector.network_.state_dict().items()}}, out / f"rank{{rank}}.pt")
    handled = predict_folder(detector, out / "images", out / "predictions.json", batch_size=2)
    (out / f"rank{{rank}}.json").write_text(json.dumps({{"size": size, "steps": len(detector.history_), "handled": handled}}))
    distributed.shutdown()
""")


@pytest.mark.slow
def test_two_cpu_processes_end_with_identical_weights_and_shard_inference(tmp_path):
    from PIL import Image

    (tmp_path / "images").mkdir()
    for i in range(5):
        Image.new("RGB", (64, 64), (i * 40, 80, 120)).save(tmp_path / "images" / f"{i}.png")
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(root=str(ROOT), helpers=str(HELPERS), out=str(tmp_path)))
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                             str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    first = torch.load(tmp_path / "rank0.pt", weights_only=True)
    second = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for name, value in first.items():
        assert torch.equal(value, second[name]), name
    info = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert info[0]["size"] == 2 and info[0]["steps"] == 2
    assert sorted(i["handled"] for i in info) == [2, 3]
    predictions = json.loads((tmp_path / "predictions.json").read_text())
    assert sorted(predictions) == [f"{i}.png" for i in range(5)]
    assert (tmp_path / "best.safetensors").exists()
