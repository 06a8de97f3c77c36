"""The pipeline: oracle agreement by construction, detector path, streaming, robust mode, config, warm-up."""
import dataclasses
import time

import numpy as np
import pytest
import torch

from perception.detections import Detections
from perception.world import (Calibration, EgoState, Lane, RoadMap, Scene, StopLine, WorldObject,
                              generate_episode, generate_scene, preset_config)
from symbolic.reasoning.reasoner import Reasoner
from bridge.evaluation.metrics import evaluate_pipeline
from bridge.experiment import PipelineConfig
from bridge.ground_truth import ground_truth_facts, scene_detections
from bridge.pipeline import Pipeline
from bridge.vocabulary import CLASS_NAMES, LIGHT_STATES

RULES = PipelineConfig().rules_path()
CALIBRATION = Calibration(0.25, (256, 256), (128.0, 230.0))


def world_object(id, label, x, y, length, width, **kwargs):
    u, v = CALIBRATION.ego_to_pixel(x, y)
    box = (u - width / 0.5, v - length / 0.5, u + width / 0.5, v + length / 0.5)
    return WorldObject(id, label, box, (x, y), 0.0, 0.0, (0.0, 0.0), (length, width), None, **kwargs)


def red_light_scene(state="red"):
    """The ego at 8 m/s, 15 m before a stop line whose light (beside the road) shows ``state``."""
    road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0, stop_lines=[StopLine(15.0, -1.75, 1.75, (0,), "traffic_light", 1)])
    light = world_object("o1", "traffic_light", 3.5, 16.0, 1.2, 1.2, attributes={"light_state": state},
                         applies_to_ego=True)
    return Scene(np.zeros((256, 256, 3), np.uint8), [light], road, CALIBRATION, EgoState(0, 8.0), image_id=1)


class FakeDetector:
    """Returns prepared detections and records what it was asked."""

    def __init__(self, make):
        self.make = make
        self.calls = []

    def predict(self, images, *, score_threshold, batch_size, precision="auto"):
        self.calls.append((tuple(images.shape), float(images.min()), float(images.max()), score_threshold))
        return [self.make(i) for i in range(images.shape[0])]


@pytest.fixture(scope="module")
def reasoner(traffic_reasoner):
    return traffic_reasoner


@pytest.mark.parametrize("preset", ["default", "hard"])
def test_oracle_agrees_with_ground_truth_by_construction(reasoner, preset):
    pipeline = Pipeline(reasoner=reasoner, oracle=True)
    scenes = [generate_scene(preset_config(preset), seed=seed) for seed in range(40)]
    episode = generate_episode(preset_config(preset), seed=5, num_frames=25)
    batched = evaluate_pipeline(pipeline, scenes, stream=False)
    streamed = evaluate_pipeline(pipeline, episode, stream=True)
    for metrics in (batched, streamed):
        assert metrics.agreement == 1.0 and metrics.num_unsafe == 0
        assert all(not f.errors for f in metrics.frames)
    assert len({f.truth_action for f in batched.frames}) >= 3       # the check is not vacuous
    [result] = pipeline(scenes[:1])
    assert result.facts.to_json() == ground_truth_facts(scenes[0]).to_json()


def test_detector_path_feeds_float_images_and_the_score_threshold(reasoner):
    scene = red_light_scene()
    detector = FakeDetector(lambda i: scene_detections(scene))
    pipeline = Pipeline(perception=detector, reasoner=reasoner, config=PipelineConfig(score_threshold=0.12))
    results = pipeline([scene, scene])
    assert detector.calls == [((32, 3, 256, 256), 0.0, 0.0, 0.12),   # the untimed warm-up: one full batch
                              ((2, 3, 256, 256), 0.0, 0.0, 0.12)]
    assert [r.action for r in results] == ["stop", "stop"]
    assert results[0].objects[0].id == "o1"
    assert set(results[0].timings_ms) == {"perception", "grounding", "reasoning", "total"}
    assert "red_light" in {r.rule for r in results[0].decision.fired}
    record = results[0].to_json()
    assert record["action"] == "stop" and record["detections"][0]["label"] == "traffic_light"
    assert "go" in record["decision"]["why_not"]


