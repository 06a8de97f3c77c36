"""The tracker keeps ids across the frames of an episode and reports speed."""
import dataclasses

import pytest

from perception.world import EgoState
from bridge.geometry import ObjectState
from bridge.tracker import Tracker


def ego_at(odometry, speed=10.0):
    return EgoState(lane=0, speed=speed, odometry=odometry)


def car(x, y, label="car"):
    return ObjectState("detection", label, (x, y), (4.5, 1.8))


def test_ids_stay_stable_and_speed_is_reported_while_the_ego_drives():
    tracker = Tracker()
    # ego at 10 m/s; car A ahead at 6 m/s, car B oncoming at 8 m/s; 10 frames a second
    ids, last = [], None
    for k in range(8):
        t = k / 10
        odometry = 10.0 * t
        frame = [car(-3.5, 40.0 - 8.0 * t - odometry), car(0.0, 20.0 + 6.0 * t - odometry)]
        last = tracker.update(frame[::-1] if k % 2 else frame, ego_at(odometry), t)   # order changes
        ids.append({o.position[0]: o.id for o in last})
    assert all(i == ids[0] for i in ids) and len(set(ids[0].values())) == 2
    by_x = {o.position[0]: o for o in last}
    assert by_x[0.0].velocity == pytest.approx((0.0, 6.0))
    assert by_x[-3.5].velocity == pytest.approx((0.0, -8.0))


def test_a_new_object_gets_a_new_id_and_unknown_motion():
    tracker = Tracker()
    [first] = tracker.update([car(0.0, 20.0)], ego_at(0.0), 0.0)
    assert first.velocity is None
    a, b = tracker.update([car(0.0, 20.0), car(3.5, 30.0)], ego_at(0.0, speed=0.0), 0.1)
    assert a.id == first.id and b.id != first.id and b.velocity is None


def test_labels_must_match():
    tracker = Tracker()
    [first] = tracker.update([car(0.0, 20.0)], ego_at(0.0), 0.0)
    [second] = tracker.update([car(0.0, 19.0, label="truck")], ego_at(1.0), 0.1)
    assert second.id != first.id


def test_static_objects_never_move():
    tracker = Tracker()
    [light] = tracker.update([car(5.0, 30.0, label="traffic_light")], ego_at(0.0), 0.0)
    assert light.velocity == (0.0, 0.0)
    [light] = tracker.update([car(5.0, 29.2, label="traffic_light")], ego_at(1.0), 0.1)   # 0.2 m of jitter
    assert light.velocity == (0.0, 0.0)


def test_a_track_survives_short_gaps_and_ends_after_max_misses():
    tracker = Tracker(max_misses=1)
    [first] = tracker.update([car(0.0, 20.0)], ego_at(0.0, 0.0), 0.0)
    tracker.update([], ego_at(0.0, 0.0), 0.1)
    [back] = tracker.update([car(0.0, 20.0)], ego_at(0.0, 0.0), 0.2)
    assert back.id == first.id
    tracker.update([], ego_at(0.0, 0.0), 0.3)
    tracker.update([], ego_at(0.0, 0.0), 0.4)
    [new] = tracker.update([car(0.0, 20.0)], ego_at(0.0, 0.0), 0.5)
    assert new.id != first.id


def test_far_jumps_start_new_tracks():
    tracker = Tracker(max_distance_m=2.0)
    [first] = tracker.update([car(0.0, 20.0)], ego_at(0.0, 0.0), 0.0)
    [second] = tracker.update([car(0.0, 25.0)], ego_at(0.0, 0.0), 0.1)
    assert second.id != first.id


def test_time_going_back_is_refused_and_reset_starts_over():
    tracker = Tracker()
    tracker.update([car(0.0, 20.0)], ego_at(0.0), 1.0)
    with pytest.raises(ValueError, match="time order. Received time_s=0.5 after 1.0"):
        tracker.update([car(0.0, 20.0)], ego_at(0.0), 0.5)
    [again] = tracker.reset().update([car(0.0, 20.0)], ego_at(0.0), 0.0)
    assert again.id == "o1"


