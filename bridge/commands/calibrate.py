"""``nesy calibrate``: fit the score calibration, or the conformal tolerances, of a detector checkpoint.

Without ``--conformal``: runs the detector over freshly generated scenes,
matches its detections to the ground truth, and writes per-class tables
mapping score to precision (:mod:`bridge.calibration`); point
``pipeline.calibration`` at the file.

With ``--conformal``: runs the pipeline over held-out episodes and fits
per-class box radii and closing-speed scales at ``--coverage``
(:mod:`bridge.conformal_fit`), reports their coverage and mean width on
episodes it never saw as a table and a reliability plot, and writes the
file ``pipeline.conformal`` names.
"""
from __future__ import annotations

import sys

from bridge.commands.arguments import config_file, float_in_range, non_negative_int, positive_int
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
                        help="calibration file (default: the config's pipeline.calibration, "
                             "or pipeline.conformal with --conformal)")
    conformal = parser.add_argument_group("conformal tolerances")
    conformal.add_argument("--conformal", action="store_true",
                           help="fit per-class position radii and closing-speed scales instead of scores")
    conformal.add_argument("--coverage", type=float_in_range(0.0, 1.0, include_low=False, include_high=False), default=0.995,
                           help="nominal coverage of the tolerances (default: %(default)s)")
    conformal.add_argument("--frames", type=positive_int, default=2000,
                           help="judged held-out episode frames to fit on (default: %(default)s)")
    conformal.add_argument("--test-frames", type=positive_int, default=1000,
                           help="judged unseen episode frames to report coverage on (default: %(default)s)")
    conformal.add_argument("--test-seed", type=int, default=8_000_000,
                           help="first unseen episode seed (default: %(default)s)")
    conformal.add_argument("--plot", metavar="PNG", help="reliability plot (default: beside --out, .png)")
    parser.set_defaults(handler=run)


def _default_out(config_path, configured: str | None, key: str) -> str:
    """The file ``pipeline.<key>`` names, where the command writes without ``--out``; never a shipped file."""
    from pathlib import Path

    from bridge.shipped import CONFIGS_DIR

    if not configured:
        raise ValueError(f"{config_path}: no pipeline.{key} file is set; pass --out FILE")
    if Path(configured).resolve().is_relative_to(CONFIGS_DIR.resolve()):
        raise ValueError(f"{config_path}: pipeline.{key} is the shipped {configured}; pass --out FILE "
                         f"(--out {configured} replaces it)")
    return configured


def run(args) -> int:
    if args.conformal:
        return run_conformal(args)
    import dataclasses

    from tqdm import tqdm

    from perception.world import generate_scene
    from bridge.calibration import fit_calibration, file_sha256
    from bridge.experiment import load_config
    from bridge.frames import images_to_tensor
    from bridge.perception_stage import load_detector, weights_path
    from bridge.vocabulary import CLASS_NAMES

    config = load_config(args.config)
    out = args.out or _default_out(args.config, config.pipeline.calibration, "calibration")
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


def run_conformal(args) -> int:
    import dataclasses
    from pathlib import Path

    from bridge.calibration import file_sha256
    from bridge.conformal_fit import episodes, fit_conformal, measure_conformal, plot_reliability
    from bridge.experiment import load_config
    from bridge.perception_stage import weights_path
    from bridge.pipeline import Pipeline

    config = load_config(args.config)
    out = args.out or _default_out(args.config, config.pipeline.conformal, "conformal")
    world = config.world if not args.preset else dataclasses.replace(config.world, preset=args.preset)
    pipeline = Pipeline.from_config(config, weights=args.weights, conformal=None, class_position_uncertainty_m={},
                                    class_speed_uncertainty_scale={})
    say = lambda message: print(f"calibrate: {message}", file=sys.stderr, flush=True)  # noqa: E731
    say(f"fitting on {args.frames} judged frames of held-out episodes (seeds from {args.seed})")
    fit_frames = episodes(world, args.frames, args.seed)
    table, fitted = fit_conformal(pipeline, fit_frames, args.coverage, progress=say)
    checkpoint = weights_path(args.weights or config.pipeline.weights)
    table = dataclasses.replace(table, weights_sha256=file_sha256(checkpoint), fitted_on={
        "frames": args.frames, "seed": args.seed, "preset": world.preset, "episode_length": 50, "warmup_frames": 2})
    say(f"measuring on {args.test_frames} judged frames of unseen episodes (seeds from {args.test_seed})")
    report = measure_conformal(pipeline, table, fitted, episodes(world, args.test_frames, args.test_seed))
    print(f"coverage {args.coverage} on unseen episodes; before: one radius of "
          f"{pipeline.config.position_uncertainty_m} m, the tracker's speed uncertainty unscaled")
    for line in report.rows():
        print(line)
    path = table.save(out)
    plot = plot_reliability(report, args.plot or Path(out).with_suffix(".png"))
    print(f"wrote {path} and {plot} for {checkpoint.name}")
    return 0
