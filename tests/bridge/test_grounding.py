"""Grounding on hand-placed objects: each predicate, lane borders, motion, confidence."""
import math

import pytest
import torch

from perception.detections import Detections
from perception.world import Calibration, Crosswalk, EgoState, Lane, RoadMap, Sidewalk, StopLine
from bridge.geometry import UNCERTAIN_GEOMETRY_CONFIDENCE, ObjectState, stopping_distance
from bridge.ground_truth import ground_truth_facts
from bridge.grounding import UNKNOWN_MOTION_CONFIDENCE, detections_to_facts, detections_to_objects, ground_objects
from bridge.vocabulary import CLASS_NAMES, DRIVING_VOCABULARY, LIGHT_STATES

# Lanes 3.5 m wide: 0 oncoming (x -7), 1 (x -3.5) and 2 = ego (x 0) and 3 (x 3.5) the ego's way.
# Borders: -8.75 | -5.25 | -1.75 | 1.75 | 5.25 (the road's right edge).
ROAD = RoadMap(
    lanes=[Lane(0, -7.0, 3.5, -1, 13.9), Lane(1, -3.5, 3.5, 1, 13.9),
           Lane(2, 0.0, 3.5, 1, 13.9), Lane(3, 3.5, 3.5, 1, 13.9)],
    ego_lane=2,
    crosswalks=[Crosswalk(-8.75, 5.25, 20.0, 23.0)],
    stop_lines=[StopLine(19.0, -5.25, 5.25, (1, 2, 3), "traffic_light", 1),
                StopLine(35.0, -8.75, -5.25, (0,), "traffic_light", -1)],
    sidewalks=[Sidewalk(-12.0, -9.0, "left"), Sidewalk(5.5, 9.0, "right")],
)
EGO = EgoState(lane=2, speed=10.0, odometry=0.0, length=4.0, width=2.0)
STOPPED = EgoState(lane=2, speed=0.0, odometry=0.0, length=4.0, width=2.0)
CALIBRATION = Calibration(metres_per_pixel=0.25, image_size=(256, 256), ego_pixel=(128.0, 230.0))


def obj(x, y, label="car", size=(4.0, 2.0), confidence=1.0, velocity=(0.0, 10.0), **kwargs):
    return ObjectState("o1", label, (x, y), size, confidence, velocity=velocity, **kwargs)


def true_atoms(objects, ego=EGO, road=ROAD):
    facts = ground_objects(objects, road, ego)[0]
    return {f.atom for f in facts if not f.is_function and f.confidence == 1.0}


def detections(rows, scores=None, light_state=None):
    """Detections from ``(label, x, y, length, width)`` metric rows, through the calibration."""
    boxes = []
    for _, x, y, length, width in rows:
        u, v = CALIBRATION.ego_to_pixel(x, y)
        boxes.append([u - width / 0.5, v - length / 0.5, u + width / 0.5, v + length / 0.5])
    num = len(rows)
    attributes = {} if light_state is None else {"light_state": torch.tensor(light_state, dtype=torch.float32)}
    return Detections(torch.tensor(boxes, dtype=torch.float32).reshape(num, 4),
                      torch.tensor([CLASS_NAMES.index(r[0]) for r in rows], dtype=torch.int64),
                      torch.tensor(scores or [1.0] * num, dtype=torch.float32), CLASS_NAMES,
                      attributes, {"light_state": LIGHT_STATES} if light_state is not None else {})


def test_pixels_become_metres_in_the_ego_frame():
    d = detections([("car", 3.5, 12.0, 4.0, 2.0)], scores=[0.7])
    [car] = detections_to_objects(d, CALIBRATION)
    assert car.id == "o1" and car.label == "car" and car.confidence == pytest.approx(0.7)
    assert car.position == pytest.approx((3.5, 12.0))
    assert car.size == pytest.approx((4.0, 2.0))
    assert car.velocity is None


def test_car_ahead_in_the_ego_lane():
    atoms = true_atoms([obj(0.0, 12.0)])
    assert {"car(o1)", "ahead(o1)", "same_lane(o1)", "on_road(o1)"} <= atoms
    assert not atoms & {"behind(o1)", "left_of(o1)", "right_of(o1)", "in_adjacent_lane(o1)", "in_crosswalk(o1)"}
    facts = ground_objects([obj(0.0, 12.0)], ROAD, EGO)[0]
    assert facts.value("dist", "o1") == pytest.approx(12.0)
    assert facts.value("gap", "o1") == pytest.approx(12.0 - 2.0 - 2.0)


