"""The pipeline's reasoning stage keeps to the reasoner's time budget on a frame whose rules ground without end."""
import numpy as np

from bridge.pipeline import Pipeline
from perception.world import Calibration, EgoState, Lane, RoadMap, Scene, WorldObject
from symbolic.reasoning.reasoner import Reasoner

CALIBRATION = Calibration(0.25, (256, 256), (128.0, 230.0))
# four nested quantifiers whose body holds for every combination (there is no stop sign): nothing cuts them short
RULES = """include "vocabulary.rules"
rule gridlock: exists a in car: (forall b in car: (forall c in car: (forall d in car:
    not (near(a, b) and near(b, c) and near(c, d) and stop_sign(d))))) => stop
"""


def car(index, x, y):
    u, v = CALIBRATION.ego_to_pixel(x, y)
    box = (u - 4.0, v - 8.0, u + 4.0, v + 8.0)
    return WorldObject(f"o{index}", "car", box, (x, y), 0.0, 0.0, (0.0, 0.0), (4.0, 2.0), None)


def test_the_reasoning_stage_returns_the_safe_action_within_the_budget(tmp_path):
    path = tmp_path / "gridlock.rules"
    path.write_text(RULES)
    reasoner = Reasoner.from_file(path, search_path=["configs/rules"], time_budget_ms=50)
    cars = [car(i, 6.0 + (i % 8) * 0.5, -1.5 + (i // 8) * 0.5) for i in range(40)]  # 40 cars, all near each other
    road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0)
    scene = Scene(np.zeros((256, 256, 3), np.uint8), cars, road, CALIBRATION, EgoState(0, 8.0), image_id=1)
    [result] = Pipeline(reasoner=reasoner, oracle=True)([scene])
    assert result.timings_ms["reasoning"] < 50 + 500  # 40^4 = 2.6 million steps without a deadline
    assert (result.action, result.decision.status, result.decision.fallback) == ("stop", "timeout", True)
    assert "time budget ran out" in result.decision.reason
