"""Grounding: what the network saw becomes facts the rules can use.

Two small steps, each a pure function:

1. :func:`detections_to_objects` turns pixel boxes into :class:`ObjectState`
   records in the ego frame (metres; x to the right, y forward, origin at
   the ego's centre) through the camera's :class:`Calibration`.
2. :func:`objects_to_facts` turns objects, the road map and the ego's state
   into the facts of :mod:`bridge.vocabulary` (class, light colour, geometry,
   motion, and facts about the ego and the road).

:func:`detections_to_facts` composes them; :func:`ground_truth_facts` grounds
a generated scene's ground truth through the very same code, so that a
perfect detector reaches exactly the ground-truth facts.

Confidence: a class fact carries the detection's score, a light colour the
probability of that colour. Geometry is stated as certain *given* that the
object exists and lies where its box says, within its ``position_uncertainty``
(below).
Absent facts are false (closed world).

Motion: an object's ``velocity`` is its own motion over the ground, in the
ego's axes. When it is unknown (a single image, a new track) no reading of it
is safe in every case (standing still is not: a pedestrian stepping out
closes faster), so its motion facts (``approaching``, ``ttc``, ``speed``) are
stated as uncertain (confidence :data:`UNKNOWN_MOTION_CONFIDENCE`, between the
reasoner's ``low`` and ``high``): a robust reasoner then covers every motion.
Given a :class:`bridge.motion_prior.MotionPrior` (top speeds, one-way lanes),
``ttc`` is instead stated at the fastest closing the prior allows (the
cautious end of every possible value), and an estimated velocity's cautious
closing speed never exceeds that bound. Traffic lights and stop signs never move.

Position: a detected box may be off by ``position_uncertainty`` metres in
any coordinate (centre or edge; a measured property of the detector, 0 for
true boxes). A boolean geometric fact (lane, crosswalk, sidewalk, stop line,
ahead, ...) whose truth would change somewhere within that distance is
stated as uncertain (confidence :data:`UNCERTAIN_GEOMETRY_CONFIDENCE`), so a
robust reasoner covers both readings of an object standing on a border.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from symbolic.reasoning.facts import Fact, FactBase

from bridge.vocabulary import CLASS_NAMES, LIGHT_COLORS, NEAR_RADIUS_M

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
UNKNOWN_MOTION_CONFIDENCE = 0.5  # confidence of motion facts of an object whose velocity is unknown
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


# ---------------------------------------------------------------- detections -> objects

def detections_to_objects(detections, calibration, *, ids: Sequence[str] | None = None,
                          velocities: Sequence[tuple[float, float] | None] | None = None,
                          position_uncertainty: float = 0.0) -> list[ObjectState]:
    """Pixel boxes to objects in the ego frame.

    The view is top-down, so a box's centre is the object's centre and its
    height and width in pixels are its length and width on the ground. A box
    touching the image border is cut off there (``ObjectState.truncated``).

    Args:
        detections: :class:`perception.detections.Detections` of one image.
        calibration: the camera's ``Calibration`` (``pixel_to_ego``,
            ``metres_per_pixel``).
        ids: one constant per detection; ``"o1"``, ``"o2"``, ... by default.
        velocities: one ``(vx, vy)`` or ``None`` per detection (m/s).
        position_uncertainty: metres each box coordinate may be off (the
            detector's measured localisation error; 0 for true boxes).

    Returns:
        One :class:`ObjectState` per detection, in order.

    Example:
        >>> import torch
        >>> from perception.detections import Detections
        >>> from perception.world import Calibration
        >>> calibration = Calibration(metres_per_pixel=0.25, image_size=(256, 256), ego_pixel=(128.0, 200.0))
        >>> d = Detections(torch.tensor([[124., 140., 132., 158.]]), torch.tensor([0]),
        ...                torch.tensor([0.9]), ("car",))
        >>> detections_to_objects(d, calibration)[0].position
        (0.0, 12.75)
    """
    if isinstance(position_uncertainty, bool) or not isinstance(position_uncertainty, (int, float)) \
            or not 0 <= position_uncertainty < math.inf:
        raise ValueError("`position_uncertainty` must be a finite number of metres >= 0. "
                         f"Received: position_uncertainty={position_uncertainty!r}")
    num = len(detections)
    ids = [f"o{i + 1}" for i in range(num)] if ids is None else list(ids)
    velocities = [None] * num if velocities is None else list(velocities)
    if len(ids) != num or len(velocities) != num:
        raise ValueError(f"`ids` and `velocities` must have one entry per detection ({num}). "
                         f"Received {len(ids)} ids and {len(velocities)} velocities")
    if num == 0:
        return []
    boxes = detections.boxes.detach().float().cpu().numpy()  # (N, 4)
    centre_u = (boxes[:, 0] + boxes[:, 2]) / 2
    centre_v = (boxes[:, 1] + boxes[:, 3]) / 2
    xs, ys = calibration.pixel_to_ego(centre_u, centre_v)
    mpp = float(calibration.metres_per_pixel)
    labels = detections.label_names()
    scores = detections.scores.detach().float().cpu().tolist()
    attributes = _attribute_rows(detections)
    width, height = calibration.image_size
    objects = []
    for i in range(num):
        x1, y1, x2, y2 = (float(v) for v in boxes[i])
        truncated = tuple(side for side, cut in (("left", x1 <= 0), ("right", x2 >= width),
                                                   ("front", y1 <= 0), ("rear", y2 >= height)) if cut)
        objects.append(ObjectState(
            id=str(ids[i]), label=labels[i], position=(float(xs[i]), float(ys[i])),
            size=((y2 - y1) * mpp, (x2 - x1) * mpp), confidence=min(max(scores[i], 0.0), 1.0),
            attributes=attributes[i] if labels[i] == "traffic_light" else {},
            velocity=None if velocities[i] is None else (float(velocities[i][0]), float(velocities[i][1])),
            box=(x1, y1, x2, y2), truncated=truncated, position_uncertainty=float(position_uncertainty),
        ))
    return objects


def _attribute_rows(detections) -> list[dict[str, dict[str, float]]]:
    rows: list[dict[str, dict[str, float]]] = [{} for _ in range(len(detections))]
    for name, probabilities in detections.attributes.items():
        values = detections.attribute_values.get(name) or tuple(str(k) for k in range(probabilities.shape[1]))
        for i, row in enumerate(probabilities.detach().float().cpu().tolist()):
            if not any(math.isnan(p) for p in row):
                rows[i][name] = {value: min(max(p, 0.0), 1.0) for value, p in zip(values, row)}
    return rows


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

    (An unknown motion's facts are uncertain, see :func:`object_facts`; the
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


def approaching_confidence(closing: float, uncertainty: float = 0.0) -> float:
    """Confidence of ``approaching`` for a closing speed known to within ``uncertainty`` m/s.

    1 when it surely exceeds ``APPROACH_SPEED``, 0 when it surely does not,
    0.5 (uncertain: the robust reasoner acts safely either way) in between.

    Example:
        >>> approaching_confidence(2.0), approaching_confidence(0.2), approaching_confidence(0.7, 0.5)
        (1.0, 0.0, 0.5)
    """
    if closing > APPROACH_SPEED + uncertainty:
        return 1.0
    if closing <= APPROACH_SPEED - uncertainty:
        return 0.0
    return 0.5


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


# ---------------------------------------------------------------- objects -> facts

def objects_to_facts(objects: Sequence[ObjectState], road, ego, *, near_radius: float = NEAR_RADIUS_M,
                     motion_prior=None) -> FactBase:
    """The facts of one frame: per object, then relations, then the ego and the road.

    Args:
        objects: the frame's objects (ego frame).
        road: the ``RoadMap`` (lanes, crosswalks, stop lines, sidewalks).
        ego: the ``EgoState`` (lane, speed, length, width).
        near_radius: metres within which two objects are ``near``.
        motion_prior: a :class:`bridge.motion_prior.MotionPrior` bounding
            how fast objects of unknown or estimated motion may close in
            (None: unbounded, an unknown motion's ``ttc`` uncertain).

    Returns:
        A :class:`FactBase` whose objects are the objects' ids.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> facts = objects_to_facts([ObjectState("o1", "car", (0.0, 12.0), (4.5, 1.8), 0.9)],
        ...                          road, EgoState(lane=0, speed=0.0))
        >>> facts.confidence("car", "o1"), facts.confidence("same_lane", "o1"), facts.value("dist", "o1")
        (0.9, 1.0, 12.0)
    """
    return ground_objects(objects, road, ego, near_radius=near_radius, motion_prior=motion_prior)[0]


def ground_objects(objects: Sequence[ObjectState], road, ego, *, near_radius: float = NEAR_RADIUS_M,
                   motion_prior=None):
    """Like :func:`objects_to_facts`, also returning the scene graph the relations came from.

    Returns:
        ``(facts, scene_graph)``: a :class:`FactBase` and a :class:`bridge.scene_graph.SceneGraph`.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> facts, graph = ground_objects([], road, EgoState(lane=0, speed=3.0))
        >>> facts.value("ego_speed"), graph.objects()
        (3.0, [])
    """
    from bridge.scene_graph import SceneGraph

    graph = SceneGraph.from_objects(objects, road, ego, near_radius=near_radius)
    facts: list[Fact] = []
    left, right = neighbour_lane(road, road.ego_lane, "left"), neighbour_lane(road, road.ego_lane, "right")
    for obj in objects:
        facts.extend(_object_facts(obj, road, ego, left, right, motion_prior))
    facts.extend(graph.relational_facts())
    facts.extend(ego_facts(road, ego))
    return FactBase(facts, class_names=CLASS_NAMES), graph


def object_facts(obj: ObjectState, road, ego) -> list[Fact]:
    """Class, light colour, geometry and motion facts of one object.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> light = ObjectState("o2", "traffic_light", (3.0, 20.0), (1.0, 1.0), 0.8,
        ...                     {"light_state": {"red": 0.7, "yellow": 0.2, "green": 0.1}})
        >>> [f.atom for f in object_facts(light, road, EgoState(lane=0, speed=0.0)) if f.predicate == "light"]
        ['light(o2, red)', 'light(o2, yellow)', 'light(o2, green)']
    """
    return _object_facts(obj, road, ego, neighbour_lane(road, road.ego_lane, "left"),
                         neighbour_lane(road, road.ego_lane, "right"))


def _object_facts(obj: ObjectState, road, ego, left, right, prior=None) -> list[Fact]:
    """:func:`object_facts` with the lanes left and right of the ego found once per frame."""
    o = obj.id
    facts = [Fact(obj.label, (o,), obj.confidence)]
    if obj.label == "traffic_light":
        for color, probability in obj.attributes.get("light_state", {}).items():
            if color in LIGHT_COLORS:
                facts.append(Fact("light", (o, color), probability))
    closing = closing_speed(obj, ego)
    for name, confidence in _geometry_confidences(obj, road, ego, left, right).items():
        if confidence > 0:
            facts.append(Fact(name, (o,), confidence))
    known = motion_known(obj)
    bound = math.inf if prior is None or (known and not obj.speed_uncertainty) else prior.closing_bound(obj, road, ego)
    if bound <= APPROACH_SPEED:
        approaching = 0.0   # no motion the prior allows closes in
    elif known:
        approaching = approaching_confidence(closing, obj.speed_uncertainty)
    else:
        approaching = UNKNOWN_MOTION_CONFIDENCE
    if approaching > 0:
        facts.append(Fact("approaching", (o,), approaching))
    speed = 0.0 if obj.velocity is None else math.hypot(*obj.velocity)
    # a position known within r per coordinate: dist = hypot(x, y) within sqrt(2) r, the gap (lengthwise) within r;
    # the robust reasoner keeps every rule for every value in those intervals
    r = obj.position_uncertainty
    facts.append(Fact("dist", (o,), value=_clip(distance(obj), 0, 200), tolerance=math.sqrt(2) * r))
    facts.append(Fact("gap", (o,), value=_clip(gap(obj, ego), -200, 200), tolerance=r))
    motion = 1.0 if known else UNKNOWN_MOTION_CONFIDENCE
    facts.append(Fact("speed", (o,), motion, value=_clip(speed, 0, 60)))
    ttc_confidence = 1.0 if known or math.isfinite(bound) else UNKNOWN_MOTION_CONFIDENCE
    facts.append(Fact("ttc", (o,), ttc_confidence,
                      value=_clip(time_to_collision(obj, ego, closing_bound=bound), 0, 100)))
    return facts


def geometry_truths(obj: ObjectState, road, ego) -> dict[str, bool]:
    """Each of :data:`GEOMETRY_PREDICATES` read at the object's position, as if exact.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> truths = geometry_truths(ObjectState("o1", "car", (0.0, 12.0), (4.5, 1.8)), road, EgoState(lane=0, speed=0.0))
        >>> truths["ahead"], truths["same_lane"], truths["in_crosswalk"]
        (True, True, False)
    """
    return _geometry_truths(obj, road, ego, neighbour_lane(road, road.ego_lane, "left"),
                            neighbour_lane(road, road.ego_lane, "right"))


def _geometry_truths(obj: ObjectState, road, ego, left, right) -> dict[str, bool]:
    """:func:`geometry_truths` with the lanes left and right of the ego's found once."""
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


def geometry_confidences(obj: ObjectState, road, ego) -> dict[str, float]:
    """Confidence of each geometric fact, given how far the object's position may be off.

    With ``position_uncertainty`` r > 0 each predicate is also read with the
    box shifted by r along both axes (the four diagonal shifts): 1 where every
    reading holds, 0 where none does, :data:`UNCERTAIN_GEOMETRY_CONFIDENCE`
    where they differ (the object stands within r of a border). Regions are
    unions of axis-aligned bands and boxes at least 2r wide, so a border
    within r of the position always splits these readings.

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
    return _geometry_confidences(obj, road, ego, neighbour_lane(road, road.ego_lane, "left"),
                                 neighbour_lane(road, road.ego_lane, "right"))


def _geometry_confidences(obj: ObjectState, road, ego, left, right) -> dict[str, float]:
    """:func:`geometry_confidences` with the lanes left and right of the ego found once.

    The five readings (centre and four diagonal shifts) agree or differ as
    these do: a predicate of x alone reads x - r, x and x + r (the shifts
    repeat them), one of y alone y - r, y and y + r; only the region tests
    (crosswalk, sidewalk, stop line, governed line) read all five positions,
    and only when the road has such regions.
    """
    r = obj.position_uncertainty
    if r <= 0:
        return {name: 1.0 if holds else 0.0 for name, holds in _geometry_truths(obj, road, ego, left, right).items()}
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


def ego_facts(road, ego) -> list[Fact]:
    """Facts about the ego and the road: lanes beside it, stopped, speed, limit, stopping distance.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, -1.75, 3.5, 1, 13.9), Lane(1, 1.75, 3.5, 1, 13.9)], ego_lane=1)
        >>> [f.atom for f in ego_facts(road, EgoState(lane=1, speed=0.0)) if not f.is_function]
        ['left_lane_exists()', 'ego_stopped()']
    """
    facts = []
    if neighbour_lane(road, road.ego_lane, "left", same_direction=True) is not None:
        facts.append(Fact("left_lane_exists"))
    if neighbour_lane(road, road.ego_lane, "right", same_direction=True) is not None:
        facts.append(Fact("right_lane_exists"))
    stopped = ego.speed < STOPPED_SPEED
    if stopped:
        facts.append(Fact("ego_stopped"))
    if stopped and _governing_stop_line_close(road, ego):
        facts.append(Fact("stopped_at_sign"))
    lane = next((lane for lane in road.lanes if lane.index == road.ego_lane), None)
    facts.append(Fact("ego_speed", value=_clip(ego.speed, 0, 40)))
    facts.append(Fact("speed_limit", value=_clip(lane.speed_limit if lane is not None else 0.0, 0, 40)))
    facts.append(Fact("stopping_distance", value=stopping_distance(ego.speed)))
    return facts


def _governing_stop_line_close(road, ego) -> bool:
    front = ego.length / 2
    return any(road.ego_lane in tuple(line.lanes) and -STOP_LINE_REACH_M <= line.y - front <= STOPPED_AT_SIGN_M
               for line in road.stop_lines)


def _clip(value: float, low: float, high: float) -> float:
    return float(min(max(value, low), high))


def detections_to_facts(detections, calibration, road, ego, *, ids=None, velocities=None,
                        position_uncertainty: float = 0.0,
                        near_radius: float = NEAR_RADIUS_M) -> tuple[list[ObjectState], FactBase]:
    """Detections of one image to its objects and facts.

    Args:
        detections: :class:`perception.detections.Detections`.
        calibration, road, ego: the frame's ``Calibration``, ``RoadMap`` and ``EgoState``.
        ids, velocities, position_uncertainty: as in :func:`detections_to_objects`.

    Returns:
        ``(objects, facts)``.

    Example:
        >>> import torch
        >>> from perception.detections import Detections
        >>> from perception.world import Calibration, EgoState, Lane, RoadMap
        >>> calibration = Calibration(metres_per_pixel=0.25, image_size=(256, 256), ego_pixel=(128.0, 200.0))
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> d = Detections(torch.tensor([[124., 140., 132., 158.]]), torch.tensor([0]), torch.tensor([0.9]), ("car",))
        >>> objects, facts = detections_to_facts(d, calibration, road, EgoState(lane=0, speed=5.0),
        ...                                      velocities=[(0.0, 0.0)])
        >>> facts.confidence("ahead", "o1"), facts.confidence("approaching", "o1")
        (1.0, 1.0)
        >>> # one image without a velocity: its motion is unknown, so uncertain
        >>> detections_to_facts(d, calibration, road, EgoState(lane=0, speed=5.0))[1].confidence("approaching", "o1")
        0.5
    """
    objects = detections_to_objects(detections, calibration, ids=ids, velocities=velocities,
                                    position_uncertainty=position_uncertainty)
    return objects, objects_to_facts(objects, road, ego, near_radius=near_radius)


# ---------------------------------------------------------------- ground truth

def scene_detections(scene):
    """The detections a perfect detector would return for ``scene``.

    True boxes and labels, score 1, one-hot light states.

    Returns:
        :class:`perception.detections.Detections` in the order of ``scene.objects``.

    Example:
        >>> from perception.world import generate_scene, preset_config
        >>> scene = generate_scene(preset_config("easy"), seed=1)
        >>> detections = scene_detections(scene)
        >>> len(detections) == len(scene.objects), bool((detections.scores == 1).all())
        (True, True)
    """
    import torch

    from perception.detections import Detections

    num = len(scene.objects)
    boxes = torch.tensor([list(o.box) for o in scene.objects], dtype=torch.float32).reshape(num, 4)
    labels = torch.tensor([CLASS_NAMES.index(o.label) for o in scene.objects], dtype=torch.int64)
    states = torch.zeros(num, len(LIGHT_COLORS))
    for i, obj in enumerate(scene.objects):
        state = obj.attributes.get("light_state")
        if obj.label == "traffic_light" and state in LIGHT_COLORS:
            states[i, LIGHT_COLORS.index(state)] = 1.0
        else:
            states[i] = float("nan")
    return Detections(boxes=boxes, labels=labels, scores=torch.ones(num), class_names=CLASS_NAMES,
                      attributes={"light_state": states}, attribute_values={"light_state": LIGHT_COLORS})


def scene_velocities(scene) -> list[tuple[float, float]]:
    """Each object's true velocity over the ground (m/s, ego axes).

    Example:
        >>> from perception.world import generate_scene, preset_config
        >>> scene = generate_scene(preset_config("easy"), seed=1)
        >>> len(scene_velocities(scene)) == len(scene.objects)
        True
    """
    return [tuple(float(v) for v in o.velocity) for o in scene.objects]


def ground_truth_objects(scene) -> list[ObjectState]:
    """The objects a perfect detector and tracker would report for ``scene``.

    Example:
        >>> from perception.world import generate_scene, preset_config
        >>> scene = generate_scene(preset_config("easy"), seed=1)
        >>> [o.id for o in ground_truth_objects(scene)] == [o.id for o in scene.objects]
        True
    """
    return detections_to_objects(scene_detections(scene), scene.calibration,
                                 ids=[o.id for o in scene.objects], velocities=scene_velocities(scene))


def ground_truth_facts(scene, *, near_radius: float = NEAR_RADIUS_M) -> FactBase:
    """The facts of a generated scene's ground truth.

    Grounded from the true boxes, labels, light states and motion through the
    same functions the pipeline uses, so a perfect perception reaches these
    facts exactly and every disagreement comes from perception.

    Args:
        scene: a ``perception.world.Scene``.

    Returns:
        A certain :class:`FactBase` (every confidence is 1).

    Example:
        >>> from perception.world import generate_scene, preset_config
        >>> scene = generate_scene(preset_config("easy"), seed=1)
        >>> set(ground_truth_facts(scene).objects) == {o.id for o in scene.objects}
        True
    """
    return objects_to_facts(ground_truth_objects(scene), scene.road, scene.ego, near_radius=near_radius)
