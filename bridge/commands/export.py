"""``nesy export``: a detector checkpoint as ONNX or TorchScript.

The exported graph maps images (B, 3, H, W) in [0, 1] to the raw output
maps; :func:`perception.decode.decode_outputs` turns them into boxes.
"""
from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("export", help="export a detector checkpoint to ONNX or TorchScript",
                                   description="Export the network of a checkpoint for serving.")
    parser.add_argument("--weights", metavar="FILE", help="checkpoint (default: the shipped model)")
    parser.add_argument("--format", choices=("onnx", "torchscript"), required=True, help="export format")
    parser.add_argument("--out", metavar="FILE", help="output file (default: beside the weights, .onnx or .pt)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from pathlib import Path

    from perception.export import export_detector
    from perception.model import DEFAULT_WEIGHTS, Detector

    weights = Path(args.weights) if args.weights else DEFAULT_WEIGHTS
    detector = Detector.load(weights)
    suffix = ".onnx" if args.format == "onnx" else ".pt"
    out = Path(args.out) if args.out else weights.with_name(weights.name.removesuffix(".safetensors") + suffix)
    path = export_detector(detector, out, format=args.format)
    print(f"wrote {path}", file=sys.stderr)
    return 0
