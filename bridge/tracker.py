"""A multi-frame tracker: stable object ids and motion across an episode.

Each frame's objects are matched to the tracks of the frames before by their
position on the ground: the ego's odometry turns ego-frame positions into a
fixed road frame (y along the road), each track predicts where it should be
now from its velocity, and a minimum-cost assignment (Hungarian) pairs
predictions with objects of the same label within ``max_distance_m``.
Unmatched objects start new tracks; tracks unseen for more than
``max_misses`` frames end.

A track's velocity is the least-squares slope of its last ``window``
road-frame positions (3 by default: 0.2 s; longer windows lag behind a road
user that brakes, shorter ones are dominated by whole-pixel noise; the
pipeline fits 5, where a detector's box error dominates). Each axis
follows one reference point of the box: its centre, or the edge that stays
inside the image while the box is cut off by the image border (an object
entering the view grows out of the border: its centre moves slower than it
does). Each axis of the velocity may be off by ``speed_uncertainty`` (for
fewer observations, more: the slope's noise grows as its time span shrinks),
plus what the objects' own ``position_uncertainty`` (a detector's box error)
can move the fitted slope: over three or more positions only the error's
spread within the window counts, and such a fit whose positions stray from
its line by more than the box error allows is doubtful (its velocity is
unknown until the window is consistent again); the track reports how far
that leaves its *closing* speed open, projecting both axes on the line of
sight. A new track's velocity is unknown (``None``:
the grounding then states its motion facts as uncertain), except for traffic
lights and stop signs, which never move. An object's confidence is the best
score of its track's last ``existence_window`` sightings (1 by default: its
own score).

With ``coast=True`` a track missed in a frame (occluded, or too weak for the
detector that frame) is still reported while it survives, at the position
its velocity predicts, with that position's uncertainty grown by how far its
velocity may be off over the time unseen; a missed frame counts as a
sighting with score 0, so its confidence fades with the existence window.
A pedestrian hidden for a frame behind a crossing car is then still there
for the rules.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Mapping, NamedTuple, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from bridge.geometry import STATIC_LABELS, ObjectState


class Observation(NamedTuple):
    """One sighting of a track, road frame (y along the road), metres.

    ``left``/``right`` and ``rear``/``front`` are the box's extent across and
    along the road; ``truncated`` the sides the image border cut off.
    """

    time_s: float
    x: float
    y: float
    left: float
    right: float
    rear: float
    front: float
    truncated: tuple[str, ...] = ()


@dataclass
class Track:
    """One tracked object.

    Attributes:
        id: the object's constant, stable for the track's life.
        label: its class.
        history: the last :class:`Observation` records (``(time_s, x, y, ...)``), oldest first.
        velocity: ``(vx, vy)`` m/s over the ground, or ``None`` while unknown.
        num_hits: frames it was seen in.
        num_misses: consecutive frames it was not seen.
        velocity_uncertainty: m/s each axis of ``velocity`` may be off.
        scores: confidences of its last sightings (``Tracker.existence_window``;
            0 for a frame it was missed in).
        last_seen: the object as last seen (ego frame of that frame), for coasting.
        sightings: ``(time_s, confidence)`` of its sightings within its
            class's memory (``Tracker.memory_s``), oldest first.
    """

    id: str
    label: str
    history: list[Observation]
    velocity: tuple[float, float] | None
    num_hits: int = 1
    num_misses: int = 0
    velocity_uncertainty: tuple[float, float] = (0.0, 0.0)
    scores: tuple[float, ...] = ()
    last_seen: ObjectState | None = None
    sightings: tuple[tuple[float, float], ...] = ()

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


def reference_positions(history: Sequence[Observation], axis: int) -> tuple[list[float], list[float]]:
    """Times and positions of one reference point of the box along ``axis`` (0: x, 1: y).

    The centre while the box is whole; while the image border cuts it off on
    one side, the edge on the other side; the longest recent run of
    observations that one reference point covers.

    Example:
        >>> whole = Observation(0.0, 0.0, 44.0, -1.0, 1.0, 42.0, 46.0)
        >>> cut = Observation(0.1, 0.0, 44.5, -1.0, 1.0, 43.0, 46.0, ("front",))   # entering at the top
        >>> reference_positions([whole, cut], 1), reference_positions([whole, cut], 0)
        (([0.0, 0.1], [42.0, 43.0]), ([0.0, 0.1], [0.0, 0.0]))
    """
    low_side, high_side = ("left", "right") if axis == 0 else ("rear", "front")
    low_index = 3 if axis == 0 else 5
    for start in range(len(history)):
        run = history[start:]
        low_cut = any(low_side in h.truncated for h in run)
        high_cut = any(high_side in h.truncated for h in run)
        if low_cut and high_cut:
            continue
        if not low_cut and not high_cut:
            values = [(h[low_index] + h[low_index + 1]) / 2 for h in run]
        else:
            values = [h[low_index + 1] if low_cut else h[low_index] for h in run]
        return [h.time_s for h in run], values
    return [], []


def fit_slope(times: Sequence[float], values: Sequence[float]) -> float | None:
    """Least-squares slope of ``values`` over ``times``; None with fewer than two distinct times.

    Example:
        >>> fit_slope([0.0, 0.1, 0.2], [10.0, 10.5, 11.0])
        5.0
    """
    if len(times) < 2:
        return None
    mean_time = sum(times) / len(times)
    mean_value = sum(values) / len(values)
    denominator = sum((t - mean_time) ** 2 for t in times)
    if denominator <= 0:
        return None
    return round(sum((t - mean_time) * (v - mean_value) for t, v in zip(times, values)) / denominator, 9)


def slope_sensitivity(times: Sequence[float]) -> float:
    """How far (per metre) the least-squares slope over ``times`` moves when each position may be off by 1 m.

    The slope is ``sum((t - mean) * p) / sum((t - mean) ** 2)``; positions each
    off by at most ``r`` move it by at most ``r * sum(|t - mean|) / sum((t - mean) ** 2)``.
    0 with fewer than two distinct times.

    Example:
        >>> slope_sensitivity([0.0, 0.1, 0.2]), slope_sensitivity([0.0, 0.1])
        (10.0, 20.0)
    """
    if len(times) < 2:
        return 0.0
    mean_time = sum(times) / len(times)
    denominator = sum((t - mean_time) ** 2 for t in times)
    if denominator <= 0:
        return 0.0
    return round(sum(abs(t - mean_time) for t in times) / denominator, 9)


def fit_residual(times: Sequence[float], values: Sequence[float]) -> float:
    """Farthest any of ``values`` lies from their least-squares line over ``times``; 0 with fewer than two distinct times.

    Example:
        >>> fit_residual([0.0, 0.1, 0.2], [10.0, 10.5, 11.0]), fit_residual([0.0, 0.1, 0.2], [10.0, 11.1, 11.0])
        (0.0, 0.4)
    """
    slope = fit_slope(times, values)
    if slope is None:
        return 0.0
    mean_time = sum(times) / len(times)
    mean_value = sum(values) / len(values)
    return round(max(abs(v - mean_value - slope * (t - mean_time)) for t, v in zip(times, values)), 9)


class Tracker:
    """Keeps object ids stable across the frames of an episode and estimates motion.

    Args:
        max_distance_m: largest distance between a track's predicted position
            and an object for them to match.
        max_misses: frames a track survives unseen.
        window: observations the velocity is fitted to (>= 2).
        speed_uncertainty: m/s each axis of a velocity fitted to a full
            window may be off (box corners are whole pixels, and road users
            brake within the window); ``(window - 1) / (n - 1)`` times that
            with only ``n`` observations. 0.8 with the default window covered
            99% of the true velocities in generated episodes (true boxes).
            Positions that may be off themselves (``ObjectState.position_uncertainty``
            r, the detector's box error) add r times :func:`slope_sensitivity`
            of the fit's times (10 per metre for three frames 0.1 s apart),
            ``jitter_fraction`` r over three or more positions.
            Known velocities (static labels) get 0.
        jitter_fraction: what of ``position_uncertainty`` a fit over three or
            more positions is widened by instead: a box's error is much the
            same from one frame to the next (a constant offset leaves the
            slope alone), so only half the range of its error over the window
            moves the slope. 1 (the whole error) unless measured: the
            pipeline uses 0.25 (``track_jitter_fraction``), which kept the
            shipped detector's five-frame closing speeds covered in 99.7%
            of default sightings (``python -m benchmarks localization``). A fit over two positions cannot be
            checked (below) and is widened by the whole uncertainty.
        consistency_fraction: a fit over three or more positions whose
            positions stray from its line by more than this fraction of
            ``position_uncertainty`` (0.225 m at 0.75 m) is doubtful (a false
            or badly placed box, or a track that jumped to another object):
            the velocity is then unknown (``None``) until the window is
            consistent again. Not checked without position uncertainty.
        existence_window: sightings whose best score becomes the object's
            ``confidence`` (1: this frame's score alone). A real object whose
            score dips for a frame (occlusion, blur) keeps the confidence it
            was seen with; a detection with no confident sighting in the
            window keeps its own, low score.
        coast: report a track missed this frame (while it survives,
            ``max_misses``) at its predicted position: same id, label,
            attributes and velocity, ``box`` None and ``coasted`` True, its
            ``position_uncertainty`` grown by the velocity's uncertainty
            times the time unseen, its confidence the best of its last
            ``existence_window`` sightings counting this miss as 0 (so an
            existence window of 1 coasts nothing). Only tracks whose
            velocity is known coast (a new track's could be anywhere).
        static_labels: labels whose objects never move.
        class_speed_uncertainty_scale: class -> factor on the closing-speed
            uncertainty the tracker reports for that class (1 for a class
            left out): split-conformal scales that make it cover the true
            closing speed at a stated coverage (:func:`bridge.conformal.fit_class_scales`,
            ``nesy calibrate --conformal``).
        top_speeds: class -> top speed over the ground, m/s. With it, a
            track whose velocity is unknown coasts too: where it was last
            seen, its ``position_uncertainty`` grown by the top speed times
            the time unseen, its motion unknown. Without it (or for a class
            left out) such a track is not coasted.
        memory_s: class -> seconds a confirmed track of that class (seen in
            at least ``existence_window`` frames) keeps the confidence it
            was seen with in that time (the ``existence_window``-th best of
            its sightings there, so one confident blip is not remembered),
            seen or not: a pedestrian who
            walks under a tree or behind a truck is still there, whether the
            detector then misses it or sees only a weak trace of it. Unseen
            for longer than ``max_misses`` it is still reported while that
            confidence lasts, coasting (above).

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

    def __init__(self, *, max_distance_m: float = 4.0, max_misses: int = 2, window: int = 3,
                 speed_uncertainty: float = 0.8, jitter_fraction: float = 1.0,
                 consistency_fraction: float = 0.3, existence_window: int = 1, coast: bool = False,
                 static_labels: Sequence[str] = STATIC_LABELS,
                 class_speed_uncertainty_scale: Mapping[str, float] | None = None,
                 top_speeds: Mapping[str, float] | None = None, memory_s: Mapping[str, float] | None = None):
        self.max_distance_m = max_distance_m
        self.max_misses = max_misses
        self.window = window
        self.speed_uncertainty = speed_uncertainty
        self.static_labels = tuple(static_labels)
        self.jitter_fraction = jitter_fraction
        self.consistency_fraction = consistency_fraction
        if isinstance(existence_window, bool) or not isinstance(existence_window, int) or existence_window < 1:
            raise ValueError(f"`existence_window` must be an integer >= 1. Received: existence_window={existence_window!r}")
        self.existence_window = existence_window
        self.coast = coast
        self.class_speed_uncertainty_scale = dict(class_speed_uncertainty_scale or {})
        self.top_speeds = dict(top_speeds or {})
        self.memory_s = dict(memory_s or {})
        for name, table in (("top_speeds", self.top_speeds), ("memory_s", self.memory_s)):
            for label, value in table.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                    raise ValueError(f"`{name}` must map class names to finite numbers >= 0. "
                                     f"Received: {name}[{label!r}]={value!r}")
        self.tracks_: list[Track] = []
        self.num_tracks_ = 0

    def reset(self) -> "Tracker":
        """Forget every track (a new episode begins)."""
        self.tracks_ = []
        self.num_tracks_ = 0
        return self

    def update(self, objects: Sequence[ObjectState], ego, time_s: float) -> list[ObjectState]:
        """Match this frame's objects to the tracks and return them with track ids, velocities and confidences.

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
                self._observe(track, obj, road_positions[i], time_s)
            else:
                track = self._start(obj, road_positions[i], time_s)
            estimated = track.velocity is not None and track.label not in self.static_labels
            uncertainty = self._closing_uncertainty(track, obj.position) if estimated else 0.0
            velocity = track.velocity
            if velocity is None and obj.velocity is not None:   # the detector saw its motion: keep it
                velocity, uncertainty = obj.velocity, obj.speed_uncertainty
            track.scores = (*track.scores, obj.confidence)[-self.existence_window:]
            track.last_seen = obj
            if track.label in self.memory_s:
                horizon = self.memory_s[track.label]
                track.sightings = (*(s for s in track.sightings if time_s - s[0] <= horizon + 1e-9),
                                   (time_s, obj.confidence))
            confidence = max(max(track.scores), self._remembered_confidence(track, time_s))
            results.append(dataclasses.replace(obj, id=track.id, velocity=velocity,
                                               speed_uncertainty=uncertainty, confidence=confidence))
        survivors = []
        for index, track in enumerate(self.tracks_):
            if index not in matched_tracks and track.time_s != time_s:
                track.num_misses += 1
                track.scores = (*track.scores, 0.0)[-self.existence_window:]
                alive = track.num_misses <= self.max_misses or self._remembered_confidence(track, time_s) > 0
                if self.coast and alive:
                    coasted = self._coasted(track, ego, time_s)
                    if coasted is not None:
                        results.append(coasted)
            if track.num_misses <= self.max_misses or self._remembered_confidence(track, time_s) > 0:
                survivors.append(track)
        self.tracks_ = survivors
        return results

    def _coasted(self, track: Track, ego, time_s: float) -> ObjectState | None:
        """The track, unseen this frame, where its velocity puts it now; None when that is unknown."""
        seen = track.last_seen
        static = track.label in self.static_labels
        confidence = max(max(track.scores), self._remembered_confidence(track, time_s))
        motion_unknown = track.velocity is None and not static
        if seen is None or confidence <= 0 or (motion_unknown and track.label not in self.top_speeds):
            return None
        x, y = track.predict(time_s)
        position = (x, y - float(ego.odometry))
        elapsed = time_s - track.time_s
        if static:
            spread = 0.0
        elif motion_unknown:
            spread = elapsed * self.top_speeds[track.label]
        else:
            spread = elapsed * max(track.velocity_uncertainty)
        uncertainty = 0.0 if static or motion_unknown else self._closing_uncertainty(track, position)
        return dataclasses.replace(seen, id=track.id, position=position, velocity=track.velocity,
                                   position_uncertainty=seen.position_uncertainty + spread,
                                   speed_uncertainty=uncertainty, confidence=confidence, box=None,
                                   coasted=True)

    def _remembered_confidence(self, track: Track, time_s: float) -> float:
        """What a confirmed track of a class with a memory was seen with within it: the
        ``existence_window``-th best confidence there (one confident blip is not remembered), else 0."""
        horizon = self.memory_s.get(track.label, 0.0)
        if horizon <= 0 or track.num_hits < self.existence_window:
            return 0.0
        recent = sorted((score for seen_at, score in track.sightings if time_s - seen_at <= horizon + 1e-9),
                        reverse=True)
        return recent[self.existence_window - 1] if len(recent) >= self.existence_window else 0.0

    def _match(self, objects, road_positions, time_s) -> dict[int, int]:
        """Object index -> track index."""
        candidates = [t for t in self.tracks_ if t.time_s < time_s]
        if not objects or not candidates:
            return {}
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

    def _closing_uncertainty(self, track: Track, position) -> float:
        """m/s the closing speed may be off: each axis's uncertainty projected on the line of sight."""
        x, y = position
        dist = math.hypot(x, y)
        scale = self.class_speed_uncertainty_scale.get(track.label, 1.0)
        if dist < 1e-6:
            return round(scale * math.hypot(*track.velocity_uncertainty), 9)
        ux, uy = track.velocity_uncertainty
        return round(scale * (abs(x) * ux + abs(y) * uy) / dist, 9)

    def _start(self, obj: ObjectState, position, time_s) -> Track:
        self.num_tracks_ += 1
        velocity = (0.0, 0.0) if obj.label in self.static_labels else None
        track = Track(f"o{self.num_tracks_}", obj.label, [_observation(obj, position, time_s)], velocity)
        self.tracks_.append(track)
        return track

    def _observe(self, track: Track, obj: ObjectState, position, time_s) -> None:
        track.history = [*track.history, _observation(obj, position, time_s)][-self.window:]
        if track.label not in self.static_labels:
            velocity, uncertainty = [], []
            for axis in (0, 1):
                times, values = reference_positions(track.history, axis)
                slope = fit_slope(times, values)
                checked = len(times) >= 3
                gate = self.consistency_fraction * obj.position_uncertainty
                if slope is not None and checked and gate > 0 and fit_residual(times, values) > gate:
                    slope = None
                velocity.append(slope)
                error = obj.position_uncertainty * (self.jitter_fraction if checked else 1.0)
                uncertainty.append(self.speed_uncertainty * (self.window - 1) / max(len(times) - 1, 1)
                                   + error * slope_sensitivity(times))
            known = None not in velocity
            track.velocity = tuple(velocity) if known else None
            track.velocity_uncertainty = tuple(uncertainty) if known else (0.0, 0.0)
        track.num_hits += 1
        track.num_misses = 0


def _observation(obj: ObjectState, position, time_s: float) -> Observation:
    """``obj`` seen at road-frame ``position`` (its centre) at ``time_s``."""
    x, y = position
    length, width = obj.size
    return Observation(time_s, x, y, x - width / 2, x + width / 2, y - length / 2, y + length / 2,
                       tuple(obj.truncated))
