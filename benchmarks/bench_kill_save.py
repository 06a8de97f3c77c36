"""Kill ``nesy train`` at random moments, resume, compare with an uninterrupted run:
``python -m benchmarks kill_save --kills 30``.

A tiny training (64x64 generated scenes, an 8-channel detector, a few epochs
of 2 steps, one CPU thread) runs as a child process. It is killed with
SIGKILL, half of the time at a random moment of the run and half of the time
while it is writing a checkpoint (``NESY_CHECKPOINT_PAUSE_S`` holds each
checkpoint write open between its temporary file and the rename, and the
kill lands inside that window). Then ``nesy train --resume`` finishes the run
(a fresh start when no checkpoint was written yet) and its final weights are
compared with those of an uninterrupted run of the same seed.

Columns: kills; kills that landed inside a checkpoint write (they left a
temporary file); mismatched pairs accepted (the checkpoint left by the kill
held weights of one epoch and training state of another, and the resume
accepted it); resumes refused; max |weight difference| to the uninterrupted
run over all kills; resumed runs bit-identical to it; orphan temporaries
left after the resumed run.

Children are forked from this process once it has imported the project, so
a kill costs a short training, not a Python start-up.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

TINY_CONFIG = """\
world:
  image_size: 64
  metres_per_pixel: 0.8
model:
  width: 8
  head_width: 16
training:
  epochs: {epochs}
  batch_size: 8
  num_train_scenes: 16
  num_val_scenes: 0
  warmup_steps: 2
  augment: true
  amp: false
  num_threads: 1
  seed: {seed}