def test_car_behind_in_the_left_lane():
    atoms = true_atoms([obj(-3.5, -10.0)])
    assert {"behind(o1)", "left_of(o1)", "in_left_lane(o1)", "in_adjacent_lane(o1)"} <= atoms
    assert not atoms & {"ahead(o1)", "same_lane(o1)", "in_right_lane(o1)", "right_of(o1)"}
    assert ground_objects([obj(-3.5, -10.0)], ROAD, EGO)[0].value("gap", "o1") < 0


def test_car_beside_in_the_right_lane_is_neither_ahead_nor_behind():
    atoms = true_atoms([obj(3.5, 1.0)])
    assert {"right_of(o1)", "in_right_lane(o1)", "in_adjacent_lane(o1)"} <= atoms
    assert not atoms & {"ahead(o1)", "behind(o1)", "left_of(o1)"}


@pytest.mark.parametrize("x, expected", [
    (1.75, "in_right_lane"),      # exactly on the ego/right border: the lane on the right
    (1.7499, "same_lane"),
    (-1.75, "same_lane"),         # exactly on the left/ego border: the ego lane (on its right)
    (-1.7501, "in_left_lane"),
    (-5.25, "in_left_lane"),      # left neighbour's own left border
    (-5.2501, None),              # the oncoming lane is two lanes to the left: no lane predicate
])
def test_lane_borders_follow_the_road_maps_rule(x, expected):
    lane_atoms = {"same_lane(o1)", "in_left_lane(o1)", "in_right_lane(o1)"}
    found = true_atoms([obj(x, 15.0, size=(4.0, 0.5))]) & lane_atoms
    assert found == ({f"{expected}(o1)"} if expected else set())


def test_right_road_edge_is_off_the_road():
    assert "on_road(o1)" not in true_atoms([obj(5.25, 15.0)])
    assert "on_road(o1)" in true_atoms([obj(5.2499, 15.0)])


def test_lane_borders_through_pixel_boxes():
    # 1.75 m = 7 px right of the ego column: the border, so the lane on the right.
    _, facts = detections_to_facts(detections([("car", 1.75, 15.0, 4.0, 2.0)]), CALIBRATION, ROAD, EGO)
    assert facts.confidence("in_right_lane", "o1") == 1.0
    assert facts.confidence("same_lane", "o1") == 0.0


def test_pedestrian_in_crosswalk_and_on_sidewalk():
    walker = dict(label="pedestrian", size=(0.6, 0.6), velocity=(1.0, 0.0))
    assert "in_crosswalk(o1)" in true_atoms([obj(0.0, 21.5, **walker)])
    assert "in_crosswalk(o1)" in true_atoms([obj(0.0, 20.0, **walker)])      # border included
    assert "in_crosswalk(o1)" not in true_atoms([obj(0.0, 24.0, **walker)])
    atoms = true_atoms([obj(7.0, 10.0, **walker)])
    assert "on_sidewalk(o1)" in atoms and "on_road(o1)" not in atoms
    assert "on_sidewalk(o1)" not in true_atoms([obj(5.3, 10.0, **walker)])    # the kerb gap


def test_traffic_light_at_the_ego_stop_line_applies_to_ego():
    light = obj(6.5, 18.5, label="traffic_light", size=(1.0, 1.0), velocity=(0.0, 0.0))
    assert {"at_stop_line(o1)", "applies_to_ego(o1)", "ahead(o1)"} <= true_atoms([light])
    oncoming = obj(-10.0, 35.5, label="traffic_light", size=(1.0, 1.0), velocity=(0.0, 0.0))
    atoms = true_atoms([oncoming])
    assert "at_stop_line(o1)" in atoms and "applies_to_ego(o1)" not in atoms
    overhead = obj(0.0, 25.0, label="traffic_light", size=(1.0, 1.0), velocity=(0.0, 0.0))
    overhead_atoms = true_atoms([overhead])
    assert "applies_to_ego(o1)" in overhead_atoms
    assert not overhead_atoms & {"same_lane(o1)", "on_road(o1)"}     # it hangs above the lane
    far = obj(6.5, 28.0, label="traffic_light", size=(1.0, 1.0), velocity=(0.0, 0.0))
    assert not true_atoms([far]) & {"at_stop_line(o1)", "applies_to_ego(o1)"}


