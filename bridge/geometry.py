"""Ego-frame geometry: where an object is relative to the ego and the road, and how it moves.

Objects are :class:`ObjectState` records in the ego frame (metres; x to the
right, y forward, origin at the ego's centre). One function per geometric
predicate (ahead, lane, crosswalk, stop line, ...), each read at the
object's position as if exact (:func:`geometry_truths`) or within its
``position_uncertainty`` (:func:`geometry_confidences`), and the motion
quantities (closing speed, time to collision, stopping distance) with the
named constants they use. :mod:`bridge.grounding` states them as facts;
:mod:`bridge.scene_graph` draws them as edges.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

APPROACH_SPEED = 0.5        # m/s of closing speed that counts as approaching
STOP_LINE_REACH_M = 3.0     # metres along the road that count as "at" a stop line
SIGN_LATERAL_REACH_M = 6.0  # metres beyond a stop line's ends where its signs and lights stand
CONTROL_BEFORE_M = 1.0      # a light or sign governing a line stands at most this far before it...
CONTROL_BEYOND_M = 8.0      # ...and at most this far beyond it
STOPPED_SPEED = 0.1         # m/s below which the ego is stopped
STOPPED_AT_SIGN_M = 6.0     # metres before a governing stop line where a stopped ego counts as at it
COMFORT_DECELERATION = 3.5  # m/s^2
REACTION_TIME_S = 0.5
CONTROL_LABELS = ("traffic_light", "stop_sign")
STATIC_LABELS = ("traffic_light", "stop_sign")
UNCERTAIN_GEOMETRY_CONFIDENCE = 0.5  # confidence of a geometric fact that changes within the position uncertainty
GEOMETRY_PREDICATES = ("ahead", "behind", "left_of", "right_of", "same_lane", "in_left_lane", "in_right_lane",
                       "in_adjacent_lane", "in_crosswalk", "on_sidewalk", "at_stop_line", "on_road",
                       "applies_to_ego")



@dataclass(frozen=True)
class ObjectState:
    """One object in the ego frame, as the grounding sees it.

    Args:
        id: stable constant, e.g. ``"o3"``.
        label: class name, e.g. ``"car"``.
        position: ``(x, y)`` metres of its centre; x right, y forward.
        size: ``(length, width)`` metres; length along the road (y).
        confidence: probability that it exists with this label, in [0, 1].
        attributes: attribute -> value -> probability, e.g.
            ``{"light_state": {"red": 0.9, "yellow": 0.05, "green": 0.05}}``.
        velocity: ``(vx, vy)`` m/s over the ground in the ego's axes, or
            ``None`` when unknown.
        box: ``(x1, y1, x2, y2)`` pixels it came from, if any.
        speed_uncertainty: m/s by which the closing speed of an estimated
            velocity may be off: time to collision reads the closing speed
            this much higher, and ``approaching`` is uncertain (0.5) when the
            closing speed lies within it of the threshold (0 for true motion).
        truncated: sides of its box cut off by the image border (``"left"``,
            ``"right"``, ``"front"``, ``"rear"``): its extent, and so its
            centre, is unknown on those sides.
        position_uncertainty: metres by which each coordinate of its box
            (centre and edges, both axes) may be off: geometric facts that
            change within it are uncertain, and the tracker widens the
            velocity fitted to such positions (0 for true boxes).
        coasted: not seen this frame: a tracker placed it where its track's
            velocity predicts (``Tracker(coast=True)``); ``box`` is None.

    Example:
        >>> ObjectState("o1", "car", (0.0, 12.0), (4.5, 1.8)).position
        (0.0, 12.0)
    """

    id: str
    label: str
    position: tuple[float, float]
    size: tuple[float, float]
    confidence: float = 1.0
    attributes: dict[str, dict[str, float]] = field(default_factory=dict)
    velocity: tuple[float, float] | None = None
    box: tuple[float, float, float, float] | None = None
    speed_uncertainty: float = 0.0
    truncated: tuple[str, ...] = ()
    position_uncertainty: float = 0.0
    coasted: bool = False

    def to_json(self) -> dict:
        return {
            "id": self.id, "label": self.label,
            "position": [round(v, 3) for v in self.position], "size": [round(v, 3) for v in self.size],
            "confidence": round(self.confidence, 4),
            "attributes": {k: {s: round(p, 4) for s, p in v.items()} for k, v in self.attributes.items()},
            "velocity": None if self.velocity is None else [round(v, 3) for v in self.velocity],
            "box": None if self.box is None else [round(v, 2) for v in self.box],
            "speed_uncertainty": round(self.speed_uncertainty, 3), "truncated": list(self.truncated),
            "position_uncertainty": round(self.position_uncertainty, 3), "coasted": self.coasted,
        }



# ---------------------------------------------------------------- geometry, one predicate each

def longitudinal_extent(obj: ObjectState) -> tuple[float, float]:
    """(rear, front) y of the object, metres.

    Example:
        >>> longitudinal_extent(ObjectState("o1", "car", (0.0, 10.0), (4.0, 2.0)))
        (8.0, 12.0)
    """
    return obj.position[1] - obj.size[0] / 2, obj.position[1] + obj.size[0] / 2


def lateral_extent(obj: ObjectState) -> tuple[float, float]:
    """(left, right) x of the object, metres.

    Example:
        >>> lateral_extent(ObjectState("o1", "car", (3.0, 10.0), (4.0, 2.0)))
        (2.0, 4.0)
    """
    return obj.position[0] - obj.size[1] / 2, obj.position[0] + obj.size[1] / 2


# One place for each side test, read by the predicates below and by the shifted readings of
# geometry_confidences: y / x is the object's centre, length / width its size along / across the road.
def _ahead_at(y: float, length: float, ego) -> bool:
    return y - length / 2 > ego.length / 2


def _behind_at(y: float, length: float, ego) -> bool:
    return y + length / 2 < -ego.length / 2


def _left_of_at(x: float, width: float, ego) -> bool:
    return x + width / 2 < -ego.width / 2


def _right_of_at(x: float, width: float, ego) -> bool:
    return x - width / 2 > ego.width / 2


def box_coordinates(obj: ObjectState) -> tuple[float, ...]:
    """Centre and edges of an object's box on the ground, metres: x, y, left, right, rear, front.

    Example:
        >>> box_coordinates(ObjectState("o1", "car", (0.0, 10.0), (4.0, 2.0)))
        (0.0, 10.0, -1.0, 1.0, 8.0, 12.0)
    """
    return (*obj.position, *lateral_extent(obj), *longitudinal_extent(obj))


def is_ahead(obj: ObjectState, ego) -> bool:
    """Entirely in front of the ego's front bumper.

    Example:
        >>> from perception.world import EgoState
        >>> is_ahead(ObjectState("o1", "car", (0.0, 5.0), (4.0, 2.0)), EgoState(lane=0, speed=0.0))
        True
    """
    return _ahead_at(obj.position[1], obj.size[0], ego)


def is_behind(obj: ObjectState, ego) -> bool:
    """Entirely behind the ego's rear bumper.

    Example:
        >>> from perception.world import EgoState
        >>> is_behind(ObjectState("o1", "car", (0.0, -5.0), (4.0, 2.0)), EgoState(lane=0, speed=0.0))
        True
    """
    return _behind_at(obj.position[1], obj.size[0], ego)


def is_left_of(obj: ObjectState, ego) -> bool:
    """Entirely left of the ego's left side.

    Example:
        >>> from perception.world import EgoState
        >>> is_left_of(ObjectState("o1", "car", (-3.5, 0.0), (4.0, 2.0)), EgoState(lane=0, speed=0.0))
        True
    """
    return _left_of_at(obj.position[0], obj.size[1], ego)


def is_right_of(obj: ObjectState, ego) -> bool:
    """Entirely right of the ego's right side.

    Example:
        >>> from perception.world import EgoState
        >>> is_right_of(ObjectState("o1", "car", (1.5, 0.0), (4.0, 2.0)), EgoState(lane=0, speed=0.0))
        False
    """
    return _right_of_at(obj.position[0], obj.size[1], ego)


def distance(obj: ObjectState) -> float:
    """Metres from the ego's centre to the object's centre.

    Example:
        >>> distance(ObjectState("o1", "car", (3.0, 4.0), (4.0, 2.0)))
        5.0
    """
    return math.hypot(*obj.position)


def gap(obj: ObjectState, ego) -> float:
    """Metres from the ego's front to the object's rear (negative: behind the front).

    Example:
        >>> from perception.world import EgoState
        >>> gap(ObjectState("o1", "car", (0.0, 12.0), (4.0, 2.0)), EgoState(lane=0, speed=0.0, length=4.0))
        8.0
    """
    return longitudinal_extent(obj)[0] - ego.length / 2


def lane_of(obj: ObjectState, road) -> int | None:
    """Index of the lane holding the object's centre (``RoadMap.lane_at``'s border rule).

    Traffic lights and stop signs stand beside or hang above the road: they
    are in no lane (so an overhead light is never an obstacle in the ego's path).
    """
    if obj.label in CONTROL_LABELS:
        return None
    return road.lane_at(obj.position[0])


def neighbour_lane(road, lane_index: int, side: str, *, same_direction: bool = False):
    """The lane directly ``side`` ("left"/"right") of lane ``lane_index``, or None.

    Example:
        >>> from perception.world import Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, -1.75, 3.5, 1, 13.9), Lane(1, 1.75, 3.5, 1, 13.9)], ego_lane=1)
        >>> neighbour_lane(road, 1, "left").index, neighbour_lane(road, 1, "right")
        (0, None)
    """
    lanes = {lane.index: lane for lane in road.lanes}
    if lane_index not in lanes:
        return None
    here = lanes[lane_index]
    if side == "left":
        candidates = [lane for lane in road.lanes if lane.center_x < here.center_x]
        best = max(candidates, key=lambda lane: lane.center_x, default=None)
    else:
        candidates = [lane for lane in road.lanes if lane.center_x > here.center_x]
        best = min(candidates, key=lambda lane: lane.center_x, default=None)
    if best is None or (same_direction and best.direction != here.direction):
        return None
    return best


def in_crosswalk(obj: ObjectState, road) -> bool:
    """The object's centre lies on a crosswalk (borders included).

    Example:
        >>> from perception.world import Crosswalk, Lane, RoadMap
        >>> road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0, crosswalks=[Crosswalk(-1.75, 1.75, 20.0, 23.0)])
        >>> in_crosswalk(ObjectState("p", "pedestrian", (0.0, 20.0), (0.6, 0.6)), road)
        True
    """
    return _crosswalk_at(road, *obj.position)


def _crosswalk_at(road, x: float, y: float) -> bool:
    for c in road.crosswalks:  # loops, not any(generator): these run five times per object and frame
        if c.x_min <= x <= c.x_max and c.y_min <= y <= c.y_max:
            return True
    return False


def on_sidewalk(obj: ObjectState, road) -> bool:
    """The object's centre lies on a sidewalk (borders included).

    Example:
        >>> from perception.world import Lane, RoadMap, Sidewalk
        >>> road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0, sidewalks=[Sidewalk(2.0, 5.0, "right")])
        >>> on_sidewalk(ObjectState("p", "pedestrian", (3.0, 9.0), (0.6, 0.6)), road)
        True
    """
    return _sidewalk_at(road, *obj.position)


def _sidewalk_at(road, x: float, y: float) -> bool:
    for sidewalk in road.sidewalks:
        if _sidewalk_contains(sidewalk, x, y):
            return True
    return False


def _sidewalk_contains(sidewalk, x: float, y: float) -> bool:
    if isinstance(sidewalk, (tuple, list)):
        return sidewalk[0] <= x <= sidewalk[1]
    if not sidewalk.x_min <= x <= sidewalk.x_max:
        return False
    y_min = getattr(sidewalk, "y_min", None)
    y_max = getattr(sidewalk, "y_max", None)
    return (y_min is None or y >= y_min) and (y_max is None or y <= y_max)


def stop_line_of(obj: ObjectState, road):
    """The stop line the object is at (nearest along the road within reach), or None.

    An object is at a stop line when its extent along the road comes within
    ``STOP_LINE_REACH_M`` of the line and it stands across the line or
    within ``SIGN_LATERAL_REACH_M`` beyond its ends (where signs and lights stand).
    """
    return _stop_line_near(road, obj.position[0], obj.position[1], obj.size[0], obj.size[1])


def _stop_line_near(road, x: float, y: float, length: float, width: float):
    """:func:`stop_line_of` for a box of ``length`` by ``width`` centred at ``(x, y)``."""
    rear, front = y - length / 2, y + length / 2
    left, right = x - width / 2, x + width / 2
    best, best_gap = None, math.inf
    for line in road.stop_lines:
        along = max(rear - line.y, line.y - front, 0.0)
        if along > STOP_LINE_REACH_M:
            continue
        if right < line.x_min - SIGN_LATERAL_REACH_M or left > line.x_max + SIGN_LATERAL_REACH_M:
            continue
        if along < best_gap:
            best, best_gap = line, along
    return best


def applies_to_ego(obj: ObjectState, road, ego) -> bool:
    """A traffic light or stop sign ahead that governs the ego's lane.

    It governs a stop line when it stands from ``CONTROL_BEFORE_M`` before
    the line to ``CONTROL_BEYOND_M`` beyond it (beside the road, or over
    the lanes past the crosswalk), not left of the line's lanes (signs for
    oncoming traffic stand on the far side) and at most
    ``SIGN_LATERAL_REACH_M`` right of them. It applies to the ego when such
    a line governs the ego's lane.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap, StopLine
        >>> road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0, stop_lines=[StopLine(20.0, -1.75, 1.75, (0,))])
        >>> sign = ObjectState("o1", "stop_sign", (3.0, 20.4), (0.8, 0.8))
        >>> applies_to_ego(sign, road, EgoState(lane=0, speed=5.0))
        True
    """
    if obj.label not in CONTROL_LABELS or obj.position[1] <= 0:
        return False
    return _governed_line_at(road, *obj.position)


def _governed_line_at(road, x: float, y: float) -> bool:
    """A stop line governing the ego's lane has a light or sign standing at ``(x, y)``."""
    for line in road.stop_lines:
        if (road.ego_lane in tuple(line.lanes) and -CONTROL_BEFORE_M <= y - line.y <= CONTROL_BEYOND_M
                and line.x_min - 0.5 <= x <= line.x_max + SIGN_LATERAL_REACH_M):
            return True
    return False