def light_detections(score, probabilities):
    scene = red_light_scene()
    detections = scene_detections(scene)
    return Detections(detections.boxes, detections.labels, torch.tensor([score]), CLASS_NAMES,
                      {"light_state": torch.tensor([probabilities])}, {"light_state": LIGHT_STATES})


def test_robust_mode_stops_for_an_uncertain_red_light(reasoner):
    scene = red_light_scene()
    weak = FakeDetector(lambda i: light_detections(0.45, [0.6, 0.1, 0.3]))
    robust = Pipeline(perception=weak, reasoner=Reasoner.from_file(RULES, robust=True), config=PipelineConfig())
    careless = Pipeline(perception=weak, reasoner=Reasoner.from_file(RULES, robust=False), config=PipelineConfig(robust=False))
    [decided] = robust([scene])
    assert decided.action == "stop"
    assert decided.decision.uncertain
    assert careless([scene])[0].action != "stop"          # the light is read as absent (score < 0.5)


def test_an_object_the_reasoner_reads_as_absent_is_not_grounded():
    # a car 8 m ahead in the ego lane, motion unknown: present, even uncertain, it may be about to be hit
    road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0)
    ahead = world_object("o1", "car", 1.75, 8.0, 4.5, 1.8)
    scene = Scene(np.zeros((256, 256, 3), np.uint8), [ahead], road, CALIBRATION, EgoState(0, 8.0), image_id=1)

    def scored(score):
        found = scene_detections(scene)
        return Detections(found.boxes, found.labels, torch.tensor([score]), CLASS_NAMES)

    reasoner = Reasoner.from_file(RULES, robust=True, low=0.25)
    config = PipelineConfig(low=0.25, score_threshold=0.08)
    [weak] = Pipeline(perception=FakeDetector(lambda i: scored(0.2)), reasoner=reasoner, config=config)([scene])
    [possible] = Pipeline(perception=FakeDetector(lambda i: scored(0.5)), reasoner=reasoner, config=config)([scene])
    assert weak.objects == [] and not [f for f in weak.facts if f.args] and weak.action == "go"
    assert [o.confidence for o in possible.objects] == [0.5] and possible.action == "stop"
    assert "emergency_brake" in {r.rule for r in possible.decision.why_not["go"].rules}


def test_green_light_goes(reasoner):
    scene = red_light_scene("green")
    [result] = Pipeline(reasoner=reasoner, oracle=True)([scene])
    assert result.action == "go"


def test_stream_tracks_ids_and_restarts_per_episode(reasoner):
    first = generate_episode(preset_config("default"), seed=11, num_frames=6)
    second = [dataclasses.replace(s, episode_id=99) for s in generate_episode(preset_config("default"), seed=12,
                                                                             num_frames=3)]
    frames = first + second
    detector = FakeDetector(lambda i: None)
    queue = iter([frames[0], *frames])        # the untimed warm-up sees the first frame first
    detector.make = lambda i: scene_detections(next(queue))
    results = list(Pipeline(perception=detector, reasoner=reasoner).stream(frames))
    assert len(results) == 9
    ids = [sorted(o.id for o in r.objects) for r in results]
    assert ids[6][0] == "o1" and len(ids[6]) == len(frames[6].objects)      # a fresh tracker
    common = set(ids[0]) & set(ids[5])
    assert len(common) >= 2                                                  # objects kept their ids
    moving = [o for o in results[5].objects if o.velocity is not None and o.label in ("car", "truck")]
    assert moving and all(np.isfinite(o.velocity).all() for o in moving)


