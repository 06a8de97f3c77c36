"""The whole loop: decision quality and speed of detector -> grounding -> rules.

Two tables:

1. **Decisions** over generated episodes per preset, robust mode on:
   decision agreement with the action the same rules choose on ground-truth
   facts, unsafe decisions (hard rules broken under the ground truth),
   fallbacks, and the perception errors behind disagreements. "after frame 0"
   leaves out each episode's first frame, where the tracker has no history
   and every object's motion is unknown (uncertain facts: any motion).
2. **Speed**: streaming (batch 1, with tracking), batched (independent
   images: every motion unknown) and batched with the episodes tracked
   (``pipeline(frames, track=True)``) frames per second, with the per-stage
   split (perception, grounding, reasoning, p50 ms of wall-clock time) and
   the CPU time the process spent per frame and the grounding and reasoning
   stages took (p50 ms of the main thread's CPU time: readable on a busy
   machine, where wall-clock figures are not); median of several runs over
   the same frames, with and without why-not explanations.

Run: ``python -m benchmarks pipeline`` or
``python -m benchmarks.bench_pipeline --frames 2000 --presets default,hard``.
Run it on a quiet machine; the table notes the load average.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench_pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000, help="frames per preset for the decision table")
    parser.add_argument("--presets", default="default,hard", help="comma-separated presets (default: %(default)s)")
    parser.add_argument("--episode-length", type=int, default=50, help="frames per episode (default: %(default)s)")
    parser.add_argument("--speed-frames", type=int, default=256, help="frames per speed run (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="speed runs; the median is reported (default: %(default)s)")
    parser.add_argument("--weights", help="detector checkpoint (default: the shipped model)")
    parser.add_argument("--config", default="configs/drive.yaml", help="experiment file (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=500_000, help="first episode seed (default: %(default)s)")
    parser.add_argument("--seeds", default=None, help="comma-separated first seeds of several seed sets, e.g. "
                        "900000,910000 (default: --seed alone)")
    parser.add_argument("--warmup-frames", type=int, default=2, help="unjudged frames of sensor history before "
                        "each episode (default: %(default)s)")
    parser.add_argument("--skip-decisions", action="store_true", help="only measure speed")
    parser.add_argument("--skip-speed", action="store_true", help="only judge decisions")
    parser.add_argument("--perception", choices=("detector", "truth-boxes", "both"), default="both",
                        help="decision rows for the detector, for true boxes with tracked motion, or both")
    args = parser.parse_args(argv)

    import dataclasses

    import torch

    from bridge.evaluation.metrics import evaluate_pipeline
    from bridge.experiment import load_config
    from bridge.frames import generate_episode_frames
    from bridge.pipeline import Pipeline

    config = load_config(args.config)
    pipeline = Pipeline.from_config(config, weights=args.weights)
    print(f"machine: {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, load average "
          f"{_load()} at start; rules {pipeline.config.rules_path().name}, robust={pipeline.reasoner.robust}, "
          f"score_threshold={pipeline.config.score_threshold}, low/high={pipeline.config.low}/{pipeline.config.high}")
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]

    if not args.skip_decisions:
        print(f"\nDecisions: {args.frames} judged frames per preset and seed set in episodes of "
              f"{args.episode_length} (+{args.warmup_frames} warm-up frames each), streaming")
        print(f"{'preset':<9}{'seeds from':>11}{'frames':>8}{'agreement':>11}{'balanced':>10}{'unsafe':>8}"
              f"{'every frame':>13}{'balanced':>10}{'unsafe':>8}{'fallback':>10}   recall per true action; causes")
        kinds = ("detector", "truth-boxes") if args.perception == "both" else (args.perception,)
        seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
        for preset, seed in ((p, s) for p in presets for s in seeds):
            world = dataclasses.replace(config.world, preset=preset)
            frames = generate_episode_frames(world, args.frames, episode_length=args.episode_length, seed=seed,
                                             warmup_frames=args.warmup_frames)
            for kind in kinds:
                # true boxes carry no position uncertainty: exact
                judged = pipeline if kind == "detector" else Pipeline(perception=TruthBoxes(), reasoner=pipeline.reasoner,
                                                                      config=pipeline.config)
                metrics = evaluate_pipeline(judged, frames, stream=True)
                causes = ", ".join(f"{k} {v}" for k, v in metrics.cause_counts().items())
                recall = " ".join(f"{a} {r:.2f}" for a, r in metrics.recall().items())
                fallbacks = sum(f.fallback for f in metrics.judged_frames)
                print(f"{preset + (' *' if kind == 'truth-boxes' else ''):<9}{seed:>11}{metrics.num_frames:>8}"
                      f"{metrics.agreement:>10.2%}{metrics.balanced_agreement:>10.3f}{metrics.num_unsafe:>8}"
                      f"{metrics.agreement_every_frame:>12.2%}{metrics.balanced_agreement_every_frame:>10.3f}"
                      f"{metrics.num_unsafe_every_frame:>8}{fallbacks:>10}   {recall}; {causes}", flush=True)
                for frame in metrics.frames:
                    if frame.unsafe:
                        print(f"    unsafe: episode {frame.episode_id} frame {frame.frame_index}"
                              f"{', warm-up' if not frame.judged else ''}) {frame.action} breaks "
                              f"{', '.join(frame.unsafe)}", flush=True)
        if "truth-boxes" in kinds:
            print("* true boxes, labels and light states in place of the detector; motion still estimated by the "
                  "tracker: what perfect detection would reach")
    if args.skip_speed:
        return 0

    world = dataclasses.replace(config.world, preset=presets[0] if presets else "default")
    frames = generate_episode_frames(world, args.speed_frames, episode_length=args.episode_length, seed=args.seed + 77_777)
    list(pipeline.stream(frames[:8]))   # warm up: imports, first allocations
    pipeline(frames[:32], explain=False)
    print(f"\nSpeed: {len(frames)} frames of the {world.preset} preset, median of {args.runs} runs "
          f"(load average {_load()} before)")
    print(f"{'':<37}{'':>10}{'wall-clock p50 ms':^44}{'CPU ms':^34}")
    print(f"{'mode':<37}{'frames/s':>10}{'perception':>12}{'grounding':>11}{'reasoning':>11}{'total':>9}"
          f"{'per frame':>11}{'grounding':>11}{'reasoning':>11}   (CPU: process per frame; stages p50)")
    names = {"stream": "streaming (batch 1)", "batch": f"batched ({pipeline.config.batch_size})",
             "batch-track": "batched, episodes tracked", "batch-overlap": "batched, overlapped"}
    for explain in (False, True):
        for mode in ("stream", "batch", "batch-track", "batch-overlap"):
            rates, stages = [], []
            for _ in range(args.runs):
                rate, timings = _measure(pipeline, frames, mode, explain=explain)
                rates.append(rate)
                stages.append(timings)
            median = {k: statistics.median(t[k] for t in stages) for k in stages[0]}
            label = f"{names[mode]}{', why-nots' if explain else ''}"
            print(f"{label:<37}{statistics.median(rates):>10.1f}{median['perception']:>12.2f}"
                  f"{median['grounding']:>11.2f}{median['reasoning']:>11.2f}{median['total']:>9.2f}"
                  f"{median['cpu per frame']:>11.2f}{median['cpu grounding']:>11.2f}{median['cpu reasoning']:>11.2f}",
                  flush=True)
    print(f"load average {_load()} at the end")
    return 0


class TruthBoxes:
    """A perception stage returning each frame's true boxes, labels and light states (no ids, motion or uncertainty)."""

    def detect(self, frames, *, precision="auto"):
        from bridge.ground_truth import scene_detections

        return [scene_detections(frame) for frame in frames]


