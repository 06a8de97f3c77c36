"""Per-class position uncertainty by split conformal prediction: radii, and their coverage on unseen frames.

Fits, on held-out single scenes of the ``default`` and ``hard`` presets
(seeds apart from every benchmark's), one radius per class that covers a box
error (the largest error of a box's centre and edges, metres) with
probability ``--coverage`` (:mod:`bridge.conformal`), then measures on
episodes from other seeds, per preset and class, the share of box errors
each radius covers and its width, beside the pipeline's one global
``position_uncertainty_m``. The last line is the ``class_position_uncertainty_m``
mapping for ``configs/drive.yaml``.

Run: ``python -m benchmarks conformal`` or
``python -m benchmarks.bench_conformal --scenes 800 --frames 1000 --coverage 0.995``.
"""
from __future__ import annotations

import argparse
import dataclasses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench_conformal", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/drive.yaml", help="experiment file (default: %(default)s)")
    parser.add_argument("--scenes", type=int, default=800, help="held-out scenes per preset to fit on (default: %(default)s)")
    parser.add_argument("--frames", type=int, default=1000, help="unseen episode frames per preset (default: %(default)s)")
    parser.add_argument("--coverage", type=float, default=0.995, help="nominal coverage (default: %(default)s)")
    parser.add_argument("--fit-seed", type=int, default=3_000_000, help="first held-out scene seed (default: %(default)s)")
    parser.add_argument("--test-seed", type=int, default=4_000_000, help="first unseen episode seed (default: %(default)s)")
    args = parser.parse_args(argv)

    from collections import defaultdict

    from perception.world import generate_scene
    from bridge.conformal import coverage_by_class, fit_class_radii
    from bridge.evaluation.residuals import box_errors_by_class
    from bridge.experiment import load_config
    from bridge.frames import generate_episode_frames
    from bridge.pipeline import Pipeline

    config = load_config(args.config)
    pipeline = Pipeline.from_config(config, class_position_uncertainty_m={})
    default = pipeline.config.position_uncertainty_m
    presets = ("default", "hard")
    errors = defaultdict(list)
    for preset in presets:
        world = dataclasses.replace(config.world, preset=preset)
        scenes = [generate_scene(world, seed=args.fit_seed + i) for i in range(args.scenes)]
        for label, values in box_errors_by_class(pipeline(scenes, explain=False)).items():
            errors[label] += values
    radii = fit_class_radii(errors, args.coverage)
    print(f"fitted on {args.scenes} held-out scenes per preset (seeds from {args.fit_seed}), coverage {args.coverage}")
    print(f"{'preset':<9}{'class':<15}{'n':>6}{'radius m':>10}{'covered':>9}{'global m':>10}{'covered':>9}")
    for preset in presets:
        world = dataclasses.replace(config.world, preset=preset)
        frames = generate_episode_frames(world, args.frames, episode_length=50, seed=args.test_seed)
        test = box_errors_by_class(pipeline(frames, explain=False))
        conformal = coverage_by_class(test, radii, default)
        single = coverage_by_class(test, {}, default)
        for label in sorted(test, key=lambda name: -len(test[name])):
            share, radius, n = conformal[label]
            print(f"{preset:<9}{label:<15}{n:>6}{radius:>10.3f}{share:>9.2%}{default:>10.3f}{single[label][0]:>9.2%}")
        every = [e for values in test.values() for e in values]
        within = sum(e <= radii.get(label, default) + 1e-9 for label, values in test.items() for e in values)
        mean_width = sum(radii.get(label, default) * len(values) for label, values in test.items()) / max(len(every), 1)
        print(f"{preset:<9}{'all':<15}{len(every):>6}{mean_width:>10.3f}{within / max(len(every), 1):>9.2%}"
              f"{default:>10.3f}{sum(e <= default for e in every) / max(len(every), 1):>9.2%}   (radius: mean width)")
    print("class_position_uncertainty_m: {" + ", ".join(f"{k}: {v}" for k, v in sorted(radii.items())) + "}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
