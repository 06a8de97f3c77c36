#!/usr/bin/env bash
# Exercise every accelerator path in one short run and print a table:
#   AMP training steps (single-frame and multi-frame detector), batched inference
#   in each precision, and the pipeline streamed and batched with the detector on
#   the device. Learning through rules joins the table when it exists.
# Usage: bash scripts/device-check.sh [cuda|cpu]   (default: cuda when available)
# Each check runs on its own; a failure is reported in the table, the others go on.
# Exit status: 0 when every check passed, 1 otherwise. Takes about 2 minutes on a GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
exec "$PYTHON" - "${1:-auto}" <<'PY'
import sys
import time
import traceback

import torch

from perception.datasets import EpisodeDataset, SyntheticDataset
from perception.model import Detector
from perception.training import TrainingConfig
from perception.world import generate_episode, preset_config

device = sys.argv[1] if sys.argv[1] != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
print(f"device: {device} ({name}); torch {torch.__version__}", flush=True)
world = preset_config("default")
rows = []


def check(title, run):
    start = time.perf_counter()
    try:
        detail = run()
        rows.append((title, "ok", time.perf_counter() - start, detail))
    except Exception as error:   # report and go on: one broken path must not hide the others
        traceback.print_exc()
        rows.append((title, "FAILED", time.perf_counter() - start, f"{type(error).__name__}: {str(error)[:80]}"))
    print(f"  {rows[-1][0]}: {rows[-1][1]} ({rows[-1][2]:.1f} s) {rows[-1][3]}", flush=True)


def train_single():
    detector = Detector(input_size=256)
    data = SyntheticDataset(world, 64, seed=1)
    detector.fit(data, epochs=1, training=TrainingConfig(batch_size=16, device=device, amp=True, warmup_steps=0,
                                                          num_val_scenes=0), verbose=False)
    return f"loss {detector.history_[-1].get('loss', float('nan')):.3f}, 4 AMP steps"


def train_temporal():
    detector = Detector(input_size=256, num_frames=2)
    data = EpisodeDataset(world, 4, 8, num_frames=2, seed=2)
    detector.fit(data, epochs=1, training=TrainingConfig(batch_size=8, device=device, amp=True, warmup_steps=0,
                                                          num_val_scenes=0), verbose=False)
    return f"loss {detector.history_[-1].get('loss', float('nan')):.3f}, frame stacks"


def inference(precision):
    def run():
        detector = Detector.load_default(device=device)
        images = torch.rand(64, 3, 256, 256, device=device)
        detector.predict(images[:8], batch_size=8, precision=precision)   # warm up
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        found = detector.predict(images, batch_size=32, precision=precision)
        if device == "cuda":
            torch.cuda.synchronize()
        return f"{len(found) / (time.perf_counter() - start):.0f} images/s at batch 32"
    return run


def pipeline(mode):
    def run():
        from bridge.evaluation.metrics import evaluate_results
        from bridge.pipeline import Pipeline
        from bridge.perception_stage import DetectorPerception

        base = Pipeline.from_config("configs/drive.yaml")
        base.perception.detector.to(device)
        frames = generate_episode(world, seed=3, num_frames=40)
        start = time.perf_counter()
        results = list(base.stream(frames)) if mode == "stream" else base(frames, track=True)
        rate = len(frames) / (time.perf_counter() - start)
        metrics = evaluate_results(results, reasoner=base.reasoner)
        assert isinstance(base.perception, DetectorPerception)
        return f"{rate:.0f} frames/s, agreement {metrics.agreement:.0%}, unsafe {metrics.num_unsafe}"
    return run


check("training: AMP steps, single frame", train_single)
check("training: AMP steps, two-frame detector", train_temporal)
for precision in ("float32", "auto", "bfloat16", "float16"):
    if device == "cpu" and precision == "float16":
        continue
    check(f"inference: batched, {precision}", inference(precision))
check("pipeline: streamed", pipeline("stream"))
check("pipeline: batched, tracked", pipeline("batch"))
print()
print(f"{'check':<42}{'result':>8}{'seconds':>9}   detail")
for title, result, seconds, detail in rows:
    print(f"{title:<42}{result:>8}{seconds:>9.1f}   {detail}")
sys.exit(0 if all(r[1] == "ok" for r in rows) else 1)
PY
