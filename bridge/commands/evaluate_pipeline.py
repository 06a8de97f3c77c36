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


def add_arguments(parser) -> None:
    """The options ``nesy evaluate`` gains for ``--pipeline``."""
    group = parser.add_argument_group("pipeline evaluation (--pipeline)")
    group.add_argument("--pipeline", action="store_true",
                       help="judge the pipeline's decisions against ground truth instead of measuring mAP")
    group.add_argument("--config", default="configs/drive.yaml", help="experiment file (default: %(default)s)")
    group.add_argument("--oracle", action="store_true", help="ground-truth detections (checks the rules' plumbing)")
    group.add_argument("--mode", choices=("stream", "batch"), default="stream",
                       help="frame by frame with tracking, or batched without (default: %(default)s)")
    group.add_argument("--episode-length", type=int, default=20, metavar="T",
                       help="judged frames per generated episode (default: %(default)s)")
    group.add_argument("--warmup-frames", type=int, default=2, metavar="K",
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

    if args.warmup_frames < 0:
        raise ValueError(f"`--warmup-frames` must be an integer >= 0. Received: --warmup-frames={args.warmup_frames}")
    if args.episode_length < 1:
        raise ValueError(f"`--episode-length` must be a positive integer. Received: --episode-length={args.episode_length}")
    config = load_config(args.config)
    overrides = {"batch_size": args.batch_size} if args.batch_size != 32 else {}
    if args.batch_size < 1:
        raise ValueError(f"`--batch-size` must be a positive integer. Received: --batch-size={args.batch_size}")
    pipeline = Pipeline.from_config(config, weights=args.weights, oracle=args.oracle, **overrides)
    if args.data:
        frames, skipped = read_data_folder(args.data)
        for name, reason in skipped:
            print(f"nesy evaluate: skipped {name}: {reason}", file=sys.stderr)
    else:
        if args.generate < 1:
            raise ValueError(f"`--generate` must be a positive integer. Received: --generate={args.generate}")
        world = dataclasses.replace(config.world, preset=args.preset) if hasattr(config, "world") else None
        frames = generate_episode_frames(world, args.generate, episode_length=args.episode_length, seed=args.seed,
                                         warmup_frames=args.warmup_frames)
    metrics = evaluate_pipeline(pipeline, frames, stream=args.mode == "stream", progress=sys.stderr.isatty())
    print(metrics.table())
    if args.out:
        path = metrics.write_json(Path(args.out) / "pipeline_metrics.json")
        print(f"wrote {path}", file=sys.stderr)
    return 0
