"""Where decision agreement is lost: the detector pipeline with parts of perception replaced by the truth.

Each row runs the shipped pipeline (streaming, tracker, robust mode) over the
same generated episodes and, after tracking, replaces one kind of perception
error with the ground truth for every object matched to a true object of its
label (IoU >= 0.5):

- ``velocity``: the tracked velocity becomes the true one (no uncertainty);
- ``position``: the box's position and size become the true ones (r = 0);
- ``no false``: objects matching no true object are dropped;
- combinations of them.

These are ablations, not methods: they bound what better motion
estimation, localisation or false-positive suppression could buy, and show
how far the rules' 99% agreement target lies from what perception delivers.
Misses stay misses in every row.

Run: ``python -m benchmarks error_budget`` or
``python -m benchmarks.bench_error_budget --frames 1000 --preset default``.
"""
from __future__ import annotations

import argparse
import dataclasses

from bridge.pipeline import Pipeline

ROWS = (("detector", ()), ("+ true velocity", ("velocity",)), ("+ true position", ("velocity", "position")),
        ("no false boxes", ("no false",)), ("no false boxes + true velocity", ("no false", "velocity")),
        ("no false boxes + true velocity and position", ("no false", "velocity", "position")))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench_error_budget", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000, help="frames (default: %(default)s)")
    parser.add_argument("--preset", default="default", help="world preset (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=500_000, help="first episode seed (default: %(default)s)")
    parser.add_argument("--config", default="configs/drive.yaml", help="experiment file (default: %(default)s)")
    args = parser.parse_args(argv)

    from bridge.commands.evaluate_pipeline import generate_frames
    from bridge.experiment import load_config
    from bridge.metrics import evaluate_pipeline

    config = load_config(args.config)
    frames = generate_frames(dataclasses.replace(config.world, preset=args.preset), args.frames,
                             episode_length=50, seed=args.seed)
    base = Pipeline.from_config(config)
    print(f"{args.frames} {args.preset} frames in episodes of 50 from seed {args.seed}, streaming, robust mode")
    print(f"{'perception':<46}{'agreement':>10}{'unsafe':>8}")
    for name, replaced in ROWS:
        pipeline = TruthAssisted(base.detector, base.reasoner, config=base.config, calibration=base.calibration,
                                 replaced=replaced)
        metrics = evaluate_pipeline(pipeline, frames, stream=True)
        print(f"{name:<46}{metrics.agreement:>10.2%}{metrics.num_unsafe:>8}", flush=True)
    return 0


class TruthAssisted(Pipeline):
    """A pipeline whose tracked objects have the ``replaced`` kinds of perception error taken away."""

    def __init__(self, *args, replaced=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.replaced = tuple(replaced)
        self._frame = None

    def _decide(self, frame, *args, **kwargs):
        self._frame = frame   # the ground truth the tracked objects are corrected against
        return super()._decide(frame, *args, **kwargs)

    def _tracker(self):
        tracker = super()._tracker()
        update = tracker.update

        def assisted_update(objects, ego, time_s):
            return with_truth(update(objects, ego, time_s), self._frame, self.replaced)

        tracker.update = assisted_update
        return tracker


def with_truth(objects, frame, replaced) -> list:
    """``objects`` with the errors named in ``replaced`` taken away, against ``frame``'s ground truth."""
    from bridge.grounding import ground_truth_objects
    from bridge.metrics import _box_overlaps, _match_any_label

    truth = ground_truth_objects(frame)
    matched = _match_any_label(objects, _box_overlaps(objects, truth), 0.5)
    kept = []
    for i, obj in enumerate(objects):
        true = truth[matched[i]] if i in matched else None
        if true is None or true.label != obj.label:
            if "no false" not in replaced:
                kept.append(obj)
            continue
        if "velocity" in replaced:
            obj = dataclasses.replace(obj, velocity=true.velocity, speed_uncertainty=0.0)
        if "position" in replaced:
            obj = dataclasses.replace(obj, position=true.position, size=true.size, truncated=true.truncated,
                                      position_uncertainty=0.0)
        kept.append(obj)
    return kept


if __name__ == "__main__":
    raise SystemExit(main())
