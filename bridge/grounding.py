"""Grounding: what the network saw becomes facts the rules can use.

Two small steps, each a pure function, and the :class:`DrivingGrounder`
stage that runs them for the pipeline:

1. :func:`detections_to_objects` turns pixel boxes into
   :class:`~bridge.geometry.ObjectState` records in the ego frame (metres; x
   to the right, y forward, origin at the ego's centre) through the camera's
   :class:`Calibration` (``DrivingGrounder.locate``).
2. :func:`ground_objects` turns objects, the road map and the ego's state
   into the facts of :mod:`bridge.vocabulary` (class, light colour, geometry,
   motion, and facts about the ego and the road) and the frame's
   :class:`~bridge.scene_graph.SceneGraph` (``DrivingGrounder.ground``).

:func:`detections_to_facts` composes them; :func:`bridge.ground_truth.ground_truth_facts`
grounds a generated scene's ground truth through the very same code, so that a
perfect detector reaches exactly the ground-truth facts. The geometry itself
(what "ahead", "in the crosswalk" or "time to collision" mean) lives in
:mod:`bridge.geometry`.

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
stated as uncertain (confidence
:data:`~bridge.geometry.UNCERTAIN_GEOMETRY_CONFIDENCE`), so a robust reasoner
covers both readings of an object standing on a border.

Per-object knowledge perception may carry on its
:class:`~perception.detections.Detections` (``object_ids``, ``velocities``,
``position_uncertainty``; the ground truth carries all three) is read from
there: without it objects are named ``o1``, ``o2``, ... in detection order,
their velocity is unknown and their position exact.
"""
from __future__ import annotations

import math
from typing import Sequence

from symbolic.reasoning.facts import Fact, FactBase

from bridge.geometry import (APPROACH_SPEED, STOP_LINE_REACH_M, STOPPED_AT_SIGN_M, STOPPED_SPEED, ObjectState,
                             closing_speed, distance, ego_neighbours, gap, geometry_confidences, motion_known,
                             neighbour_lane, stopping_distance, time_to_collision)
from bridge.scene_graph import SceneGraph
from bridge.vocabulary import CLASS_NAMES, LIGHT_STATES, NEAR_RADIUS_M

UNKNOWN_MOTION_CONFIDENCE = 0.5  # confidence of motion facts of an object whose velocity is unknown


class DrivingGrounder:
    """The grounding stage of our driving world: its geometry and road map turned into facts.

    A grounder is the one place that knows a world's geometry: it places
    detections in the world (:meth:`locate`) and states the facts and the
    scene graph of the objects placed (:meth:`ground`). Another world
    supplies its own grounder with the same two methods.

    Args:
        near_radius_m: metres within which two objects are ``near``.
        motion_prior: a :class:`bridge.motion_prior.MotionPrior` bounding how
            fast objects of unknown or estimated motion may close in, or None
            (unbounded: an unknown motion's ``ttc`` is uncertain).

    Example:
        >>> from perception.world import generate_scene, preset_config
        >>> from bridge.ground_truth import scene_detections
        >>> scene = generate_scene(preset_config("easy"), seed=1)
        >>> grounder = DrivingGrounder()
        >>> objects = grounder.locate(scene_detections(scene, truth=True), scene)
        >>> facts, graph = grounder.ground(objects, scene)
        >>> sorted(facts.objects) == sorted(o.id for o in scene.objects)
        True
    """

    def __init__(self, near_radius_m: float = NEAR_RADIUS_M, motion_prior=None):
        self.near_radius_m = near_radius_m
        self.motion_prior = motion_prior

    def locate(self, detections, frame) -> list[ObjectState]:
        """The frame's detections as objects in the ego frame (:func:`detections_to_objects`).

        Args:
            detections: :class:`perception.detections.Detections` of the frame's image.
            frame: the frame (its ``calibration`` is read).

        Returns:
            One :class:`~bridge.geometry.ObjectState` per detection, in order.
        """
        return detections_to_objects(detections, frame.calibration)

    def ground(self, objects: Sequence[ObjectState], frame):
        """The frame's facts and scene graph (:func:`ground_objects`).

        Args:
            objects: the frame's objects (ego frame), e.g. located and tracked.
            frame: the frame (its ``road`` and ``ego`` are read).

        Returns:
            ``(facts, scene_graph)``: a :class:`FactBase` and a :class:`~bridge.scene_graph.SceneGraph`.
        """
        return ground_objects(objects, frame.road, frame.ego, near_radius=self.near_radius_m,
                              motion_prior=self.motion_prior)


# ---------------------------------------------------------------- detections -> objects

