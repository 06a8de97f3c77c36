"""Decision latency of the reasoner on traffic.rules, against a fresh solver per frame, and its scaling.

    python -m benchmarks reasoner            # full run (a few minutes)
    python -m benchmarks.bench_reasoner --quick

Frames are random driving scenes (seeded) with every fact certain, plus a
robust-mode row where 10% of the predicate facts are uncertain, and the same
frames again with every position (``dist``, ``gap``) known within a tolerance
(``± 0.3 m`` as the grounding sets it, and ``± 2 m``), which robust mode
must respect for every value in it. The naive
baseline builds a fresh z3 Optimize per frame: every atom and value of the
frame as z3 terms (quantifiers over a class run over that class's objects),
every rule instance asserted, soft rules and preferences as soft constraints;
its choices are compared with the reasoner's.
The process is pinned to one core where the OS allows it.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import z3

from symbolic.compiler.compiler import compile_rules, exactly_one
from symbolic.compiler.worlds import SymbolicWorld
from symbolic.language.loader import load_rules
from symbolic.reasoning.facts import Fact
from symbolic.reasoning.reasoner import Reasoner

ROOT = Path(__file__).resolve().parents[1]
TRAFFIC = ROOT / "configs" / "rules" / "traffic.rules"
LABELS = ("car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign")
LABEL_WEIGHTS = (0.35, 0.1, 0.25, 0.1, 0.1, 0.1)


def random_frame(num_objects: int, rng: random.Random, uncertain: float = 0.0) -> list[Fact]:
    """A random driving scene: ego facts plus ``num_objects`` objects."""
    def confidence():
        return round(rng.uniform(0.3, 0.7), 2) if rng.random() < uncertain else 1.0

    ego_speed = rng.uniform(6, 16)
    facts = [Fact("ego_speed", (), value=ego_speed), Fact("speed_limit", (), value=13.9),
             Fact("stopping_distance", (), value=ego_speed ** 2 / 8 + ego_speed)]
    for name, p in (("left_lane_exists", 0.6), ("right_lane_exists", 0.6), ("stopped_at_sign", 0.1)):
        if rng.random() < p:
            facts.append(Fact(name, (), confidence()))
    for i in range(num_objects):
        o = f"o{i}"
        label = rng.choices(LABELS, LABEL_WEIGHTS)[0]
        facts.append(Fact(label, (o,)))
        dist = rng.uniform(2, 120)
        ahead = rng.random() < 0.7
        gap = dist if ahead else -dist
        facts += [Fact("ahead" if ahead else "behind", (o,)), Fact("dist", (o,), value=dist),
                  Fact("gap", (o,), value=gap)]
        if label in ("traffic_light", "stop_sign"):
            if rng.random() < 0.3:
                facts.append(Fact("applies_to_ego", (o,), confidence()))
            if label == "traffic_light":
                facts.append(Fact("light", (o, rng.choice(("red", "yellow", "green"))), confidence()))
            continue
        lane = rng.choices(("same_lane", "in_left_lane", "in_right_lane", None), (0.2, 0.2, 0.2, 0.4))[0]
        if lane:
            facts.append(Fact(lane, (o,), confidence()))
        speed = rng.uniform(0, 2) if label == "pedestrian" else rng.uniform(0, 18)
        facts += [Fact("speed", (o,), value=speed),
                  Fact("ttc", (o,), value=rng.uniform(0.5, 100) if rng.random() < 0.2 else 100.0)]
        if rng.random() < 0.3:
            facts.append(Fact("approaching", (o,), confidence()))
        if label == "pedestrian":
            facts.append(Fact(rng.choices(("on_sidewalk", "in_crosswalk", "on_road"), (0.7, 0.15, 0.15))[0],
                              (o,), confidence()))
        else:
            facts.append(Fact("on_road", (o,)))
    return facts


def with_tolerance(frame: list[Fact], tolerance: float, functions=("dist", "gap")) -> list[Fact]:
    """``frame`` with each value of ``functions`` known within ``tolerance`` (the same values)."""
    return [dataclasses.replace(f, tolerance=tolerance) if f.predicate in functions and f.is_function else f
            for f in frame]


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def time_calls(function, frames, repeats=1, cpu=None):
    """Wall-clock milliseconds per call; with a list ``cpu``, also this process's CPU milliseconds
    (on a shared machine CPU time shows the cost without the waits for a core)."""
    times = []
    for _ in range(repeats):
        for frame in frames:
            start, start_cpu = time.perf_counter(), time.process_time()
            function(frame)
            times.append((time.perf_counter() - start) * 1000)
            if cpu is not None:
                cpu.append((time.process_time() - start_cpu) * 1000)
    return times


class FreshSolverBaseline:
    """The naive way: a new z3 Optimize per frame with the whole frame and all rules as z3 terms."""

    def __init__(self, ruleset):
        self.ruleset = ruleset
        self.compiled = compile_rules(ruleset)

    def decide(self, facts) -> str:
        rules = self.ruleset
        objects = sorted({a for f in facts for a, s in zip(f.args, self._signature(f)) if s == "object"})
        world = SymbolicWorld(rules, 0)
        world.objects = objects
        # like any sensible implementation, quantifiers over a class run over the objects of that class
        classes = {(f.predicate, f.args[0]) for f in facts if len(f.args) == 1 and f.confidence >= 0.5}
        world._members = {label: [(o, True) for o in objects if (label, o) in classes]
                          for label in rules.class_predicates()}
        optimizer = z3.Optimize()
        actions = world.actions
        optimizer.add(exactly_one(actions.values()))
        for _, value in self.compiled.holds(world, "hard"):
            optimizer.add(value)
        for instance, value in self.compiled.holds(world, "soft"):
            optimizer.add_soft(value, str(instance.rule.weight))
        for position, action in enumerate(rules.actions):  # preferences, and ties to the first action
            weight = rules.preferences.get(action, 0.0) + 1e-3 * (len(rules.actions) - position)
            optimizer.add_soft(actions[action], f"{weight - min(0.0, min(rules.preferences.values(), default=0)):.4f}")
        known = {(f.predicate, f.args): f for f in facts}
        for key, variable in list(world.truth.items()):
            fact = known.get(key)
            optimizer.add(variable == (fact is not None and fact.confidence >= 0.5))
        for key, variable in list(world.values.items()):
            fact = known.get(key)
            if fact is not None:
                optimizer.add(variable == fact.value)
        optimizer.add(*world.side_conditions)
        if optimizer.check() != z3.sat:
            return rules.safe_action
        model = optimizer.model()
        return next(a for a in rules.actions if z3.is_true(model.eval(actions[a], model_completion=True)))

    def _signature(self, fact):
        if fact.value is None:
            return self.ruleset.predicates.get(fact.predicate, ())
        return self.ruleset.functions.get(fact.predicate, ((),))[0]


TEMPLATES = (
    "rule r{i}: exists o in traffic_light: light(o, red) and governs_ego(o) and dist(o) < {a} => stop",
    "rule r{i}: exists p in pedestrian: in_crosswalk(p) and ahead(p) and dist(p) < {a} => stop",
    "rule r{i}: exists v: vehicle(v) and in_path(v) and gap(v) < {a} => not go",
    "rule r{i}: exists o: in_left_lane(o) and gap(o) > -{b} and gap(o) < {a} => not change_left",
    "rule r{i}: exists o: in_right_lane(o) and gap(o) > -{b} and gap(o) < {a} => not change_right",
    "rule r{i}: exists c in cyclist: in_path(c) and gap(c) < {a} => stop or yield or slow",
    "rule r{i}: exists o: in_path(o) and ttc(o) < {t} => stop",
    "rule r{i}: ego_speed > speed_limit + {t} => not go",
    "rule r{i} [weight 2]: exists o: (pedestrian(o) or cyclist(o)) and ahead(o) and dist(o) < {a} => not go",
    "rule r{i} [weight 1]: exists s in stop_sign: governs_ego(s) and dist(s) < {a} => slow",
)


def generated_rules(num_rules: int, folder: Path, seed: int = 0) -> Path:
    """A traffic-like rule file with ``num_rules`` rules (thresholds varied), including the vocabulary."""
    rng = random.Random(seed)
    lines = ['include "vocabulary.rules"',
             "define vehicle(o) := car(o) or truck(o)",
             "define governs_ego(o) := applies_to_ego(o) and ahead(o)",
             "define in_path(o) := same_lane(o) and ahead(o)",
             "prefer go weight 10", "prefer slow weight 7", "prefer yield weight 3", "prefer change_left weight 2"]
    for i in range(num_rules):
        template = TEMPLATES[i % len(TEMPLATES)]
        lines.append(template.format(i=i, a=rng.randint(5, 60), b=rng.randint(5, 30), t=round(rng.uniform(0.5, 4), 1)))
    path = folder / f"generated_{num_rules}.rules"
    path.write_text("\n".join(lines) + "\n")
    return path


def latency_table(num_frames: int, sizes, seed: int) -> list[str]:
    reasoner = Reasoner.from_file(TRAFFIC, time_budget_ms=10_000)
    rows = [f"{'objects':>8} {'mode':<28} {'p50 ms':>8} {'p99 ms':>8} {'cpu p50':>8} {'cpu p99':>8} {'frames':>7}"]
    for num_objects in sizes:
        rng = random.Random(seed + num_objects)
        frames = [random_frame(num_objects, rng) for _ in range(num_frames)]
        uncertain = [random_frame(num_objects, rng, uncertain=0.1) for _ in range(num_frames)]
        for frame in frames[:3]:
            reasoner.decide(frame)
        decide = lambda f: reasoner.decide(f, explain=True)  # noqa: E731
        for label, function, data in (
                ("decide + chosen explanation", lambda f: reasoner.decide(f, explain=False), frames),
                ("decide + all why-nots", decide, frames),
                ("  positions ± 0.3 m", decide, [with_tolerance(f, 0.3) for f in frames]),
                ("  positions ± 2 m", decide, [with_tolerance(f, 2.0) for f in frames]),
                ("robust, 10% facts uncertain", decide, uncertain),
                ("  positions ± 0.3 m", decide, [with_tolerance(f, 0.3) for f in uncertain]),
                ("  positions ± 2 m", decide, [with_tolerance(f, 2.0) for f in uncertain])):
            cpu = []
            times = time_calls(function, data, cpu=cpu)
            rows.append(f"{num_objects:>8} {label:<28} {percentile(times, 50):>8.2f} {percentile(times, 99):>8.2f} "
                        f"{percentile(cpu, 50):>8.2f} {percentile(cpu, 99):>8.2f} {len(times):>7}")
    return rows


def speedup_table(num_frames: int, sizes, seed: int) -> list[str]:
    ruleset = load_rules(TRAFFIC)
    reasoner = Reasoner(ruleset, robust=False, time_budget_ms=10_000)
    baseline = FreshSolverBaseline(ruleset)
    rows = [f"{'objects':>8} {'fresh solver p50':>17} {'reasoner p50':>13} {'speed-up':>9} {'same action':>12}"]
    for num_objects in sizes:
        rng = random.Random(seed + 7 * num_objects)
        frames = [random_frame(num_objects, rng) for _ in range(num_frames)]
        naive, fast, agree = [], [], 0
        for frame in frames:  # side by side, frame by frame
            start = time.perf_counter()
            naive_action = baseline.decide(frame)
            naive.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            action = reasoner.decide(frame, explain=False).action
            fast.append((time.perf_counter() - start) * 1000)
            agree += naive_action == action
        p50_naive, p50_fast = statistics.median(naive), statistics.median(fast)
        rows.append(f"{num_objects:>8} {p50_naive:>14.2f} ms {p50_fast:>10.2f} ms {p50_naive / p50_fast:>8.1f}x "
                    f"{agree:>6}/{len(frames)}")
    return rows


def scaling_table(num_frames: int, sizes, rule_counts, seed: int) -> list[str]:
    rows = [f"{'objects':>8} " + " ".join(f"{f'{n} rules p50 ms':>16}" for n in rule_counts)]
    with tempfile.TemporaryDirectory() as folder:
        reasoners = {n: Reasoner.from_file(generated_rules(n, Path(folder), seed), time_budget_ms=60_000,
                                           search_path=[TRAFFIC.parent]) for n in rule_counts}
        for num_objects in sizes:
            rng = random.Random(seed + 13 * num_objects)
            count = max(5, num_frames // max(1, num_objects // 20))
            frames = [random_frame(num_objects, rng) for _ in range(count)]
            cells = []
            for n in rule_counts:
                times = time_calls(lambda f: reasoners[n].decide(f, explain=False), frames)
                cells.append(f"{statistics.median(times):>16.2f}")
            rows.append(f"{num_objects:>8} " + " ".join(cells))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames (a rough figure in seconds)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    frames = 40 if args.quick else 300
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"reasoner benchmark: traffic.rules, one core, load average {load:.2f} at start")
    print("\n-- decision latency (traffic.rules) --")
    print("\n".join(latency_table(frames, (5, 20, 100), args.seed)))
    print("\n-- incremental reasoner vs a fresh z3 solver per frame (likely reading, no why-nots) --")
    print("\n".join(speedup_table(10 if args.quick else 30, (5, 20, 100), args.seed)))
    print("\n-- scaling: median decide() ms, generated rule files --")
    print("\n".join(scaling_table(20 if args.quick else 60, (5, 20, 100, 500), (10, 50, 200), args.seed)))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average {load:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
