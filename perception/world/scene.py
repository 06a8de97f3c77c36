"""Scenes: one rendered frame and its full ground truth."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from perception.world.geometry import Calibration
from perception.world.road import RoadMap


@dataclass
class WorldObject:
    """One labelled object of a scene.

    Args:
        id: stable across the frames of an episode, e.g. ``"o3"``.
        label: a name in ``CLASS_NAMES``.
        box: ``(x1, y1, x2, y2)`` pixels, clipped to the image; covers every
            drawn pixel of the object (occluded parts included).
        position: ``(x, y)`` metres of its centre in the ego frame.
        heading: radians, 0 along the ego's heading, counter-clockwise positive.
        speed: m/s over the ground.
        velocity: ``(vx, vy)`` m/s over the ground, in ego-frame axes (vehicles
            move along their lane or the crossing road; ``heading`` may deviate
            slightly from it as pose noise).
        size: ``(length, width)`` metres of the drawn footprint (stylised:
            pedestrians and cyclists are drawn larger than life).
        lane: main-road lane containing the centre (``RoadMap.lane_at``), or None.
        attributes: e.g. ``{"light_state": "red"}`` for traffic lights.
        occlusion: fraction of the drawn object hidden by others, in [0, 1].
        applies_to_ego: traffic lights and stop signs governing the ego's lane.

    Example:
        >>> o = WorldObject("o1", "car", (10., 20., 30., 28.), (1.0, 12.0), 0.0, 5.0, (0.0, 5.0), (4.5, 1.9), 1)
        >>> WorldObject.from_json(o.to_json()) == o
        True
    """

    id: str
    label: str
    box: tuple[float, float, float, float]
    position: tuple[float, float]
    heading: float
    speed: float
    velocity: tuple[float, float]
    size: tuple[float, float]
    lane: int | None
    attributes: dict[str, str] = field(default_factory=dict)
    occlusion: float = 0.0
    applies_to_ego: bool = False

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("box", "position", "velocity", "size"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict) -> "WorldObject":
        values = dict(data)
        for key in ("box", "position", "velocity", "size"):
            values[key] = tuple(float(v) for v in values[key])
        values["attributes"] = dict(values.get("attributes", {}))
        return cls(**values)


@dataclass
class EgoState:
    """The ego vehicle: always at the ego-frame origin, heading along ``+y``.

    Args:
        lane: index of its lane.
        speed: m/s.
        odometry: metres travelled since the episode began.
        length, width: metres.
    """

    lane: int
    speed: float
    odometry: float = 0.0
    length: float = 4.6
    width: float = 1.9


@dataclass
class Scene:
    """One frame of the synthetic world: the image and everything true about it.

    Args:
        image: (H, W, 3) uint8 RGB.
        objects: the labelled objects in view.
        road: the map in the ego frame.
        calibration: pixel <-> metre mapping.
        ego: the ego vehicle's state.
        image_id: id of the image in a dataset.
        seed: the seed the scene (or its episode) was generated from.
        episode_id: the episode, or None for an independent scene.
        frame_index: position in the episode (0 for independent scenes).
        time_s: seconds since the episode began.
        warmup: the frame is sensor history before an episode's first judged
            frame: a pipeline sees it, evaluation does not judge it.

    Example:
        >>> from perception.world import generate_scene, WorldConfig
        >>> scene = generate_scene(WorldConfig(preset="easy", image_size=64, metres_per_pixel=0.8), seed=1)
        >>> scene.image.shape, scene.image.dtype
        ((64, 64, 3), dtype('uint8'))
        >>> again = Scene.from_json(scene.to_json(), image=scene.image)
        >>> again.objects == scene.objects and again.road == scene.road
        True
    """

    image: np.ndarray
    objects: list[WorldObject]
    road: RoadMap
    calibration: Calibration
    ego: EgoState
    image_id: int = 0
    seed: int = 0
    episode_id: int | None = None
    frame_index: int = 0
    time_s: float = 0.0
    warmup: bool = False

    def to_json(self) -> dict:
        """Every ground-truth field except the pixels, as JSON-ready values."""
        data = {
            "image_id": self.image_id, "seed": self.seed, "episode_id": self.episode_id,
            "frame_index": self.frame_index, "time_s": self.time_s,
            "calibration": self.calibration.to_json(), "ego": asdict(self.ego),
            "road": self.road.to_json(), "objects": [o.to_json() for o in self.objects],
        }
        if self.warmup:
            data["warmup"] = True
        return data

    @classmethod
    def from_json(cls, data: dict, image: np.ndarray | None = None) -> "Scene":
        """The scene described by :meth:`to_json`; ``image`` defaults to black pixels."""
        calibration = Calibration.from_json(data["calibration"])
        if image is None:
            width, height = calibration.image_size
            image = np.zeros((height, width, 3), dtype=np.uint8)
        return cls(
            image=image, objects=[WorldObject.from_json(o) for o in data["objects"]],
            road=RoadMap.from_json(data["road"]), calibration=calibration, ego=EgoState(**data["ego"]),
            image_id=int(data["image_id"]), seed=int(data["seed"]), episode_id=data.get("episode_id"),
            frame_index=int(data.get("frame_index", 0)), time_s=float(data.get("time_s", 0.0)),
            warmup=bool(data.get("warmup", False)),
        )
