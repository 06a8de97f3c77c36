"""A multi-frame tracker: stable object ids and motion across an episode.

Each frame's objects are matched to the tracks of the frames before by their
position on the ground: the ego's odometry turns ego-frame positions into a
fixed road frame (y along the road), each track predicts where it should be
now from its velocity, and a minimum-cost assignment (Hungarian) pairs
predictions with objects of the same label within ``max_distance_m``.
Unmatched objects start new tracks; tracks unseen for more than
``max_misses`` frames end.

A track's velocity is the smoothed change of its road-frame position. A new
track's velocity is unknown (``None``), except for traffic lights and stop
signs, which never move.
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
        position: last ``(x, y)`` in the road frame, metres.
        velocity: ``(vx, vy)`` m/s over the ground, or ``None`` while unknown.
        time_s: time of its last observation.
        num_hits: frames it was seen in.
        num_misses: consecutive frames it was not seen.
    """

    id: str
    label: str
    position: tuple[float, float]
    velocity: tuple[float, float] | None
    time_s: float
    num_hits: int = 1
    num_misses: int = 0

    def predict(self, time_s: float) -> tuple[float, float]:
        """Where the track should be at ``time_s`` (road frame)."""
        if self.velocity is None:
            return self.position
        dt = time_s - self.time_s
        return self.position[0] + self.velocity[0] * dt, self.position[1] + self.velocity[1] * dt


class Tracker:
    """Keeps object ids stable across the frames of an episode and estimates motion.

    Args:
        max_distance_m: largest distance between a track's predicted position
            and an object for them to match.
        max_misses: frames a track survives unseen.
        smoothing: weight of the newest velocity measurement, in (0, 1].
        static_labels: labels whose objects never move.

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

    def __init__(self, *, max_distance_m: float = 4.0, max_misses: int = 2, smoothing: float = 0.5,
                 static_labels: Sequence[str] = STATIC_LABELS):
        self.max_distance_m = max_distance_m
        self.max_misses = max_misses
        self.smoothing = smoothing
        self.static_labels = tuple(static_labels)
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
        if not 0 < self.smoothing <= 1:
            raise ValueError(f"`smoothing` must be in (0, 1]. Received: smoothing={self.smoothing!r}")
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
            results.append(dataclasses.replace(obj, id=track.id, velocity=track.velocity))
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
        track = Track(f"o{self.num_tracks_}", obj.label, position, velocity, time_s)
        self.tracks_.append(track)
        return track

    def _observe(self, track: Track, position, time_s) -> None:
        dt = time_s - track.time_s
        if track.label not in self.static_labels and dt > 0:
            measured = ((position[0] - track.position[0]) / dt, (position[1] - track.position[1]) / dt)
            if track.velocity is None:
                track.velocity = measured
            else:
                a = self.smoothing
                track.velocity = (a * measured[0] + (1 - a) * track.velocity[0],
                                  a * measured[1] + (1 - a) * track.velocity[1])
        track.position = position
        track.time_s = time_s
        track.num_hits += 1
        track.num_misses = 0