"""


def _train(argv: list[str], log: str, pause_s: float) -> None:
    """The child: ``nesy train`` with checkpoint writes held open ``pause_s`` seconds."""
    from bridge import cli

    os.environ["NESY_CHECKPOINT_PAUSE_S"] = str(pause_s)
    with open(log, "a") as stream, contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
        code = cli.main(argv)
    os._exit(code)


def _start(context, config: Path, out: Path, *, resume: bool, pause_s: float):
    argv = ["train", str(config), "--out", str(out), "--quiet"] + (["--resume"] if resume else [])
    process = context.Process(target=_train, args=(argv, str(out.parent / f"{out.name}.log"), pause_s))
    process.start()
    return process


def _temporaries(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp")) if folder.is_dir() else []


def _pair_epochs(folder: Path) -> tuple[int, int] | None:
    """(epoch of the weights, epoch of the training state) of the checkpoint in ``folder``, read
    with safetensors alone; None when there is none or it cannot be read."""
    from safetensors import safe_open

    def header(path: Path) -> dict:
        with safe_open(str(path), framework="numpy") as file:
            return json.loads((file.metadata() or {})["nesy"])

    last = folder / "last.safetensors"
    try:
        metadata = header(last)
        weights_epoch = metadata["metrics"]["epoch"]
        if "training" in metadata:
            return weights_epoch, metadata["training"]["epoch"] + 1
        return weights_epoch, header(folder / "last.state.safetensors")["epoch"] + 1
    except Exception:  # noqa: BLE001 - a missing, half-written or foreign file: no pair to judge
        return None


def _max_difference(reference: dict, other: dict) -> float:
    """Largest |difference| between two sets of numpy arrays (inf when their names or shapes differ)."""
    import numpy as np

    worst = 0.0
    for name, array in reference.items():
        if name not in other or other[name].shape != array.shape:
            return float("inf")
        if array.size:
            worst = max(worst, float(np.abs(other[name].astype(np.float64) - array.astype(np.float64)).max()))
    return worst


def _kill_during_a_save(process, out: Path, rng: random.Random, pause_s: float, deadline: float) -> bool:
    """Wait until the child holds a checkpoint write open (a random one of them), then kill inside it."""
    wanted, seen, previous = rng.randint(1, 3), 0, set()
    while process.is_alive() and time.perf_counter() < deadline:
        current = {p.name for p in _temporaries(out) if ".safetensors." in p.name or p.name.startswith(".last.json.")}
        if current - previous:
            seen += 1
            if seen >= wanted:
                time.sleep(rng.uniform(0.0, pause_s * 0.8))
                break
        previous = current
        time.sleep(0.005)
    if not process.is_alive():
        return False
    process.kill()
    process.join()
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench_kill_save", description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=6, help="killed runs (default 6; the figure uses 30)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pause", type=float, default=0.15, help="seconds each checkpoint write is held open")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--keep", metavar="DIR", help="keep the runs in DIR (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.kills < 1 or args.epochs < 1 or args.pause < 0:
        parser.error("--kills and --epochs must be >= 1 and --pause >= 0")

    import torch
    from safetensors.numpy import load_file   # the parent computes nothing with torch: forked children stay safe

    import bridge.cli  # noqa: F401 - imported once here, inherited by every forked child
    import perception.datasets  # noqa: F401
    import perception.model  # noqa: F401

    context = multiprocessing.get_context("fork")
    rng = random.Random(args.seed)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kill_save."))
    root.mkdir(parents=True, exist_ok=True)
    config = root / "tiny.yaml"
    config.write_text(TINY_CONFIG.format(epochs=args.epochs, seed=0))
    try:
        reference_out = root / "uninterrupted"
        shutil.rmtree(reference_out, ignore_errors=True)
        started = time.perf_counter()
        process = _start(context, config, reference_out, resume=False, pause_s=args.pause)
        process.join(timeout=600)
        if process.is_alive():
            process.kill()
            process.join()
        run_seconds = time.perf_counter() - started
        if process.exitcode != 0:
            print(f"the uninterrupted run failed (exit {process.exitcode}); see {reference_out}.log", file=sys.stderr)
            return 1
        reference = load_file(str(reference_out / "model.safetensors"))
        print(f"uninterrupted run: {run_seconds:.1f} s, {args.epochs} epochs, checkpoint writes held {args.pause} s; "
              f"torch {torch.__version__}")

        kills = during_save = mismatched_accepted = refused = identical = orphans_left = 0
        worst = 0.0
        attempts = 0
        while kills < args.kills and attempts < 4 * args.kills:
            attempts += 1
            out = root / f"kill{kills:03d}"
            shutil.rmtree(out, ignore_errors=True)
            process = _start(context, config, out, resume=False, pause_s=args.pause)
            deadline = time.perf_counter() + 3 * run_seconds + 10
            if kills % 2:
                killed = _kill_during_a_save(process, out, rng, args.pause, deadline)
            else:
                process.join(timeout=rng.uniform(0.0, 0.95 * run_seconds))
                killed = process.is_alive()
                if killed:
                    process.kill()
                    process.join()
            if not killed:
                process.join()
                continue   # the run finished before the kill: draw another moment
            kills += 1
            during_save += bool(_temporaries(out))
            pair = _pair_epochs(out)
            resume = (out / "last.safetensors").exists()
            process = _start(context, config, out, resume=resume, pause_s=0.0)
            process.join(timeout=5 * run_seconds + 30)
            if process.is_alive():
                process.kill()
                process.join()
            if process.exitcode != 0:
                refused += 1
                continue
            if pair is not None and pair[0] != pair[1]:
                mismatched_accepted += 1
            difference = _max_difference(reference, load_file(str(out / "model.safetensors")))
            worst = max(worst, difference)
            identical += difference == 0.0
            orphans_left += len(_temporaries(out))
        print(f"{'kills':>6} {'in a save':>10} {'mismatched pairs accepted':>26} {'refused':>8} "
              f"{'max weight diff':>16} {'identical':>10} {'orphans left':>13}")
        print(f"{kills:>6} {during_save:>10} {mismatched_accepted:>26} {refused:>8} {worst:>16.3g} "
              f"{identical:>7}/{kills - refused:<2} {orphans_left:>13}")
        if kills < args.kills:
            print(f"only {kills} of {args.kills} runs could be killed before they finished", file=sys.stderr)
        return 0 if (mismatched_accepted == 0 and refused == 0 and identical == kills and orphans_left == 0) else 1
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
