"""Facts predicted for a maneuver's steps: the driving vocabulary read off objects moving at constant velocity.

:class:`symbolic.planning.maneuver.ManeuverPlanner` knows no world: at each
step of a plan it asks the function it is given for the facts of that moment.
:func:`predicted_fact_list` is the driving world's, passed as
``ManeuverPlanner(reasoner, layout, predict_facts=predicted_fact_list)``.

Positions are the planner's road frame (metres, ``x`` from the road's left
edge to the right, ``y`` forward; lane ``i`` spans ``[i * lane_width,
(i + 1) * lane_width)``). The geometry is the grounding's
(:mod:`bridge.grounding`), with its constants: the gap from the ego's front
bumper, time to collision, stopping distance, a stop line's reach and which
lights and signs govern it, so predicted facts read like observed ones.
Values are clipped to the ranges the vocabulary declares
(:data:`bridge.vocabulary.DRIVING_VOCABULARY`).
"""
from __future__ import annotations

import math
from typing import Sequence

from symbolic.planning.maneuver import ManeuverState, RoadLayout, TrackedObject
from symbolic.reasoning.facts import Fact, FactBase

from bridge.geometry import (APPROACH_SPEED, CONTROL_BEFORE_M, CONTROL_BEYOND_M, CONTROL_LABELS, STOP_LINE_REACH_M,
                             STOPPED_AT_SIGN_M, STOPPED_SPEED, stopping_distance)
from bridge.vocabulary import CLASS_NAMES, DRIVING_VOCABULARY, NEAR_RADIUS_M

EGO_LENGTH_M, EGO_WIDTH_M = 4.5, 1.8  # the ego's size in predicted facts (a road frame has no ego record)
MIN_DISTANCE_M = 1e-6                 # an object closer than this to the ego's centre has no closing speed
DISTANCE_DECIMALS = 2                 # dist and gap are stated to the centimetre
TTC_DECIMALS = 3                      # ttc to the millisecond
#: function name -> (low, high) of its values, as the vocabulary declares them
VALUE_RANGES = {term.name: term.value_range for term in DRIVING_VOCABULARY.functions}
NOT_CLOSING_TTC_S = VALUE_RANGES["ttc"][1]  # the ttc of an object not closing in (100 s)


def predict_facts(ego: ManeuverState, objects: Sequence[TrackedObject], road: RoadLayout, t: float) -> FactBase:
    """The driving-vocabulary facts at time ``t``: objects moved at constant velocity, seen from ``ego``.

    Args:
        ego: the ego's state at time ``t`` (the planner moves the ego itself).
        objects: tracked objects at time 0.
        road: the road layout.
        t: seconds ahead.

    Returns:
        A :class:`~symbolic.reasoning.facts.FactBase`: per object its class, light colour,
        ``ahead/behind/left_of/right_of``, lane relations, ``in_crosswalk``,
        ``on_sidewalk``, ``at_stop_line``, ``on_road``, ``applies_to_ego``,
        ``approaching``, ``dist``, ``gap``, ``speed``, ``ttc``; ``near`` for
        pairs; and the ego facts ``left_lane_exists``, ``right_lane_exists``,
        ``ego_stopped``, ``stopped_at_sign``, ``ego_speed``, ``speed_limit``,
        ``stopping_distance``.

    Example:
        >>> road = RoadLayout(num_lanes=2)
        >>> car = TrackedObject("o1", "car", x=1.75, y=20.0, vy=4.0)
        >>> facts = predict_facts(ManeuverState(lane=1, y=10.0, speed=8.0), [car], road, t=1.0)
        >>> facts.confidence("in_left_lane", "o1"), facts.value("gap", "o1"), facts.value("dist", "o1")
        (1.0, 9.5, 14.43)
    """
    facts = predicted_fact_list(ego, objects, road, t)
    return FactBase(facts, objects={o.id: o.label for o in objects}, class_names=CLASS_NAMES)


def predicted_fact_list(ego: ManeuverState, objects: Sequence[TrackedObject], road: RoadLayout,
                        t: float) -> list[Fact]:
    """:func:`predict_facts` as a plain list (what the planner hands the reasoner; no index is built).

    Example:
        >>> [f.atom for f in predicted_fact_list(ManeuverState(lane=0), [], RoadLayout(num_lanes=1), 0.0)][:2]
        ['ego_stopped()', 'ego_speed()']
    """
    ego_x = road.lane_centre(ego.lane)
    facts: list[Fact] = []
    positions = [(o.x + o.vx * t, o.y + o.vy * t) for o in objects]
    for obj, (x, y) in zip(objects, positions):
        facts.extend(_object_facts(obj, x, y, ego, ego_x, road))
    for i, (a, (ax, ay)) in enumerate(zip(objects, positions)):
        for b, (bx, by) in zip(objects[i + 1:], positions[i + 1:]):
            if abs(ax - bx) <= NEAR_RADIUS_M and abs(ay - by) <= NEAR_RADIUS_M \
                    and math.hypot(ax - bx, ay - by) <= NEAR_RADIUS_M:
                facts.append(Fact("near", (a.id, b.id)))
                facts.append(Fact("near", (b.id, a.id)))
    facts.extend(_ego_facts(ego, road))
    return facts