def test_tracks_follow_ground_truth_over_a_generated_episode():
    from perception.world import generate_episode, preset_config
    from bridge.ground_truth import ground_truth_objects

    episode = generate_episode(preset_config("default"), seed=3, num_frames=12)
    tracker = Tracker()
    pairs = {}
    for scene in episode:
        objects = ground_truth_objects(scene)
        tracked = tracker.update(objects, scene.ego, scene.time_s)
        for truth, found in zip(objects, tracked):
            pairs.setdefault(truth.id, set()).add(found.id)
    # every true object keeps one track id (objects cut by the image border may split)
    stable = sum(len(ids) == 1 for ids in pairs.values())
    assert stable / len(pairs) >= 0.9


def test_a_braking_objects_uncertainty_covers_the_lag_of_its_fitted_speed():
    # a truck 12 m ahead brakes at 8 m/s^2 from 8 m/s; the ego holds 9 m/s; 10 frames a second.
    # The slope over the last 3 frames is the speed 0.1 s ago: 0.8 m/s too fast.
    from bridge.geometry import closing_speed

    tracker = Tracker(speed_uncertainty=0.8)
    ego_speed, last = 9.0, None
    for k in range(6):
        t = k / 10
        odometry = ego_speed * t
        truck_y = 12.0 + 8.0 * t - 4.0 * t * t     # road frame, relative to the ego's start
        [last] = tracker.update([car(0.0, truck_y - odometry, label="truck")], ego_at(odometry, ego_speed), t)
    true_speed = 8.0 - 8.0 * 0.5
    ego = ego_at(ego_speed * 0.5, ego_speed)
    true_closing = ego_speed - true_speed
    estimated_closing = closing_speed(last, ego)
    assert estimated_closing < true_closing - 0.5                 # the fit lags...
    assert estimated_closing + last.speed_uncertainty >= true_closing - 1e-6   # ...and the uncertainty covers it


def test_a_steady_object_straight_ahead_keeps_the_base_uncertainty():
    tracker = Tracker(speed_uncertainty=0.5)
    for k in range(6):
        t = k / 10
        [last] = tracker.update([car(0.0, 20.0 + 5.0 * t - 10.0 * t)], ego_at(10.0 * t), t)
    assert last.velocity == pytest.approx((0.0, 5.0)) and last.speed_uncertainty == pytest.approx(0.5)


def test_fewer_observations_widen_the_uncertainty_and_the_line_of_sight_projects_it():
    tracker = Tracker(window=3, speed_uncertainty=0.5)
    uncertainties = []
    for k in range(3):
        t = k / 10
        [last] = tracker.update([car(0.0, 20.0)], ego_at(0.0, speed=0.0), t)
        uncertainties.append(last.speed_uncertainty)
    assert uncertainties == [0.0, pytest.approx(1.0), pytest.approx(0.5)]   # unknown, 2 frames, a full window
    tracker = Tracker(window=3, speed_uncertainty=0.5)
    for k in range(3):
        [last] = tracker.update([car(10.0, 10.0)], ego_at(0.0, speed=0.0), k / 10)   # 45 degrees off
    assert last.speed_uncertainty == pytest.approx(0.5 * 2 / 2 ** 0.5)   # each axis, projected on the line of sight


def test_an_object_entering_the_view_is_followed_by_the_edge_inside_the_image():
    # a car 2 m/s slower than the ego (8 m/s, closing on it) enters at the top of the image,
    # 46 m ahead: the border cuts its front off, so its box grows while its rear edge moves at -2 m/s.
    tracker = Tracker()
    top, length = 46.0, 4.5
    for k in range(4):
        t = k / 10
        rear = 43.0 - 2.0 * t
        visible = min(top - rear, length)
        seen = ObjectState("detection", "car", (0.0, rear + visible / 2), (visible, 1.8),
                           truncated=("front",) if visible < length else ())
        [last] = tracker.update([seen], ego_at(8.0 * t, speed=8.0), t)
    assert last.velocity == pytest.approx((0.0, 6.0))    # the centre alone reads -1 m/s relative: 7 m/s


def test_an_axis_cut_off_on_both_sides_has_no_velocity():
    tracker = Tracker()
    for k in range(3):
        seen = ObjectState("detection", "truck", (0.0, 40.0), (12.0, 2.5), truncated=("front", "rear"))
        [last] = tracker.update([seen], ego_at(0.0, speed=0.0), k / 10)
    assert last.velocity is None


