"""Metrics: agreement, unsafe decisions, perception errors as causes, latency."""
import json

import numpy as np
import pytest
import torch

from perception.detections import Detections
from perception.world import Calibration, EgoState, Lane, RoadMap, Scene, StopLine, WorldObject
from bridge.evaluation.metrics import (FrameEvaluation, PipelineMetrics, evaluate_pipeline, evaluate_results,
                                      latency_summary, perception_errors)
from bridge.ground_truth import scene_detections
from bridge.pipeline import Pipeline
from bridge.vocabulary import CLASS_NAMES, LIGHT_STATES

CALIBRATION = Calibration(0.25, (256, 256), (128.0, 230.0))


def world_object(id, label, x, y, length, width, **kwargs):
    u, v = CALIBRATION.ego_to_pixel(x, y)
    box = (u - width / 0.5, v - length / 0.5, u + width / 0.5, v + length / 0.5)
    return WorldObject(id, label, box, (x, y), 0.0, 0.0, (0.0, 0.0), (length, width), None, **kwargs)


def scene_with(objects, speed=8.0):
    road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0, stop_lines=[StopLine(15.0, -1.75, 1.75, (0,), "traffic_light", 1)])
    return Scene(np.zeros((256, 256, 3), np.uint8), objects, road, CALIBRATION, EgoState(0, speed), image_id=1)


RED = world_object("o1", "traffic_light", 3.5, 16.0, 1.2, 1.2, attributes={"light_state": "red"}, applies_to_ego=True)
PARKED = world_object("o2", "car", -6.0, 30.0, 4.4, 2.0)


class Replace:
    """A detector returning ``edit(true detections)``."""

    def __init__(self, scene, edit):
        self.scene, self.edit = scene, edit

    def predict(self, images, *, score_threshold, batch_size, precision="auto"):
        return [self.edit(scene_detections(self.scene)) for _ in range(images.shape[0])]


@pytest.fixture(scope="module")
def reasoner(traffic_reasoner):
    return traffic_reasoner


def run(reasoner, scene, edit):
    pipeline = Pipeline(perception=Replace(scene, edit), reasoner=reasoner)
    return evaluate_pipeline(pipeline, [scene], stream=False)


def test_missing_a_red_light_is_an_unsafe_disagreement_caused_by_a_miss(reasoner):
    metrics = run(reasoner, scene_with([RED, PARKED]), lambda d: d.select(torch.tensor([False, True])))
    [frame] = metrics.frames
    assert frame.truth_action == "stop" and frame.action != "stop"
    assert metrics.agreement == 0.0 and metrics.num_unsafe == 1
    assert any(name.startswith("red_light") for name in frame.unsafe)
    [cause] = frame.causes()
    assert (cause.kind, cause.truth_id, cause.relevant) == ("missed", "o1", True)
    assert metrics.cause_counts()["missed"] == 1


def test_a_light_seen_green_is_a_wrong_light_state(reasoner):
    def green(d):
        return Detections(d.boxes, d.labels, d.scores, CLASS_NAMES,
                          {"light_state": torch.tensor([[0.0, 0.0, 1.0], [float("nan")] * 3])},
                          {"light_state": LIGHT_STATES})

    [frame] = run(reasoner, scene_with([RED, PARKED]), green).frames
    assert not frame.agrees and frame.unsafe
    assert [(e.kind, e.detail) for e in frame.causes()] == [("wrong_light", "red seen as green")]


def test_false_and_mislabelled_objects_are_named(reasoner):
    def confuse(d):
        boxes = torch.cat([d.boxes, torch.tensor([[10.0, 10.0, 20.0, 30.0]])])
        labels = torch.tensor([CLASS_NAMES.index("traffic_light"), CLASS_NAMES.index("truck"),
                               CLASS_NAMES.index("pedestrian")])
        return Detections(boxes, labels, torch.tensor([1.0, 0.9, 0.3]), CLASS_NAMES)

    scene = scene_with([RED, PARKED])
    pipeline = Pipeline(perception=Replace(scene, confuse), reasoner=reasoner)
    [result] = pipeline([scene])
    kinds = {(e.kind, e.label) for e in perception_errors(result, scene)}
    assert kinds == {("mislabelled", "car"), ("false", "pedestrian")}


def test_a_coasted_object_is_no_detection_and_the_missed_light_still_counts(reasoner):
    import dataclasses

    scene = scene_with([RED, PARKED])
    [result] = Pipeline(perception=Replace(scene, lambda d: d.select(torch.tensor([False, True]))), reasoner=reasoner)([scene])
    light = grounding_object_of(RED)
    coasted = dataclasses.replace(light, id="o9", box=None, coasted=True)   # where a tracker would have kept it
    result.objects = [*result.objects, coasted]
    errors = perception_errors(result, scene)
    assert [(e.kind, e.truth_id) for e in errors] == [("missed", "o1")]


def grounding_object_of(world):
    from bridge.geometry import ObjectState

    return ObjectState(world.id, world.label, world.position, world.size, box=world.box)


def test_perfect_detections_agree(reasoner):
    metrics = run(reasoner, scene_with([RED, PARKED]), lambda d: d)
    assert metrics.agreement == 1.0 and metrics.num_unsafe == 0 and metrics.frames[0].errors == []


def test_evaluate_results_needs_something_to_judge_against():
    with pytest.raises(ValueError, match="pass `truth_reasoner=`"):
        evaluate_results([])


