"""What motion is possible where none is measured: top speeds and one-way lanes.

A single image shows no motion, and a track seen twice knows its velocity
only roughly. The safe reading of such an object's time to collision is the
fastest it could close in. Without any knowledge that is unbounded; two
plain facts about traffic bound it:

- each class has a top speed (a pedestrian does not move at 5 m/s);
- a vehicle or cyclist in a lane moves the lane's way or stands (it never
  drives against it); traffic crossing at an intersection moves across the
  lanes, which is allowed too.

:meth:`MotionPrior.closing_bound` turns them into the largest closing speed
any allowed motion gives; the grounding reads an unknown motion's time to
collision at it, and an estimated one at no more than it.

Example:
    >>> from perception.world import EgoState, Lane, RoadMap
    >>> from bridge.geometry import ObjectState
    >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
    >>> car = ObjectState("o1", "car", (0.0, 30.0), (4.5, 1.8))
    >>> MotionPrior().closing_bound(car, road, EgoState(lane=0, speed=10.0))   # in a lane running the ego's way
    10.0
    >>> MotionPrior(one_way_lanes=False).closing_bound(car, road, EgoState(lane=0, speed=10.0))
    35.0
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

TOP_SPEEDS_MPS = {"car": 25.0, "truck": 25.0, "cyclist": 12.0, "pedestrian": 3.0}
LANE_USERS = ("car", "truck", "cyclist")


@dataclass(frozen=True)
class MotionPrior:
    """Bounds on the motion of objects whose velocity is unknown or only estimated.

    Args:
        top_speeds: class -> the fastest it moves over the ground, m/s.
            Classes not listed are unbounded (no time to collision is safe
            for them while their motion is unknown).
        one_way_lanes: vehicles and cyclists in a lane move its way or stand
            (their velocity along the road never opposes the lane's
            direction). Applied where every lane the object's centre may
            be in (within its ``position_uncertainty``) runs one way; an
            object on no lane (a sidewalk, a crossing road beside the main
            road) is bounded by its top speed alone.

    Example:
        >>> MotionPrior().top_speeds["pedestrian"]
        3.0
    """

    top_speeds: dict[str, float] = field(default_factory=lambda: dict(TOP_SPEEDS_MPS))
    one_way_lanes: bool = True

    def closing_bound(self, obj, road, ego) -> float:
        """The largest closing speed (m/s) any motion this prior allows gives; ``inf`` when unbounded.

        The ego's own speed is known; the object may move at up to its top
        speed in any direction the prior leaves open.
        """
        top = self.top_speeds.get(obj.label)
        x, y = obj.position
        dist = math.hypot(x, y)
        if top is None or dist < 1e-6:
            return math.inf
        ego_part = float(ego.speed) * y / dist
        direction = self.lane_direction(obj, road) if self.one_way_lanes else None
        # The object's own closing speed is its velocity along (-x, -y) / dist; one-way lanes
        # forbid the along-road part of that direction when it opposes the lane's way (unless the
        # object may be level with the ego, where that direction's sign is unknown).
        if direction is None or direction * -y >= 0 or abs(y) <= obj.position_uncertainty:
            return ego_part + top
        lateral = min(1.0, (abs(x) + obj.position_uncertainty) / dist)
        return ego_part + top * lateral

    def lane_direction(self, obj, road) -> int | None:
        """+1 / -1: the way of every lane the object may be in (a lane user only); None otherwise.

        Example:
            >>> from perception.world import Lane, RoadMap
            >>> from bridge.geometry import ObjectState
            >>> road = RoadMap(lanes=[Lane(0, -1.75, 3.5, -1, 13.9), Lane(1, 1.75, 3.5, 1, 13.9)], ego_lane=1)
            >>> prior = MotionPrior()
            >>> prior.lane_direction(ObjectState("o1", "car", (2.0, 20.0), (4.5, 1.8)), road)
            1
            >>> prior.lane_direction(ObjectState("o2", "car", (0.5, 20.0), (4.5, 1.8), position_uncertainty=1.0), road)
            >>> prior.lane_direction(ObjectState("o3", "pedestrian", (2.0, 20.0), (0.5, 0.5)), road) is None
            True
        """
        if obj.label not in LANE_USERS:
            return None
        x, r = obj.position[0], obj.position_uncertainty
        directions = {lane.direction for lane in road.lanes if lane.x_min <= x + r and x - r < lane.x_max}
        return directions.pop() if len(directions) == 1 else None
