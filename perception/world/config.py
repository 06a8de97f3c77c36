"""World settings: the class map, the difficulty presets and :class:`WorldConfig`.

Knobs left at ``None`` take their value from the preset (``easy``,
``default`` or ``hard``); :meth:`WorldConfig.resolved` fills them in. The
field metadata is checked by :func:`perception.configuration.validate`,
the same checks a YAML ``world:`` section gets.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from perception.configuration import validate

CLASS_NAMES = ("car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign")
LIGHT_STATES = ("red", "yellow", "green")
PRESET_NAMES = ("easy", "default", "hard")

# Values of every preset-dependent knob. "default" is close to a hard
# variant on purpose: flat, clean scenes are learnt too easily.
PRESETS = {
    "easy": dict(num_objects=(2, 8), num_distractors=(0, 2), noise=4.0, blur=0.0, brightness=0.1,
                 color_jitter=0.05, occlusion=0.0, overlap=0.0, size_variation=0.05, pose_variation=0.03,
                 low_contrast=0.0, crossing_road=0.5, control_ahead=0.8, open_road=0.0),
    "default": dict(num_objects=(4, 12), num_distractors=(3, 8), noise=14.0, blur=0.8, brightness=0.25,
                    color_jitter=0.12, occlusion=0.15, overlap=0.2, size_variation=0.15,
                    pose_variation=0.12, low_contrast=0.3, crossing_road=0.5, control_ahead=0.8,
                    open_road=0.5),
    "hard": dict(num_objects=(6, 18), num_distractors=(6, 14), noise=22.0, blur=1.3, brightness=0.4,
                 color_jitter=0.22, occlusion=0.3, overlap=0.4, size_variation=0.25, pose_variation=0.25,
                 low_contrast=0.5, crossing_road=0.5, control_ahead=0.8, open_road=0.3),
}


def _pair(low: int, high: int, doc: str):
    return field(default=None, metadata={"range": (low, high), "ordered": True, "doc": doc})


def _knob(low: float, high: float, doc: str):
    return field(default=None, metadata={"range": (low, high), "doc": doc})


@dataclass
class WorldConfig:
    """Settings of the synthetic driving world.

    Args:
        image_size: width and height of each image in pixels.
        metres_per_pixel: ground resolution; 0.2 at 256 px shows 46 m ahead
            and 25 m to each side of the ego.
        preset: ``"easy"``, ``"default"`` or ``"hard"``; supplies every knob
            left at ``None``.
        lanes: (min, max) number of lanes of the main road, 1 to 4.
        num_objects: (min, max) moving objects (cars, trucks, pedestrians,
            cyclists) per scene; traffic lights and stop signs come with the map.
        num_distractors: (min, max) unlabelled shapes (road marks, bins,
            decoys, trees) per scene.
        noise: standard deviation of sensor noise, in grey levels (0-255).
        blur: largest blur radius in pixels (each image draws one; a box blur).
        brightness: largest relative brightness change.
        color_jitter: largest relative change of each colour channel and of
            the palette of road and ground.
        occlusion: probability that a scene has trees hiding parts of objects.
        overlap: how closely pedestrians may crowd (0 apart, 1 touching).
        size_variation: largest relative change of object sizes.
        pose_variation: largest heading change of vehicles, in radians.
        low_contrast: probability that an object's colour is close to the
            ground it stands on.
        crossing_road: probability that a road feature is an intersection
            rather than a mid-block crosswalk.
        control_ahead: probability that a single scene shows a traffic light
            or stop sign governing the ego 5-45 m ahead.
        open_road: probability that an episode is ordinary traffic on an
            open road: no crosswalk, light or stop sign anywhere along the
            drive, mostly vehicles in the lanes (a car ahead at a driving
            distance or a slow one worth overtaking), the ego cruising in the
            rightmost lane of its way and keeping a time headway. Single
            scenes (training images) are never open roads.

    Example:
        >>> WorldConfig(preset="hard").resolved().noise
        22.0
        >>> WorldConfig(noise=3.0, preset="hard").resolved().noise
        3.0
        >>> WorldConfig(image_size=8)
        Traceback (most recent call last):
        ...
        perception.configuration.InvalidConfigError: `image_size` must be in [32, 2048]. Received: image_size=8
    """

    image_size: int = field(default=256, metadata={"range": (32, 2048)})
    metres_per_pixel: float = field(default=0.2, metadata={"range": (0.01, 5.0)})
    preset: str = field(default="default", metadata={"choices": PRESET_NAMES})
    lanes: tuple[int, int] = field(default=(1, 4), metadata={"range": (1, 4), "ordered": True})
    num_objects: tuple[int, int] | None = _pair(0, 60, "moving objects per scene")
    num_distractors: tuple[int, int] | None = _pair(0, 60, "unlabelled shapes per scene")
    noise: float | None = _knob(0.0, 80.0, "noise sigma in grey levels")
    blur: float | None = _knob(0.0, 5.0, "largest blur radius in pixels")
    brightness: float | None = _knob(0.0, 0.9, "largest relative brightness change")
    color_jitter: float | None = _knob(0.0, 0.5, "largest relative colour change")
    occlusion: float | None = _knob(0.0, 1.0, "probability of occluding trees")
    overlap: float | None = _knob(0.0, 1.0, "how closely pedestrians crowd")
    size_variation: float | None = _knob(0.0, 0.5, "largest relative size change")
    pose_variation: float | None = _knob(0.0, 1.0, "largest heading change in radians")
    low_contrast: float | None = _knob(0.0, 1.0, "probability of a camouflaged colour")
    crossing_road: float | None = _knob(0.0, 1.0, "probability that a feature is an intersection")
    control_ahead: float | None = _knob(0.0, 1.0, "probability of a light or stop sign ahead")
    open_road: float | None = _knob(0.0, 1.0, "probability of an open-road episode")

    def __post_init__(self):
        validate(self)

    def resolved(self) -> "WorldConfig":
        """A copy with every ``None`` knob taken from the preset.

        Example:
            >>> WorldConfig(preset="easy").resolved().num_objects
            (2, 8)
        """
        values = {name: value for name, value in PRESETS[self.preset].items() if getattr(self, name) is None}
        return dataclasses.replace(self, **values)


def preset_config(name: str, **overrides) -> WorldConfig:
    """A fully resolved :class:`WorldConfig` of preset ``name``, with overrides.

    Args:
        name: ``"easy"``, ``"default"`` or ``"hard"``.
        **overrides: any :class:`WorldConfig` field, e.g. ``image_size=128``.

    Returns:
        WorldConfig with no ``None`` knob.

    Example:
        >>> preset_config("easy", image_size=128).image_size, preset_config("easy").blur
        (128, 0.0)
        >>> preset_config("medium")
        Traceback (most recent call last):
        ...
        ValueError: `preset` must be one of easy, default, hard. Received: preset='medium'
    """
    if name not in PRESETS:
        raise ValueError(f"`preset` must be one of {', '.join(PRESET_NAMES)}. Received: preset={name!r}")
    names = {item.name for item in dataclasses.fields(WorldConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(f"preset_config() got an unknown WorldConfig field {unknown[0]!r}. "
                        f"Expected one of: {', '.join(sorted(names))}")
    return WorldConfig(preset=name, **overrides).resolved()