def test_a_car_never_applies_to_ego_but_can_wait_at_the_stop_line():
    atoms = true_atoms([obj(0.0, 17.0)])      # its front at 19: on the line
    assert "at_stop_line(o1)" in atoms and "applies_to_ego(o1)" not in atoms


def test_light_colour_and_class_confidence_flow_from_the_detector():
    d = detections([("traffic_light", 6.5, 18.5, 1.0, 1.0)], scores=[0.6], light_state=[[0.7, 0.2, 0.1]])
    _, facts = detections_to_facts(d, CALIBRATION, ROAD, EGO)
    assert facts.confidence("traffic_light", "o1") == pytest.approx(0.6)
    assert facts.confidence("light", "o1", "red") == pytest.approx(0.7)
    assert facts.confidence("light", "o1", "green") == pytest.approx(0.1)
    assert facts.objects == {"o1": "traffic_light"}


def test_light_state_of_a_non_light_is_ignored():
    d = detections([("car", 0.0, 12.0, 4.0, 2.0)], light_state=[[0.9, 0.05, 0.05]])
    _, facts = detections_to_facts(d, CALIBRATION, ROAD, EGO)
    assert facts.with_predicate("light") == []


def test_near_pairs_come_both_ways_within_five_metres():
    a = ObjectState("a", "pedestrian", (0.0, 20.0), (0.6, 0.6))
    b = ObjectState("b", "pedestrian", (3.0, 24.0), (0.6, 0.6))   # 5.0 m: near (border included)
    c = ObjectState("c", "car", (0.0, 30.0), (4.0, 2.0))
    facts = ground_objects([a, b, c], ROAD, EGO)[0]
    near = {f.atom for f in facts.with_predicate("near")}
    assert near == {"near(a, b)", "near(b, a)"}


def test_motion_approaching_and_time_to_collision():
    slower = obj(0.0, 24.0, velocity=(0.0, 5.0))           # closes at 5 m/s, clearance 20 m
    facts = ground_objects([slower], ROAD, EGO)[0]
    assert facts.confidence("approaching", "o1") == 1.0
    assert facts.value("ttc", "o1") == pytest.approx(4.0)
    assert facts.value("speed", "o1") == pytest.approx(5.0)
    same_speed = ground_objects([obj(0.0, 24.0, velocity=(0.0, 10.0))], ROAD, EGO)[0]
    assert same_speed.confidence("approaching", "o1") == 0.0 and same_speed.value("ttc", "o1") == 100.0
    oncoming = ground_objects([obj(-7.0, 40.0, velocity=(0.0, -10.0))], ROAD, EGO)[0]
    assert oncoming.confidence("approaching", "o1") == 1.0 and oncoming.value("speed", "o1") == pytest.approx(10.0)


def test_unknown_motion_gives_uncertain_motion_facts():
    facts = ground_objects([obj(0.0, 24.0, velocity=None)], ROAD, EGO)[0]
    for predicate in ("approaching", "ttc", "speed"):
        assert facts.confidence(predicate, "o1") == UNKNOWN_MOTION_CONFIDENCE, predicate
    assert 0.2 < UNKNOWN_MOTION_CONFIDENCE < 0.8   # between the reasoner's low and high: uncertain
    # geometry stays certain; signs and lights never move, so their motion is known
    assert facts.confidence("ahead", "o1") == 1.0
    sign = ObjectState("o2", "stop_sign", (6.5, 18.5), (0.8, 0.8))
    sign_facts = ground_objects([sign], ROAD, EGO)[0]
    assert sign_facts.confidence("ttc", "o2") == 1.0 and sign_facts.confidence("approaching", "o2") == 1.0


