"""``nesy evaluate --pipeline``: judge the whole loop's decisions against the ground truth.

Runs perception -> grounding -> rules over generated episodes (or a dataset
folder written by ``nesy generate``), compares each action with the action the
same rules choose on the ground-truth facts, and prints decision agreement,
unsafe decisions, the confusion matrix of actions, the perception errors
behind disagreements and per-stage latency. ``--out DIR`` also writes
``DIR/pipeline_metrics.json``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from bridge.commands.arguments import config_file, non_negative_int, positive_int
from bridge.shipped import shipped_path


def add_arguments(parser) -> None:
    """The options ``nesy evaluate`` gains for ``--pipeline``."""
    group = parser.add_argument_group("pipeline evaluation (--pipeline)")
    group.add_argument("--pipeline", action="store_true",
                       help="judge the pipeline's decisions against ground truth instead of measuring mAP")
    group.add_argument("--config", type=config_file, default=shipped_path("drive.yaml"),
                       help="experiment file, or the name of a shipped one (default: drive)")
    group.add_argument("--oracle", action="store_true", help="ground-truth detections (checks the rules' plumbing)")
    group.add_argument("--mode", choices=("stream", "batch"), default="stream",
                       help="frame by frame with tracking, or batched without (default: %(default)s)")
    group.add_argument("--episode-length", type=positive_int, default=20, metavar="T",
                       help="judged frames per generated episode (default: %(default)s)")
    group.add_argument("--warmup-frames", type=non_negative_int, default=2, metavar="K",
                       help="frames of sensor history before each generated episode's first judged frame: the "
                            "pipeline sees them, the figures judge them apart (default: %(default)s)")


def run(args) -> int:
    """Evaluate the pipeline as ``args`` asks; print the table, write JSON with ``--out``."""
    import dataclasses

    from bridge.commands.run import read_data_folder
    from bridge.evaluation.metrics import evaluate_pipeline
    from bridge.experiment import load_config
    from bridge.frames import generate_episode_frames
    from bridge.pipeline import Pipeline

    config = load_config(args.config)
    overrides = {"batch_size": args.batch_size} if args.batch_size != 32 else {}
    pipeline = Pipeline.from_config(config, weights=args.weights, oracle=args.oracle, **overrides)
    if args.data:
        frames, skipped = read_data_folder(args.data)
        for name, reason in skipped:
            print(f"nesy evaluate: skipped {name}: {reason}", file=sys.stderr)
    else:
        world = dataclasses.replace(config.world, preset=args.preset) if hasattr(config, "world") else None
        frames = generate_episode_frames(world, args.generate, episode_length=args.episode_length, seed=args.seed,
                                         warmup_frames=args.warmup_frames)
    metrics = evaluate_pipeline(pipeline, frames, stream=args.mode == "stream", progress=sys.stderr.isatty())
    print(metrics.table())
    if args.out:
        path = metrics.write_json(Path(args.out) / "pipeline_metrics.json")
        print(f"wrote {path}", file=sys.stderr)
    return 0
