"""The ground truth of a generated scene, as perception and grounding would see it.

A perfect detector returns :func:`scene_detections`; with ``truth=True`` they
also carry what no single image shows (the objects' ids and velocities, and a
position uncertainty of 0), which is what :class:`bridge.perception_stage.OraclePerception`
hands the pipeline. :func:`ground_truth_facts` grounds them through the very
same functions the pipeline uses, so a perfect perception reaches these facts
exactly and every disagreement comes from perception.
"""
from __future__ import annotations

import torch

from perception.detections import Detections
from symbolic.reasoning.facts import FactBase

from bridge.geometry import ObjectState
from bridge.grounding import detections_to_objects, ground_objects
from bridge.vocabulary import CLASS_NAMES, LIGHT_STATES, NEAR_RADIUS_M


def scene_detections(scene, *, truth: bool = False) -> Detections:
    """The detections a perfect detector would return for ``scene``.

    True boxes and labels, score 1, one-hot light states.

    Args:
        scene: a generated ``perception.world.Scene`` (with ``objects``).
        truth: also carry each object's true id and velocity, and a position
            uncertainty of 0 (the ground truth's per-object fields).

    Returns:
        :class:`perception.detections.Detections` in the order of ``scene.objects``.

    Example:
        >>> from perception.world import generate_scene, preset_config
        >>> scene = generate_scene(preset_config("easy"), seed=1)
        >>> detections = scene_detections(scene)
        >>> len(detections) == len(scene.objects), bool((detections.scores == 1).all()), detections.object_ids
        (True, True, None)
        >>> list(scene_detections(scene, truth=True).object_ids) == [o.id for o in scene.objects]
        True
    """
    num = len(scene.objects)
    boxes = torch.tensor([list(o.box) for o in scene.objects], dtype=torch.float32).reshape(num, 4)
    labels = torch.tensor([CLASS_NAMES.index(o.label) for o in scene.objects], dtype=torch.int64)
    states = torch.zeros(num, len(LIGHT_STATES))
    for i, obj in enumerate(scene.objects):
        state = obj.attributes.get("light_state")
        if obj.label == "traffic_light" and state in LIGHT_STATES:
            states[i, LIGHT_STATES.index(state)] = 1.0
        else:
            states[i] = float("nan")
    known = {}
    if truth:
        known = {"object_ids": tuple(str(o.id) for o in scene.objects),
                 "velocities": torch.tensor(scene_velocities(scene), dtype=torch.float64).reshape(num, 2),
                 "position_uncertainty": torch.zeros(num, dtype=torch.float64)}
    return Detections(boxes=boxes, labels=labels, scores=torch.ones(num), class_names=CLASS_NAMES,
                      attributes={"light_state": states}, attribute_values={"light_state": LIGHT_STATES}, **known)


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
    return detections_to_objects(scene_detections(scene, truth=True), scene.calibration)


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
    return ground_objects(ground_truth_objects(scene), scene.road, scene.ego, near_radius=near_radius)[0]
