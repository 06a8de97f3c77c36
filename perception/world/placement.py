"""Placing objects on the road so that driving rules have something to decide.

Objects live in the *road frame* while an episode runs: ``x`` as in the ego
frame, ``y`` along the road from where the ego started (ego-frame
``y = road y - odometry``). Placement favours the cases rules care about: a
light or stop sign ahead, pedestrians on crosswalks, a car close ahead in the
ego lane, neighbouring lanes occupied or free.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass, field

import numpy as np

from perception.world.road import Feature, RoadMap

LIGHT_CYCLE = {"green": (6.0, 10.0), "yellow": (2.5, 3.5), "red": (6.0, 10.0)}
FIRST_STATE = {"red": 0.4, "yellow": 0.2, "green": 0.4}  # share of lights first seen in each state
BASE_SIZES = {  # (length, width) metres of the drawn footprint
    "car": (4.5, 1.95), "truck": (8.5, 2.5), "pedestrian": (1.8, 1.9), "cyclist": (2.0, 1.8),
    "traffic_light": (2.7, 1.7), "stop_sign": (2.0, 2.0),
}
EGO_SIZE = (4.6, 1.9)
DISTRACTOR_KINDS = ("manhole", "patch", "stain", "arrow", "box", "dot", "bin", "building", "bush", "sign")
DISTRACTOR_SHARES = (0.09, 0.11, 0.11, 0.09, 0.13, 0.09, 0.09, 0.11, 0.09, 0.09)


@dataclass
class LightTiming:
    """The cycle of one traffic light: green, then yellow, then red, repeating.

    ``role`` is ``"main"`` for lights governing the main road and ``"cross"``
    for those governing the crossing road (red while the main road may go).

    Example:
        >>> timing = LightTiming(green=8.0, yellow=3.0, red=7.0, offset=0.0)
        >>> [timing.state(t) for t in (0.0, 9.0, 12.0)]
        ['green', 'yellow', 'red']
        >>> LightTiming(8.0, 3.0, 7.0, 0.0, role="cross").state(0.0)
        'red'
    """

    green: float
    yellow: float
    red: float
    offset: float
    role: str = "main"

    def main_state(self, time_s: float) -> str:
        phase = (time_s + self.offset) % (self.green + self.yellow + self.red)
        if phase < self.green:
            return "green"
        return "yellow" if phase < self.green + self.yellow else "red"

    def state(self, time_s: float) -> str:
        """The light's state at ``time_s`` seconds."""
        main = self.main_state(time_s)
        if self.role == "main":
            return main
        if main != "red":
            return "red"
        phase = (time_s + self.offset) % (self.green + self.yellow + self.red) - self.green - self.yellow
        return "green" if phase < self.red - self.yellow - 1.0 else ("yellow" if phase < self.red - 1.0 else "red")


@dataclass
class Agent:
    """A moving or fixed object while a scene or episode is being made (road frame)."""

    id: str
    label: str
    x: float
    y: float
    heading: float
    speed: float
    length: float
    width: float
    motion: str  # "lane", "cross", "walk", "static"
    appearance: dict = field(default_factory=dict)
    lane: int | None = None
    direction: int = 1  # +1 / -1 along the axis of motion
    light: LightTiming | None = None
    applies_to_ego: bool = False
    cruise_speed: float = 0.0
    stop_timer: float = 0.0
    served_stops: set = field(default_factory=set)
    crossing: bool = False


@dataclass
class Look:
    """The palette of one scene or episode (jittered by ``color_jitter``)."""

    ground: tuple
    asphalt: tuple
    sidewalk: tuple
    marking: tuple
    center_line: tuple


@dataclass
class Distractor:
    """An unlabelled shape; ``layer`` is ``"ground"`` (under objects) or ``"top"`` (hides them)."""

    kind: str
    x: float
    y: float
    size: tuple[float, float]
    color: tuple
    heading: float = 0.0
    layer: str = "ground"


def _jitter(color, amount: float, rng) -> tuple:
    values = np.asarray(color, dtype=float) * (1 + rng.uniform(-amount, amount, size=3))
    return tuple(int(v) for v in np.clip(values, 0, 255))


