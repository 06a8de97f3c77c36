"""``nesy demo``: the whole project in one command.

Drives a generated episode through the detector (the shipped one unless the
config's ``pipeline.weights`` or ``--weights`` names another; the report's title names it), the grounding and the
traffic rules (with a route and maneuver plan per frame), judges every decision against the ground truth, and writes
``OUT/report.html`` (open it in a browser), ``OUT/frames.jsonl``,
``OUT/metrics.json`` and ``OUT/preview.png`` (the frames with their
ground-truth boxes). Prints the report's path.
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from perception.files import write_atomic

from bridge.commands.arguments import config_file, int_in_range, non_negative_int
from bridge.evaluation.drawing import ground_truth_preview
from bridge.shipped import shipped_path

DEFAULT_CONFIG = shipped_path("drive.yaml")
MAX_FRAMES = 400


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="drive a generated episode end to end and write an HTML report",
                                   description="Generate an episode, run detector -> grounding -> rules frame by "
                                               "frame, and write report.html with every decision explained.")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default: runs/demo)")
    parser.add_argument("--config", type=config_file, default=DEFAULT_CONFIG,
                        help="experiment file, or the name of a shipped one (default: drive)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="episode seed (default: 0)")
    parser.add_argument("--frames", type=int_in_range(1, MAX_FRAMES), default=40,
                        help=f"frames in the episode, 1-{MAX_FRAMES} (default: 40)")
    parser.add_argument("--preset", choices=("easy", "default", "hard"), help="world preset (default: the config's)")
    parser.add_argument("--weights", metavar="FILE", help="detector checkpoint (default: the shipped model)")
    parser.add_argument("--oracle", action="store_true", help="ground-truth detections instead of the detector")
    parser.set_defaults(handler=run)


def run(args) -> int:
    import dataclasses

    from perception.world import WorldConfig, generate_episode
    from bridge.evaluation.metrics import evaluate_results, timed_stream
    from bridge.evaluation.report import perception_name, write_report
    from bridge.experiment import load_config
    from bridge.pipeline import Pipeline
    from bridge.planning import RouteStage

    config = load_config(args.config)
    world = getattr(config, "world", None) or WorldConfig()
    if args.preset:
        world = dataclasses.replace(world, preset=args.preset)
    pipeline = Pipeline.from_config(config, weights=args.weights, oracle=args.oracle, planners=[RouteStage()])
    frames = generate_episode(world, seed=args.seed, num_frames=args.frames)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    results, wall_s = timed_stream(pipeline, frames, progress=sys.stderr.isatty(), desc="demo")
    metrics = evaluate_results(results, reasoner=pipeline.reasoner, wall_s=wall_s, mode="stream")
    write_atomic(out / "frames.jsonl", "".join(json.dumps(r.to_json()) + "\n" for r in results))
    metrics.write_json(out / "metrics.json")
    preview = io.BytesIO()
    ground_truth_preview(frames[:: max(1, len(frames) // 8)][:8]).save(preview, format="PNG")
    write_atomic(out / "preview.png", preview.getvalue())
    perception = perception_name(oracle=args.oracle, weights=args.weights or config.pipeline.weights)
    report = write_report(results, out / "report.html", metrics=metrics,
                          title=f"nesy demo: {len(frames)} frames, {world.preset} preset, seed {args.seed}, {perception}")
    print(f"agreement {metrics.agreement:.1%}, unsafe decisions {metrics.num_unsafe}, "
          f"{metrics.frames_per_second:.0f} frames/s", file=sys.stderr)
    print(report)
    return 0
