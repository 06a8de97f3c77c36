"""Drawings: a route on its map, a maneuver plan, frames with ground-truth boxes; PNGs written atomically."""
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from bridge.evaluation.drawing import draw_maneuver, draw_route, ground_truth_preview, save_figure
from bridge.maneuver_facts import predicted_fact_list
from bridge.vocabulary import CLASS_NAMES
from symbolic.planning.maneuver import ManeuverPlanner, ManeuverScene
from symbolic.planning.roadnet import RoadNetwork
from symbolic.planning.routing import RoutePlanner
from symbolic.reasoning.reasoner import Reasoner

ROOT = Path(__file__).resolve().parents[3]
TOWN = ROOT / "configs" / "maps" / "town.json"
RULES = ROOT / "configs" / "rules" / "traffic.rules"


@pytest.fixture
def town_route():
    road = RoadNetwork.load(TOWN)
    return road, RoutePlanner().fit(road).plan("0_0_outE", "2_3_inN")


def test_draw_route_writes_one_png_and_no_temporary_file(tmp_path, town_route):
    road, route = town_route
    out = draw_route(road, route, tmp_path / "route.png", title="town")
    assert out == tmp_path / "route.png"
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width > 300
    assert [p.name for p in tmp_path.iterdir()] == ["route.png"]


@pytest.mark.parametrize("draw", ["route", "maneuver"])
def test_a_path_that_is_not_png_is_refused_before_drawing(tmp_path, town_route, draw):
    open_figures = plt.get_fignums()
    with pytest.raises(ValueError, match=r"must name a \.png file\. Received: path='.*route\.jpg'"):
        if draw == "route":
            draw_route(*town_route, tmp_path / "route.jpg")
        else:
            scene = ManeuverScene.from_json({"ego": {"lane": 1, "speed": 10}, "target": {"lane": 0}})
            draw_maneuver(scene, SimpleNamespace(), tmp_path / "route.jpg")
    assert list(tmp_path.iterdir()) == []
    assert plt.get_fignums() == open_figures  # no figure opened


def test_draw_maneuver_draws_a_blocked_plan(tmp_path):
    scene = ManeuverScene.from_json({"ego": {"lane": 1, "speed": 5}, "target": {"lane": 0, "before_y": 15},
                                     "objects": [{"id": "o1", "label": "truck", "x": 1.75, "y": 4, "length": 8}]},
                                    labels=CLASS_NAMES)
    planner = ManeuverPlanner(Reasoner.from_file(RULES), scene.road, predict_facts=predicted_fact_list)
    plan = planner.plan(scene.ego, scene.objects, scene.target)
    assert not plan.reached and plan.blocking
    with Image.open(draw_maneuver(scene, plan, tmp_path / "plan.png")) as image:
        assert image.format == "PNG"


def test_save_figure_closes_the_figure(tmp_path):
    matplotlib.use("Agg")
    figure, _ = plt.subplots()
    path = save_figure(figure, str(tmp_path / "figure.png"))
    assert path == tmp_path / "figure.png" and path.read_bytes()[:4] == b"\x89PNG"
    assert figure.number not in plt.get_fignums()


def _scene(light_state=None):
    attributes = {} if light_state is None else {"light_state": light_state}
    box = (4.0, 4.0, 20.0, 28.0)
    return SimpleNamespace(image=np.zeros((32, 32, 3), dtype=np.uint8),
                           objects=[SimpleNamespace(label="traffic_light", box=box, attributes=attributes)])


def test_ground_truth_preview_lays_frames_out_in_a_grid():
    preview = ground_truth_preview([_scene()] * 5, columns=4, scale=2)
    assert preview.size == (4 * 64 + 3 * 4, 2 * 64 + 4)


def test_ground_truth_preview_labels_a_light_with_its_state():
    red, green = (np.asarray(ground_truth_preview([_scene(state)], columns=1)) for state in ("red", "green"))
    assert red.shape == green.shape and not np.array_equal(red, green)
