"""``nesy run``: the whole loop over a dataset folder or freshly generated frames.

Writes ``OUT/frames.jsonl`` (one line per frame: detections, objects, facts,
decision with why-nots, per-stage timings), ``OUT/summary.json`` and, with
``--report``, ``OUT/report.html``. An image that cannot be read or has the
wrong size is reported with its file name and the run goes on with the rest.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from bridge.commands.arguments import config_file, non_negative_int, positive_int
from bridge.shipped import shipped_path
from perception.files import write_atomic


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run perception, grounding and the rules over images and write every decision",
        description="Run the pipeline over a dataset folder (written by 'nesy generate') or over a freshly "
                    "generated episode, and write per-frame JSON lines.")
    parser.add_argument("--config", type=config_file, default=shipped_path("drive.yaml"),
                        help="experiment file, or the name of a shipped one (default: drive)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="DIR", help="dataset folder with annotations.json, images/ and world.jsonl")
    source.add_argument("--generate", metavar="N", type=positive_int, help="generate an episode of N frames")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--weights", metavar="FILE", help="detector checkpoint (default: the shipped model)")
    parser.add_argument("--oracle", action="store_true", help="use ground-truth detections instead of the detector")
    parser.add_argument("--preset", choices=("easy", "default", "hard"), help="world preset for --generate")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed for --generate (default: %(default)s)")
    parser.add_argument("--mode", choices=("auto", "stream", "batch"), default="auto",
                        help="stream frame by frame with tracking, or batch; auto streams episodes (default)")
    parser.add_argument("--report", action="store_true", help="also write OUT/report.html")
    parser.add_argument("--target-lane", type=non_negative_int, metavar="K",
                        help="also plan a maneuver to lane K (0 = leftmost lane running the ego's way)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from tqdm import tqdm

    from bridge.experiment import load_config
    from bridge.frames import generate_one_episode
    from bridge.pipeline import Pipeline
    from bridge.planning import ManeuverStage

    config = load_config(args.config)
    if args.data:
        frames, skipped = read_data_folder(args.data)
    else:
        frames, skipped = generate_one_episode(config, args.generate, seed=args.seed, preset=args.preset), []
    for name, reason in skipped:
        print(f"nesy run: skipped {name}: {reason}", file=sys.stderr)
    planners = [ManeuverStage(args.target_lane)] if args.target_lane is not None else []
    pipeline = Pipeline.from_config(config, weights=args.weights, oracle=args.oracle, planners=planners)
    stream = args.mode == "stream" or (args.mode == "auto" and frames and all(
        getattr(f, "episode_id", None) is not None for f in frames))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    partial = out / "frames.jsonl.partial"
    with partial.open("w") as file, tqdm(total=len(frames), desc="run", unit="frame",
                                         disable=not sys.stderr.isatty()) as bar:
        for result in _results(pipeline, frames, stream):
            file.write(json.dumps(result.to_json()) + "\n")
            file.flush()
            results.append(result)
            bar.update(1)
    partial.replace(out / "frames.jsonl")
    summary = run_summary(results, skipped, stream=stream, oracle=args.oracle)
    write_atomic(out / "summary.json", json.dumps(summary, indent=1))
    if args.report:
        from bridge.evaluation.report import perception_name, write_report

        perception = perception_name(oracle=args.oracle, weights=args.weights or config.pipeline.weights)
        write_report(results, out / "report.html",
                     title=f"nesy run: {args.data or f'{args.generate} generated frames'}, {perception}",
                     skipped=skipped, truth=_has_truth(frames), reasoner=pipeline.reasoner)
    counts = ", ".join(f"{action} {n}" for action, n in summary["actions"].items())
    print(f"{len(results)} frames ({len(skipped)} skipped) -> {out / 'frames.jsonl'}; actions: {counts or 'none'}")
    return 0


def _results(pipeline, frames, stream):
    if stream:
        yield from pipeline.stream(frames)
        return
    size = pipeline.config.batch_size * 8   # a few batches per call: perception overlaps deciding
    for begin in range(0, len(frames), size):
        yield from pipeline(frames[begin:begin + size])


def _has_truth(frames) -> bool:
    return bool(frames) and all(getattr(f, "has_truth", True) for f in frames)


def read_data_folder(folder) -> tuple[list, list[tuple[str, str]]]:
    """:func:`bridge.frames.read_frames` of ``--data``, its errors naming the flag."""
    from bridge.frames import read_frames

    if not Path(folder).is_dir():
        raise ValueError(f"--data: not a folder: {folder}")
    return read_frames(folder)


def run_summary(results, skipped, *, stream: bool, oracle: bool) -> dict:
    """Counts of actions, fallbacks, skipped images and latency of a run."""
    from bridge.evaluation.metrics import latency_summary

    actions = Counter(r.action for r in results)
    return {"num_frames": len(results), "num_skipped": len(skipped), "mode": "stream" if stream else "batch",
            "oracle": oracle, "actions": dict(sorted(actions.items())),
            "num_fallback": sum(bool(r.decision.fallback) for r in results),
            "skipped": [{"file": name, "reason": reason} for name, reason in skipped],
            "latency_ms": latency_summary(r.timings_ms for r in results)}