def relative_velocity(obj: ObjectState, ego) -> tuple[float, float]:
    """Velocity of the object relative to the ego (m/s, ego axes); read as still when unknown.

    (An unknown motion's facts are uncertain, see :func:`bridge.grounding.object_facts`; the
    still reading only gives them a value.)

    Example:
        >>> from perception.world import EgoState
        >>> relative_velocity(ObjectState("o1", "car", (0.0, 9.0), (4.0, 2.0)), EgoState(lane=0, speed=8.0))
        (0.0, -8.0)
    """
    vx, vy = obj.velocity if obj.velocity is not None else (0.0, 0.0)
    return vx, vy - ego.speed


def closing_speed(obj: ObjectState, ego) -> float:
    """How fast the distance to the ego shrinks, m/s (negative: it grows).

    Example:
        >>> from perception.world import EgoState
        >>> closing_speed(ObjectState("o1", "car", (0.0, 20.0), (4.0, 2.0), velocity=(0.0, 8.0)),
        ...               EgoState(lane=0, speed=10.0))
        2.0
    """
    dist = distance(obj)
    if dist < 1e-6:
        return 0.0
    rvx, rvy = relative_velocity(obj, ego)
    return -(obj.position[0] * rvx + obj.position[1] * rvy) / dist

def time_to_collision(obj: ObjectState, ego, *, closing_bound: float = math.inf) -> float:
    """Seconds until contact at the current closing speed, in [0, 100]; 100 when not closing.

    An estimated velocity is read cautiously: the closing speed plus the
    object's ``speed_uncertainty``, but no more than ``closing_bound`` (the
    fastest any possible motion closes in, :class:`bridge.motion_prior.MotionPrior`);
    an unknown motion (a moving class without a velocity) at ``closing_bound``
    itself when that is finite. So is a position that may be off (the
    clearance shorter by ``position_uncertainty`` on each axis: sqrt(2) times it).

    Example:
        >>> from perception.world import EgoState
        >>> ego = EgoState(lane=0, speed=10.0, length=4.0, width=2.0)
        >>> time_to_collision(ObjectState("o1", "car", (0.0, 24.0), (4.0, 2.0), velocity=(0.0, 0.0)), ego)
        2.0
        >>> time_to_collision(ObjectState("o1", "car", (0.0, 24.0), (4.0, 2.0), velocity=(0.0, 2.0),
        ...                               speed_uncertainty=2.0), ego)
        2.0
        >>> time_to_collision(ObjectState("o1", "car", (0.0, 24.0), (4.0, 2.0)), ego, closing_bound=8.0)
        2.5
    """
    if motion_known(obj) or math.isinf(closing_bound):
        closing = min(closing_speed(obj, ego) + obj.speed_uncertainty, closing_bound)
    else:
        closing = closing_bound
    if closing <= APPROACH_SPEED:
        return 100.0
    position_slack = math.sqrt(2) * obj.position_uncertainty
    clearance = max(distance(obj) - ego.length / 2 - obj.size[0] / 2 - position_slack, 0.0)
    return min(clearance / closing, 100.0)


