"""Scenes and episodes: placing, moving and rendering the world.

:class:`SceneGenerator` owns what frames share (the resolved config and a
noise bank), so making many scenes reuses it; :func:`generate_scene` and
:func:`generate_episode` are the one-line forms.
"""
from __future__ import annotations

import numpy as np

from perception.world.config import WorldConfig
from perception.world.geometry import Calibration, heading_vectors
from perception.world.placement import EGO_SIZE, Agent, Placer, make_look
from perception.world.render import make_noise_bank, render_frame
from perception.world.road import make_road
from perception.world.scene import EgoState, Scene, WorldObject

VIEW_MARGIN = 40.0  # metres beyond the view that an episode keeps simulating
FOLLOW_GAP = 2.5  # metres vehicles keep to what is ahead
EGO_HEADWAY_S = 2.5  # seconds of time headway the ego keeps to the vehicle ahead


def scene_seed(seed: int, index: int) -> int:
    """The seed of scene ``index`` of a dataset made with ``seed`` (independent streams).

    Example:
        >>> scene_seed(0, 1) == scene_seed(0, 1) != scene_seed(0, 2)
        True
    """
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


class Simulation:
    """One road with its objects, stepped through time (road frame).

    Args:
        config: a resolved WorldConfig.
        seed: seeds the road, the objects and every frame's sensor effects.
        length_m: how far along the road features are needed.
        spawn: True lets new objects enter while stepping (episodes).

    Example:
        >>> simulation = Simulation(WorldConfig(image_size=64, metres_per_pixel=0.8).resolved(), seed=2, spawn=True)
        >>> simulation.step(0.5)
        >>> frame = simulation.frame(frame_index=1)
        >>> frame.time_s, frame.ego.odometry > 0
        (0.5, True)
    """

    def __init__(self, config: WorldConfig, seed: int, length_m: float = 0.0, spawn: bool = False):
        self.config = config
        self.seed = seed
        # Separate random streams keep an episode's first frames the same whatever its length.
        self.rng = np.random.default_rng([seed, 0])
        road_rng = np.random.default_rng([seed, 1])
        self.calibration = Calibration.from_config(config)
        self.view = self.calibration.view_bounds()
        _, _, view_y_min, view_y_max = self.view
        # a control ahead stands 5-45 m ahead and inside the view; a view shorter than that shows none
        nearest, farthest = 5.0, min(45.0, view_y_max - 1.0)
        if road_rng.random() < config.control_ahead and farthest > nearest:
            first = float(road_rng.uniform(nearest, farthest))
        else:
            first = float(road_rng.uniform(view_y_max + 2.0, view_y_max + 60.0))
        # Its own stream: a preset without open roads keeps every scene it had.
        self.open_road = spawn and bool(np.random.default_rng([seed, 6]).random() < config.open_road)
        if self.open_road:  # no controlled place or crosswalk along the whole drive
            first = view_y_max + length_m + 2 * VIEW_MARGIN
        self.road, self.features = make_road(config, road_rng, view_y_max + length_m + VIEW_MARGIN, first,
                                             keep_right=self.open_road)
        rng = self.rng
        self.look = make_look(config, rng)
        self.placer = Placer(config, self.road, self.features, self.look, rng)
        lane = self.road.lanes[self.road.ego_lane]
        self.time_s = 0.0
        self.odometry = 0.0
        self.ego_speed = float(lane.speed_limit * rng.uniform(0.4, 0.9))
        self.ego_cruise = float(lane.speed_limit * rng.uniform(0.8, 1.0))
        if self.open_road:  # cruising when the drive starts
            self.ego_speed = max(self.ego_speed, 0.9 * self.ego_cruise)
        self.ego_stop_timer = 0.0
        self.ego_served: set = set()
        self.spawn = spawn
        low, high = config.num_objects
        self.num_objects = int(rng.integers(low, high + 1))
        y_high = view_y_max + (20.0 if spawn else 0.0)
        self.placer.populate(view_y_min - 2.0, y_high, self.num_objects, open_road=self.open_road)
        self.placer.rng = np.random.default_rng([seed, 2])
        for feature in self.features:
            self.placer.fixtures(feature)
        self.placer.rng = np.random.default_rng([seed, 3])
        lo, hi = config.num_distractors
        self.distractors = self.placer.distractors(view_y_min - 5.0, view_y_max + 5.0, int(rng.integers(lo, hi + 1)))
        extent = view_y_max + length_m + (VIEW_MARGIN if spawn else 0.0)
        if extent > view_y_max + 5.0:  # shapes further along the road, as dense as in view
            per_metre = (lo + hi) / 2 / (view_y_max - view_y_min + 10.0)
            num_far = int(per_metre * (extent - view_y_max))
            self.distractors += self.placer.distractors(view_y_max + 5.0, extent, num_far)
        self.placer.rng = np.random.default_rng([seed, 4])
        in_view = [a for a in self.placer.agents if view_y_min - 5.0 < a.y < view_y_max + 5.0]
        self.distractors += self.placer.trees_over(in_view)
        self.rng = self.placer.rng = np.random.default_rng([seed, 5])  # motion and spawning

    @property
    def agents(self) -> list[Agent]:
        return self.placer.agents

    # -- motion ------------------------------------------------------------------------------------
    def light_state(self, agent: Agent) -> str | None:
        return agent.light.state(self.time_s) if agent.light is not None else None

    def _stop_gap(self, s: float, direction: int, lanes_of, served: set) -> tuple[float, bool]:
        """Distance (along travel) to the first stop line this traveller must respect, and whether it is a stop sign."""
        best, sign = np.inf, False
        for index, stop in enumerate(self.road.stop_lines):
            if stop.direction != direction or not lanes_of(stop):
                continue
            ahead = stop.y * direction - s
            if ahead < -0.5 or ahead > 60:
                continue
            if stop.control == "traffic_light":
                state = self._main_light_state(stop)
                if state == "green" or (state == "yellow" and ahead < 4.0):
                    continue
            elif stop.control == "stop_sign" and index in served:
                continue
            if ahead < best:
                best, sign = ahead, stop.control == "stop_sign"
        return best, sign

    def _main_light_state(self, stop) -> str:
        for agent in self.agents:
            if agent.label == "traffic_light" and agent.light.role == "main" and abs(agent.y - stop.y) < 12:
                return agent.light.main_state(self.time_s)
        return "green"

    def _pedestrian_gap(self, s: float, direction: int, x_range) -> float:
        gap = np.inf
        for crosswalk in self.road.crosswalks:
            near = crosswalk.y_min if direction == 1 else -crosswalk.y_max
            ahead = near - s
            if ahead < 0 or ahead > 40:
                continue
            for agent in self.agents:
                if agent.label == "pedestrian" and crosswalk.contains(agent.x, agent.y) \
                        and x_range[0] - 1.5 <= agent.x <= x_range[1] + 1.5:
                    gap = min(gap, ahead)
        return gap

    def _leader_gap(self, me, s: float, direction: int, lane: int, half_length: float) -> float:
        gap = np.inf
        for other in self.agents:
            if other is me or other.motion != "lane" or other.lane != lane:
                continue
            ahead = other.y * direction - s - other.length / 2 - half_length
            if -half_length < ahead < gap:
                gap = ahead
        if me is not None and lane == self.road.ego_lane and direction == 1:
            ahead = self.odometry - s - EGO_SIZE[0] / 2 - half_length
            if -half_length < ahead < gap:
                gap = ahead
        return gap

    def _speed_for(self, speed: float, cruise: float, gap: float, dt: float, headway_s: float = 1.0 / 0.9) -> float:
        target = min(cruise, max(0.0, (gap - FOLLOW_GAP) / headway_s))
        return float(max(0.0, speed + np.clip(target - speed, -8.0 * dt, 3.0 * dt)))

    def _drive(self, me, s, speed, cruise, direction, lane, half_length, served, timer, dt):
        lane_x = self.road.lanes[lane]
        stop_gap, sign = self._stop_gap(s + half_length, direction, lambda stop: lane in stop.lanes, served)
        ped_gap = self._pedestrian_gap(s + half_length, direction, (lane_x.x_min, lane_x.x_max))
        leader_gap = self._leader_gap(me, s, direction, lane, half_length)
        speed = self._speed_for(speed, cruise, min(stop_gap, ped_gap), dt)
        if me is None:  # the ego keeps a time headway to the vehicle ahead, as a careful driver does
            speed = min(speed, self._speed_for(speed, cruise, leader_gap, dt, headway_s=EGO_HEADWAY_S))
        else:
            speed = min(speed, self._speed_for(speed, cruise, leader_gap, dt))
        if sign and stop_gap < FOLLOW_GAP + 1.0 and speed < 0.3:
            timer += dt
            if timer > 1.0:
                for index, stop in enumerate(self.road.stop_lines):
                    near = abs(stop.y * direction - s - half_length) < 8
                    if stop.direction == direction and lane in stop.lanes and near:
                        served.add(index)
                timer = 0.0
        return speed, timer

    def step(self, dt: float) -> None:
        """Advance the world by ``dt`` seconds."""
        self.time_s += dt
        ego_lane = self.road.ego_lane
        self.ego_speed, self.ego_stop_timer = self._drive(
            None, self.odometry, self.ego_speed, self.ego_cruise, 1, ego_lane, EGO_SIZE[0] / 2,
            self.ego_served, self.ego_stop_timer, dt)
        self.odometry += self.ego_speed * dt
        for agent in self.agents:
            if agent.motion == "lane":
                agent.speed, agent.stop_timer = self._drive(
                    agent, agent.y * agent.direction, agent.speed, agent.cruise_speed, agent.direction,
                    agent.lane, agent.length / 2, agent.served_stops, agent.stop_timer, dt)
                agent.y += agent.direction * agent.speed * dt
            elif agent.motion == "cross":
                self._step_cross(agent, dt)
            elif agent.motion == "walk":
                self._step_walker(agent, dt)
        self._forget_far_agents()
        if self.spawn:
            self._maybe_spawn()

    def _step_cross(self, agent: Agent, dt: float) -> None:
        front = agent.x * agent.direction + agent.length / 2
        edge = (self.road.x_min if agent.direction == 1 else -self.road.x_max) - 1.0
        state = "green"
        lights = [a for a in self.agents if a.light is not None and a.light.role == "cross"]
        if lights:
            state = min(lights, key=lambda a: abs(a.y - agent.y)).light.state(self.time_s)
        gap = np.inf
        if state != "green" and front <= edge:
            gap = edge - front
        sign = self._cross_stop_sign(agent)
        if sign is not None and front <= edge and sign.id not in agent.served_stops:
            gap = min(gap, edge - front)
            if edge - front < FOLLOW_GAP + 1.0 and agent.speed < 0.3:
                agent.stop_timer += dt
                if agent.stop_timer > 1.0:
                    agent.served_stops.add(sign.id)
                    agent.stop_timer = 0.0
        for other in self.agents:
            if other is not agent and other.motion == "cross" and other.direction == agent.direction \
                    and abs(other.y - agent.y) < 1.5:
                ahead = other.x * agent.direction - other.length / 2 - front
                if -0.5 < ahead < gap:
                    gap = ahead
        agent.speed = self._speed_for(agent.speed, agent.cruise_speed, gap, dt)
        agent.x += agent.direction * agent.speed * dt

    def _cross_stop_sign(self, agent: Agent) -> Agent | None:
        """The stop sign facing a crossing-road vehicle at the intersection it approaches, if any."""
        for sign in self.agents:
            if sign.label == "stop_sign" and abs(abs(sign.heading) - np.pi / 2) < 0.5 \
                    and np.sign(-np.sin(sign.heading)) == agent.direction and abs(sign.y - agent.y) < 12:
                return sign
        return None

    def _step_walker(self, agent: Agent, dt: float) -> None:
        forward, _ = heading_vectors(agent.heading)
        agent.x += forward[0] * agent.speed * dt
        agent.y += forward[1] * agent.speed * dt
        road = self.road
        if agent.crossing and not road.x_min - 1.0 <= agent.x <= road.x_max + 1.0:
            agent.crossing = False  # reached the far side: walk along the sidewalk
            agent.direction = 1 if self.rng.random() < 0.5 else -1
            agent.heading = 0.0 if agent.direction == 1 else float(np.pi)
        elif not agent.crossing and agent.speed > 0:
            for crosswalk in road.crosswalks:
                if crosswalk.y_min + 0.5 <= agent.y <= crosswalk.y_max - 0.5 and self.rng.random() < 0.05:
                    agent.crossing = True
                    agent.heading = -np.pi / 2 if agent.x < road.x_min else np.pi / 2
                    break

    def _forget_far_agents(self) -> None:
        x_min, x_max, y_min, y_max = self.view
        keep = []
        for agent in self.agents:
            y = agent.y - self.odometry
            if agent.motion == "static" or (y_min - 15 < y < y_max + VIEW_MARGIN and x_min - 15 < agent.x < x_max + 15):
                keep.append(agent)
        self.placer.agents = keep

    def _maybe_spawn(self) -> None:
        moving = sum(a.motion != "static" for a in self.agents)
        if moving >= self.num_objects or self.rng.random() > 0.15:
            return
        _, _, y_min, y_max = self.view
        rng, placer, road = self.rng, self.placer, self.road
        kind = rng.choice(["ahead", "behind", "pedestrian", "cyclist"],
                          p=[0.6, 0.3, 0.07, 0.03] if self.open_road else [0.5, 0.15, 0.25, 0.1])
        if kind == "ahead":
            y = self.odometry + y_max + rng.uniform(5.0, 30.0)
            placer.vehicle_in_lane(int(rng.integers(len(road.lanes))), y, ego_y=self.odometry)
        elif kind == "behind":
            lane = int(rng.integers(len(road.lanes)))
            agent = placer.vehicle_in_lane(lane, self.odometry + y_min - 8.0, ego_y=self.odometry)
            if agent is not None and agent.direction == 1:
                agent.cruise_speed = agent.speed = max(agent.speed, self.ego_speed + 2.0)
        elif kind == "pedestrian":
            placer.pedestrian_on_sidewalk(self.odometry + y_max + rng.uniform(2.0, 15.0), ego_y=self.odometry)
        else:
            placer.cyclist(self.odometry + y_max + rng.uniform(2.0, 15.0), ego_y=self.odometry)

    # -- frames ------------------------------------------------------------------------------------
    def frame(self, noise_bank: np.ndarray | None = None, image_id: int = 0, episode_id: int | None = None,
              frame_index: int = 0, draw_objects: bool = True) -> Scene:
        """Render the current state as a :class:`Scene` (ego frame)."""
        rng = np.random.default_rng([self.seed, frame_index, 7])
        shift = -self.odometry
        road = self.road.shifted(shift).within(self.view[2] - 10, self.view[3] + 10)
        items = []
        for agent in self.agents:
            items.append((agent, (agent.x, agent.y + shift), self.light_state(agent)))
        shapes = [(d, (d.x, d.y + shift)) for d in self.distractors
                  if self.view[2] - 25 < d.y + shift < self.view[3] + 25]
        image, drawn = render_frame(road, items, shapes, self.calibration, self.look, self.config, rng,
                                    noise_bank, odometry=self.odometry, draw_objects=draw_objects)
        objects = []
        for agent, position, state in items:
            if agent.id not in drawn:
                continue
            position = (round(float(position[0]), 4), round(float(position[1]), 4))
            objects.append(WorldObject(
                id=agent.id, label=agent.label, box=drawn[agent.id].box,
                position=position, heading=round(agent.heading, 5),
                speed=round(agent.speed, 4),
                velocity=_velocity(agent),
                size=(round(agent.length, 4), round(agent.width, 4)), lane=road.lane_at(position[0]),
                attributes={"light_state": state} if state is not None else {},
                occlusion=drawn[agent.id].occlusion, applies_to_ego=agent.applies_to_ego,
            ))
        ego = EgoState(lane=self.road.ego_lane, speed=round(self.ego_speed, 4), odometry=round(self.odometry, 4),
                       length=EGO_SIZE[0], width=EGO_SIZE[1])
        return Scene(image=image, objects=objects, road=road, calibration=self.calibration, ego=ego,
                     image_id=image_id, seed=self.seed, episode_id=episode_id, frame_index=frame_index,
                     time_s=round(self.time_s, 6))