def test_figures_confusion_json_and_table(tmp_path):
    frames = [FrameEvaluation("a", "stop", "stop", timings_ms={"perception": 4.0, "total": 5.0}),
              FrameEvaluation("b", "slow", "go", timings_ms={"perception": 6.0, "total": 8.0}),
              FrameEvaluation("c", "go", "stop", unsafe=["red_light[o1]"], timings_ms={"perception": 5.0, "total": 6.0})]
    metrics = PipelineMetrics(frames, ("stop", "slow", "go"), wall_s=0.3)
    assert metrics.agreement == pytest.approx(1 / 3) and metrics.num_unsafe == 1
    assert metrics.frames_per_second == pytest.approx(10.0)
    assert metrics.confusion() == [[1, 0, 1], [0, 0, 0], [0, 1, 0]]
    assert metrics.action_counts()["truth"] == {"stop": 2, "slow": 0, "go": 1}
    assert metrics.latency()["total"]["p50"] == 6.0
    path = metrics.write_json(tmp_path / "m.json")
    data = json.loads(path.read_text())
    assert data["num_unsafe"] == 1 and [d["frame"] for d in data["disagreements"]] == ["b", "c"]
    assert data["balanced_agreement"] == pytest.approx(0.25) and data["recall"] == {"stop": 0.5, "go": 0.0}
    table = metrics.table()
    assert "agreement           33.33%" in table and "unsafe decisions    1" in table
    assert "balanced agreement  0.250" in table and "recall            stop 0.50  go 0.00" in table


def test_balanced_agreement_does_not_reward_always_stopping():
    # stop is the truth in 8 of 10 frames: always stopping agrees 80% of the time but recalls no other action
    truth = ["stop"] * 8 + ["go", "slow"]
    always_stop = PipelineMetrics([FrameEvaluation(str(i), "stop", t) for i, t in enumerate(truth)],
                                  ("stop", "slow", "go"))
    assert always_stop.agreement == pytest.approx(0.8)
    assert always_stop.recall() == {"stop": 1.0, "slow": 0.0, "go": 0.0}
    assert always_stop.balanced_agreement == pytest.approx(1 / 3)
    right = PipelineMetrics([FrameEvaluation(str(i), t, t) for i, t in enumerate(truth)], ("stop", "slow", "go"))
    assert right.balanced_agreement == 1.0


def test_warmup_frames_count_only_in_the_every_frame_figures():
    frames = [FrameEvaluation("w0", "stop", "go", unsafe=[], judged=False, frame_index=0),
              FrameEvaluation("w1", "go", "stop", unsafe=["red_light[o1]"], judged=False, frame_index=1),
              FrameEvaluation("a", "go", "go", frame_index=2), FrameEvaluation("b", "stop", "stop", frame_index=3)]
    metrics = PipelineMetrics(frames, ("stop", "go"), wall_s=0.4)
    assert (metrics.num_frames, metrics.num_warmup) == (2, 2)
    assert metrics.agreement == 1.0 and metrics.balanced_agreement == 1.0 and metrics.num_unsafe == 0
    assert metrics.agreement_every_frame == 0.5 and metrics.num_unsafe_every_frame == 1
    assert metrics.balanced_agreement_every_frame == pytest.approx(0.5)
    assert metrics.confusion() == [[1, 0], [0, 1]] and metrics.confusion(every_frame=True) == [[1, 1], [1, 1]]
    assert metrics.frames_per_second == pytest.approx(10.0)   # the pipeline decided all four
    data = metrics.to_json()
    assert data["num_warmup"] == 2 and data["every_frame"]["num_unsafe"] == 1
    assert "plus 2 warm-up frames not judged" in metrics.table()


def test_warmup_frames_are_seen_by_the_tracker_and_not_judged(traffic_reasoner):
    from perception.world import preset_config

    from bridge.frames import generate_episode_frames
    from bridge.pipeline import Pipeline

    world = preset_config("easy", image_size=128, metres_per_pixel=0.4)
    frames = generate_episode_frames(world, 4, episode_length=2, warmup_frames=2)
    assert [(f.frame_index, f.warmup) for f in frames] == [(0, True), (1, True), (2, False), (3, False)] * 2
    oracle = Pipeline(reasoner=traffic_reasoner, oracle=True)
    metrics = evaluate_pipeline(oracle, frames)
    assert (metrics.num_frames, metrics.num_warmup) == (4, 4)
    assert [f.judged for f in metrics.frames] == [False, False, True, True] * 2
    # the detector pipeline's tracker follows each episode from its first warm-up frame, so motion is known
    # at the first judged frame; without warm-up the first judged frame has none
    pipeline = Pipeline.from_config("configs/drive.yaml")
    world = preset_config("easy")
    warm = generate_episode_frames(world, 1, episode_length=1, seed=3, warmup_frames=2)
    cold = generate_episode_frames(world, 1, episode_length=1, seed=3)
    first_judged = list(pipeline.stream(warm))[-1]
    [cold_result] = pipeline.stream(cold)
    def moving(result):
        return [o for o in result.objects if o.label not in ("traffic_light", "stop_sign")]

    assert moving(first_judged) and any(o.velocity is not None for o in moving(first_judged))
    assert moving(cold_result) and all(o.velocity is None for o in moving(cold_result))
    assert [f.judged for f in evaluate_pipeline(pipeline, warm).frames] == [False, False, True]


def test_latency_percentiles():
    summary = latency_summary([{"reasoning": float(v)} for v in range(1, 101)])
    assert summary["reasoning"]["p50"] == pytest.approx(50.5)
    assert summary["reasoning"]["p99"] == pytest.approx(99.01)
    assert "perception" not in summary