def _measure(pipeline, frames, mode: str, *, explain: bool) -> tuple[float, dict[str, float]]:
    """Frames per second of one run in ``mode`` and its p50 stage timings (wall-clock and CPU ms)."""
    from bridge.pipeline import Pipeline

    grounding, reasoning = CpuClock(), CpuClock()   # the main thread's CPU ms per frame
    timed = Pipeline(perception=pipeline.perception,
                     postprocess=CpuTimed(pipeline.postprocess, grounding, ("share",)),
                     tracker=None if pipeline.tracker is None else CpuTimed(pipeline.tracker, grounding, ("update",)),
                     grounder=CpuTimed(pipeline.grounder, grounding, ("locate", "ground"), ends_frame=("ground",)),
                     reasoner=CpuTimed(pipeline.reasoner, reasoning, ("decide",), ends_frame=("decide",)),
                     planners=pipeline.planners, config=pipeline.config)
    start, start_cpu = time.perf_counter(), time.process_time()
    if mode == "stream":
        results = list(timed.stream(frames, explain=explain))
    else:
        results = timed(frames, explain=explain, overlap=mode == "batch-overlap", track=mode == "batch-track")
    elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    timings = {stage: statistics.median(r.timings_ms[stage] for r in results)
               for stage in ("perception", "grounding", "reasoning", "total")}
    timings["cpu per frame"] = elapsed_cpu * 1000 / len(results)
    timings["cpu reasoning"] = statistics.median(reasoning.per_frame)
    timings["cpu grounding"] = statistics.median(grounding.per_frame)
    return len(results) / elapsed, timings


class CpuClock:
    """CPU milliseconds of the calls a frame made, one total per frame (``per_frame``)."""

    def __init__(self):
        self.pending = 0.0
        self.per_frame = []

    def add(self, ms: float, *, end: bool) -> None:
        self.pending += ms
        if end:
            self.per_frame.append(self.pending)
            self.pending = 0.0


class CpuTimed:
    """A stage whose ``methods`` add the calling thread's CPU time to ``clock`` (the rest passes through).

    A call of a method in ``ends_frame`` closes the frame's total.
    """

    def __init__(self, stage, clock: CpuClock, methods, *, ends_frame=()):
        self.stage = stage
        self.clock = clock
        self.methods = tuple(methods)
        self.ends_frame = tuple(ends_frame)

    def __getattr__(self, name):
        attribute = getattr(self.stage, name)
        if name not in self.methods:
            return attribute

        def timed(*args, **kwargs):
            begin = time.thread_time()
            try:
                return attribute(*args, **kwargs)
            finally:
                self.clock.add((time.thread_time() - begin) * 1000, end=name in self.ends_frame)
        return timed


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