def test_a_first_frame_decision_is_safe_whatever_the_unknown_motion(traffic_reasoner):
    # a car 25 m ahead of the ego's front in its lane, ego at 10 m/s: standing still it is 2.5 s away (no emergency),
    # but reversing at 3 m/s it is 1.9 s away and the ego must stop; its motion is not known yet
    reasoner = traffic_reasoner
    unknown = ground_objects([obj(0.0, 29.0, velocity=None)], ROAD, EGO)[0]
    action = reasoner.decide(unknown, explain=False).action
    for velocity in [(0.0, 0.0), (0.0, -3.0), (0.0, 10.0)]:
        truth = ground_objects([obj(0.0, 29.0, velocity=velocity)], ROAD, EGO)[0]
        assert reasoner.violations(truth, action) == [], (velocity, action)
    # safe because the motion is unknown, not because the reasoner always stops: known motion decides otherwise
    reversing = ground_objects([obj(0.0, 29.0, velocity=(0.0, -3.0))], ROAD, EGO)[0]
    assert reasoner.allowed_actions(reversing) == ["stop"]
    for velocity in [(0.0, 0.0), (0.0, 10.0)]:
        known = ground_objects([obj(0.0, 29.0, velocity=velocity)], ROAD, EGO)[0]
        assert reasoner.decide(known, explain=False).action != "stop", velocity


def test_facts_about_the_ego_and_the_road():
    moving = ground_objects([], ROAD, EGO)[0]
    assert {f.atom for f in moving if not f.is_function} == {"left_lane_exists()", "right_lane_exists()"}
    assert moving.value("ego_speed") == 10.0 and moving.value("speed_limit") == pytest.approx(13.9)
    assert moving.value("stopping_distance") == pytest.approx(stopping_distance(10.0))
    one_way = RoadMap(lanes=[Lane(0, -3.5, 3.5, -1, 8.3), Lane(1, 0.0, 3.5, 1, 8.3)], ego_lane=1,
                      stop_lines=[StopLine(6.0, -1.75, 1.75, (1,), "stop_sign", 1)])
    stopped = ground_objects([], one_way, STOPPED)[0]
    # an oncoming lane on the left is no lane to change into
    assert {f.atom for f in stopped if not f.is_function} == {"ego_stopped()", "stopped_at_sign()"}


def test_stopped_far_from_a_stop_line_is_not_stopped_at_sign():
    road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 8.3)], ego_lane=0,
                   stop_lines=[StopLine(30.0, -1.75, 1.75, (0,), "stop_sign", 1)])
    atoms = {f.atom for f in ground_objects([], road, STOPPED)[0]}
    assert "ego_stopped()" in atoms and "stopped_at_sign()" not in atoms


def test_every_produced_fact_is_in_the_vocabulary_with_its_range():
    light = ObjectState("o2", "traffic_light", (6.5, 18.5), (1.0, 1.0),
                        attributes={"light_state": {"red": 1.0, "yellow": 0.0, "green": 0.0}})
    fast_far_truck = ObjectState("o3", "truck", (-3.5, -250.0), (12.0, 2.5), velocity=(0.0, 70.0))
    objects = [obj(0.0, 12.0), light, fast_far_truck]
    facts = ground_objects(objects, ROAD, EGO)[0]
    for fact in facts:
        term = DRIVING_VOCABULARY.term(fact.predicate)
        assert term.arity == len(fact.args), fact
        if term.kind == "function":
            low, high = term.value_range
            assert low <= fact.value <= high, fact


def test_mismatched_ids_are_refused_with_the_counts():
    found = detections([("car", 0.0, 12.0, 4.0, 2.0)])
    with pytest.raises(ValueError, match="one id per detection \\(1\\). Received 2 ids"):
        Detections(found.boxes, found.labels, found.scores, CLASS_NAMES, object_ids=("a", "b"))
    with pytest.raises(ValueError, match=r"`velocities` must have shape \(1, 2\)"):
        Detections(found.boxes, found.labels, found.scores, CLASS_NAMES, velocities=torch.zeros(2, 2))


def test_ids_and_velocities_carried_on_the_detections_are_grounded():
    found = detections([("car", 0.0, 12.0, 4.0, 2.0), ("car", 3.5, 20.0, 4.0, 2.0)])
    found.object_ids = ("a", "b")
    found.velocities = torch.tensor([[0.0, 5.0], [float("nan"), float("nan")]], dtype=torch.float64)
    a, b = detections_to_objects(found, CALIBRATION)
    assert (a.id, a.velocity, b.id, b.velocity) == ("a", (0.0, 5.0), "b", None)
    kept = found.select(torch.tensor([1]))
    assert kept.object_ids == ("b",) and kept.velocities.shape == (1, 2)


