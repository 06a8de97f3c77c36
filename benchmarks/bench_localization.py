"""How far the detector's boxes and the tracker's closing speeds are off: the source of ``position_uncertainty_m``.

Per preset, generated episodes go through the pipeline's stages
(:func:`bridge.evaluation.localization.localization_errors`: perception,
post-processing, locating, tracking) and every tracked object is matched to
its true object. The table gives percentiles of the box coordinate error
(metres), of its spread within a velocity fit, and of the closing-speed
error, and how often the tracker's uncertainty covers the true closing speed.
The 99th percentile of the box error is the pipeline's
``position_uncertainty_m``.

Run: ``python -m benchmarks localization`` or
``python -m benchmarks.bench_localization --frames 1000 --presets default,hard``.
"""
from __future__ import annotations

import argparse
import dataclasses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench_localization", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/drive.yaml", help="experiment file (default: %(default)s)")
    parser.add_argument("--weights", help="detector checkpoint (default: the config's, else the shipped model)")
    parser.add_argument("--frames", type=int, default=2000, help="frames per preset (default: %(default)s)")
    parser.add_argument("--presets", default="default,hard", help="comma-separated presets (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=700_000,
                        help="first episode seed (default: %(default)s, apart from the benchmarks' seeds)")
    parser.add_argument("--position-uncertainty", type=float,
                        help="override the config's position_uncertainty_m (0: the tracker's own uncertainty only)")
    args = parser.parse_args(argv)

    from bridge.evaluation.localization import localization_errors
    from bridge.experiment import load_config
    from bridge.frames import generate_episode_frames
    from bridge.pipeline import Pipeline

    config = load_config(args.config)
    overrides = {} if args.position_uncertainty is None else {"position_uncertainty_m": args.position_uncertainty}
    pipeline = Pipeline.from_config(config, weights=args.weights, **overrides)
    print(f"position_uncertainty_m={pipeline.config.position_uncertainty_m}, "
          f"track_speed_uncertainty={pipeline.config.track_speed_uncertainty}, window={pipeline.config.track_window}, "
          f"track_jitter_fraction={pipeline.config.track_jitter_fraction}")
    for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
        world = dataclasses.replace(config.world, preset=preset)
        frames = generate_episode_frames(world, args.frames, episode_length=50, seed=args.seed)
        print(f"\n{preset}: {len(frames)} frames in episodes of 50 from seed {args.seed}")
        print(localization_errors(pipeline, frames).table(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