def test_tracked_decisions_stay_safe_behind_a_truck_braking_hard(traffic_reasoner):
    # the ego holds 9 m/s behind a truck braking at 8 m/s^2 from 9 m/s, 10 frames a second:
    # every robust decision on tracked motion must keep the hard rules under the true motion
    from perception.world import Lane, RoadMap
    from bridge.grounding import ground_objects

    reasoner = traffic_reasoner
    road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
    tracker = Tracker()
    actions = []
    for k in range(12):
        t = k / 10
        ego = EgoState(lane=0, speed=9.0, odometry=9.0 * t, length=4.5, width=1.8)
        speed = max(9.0 - 8.0 * t, 0.0)
        truck_y = 16.0 + 9.0 * t - 4.0 * min(t, 9.0 / 8.0) ** 2 - ego.odometry
        truth = ObjectState("o1", "truck", (0.0, truck_y), (6.0, 2.4), velocity=(0.0, speed))
        [tracked] = tracker.update([dataclasses.replace(truth, velocity=None)], ego, t)
        action = reasoner.decide(ground_objects([tracked], road, ego)[0], explain=False).action
        assert reasoner.violations(ground_objects([truth], road, ego)[0], action) == [], (k, action)
        actions.append(action)
    # safe without always stopping: while the tracked truck keeps its distance the ego slows, then it stops
    assert "slow" in actions[1:5] and actions[-3:] == ["stop"] * 3, actions


def test_a_detectors_position_uncertainty_widens_the_fitted_velocity():
    tracker = Tracker(window=3, speed_uncertainty=0.5, jitter_fraction=0.4)
    noisy = lambda y: dataclasses.replace(car(0.0, y), position_uncertainty=0.2)
    tracker.update([noisy(20.0)], ego_at(0.0, speed=0.0), 0.0)
    [two] = tracker.update([noisy(20.5)], ego_at(0.0, speed=0.0), 0.1)
    [three] = tracker.update([noisy(21.0)], ego_at(0.0, speed=0.0), 0.2)
    # straight ahead: the closing speed is the y axis; 0.2 m at each end of 0.1 s moves the slope 4 m/s;
    # over three frames only the error's spread counts (jitter_fraction of it): 0.4 * 0.2 m over 0.2 s
    assert two.speed_uncertainty == pytest.approx(0.5 * 2 + 0.2 * 20.0)
    assert three.speed_uncertainty == pytest.approx(0.5 + 0.4 * 0.2 * 10.0)
    [exact] = Tracker(window=3, speed_uncertainty=0.5).update([car(0.0, 20.0)], ego_at(0.0), 0.0)
    assert exact.speed_uncertainty == 0.0    # a new track: its motion is unknown, not uncertain by a figure


def test_a_position_off_the_tracks_line_makes_its_velocity_unknown_until_the_window_is_consistent():
    tracker = Tracker(window=3, jitter_fraction=0.4)
    noisy = lambda y: dataclasses.replace(car(0.0, y), position_uncertainty=1.0)   # gate: 0.3 m off the line
    ys = [20.0, 20.5, 23.0, 21.5, 22.0, 22.5]   # 10 m/s apart from one box 1.5 m too far at t = 0.2
    tracked = [tracker.update([noisy(y)], ego_at(0.0, speed=0.0), k / 10)[0] for k, y in enumerate(ys)]
    assert len({o.id for o in tracked}) == 1
    assert [o.velocity is None for o in tracked] == [True, False, True, True, True, False]
    assert tracked[-1].velocity == pytest.approx((0.0, 5.0))
    assert tracked[-1].speed_uncertainty == pytest.approx(0.8 + 0.4 * 1.0 * 10.0)


