"""``nesy evaluate``: COCO mAP of a detector checkpoint on a dataset.

Prints a table (per-class AP@0.5 and AP@[.5:.95], light-state accuracy) and,
with ``--out``, writes ``metrics.json`` and ``grid.png`` (predictions beside
ground truth).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from bridge.commands.arguments import int_in_range, non_negative_int, positive_int
from bridge.commands.train import device_name

#: The most images per forward pass (``pipeline.batch_size`` has the same bound).
MAX_BATCH_SIZE = 4096


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="measure a detector's mAP on a COCO folder or on fresh generated scenes",
        description="COCO-style evaluation (pycocotools) of a detector checkpoint.")
    parser.add_argument("--weights", metavar="FILE", help="checkpoint (default: the shipped model)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="DIR", help="COCO folder or annotations file")
    source.add_argument("--generate", metavar="N", type=positive_int, help="evaluate on N freshly generated scenes")
    parser.add_argument("--preset", choices=("easy", "default", "hard"), default="default",
                        help="world preset for --generate (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=12345, help="world seed for --generate (default: %(default)s)")
    parser.add_argument("--out", metavar="DIR", help="write metrics.json and grid.png here")
    parser.add_argument("--batch-size", type=int_in_range(1, MAX_BATCH_SIZE), default=32,
                        help="images per forward pass (default: %(default)s)")
    parser.add_argument("--precision", choices=("auto", "float32", "bfloat16", "float16"), default="auto",
                        help="inference precision (default: %(default)s)")
    parser.add_argument("--device", type=device_name, default="auto", metavar="{auto,cpu,cuda}",
                        help="where the detector runs (default: auto, CUDA when available)")
    from bridge.commands import evaluate_pipeline
    evaluate_pipeline.add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    if args.pipeline:
        from bridge.commands import evaluate_pipeline
        return evaluate_pipeline.run(args)
    from perception.files import write_atomic
    from perception.datasets import CocoDataset, SyntheticDataset
    from perception.evaluation import format_metrics
    from perception.device import resolve_device
    from perception.model import Detector
    from perception.world import preset_config

    device = resolve_device(args.device)
    detector = Detector.load(args.weights, device=device) if args.weights else Detector.load_default(device=device)
    if args.data:
        data = CocoDataset(args.data)
        if tuple(data.class_names) != tuple(detector.class_names):
            raise ValueError(f"{args.data}: the dataset's classes {list(data.class_names)} do not match the "
                             f"checkpoint's class map {list(detector.class_names)}")
    else:
        data = SyntheticDataset(preset_config(args.preset), args.generate, seed=args.seed)
    grid = Path(args.out) / "grid.png" if args.out else None
    metrics = detector.evaluate(data, batch_size=args.batch_size, precision=args.precision, grid_path=grid,
                                verbose=True)
    print(format_metrics(metrics))
    if args.out:
        write_atomic(Path(args.out) / "metrics.json", json.dumps(metrics, indent=1) + "\n")
        print(f"wrote {Path(args.out) / 'metrics.json'} and {grid}", file=sys.stderr)
    return 0
