"""Maneuver plan latency under configs/rules/traffic.rules: horizon 10 x 0.5 s, 20 tracked objects.

    python -m benchmarks.bench_maneuver [--frames 200] [--objects 20] [--horizon 10]

Each frame is a seeded random three-lane scene: cars, trucks and cyclists in
the lanes at -80..200 m with speeds 0..14 m/s, pedestrians on the sidewalks,
the ego in a random lane at 6..13 m/s and a target lane (two thirds of the
frames need one or two lane changes). The process is pinned to one core where
the system allows it. Times include predicting the facts of every step and
every reasoner call; milliseconds, median and 99th percentile, wall clock and
the process's CPU time (which leaves out waiting while other programs hold the core).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

from symbolic.planning.maneuver import ManeuverPlanner, ManeuverState, ManeuverTarget, RoadLayout, TrackedObject
from symbolic.reasoning.reasoner import Reasoner

from bridge.maneuver_facts import predicted_fact_list

RULES = Path(__file__).resolve().parents[1] / "configs" / "rules" / "traffic.rules"


def random_frame(rng: random.Random, road: RoadLayout, num_objects: int):
    """A seeded scene: (ego, objects, target)."""
    objects = []
    for index in range(num_objects):
        label = rng.choices(["car", "truck", "cyclist", "pedestrian"], weights=[6, 2, 1, 1])[0]
        if label == "pedestrian":
            x = rng.choice([-1.5, road.width + 1.5])
            objects.append(TrackedObject(f"o{index + 1}", label, x=x, y=rng.uniform(-20, 80), length=0.6, width=0.6))
            continue
        lane = rng.randrange(road.num_lanes)
        length = {"car": 4.5, "truck": 9.0, "cyclist": 1.8}[label]
        speed = rng.uniform(0, 6) if label == "cyclist" else rng.uniform(0, 14)
        objects.append(TrackedObject(f"o{index + 1}", label, x=road.lane_centre(lane), y=rng.uniform(-80, 200),
                                     vy=speed, length=length))
    ego = ManeuverState(lane=rng.randrange(road.num_lanes), y=0.0, speed=rng.uniform(6, 13))
    target = ManeuverTarget(lane=rng.randrange(road.num_lanes))
    return ego, objects, target


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_maneuver", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--horizon", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), cpus: {os.cpu_count()}, "
          f"pinned to {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} core")
    reasoner = Reasoner.from_file(RULES)
    road = RoadLayout(num_lanes=3, speed_limit=13.9)
    planner = ManeuverPlanner(reasoner, road, predict_facts=predicted_fact_list, horizon=args.horizon, step_s=0.5)
    rng = random.Random(args.seed)
    frames = [random_frame(rng, road, args.objects) for _ in range(args.frames)]
    planner.plan(*frames[0])  # warm up
    by_kind: dict[str, list[float]] = {"no change needed": [], "lane change planned": [], "no plan (safe action)": []}
    cpu_by_kind: dict[str, list[float]] = {kind: [] for kind in by_kind}
    checks = []
    for ego, objects, target in frames:
        began, began_cpu = time.perf_counter(), time.process_time()
        plan = planner.plan(ego, objects, target)
        elapsed = (time.perf_counter() - began) * 1e3
        elapsed_cpu = (time.process_time() - began_cpu) * 1e3
        kind = ("no change needed" if ego.lane == target.lane else
                "lane change planned" if plan.reached else "no plan (safe action)")
        by_kind[kind].append(elapsed)
        cpu_by_kind[kind].append(elapsed_cpu)
        checks.append(plan.num_checks)
    everything = [t for times in by_kind.values() for t in times]
    everything_cpu = [t for times in cpu_by_kind.values() for t in times]
    print(f"\nhorizon {args.horizon} x 0.5 s, {args.objects} tracked objects, {args.frames} frames, traffic.rules")
    print(f"{'frames':<26} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'p50 cpu':>9} {'p99 cpu':>9}")
    for kind, times, cpu in [("all", everything, everything_cpu),
                             *((k, by_kind[k], cpu_by_kind[k]) for k in by_kind)]:
        if times:
            print(f"{kind:<26} {len(times):5d} {statistics.median(times):9.2f} {percentile(times, 99):9.2f} "
                  f"{max(times):9.2f} {statistics.median(cpu):9.2f} {percentile(cpu, 99):9.2f}")
    print(f"reasoner calls per plan: median {statistics.median(checks):.0f}, max {max(checks)}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
