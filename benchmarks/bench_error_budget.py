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
Misses stay misses in every row. The replacement is a grounder stage
(:class:`TruthAssistedGrounder`) wrapped around the pipeline's own: it
corrects the tracked objects before they are grounded.

Run: ``python -m benchmarks error_budget`` or
``python -m benchmarks.bench_error_budget --frames 1000 --preset default``.
"""
from __future__ import annotations

import argparse
import dataclasses

from bridge.evaluation.metrics import evaluate_pipeline, match_objects
from bridge.experiment import load_config
from bridge.frames import generate_episode_frames
from bridge.ground_truth import ground_truth_objects
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
    parser.add_argument("--warmup-frames", type=int, default=2, help="unjudged frames before each episode "
                        "(default: %(default)s)")
    args = parser.parse_args(argv)

    config = load_config(args.config)
    frames = generate_episode_frames(dataclasses.replace(config.world, preset=args.preset), args.frames,
                                     episode_length=50, seed=args.seed, warmup_frames=args.warmup_frames)
    base = Pipeline.from_config(config)
    print(f"{args.frames} judged {args.preset} frames in episodes of 50 (+{args.warmup_frames} warm-up) from seed "
          f"{args.seed}, streaming, robust mode")
    print(f"{'perception':<46}{'agreement':>10}{'balanced':>10}{'unsafe':>8}   recall per true action")
    for name, replaced in ROWS:
        pipeline = Pipeline(perception=base.perception, postprocess=base.postprocess, reasoner=base.reasoner,
                            grounder=TruthAssistedGrounder(base.grounder, replaced), config=base.config)
        metrics = evaluate_pipeline(pipeline, frames, stream=True)
        recall = "  ".join(f"{a} {r:.2f}" for a, r in metrics.recall().items())
        print(f"{name:<46}{metrics.agreement:>10.2%}{metrics.balanced_agreement:>10.3f}{metrics.num_unsafe:>8}   "
              f"{recall}", flush=True)
    return 0


class TruthAssistedGrounder:
    """A grounder that takes the ``replaced`` kinds of perception error away from the tracked objects it grounds.

    Args:
        grounder: the pipeline's grounder (``locate`` and ``ground``).
        replaced: what to correct against the frame's ground truth: ``"velocity"``,
            ``"position"``, ``"no false"``.
    """

    def __init__(self, grounder, replaced=()):
        self.grounder = grounder
        self.replaced = tuple(replaced)

    def locate(self, detections, frame):
        return self.grounder.locate(detections, frame)

    def ground(self, objects, frame):
        return self.grounder.ground(with_truth(objects, frame, self.replaced), frame)


def with_truth(objects, frame, replaced) -> list:
    """``objects`` with the errors named in ``replaced`` taken away, against ``frame``'s ground truth."""
    truth = ground_truth_objects(frame)
    matched = match_objects(objects, truth, iou_threshold=0.5)
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
