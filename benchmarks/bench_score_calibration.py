"""Do detector scores mean probabilities? Expected calibration error per class, raw and calibrated.

Fits the score calibration ``nesy calibrate`` writes (per-class isotonic
tables, :mod:`bridge.calibration`) on held-out scenes, then measures on
scenes from other seeds, per class, the expected calibration error (ECE, 10
score bins) of the raw scores and of the calibrated ones, and how many
detections at or above the pipeline's ``low`` are false, per frame, before
and after (a false detection above ``low`` is a possibly present object the
robust reasoner must allow for).

Run: ``python -m benchmarks score_calibration`` or
``python -m benchmarks.bench_score_calibration --fit-scenes 800 --test-scenes 800 --preset default``.
"""
from __future__ import annotations

import argparse
import dataclasses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench_score_calibration", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/drive.yaml", help="experiment file (default: %(default)s)")
    parser.add_argument("--fit-scenes", type=int, default=800, help="held-out scenes to fit on (default: %(default)s)")
    parser.add_argument("--test-scenes", type=int, default=800, help="unseen scenes to measure on (default: %(default)s)")
    parser.add_argument("--preset", default="default", help="world preset (default: %(default)s)")
    args = parser.parse_args(argv)

    from perception.world import generate_scene
    from bridge.calibration import expected_calibration_error, fit_calibration, scene_match_flags
    from bridge.experiment import load_config
    from bridge.frames import images_to_tensor
    from bridge.perception_stage import load_detector
    from bridge.vocabulary import CLASS_NAMES

    config = load_config(args.config)
    world = dataclasses.replace(config.world, preset=args.preset)
    detector = load_detector(config.pipeline.weights)
    low = config.pipeline.low

    def detect(first_seed: int, count: int):
        scenes = [generate_scene(world, seed=first_seed + i) for i in range(count)]
        found = []
        for begin in range(0, count, 32):
            batch = scenes[begin:begin + 32]
            found += detector.predict(images_to_tensor([s.image for s in batch]), score_threshold=0.05, batch_size=32)
        return scenes, found

    fit_scenes, fit_found = detect(7_000_000, args.fit_scenes)
    calibration = fit_calibration(fit_found, fit_scenes, class_names=CLASS_NAMES)
    test_scenes, test_found = detect(8_000_000, args.test_scenes)
    rows = {name: {"raw": [], "calibrated": [], "right": []} for name in CLASS_NAMES}
    false_raw = false_calibrated = 0
    for found, scene in zip(test_found, test_scenes):
        calibrated = calibration.apply(found)
        for label, raw, cal, right in zip(found.label_names(), found.scores.tolist(), calibrated.scores.tolist(),
                                          scene_match_flags(found, scene)):
            rows[label]["raw"].append(raw)
            rows[label]["calibrated"].append(cal)
            rows[label]["right"].append(right)
            false_raw += (not right) and raw > low
            false_calibrated += (not right) and cal > low
    print(f"{args.preset}: fitted on {args.fit_scenes} scenes (seeds from 7,000,000), measured on {args.test_scenes} "
          f"(seeds from 8,000,000); ECE over 10 score bins, detections from score 0.05")
    print(f"{'class':<15}{'detections':>11}{'share right':>13}{'ECE raw':>10}{'ECE calibrated':>16}")
    for name, row in rows.items():
        print(f"{name:<15}{len(row['right']):>11}{sum(row['right']) / max(len(row['right']), 1):>13.3f}"
              f"{expected_calibration_error(row['raw'], row['right']):>10.3f}"
              f"{expected_calibration_error(row['calibrated'], row['right']):>16.3f}")
    print(f"false detections above low={low} per scene: raw {false_raw / args.test_scenes:.2f}, "
          f"calibrated {false_calibrated / args.test_scenes:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