def stopping_distance(speed: float) -> float:
    """Metres to stop comfortably from ``speed`` m/s (reaction plus braking), in [0, 200].

    Example:
        >>> stopping_distance(0.0), round(stopping_distance(10.0), 2)
        (0.0, 19.29)
    """
    speed = max(speed, 0.0)
    return min(speed * REACTION_TIME_S + speed ** 2 / (2 * COMFORT_DECELERATION), 200.0)


# ---------------------------------------------------------------- every geometric predicate of one object

def ego_neighbours(road) -> tuple:
    """The lanes directly left and right of the ego's lane, ``(left, right)`` (each a lane or None).

    Found once per frame and passed to :func:`geometry_truths` and
    :func:`geometry_confidences` for each object.

    Example:
        >>> from perception.world import Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, -1.75, 3.5, 1, 13.9), Lane(1, 1.75, 3.5, 1, 13.9)], ego_lane=1)
        >>> [None if lane is None else lane.index for lane in ego_neighbours(road)]
        [0, None]
    """
    return neighbour_lane(road, road.ego_lane, "left"), neighbour_lane(road, road.ego_lane, "right")


def geometry_truths(obj: ObjectState, road, ego, *, neighbours: tuple | None = None) -> dict[str, bool]:
    """Each of :data:`GEOMETRY_PREDICATES` read at the object's position, as if exact.

    Args:
        obj, road, ego: the object, the ``RoadMap`` and the ``EgoState``.
        neighbours: :func:`ego_neighbours` of ``road`` when already found
            (once per frame); found here when None.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> truths = geometry_truths(ObjectState("o1", "car", (0.0, 12.0), (4.5, 1.8)), road, EgoState(lane=0, speed=0.0))
        >>> truths["ahead"], truths["same_lane"], truths["in_crosswalk"]
        (True, True, False)
    """
    left, right = ego_neighbours(road) if neighbours is None else neighbours
    lane = lane_of(obj, road)
    in_left = left is not None and lane == left.index
    in_right = right is not None and lane == right.index
    return {
        "ahead": is_ahead(obj, ego), "behind": is_behind(obj, ego),
        "left_of": is_left_of(obj, ego), "right_of": is_right_of(obj, ego),
        "same_lane": lane is not None and lane == road.ego_lane,
        "in_left_lane": in_left, "in_right_lane": in_right, "in_adjacent_lane": in_left or in_right,
        "in_crosswalk": in_crosswalk(obj, road), "on_sidewalk": on_sidewalk(obj, road),
        "at_stop_line": stop_line_of(obj, road) is not None, "on_road": lane is not None,
        "applies_to_ego": applies_to_ego(obj, road, ego),
    }