def test_batched_episodes_tracked_decide_as_streaming_and_independent_images_keep_motion_unknown(reasoner):
    first = generate_episode(preset_config("default"), seed=11, num_frames=6)
    second = [dataclasses.replace(s, episode_id=99) for s in generate_episode(preset_config("default"), seed=12,
                                                                             num_frames=4)]
    frames = first + second

    def true_boxes():
        queue = iter(frames)                  # one detection per frame, in order: no warm-up pass
        return FakeDetector(lambda i: scene_detections(next(queue)))

    config = PipelineConfig(batch_size=4)
    streamed = list(Pipeline(perception=true_boxes(), reasoner=reasoner, config=config).stream(frames, warm_up=False))
    tracked = Pipeline(perception=true_boxes(), reasoner=reasoner, config=config)(frames, track=True, warm_up=False)
    alone = Pipeline(perception=true_boxes(), reasoner=reasoner, config=config)(frames, warm_up=False)
    assert [r.facts for r in tracked] == [r.facts for r in streamed]
    assert [r.decision.to_json()["why_not"] for r in tracked] == [r.decision.to_json()["why_not"] for r in streamed]
    assert [r.action for r in tracked] == [r.action for r in streamed]

    def motion_known(result):  # of the road users (lights and signs never move)
        return [f.confidence != 0.5 for f in result.facts.with_predicate("approaching")
                if result.facts.objects.get(f.args[0]) not in ("traffic_light", "stop_sign")]
    assert all(not any(motion_known(r)) for r in alone)          # one image: no object's motion is known
    assert any(motion_known(tracked[5])) and not any(motion_known(tracked[6]))  # a new episode starts afresh


def test_the_stages_are_public_and_swappable(reasoner):
    from bridge.grounding import DrivingGrounder
    from bridge.perception_stage import DetectorPerception, OraclePerception
    from bridge.postprocess import PostProcess

    scene = red_light_scene()
    detector = FakeDetector(lambda i: scene_detections(scene))
    config = PipelineConfig(score_threshold=0.12, position_uncertainty_m=0.3, class_groups=[])
    wrapped = Pipeline(perception=detector, reasoner=reasoner, config=config)
    assert isinstance(wrapped.perception, DetectorPerception) and wrapped.perception.detector is detector
    assert (wrapped.perception.score_threshold, wrapped.perception.position_uncertainty_m) == (0.12, 0.3)
    assert wrapped.tracker is not None and isinstance(wrapped.grounder, DrivingGrounder) and not wrapped.oracle
    [result] = wrapped([scene])
    assert result.objects[0].position_uncertainty == 0.3

    class Recording:   # a grounder stage that records what it was asked
        def __init__(self):
            self.inner, self.calls = DrivingGrounder(), []

        def locate(self, detections, frame):
            self.calls.append("locate")
            return self.inner.locate(detections, frame)

        def ground(self, objects, frame):
            self.calls.append("ground")
            return self.inner.ground(objects, frame)

    recording = Recording()
    [swapped] = Pipeline(perception=OraclePerception(), postprocess=PostProcess(), grounder=recording,
                         reasoner=reasoner)([scene], warm_up=False)
    assert recording.calls == ["locate", "ground"] and swapped.action == "stop"


def test_oracle_mode_is_decided_once_by_its_stages(reasoner):
    from bridge.perception_stage import OraclePerception

    oracle = Pipeline(reasoner=reasoner, oracle=True, config=PipelineConfig(duplicate_iou=0.5))
    assert isinstance(oracle.perception, OraclePerception) and oracle.oracle
    assert oracle.tracker is None and oracle.grounder.motion_prior is None
    assert oracle.postprocess.calibration is None and oracle.postprocess.duplicate_iou == 1.0
    assert not oracle.postprocess.class_groups
    frames = generate_episode(preset_config("default"), seed=4, num_frames=3)
    [*_, last] = oracle.stream(frames)
    assert sorted(o.id for o in last.objects) == sorted(o.id for o in frames[-1].objects)   # the truth's ids
    assert all(o.velocity is not None and o.position_uncertainty == 0.0 for o in last.objects)
    with pytest.raises(ValueError, match="not both"):
        Pipeline(perception=FakeDetector(lambda i: None), reasoner=reasoner, oracle=True)


def test_missing_parts_are_reported(reasoner):
    with pytest.raises(ValueError, match="no reasoner"):
        Pipeline(oracle=True)([])
    with pytest.raises(ValueError, match="no perception"):
        Pipeline(reasoner=reasoner)([])
    bare = dataclasses.make_dataclass("Frame", ["image", "road", "calibration", "ego"])
    frame = bare(np.zeros((8, 8, 3), np.uint8), None, None, None)
    with pytest.raises(ValueError, match="oracle mode needs ground truth"):
        Pipeline(reasoner=reasoner, oracle=True)([frame])