def make_look(config, rng: np.random.Generator) -> Look:
    """A random palette for road, ground, sidewalks and markings.

    Args:
        config: a resolved WorldConfig (``color_jitter``).
        rng: the scene's random generator.

    Returns:
        Look with RGB tuples.

    Example:
        >>> from perception.world.config import preset_config
        >>> look = make_look(preset_config("easy"), np.random.default_rng(0))
        >>> len(look.asphalt), all(0 <= c <= 255 for c in look.ground)
        (3, True)
    """
    amount = config.color_jitter + 0.05
    grey = float(rng.uniform(60, 120))
    ground = [(70, 110, 60), (120, 110, 80), (95, 100, 90), (60, 85, 70)][int(rng.integers(4))]
    return Look(
        ground=_jitter(ground, amount * 2, rng),
        asphalt=_jitter((grey, grey, grey * 1.03), amount, rng),
        sidewalk=_jitter((grey + 60, grey + 57, grey + 50), amount, rng),
        marking=_jitter((235, 235, 225), amount / 2, rng),
        center_line=_jitter((230, 190, 40) if rng.random() < 0.6 else (235, 235, 225), amount / 2, rng),
    )


def random_color(rng: np.random.Generator) -> tuple:
    """A vehicle or clothing colour: greys a third of the time, any hue otherwise.

    Example:
        >>> color = random_color(np.random.default_rng(1))
        >>> len(color), all(0 <= c <= 255 for c in color)
        (3, True)
    """
    if rng.random() < 0.35:
        level = float(rng.uniform(20, 240))
        return (int(level), int(level), int(level))
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.25, 1.0), rng.uniform(0.3, 1.0))
    return (int(r * 255), int(g * 255), int(b * 255))


def _near(color, rng, spread: float = 25.0) -> tuple:
    offsets = rng.uniform(-spread, spread, size=3).tolist()
    return tuple(min(255, max(0, int(c + d))) for c, d in zip(color, offsets))


def appearance(label: str, config, look: Look, rng: np.random.Generator) -> dict:
    """Colours of one object; sometimes close to the ground it stands on (``low_contrast``).

    Args:
        label: a class name.
        config: a resolved WorldConfig.
        look: the scene's palette.
        rng: the scene's random generator.

    Returns:
        colour key -> RGB tuple (lights also hold ``"lamps"``: state -> RGB).

    Example:
        >>> from perception.world.config import preset_config
        >>> rng = np.random.default_rng(0)
        >>> config = preset_config("easy")
        >>> sorted(appearance("car", config, make_look(config, rng), rng))
        ['body', 'cargo', 'roof', 'window']
    """
    camouflage = rng.random() < config.low_contrast
    if label in ("car", "truck"):
        body = _near(look.asphalt, rng) if camouflage else random_color(rng)
        shade = float(rng.uniform(0.75, 1.2))
        return {"body": body, "roof": tuple(int(min(255, c * shade)) for c in body),
                "cargo": _near(look.asphalt, rng) if camouflage else random_color(rng),
                "window": _near((35, 45, 60), rng, 15)}
    if label in ("pedestrian", "cyclist"):
        base = look.sidewalk if label == "pedestrian" else look.asphalt
        shirt = _near(base, rng, 30) if camouflage else random_color(rng)
        return {"shirt": shirt, "head": _near((60, 45, 35), rng, 30), "legs": _near((50, 55, 70), rng, 30),
                "bike": _near((30, 30, 30), rng, 25) if not camouflage else _near(base, rng, 40)}
    if label == "traffic_light":
        return {"housing": _near((30, 30, 32), rng, 12),
                "lamps": {"red": _near((240, 40, 30), rng, 20), "yellow": _near((250, 200, 30), rng, 20),
                          "green": _near((40, 220, 90), rng, 20)},
                "unlit": _near((70, 70, 70), rng, 10)}
    return {"face": _near((200, 25, 30), rng, 25), "border": _near((240, 240, 240), rng, 10)}


OBJECT_SHARES = (0.42, 0.28, 0.18, 0.12)  # vehicle, pedestrian, cyclist, crossing vehicle
OPEN_ROAD_SHARES = (0.8, 0.12, 0.08, 0.0)  # ordinary traffic: mostly vehicles in the lanes