def test_inputs_are_left_unchanged():
    objects = [obj(0.0, 12.0)]
    before = [o.to_json() for o in objects]
    ground_objects(objects, ROAD, EGO)[0]
    assert [o.to_json() for o in objects] == before


def test_ground_truth_facts_of_a_generated_scene_are_certain_and_match_the_world():
    from perception.world import generate_scene, preset_config

    num_lights = num_agreeing = 0
    for seed in range(40):
        scene = generate_scene(preset_config("default"), seed=seed)
        facts = ground_truth_facts(scene)
        assert set(facts.objects) == {o.id for o in scene.objects}
        for o in scene.objects:
            assert facts.confidence(o.label, o.id) == 1.0
            if o.label in ("traffic_light", "stop_sign") and o.position[1] > 0:
                num_lights += 1
                num_agreeing += (facts.confidence("applies_to_ego", o.id) == 1.0) == bool(o.applies_to_ego)
            if o.label == "traffic_light":
                assert facts.confidence("light", o.id, o.attributes["light_state"]) == 1.0
    assert num_lights > 10
    assert num_agreeing / num_lights >= 0.95


def test_estimated_motion_is_read_cautiously():
    # closing at 0.8 m/s, known to within 0.5 m/s: approaching is uncertain
    unsure = ObjectState("o1", "pedestrian", (3.0, 10.0), (0.6, 0.6), velocity=(0.0, 9.2), speed_uncertainty=0.5)
    facts = ground_objects([unsure], ROAD, EGO)[0]
    assert facts.confidence("approaching", "o1") == 0.5
    sure = ObjectState("o1", "pedestrian", (3.0, 10.0), (0.6, 0.6), velocity=(0.0, 9.2))
    assert ground_objects([sure], ROAD, EGO)[0].confidence("approaching", "o1") == 1.0
    # time to collision reads the closing speed higher by the uncertainty
    follower = ObjectState("o1", "car", (0.0, 24.0), (4.0, 2.0), velocity=(0.0, 8.0), speed_uncertainty=0.5)
    assert ground_objects([follower], ROAD, EGO)[0].value("ttc", "o1") == pytest.approx(20.0 / 2.5)


def test_tracked_velocities_carry_the_trackers_uncertainty():
    from bridge.tracker import Tracker

    tracker = Tracker(window=3, speed_uncertainty=0.7)
    tracker.update([obj(0.0, 20.0, velocity=None)], EGO, 0.0)
    [moving] = tracker.update([obj(0.0, 20.5, velocity=None)], EGO, 0.1)
    assert moving.speed_uncertainty == pytest.approx(1.4)     # two frames: half the time span, twice the noise
    [moving] = tracker.update([obj(0.0, 21.0, velocity=None)], EGO, 0.2)
    assert moving.speed_uncertainty == pytest.approx(0.7)
    [light] = tracker.update([obj(6.0, 18.0, label="traffic_light", velocity=None)], EGO, 0.3)
    assert light.speed_uncertainty == 0.0


def test_boxes_touching_the_image_border_are_marked_truncated():
    calibration = Calibration(metres_per_pixel=0.25, image_size=(256, 256), ego_pixel=(128.0, 200.0))
    boxes = torch.tensor([[124., 0., 132., 12.], [0., 250., 8., 256.], [124., 140., 132., 158.]])
    detections = Detections(boxes, torch.tensor([0, 0, 0]), torch.tensor([0.9, 0.9, 0.9]), ("car",))
    assert [o.truncated for o in detections_to_objects(detections, calibration)] == [
        ("front",), ("left", "rear"), ()]


# ---------------------------------------------------------------- position uncertainty

def uncertain_atoms(objects, ego=EGO, road=ROAD):
    facts = ground_objects(objects, road, ego)[0]
    return {f.atom for f in facts if not f.is_function and f.confidence == UNCERTAIN_GEOMETRY_CONFIDENCE}


def test_a_position_near_a_lane_border_makes_lane_facts_uncertain():
    # ego lane 2 spans [-1.75, 1.75); a pedestrian 0.2 m inside its right border, position off by up to 0.3 m
    walker = obj(1.55, 12.0, label="pedestrian", size=(0.6, 0.6), position_uncertainty=0.3)
    assert {"same_lane(o1)", "in_right_lane(o1)", "in_adjacent_lane(o1)"} <= uncertain_atoms([walker])
    assert "on_road(o1)" in true_atoms([walker]) and "ahead(o1)" in true_atoms([walker])
    # the same reading without uncertainty (true boxes) stays certain
    exact = obj(1.55, 12.0, label="pedestrian", size=(0.6, 0.6))
    assert "same_lane(o1)" in true_atoms([exact]) and not uncertain_atoms([exact])
    # far from every border: certain however uncertain
    centred = obj(0.0, 12.0, label="pedestrian", size=(0.6, 0.6), position_uncertainty=0.3)
    assert "same_lane(o1)" in true_atoms([centred]) and not uncertain_atoms([centred])


