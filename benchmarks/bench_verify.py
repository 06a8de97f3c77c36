"""Time to verify a rule file (``nesy rules check``) over K symbolic objects, and its scaling with rule count.

    python -m benchmarks verify              # full run
    python -m benchmarks.bench_verify --quick

Table 1: configs/rules/traffic.rules checked at K = 1, 2, 3, 4 (every check).
Table 2: generated rule files of 10, 50 and 200 rules over the driving
vocabulary (seeded; hard rules all allow ``stop``, about one in five rules is
soft) checked at K = 2. Each cell is the median of several runs, in one
process pinned to one core where the OS allows it.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

from symbolic.language.loader import load_rules, parse_rules
from symbolic.verify.checker import check_rules

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "configs" / "rules"
TRAFFIC = RULES / "traffic.rules"

CLASSES = ("car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign")
RELATIONS = ("ahead", "behind", "same_lane", "in_left_lane", "in_right_lane", "in_crosswalk",
             "on_sidewalk", "on_road", "approaching", "applies_to_ego")
HARD_HEADS = ("stop", "stop or yield", "not go", "stop or yield or slow", "not change_left", "not change_right")
SOFT_HEADS = ("go", "slow", "not go", "change_left")


def generated_rules(num_rules: int, seed: int = 0) -> str:
    """Rule text of ``num_rules`` random rules over the driving vocabulary (includes vocabulary.rules).

    Example:
        >>> text = generated_rules(3)
        >>> text.count("\\nrule ")
        3
    """
    rng = random.Random(seed)
    lines = ['include "vocabulary.rules"', "prefer go weight 10", "prefer slow weight 7", "prefer yield weight 3",
             "prefer change_left weight 2", "prefer change_right weight 1"]
    for index in range(num_rules):
        label = rng.choice(CLASSES)
        parts = [f"{r}(o)" for r in rng.sample(RELATIONS, rng.randint(1, 3))]
        parts.append(f"dist(o) < {rng.choice((10, 20, 30, 40, 60))}")
        if rng.random() < 0.3:
            parts.append(f"gap(o) < {rng.choice((1, 2, 3))} * ego_speed")
        if rng.random() < 0.2:
            parts.append(rng.choice(("not ego_stopped", "left_lane_exists", "ego_speed > speed_limit")))
        condition = " and ".join(parts)
        if rng.random() < 0.2:
            weight = rng.choice((2, 3, 5, 8, 13))
            lines.append(f"rule g{index} [weight {weight}]: exists o in {label}: {condition} => "
                         f"{rng.choice(SOFT_HEADS)}")
        else:
            lines.append(f"rule g{index}: exists o in {label}: {condition} => {rng.choice(HARD_HEADS)}")
    return "\n".join(lines) + "\n"


def time_check(ruleset, num_objects: int, repeats: int) -> tuple[float, object]:
    """Median seconds of a full check, and the last report."""
    times, report = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        report = check_rules(ruleset, num_objects)
        times.append(time.perf_counter() - start)
    return statistics.median(times), report


def _counts(report) -> str:
    return f"{len(report.errors)}/{len(report.warnings)}/{len(report.notes)}"


def traffic_table(objects, repeats: int) -> list[str]:
    ruleset = load_rules(TRAFFIC)
    rows = [f"{'K':>3} {'median s':>9} {'errors/warnings/notes':>22}"]
    for num_objects in objects:
        seconds, report = time_check(ruleset, num_objects, repeats)
        rows.append(f"{num_objects:>3} {seconds:>9.3f} {_counts(report):>22}")
    return rows


def scaling_table(sizes, num_objects: int, repeats: int, seed: int) -> list[str]:
    rows = [f"{'rules':>6} {'median s':>9} {'errors/warnings/notes':>22}"]
    for size in sizes:
        ruleset = parse_rules(generated_rules(size, seed), f"generated_{size}.rules", search_path=[RULES])
        seconds, report = time_check(ruleset, num_objects, repeats)
        rows.append(f"{size:>6} {seconds:>9.3f} {_counts(report):>22}")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_verify", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and sizes (a smoke test)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per cell (median reported)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    repeats = 1 if args.quick else args.repeats
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"verification benchmark: one core, {repeats} run(s) per cell, load average {load:.2f} at start")
    print("\n-- nesy rules check configs/rules/traffic.rules --")
    print("\n".join(traffic_table((1, 2) if args.quick else (1, 2, 3, 4), repeats)))
    print("\n-- generated rule files, K = 2 --")
    print("\n".join(scaling_table((10, 50) if args.quick else (10, 50, 200), 2, repeats, args.seed)))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average {load:.2f} at end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