class Placer:
    """Places agents, fixtures and distractors for one scene or episode.

    Args:
        config: a resolved WorldConfig.
        road: the road in the road frame.
        features: its controlled places.
        look: the palette.
        rng: the random generator of the scene or episode.

    Example:
        >>> from perception.world.config import preset_config
        >>> from perception.world.road import make_road
        >>> config, rng = preset_config("default"), np.random.default_rng(0)
        >>> road, features = make_road(config, rng, 60.0, first_stop_y=20.0)
        >>> placer = Placer(config, road, features, make_look(config, rng), rng)
        >>> placer.populate(-5.0, 46.0, num_objects=6)
        >>> 0 < len(placer.agents) <= 6
        True
    """

    def __init__(self, config, road: RoadMap, features: list[Feature], look: Look, rng: np.random.Generator):
        self.config = config
        self.road = road
        self.features = features
        self.look = look
        self.rng = rng
        self.agents: list[Agent] = []
        self.next_id = 1

    # -- building blocks -------------------------------------------------------------------------
    def new_agent(self, label: str, x: float, y: float, heading: float, speed: float, motion: str, **kwargs) -> Agent:
        variation = self.config.size_variation
        length, width = BASE_SIZES[label]
        if label in ("car", "truck"):
            length *= self.rng.uniform(1 - variation, 1 + variation)
            length *= 1.0 if label == "car" else self.rng.uniform(0.8, 1.2)
            width *= self.rng.uniform(1 - variation / 2, 1 + variation / 2)
        elif label in ("pedestrian", "cyclist"):
            scale = self.rng.uniform(1 - variation / 2, 1 + variation / 2)
            length, width = length * scale, width * scale
        agent = Agent(f"o{self.next_id}", label, float(x), float(y), float(heading), float(speed),
                      float(length), float(width), motion, cruise_speed=float(speed), **kwargs)
        return agent

    def fits(self, agent: Agent, ego_y: float = 0.0) -> bool:
        """True when ``agent`` overlaps no placed agent and not the ego (axis-aligned footprints)."""
        def extent(a):
            c, s = abs(np.cos(a.heading)), abs(np.sin(a.heading))
            return (a.width * c + a.length * s) / 2, (a.length * c + a.width * s) / 2
        hx, hy = extent(agent)
        if abs(agent.x) < hx + EGO_SIZE[1] / 2 + 0.3 and abs(agent.y - ego_y) < hy + EGO_SIZE[0] / 2 + 0.5:
            return False
        for other in self.agents:
            ox, oy = extent(other)
            margin = 0.3
            if agent.label == other.label == "pedestrian":
                margin = -self.config.overlap * 0.45 * min(hx, ox) * 2
            if abs(agent.x - other.x) < hx + ox + margin and abs(agent.y - other.y) < hy + oy + margin:
                return False
        return True

    def add(self, agent: Agent, ego_y: float = 0.0) -> Agent | None:
        """Keep ``agent`` (and give it colours) unless it would overlap another; returns it or None."""
        if agent.motion != "static" and not self.fits(agent, ego_y):
            return None
        agent.appearance = appearance(agent.label, self.config, self.look, self.rng)
        self.agents.append(agent)
        self.next_id += 1
        return agent

    def heading_jitter(self) -> float:
        return float(self.rng.normal(0.0, self.config.pose_variation / 2))

    # -- moving objects --------------------------------------------------------------------------
    def vehicle_in_lane(self, lane_index: int, y: float, label: str | None = None, ego_y: float = 0.0):
        lane = self.road.lanes[lane_index]
        label = label or ("truck" if self.rng.random() < 0.18 else "car")
        heading = (0.0 if lane.direction == 1 else np.pi) + self.heading_jitter() * 0.5
        speed = lane.speed_limit * self.rng.uniform(0.55, 1.0)
        x = lane.center_x + self.rng.uniform(-0.25, 0.25)
        agent = self.new_agent(label, x, y, heading, speed, "lane", lane=lane_index, direction=lane.direction)
        return self.add(agent, ego_y)

    def cyclist(self, y: float, ego_y: float = 0.0):
        lane = self.road.lanes[int(self.rng.integers(len(self.road.lanes)))]
        edge = lane.x_max - 0.9 if lane.direction == 1 else lane.x_min + 0.9
        heading = (0.0 if lane.direction == 1 else np.pi) + self.heading_jitter()
        agent = self.new_agent("cyclist", edge, y, heading, self.rng.uniform(3.0, 6.5), "lane",
                               lane=lane.index, direction=lane.direction)
        return self.add(agent, ego_y)

    def pedestrian_on_sidewalk(self, y: float, ego_y: float = 0.0):
        walk = self.road.sidewalks[int(self.rng.integers(len(self.road.sidewalks)))]
        x = self.rng.uniform(walk.x_min + 0.8, walk.x_max - 0.8)
        direction = 1 if self.rng.random() < 0.5 else -1
        heading = (0.0 if direction == 1 else np.pi) + self.rng.normal(0, 0.25)
        speed = 0.0 if self.rng.random() < 0.25 else self.rng.uniform(1.0, 1.7)
        agent = self.new_agent("pedestrian", x, y, heading, speed, "walk", direction=direction)
        return self.add(agent, ego_y)

    def pedestrian_on_crosswalk(self, crosswalk, ego_y: float = 0.0):
        x = self.rng.uniform(crosswalk.x_min - 0.5, crosswalk.x_max + 0.5)
        y = self.rng.uniform(crosswalk.y_min + 0.6, crosswalk.y_max - 0.6)
        direction = 1 if self.rng.random() < 0.5 else -1
        heading = -direction * np.pi / 2 + self.rng.normal(0, 0.2)
        agent = self.new_agent("pedestrian", x, y, heading, self.rng.uniform(1.0, 1.7), "walk",
                               direction=direction, crossing=True)
        return self.add(agent, ego_y)

    def cross_vehicle(self, cross, x: float, ego_y: float = 0.0):
        direction = 1 if self.rng.random() < 0.5 else -1  # +1 moves to +x along the lower half
        width = cross.y_max - cross.y_min
        y = cross.y_min + width / 4 if direction == 1 else cross.y_max - width / 4
        heading = -direction * np.pi / 2 + self.heading_jitter() * 0.5
        label = "truck" if self.rng.random() < 0.15 else "car"
        agent = self.new_agent(label, x, y, heading, self.rng.uniform(6.0, 12.0), "cross", direction=direction)
        return self.add(agent, ego_y)

    # -- fixtures --------------------------------------------------------------------------------
    def fixtures(self, feature: Feature) -> None:
        """Traffic lights or stop signs of one feature (static agents).

        A light's cycle starts in a state drawn from ``FIRST_STATE`` (yellow is
        short, so it would be rare if the start were uniform over the cycle).
        """
        road, rng = self.road, self.rng
        if feature.control == "none":
            return
        has_oncoming = any(lane.direction == -1 for lane in road.lanes)
        if feature.control == "stop_sign":
            self.add(self.new_agent("stop_sign", road.x_max + 1.2, feature.stop_y + 0.4,
                                    self.heading_jitter(), 0.0, "static", applies_to_ego=True))
            if has_oncoming:
                self.add(self.new_agent("stop_sign", road.x_min - 1.2, feature.oncoming_stop_y - 0.4,
                                        np.pi + self.heading_jitter(), 0.0, "static"))
            if feature.cross_road is not None and rng.random() < 0.5:  # an all-way stop
                self.add(self.new_agent("stop_sign", road.x_min - 1.6, feature.cross_road.y_min - 1.2,
                                        -np.pi / 2 + self.heading_jitter(), 0.0, "static"))
                self.add(self.new_agent("stop_sign", road.x_max + 1.6, feature.cross_road.y_max + 1.2,
                                        np.pi / 2 + self.heading_jitter(), 0.0, "static"))
            return
        cycle = {state: float(rng.uniform(*span)) for state, span in LIGHT_CYCLE.items()}
        state = str(rng.choice(list(FIRST_STATE), p=list(FIRST_STATE.values())))
        start = {"green": 0.0, "yellow": cycle["green"], "red": cycle["green"] + cycle["yellow"]}[state]
        offset = start + float(rng.uniform(0, cycle[state]))
        timing = LightTiming(cycle["green"], cycle["yellow"], cycle["red"], offset)
        ego_way = [lane for lane in road.lanes if lane.direction == 1]
        self.add(self.new_agent("traffic_light", road.x_max + 1.3, feature.stop_y + 1.0, 0.0, 0.0, "static",
                                light=timing, applies_to_ego=True))
        if len(ego_way) >= 2 and rng.random() < 0.5:
            over_y = (feature.cross_road.y_min - 1.0) if feature.cross_road else feature.near_crosswalk.y_max + 1.6
            x = (ego_way[0].center_x + ego_way[-1].center_x) / 2
            self.add(self.new_agent("traffic_light", x, over_y, 0.0, 0.0, "static", light=timing,
                                    applies_to_ego=True))
        if has_oncoming:
            self.add(self.new_agent("traffic_light", road.x_min - 1.3, feature.oncoming_stop_y - 1.0, np.pi,
                                    0.0, "static", light=timing))
        if feature.cross_road is not None:
            cross = LightTiming(timing.green, timing.yellow, timing.red, timing.offset, role="cross")
            self.add(self.new_agent("traffic_light", road.x_min - 1.6, feature.cross_road.y_min - 1.2,
                                    -np.pi / 2, 0.0, "static", light=cross))
            self.add(self.new_agent("traffic_light", road.x_max + 1.6, feature.cross_road.y_max + 1.2,
                                    np.pi / 2, 0.0, "static", light=cross))

    # -- whole scenes ----------------------------------------------------------------------------
    def populate(self, y_min: float, y_max: float, num_objects: int, ego_y: float = 0.0,
                 open_road: bool = False) -> None:
        """Place ``num_objects`` moving objects between ``y_min`` and ``y_max`` (road frame).

        The first ones cover the rule cases: a car close ahead in the ego lane,
        neighbours alongside, pedestrians on the crosswalks in view. On an
        ``open_road`` (ordinary traffic) a car ahead keeps a driving distance,
        and most objects are vehicles in the lanes.
        """
        rng, road = self.rng, self.road
        budget = num_objects
        lead = (12.0, 45.0) if open_road else (5.5, 16.0)
        if budget and rng.random() < 0.4:
            budget -= self.vehicle_in_lane(road.ego_lane, ego_y + rng.uniform(*lead), "car", ego_y) is not None
        elif budget and open_road and rng.random() < 0.5:  # a slow vehicle ahead, worth overtaking
            slow = self.vehicle_in_lane(road.ego_lane, ego_y + rng.uniform(25.0, 45.0), ego_y=ego_y)
            if slow is not None:
                slow.speed = slow.cruise_speed = float(road.lanes[road.ego_lane].speed_limit * rng.uniform(0.15, 0.35))
                budget -= 1
        for neighbour in (road.ego_lane - 1, road.ego_lane + 1):
            if budget and 0 <= neighbour < len(road.lanes) and rng.random() < 0.45:
                budget -= self.vehicle_in_lane(neighbour, ego_y + rng.uniform(-4.0, 10.0), ego_y=ego_y) is not None
        for crosswalk in road.crosswalks:
            if budget and y_min + 2 < crosswalk.y_min < y_max - 2 and rng.random() < 0.55:
                for _ in range(int(rng.integers(1, 4))):
                    if budget:
                        budget -= self.pedestrian_on_crosswalk(crosswalk, ego_y) is not None
        crosses = [c for c in road.cross_roads if y_min < c.y_min < y_max]
        walks = [c for c in road.crosswalks if y_min < c.y_min < y_max]
        for _ in range(4 * budget):
            if budget <= 0:
                break
            y = float(rng.uniform(y_min, y_max))
            kind = rng.choice(["vehicle", "pedestrian", "cyclist", "cross"], p=OPEN_ROAD_SHARES if open_road
                              else OBJECT_SHARES)
            if kind == "vehicle" or (kind == "cross" and not crosses):
                placed = self.vehicle_in_lane(int(rng.integers(len(road.lanes))), y, ego_y=ego_y)
            elif kind == "pedestrian":
                placed = self.pedestrian_on_sidewalk(y, ego_y) if rng.random() < 0.8 or not walks \
                    else self.pedestrian_on_crosswalk(walks[int(rng.integers(len(walks)))], ego_y)
            elif kind == "cyclist":
                placed = self.cyclist(y, ego_y)
            else:
                cross = crosses[int(rng.integers(len(crosses)))]
                placed = self.cross_vehicle(cross, float(rng.uniform(road.x_min - 25, road.x_max + 25)), ego_y)
            budget -= placed is not None

    def distractors(self, y_min: float, y_max: float, num_distractors: int) -> list[Distractor]:
        """Unlabelled shapes between ``y_min`` and ``y_max``: road marks, bins, decoys, buildings."""
        rng, road, look = self.rng, self.road, self.look
        shapes = []
        for _ in range(num_distractors):
            y = float(rng.uniform(y_min, y_max))
            kind = str(rng.choice(DISTRACTOR_KINDS, p=DISTRACTOR_SHARES))
            lane = road.lanes[int(rng.integers(len(road.lanes)))]
            walk = road.sidewalks[int(rng.integers(len(road.sidewalks)))]
            outside = walk.x_max + rng.uniform(1, 15) if walk.side == "right" else walk.x_min - rng.uniform(1, 15)
            if kind == "manhole":
                shapes.append(Distractor(kind, lane.center_x + rng.uniform(-1, 1), y, (0.9, 0.9),
                                         _near(look.asphalt, rng, 30)))
            elif kind == "patch":
                shapes.append(Distractor(kind, lane.center_x + rng.uniform(-1.5, 1.5), y,
                                         (rng.uniform(1, 6), rng.uniform(1, 3)), _near(look.asphalt, rng, 20)))
            elif kind == "stain":
                shapes.append(Distractor(kind, lane.center_x + rng.uniform(-1.5, 1.5), y,
                                         (rng.uniform(0.8, 2.5), rng.uniform(0.8, 2.0)), _near((30, 30, 30), rng, 15),
                                         heading=float(rng.uniform(0, np.pi))))
            elif kind == "arrow":
                shapes.append(Distractor(kind, lane.center_x, y, (3.0, 1.2), look.marking,
                                         heading=0.0 if lane.direction == 1 else np.pi))
            elif kind == "box":
                shapes.append(Distractor(kind, outside, y, (rng.uniform(2, 6), rng.uniform(1.5, 2.5)),
                                         random_color(rng), heading=float(rng.choice([0.0, np.pi / 2]))))
            elif kind == "dot":
                color = [(240, 40, 30), (250, 200, 30), (40, 220, 90)][int(rng.integers(3))]
                shapes.append(Distractor(kind, outside, y, (0.7, 0.7), _near(color, rng, 20)))
            elif kind == "sign":  # a round traffic sign (not a stop sign) at the kerb
                edge = walk.x_min + 0.8 if walk.side == "right" else walk.x_max - 0.8
                ring = [(200, 30, 30), (30, 60, 170), (240, 200, 30)][int(rng.integers(3))]
                shapes.append(Distractor(kind, edge, y, (1.8, 1.8), _near(ring, rng, 20)))
            elif kind == "bin":
                shapes.append(Distractor(kind, rng.uniform(walk.x_min + 0.5, walk.x_max - 0.5), y, (0.9, 0.7),
                                         _near((40, 60, 40), rng, 30)))
            elif kind == "building":
                shapes.append(Distractor(kind, outside + (6 if walk.side == "right" else -6), y,
                                         (rng.uniform(8, 20), rng.uniform(8, 14)), random_color(rng)))
            else:
                shapes.append(Distractor(kind, outside, y, (rng.uniform(1.5, 3.0),) * 2, _near((50, 100, 45), rng, 25)))
        return shapes

    def trees_over(self, agents: list[Agent]) -> list[Distractor]:
        """Tree crowns partly covering some of ``agents`` (the ``occlusion`` knob)."""
        rng = self.rng
        trees = []
        if not agents or rng.random() >= self.config.occlusion:
            return trees
        for _ in range(int(rng.integers(1, 4))):
            target = agents[int(rng.integers(len(agents)))]
            radius = float(rng.uniform(1.2, 2.4))
            angle = float(rng.uniform(0, 2 * np.pi))
            reach = radius + 0.5 * min(target.length, target.width) * rng.uniform(0.2, 0.9)
            trees.append(Distractor("tree", target.x + reach * np.cos(angle), target.y + reach * np.sin(angle),
                                    (2 * radius, 2 * radius), _near((45, 95, 45), rng, 25), layer="top"))
        return trees
