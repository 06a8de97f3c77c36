"""The reasoner's time budget against adversarial frames: worst and median latency per case and budget.

    python -m benchmarks deadline                 # small sizes (about a minute)
    python -m benchmarks deadline --full          # the full set (a few minutes)
    python -m benchmarks deadline --cases nested --budgets 50 --repeats 3

Each case is built in code:

- ``many_objects``: traffic.rules over a random scene of 20,000 objects (10% of the facts uncertain);
- ``three_variables``: one rule quantified over three cars (``near(a, b) and near(b, c) and
  near(a, c)``) over 500 cars on a road, each near about ten others;
- ``nested``: a rule nesting four quantifiers (``exists a: forall b: exists c: forall d``) over 100 cars,
  all near each other, whether each is approaching uncertain (nothing cuts a quantifier short);
- ``repair``: ``many_objects`` with repair on and contradicting light colours to repair;
- ``why_nots``: 5,000 pedestrians in the crosswalk, so every action but stop breaks 5,000 rule
  instances and each why-not traces them all;
- ``conflict``: 20,000 objects with a red light ahead and an emergency vehicle behind, so no action
  is left and the conflicting rules are looked for (an unsat core).

Every frame is decided with all why-nots against each budget. The table gives the median and worst
wall-clock latency, the worst overrun past the budget, the worst CPU time of this process during a
call (on a machine busier than its cores, wall time also holds the waits for a core), how many
answers were the safe fallback (``status`` timeout or fallback), and how many had their explanation
cut short. A call still running after ``--kill-after`` seconds is stopped and reported as killed.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import random
import signal
import statistics
import time
from pathlib import Path

from benchmarks.bench_reasoner import random_frame
from symbolic.language.loader import load_rules, parse_rules
from symbolic.reasoning.facts import Fact
from symbolic.reasoning.reasoner import Reasoner

ROOT = Path(__file__).resolve().parents[1]
TRAFFIC = ROOT / "configs" / "rules" / "traffic.rules"

#: case -> (small size, full size): objects, cars or pedestrians.
SIZES = {"many_objects": (2_000, 20_000), "three_variables": (150, 500), "nested": (30, 100),
         "repair": (2_000, 20_000), "why_nots": (1_000, 5_000), "conflict": (2_000, 20_000)}

CARS = """
pred car(o)
pred near(o, o)
pred approaching(o)
actions stop, slow, go
safe stop
prefer go weight 2
prefer slow weight 1
"""
THREE_VARIABLES = CARS + "rule pileup: exists a in car, b in car, c in car: near(a, b) and near(b, c) and near(a, c) => slow\n"
NESTED = CARS + ("rule boxed_in: exists a in car: (forall b in car: (near(a, b) => exists c in car: "
                 "(near(b, c) and forall d in car: (near(c, d) => approaching(d))))) => stop\n")
CONFLICT = """
sort Color = {red, green}
pred traffic_light(o)
pred light(o, Color)
pred emergency_vehicle(o)
pred ahead(o)
pred behind(o)
constraint one_class: forall o: not (traffic_light(o) and emergency_vehicle(o))
actions stop, pull_over, go
safe stop
rule red_light: exists o in traffic_light: light(o, red) and ahead(o) => stop
rule make_way: exists e in emergency_vehicle: behind(e) => pull_over
prefer go weight 10
prefer pull_over weight 2
"""


@dataclasses.dataclass
class Case:
    """One adversarial frame: the rules, the facts, and how the reasoner is set up."""

    name: str
    ruleset: object
    facts: list
    repair: bool = False
    description: str = ""


def cars_on_a_road(num_cars: int, rng: random.Random, near_metres: float, uncertain: float = 0.1,
                   approaching_uncertain: float = 0.1, approaching: float = 0.9) -> list[Fact]:
    """``num_cars`` cars at random positions on a road five metres per car long; ``near`` for each
    ordered pair closer than ``near_metres`` (a share ``uncertain`` of them uncertain) and
    ``approaching`` for a share ``approaching`` of them (a share ``approaching_uncertain`` of those uncertain)."""
    positions = sorted(rng.uniform(0, 5 * num_cars) for _ in range(num_cars))
    facts = [Fact("car", (f"c{i}",)) for i in range(num_cars)]
    for i, here in enumerate(positions):
        for j in range(i + 1, num_cars):
            if positions[j] - here >= near_metres:
                break
            confidence = round(rng.uniform(0.3, 0.7), 2) if rng.random() < uncertain else 1.0
            facts += [Fact("near", (f"c{i}", f"c{j}"), confidence), Fact("near", (f"c{j}", f"c{i}"), confidence)]
        if rng.random() < approaching:
            confidence = round(rng.uniform(0.3, 0.7), 2) if rng.random() < approaching_uncertain else 1.0
            facts.append(Fact("approaching", (f"c{i}",), confidence))
    return facts


def build_case(name: str, size: int, seed: int = 0) -> Case:
    """The adversarial case ``name`` (one of :data:`SIZES`) at ``size`` objects."""
    rng = random.Random(seed)
    if name == "many_objects":
        return Case(name, load_rules(TRAFFIC), random_frame(size, rng, uncertain=0.1),
                    description=f"traffic.rules, {size} objects")
    if name == "repair":
        facts = random_frame(size, rng, uncertain=0.1)
        lights = [f for f in facts if f.predicate == "light"]
        for fact in lights[::5]:  # a second, less likely colour to repair away
            other = "green" if fact.args[1] != "green" else "red"
            facts.append(Fact("light", (fact.args[0], other), 0.6))
        return Case(name, load_rules(TRAFFIC), facts, repair=True, description=f"traffic.rules + repair, {size} objects")
    if name == "three_variables":
        return Case(name, parse_rules(THREE_VARIABLES), cars_on_a_road(size, rng, near_metres=50.0),
                    description=f"3-variable rule, {size} cars")
    if name == "nested":
        return Case(name, parse_rules(NESTED), cars_on_a_road(size, rng, near_metres=5.0 * size, uncertain=0.0,
                                                             approaching_uncertain=1.0, approaching=1.0),
                    description=f"4 nested quantifiers, {size} cars")
    if name == "why_nots":
        facts = [Fact("ego_speed", (), value=10.0), Fact("speed_limit", (), value=13.9),
                 Fact("stopping_distance", (), value=22.5)]
        for i in range(size):
            p = f"p{i}"
            facts += [Fact("pedestrian", (p,)), Fact("in_crosswalk", (p,)), Fact("ahead", (p,)),
                      Fact("dist", (p,), value=rng.uniform(5, 35)), Fact("gap", (p,), value=rng.uniform(5, 35))]
        return Case(name, load_rules(TRAFFIC), facts, description=f"traffic.rules, {size} pedestrians crossing")
    if name == "conflict":
        facts = [Fact("traffic_light", ("l0",)), Fact("light", ("l0", "red")), Fact("ahead", ("l0",)),
                 Fact("emergency_vehicle", ("e0",)), Fact("behind", ("e0",))]
        for i in range(1, size // 2):
            facts += [Fact("traffic_light", (f"l{i}",)), Fact("light", (f"l{i}", "green"), 0.5),
                      Fact("ahead", (f"l{i}",)), Fact("emergency_vehicle", (f"e{i}",), 0.5), Fact("ahead", (f"e{i}",))]
        return Case(name, parse_rules(CONFLICT), facts, description=f"no action left, {size} objects")
    raise ValueError(f"unknown case {name!r}; expected one of {', '.join(SIZES)}")


class Killed(Exception):
    """A call ran past ``--kill-after``."""


def _alarm(signum, frame):
    raise Killed()


def time_case(case: Case, budget_ms: float, repeats: int, kill_after_s: float, warm_up: int = 1) -> dict:
    """Decide ``case`` ``repeats`` times under ``budget_ms`` (``warm_up`` untimed calls first, as a running
    pipeline is warm); the latencies (wall and this process's CPU) and what came back."""
    reasoner = Reasoner(case.ruleset, time_budget_ms=budget_ms, repair=case.repair)
    times, cpu, fallbacks, cut, statuses, killed = [], [], 0, 0, set(), False
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for index in range(repeats + warm_up):
            signal.setitimer(signal.ITIMER_REAL, kill_after_s)
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                decision = reasoner.decide(case.facts, explain=True)
            except Killed:
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
                killed = True
                break
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = (time.perf_counter() - start) * 1000
            if index < warm_up:
                continue
            times.append(elapsed)
            cpu.append((time.process_time() - start_cpu) * 1000)
            fallbacks += decision.fallback
            cut += bool(getattr(decision, "cut_short", ""))
            statuses.add(decision.status)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return {"times": times, "cpu": cpu, "fallbacks": fallbacks, "cut": cut, "statuses": statuses, "killed": killed}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full sizes (20,000 objects, 500 cars, ...)")
    parser.add_argument("--cases", nargs="+", choices=list(SIZES), default=list(SIZES), metavar="CASE",
                        help=f"which cases (default all: {', '.join(SIZES)})")
    parser.add_argument("--budgets", type=float, nargs="+", default=[20.0, 50.0, 200.0], metavar="MS",
                        help="time budgets in milliseconds (default 20 50 200)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per case and budget (default 3, full 5)")
    parser.add_argument("--kill-after", type=float, default=60.0, metavar="S",
                        help="stop a call still running after S seconds and report it killed (default 60)")
    parser.add_argument("--warm-up", type=int, default=1, metavar="N", help="untimed calls before timing (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    repeats = args.repeats or (5 if args.full else 3)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"deadline benchmark: {'full' if args.full else 'small'} sizes, {repeats} timed calls each, "
          f"load average {load:.2f} at start")
    header = (f"{'case':<16} {'size':>6} {'budget':>7} {'median ms':>10} {'worst ms':>9} {'over by':>8} "
              f"{'worst cpu':>9} {'fallback':>9} {'cut short':>10}  status")
    print(header)
    worst_over = 0.0
    for name in args.cases:
        size = SIZES[name][1 if args.full else 0]
        case = build_case(name, size, args.seed)
        for budget in args.budgets:
            found = time_case(case, budget, repeats, args.kill_after, args.warm_up)
            times = found["times"]
            worst = max(times)
            over = worst - budget
            worst_over = max(worst_over, over)
            runs = len(times)
            status = "killed" if found["killed"] else ",".join(sorted(found["statuses"]))
            print(f"{name:<16} {size:>6} {budget:>7g} {statistics.median(times):>10.1f} {worst:>9.1f} "
                  f"{over:>+8.1f} {max(found['cpu']):>9.1f} {found['fallbacks']:>4}/{runs:<4} {found['cut']:>5}/{runs:<4}"
                  f"  {status}", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"worst overrun past the budget: {worst_over:+.1f} ms; load average {load:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
