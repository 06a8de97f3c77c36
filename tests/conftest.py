"""Fixtures shared by the tests of every package.

Imports of the packages under test happen inside the fixtures, so collecting a test module
never imports more than that module asks for.
"""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "configs" / "rules"
TRAFFIC_RULES = RULES / "traffic.rules"

# A cold z3 on a busy machine can take longer than the reasoner's default 20 ms budget; a test that
# means to test decisions (not the fallback) gives it a budget it never runs out of.
GENEROUS_MS = 10_000


@pytest.fixture(scope="session")
def rules_dir() -> Path:
    """The shipped rule files: ``configs/rules``."""
    return RULES


@pytest.fixture(scope="session")
def make_reasoner():
    """``make_reasoner(path, **options)``: a :class:`Reasoner` for a rule file, with a generous time
    budget unless ``time_budget_ms`` is given."""
    from symbolic.reasoning.reasoner import Reasoner

    def make(path, **options):
        options.setdefault("time_budget_ms", GENEROUS_MS)
        return Reasoner.from_file(path, **options)

    return make


@pytest.fixture(scope="session")
def traffic_reasoner(make_reasoner):
    """The robust reasoner on ``configs/rules/traffic.rules`` (the pipeline's default rules), with a
    time budget a busy machine does not run out of. Shared by many tests: do not change it."""
    return make_reasoner(TRAFFIC_RULES, robust=True)


@pytest.fixture(scope="session")
def oracle_stream(traffic_reasoner):
    """``oracle_stream(preset, seed, num_frames)``: the oracle pipeline's results streamed over one
    generated episode, decided by ``traffic_reasoner``; computed once per argument set. Do not change them."""
    cache = {}

    def stream(preset: str = "default", seed: int = 0, num_frames: int = 4):
        if (preset, seed, num_frames) not in cache:
            from perception.world import generate_episode, preset_config
            from bridge.pipeline import Pipeline

            frames = generate_episode(preset_config(preset), seed=seed, num_frames=num_frames)
            cache[preset, seed, num_frames] = list(Pipeline(reasoner=traffic_reasoner, oracle=True).stream(frames))
        return cache[preset, seed, num_frames]

    return stream
