"""Fuzz every input the project reads and print cases, failures and the slowest case per target.

``python -m benchmarks fuzz --target rules --cases 100000`` runs one target;
without ``--target`` every target runs ``--cases`` cases (default 200).
"""
from __future__ import annotations

import argparse
import statistics
import sys

from benchmarks import fuzzing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks fuzz", description=__doc__)
    parser.add_argument("--target", action="append", choices=fuzzing.targets(),
                        help="a target to fuzz (repeatable; default: all)")
    parser.add_argument("--cases", type=int, default=200, help="cases per target (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the case generator (default 0)")
    parser.add_argument("--show", type=int, default=10, help="failures to list per target (default 10)")
    args = parser.parse_args(argv)
    names = args.target or fuzzing.targets()
    rows = []
    for name in names:
        step = max(1, args.cases // 20)

        def progress(done: int, name=name) -> None:
            if done % step == 0 or done == args.cases:
                print(f"\r{name}: {done}/{args.cases}", end="", file=sys.stderr, flush=True)

        result = fuzzing.run(name, args.cases, args.seed, progress=progress)
        print(file=sys.stderr)
        rows.append(result)
        for line in fuzzing.iter_lines(result, args.show):
            print(line)
    print(f"\n{'target':<12} {'cases':>8} {'failures':>9} {'median ms':>10} {'slowest s':>10}")
    for result in rows:
        median_ms = statistics.median(result.seconds) * 1000 if result.seconds else 0.0
        print(f"{result.target:<12} {result.cases:>8} {len(result.failures):>9} {median_ms:>10.2f} {result.slowest:>10.2f}")
    return 1 if any(result.failures for result in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