def test_config_section_is_validated(tmp_path):
    from bridge.config import ConfigError
    from bridge.experiment import load_config

    good = tmp_path / "drive.yaml"
    good.write_text(f"pipeline:\n  rules: {RULES}\n  robust: false\n  low: 0.1\n  score_threshold: 0.05\n")
    pipeline = Pipeline.from_config(good, oracle=True)
    assert pipeline.reasoner.robust is False and pipeline.config.low == 0.1 and pipeline.oracle
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipeline:\n  robust: true\n  score_treshold: 0.2\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:3: unknown key 'pipeline.score_treshold'. Did you mean 'score_threshold'"):
        load_config(bad)
    inverted = tmp_path / "inverted.yaml"
    inverted.write_text("pipeline:\n  low: 0.9\n  high: 0.5\n")
    with pytest.raises(ConfigError, match="`low` must be below `high`. Received: low=0.9, high=0.5"):
        load_config(inverted)
    with pytest.raises(TypeError, match="Received int"):
        Pipeline.from_config(3)


def test_from_config_refuses_rules_the_grounding_cannot_feed(tmp_path):
    from bridge.vocabulary import VocabularyError

    rules = tmp_path / "fog.rules"
    rules.write_text(f'include "{RULES.parent / "vocabulary.rules"}"\npred foggy\nrule fog: foggy => slow\n')
    config = tmp_path / "drive.yaml"
    config.write_text(f"pipeline:\n  rules: {rules}\n")
    with pytest.raises(VocabularyError, match=r"fog.rules:3: rule 'fog' uses 'foggy', which the grounding never produces"):
        Pipeline.from_config(config, oracle=True)


def test_overlapped_batches_give_the_same_decisions():
    scenes = [generate_scene(preset_config("default"), seed=seed) for seed in range(70)]
    reasoner = Reasoner.from_file(RULES, time_budget_ms=60_000)  # a busy machine must not time a frame out
    pipeline = Pipeline(reasoner=reasoner, oracle=True, config=PipelineConfig(batch_size=16))
    serial = pipeline(scenes, explain=False)
    overlapped = pipeline(scenes, explain=False, overlap=True)
    assert [r.action for r in serial] == [r.action for r in overlapped]
    assert [r.name for r in overlapped] == [f"scene-{s.image_id}" for s in scenes]


def test_the_garbage_collector_is_paused_only_while_a_batch_is_decided(reasoner):
    import gc

    from bridge.pipeline import garbage_collection_paused

    states = []

    class Watching:  # a reasoner that records whether the collector ran during each decision
        ruleset = reasoner.ruleset
        reads_false = staticmethod(reasoner.reads_false)

        def decide(self, facts, **kwargs):
            states.append(gc.isenabled())
            return reasoner.decide(facts, **kwargs)

    pipeline = Pipeline(reasoner=Watching(), oracle=True)
    scenes = [generate_scene(preset_config("easy"), seed=seed) for seed in range(3)]
    assert len(pipeline(scenes, explain=False, warm_up=False)) == 3
    assert states == [False] * 3 and gc.isenabled()
    # a collector already off stays off; an error inside the block still restores it
    gc.disable()
    try:
        with garbage_collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError):
        with garbage_collection_paused():
            raise RuntimeError("stop")
    assert gc.isenabled()


