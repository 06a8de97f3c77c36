"""Run every benchmark (``make bench``) or the named ones: ``python -m benchmarks generate``.

Each ``benchmarks/bench_<name>.py`` exposes ``main(argv=None)`` and prints its
table (medians over several runs). Run with nothing else busy on the machine.
"""
import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    folder = Path(__file__).parent
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(folder)]) if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[0] in available() and argv[1].startswith("-"):
        # one benchmark with its own options: python -m benchmarks fuzz --target rules
        print(f"\n== benchmark: {argv[0]} ==", flush=True)
        return int(importlib.import_module(f"benchmarks.bench_{argv[0]}").main(argv[1:]) or 0)
    names = argv or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    for name in names:
        print(f"\n== benchmark: {name} ==", flush=True)
        importlib.import_module(f"benchmarks.bench_{name}").main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
