"""Scenes generated per second at 256x256, with 1 and 2 worker processes, per preset.

Two figures per row: ``render`` makes scenes in memory (world, drawing, sensor
effects, annotations); ``write`` is what ``nesy generate`` does (plus PNG
files, annotations.json and world.jsonl on disk). Each cell is the median of
``--repeats`` runs; every configuration runs in the same process, side by side.
With one worker the table also shows the CPU milliseconds per rendered scene,
which a busy machine distorts less than wall-clock rates.

    python -m benchmarks generate
    python -m benchmarks.bench_generate --num-scenes 400 --repeats 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def measure(config, num_scenes: int, workers: int, write: bool, repeats: int) -> tuple[float, float]:
    """Median scenes per second and median CPU milliseconds per scene (this process) over ``repeats`` runs."""
    from perception.world.writer import generate_dataset

    rates, cpu_ms = [], []
    for repeat in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            start, cpu_start = time.perf_counter(), time.process_time()
            generate_dataset(config, folder if write else None, num_scenes=num_scenes, seed=repeat, workers=workers)
            rates.append(num_scenes / (time.perf_counter() - start))
            cpu_ms.append(1000 * (time.process_time() - cpu_start) / num_scenes)
    return statistics.median(rates), statistics.median(cpu_ms)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-scenes", type=int, default=256, help="scenes per run (default: 256)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell; the median is shown (default: 3)")
    parser.add_argument("--image-size", type=int, default=256, help="image width and height (default: 256)")
    parser.add_argument("--presets", nargs="+", default=["easy", "default", "hard"], help="presets to measure")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default: 1 2)")
    args = parser.parse_args(argv)

    from perception.world import WorldConfig

    print(f"scenes/s at {args.image_size}x{args.image_size}, {args.num_scenes} scenes per run, "
          f"median of {args.repeats}; {os.cpu_count()} CPUs, load average before: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'preset':<8} {'workers':>7} {'render':>10} {'write':>10} {'render CPU ms/scene':>20}")
    for preset in args.presets:
        config = WorldConfig(image_size=args.image_size, preset=preset)
        for workers in args.workers:
            render, cpu_ms = measure(config, args.num_scenes, workers, write=False, repeats=args.repeats)
            write, _ = measure(config, args.num_scenes, workers, write=True, repeats=args.repeats)
            cpu = f"{cpu_ms:.2f}" if workers == 1 else "-"
            print(f"{preset:<8} {workers:>7} {render:>10.0f} {write:>10.0f} {cpu:>20}", flush=True)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
