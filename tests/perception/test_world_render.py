"""Rendering: what a traffic light shows, occlusion, and objects cut by the image border."""
import numpy as np
import pytest

from perception.world import Calibration, Lane, RoadMap
from perception.world.config import preset_config
from perception.world.placement import Agent, Distractor, Look
from perception.world.render import render_frame

CLEAN = preset_config("easy", noise=0.0, blur=0.0, brightness=0.0, color_jitter=0.0)
LOOK = Look((0, 90, 0), (80, 80, 80), (150, 150, 150), (250, 250, 250), (250, 200, 0))
CALIBRATION = Calibration(0.1, (128, 128), (64.0, 115.2))
ROAD = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
LAMPS = {"red": (250, 0, 0), "yellow": (250, 250, 0), "green": (0, 250, 0)}


def light(heading: float) -> Agent:
    return Agent("o1", "traffic_light", 0.0, 0.0, heading, 0.0, 2.7, 1.7, "static",
                 {"housing": (20, 20, 20), "lamps": LAMPS, "unlit": (60, 60, 60)})


def render(objects, distractors=()):
    return render_frame(ROAD, objects, list(distractors), CALIBRATION, LOOK, CLEAN, np.random.default_rng(0))


@pytest.mark.parametrize("heading, order", [(0.0, ["red", "yellow", "green"]), (np.pi, ["green", "yellow", "red"])])
def test_the_lit_lamp_shows_the_state_by_position_and_colour(heading, order):
    for state in ("red", "yellow", "green"):
        image, drawn = render([(light(heading), (0.0, 5.0), state)])
        x1, y1, x2, y2 = (int(v) for v in drawn["o1"].box)
        crop = image[y1:y2, x1:x2].astype(int)
        lit = np.all(np.abs(crop - LAMPS[state]) < 10, axis=2)
        assert lit.any(), state
        rows = np.nonzero(lit)[0]
        third = int(3 * rows.mean() / crop.shape[0])  # 0 top, 1 middle, 2 bottom of the box
        assert order[third] == state, (state, third)
        others = [s for s in LAMPS if s != state]
        assert not any(np.all(np.abs(crop - LAMPS[s]) < 10, axis=2).any() for s in others)


def test_a_tree_over_an_object_counts_as_occlusion():
    car = Agent("o1", "car", 0.0, 0.0, 0.0, 0.0, 4.5, 1.9, "lane",
                {"body": (200, 0, 0), "roof": (180, 0, 0), "window": (30, 30, 30)})
    tree = Distractor("tree", 0.0, 0.0, (2.4, 2.4), (40, 100, 40), layer="top")
    _, clear = render([(car, (0.0, 5.0), None)])
    _, hidden = render([(car, (0.0, 5.0), None)], [(tree, (0.0, 6.0))])
    assert clear["o1"].occlusion == 0.0
    assert 0.2 < hidden["o1"].occlusion < 0.8
    assert hidden["o1"].box == clear["o1"].box  # the box still covers the whole object


def test_objects_mostly_outside_the_image_are_dropped_and_others_clipped():
    car = Agent("o1", "car", 0.0, 0.0, 0.0, 0.0, 4.5, 1.9, "lane",
                {"body": (200, 0, 0), "roof": (180, 0, 0), "window": (30, 30, 30)})
    _, _, _, y_max = CALIBRATION.view_bounds()
    _, mostly_in = render([(car, (0.0, y_max - 1.0), None)])
    _, mostly_out = render([(car, (0.0, y_max + 1.5), None)])
    assert mostly_in["o1"].box[1] == 0.0 and mostly_in["o1"].box[3] > 0
    assert "o1" not in mostly_out