def _clip(name: str, value: float) -> float:
    """``value`` within the declared range of function ``name``."""
    low, high = VALUE_RANGES[name]
    return min(max(value, low), high)


def _object_facts(obj: TrackedObject, x: float, y: float, ego: ManeuverState, ego_x: float,
                  road: RoadLayout) -> list[Fact]:
    """Facts of one object standing at ``(x, y)``."""
    o = obj.id
    facts = [Fact(obj.label, (o,), obj.confidence)]
    if obj.label == "traffic_light" and obj.light:
        facts.append(Fact("light", (o, obj.light)))
    dx, dy = x - ego_x, y - ego.y
    lane = None if obj.label in CONTROL_LABELS else road.lane_at(x)
    rear, front = dy - obj.length / 2, dy + obj.length / 2
    dist = math.hypot(dx, dy)
    closing = -(dx * obj.vx + dy * (obj.vy - ego.speed)) / dist if dist > MIN_DISTANCE_M else 0.0
    at_line = (road.stop_line_y is not None and lane is not None
               and max(rear + ego.y - road.stop_line_y, road.stop_line_y - front - ego.y, 0.0) <= STOP_LINE_REACH_M)
    truths = {
        "ahead": rear > EGO_LENGTH_M / 2, "behind": front < -EGO_LENGTH_M / 2,
        "left_of": dx + obj.width / 2 < -EGO_WIDTH_M / 2, "right_of": dx - obj.width / 2 > EGO_WIDTH_M / 2,
        "same_lane": lane is not None and lane == ego.lane,
        "in_left_lane": lane is not None and lane == ego.lane - 1,
        "in_right_lane": lane is not None and lane == ego.lane + 1,
        "in_adjacent_lane": lane is not None and abs(lane - ego.lane) == 1,
        "in_crosswalk": road.crosswalk is not None and 0 <= x <= road.width
                        and road.crosswalk[0] <= y <= road.crosswalk[1],
        "on_sidewalk": obj.label not in CONTROL_LABELS and lane is None,
        "at_stop_line": at_line, "on_road": lane is not None,
        "applies_to_ego": obj.label in CONTROL_LABELS and dy > 0 and road.stop_line_y is not None
                          and -CONTROL_BEFORE_M <= y - road.stop_line_y <= CONTROL_BEYOND_M,
        "approaching": closing > APPROACH_SPEED,
    }
    facts.extend(Fact(name, (o,)) for name, holds in truths.items() if holds)
    clearance = max(dist - EGO_LENGTH_M / 2 - obj.length / 2, 0.0)
    ttc = min(clearance / closing, NOT_CLOSING_TTC_S) if closing > APPROACH_SPEED else NOT_CLOSING_TTC_S
    facts.append(Fact("dist", (o,), value=round(_clip("dist", dist), DISTANCE_DECIMALS)))
    facts.append(Fact("gap", (o,), value=round(_clip("gap", rear - EGO_LENGTH_M / 2), DISTANCE_DECIMALS)))
    facts.append(Fact("speed", (o,), value=_clip("speed", math.hypot(obj.vx, obj.vy))))
    facts.append(Fact("ttc", (o,), value=round(ttc, TTC_DECIMALS)))
    return facts


def _ego_facts(ego: ManeuverState, road: RoadLayout) -> list[Fact]:
    facts = []
    if ego.lane > 0:
        facts.append(Fact("left_lane_exists"))
    if ego.lane < road.num_lanes - 1:
        facts.append(Fact("right_lane_exists"))
    stopped = ego.speed < STOPPED_SPEED
    if stopped:
        facts.append(Fact("ego_stopped"))
        front = ego.y + EGO_LENGTH_M / 2
        if road.stop_line_y is not None and -STOP_LINE_REACH_M <= road.stop_line_y - front <= STOPPED_AT_SIGN_M:
            facts.append(Fact("stopped_at_sign"))
    facts.append(Fact("ego_speed", value=_clip("ego_speed", ego.speed)))
    facts.append(Fact("speed_limit", value=_clip("speed_limit", road.speed_limit)))
    facts.append(Fact("stopping_distance", value=stopping_distance(ego.speed)))
    return facts
