"""The pipeline's output on a recorded sample stays what it was.

``recorded/scenes.jsonl`` holds, for 12 default and 12 hard single
scenes, the facts, the action and the decision (fired rules, why-nots; no
timings) the shipped pipeline gave before the layout was reorganised into
swappable stages. A refactoring that changes a fact, a tolerance, a why-not
or an action fails here, naming the scene and the first field that differs.
Single scenes are used because they do not depend on how episodes move;
the score calibration is off and `low` is 0.25, as when the sample was recorded.
"""
import json
from pathlib import Path

import pytest

from perception.world import generate_scene, preset_config

from bridge.pipeline import Pipeline

RECORDED = Path(__file__).parent / "recorded" / "scenes.jsonl"


def record(result, preset: str, seed: int) -> dict:
    data = result.to_json()
    decision = {k: v for k, v in data["decision"].items() if "ms" not in k and "time" not in k}
    return json.loads(json.dumps({"preset": preset, "seed": seed, "action": data["action"], "facts": data["facts"],
                                  "decision": decision}, sort_keys=True))


@pytest.fixture(scope="module")
def recorded():
    return [json.loads(line) for line in RECORDED.read_text().splitlines()]


def test_the_pipeline_reproduces_the_recorded_sample(recorded):
    pipeline = Pipeline.from_config("configs/drive.yaml", precision="float32", time_budget_ms=60000.0,
                                    calibration=None, low=0.25)
    produced = []
    for preset in ("default", "hard"):
        scenes = [generate_scene(preset_config(preset), seed=600_000 + i) for i in range(12)]
        produced += [record(r, preset, s.seed) for s, r in zip(scenes, pipeline(scenes))]
    assert len(produced) == len(recorded) == 24
    for new, old in zip(produced, recorded):
        for key in ("action", "facts", "decision"):
            assert new[key] == old[key], f"{old['preset']} scene seed {old['seed']}: {key} differs"