def test_from_config_refuses_a_detector_whose_class_the_rules_do_not_know(tmp_path):
    """A checkpoint with ``car`` renamed ``automobile`` used to switch every rule about cars off silently."""
    from bridge.vocabulary import VocabularyError
    from perception.model import Detector

    def saved(class_names, name):
        detector = Detector(width=8, depth=0, head_width=8, class_names=class_names)
        detector.network_ = detector.build_network().eval()
        return detector.save(tmp_path / name)

    classes = ("automobile", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign")
    weights = saved(classes, "renamed.safetensors")
    config = tmp_path / "drive.yaml"
    config.write_text(f"pipeline:\n  rules: {RULES}\n  calibration: null\n")
    with pytest.raises(VocabularyError, match=r"renamed\.safetensors: detector class 'automobile' is not a class of "
                                              r"the rules in .*traffic\.rules \(they know car, truck, pedestrian"):
        Pipeline.from_config(config, weights=str(weights))
    same = saved(classes[1:], "fewer.safetensors")
    assert Pipeline.from_config(config, weights=str(same)).perception is not None  # known classes only: accepted


class SlowFirstCall:
    """A detector (and planner stage) whose first call takes 300 ms: start-up, as a cold torch or z3 has."""

    def __init__(self, make):
        self.make, self.num_calls = make, 0

    def _first_is_slow(self):
        self.num_calls += 1
        if self.num_calls == 1:
            time.sleep(0.3)

    def predict(self, images, *, score_threshold, batch_size, precision="auto"):
        self._first_is_slow()
        return [self.make(i) for i in range(images.shape[0])]

    def __call__(self, result, reasoner):
        self._first_is_slow()
        return None


@pytest.mark.parametrize("mode", ["stream", "batch"])
def test_warm_up_keeps_start_up_out_of_the_first_frames_latency(reasoner, mode):
    frames = generate_episode(preset_config("easy"), seed=5, num_frames=4)

    def run(warm_up):
        detector, planner = SlowFirstCall(lambda i: scene_detections(frames[0])), SlowFirstCall(None)
        pipeline = Pipeline(perception=detector, reasoner=reasoner, planners=[planner])
        results = list(pipeline.stream(frames, warm_up=warm_up)) if mode == "stream" \
            else pipeline(frames, warm_up=warm_up)
        return results, detector.num_calls, planner.num_calls

    cold, _, _ = run(warm_up=False)
    assert cold[0].timings_ms["perception"] >= 300 / (1 if mode == "stream" else len(frames)) - 1
    assert cold[0].timings_ms["planning"] >= 299       # the check sees a slow first call
    warm, detector_calls, planner_calls = run(warm_up=True)
    assert detector_calls == (len(frames) + 1 if mode == "stream" else 2) and planner_calls == len(frames) + 1
    assert warm[0].timings_ms["perception"] < 60 and warm[0].timings_ms["planning"] < 60
    assert warm[0].timings_ms["total"] < 100
    assert [r.action for r in warm] == [r.action for r in cold]


def test_warm_up_leaves_no_trace_and_runs_once_per_mode(reasoner):
    frames = generate_episode(preset_config("default"), seed=6, num_frames=3)
    detector = FakeDetector(lambda i: scene_detections(frames[0]))
    pipeline = Pipeline(perception=detector, reasoner=reasoner)
    warm = list(pipeline.stream(frames))
    cold = list(Pipeline(perception=FakeDetector(lambda i: scene_detections(frames[0])), reasoner=reasoner)
                .stream(frames, warm_up=False))
    assert [[o.id for o in r.objects] for r in warm] == [[o.id for o in r.objects] for r in cold]   # tracker reset
    assert [r.action for r in warm] == [r.action for r in cold]
    assert pipeline.warmed_up_ == {"stream"} and len(detector.calls) == 4
    list(pipeline.stream(frames))
    assert len(detector.calls) == 7                     # warmed once: the second stream starts at once
    pipeline(frames[:1])
    assert pipeline.warmed_up_ == {"stream", "batch"} and len(detector.calls) == 9
    with pytest.raises(ValueError, match="`mode` must be 'stream' or 'batch'. Received: mode='fast'"):
        pipeline.warm_up(frames[0], mode="fast")


def test_after_the_warm_up_no_frame_imports_a_module(reasoner):
    """Imports belong to start-up: once warmed up, deciding frames (tracker, grounding, rules, planner) imports nothing."""
    import sys

    from bridge.planning import RouteStage

    frames = generate_episode(preset_config("default"), seed=7, num_frames=4)
    queue = iter([frames[0], *frames])
    pipeline = Pipeline(perception=FakeDetector(lambda i: scene_detections(next(queue))), reasoner=reasoner,
                        planners=[RouteStage()])
    pipeline.warm_up(frames[0], mode="stream")
    before = set(sys.modules)
    results = list(pipeline.stream(frames))
    assert len(results) == 4 and sorted(set(sys.modules) - before) == []