class SceneGenerator:
    """Makes scenes and episodes of one world configuration, reusing a noise bank.

    Args:
        config: the world settings (knobs left at None come from the preset).

    Example:
        >>> generator = SceneGenerator(WorldConfig(image_size=64, metres_per_pixel=0.8))
        >>> a, b = generator.scene(seed=3), generator.scene(seed=3)
        >>> bool((a.image == b.image).all()) and a.objects == b.objects
        True
        >>> [s.frame_index for s in generator.episode(seed=3, num_frames=3)]
        [0, 1, 2]
    """

    def __init__(self, config: WorldConfig | None = None):
        self.config = config

    @property
    def resolved_config(self) -> WorldConfig:
        if not hasattr(self, "_resolved"):
            config = self.config if self.config is not None else WorldConfig()
            if not isinstance(config, WorldConfig):
                raise TypeError(f"`config` must be a WorldConfig. Received: config={config!r}")
            self._resolved = config.resolved()
            self._noise_bank = make_noise_bank(config.image_size)
        return self._resolved

    @property
    def noise_bank(self) -> np.ndarray:
        self.resolved_config
        return self._noise_bank

    def scene(self, seed: int, image_id: int | None = None) -> Scene:
        """One independent scene, identical for the same config and ``seed``."""
        seed = _check_seed(seed)
        simulation = Simulation(self.resolved_config, seed)
        return simulation.frame(self.noise_bank, image_id=seed if image_id is None else image_id)

    def episode(self, seed: int, num_frames: int, fps: float = 10.0, episode_id: int | None = None,
                first_image_id: int = 0) -> list[Scene]:
        """``num_frames`` consecutive frames at ``fps``; object ids stay the same across frames."""
        seed = _check_seed(seed)
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f"`num_frames` must be an integer >= 1. Received: num_frames={num_frames!r}")
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 1000:
            raise ValueError(f"`fps` must be a number in (0, 1000]. Received: fps={fps!r}")
        config = self.resolved_config
        speed_limit = 14.0
        simulation = Simulation(config, seed, length_m=speed_limit * num_frames / fps, spawn=True)
        episode_id = seed if episode_id is None else episode_id
        frames = []
        for index in range(num_frames):
            if index:
                simulation.step(1.0 / fps)
            frames.append(simulation.frame(self.noise_bank, image_id=first_image_id + index,
                                           episode_id=episode_id, frame_index=index))
        return frames


