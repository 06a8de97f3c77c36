"""The synthetic world: determinism, boxes that cover what is drawn, maps, presets."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perception.world import (CLASS_NAMES, LIGHT_STATES, Calibration, Lane, RoadMap, Scene, SceneGenerator,
                              Simulation, WorldConfig, generate_episode, generate_scene, preset_config)
from perception.world.geometry import local_to_ego

SMALL = WorldConfig(image_size=128, metres_per_pixel=0.4)


def test_same_seed_gives_identical_images_and_annotations():
    first, second = generate_scene(WorldConfig(), seed=11), generate_scene(WorldConfig(), seed=11)
    assert np.array_equal(first.image, second.image)
    assert first.to_json() == second.to_json()


def test_different_seeds_give_different_scenes():
    first, second = generate_scene(SMALL, seed=1), generate_scene(SMALL, seed=2)
    assert not np.array_equal(first.image, second.image)


def test_a_generator_reused_across_seeds_matches_fresh_ones():
    generator = SceneGenerator(SMALL)
    generator.scene(5)
    again = generator.scene(6)
    assert np.array_equal(again.image, generate_scene(SMALL, seed=6).image)


def test_image_is_uint8_rgb_of_the_configured_size():
    scene = generate_scene(WorldConfig(image_size=96, metres_per_pixel=0.5), seed=0)
    assert scene.image.shape == (96, 96, 3) and scene.image.dtype == np.uint8
    assert scene.calibration.image_size == (96, 96)


@pytest.mark.parametrize("preset", ["easy", "default", "hard"])
def test_every_box_lies_inside_the_image_and_is_not_empty(preset):
    generator = SceneGenerator(WorldConfig(preset=preset))
    for seed in range(25):
        for obj in generator.scene(seed).objects:
            x1, y1, x2, y2 = obj.box
            assert 0 <= x1 < x2 <= 256 and 0 <= y1 < y2 <= 256, (seed, obj)
            assert obj.label in CLASS_NAMES
            assert 0.0 <= obj.occlusion <= 1.0


@pytest.mark.parametrize("preset", ["easy", "default", "hard"])
def test_boxes_cover_every_pixel_that_objects_change(preset):
    config = WorldConfig(preset=preset, blur=0.0).resolved()
    for seed in range(15):
        with_objects = Simulation(config, seed).frame()
        background = Simulation(config, seed).frame(draw_objects=False)
        changed = (with_objects.image != background.image).any(axis=2)
        covered = np.zeros_like(changed)
        for obj in with_objects.objects:
            x1, y1, x2, y2 = (int(v) for v in obj.box)
            covered[y1:y2, x1:x2] = True
            # a box is tight: its border rows and columns hold changed pixels (unless hidden by a tree)
            if obj.occlusion == 0.0:
                assert changed[y1:y2, x1].any() and changed[y1:y2, x2 - 1].any(), (seed, obj)
                assert changed[y1, x1:x2].any() and changed[y2 - 1, x1:x2].any(), (seed, obj)
        assert not (changed & ~covered).any(), f"seed {seed}: changed pixels outside every box"


def test_objects_are_big_enough_to_detect_at_the_default_resolution():
    generator = SceneGenerator(WorldConfig())
    sides = []
    for seed in range(40):
        scene = generator.scene(seed)
        for obj in scene.objects:
            x1, y1, x2, y2 = obj.box
            if x1 > 0 and y1 > 0 and x2 < 256 and y2 < 256:  # not clipped by the image border
                sides.append((obj.label, min(x2 - x1, y2 - y1)))
    assert sides
    assert all(side >= 6 for _, side in sides), sorted(sides, key=lambda s: s[1])[:5]
    pedestrians = [side for label, side in sides if label == "pedestrian"]
    assert np.median(pedestrians) >= 8


def test_calibration_round_trips_arrays():
    calibration = Calibration.from_config(WorldConfig())
    x, y = np.array([-3.0, 0.0, 12.5]), np.array([1.0, 0.0, 40.0])
    u, v = calibration.ego_to_pixel(x, y)
    back_x, back_y = calibration.pixel_to_ego(u, v)
    assert np.allclose(back_x, x) and np.allclose(back_y, y)
    assert calibration.ego_to_pixel(0.0, 0.0) == calibration.ego_pixel
    # forward is up the image, right is right
    assert calibration.ego_to_pixel(0.0, 5.0)[1] < calibration.ego_pixel[1]
    assert calibration.ego_to_pixel(5.0, 0.0)[0] > calibration.ego_pixel[0]


def test_object_pixels_match_its_world_position():
    scene = generate_scene(WorldConfig(), seed=3)
    for obj in scene.objects:
        u, v = scene.calibration.ego_to_pixel(*obj.position)
        x1, y1, x2, y2 = obj.box
        if obj.occlusion == 0 and 0 < x1 and x2 < 256 and 0 < y1 and y2 < 256:
            assert x1 - 1 <= u <= x2 + 1 and y1 - 1 <= v <= y2 + 1, obj


def test_heading_zero_points_up_the_image_and_counter_clockwise_is_positive():
    forward = local_to_ego([[1.0, 0.0]], (0.0, 0.0), np.pi / 2)[0]
    assert np.allclose(forward, [-1.0, 0.0])  # a quarter turn left faces -x


def test_lane_at_borders_belong_to_the_lane_on_the_right():
    road = RoadMap([Lane(0, -3.5, 3.5, -1, 13.9), Lane(1, 0.0, 3.5, 1, 13.9)], ego_lane=1)
    assert road.lane_at(-1.75) == 1
    assert road.lane_at(-5.25) == 0
    assert road.lane_at(1.75) is None
    assert road.lane_at(-5.2501) is None


def test_scene_json_round_trips_and_is_plain_json():
    scene = generate_scene(WorldConfig(), seed=8)
    data = json.loads(json.dumps(scene.to_json()))
    again = Scene.from_json(data)
    assert again.objects == scene.objects and again.road == scene.road
    assert again.calibration == scene.calibration and again.ego == scene.ego
    assert again.image.shape == scene.image.shape


def test_ground_truth_is_consistent_with_the_map():
    generator = SceneGenerator(WorldConfig())
    for seed in range(30):
        scene = generator.scene(seed)
        road = scene.road
        assert road.lane_at(0.0) == road.ego_lane == scene.ego.lane
        assert road.lanes[road.ego_lane].direction == 1
        for obj in scene.objects:
            assert obj.lane == road.lane_at(obj.position[0])
            if obj.label == "traffic_light":
                assert obj.attributes["light_state"] in LIGHT_STATES
            else:
                assert "light_state" not in obj.attributes
            if obj.label in ("car", "truck") and obj.lane is not None and not road.in_cross_road(obj.position[1]):
                direction = road.lanes[obj.lane].direction
                assert abs(np.cos(obj.heading) - direction) < 0.5, obj  # along its lane


def test_ids_are_unique_within_a_scene():
    scene = generate_scene(WorldConfig(preset="hard"), seed=4)
    ids = [obj.id for obj in scene.objects]
    assert len(ids) == len(set(ids))


def test_presets_differ_in_difficulty():
    easy, hard = preset_config("easy"), preset_config("hard")
    assert easy.noise < hard.noise and easy.blur < hard.blur
    assert easy.num_distractors[1] < hard.num_distractors[1]
    counts = {name: np.mean([len(generate_scene(WorldConfig(preset=name), seed).objects) for seed in range(15)])
              for name in ("easy", "hard")}
    assert counts["easy"] < counts["hard"]


def test_noise_knob_changes_the_pixels():
    quiet = generate_scene(WorldConfig(noise=0.0, blur=0.0), seed=2).image.astype(float)
    noisy = generate_scene(WorldConfig(noise=40.0, blur=0.0), seed=2).image.astype(float)
    assert np.abs(np.diff(noisy, axis=1)).mean() > np.abs(np.diff(quiet, axis=1)).mean() + 5


def test_config_rejects_bad_values_in_one_line():
    with pytest.raises(ValueError, match=r"`noise` must be in \[0.0, 80.0\]. Received: noise=100.0"):
        WorldConfig(noise=100.0)
    with pytest.raises(TypeError, match="`image_size` must be an integer. Received: image_size='big'"):
        WorldConfig(image_size="big")
    with pytest.raises(ValueError, match=r"`lanes` must be in increasing order. Received: lanes=\(3, 1\)"):
        WorldConfig(lanes=(3, 1))
    with pytest.raises(ValueError, match="`preset` must be one of easy, default, hard"):
        WorldConfig(preset="extreme")
    with pytest.raises(TypeError, match="unknown WorldConfig field 'nosie'"):
        preset_config("easy", nosie=1.0)


def test_overrides_win_over_the_preset():
    config = WorldConfig(preset="hard", noise=1.0).resolved()
    assert config.noise == 1.0 and config.blur == preset_config("hard").blur


def test_bad_seeds_are_rejected():
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer. Received: seed=-1"):
        generate_scene(SMALL, seed=-1)
    with pytest.raises(ValueError, match="`num_frames` must be an integer >= 1"):
        generate_episode(SMALL, seed=0, num_frames=0)


# -- properties over many inputs -------------------------------------------------------------------

@given(x=st.floats(-100, 100), y=st.floats(-100, 100), mpp=st.floats(0.05, 2.0), size=st.integers(32, 1024))
def test_pixel_and_ego_coordinates_are_inverse(x, y, mpp, size):
    calibration = Calibration.from_config(WorldConfig(image_size=size, metres_per_pixel=mpp))
    back = calibration.pixel_to_ego(*calibration.ego_to_pixel(x, y))
    assert np.allclose(back, (x, y), atol=1e-6)


@given(seed=st.integers(0, 2**32 - 1), preset=st.sampled_from(["easy", "default", "hard"]))
@settings(max_examples=25, deadline=None)
def test_any_seed_gives_a_valid_scene(seed, preset):
    scene = generate_scene(WorldConfig(preset=preset, image_size=128, metres_per_pixel=0.4), seed)
    road = scene.road
    assert road.lane_at(0.0) == road.ego_lane
    for lane in road.lanes:
        assert road.lane_at(lane.center_x) == lane.index
    for obj in scene.objects:
        x1, y1, x2, y2 = obj.box
        assert 0 <= x1 < x2 <= 128 and 0 <= y1 < y2 <= 128
        assert (obj.label == "traffic_light") == ("light_state" in obj.attributes)
    json.dumps(scene.to_json())


@pytest.mark.parametrize("image_size, metres_per_pixel", [(32, 0.2), (64, 0.05), (256, 0.01)])
def test_a_view_too_short_for_a_control_ahead_still_generates(image_size, metres_per_pixel):
    """A valid config whose view ends under 6 m ahead used to crash (``high - low < 0``)."""
    from perception.world import generate_episode

    config = WorldConfig(image_size=image_size, metres_per_pixel=metres_per_pixel, control_ahead=1.0)
    for seed in range(3):
        scene = generate_scene(config, seed=seed)
        assert scene.image.shape == (image_size, image_size, 3)
    assert len(generate_episode(config, seed=1, num_frames=2)) == 2
