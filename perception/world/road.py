"""The road map: lanes, crosswalks, stop lines, sidewalks and crossing roads.

All geometry is in metres. The main road runs along ``y``; lanes are indexed
0, 1, ... from left to right. Oncoming lanes (``direction == -1``) lie left of
the lanes that run the ego's way (``direction == +1``). Crosswalks and
crossing roads are axis-aligned rectangles; a crossing road spans every ``x``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

LANE_WIDTH = (3.2, 3.8)
SIDEWALK_WIDTH = (2.5, 4.0)
CROSSWALK_DEPTH = (2.5, 4.0)
CROSS_ROAD_WIDTH = (6.5, 9.0)
FEATURE_SPACING = (55.0, 110.0)  # metres between stop lines along the road
SPEED_LIMITS = (8.3, 11.1, 13.9)  # m/s: 30, 40, 50 km/h


@dataclass
class Lane:
    """One lane of the main road.

    Args:
        index: position from the left, 0-based.
        center_x: lateral position of the lane centre, metres.
        width: metres.
        direction: +1 runs the ego's way, -1 oncoming.
        speed_limit: m/s.
    """

    index: int
    center_x: float
    width: float
    direction: int
    speed_limit: float

    @property
    def x_min(self) -> float:
        return self.center_x - self.width / 2

    @property
    def x_max(self) -> float:
        return self.center_x + self.width / 2


@dataclass
class Crosswalk:
    """A pedestrian crossing: an axis-aligned rectangle in metres."""

    x_min: float
    x_max: float
    y_min: float
    y_max: float

    def contains(self, x: float, y: float) -> bool:
        return self.x_min <= x <= self.x_max and self.y_min <= y <= self.y_max


@dataclass
class StopLine:
    """Where traffic of some lanes must stop.

    Args:
        y: position of the line along the road, metres.
        x_min, x_max: lateral extent, metres.
        lanes: indices of the lanes it governs.
        control: ``"traffic_light"``, ``"stop_sign"`` or ``"none"``.
        direction: +1 for traffic running the ego's way, -1 oncoming.
    """

    y: float
    x_min: float
    x_max: float
    lanes: tuple[int, ...]
    control: str = "none"
    direction: int = 1


@dataclass
class Sidewalk:
    """A footway beside the main road, spanning ``x_min..x_max`` along all ``y``."""

    x_min: float
    x_max: float
    side: str  # "left" or "right"


@dataclass
class CrossRoad:
    """A road crossing the main one between ``y_min`` and ``y_max`` (all ``x``)."""

    y_min: float
    y_max: float


@dataclass
class RoadMap:
    """The map of one frame, in the ego frame (or, inside an episode, the road frame).

    Args:
        lanes: main-road lanes, left to right.
        ego_lane: index of the ego's lane.
        crosswalks, stop_lines, sidewalks, cross_roads: the map features.

    Example:
        >>> road = RoadMap([Lane(0, -3.5, 3.5, -1, 13.9), Lane(1, 0.0, 3.5, 1, 13.9)], ego_lane=1)
        >>> road.lane_at(0.0), road.lane_at(-1.75), road.lane_at(1.75), road.lane_at(9.0)
        (1, 1, None, None)
        >>> RoadMap.from_json(road.to_json()) == road
        True
    """

    lanes: list[Lane]
    ego_lane: int
    crosswalks: list[Crosswalk] = field(default_factory=list)
    stop_lines: list[StopLine] = field(default_factory=list)
    sidewalks: list[Sidewalk] = field(default_factory=list)
    cross_roads: list[CrossRoad] = field(default_factory=list)

    @property
    def x_min(self) -> float:
        """Left edge of the main road."""
        return self.lanes[0].x_min

    @property
    def x_max(self) -> float:
        """Right edge of the main road."""
        return self.lanes[-1].x_max

    def lane_at(self, x: float) -> int | None:
        """Index of the lane containing lateral position ``x``, or None off the road.

        Each lane is the half-open interval ``[x_min, x_max)``: a point exactly
        on the border between two lanes belongs to the lane on its right, and a
        point exactly on the road's right edge is off the road.
        """
        for lane in self.lanes:
            if lane.x_min <= x < lane.x_max:
                return lane.index
        return None

    def in_cross_road(self, y: float) -> bool:
        return any(c.y_min <= y <= c.y_max for c in self.cross_roads)

    def shifted(self, dy: float) -> "RoadMap":
        """The same map with every feature moved by ``dy`` metres along ``y``."""
        return replace(
            self,
            lanes=list(self.lanes), sidewalks=list(self.sidewalks),
            crosswalks=[replace(c, y_min=c.y_min + dy, y_max=c.y_max + dy) for c in self.crosswalks],
            stop_lines=[replace(s, y=s.y + dy) for s in self.stop_lines],
            cross_roads=[replace(c, y_min=c.y_min + dy, y_max=c.y_max + dy) for c in self.cross_roads],
        )

    def within(self, y_min: float, y_max: float) -> "RoadMap":
        """The map keeping only features that overlap ``y_min..y_max``."""
        return replace(
            self,
            lanes=list(self.lanes), sidewalks=list(self.sidewalks),
            crosswalks=[c for c in self.crosswalks if c.y_max >= y_min and c.y_min <= y_max],
            stop_lines=[s for s in self.stop_lines if y_min <= s.y <= y_max],
            cross_roads=[c for c in self.cross_roads if c.y_max >= y_min and c.y_min <= y_max],
        )

    def to_json(self) -> dict:
        return {
            "lanes": [asdict(lane) for lane in self.lanes],
            "ego_lane": self.ego_lane,
            "crosswalks": [asdict(c) for c in self.crosswalks],
            "stop_lines": [dict(asdict(s), lanes=list(s.lanes)) for s in self.stop_lines],
            "sidewalks": [asdict(s) for s in self.sidewalks],
            "cross_roads": [asdict(c) for c in self.cross_roads],
        }

    @classmethod
    def from_json(cls, data: dict) -> "RoadMap":
        return cls(
            lanes=[Lane(**lane) for lane in data["lanes"]],
            ego_lane=int(data["ego_lane"]),
            crosswalks=[Crosswalk(**c) for c in data.get("crosswalks", [])],
            stop_lines=[StopLine(**dict(s, lanes=tuple(s["lanes"]))) for s in data.get("stop_lines", [])],
            sidewalks=[Sidewalk(**s) for s in data.get("sidewalks", [])],
            cross_roads=[CrossRoad(**c) for c in data.get("cross_roads", [])],
        )


@dataclass
class Feature:
    """One place along the road where traffic is controlled (used while placing objects).

    ``stop_y`` is the ego-direction stop line; ``control`` is
    ``"traffic_light"``, ``"stop_sign"`` or ``"none"``; ``cross_road`` is set
    for intersections; ``oncoming_stop_y`` is the oncoming lanes' stop line.
    """

    stop_y: float
    control: str
    near_crosswalk: Crosswalk
    cross_road: CrossRoad | None = None
    far_crosswalk: Crosswalk | None = None
    oncoming_stop_y: float | None = None


def make_lanes(config, rng: np.random.Generator, keep_right: bool = False) -> tuple[list[Lane], int, list[Sidewalk]]:
    """Random lanes and sidewalks with the ego lane centred on ``x = 0``.

    Args:
        config: a resolved WorldConfig (``lanes``).
        rng: the scene's random generator.
        keep_right: the ego drives in the rightmost lane of its way (the
            same random draws: only the ego's lane changes).

    Returns:
        ``(lanes, ego_lane, sidewalks)``.

    Example:
        >>> from perception.world.config import preset_config
        >>> lanes, ego_lane, sidewalks = make_lanes(preset_config("easy", lanes=(2, 2)), np.random.default_rng(0))
        >>> len(lanes), lanes[ego_lane].center_x, lanes[ego_lane].direction, [s.side for s in sidewalks]
        (2, 0.0, 1, ['left', 'right'])
    """
    num_lanes = int(rng.integers(config.lanes[0], config.lanes[1] + 1))
    num_oncoming = 0 if num_lanes == 1 else int(rng.integers(0, num_lanes))  # keep >= 1 ego-way lane
    ego_lane = int(rng.integers(num_oncoming, num_lanes))
    if keep_right:
        ego_lane = num_lanes - 1
    width = float(rng.uniform(*LANE_WIDTH))
    speed = float(rng.choice(SPEED_LIMITS))
    lanes = [Lane(i, (i - ego_lane) * width, width, -1 if i < num_oncoming else 1, speed)
             for i in range(num_lanes)]
    left, right = lanes[0].x_min, lanes[-1].x_max
    widths = [float(w) for w in rng.uniform(*SIDEWALK_WIDTH, size=2)]
    sidewalks = [Sidewalk(left - 0.3 - widths[0], left - 0.3, "left"),
                 Sidewalk(right + 0.3, right + 0.3 + widths[1], "right")]
    return lanes, ego_lane, sidewalks


def add_feature(road: RoadMap, stop_y: float, rng: np.random.Generator, crossing_road: float) -> Feature:
    """Add a crosswalk (and, sometimes, an intersection) whose ego-way stop line is at ``stop_y``.

    Mutates ``road`` (adds crosswalks, stop lines and a crossing road) and
    returns the :class:`Feature` describing it.

    Args:
        road: the map to extend.
        stop_y: ``y`` of the ego-way stop line, metres.
        rng: the random generator.
        crossing_road: probability of an intersection.

    Returns:
        Feature.

    Example:
        >>> road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], ego_lane=0)
        >>> feature = add_feature(road, 20.0, np.random.default_rng(0), crossing_road=1.0)
        >>> feature.cross_road is not None, len(road.crosswalks), road.crosswalks[0].y_min
        (True, 2, 21.0)
    """
    left, right = road.x_min, road.x_max
    ego_way = tuple(lane.index for lane in road.lanes if lane.direction == 1)
    oncoming = tuple(lane.index for lane in road.lanes if lane.direction == -1)
    depth = float(rng.uniform(*CROSSWALK_DEPTH))
    near = Crosswalk(left, right, stop_y + 1.0, stop_y + 1.0 + depth)
    road.crosswalks.append(near)
    if rng.random() < crossing_road:
        control = str(rng.choice(["traffic_light", "stop_sign", "none"], p=[0.55, 0.35, 0.1]))
        start = near.y_max + float(rng.uniform(1.0, 2.5))
        cross = CrossRoad(start, start + float(rng.uniform(*CROSS_ROAD_WIDTH)))
        road.cross_roads.append(cross)
        far_start = cross.y_max + float(rng.uniform(1.0, 2.5))
        far = Crosswalk(left, right, far_start, far_start + depth)
        road.crosswalks.append(far)
        feature = Feature(stop_y, control, near, cross, far)
    else:
        control = str(rng.choice(["traffic_light", "none"], p=[0.65, 0.35]))
        feature = Feature(stop_y, control, near, oncoming_stop_y=None)
    if control != "none":
        lanes = [road.lanes[i] for i in ego_way]
        road.stop_lines.append(StopLine(stop_y, lanes[0].x_min, lanes[-1].x_max, ego_way, control, 1))
        if oncoming:
            last = feature.far_crosswalk or near
            feature.oncoming_stop_y = last.y_max + 1.0
            lanes = [road.lanes[i] for i in oncoming]
            road.stop_lines.append(StopLine(feature.oncoming_stop_y, lanes[0].x_min, lanes[-1].x_max,
                                            oncoming, control, -1))
    return feature


def make_road(config, rng: np.random.Generator, y_end: float,
              first_stop_y: float | None = None, keep_right: bool = False) -> tuple[RoadMap, list[Feature]]:
    """A random road with features from ``first_stop_y`` up to ``y_end`` metres.

    Args:
        config: a resolved :class:`WorldConfig`.
        rng: the scene's random generator.
        y_end: the last ``y`` that needs features.
        first_stop_y: ``y`` of the first stop line; drawn when None.
        keep_right: the ego drives in the rightmost lane of its way.

    Returns:
        ``(road, features)``.

    Example:
        >>> from perception.world.config import preset_config
        >>> road, features = make_road(preset_config("default"), np.random.default_rng(0), 200.0, 20.0)
        >>> features[0].stop_y, road.lane_at(0.0) == road.ego_lane
        (20.0, True)
    """
    lanes, ego_lane, sidewalks = make_lanes(config, rng, keep_right)
    road = RoadMap(lanes, ego_lane, sidewalks=sidewalks)
    y = float(rng.uniform(15.0, 90.0)) if first_stop_y is None else float(first_stop_y)
    features = []
    while y <= y_end:
        features.append(add_feature(road, y, rng, config.crossing_road))
        y += float(rng.uniform(*FEATURE_SPACING))
    return road, features