def geometry_confidences(obj: ObjectState, road, ego, *, neighbours: tuple | None = None) -> dict[str, float]:
    """Confidence of each geometric fact, given how far the object's position may be off.

    With ``position_uncertainty`` r > 0 each predicate is also read with the
    box shifted by r along both axes (the four diagonal shifts): 1 where every
    reading holds, 0 where none does, :data:`UNCERTAIN_GEOMETRY_CONFIDENCE`
    where they differ (the object stands within r of a border). Regions are
    unions of axis-aligned bands and boxes at least 2r wide, so a border
    within r of the position always splits these readings.

    The five readings (centre and four diagonal shifts) agree or differ as
    these do: a predicate of x alone reads x - r, x and x + r (the shifts
    repeat them), one of y alone y - r, y and y + r; only the region tests
    (crosswalk, sidewalk, stop line, governed line) read all five positions,
    and only when the road has such regions.

    Args:
        obj, road, ego: the object, the ``RoadMap`` and the ``EgoState``.
        neighbours: :func:`ego_neighbours` of ``road`` when already found
            (once per frame); found here when None.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9), Lane(1, 3.5, 3.5, 1, 13.9)], ego_lane=0)
        >>> ego = EgoState(lane=0, speed=0.0)
        >>> on_border = ObjectState("o1", "pedestrian", (1.6, 12.0), (0.6, 0.6), position_uncertainty=0.3)
        >>> geometry_confidences(on_border, road, ego)["same_lane"]
        0.5
        >>> geometry_confidences(ObjectState("o1", "pedestrian", (1.6, 12.0), (0.6, 0.6)), road, ego)["same_lane"]
        1.0
    """
    neighbours = ego_neighbours(road) if neighbours is None else neighbours
    r = obj.position_uncertainty
    if r <= 0:
        return {name: 1.0 if holds else 0.0
                for name, holds in geometry_truths(obj, road, ego, neighbours=neighbours).items()}
    left, right = neighbours
    x, y = obj.position
    length, width = obj.size
    xs = (x, x - r, x + r)
    ys = (y, y - r, y + r)
    confidences = {
        "ahead": _agreement([_ahead_at(v, length, ego) for v in ys]),
        "behind": _agreement([_behind_at(v, length, ego) for v in ys]),
        "left_of": _agreement([_left_of_at(v, width, ego) for v in xs]),
        "right_of": _agreement([_right_of_at(v, width, ego) for v in xs]),
    }
    if obj.label in CONTROL_LABELS:
        lanes = (None, None, None)
    else:
        lanes = tuple(road.lane_at(v) for v in xs)
    left_index = None if left is None else left.index
    right_index = None if right is None else right.index
    in_left = [left is not None and lane == left_index for lane in lanes]
    in_right = [right is not None and lane == right_index for lane in lanes]
    confidences["same_lane"] = _agreement([lane is not None and lane == road.ego_lane for lane in lanes])
    confidences["in_left_lane"] = _agreement(in_left)
    confidences["in_right_lane"] = _agreement(in_right)
    confidences["in_adjacent_lane"] = _agreement([a or b for a, b in zip(in_left, in_right)])
    positions = ((x, y), (x - r, y - r), (x - r, y + r), (x + r, y - r), (x + r, y + r))
    confidences["in_crosswalk"] = _agreement([_crosswalk_at(road, px, py) for px, py in positions]) \
        if road.crosswalks else 0.0
    confidences["on_sidewalk"] = _agreement([_sidewalk_at(road, px, py) for px, py in positions]) \
        if road.sidewalks else 0.0
    confidences["at_stop_line"] = _agreement([_stop_line_near(road, px, py, length, width) is not None
                                              for px, py in positions]) if road.stop_lines else 0.0
    confidences["on_road"] = _agreement([lane is not None for lane in lanes])
    confidences["applies_to_ego"] = _agreement([py > 0 and _governed_line_at(road, px, py) for px, py in positions]) \
        if obj.label in CONTROL_LABELS and road.stop_lines else 0.0
    return confidences


def _agreement(readings: list[bool]) -> float:
    """1 where every reading holds, 0 where none does, UNCERTAIN_GEOMETRY_CONFIDENCE where they differ."""
    if all(readings):
        return 1.0
    return UNCERTAIN_GEOMETRY_CONFIDENCE if any(readings) else 0.0


def motion_known(obj: ObjectState) -> bool:
    """The object's velocity is known: measured, estimated, or a sign or light that never moves.

    Example:
        >>> motion_known(ObjectState("o1", "car", (0.0, 9.0), (4.0, 2.0))), motion_known(
        ...     ObjectState("o2", "stop_sign", (3.0, 9.0), (0.8, 0.8)))
        (False, True)
    """
    return obj.velocity is not None or obj.label in STATIC_LABELS

