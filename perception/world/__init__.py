"""The synthetic driving world: seeded top-down road scenes with full ground truth.

Example:
    >>> from perception.world import WorldConfig, generate_scene
    >>> scene = generate_scene(WorldConfig(image_size=64, metres_per_pixel=0.8), seed=7)
    >>> scene.image.shape
    (64, 64, 3)
"""
from perception.world.config import CLASS_NAMES, LIGHT_STATES, PRESET_NAMES, PRESETS, WorldConfig, preset_config
from perception.world.episode import SceneGenerator, Simulation, generate_episode, generate_scene, scene_seed
from perception.world.geometry import Calibration
from perception.world.road import Crosswalk, CrossRoad, Lane, RoadMap, Sidewalk, StopLine
from perception.world.scene import EgoState, Scene, WorldObject

__all__ = [
    "CLASS_NAMES", "LIGHT_STATES", "PRESET_NAMES", "PRESETS", "WorldConfig", "preset_config",
    "SceneGenerator", "Simulation", "generate_episode", "generate_scene", "scene_seed",
    "Calibration", "Crosswalk", "CrossRoad", "Lane", "RoadMap", "Sidewalk", "StopLine",
    "EgoState", "Scene", "WorldObject",
]
