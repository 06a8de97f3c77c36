"""Planner stages: after each decision, a route and a maneuver under the rules.

A planner stage is called by the pipeline as ``planner(result, reasoner)``
after the frame is decided and returns a plan (``FrameResult.plan``):

- :class:`ManeuverStage`: the actions toward a target lane over the next
  seconds (:mod:`symbolic.planning.maneuver`), every step checked against the rules;
- :class:`RouteStage`: a route on the frame's road network first
  (:mod:`symbolic.planning.routing`), then the maneuver the route needs next.

:func:`road_layout` and :func:`tracked_object` turn the frame's road map
and grounded objects into the planner's view.
"""
from __future__ import annotations

import math

from symbolic.planning.maneuver import (ManeuverPlanner, ManeuverState, ManeuverTarget, RoadLayout, TrackedObject,
                                         road_for_layout, route_and_target)
from symbolic.planning.routing import RoutePlanner

from bridge.frames import frame_name
from bridge.maneuver_facts import predicted_fact_list


class ManeuverStage:
    """A planner stage: plan each frame's maneuver toward a lane with :mod:`symbolic.planning.maneuver`.

    The frame's road becomes a ``RoadLayout`` of the lanes running the ego's
    way (the nearest governing stop line and crosswalk ahead included) and its
    objects ``TrackedObject`` records moving at their tracked velocity. The
    plan starts with the frame's decision (``first_action``): the reasoner
    judged the present on the frame's own facts, the planner predicts the rest.

    Args:
        target_lane: the lane to reach, counted from 0 = the leftmost lane
            running the ego's way.
        horizon: steps to look ahead.
        step_s: seconds per step.

    Example:
        >>> from symbolic.reasoning.reasoner import Reasoner
        >>> from perception.world import generate_scene, preset_config
        >>> from bridge.experiment import PipelineConfig
        >>> from bridge.pipeline import Pipeline
        >>> reasoner = Reasoner.from_file(PipelineConfig().rules_path())
        >>> pipeline = Pipeline(reasoner=reasoner, oracle=True, planners=[ManeuverStage(target_lane=0)])
        >>> [result] = pipeline([generate_scene(preset_config("easy"), seed=1)])
        >>> result.plan.action in reasoner.ruleset.actions
        True
    """

    def __init__(self, target_lane: int, *, horizon: int = 10, step_s: float = 0.5):
        self.target_lane = target_lane
        self.horizon = horizon
        self.step_s = step_s

    def __call__(self, result, reasoner):
        frame = result.frame
        layout, left_edge, ego_lane = road_layout(frame.road)
        if not 0 <= self.target_lane < layout.num_lanes:
            raise ValueError(f"`target_lane` must be in [0, {layout.num_lanes - 1}] for {frame_name(frame)} "
                             f"({layout.num_lanes} lanes run the ego's way). Received: target_lane={self.target_lane}")
        objects = [tracked_object(o, left_edge) for o in result.objects]
        planner = ManeuverPlanner(reasoner, layout, predict_facts=predicted_fact_list, horizon=self.horizon,
                                  step_s=self.step_s)
        return planner.plan(ManeuverState(lane=ego_lane, y=0.0, speed=float(frame.ego.speed)), objects,
                            ManeuverTarget(lane=self.target_lane), first_action=result.decision.action)


