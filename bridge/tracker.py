"""A multi-frame tracker: stable object ids and motion across an episode.

Each frame's objects are matched to the tracks of the frames before by their
position on the ground: the ego's odometry turns ego-frame positions into a
fixed road frame (y along the road), each track predicts where it should be
now from its velocity, and a minimum-cost assignment (Hungarian) pairs
predictions with objects of the same label within ``max_distance_m``.
Unmatched objects start new tracks; tracks unseen for more than
``max_misses`` frames end.

A track's velocity is the least-squares slope of its last ``window``
road-frame positions (box corners are whole pixels, so single-frame
differences are noisy). That slope is the velocity at the window's middle
time; an object braking or speeding up has moved on since, so a track's
``speed_uncertainty`` grows by its fitted acceleration times that lag
(:func:`motion_lag_uncertainty`). A new track's velocity is unknown
(``None``: the grounding then states its motion facts as uncertain), except
for traffic lights and stop signs, which never move.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from bridge.grounding import STATIC_LABELS, ObjectState


@dataclass
class Track:
    """One tracked object.

    Attributes:
        id: the object's constant, stable for the track's life.
        label: its class.
        history: the last observations ``(time_s, x, y)``, road frame, oldest first.
        velocity: ``(vx, vy)`` m/s over the ground, or ``None`` while unknown.
        num_hits: frames it was seen in.
        num_misses: consecutive frames it was not seen.
    """

    id: str
    label: str
    history: list[tuple[float, float, float]]
    velocity: tuple[float, float] | None
    num_hits: int = 1
    num_misses: int = 0

    @property
    def time_s(self) -> float:
        return self.history[-1][0]

    @property
    def position(self) -> tuple[float, float]:
        return self.history[-1][1], self.history[-1][2]

    def predict(self, time_s: float) -> tuple[float, float]:
        """Where the track should be at ``time_s`` (road frame)."""
        x, y = self.position
        if self.velocity is None:
            return x, y
        dt = time_s - self.time_s
        return x + self.velocity[0] * dt, y + self.velocity[1] * dt


def fit_velocity(history: Sequence[tuple[float, float, float]]) -> tuple[float, float] | None:
    """Least-squares velocity of ``(time_s, x, y)`` observations; None with fewer than two times.

    Example:
        >>> fit_velocity([(0.0, 0.0, 10.0), (0.1, 0.0, 10.5), (0.2, 0.1, 11.0)])
        (0.5, 5.0)
    """
    times = np.array([h[0] for h in history])
    if len(times) < 2 or np.ptp(times) <= 0:
        return None
    centred = times - times.mean()
    denominator = float((centred ** 2).sum())
    vx = float((centred * np.array([h[1] for h in history])).sum() / denominator)
    vy = float((centred * np.array([h[2] for h in history])).sum() / denominator)
    return round(vx, 9), round(vy, 9)


def motion_lag_uncertainty(history: Sequence[tuple[float, float, float]], *,
                           max_acceleration: float = math.inf) -> float:
    """m/s the velocity may have changed since the middle of ``history``'s times.

    The least-squares slope of :func:`fit_velocity` is the velocity at the
    window's mean time; with a constant acceleration ``a`` (fitted by a
    quadratic, at most ``max_acceleration`` m/s^2: whole-pixel positions make
    a fitted acceleration noisy) the velocity now differs by ``|a|`` times the
    time since then. 0 with fewer than three distinct times.

    Example:
        >>> # braking at 8 m/s^2 from 8 m/s, 0.1 s apart: the fit lags 0.1 s
        >>> history = [(t, 0.0, 8.0 * t - 4.0 * t * t) for t in (0.0, 0.1, 0.2)]
        >>> round(motion_lag_uncertainty(history), 6)
        0.8
    """
    times = np.array([h[0] for h in history], dtype=float)
    if len(set(times.tolist())) < 3:
        return 0.0
    centred = times - times.mean()
    design = np.stack([centred ** 2, centred, np.ones_like(centred)], axis=1)
    positions = np.array([[h[1], h[2]] for h in history], dtype=float)  # (N, 2)
    coefficients, *_ = np.linalg.lstsq(design, positions, rcond=None)
    acceleration = min(2.0 * float(np.hypot(*coefficients[0])), max_acceleration)
    return round(acceleration * float(times[-1] - times.mean()), 9)


class Tracker:
    """Keeps object ids stable across the frames of an episode and estimates motion.

    Args:
        max_distance_m: largest distance between a track's predicted position
            and an object for them to match.
        max_misses: frames a track survives unseen.
        window: observations the velocity is fitted to (>= 2).
        speed_uncertainty: m/s an estimated velocity may be off (box corners
            are whole pixels); a track's own uncertainty adds the lag of its
            fit under its fitted acceleration (objects brake). The grounding
            reads closing speeds this much higher. Known velocities (static
            labels) get 0.
        static_labels: labels whose objects never move.
        max_acceleration: m/s^2 a road user may brake or speed up at most
            (8: hard braking); bounds the acceleration behind the fit's lag.

    Example:
        >>> from perception.world import EgoState
        >>> tracker = Tracker()
        >>> ego = EgoState(lane=0, speed=10.0, odometry=0.0)
        >>> first = tracker.update([ObjectState("d1", "car", (0.0, 20.0), (4.5, 1.8))], ego, time_s=0.0)
        >>> ego = EgoState(lane=0, speed=10.0, odometry=1.0)
        >>> second = tracker.update([ObjectState("d1", "car", (0.0, 19.5), (4.5, 1.8))], ego, time_s=0.1)
        >>> first[0].id == second[0].id, second[0].velocity
        (True, (0.0, 5.0))
    """

    def __init__(self, *, max_distance_m: float = 4.0, max_misses: int = 2, window: int = 5,
                 speed_uncertainty: float = 0.5, static_labels: Sequence[str] = STATIC_LABELS,
                 max_acceleration: float = 8.0):
        self.max_distance_m = max_distance_m
        self.max_misses = max_misses
        self.window = window
        self.speed_uncertainty = speed_uncertainty
        self.static_labels = tuple(static_labels)
        self.max_acceleration = max_acceleration
        self.tracks_: list[Track] = []
        self.num_tracks_ = 0

    def reset(self) -> "Tracker":
        """Forget every track (a new episode begins)."""
        self.tracks_ = []
        self.num_tracks_ = 0
        return self

    def update(self, objects: Sequence[ObjectState], ego, time_s: float) -> list[ObjectState]:
        """Match this frame's objects to the tracks and return them with track ids and velocities.

        Args:
            objects: the frame's objects in the ego frame (their ids are ignored).
            ego: the ``EgoState`` (``odometry`` places the frame on the road).
            time_s: the frame's time, seconds; must not go back.

        Returns:
            The objects in the same order, with ``id`` and ``velocity`` from their tracks.
        """
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 2:
            raise ValueError(f"`window` must be an integer >= 2. Received: window={self.window!r}")
        if self.tracks_ and time_s < max(t.time_s for t in self.tracks_):
            raise ValueError(f"frames must arrive in time order. Received time_s={time_s} after "
                             f"{max(t.time_s for t in self.tracks_)}; call reset() between episodes")
        road_positions = [(o.position[0], o.position[1] + float(ego.odometry)) for o in objects]
        matches = self._match(objects, road_positions, time_s)
        matched_tracks = set(matches.values())
        results = []
        for i, obj in enumerate(objects):
            if i in matches:
                track = self.tracks_[matches[i]]
                self._observe(track, road_positions[i], time_s)
            else:
                track = self._start(obj, road_positions[i], time_s)
            estimated = track.velocity is not None and track.label not in self.static_labels
            lag = motion_lag_uncertainty(track.history, max_acceleration=self.max_acceleration)
            uncertainty = self.speed_uncertainty + lag if estimated else 0.0
            results.append(dataclasses.replace(obj, id=track.id, velocity=track.velocity,
                                               speed_uncertainty=uncertainty))
        survivors = []
        for index, track in enumerate(self.tracks_):
            if index not in matched_tracks and track.time_s != time_s:
                track.num_misses += 1
            if track.num_misses <= self.max_misses:
                survivors.append(track)
        self.tracks_ = survivors
        return results

    def _match(self, objects, road_positions, time_s) -> dict[int, int]:
        """Object index -> track index."""
        candidates = [t for t in self.tracks_ if t.time_s < time_s]
        if not objects or not candidates:
            return {}
        from scipy.optimize import linear_sum_assignment

        big = 1e6
        cost = np.full((len(objects), len(self.tracks_)), big)
        for j, track in enumerate(self.tracks_):
            if track.time_s >= time_s:
                continue
            px, py = track.predict(time_s)
            for i, obj in enumerate(objects):
                if obj.label == track.label:
                    d = math.hypot(road_positions[i][0] - px, road_positions[i][1] - py)
                    if d <= self.max_distance_m:
                        cost[i, j] = d
        rows, columns = linear_sum_assignment(cost)
        return {int(i): int(j) for i, j in zip(rows, columns) if cost[i, j] < big}

    def _start(self, obj: ObjectState, position, time_s) -> Track:
        self.num_tracks_ += 1
        velocity = (0.0, 0.0) if obj.label in self.static_labels else None
        track = Track(f"o{self.num_tracks_}", obj.label, [(time_s, *position)], velocity)
        self.tracks_.append(track)
        return track

    def _observe(self, track: Track, position, time_s) -> None:
        track.history = [*track.history, (time_s, *position)][-self.window:]
        if track.label not in self.static_labels:
            track.velocity = fit_velocity(track.history)
        track.num_hits += 1
        track.num_misses = 0
