"""Planner stages: a maneuver toward a lane, a route first, in the pipeline's results and JSON."""
import numpy as np
import pytest

from perception.world import Calibration, EgoState, Lane, RoadMap, Scene, StopLine, WorldObject, generate_episode, preset_config
from symbolic.reasoning.reasoner import Reasoner
from bridge.experiment import PipelineConfig
from bridge.pipeline import Pipeline
from bridge.planning import ManeuverStage, RouteStage

RULES = PipelineConfig().rules_path()
CALIBRATION = Calibration(0.25, (256, 256), (128.0, 230.0))


@pytest.fixture(scope="module")
def reasoner():
    return Reasoner.from_file(RULES)


def green_light_scene():
    """The ego at 8 m/s, 15 m before a stop line whose light (beside the road) shows green."""
    road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0, stop_lines=[StopLine(15.0, -1.75, 1.75, (0,), "traffic_light", 1)])
    u, v = CALIBRATION.ego_to_pixel(3.5, 16.0)
    box = (u - 1.2 / 0.5, v - 1.2 / 0.5, u + 1.2 / 0.5, v + 1.2 / 0.5)
    light = WorldObject("o1", "traffic_light", box, (3.5, 16.0), 0.0, 0.0, (0.0, 0.0), (1.2, 1.2), None,
                        attributes={"light_state": "green"}, applies_to_ego=True)
    return Scene(np.zeros((256, 256, 3), np.uint8), [light], road, CALIBRATION, EgoState(0, 8.0), image_id=1)


def test_the_maneuver_stage_plans_a_lane_change_on_an_empty_road(reasoner):
    road = RoadMap([Lane(0, -7.0, 3.5, -1, 13.9), Lane(1, -3.5, 3.5, 1, 13.9), Lane(2, 0.0, 3.5, 1, 13.9)], 2)
    scene = Scene(np.zeros((256, 256, 3), np.uint8), [], road, CALIBRATION, EgoState(2, 10.0), image_id=3)
    [result] = Pipeline(reasoner=reasoner, oracle=True, planners=[ManeuverStage(target_lane=0)])([scene])
    # the reasoner prefers go now; the plan starts with it and changes lane after
    assert result.action == "go" and result.plan.reached and result.plan.actions == ["go", "change_left"]
    assert "planning" in result.timings_ms and result.to_json()["plan"]["action"] == "go"
    with pytest.raises(ValueError, match=r"`target_lane` must be in \[0, 1\] for scene-3"):
        Pipeline(reasoner=reasoner, oracle=True, planners=[ManeuverStage(target_lane=2)])([scene])


def test_route_stage_stores_a_route_and_plan_per_frame_and_in_the_json():
    reasoner = Reasoner.from_file(RULES)
    frames = generate_episode(preset_config("default"), seed=3, num_frames=3)
    stage = RouteStage()
    results = list(Pipeline(reasoner=reasoner, oracle=True, planners=[stage]).stream(frames))
    for result in results:
        assert result.route is not None and result.plan is not None
        assert result.route.nodes[0] in result.route_map.graph and result.route.length > 0
        assert result.plan.action in reasoner.ruleset.actions
        record = result.to_json()
        assert record["route"]["nodes"] == result.route.nodes and record["plan"]["actions"] == result.plan.actions
        assert "planning" in record["timings_ms"]
    assert len(stage.networks_) >= 1


def test_route_stage_turns_left_at_a_crossing_and_rejects_an_unknown_destination():
    reasoner = Reasoner.from_file(RULES)
    scene = green_light_scene()
    [result] = Pipeline(reasoner=reasoner, oracle=True, planners=[RouteStage()])([scene])
    assert result.route.nodes[-1] == "W_end"
    assert result.plan is not None
    with pytest.raises(ValueError, match="`destination` 'nowhere' is not a node"):
        Pipeline(reasoner=reasoner, oracle=True, planners=[RouteStage("nowhere")])([scene])




def test_the_plan_starts_with_the_decision_when_a_soft_rule_ranks_slow_first(reasoner):
    """A pedestrian on the sidewalk 12 m ahead: go is allowed but the soft rule vulnerable_nearby ranks slow first.
    The planner's own check of step 0 (hard rules on predicted facts) started the plan with go."""
    road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0)
    u, v = CALIBRATION.ego_to_pixel(3.5, 12.0)
    person = WorldObject("o1", "pedestrian", (u - 2, v - 2, u + 2, v + 2), (3.5, 12.0), 0.0, 0.0, (0.0, 0.0),
                         (0.6, 0.6), None)
    scene = Scene(np.zeros((256, 256, 3), np.uint8), [person], road, CALIBRATION, EgoState(0, 8.0), image_id=5)
    [result] = Pipeline(reasoner=reasoner, oracle=True, planners=[ManeuverStage(target_lane=0)])([scene])
    assert result.action == "slow"
    assert result.plan.actions[0] == result.plan.action == "slow"


@pytest.mark.slow
def test_the_demo_frame_the_reasoner_stopped_in_gets_a_plan_that_stops():
    """`nesy demo`'s first frames (seed 0, the shipped detector): in frame 1 the tracked car ahead has ttc 0.89 s
    (stop), while the facts predicted from its point velocity allowed slow, and the plan used to start with slow."""
    from bridge.experiment import load_config

    config = load_config("configs/drive.yaml")
    pipeline = Pipeline.from_config(config, planners=[RouteStage()])
    frames = generate_episode(config.world, seed=0, num_frames=2)
    results = list(pipeline.stream(frames))
    assert results[1].action == "stop"
    for result in results:
        assert result.plan.actions[0] == result.plan.action == result.action