class RouteStage(ManeuverStage):
    """A planner stage that routes first: plan the route on the frame's road map, then the maneuver it needs.

    Per frame, the frame's road becomes a road network
    (:func:`symbolic.planning.maneuver.road_for_layout`; built once per distinct road
    layout and kept for the next frames), a
    :class:`~symbolic.planning.routing.RoutePlanner` plans from the ego's lane node to
    ``destination``, and the lane the route needs next is the maneuver
    planner's target. The route is stored in ``result.route`` (its map in
    ``result.route_map``), the plan is returned (``result.plan``).

    Args:
        destination: the node to reach, or None for the default: the
            westbound road's end (``"W_end"``, a left turn) when the frame has
            a crossing ahead, else the far end of the ego's lane.
        horizon: steps to look ahead.
        step_s: seconds per step.

    Example:
        >>> from symbolic.reasoning.reasoner import Reasoner
        >>> from perception.world import generate_scene, preset_config
        >>> from bridge.experiment import PipelineConfig
        >>> from bridge.pipeline import Pipeline
        >>> reasoner = Reasoner.from_file(PipelineConfig().rules_path())
        >>> pipeline = Pipeline(reasoner=reasoner, oracle=True, planners=[RouteStage()])
        >>> [result] = pipeline([generate_scene(preset_config("easy"), seed=1)])
        >>> result.route.length > 0, result.plan.action in reasoner.ruleset.actions
        (True, True)
    """

    def __init__(self, destination: str | None = None, *, horizon: int = 10, step_s: float = 0.5):
        if destination is not None and not isinstance(destination, str):
            raise TypeError(f"`destination` must be a node name (str) or None. Received: destination={destination!r}")
        super().__init__(target_lane=0, horizon=horizon, step_s=step_s)
        self.destination = destination
        self.networks_ = {}

    def network(self, layout):
        """The fitted route planner of ``layout``'s road network (built once per layout)."""
        if layout not in self.networks_:
            if len(self.networks_) >= 64:
                self.networks_.pop(next(iter(self.networks_)))
            ahead = 0.0 if layout.stop_line_y is None else layout.stop_line_y
            length = max(200.0, 10.0 * math.ceil((ahead + 150.0) / 10.0))
            self.networks_[layout] = RoutePlanner().fit(road_for_layout(layout, length=length))
        return self.networks_[layout]

    def __call__(self, result, reasoner):
        frame = result.frame
        layout, left_edge, ego_lane = road_layout(frame.road)
        router = self.network(layout)
        destination = self.destination or default_destination(router.road_, ego_lane)
        if destination not in router.road_.graph:
            raise ValueError(f"`destination` {destination!r} is not a node of the road map of {frame_name(frame)} "
                             f"(e.g. 'W_end', 'E_end' or a lane's last node)")
        route, target = route_and_target(router, ego_lane, 0.0, destination)
        result.route, result.route_map = route, router.road_
        objects = [tracked_object(o, left_edge) for o in result.objects]
        planner = ManeuverPlanner(reasoner, layout, predict_facts=predicted_fact_list, horizon=self.horizon,
                                  step_s=self.step_s)
        return planner.plan(ManeuverState(lane=ego_lane, y=0.0, speed=float(frame.ego.speed)), objects, target,
                            first_action=result.decision.action)


def default_destination(road, ego_lane: int) -> str:
    """Where a frame's route goes by default: ``"W_end"`` (left at the crossing) if any, else the ego lane's end.

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> default_destination(straight_road(num_lanes=2, crossing_at=100.0), 1)
        'W_end'
        >>> default_destination(straight_road(num_lanes=2, length=50, crossing_at=None), 1)
        'L1_5'
    """
    if "W_end" in road.graph:
        return "W_end"
    return max((a["y"], n) for n, a in road.graph.nodes(data=True) if a.get("lane") == ego_lane)[1]


def road_layout(road):
    """The planner's view of a road map: ``(RoadLayout, left edge x, ego lane index)``.

    Lanes are the ones running the ego's way, numbered from 0 on the left;
    the left edge is their left border in ego-frame metres.

    Example:
        >>> from perception.world import Lane, RoadMap
        >>> road = RoadMap([Lane(0, -3.5, 3.5, -1, 13.9), Lane(1, 0.0, 3.5, 1, 13.9), Lane(2, 3.5, 3.5, 1, 13.9)], 1)
        >>> layout, left_edge, ego_lane = road_layout(road)
        >>> layout.num_lanes, left_edge, ego_lane
        (2, -1.75, 0)
    """
    ego = next(lane for lane in road.lanes if lane.index == road.ego_lane)
    lanes = sorted((lane for lane in road.lanes if lane.direction == ego.direction), key=lambda lane: lane.center_x)
    stops = [line.y for line in road.stop_lines if road.ego_lane in tuple(line.lanes) and line.y > 0]
    crossings = [(c.y_min, c.y_max) for c in road.crosswalks if c.y_max > 0]
    layout = RoadLayout(num_lanes=len(lanes), lane_width=float(ego.width), speed_limit=float(ego.speed_limit),
                        stop_line_y=min(stops) if stops else None, crosswalk=min(crossings) if crossings else None)
    return layout, lanes[0].x_min, lanes.index(ego)


def tracked_object(obj, left_edge: float):
    """An :class:`bridge.geometry.ObjectState` as the planner's ``TrackedObject`` (road frame)."""
    vx, vy = obj.velocity if obj.velocity is not None else (0.0, 0.0)
    states = obj.attributes.get("light_state") or {}
    light = max(states, key=states.get) if states else None
    return TrackedObject(obj.id, obj.label, x=obj.position[0] - left_edge, y=obj.position[1], vx=vx, vy=vy,
                         length=obj.size[0], width=obj.size[1], light=light, confidence=obj.confidence)