def detections_to_objects(detections, calibration) -> list[ObjectState]:
    """Pixel boxes to objects in the ego frame.

    The view is top-down, so a box's centre is the object's centre and its
    height and width in pixels are its length and width on the ground. A box
    touching the image border is cut off there (``ObjectState.truncated``).
    Ids, velocities and position uncertainties come from the detections'
    optional ``object_ids``, ``velocities`` (a NaN row: unknown) and
    ``position_uncertainty``; without them ``"o1"``, ``"o2"``, ..., unknown
    and 0. A velocity's ``velocity_uncertainty`` (m/s per axis) becomes the
    object's ``speed_uncertainty``: both axes' projected on the line of
    sight, as the tracker reads its own fits.

    Args:
        detections: :class:`perception.detections.Detections` of one image.
        calibration: the camera's ``Calibration`` (``pixel_to_ego``,
            ``metres_per_pixel``).

    Returns:
        One :class:`~bridge.geometry.ObjectState` per detection, in order.

    Raises:
        ValueError: a position uncertainty is negative or not finite.

    Example:
        >>> import torch
        >>> from perception.detections import Detections
        >>> from perception.world import Calibration
        >>> calibration = Calibration(metres_per_pixel=0.25, image_size=(256, 256), ego_pixel=(128.0, 200.0))
        >>> d = Detections(torch.tensor([[124., 140., 132., 158.]]), torch.tensor([0]),
        ...                torch.tensor([0.9]), ("car",))
        >>> [(o.id, o.position, o.velocity) for o in detections_to_objects(d, calibration)]
        [('o1', (0.0, 12.75), None)]
    """
    num = len(detections)
    if num == 0:
        return []
    ids = [f"o{i + 1}" for i in range(num)] if detections.object_ids is None else list(detections.object_ids)
    velocities = [None] * num
    if detections.velocities is not None:
        velocities = [None if any(math.isnan(v) for v in row) else (float(row[0]), float(row[1]))
                      for row in detections.velocities.detach().double().cpu().tolist()]
    speed_uncertainties = [0.0] * num
    if detections.velocity_uncertainty is not None:
        speed_uncertainties = [(float(ux), float(uy)) for ux, uy in
                               detections.velocity_uncertainty.detach().double().cpu().tolist()]
    uncertainties = [0.0] * num
    if detections.position_uncertainty is not None:
        uncertainties = [float(r) for r in detections.position_uncertainty.detach().double().cpu().tolist()]
        if not all(0 <= r < math.inf for r in uncertainties):
            raise ValueError("`position_uncertainty` must hold finite numbers of metres >= 0. "
                             f"Received: position_uncertainty={uncertainties!r}")
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
        speed_uncertainty = 0.0
        if velocities[i] is not None and isinstance(speed_uncertainties[i], tuple):
            ux, uy = speed_uncertainties[i]
            distance_m = math.hypot(float(xs[i]), float(ys[i]))
            speed_uncertainty = (math.hypot(ux, uy) if distance_m < 1e-6
                                 else (abs(float(xs[i])) * ux + abs(float(ys[i])) * uy) / distance_m)
        truncated = tuple(side for side, cut in (("left", x1 <= 0), ("right", x2 >= width),
                                                   ("front", y1 <= 0), ("rear", y2 >= height)) if cut)
        objects.append(ObjectState(
            id=str(ids[i]), label=labels[i], position=(float(xs[i]), float(ys[i])),
            size=((y2 - y1) * mpp, (x2 - x1) * mpp), confidence=min(max(scores[i], 0.0), 1.0),
            attributes=attributes[i] if labels[i] == "traffic_light" else {},
            velocity=velocities[i], box=(x1, y1, x2, y2), truncated=truncated,
            position_uncertainty=uncertainties[i], speed_uncertainty=speed_uncertainty,
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


# ---------------------------------------------------------------- objects -> facts

def ground_objects(objects: Sequence[ObjectState], road, ego, *, near_radius: float = NEAR_RADIUS_M,
                   motion_prior=None):
    """The facts of one frame (per object, then relations, then the ego and the road) and its scene graph.

    Args:
        objects: the frame's objects (ego frame).
        road: the ``RoadMap`` (lanes, crosswalks, stop lines, sidewalks).
        ego: the ``EgoState`` (lane, speed, length, width).
        near_radius: metres within which two objects are ``near``.
        motion_prior: a :class:`bridge.motion_prior.MotionPrior` bounding
            how fast objects of unknown or estimated motion may close in
            (None: unbounded, an unknown motion's ``ttc`` uncertain).

    Returns:
        ``(facts, scene_graph)``: a :class:`FactBase` whose objects are the
        objects' ids, and the :class:`bridge.scene_graph.SceneGraph` the
        relations came from.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> facts, graph = ground_objects([ObjectState("o1", "car", (0.0, 12.0), (4.5, 1.8), 0.9)],
        ...                               road, EgoState(lane=0, speed=3.0))
        >>> facts.confidence("car", "o1"), facts.confidence("same_lane", "o1"), facts.value("dist", "o1")
        (0.9, 1.0, 12.0)
        >>> facts.value("ego_speed"), graph.objects()
        (3.0, ['o1'])
    """
    graph = SceneGraph.from_objects(objects, road, ego, near_radius=near_radius)
    facts: list[Fact] = []
    neighbours = ego_neighbours(road)
    for obj in objects:
        facts.extend(object_facts(obj, road, ego, motion_prior=motion_prior, neighbours=neighbours))
    facts.extend(graph.relational_facts())
    facts.extend(ego_facts(road, ego))
    return FactBase(facts, class_names=CLASS_NAMES), graph


def object_facts(obj: ObjectState, road, ego, *, motion_prior=None, neighbours: tuple | None = None) -> list[Fact]:
    """Class, light colour, geometry and motion facts of one object.

    Args:
        obj, road, ego: the object, the ``RoadMap`` and the ``EgoState``.
        motion_prior: as in :func:`ground_objects`.
        neighbours: :func:`bridge.geometry.ego_neighbours` of ``road`` when
            already found (once per frame); found here when None.

    Example:
        >>> from perception.world import EgoState, Lane, RoadMap
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> light = ObjectState("o2", "traffic_light", (3.0, 20.0), (1.0, 1.0), 0.8,
        ...                     {"light_state": {"red": 0.7, "yellow": 0.2, "green": 0.1}})
        >>> [f.atom for f in object_facts(light, road, EgoState(lane=0, speed=0.0)) if f.predicate == "light"]
        ['light(o2, red)', 'light(o2, yellow)', 'light(o2, green)']
    """
    neighbours = ego_neighbours(road) if neighbours is None else neighbours
    o = obj.id
    facts = [Fact(obj.label, (o,), obj.confidence)]
    if obj.label == "traffic_light":
        for color, probability in obj.attributes.get("light_state", {}).items():
            if color in LIGHT_STATES:
                facts.append(Fact("light", (o, color), probability))
    closing = closing_speed(obj, ego)
    for name, confidence in geometry_confidences(obj, road, ego, neighbours=neighbours).items():
        if confidence > 0:
            facts.append(Fact(name, (o,), confidence))
    known = motion_known(obj)
    bound = math.inf if motion_prior is None or (known and not obj.speed_uncertainty) else motion_prior.closing_bound(obj, road, ego)
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


def detections_to_facts(detections, calibration, road, ego, *, near_radius: float = NEAR_RADIUS_M,
                        motion_prior=None) -> tuple[list[ObjectState], FactBase]:
    """Detections of one image to its objects and facts.

    Args:
        detections: :class:`perception.detections.Detections` (with their
            optional ids, velocities and position uncertainty).
        calibration, road, ego: the frame's ``Calibration``, ``RoadMap`` and ``EgoState``.
        near_radius, motion_prior: as in :func:`ground_objects`.

    Returns:
        ``(objects, facts)``.

    Example:
        >>> import torch
        >>> from perception.detections import Detections
        >>> from perception.world import Calibration, EgoState, Lane, RoadMap
        >>> calibration = Calibration(metres_per_pixel=0.25, image_size=(256, 256), ego_pixel=(128.0, 200.0))
        >>> road = RoadMap(lanes=[Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> d = Detections(torch.tensor([[124., 140., 132., 158.]]), torch.tensor([0]), torch.tensor([0.9]), ("car",),
        ...                velocities=torch.zeros(1, 2, dtype=torch.float64))
        >>> objects, facts = detections_to_facts(d, calibration, road, EgoState(lane=0, speed=5.0))
        >>> facts.confidence("ahead", "o1"), facts.confidence("approaching", "o1")
        (1.0, 1.0)
        >>> # one image without a velocity: its motion is unknown, so uncertain
        >>> unknown = Detections(d.boxes, d.labels, d.scores, d.class_names)
        >>> detections_to_facts(unknown, calibration, road, EgoState(lane=0, speed=5.0))[1].confidence("approaching", "o1")
        0.5
    """
    objects = detections_to_objects(detections, calibration)
    return objects, ground_objects(objects, road, ego, near_radius=near_radius, motion_prior=motion_prior)[0]
