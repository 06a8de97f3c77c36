"""Fuzz experiment files (``configs/drive.yaml``): ``python -m benchmarks fuzz --target configs --cases 2000``.

Each case is one YAML document: ``configs/drive.yaml`` with a few keys set to
hostile values (wrong types, edges of each range, ``.inf``/``.nan``, huge
integers, unknown keys), a random valid ``world`` section, an alias bomb,
recursive aliases, duplicate keys, deep nesting or broken YAML. A case passes
when :func:`bridge.experiment.load_config` either refuses it with one
:class:`~bridge.errors.ConfigError` line that starts with the file's path, or
accepts it and its world then generates a scene and a short episode (a valid
config never crashes the generator). Loading must also stay under
:data:`MEMORY_LIMIT_BYTES` of Python allocations (measured with
:mod:`tracemalloc`).

The peak memory over a run, and the case that reached it::

    python -m benchmarks.fuzzing.configs --cases 400
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import random
import tempfile
import tracemalloc
from pathlib import Path

import yaml

from benchmarks.fuzzing import Case
from bridge.errors import ConfigError
from bridge.experiment import load_config
from perception.world import WorldConfig, generate_episode, generate_scene

MEMORY_LIMIT_BYTES = 200 * 1024 * 1024
_CONFIGS = Path(__file__).resolve().parents[2] / "configs"
KINDS = ("mutated", "world", "alias_bomb", "recursive_alias", "duplicate_key", "deep", "broken")

# values a hostile user may put anywhere
_HOSTILE = (None, True, False, 0, -1, 1, 2 ** 31, 10 ** 30, -10 ** 30, 0.0, -0.0, 1e-300, 1e300, math.inf,
            -math.inf, math.nan, "", "x", "auto", "../../etc/passwd", [], [1], [1, 2], [2, 1], [1, 2, 3],
            {}, {"car": 1.0}, {"bogus": 1}, [[]], "1e3", "0x10")


def base_document() -> dict:
    """``configs/drive.yaml`` as a mapping, its file paths made absolute (cases are written elsewhere)."""
    data = yaml.safe_load((_CONFIGS / "drive.yaml").read_text())
    data["pipeline"]["rules"] = str(_CONFIGS / data["pipeline"]["rules"])
    data["pipeline"]["calibration"] = str(_CONFIGS / data["pipeline"]["calibration"])
    data["world"]["image_size"] = 48  # generation stays fast; a mutation may still change it
    return data


def _world_section(rng: random.Random) -> dict:
    """A random world section, mostly valid: each knob at a random point or an edge of its range."""
    section = {"image_size": rng.choice((32, 40, 48, 64)),
               "metres_per_pixel": rng.choice((0.01, 0.02, 0.05, 0.1, 0.2, 0.8, 2.0, 5.0, rng.uniform(0.01, 5.0))),
               "preset": rng.choice(("easy", "default", "hard"))}
    for item in dataclasses.fields(WorldConfig):
        low_high = item.metadata.get("range")
        if item.name in section or low_high is None or rng.random() < 0.5:
            continue
        low, high = low_high
        if item.metadata.get("ordered"):
            a, b = sorted(rng.choice((low, high, rng.randint(low, high))) for _ in range(2))
            section[item.name] = [a, b]
        else:
            section[item.name] = rng.choice((low, high, rng.uniform(low, high)))
    if rng.random() < 0.15:  # one value just outside its range
        item = rng.choice([f for f in dataclasses.fields(WorldConfig) if "range" in f.metadata
                           and not f.metadata.get("ordered")])
        low, high = item.metadata["range"]
        section[item.name] = rng.choice((low - 1e-6, high + 1e-6))
    return section


def _mutate(rng: random.Random, data: dict) -> str:
    for _ in range(rng.randint(1, 4)):
        section = rng.choice(list(data) + ["bogus_section"])
        if section not in data or not isinstance(data[section], dict) or rng.random() < 0.1:
            data[section] = rng.choice(_HOSTILE)
            continue
        keys = list(data[section]) + ["bogus_key"]
        data[section][rng.choice(keys)] = rng.choice(_HOSTILE)
    return yaml.safe_dump(data, sort_keys=False)


def _alias_bomb(rng: random.Random) -> str:
    width, levels = rng.randint(2, 12), rng.randint(3, 12)
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    if rng.random() < 0.5:  # hidden inside a real section
        lines.append(f"world:\n  lanes: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def _recursive_alias(rng: random.Random) -> str:
    return rng.choice(("world: &w\n  lanes: *w\n", "&w [*w]\n", "a: &x {b: [*x]}\n",
                       "pipeline: &p\n  top_speeds_mps: {car: *p}\n", "&x {<<: *x}\n"))


def _duplicate_key(rng: random.Random) -> str:
    text = (_CONFIGS / "drive.yaml").read_text()
    lines = text.splitlines()
    keyed = [i for i, line in enumerate(lines) if ":" in line and not line.lstrip().startswith("#")]
    index = rng.choice(keyed)
    lines.insert(index + 1, lines[index])  # the same key twice, in the same mapping
    return "\n".join(lines) + "\n"


def _deep(rng: random.Random) -> str:
    depth = rng.choice((30, 49, 51, 200, 5000, 50_000))
    if rng.random() < 0.5:
        return "world: " + "[" * depth + "]" * depth + "\n"
    return "".join("  " * i + f"k{i}:\n" for i in range(min(depth, 3000))) + "  " * min(depth, 3000) + "v\n"


def _broken(rng: random.Random) -> str:
    text = (_CONFIGS / "drive.yaml").read_text()
    choice = rng.randrange(6)
    if choice == 0:
        return text[:rng.randrange(len(text))]
    if choice == 1:
        return "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(rng.randint(1, 200)))
    if choice == 2:
        return "world:\n  seed: 1" + "0" * rng.choice((20, 400, 5000)) + "\n"
    if choice == 3:
        return rng.choice(("- a\n- b\n", "42\n", "'text'\n", "", "---\na: 1\n---\nb: 2\n", "!!python/object:os.system {}\n"))
    if choice == 4:
        return text.replace("pipeline:", "pipeline: !!binary AAAA\nx:", 1)
    return text.replace("  low: 0.1", f"  low: {rng.choice(('.inf', '.nan', '-.inf', '1e400', '0x1p3', '1_000'))}", 1)


def generate(rng: random.Random, index: int) -> Case:
    """Case ``index``: the kinds of :data:`KINDS` in turn, each built from ``rng``."""
    kind = KINDS[index % len(KINDS)]
    if kind == "mutated":
        text = _mutate(rng, base_document())
    elif kind == "world":
        data = base_document()
        data["world"] = _world_section(rng)
        text = yaml.safe_dump(data, sort_keys=False)
    else:
        text = {"alias_bomb": _alias_bomb, "recursive_alias": _recursive_alias, "duplicate_key": _duplicate_key,
                "deep": _deep, "broken": _broken}[kind](rng)
    return Case(f"{kind}#{index}", {"kind": kind, "text": text, "seed": rng.randrange(1000)})


def load_measured(case: Case, folder: Path) -> tuple[object, int]:
    """Write the case as ``folder/experiment.yaml`` and load it: ``(config or ConfigError, peak bytes)``."""
    path = folder / "experiment.yaml"
    path.write_text(case.payload["text"])
    tracemalloc.start()
    try:
        try:
            result = load_config(path)
        except ConfigError as error:
            result = error
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def check(case: Case) -> str | None:
    """None when the config is refused with one line naming its file, or loads and generates."""
    with tempfile.TemporaryDirectory() as folder:
        result, peak = load_measured(case, Path(folder))
        path = str(Path(folder) / "experiment.yaml")
        if peak > MEMORY_LIMIT_BYTES:
            return f"loading took {peak / 2 ** 20:.0f} MB (limit {MEMORY_LIMIT_BYTES / 2 ** 20:.0f} MB)"
        if isinstance(result, ConfigError):
            message = str(result)
            if "\n" in message or not message.startswith(path):
                return f"config error without one line naming the file: {message[:200]!r}"
            return None
    world = result.world
    seed = case.payload["seed"]
    scene = generate_scene(world, seed=seed)
    if scene.image.shape != (world.image_size, world.image_size, 3):
        return f"generated an image of shape {scene.image.shape} for image_size {world.image_size}"
    generate_episode(world, seed=seed, num_frames=2)
    return None


def measure_peak_memory(cases: int, seed: int = 0) -> tuple[int, str]:
    """The largest peak of Python allocations while loading ``cases`` seeded cases, and that case's label.

    Example:
        >>> peak, label = measure_peak_memory(3)
        >>> peak < MEMORY_LIMIT_BYTES
        True
    """
    rng = random.Random(seed)
    worst = (0, "")
    with tempfile.TemporaryDirectory() as folder:
        for index in range(cases):
            case = generate(rng, index)
            _, peak = load_measured(case, Path(folder))
            worst = max(worst, (peak, case.label))
    return worst


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzzing.configs",
                                     description="Peak memory of loading fuzzed experiment files.")
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    peak_bytes, worst_label = measure_peak_memory(options.cases, options.seed)
    print(f"{options.cases} configs: peak Python allocations while loading {peak_bytes / 2 ** 20:.2f} MB "
          f"(case {worst_label}); limit {MEMORY_LIMIT_BYTES / 2 ** 20:.0f} MB")
