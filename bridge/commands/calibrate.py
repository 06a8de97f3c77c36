"""``nesy calibrate``: fit the score calibration of a detector checkpoint.

Runs the detector over freshly generated scenes, matches its detections to
the ground truth, and writes per-class tables mapping score to precision
(:mod:`bridge.calibration`). Point ``pipeline.calibration`` at the file.
"""
from __future__ import annotations

import sys

from bridge.commands.arguments import config_file, non_negative_int, positive_int
from bridge.shipped import shipped_path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "calibrate", help="map a detector's scores to probabilities, per class, on generated scenes",
        description="Fit the score calibration the pipeline applies before grounding.")
    parser.add_argument("--config", type=config_file, default=shipped_path("drive.yaml"),
                        help="experiment file, or the name of a shipped one (default: drive)")
    parser.add_argument("--weights", metavar="FILE", help="detector checkpoint (default: the shipped model)")
    parser.add_argument("--scenes", type=positive_int, default=800, help="generated scenes to fit on (default: %(default)s)")
    parser.add_argument("--preset", choices=("easy", "default", "hard"), help="world preset (default: the config's)")
    parser.add_argument("--seed", type=non_negative_int, default=7_000_000, help="first scene seed (default: %(default)s)")
    parser.add_argument("--out", metavar="FILE",
                        help="calibration file (default: the config's pipeline.calibration)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    import dataclasses

    from tqdm import tqdm

    from perception.world import generate_scene
    from bridge.calibration import fit_calibration, file_sha256
    from bridge.experiment import load_config
    from bridge.frames import images_to_tensor
    from bridge.perception_stage import load_detector, weights_path
    from bridge.vocabulary import CLASS_NAMES

    config = load_config(args.config)
    out = args.out or config.pipeline.calibration
    if not out:
        raise ValueError(f"{args.config}: no pipeline.calibration file is set; pass --out FILE")
    world = config.world if not args.preset else dataclasses.replace(config.world, preset=args.preset)
    detector = load_detector(args.weights or config.pipeline.weights)
    scenes, detections = [], []
    threshold = min(0.05, config.pipeline.score_threshold)
    for begin in tqdm(range(0, args.scenes, 32), desc="calibrate", unit="batch", disable=not sys.stderr.isatty()):
        batch = [generate_scene(world, seed=args.seed + i) for i in range(begin, min(begin + 32, args.scenes))]
        detections.extend(detector.predict(images_to_tensor([s.image for s in batch]), score_threshold=threshold,
                                           batch_size=32))
        scenes.extend(batch)
    checkpoint = weights_path(args.weights or config.pipeline.weights)
    calibration = fit_calibration(detections, scenes, class_names=CLASS_NAMES, weights_sha256=file_sha256(checkpoint))
    path = calibration.save(out)
    for label in CLASS_NAMES:
        marks = ", ".join(f"{s:.1f}->{calibration.probability(label, s):.2f}" for s in (0.2, 0.3, 0.4, 0.5, 0.6, 0.8))
        print(f"{label:<14} {calibration.num_detections[label]:>6} detections   {marks}")
    print(f"wrote {path} for {checkpoint.name}")
    return 0