def test_positions_within_the_gate_and_true_boxes_are_not_checked_for_consistency():
    ys = [20.0, 20.7, 21.0]    # 0.13 m off the line
    for uncertainty in (1.0, 0.0):
        tracker = Tracker(window=3)
        for k, y in enumerate(ys):
            [o] = tracker.update([dataclasses.replace(car(0.0, y), position_uncertainty=uncertainty)],
                                 ego_at(0.0, speed=0.0), k / 10)
        assert o.velocity == pytest.approx((0.0, 5.0))
    tracker = Tracker(window=3)
    for k, y in enumerate([20.0, 21.5, 21.0]):    # 0.67 m off the line, but true boxes: no gate
        [o] = tracker.update([car(0.0, y)], ego_at(0.0, speed=0.0), k / 10)
    assert o.velocity == pytest.approx((0.0, 5.0))


def test_a_tracked_object_keeps_its_best_recent_score_as_confidence():
    def seen(score):
        return dataclasses.replace(car(0.0, 20.0), confidence=score)

    remembering, forgetting = Tracker(existence_window=3), Tracker(existence_window=1)
    confidences = {id(t): [] for t in (remembering, forgetting)}
    for k, score in enumerate([0.9, 0.2, 0.1, 0.15, 0.3]):
        for tracker in (remembering, forgetting):
            [obj] = tracker.update([seen(score)], ego_at(0.0, speed=0.0), k / 10)
            confidences[id(tracker)].append(obj.confidence)
    assert confidences[id(remembering)] == [0.9, 0.9, 0.9, 0.2, 0.3]   # the 0.9 sighting counts for three frames
    assert confidences[id(forgetting)] == [0.9, 0.2, 0.1, 0.15, 0.3]


def test_a_missed_track_coasts_where_its_velocity_puts_it_and_fades():
    # a pedestrian crossing at 1.5 m/s, seen confidently for four frames, then hidden for three
    def walker(x, score=0.9):
        return ObjectState("detection", "pedestrian", (x, 12.0), (0.5, 0.5), score, position_uncertainty=0.5)

    tracker = Tracker(window=3, max_misses=2, existence_window=3, coast=True)
    for k in range(4):
        [seen] = tracker.update([walker(-3.0 + 0.15 * k)], ego_at(0.0, speed=0.0), k / 10)
    hidden = [tracker.update([], ego_at(0.0, speed=0.0), k / 10) for k in (4, 5, 6)]
    first, second = hidden[0][0], hidden[1][0]
    assert first.id == second.id == seen.id and first.coasted and first.box is None
    assert first.position == pytest.approx((-3.0 + 0.15 * 4, 12.0))
    assert second.position == pytest.approx((-3.0 + 0.15 * 5, 12.0))
    # the unseen time widens where it may be: each axis of the velocity may be off by its uncertainty
    assert 0.5 < first.position_uncertainty < second.position_uncertainty
    assert first.confidence == second.confidence == 0.9    # the last sightings' best score still counts
    assert hidden[2] == []                                  # past max_misses the track ends
    # a miss counts as a score of 0: one confident sighting fades after existence_window frames
    fading = Tracker(window=3, max_misses=5, existence_window=2, coast=True)
    fading.update([walker(-3.0)], ego_at(0.0, speed=0.0), 0.0)
    fading.update([walker(-2.85, score=0.3)], ego_at(0.0, speed=0.0), 0.1)
    assert [o.confidence for o in fading.update([], ego_at(0.0, speed=0.0), 0.2)] == [0.3]
    assert fading.update([], ego_at(0.0, speed=0.0), 0.3) == []


def test_only_tracks_with_a_known_velocity_coast_and_the_ego_motion_is_removed():
    tracker = Tracker(coast=True, existence_window=2)
    tracker.update([car(0.0, 20.0)], ego_at(0.0), 0.0)
    assert tracker.update([], ego_at(1.0), 0.1) == []       # seen once: its motion, so its place, is unknown
    tracker = Tracker(coast=True, existence_window=2)
    for k in range(3):   # a car at 6 m/s ahead of an ego at 10 m/s
        tracker.update([car(0.0, 20.0 - 4.0 * k / 10)], ego_at(1.0 * k), k / 10)
    [coasted] = tracker.update([], ego_at(3.0), 0.3)
    assert coasted.position == pytest.approx((0.0, 20.0 - 4.0 * 0.3))
    assert coasted.velocity == pytest.approx((0.0, 6.0))
    # with an existence window of 1 a miss leaves no confidence: nothing coasts
    tracker = Tracker(coast=True, existence_window=1)
    for k in range(3):
        tracker.update([car(0.0, 20.0 - 4.0 * k / 10)], ego_at(1.0 * k), k / 10)
    assert tracker.update([], ego_at(3.0), 0.3) == []