def test_a_pedestrian_just_outside_a_crosswalk_may_be_in_it():
    # the crosswalk spans y 20..23; a pedestrian 0.1 m before it is read as possibly in it
    walker = obj(0.0, 19.9, label="pedestrian", size=(0.6, 0.6), position_uncertainty=0.2)
    assert "in_crosswalk(o1)" in uncertain_atoms([walker])
    assert "in_crosswalk(o1)" not in true_atoms([obj(0.0, 19.9, label="pedestrian", size=(0.6, 0.6))])
    # and a pedestrian at the edge of the right sidewalk (x 5.5..9) may be on the road or on the sidewalk
    kerb = obj(5.4, 15.0, label="pedestrian", size=(0.6, 0.6), position_uncertainty=0.2)
    assert {"on_sidewalk(o1)", "on_road(o1)"} <= uncertain_atoms([kerb])


def test_ahead_and_stop_line_are_uncertain_at_their_borders():
    # the ego's front is at y 2; a car whose rear is 0.1 m beyond it
    close = obj(0.0, 4.1, position_uncertainty=0.25)
    assert {"ahead(o1)"} <= uncertain_atoms([close])
    # a car whose front is 3.2 m before the stop line at y 19 (reach 3 m)
    queued = obj(0.0, 13.8, position_uncertainty=0.25)
    assert "at_stop_line(o1)" in uncertain_atoms([queued])
    assert "at_stop_line(o1)" not in true_atoms([obj(0.0, 13.8)])


def test_time_to_collision_reads_an_uncertain_position_closer():
    # 24 m ahead, not moving, ego at 10 m/s: 20 m clearance; up to 0.5 m off on each axis
    parked = obj(0.0, 24.0, velocity=(0.0, 0.0), position_uncertainty=0.5)
    assert ground_objects([parked], ROAD, EGO)[0].value("ttc", "o1") == pytest.approx((20.0 - 0.5 * 2 ** 0.5) / 10.0)


def test_detections_carry_the_position_uncertainty_they_are_given():
    found = detections([("car", 0.0, 12.0, 4.0, 2.0)])
    assert [o.position_uncertainty for o in detections_to_objects(found, CALIBRATION)] == [0.0]
    found.position_uncertainty = torch.tensor([0.4], dtype=torch.float64)
    [seen] = detections_to_objects(found, CALIBRATION)
    assert seen.position_uncertainty == 0.4 and seen.to_json()["position_uncertainty"] == 0.4
    found.position_uncertainty = torch.tensor([-1.0], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"Received: position_uncertainty=\[-1.0\]"):
        detections_to_objects(found, CALIBRATION)


def test_tracked_velocities_widen_by_the_position_uncertainty():
    from bridge.tracker import Tracker

    tracker = Tracker(window=3, speed_uncertainty=0.7)
    for k, y in enumerate((20.0, 20.5, 21.0)):
        [moving] = tracker.update([obj(0.0, y, velocity=None, position_uncertainty=0.1)], EGO, k / 10)
    # straight ahead, the closing speed is the y axis: 0.7 + 0.1 m * 10 per second (three frames 0.1 s apart)
    assert moving.speed_uncertainty == pytest.approx(0.7 + 1.0)


def test_every_geometric_predicate_is_read_with_the_position_uncertainty():
    from bridge.geometry import GEOMETRY_PREDICATES, geometry_confidences, geometry_truths

    walker = obj(1.55, 19.9, label="pedestrian", size=(0.6, 0.6), position_uncertainty=0.3)
    assert tuple(geometry_truths(walker, ROAD, EGO)) == GEOMETRY_PREDICATES
    assert tuple(geometry_confidences(walker, ROAD, EGO)) == GEOMETRY_PREDICATES
    assert set(GEOMETRY_PREDICATES) <= {term.name for term in DRIVING_VOCABULARY.predicates}