def _velocity(agent: Agent) -> tuple[float, float]:
    """Ground velocity in ego-frame axes: vehicles follow their lane (or the crossing road),
    pedestrians walk where they face; a vehicle's small heading jitter is pose, not motion."""
    if agent.motion == "lane":
        vx, vy = 0.0, agent.direction * agent.speed
    elif agent.motion == "cross":
        vx, vy = agent.direction * agent.speed, 0.0
    else:
        forward, _ = heading_vectors(agent.heading)
        vx, vy = forward[0] * agent.speed, forward[1] * agent.speed
    return round(float(vx), 4) + 0.0, round(float(vy), 4) + 0.0


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed!r}")
    return int(seed)


def generate_scene(config: WorldConfig, seed: int) -> Scene:
    """One independent scene, deterministic for ``(config, seed)``.

    Args:
        config: the world settings.
        seed: any non-negative integer.

    Returns:
        Scene with ``image`` (H, W, 3) uint8 and its ground truth.

    Example:
        >>> scene = generate_scene(WorldConfig(image_size=64, metres_per_pixel=0.8), seed=0)
        >>> scene.image.shape, all(0 <= o.box[0] < o.box[2] <= 64 for o in scene.objects)
        ((64, 64, 3), True)
    """
    return SceneGenerator(config).scene(seed)


def generate_episode(config: WorldConfig, seed: int, num_frames: int, fps: float = 10.0) -> list[Scene]:
    """Consecutive frames of one drive, deterministic for ``(config, seed, num_frames, fps)``.

    Args:
        config: the world settings.
        seed: any non-negative integer.
        num_frames: frames to make.
        fps: frames per second.

    Returns:
        list of Scene with ``frame_index`` 0.. and ``time_s`` at ``1 / fps`` steps.

    Example:
        >>> frames = generate_episode(WorldConfig(image_size=64, metres_per_pixel=0.8), seed=0, num_frames=2)
        >>> [f.time_s for f in frames]
        [0.0, 0.1]
    """
    return SceneGenerator(config).episode(seed, num_frames, fps)