# ------------------------------------------------------------------ unknown motion and occlusion memory

def _pedestrian(x, y, confidence=0.9, uncertainty=0.5):
    return ObjectState("d", "pedestrian", (x, y), (0.5, 0.5), confidence, position_uncertainty=uncertainty)


def test_a_track_of_unknown_motion_coasts_only_with_a_top_speed_and_grows_by_it():
    ego = EgoState(lane=0, speed=0.0, odometry=0.0)
    for top_speeds, expected in (({}, []), ({"pedestrian": 3.0}, [0.5 + 3.0 * 0.1])):
        tracker = Tracker(coast=True, existence_window=3, top_speeds=top_speeds)
        tracker.update([_pedestrian(1.0, 8.0)], ego, time_s=0.0)   # one sighting: motion unknown
        missed = tracker.update([], ego, time_s=0.1)
        assert [round(o.position_uncertainty, 6) for o in missed] == expected
        assert all(o.coasted and o.velocity is None and o.position == (1.0, 8.0) for o in missed)


def test_a_confirmed_pedestrian_is_remembered_while_occluded_and_found_again_under_its_id():
    ego = EgoState(lane=0, speed=0.0, odometry=0.0)
    tracker = Tracker(coast=True, existence_window=3, top_speeds={"pedestrian": 3.0}, memory_s={"pedestrian": 2.0})
    seen = [tracker.update([_pedestrian(1.0, 8.0 + 0.1 * k)], ego, time_s=0.1 * k) for k in range(4)]
    track_id = seen[-1][0].id
    hidden = [tracker.update([], ego, time_s=0.3 + 0.1 * k) for k in range(1, 16)]   # 1.5 s under a tree
    assert all(len(frame) == 1 and frame[0].id == track_id and frame[0].coasted for frame in hidden)
    assert hidden[-1][0].confidence == pytest.approx(0.9)   # the confidence it was seen with, not 0
    widths = [frame[0].position_uncertainty for frame in hidden]
    assert widths == sorted(widths) and widths[-1] > widths[0]
    back = tracker.update([_pedestrian(1.0, 10.1)], ego, time_s=1.9)
    assert back[0].id == track_id and not back[0].coasted
    # unseen again: past max_misses (2 frames) it lasts while three sightings (0.2, 0.3, 1.9 s) are within 2 s
    assert [len(tracker.update([], ego, time_s=t)) for t in (2.0, 2.1, 2.2, 2.3)] == [1, 1, 1, 0]


def test_one_confident_blip_is_not_remembered():
    ego = EgoState(lane=0, speed=0.0, odometry=0.0)
    tracker = Tracker(existence_window=3, memory_s={"pedestrian": 2.0})
    scores = [0.05, 0.95, 0.05, 0.05, 0.05]
    confidences = [tracker.update([_pedestrian(1.0, 8.0, confidence=c)], ego, time_s=0.1 * k)[0].confidence
                   for k, c in enumerate(scores)]
    assert confidences[-1] == pytest.approx(0.05)   # the blip left the existence window; memory keeps no blip


def test_an_unconfirmed_detection_is_not_remembered():
    ego = EgoState(lane=0, speed=0.0, odometry=0.0)
    tracker = Tracker(coast=True, existence_window=3, max_misses=1, top_speeds={"pedestrian": 3.0},
                      memory_s={"pedestrian": 2.0})
    tracker.update([_pedestrian(1.0, 8.0, confidence=0.4)], ego, time_s=0.0)   # one sighting: a blip
    assert len(tracker.update([], ego, time_s=0.1)) == 1     # within max_misses it coasts
    assert tracker.update([], ego, time_s=0.2) == []         # then it is gone: never confirmed


def test_memory_and_top_speeds_refuse_non_finite_values():
    with pytest.raises(ValueError, match=r"`memory_s` must map class names to finite numbers >= 0. "
                                         r"Received: memory_s\['pedestrian'\]=inf"):
        Tracker(memory_s={"pedestrian": float("inf")})