def test_a_position_uncertainty_puts_tolerances_on_distances_and_the_reasoner_covers_them(traffic_reasoner):
    # a pedestrian in the ego lane read 40.05 m ahead, the crosswalk rule reaching to 40 m: with the box known
    # only within 0.3 m it may stand inside the rule's reach, so the robust reasoner must not go on
    reasoner = traffic_reasoner
    road = RoadMap(lanes=ROAD.lanes, ego_lane=2, crosswalks=[Crosswalk(-8.75, 5.25, 38.0, 42.0)])
    walker = dict(label="pedestrian", size=(0.8, 0.8), velocity=(1.0, 0.0))
    exact = ground_objects([obj(0.0, 40.05, **walker)], road, STOPPED)[0]
    unsure = ground_objects([obj(0.0, 40.05, position_uncertainty=0.3, **walker)], road, STOPPED)[0]
    assert exact.tolerance("dist", "o1") == 0.0 and exact.tolerance("gap", "o1") == 0.0
    assert unsure.tolerance("dist", "o1") == pytest.approx(math.sqrt(2) * 0.3)
    assert unsure.tolerance("gap", "o1") == pytest.approx(0.3)
    assert reasoner.decide(exact, explain=False).action != "stop"
    assert reasoner.decide(unsure, explain=False).action == "stop"
    closer = ground_objects([obj(0.0, 39.9, **walker)], road, STOPPED)[0]
    assert reasoner.violations(closer, reasoner.decide(unsure, explain=False).action) == []


def five_readings_confidences(target, road, ego):
    """The straightforward reading: every predicate at the centre and the four diagonal shifts by r."""
    import dataclasses

    from bridge.geometry import geometry_truths

    r = target.position_uncertainty
    x, y = target.position
    readings = [geometry_truths(dataclasses.replace(target, position=(x + dx, y + dy)), road, ego)
                for dx, dy in ((0.0, 0.0), (-r, -r), (-r, r), (r, -r), (r, r))]
    return {name: 1.0 if all(reading[name] for reading in readings) else
            0.0 if not any(reading[name] for reading in readings) else UNCERTAIN_GEOMETRY_CONFIDENCE
            for name in readings[0]}


@pytest.mark.parametrize("road", [ROAD, RoadMap(lanes=ROAD.lanes, ego_lane=1),
                                  RoadMap(lanes=ROAD.lanes[1:3], ego_lane=2, sidewalks=[(5.0, 8.0)])],
                         ids=["full", "bare", "two-lanes"])
def test_geometry_confidences_match_the_five_readings_near_every_border(road):
    import random

    from bridge.geometry import geometry_confidences

    rng = random.Random(7)
    # positions on and just beside the borders of lanes, sidewalks, crosswalk, stop lines and the ego's extent
    xs = [-12.0, -9.0, -8.75, -7.0, -5.25, -3.5, -1.75, -1.0, 0.0, 1.0, 1.75, 3.5, 5.25, 5.5, 9.0]
    ys = [-2.0, 0.0, 2.0, 16.0, 18.0, 19.0, 20.0, 22.0, 23.0, 27.0, 34.0, 35.0, 43.0]
    seen = set()
    for _ in range(4000):
        r = rng.choice([0.0, 0.1, 0.3, 1.01, rng.uniform(0.0, 2.0)])
        x = rng.choice(xs) + rng.choice([0.0, r, -r, rng.uniform(-2.5, 2.5)])
        y = rng.choice(ys) + rng.choice([0.0, r, -r, rng.uniform(-2.5, 2.5)])
        size = (rng.uniform(0.3, 5.0), rng.uniform(0.3, 2.5))
        target = ObjectState("o1", rng.choice(CLASS_NAMES), (x, y), size, position_uncertainty=r)
        confidences = geometry_confidences(target, road, EGO)
        assert confidences == five_readings_confidences(target, road, EGO), target
        assert tuple(confidences) == tuple(five_readings_confidences(target, road, EGO))
        seen.update(confidences.items())
    # every predicate met every confidence somewhere on the full road, so the comparison covered each case
    if road is ROAD:
        from bridge.geometry import GEOMETRY_PREDICATES

        assert {(name, c) for name in GEOMETRY_PREDICATES for c in (0.0, 0.5, 1.0)} <= seen
