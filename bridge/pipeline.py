"""The end-to-end pipeline: image -> detections -> facts -> decision.

::

    pipeline = Pipeline.from_config("configs/drive.yaml")
    results = pipeline(scenes)                 # batched, frames independent
    for result in pipeline.stream(episode):    # frame by frame, with the tracker
        print(result.decision.action)

A *frame* is anything with ``image`` ((H, W, 3) uint8), ``road`` (RoadMap),
``calibration`` (Calibration) and ``ego`` (EgoState); a generated
``perception.world.Scene`` is one. Streaming also reads ``time_s`` and
``episode_id`` (the tracker restarts when the episode changes), and the
oracle mode reads the ground truth (``objects``).

Every stage is a public object: ``Pipeline(detector=..., reasoner=...)``.
With ``oracle=True`` perception is replaced by the ground truth (true boxes,
labels, score 1, one-hot light states, true motion): what the rules decide
with a perfect eye, for rule authors.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from bridge import grounding
from bridge.class_evidence import CONFUSABLE_CLASSES, share_class_evidence
from bridge.motion_prior import TOP_SPEEDS_MPS, MotionPrior
from bridge.tracker import Tracker
from bridge.vocabulary import CLASS_NAMES, NEAR_RADIUS_M

STAGES = ("perception", "grounding", "reasoning")
_CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@dataclass
class PipelineConfig:
    """The ``pipeline:`` section of an experiment file.

    Args:
        rules: rule file, relative to the config file's folder.
        weights: detector checkpoint; empty for the shipped model.
        calibration: score calibration file (``nesy calibrate``) mapping
            each class's detector scores to probabilities; used only with
            the checkpoint it was fitted for.
        duplicate_iou: of two detections (any classes) overlapping at least
            this much, only the more confident is kept: one object, one
            class (1.0 keeps all). It runs before ``class_groups`` share
            evidence, so below 1 it also removes the overlapping readings
            of confusable classes that sharing would keep open.
        score_threshold: detections below it are dropped before tracking.
        low, high: confidence at or below ``low`` is false, at or above
            ``high`` true, in between uncertain. An object whose class
            confidence the reasoner reads as false is absent: it is not
            grounded at all (a rule quantifying over every object, such as
            ``exists o: in_path(o) and ttc(o) < 2.5``, does not see it).
            With a tracker its confidence is the highest score of its last
            ``track_existence_window`` sightings, so a weak detection of a
            track seen confidently just before stays (uncertain or true),
            while a weak detection with no confident history is absent.
        robust: choose actions safe in every completion of uncertain facts.
        repair: repair facts against the rules' constraints before deciding
            (the reasoner reports flipped facts in ``Decision.repaired``).
        time_budget_ms: the reasoner's bound per frame.
        near_radius_m: metres within which two objects are ``near``.
        batch_size: images per detector call in batched mode.
        precision: the detector's inference precision when batched
            (``Detector.predict``; ``auto``: bfloat16 autocast on CPUs that
            support it, measured 1.7x faster at batch 32 here).
        stream_precision: the same for streaming (batch 1): float32, as
            bfloat16 was no faster at batch 1 on a quiet 2-core CPU and far
            slower when its cores were busy (500 ms against 11 ms).
        stream_threads: torch threads for one streamed image (0: torch's
            setting). One by default: at batch 1 two threads gain little
            and, when another process holds a core, wait on each other
            (measured 293 ms against 4 ms per image).
        track_max_distance_m, track_max_misses, track_window,
            track_speed_uncertainty: tracker settings (streaming): gate,
            patience, frames per velocity fit, m/s each axis of an estimated
            velocity may be off (the cautious reading of estimated motion).
        position_uncertainty_m: metres each coordinate of a detected box may
            be off (the detector's measured localisation error,
            ``python -m bridge.metrics``): geometric facts within it of a
            border are uncertain and tracked velocities widen by it; 0 in
            oracle mode.
        track_jitter_fraction: what of ``position_uncertainty_m`` widens a
            velocity fitted to three or more positions
            (``Tracker.jitter_fraction``; 0.25 with five-frame fits covered
            99.75% of the shipped detector's closing speeds on default and
            99.48% on hard episodes, ``python -m bridge.metrics``).
        track_existence_window: sightings of a track whose best score is
            its confidence (``Tracker.existence_window``; 1: this frame's).
        class_groups: classes the detector confuses with each other
            (:mod:`bridge.class_evidence`): detections of one group whose
            boxes overlap by ``class_share_iou`` or more are one object of
            uncertain class, and each is grounded with their summed score
            (at most 1), so a figure scored 0.24 pedestrian and 0.27
            cyclist stays present as both. ``[]`` turns it off; never in
            oracle mode.
        class_share_iou: box overlap at which such detections are one object.
        track_coast: a track missed for a frame or two (occluded, a weak
            detection) is still grounded where its velocity predicts, its
            position uncertainty grown with the time unseen
            (``Tracker.coast``).
        motion_prior: bound how fast an object of unknown or only estimated
            motion may close in (:class:`bridge.motion_prior.MotionPrior`):
            a new track's time to collision is then read at the fastest
            closing its class and lane allow, instead of being uncertain.
            Off in oracle mode (true motion needs no bound).
        top_speeds_mps: class -> top speed over the ground, m/s (the prior's
            ``top_speeds``; a class left out is unbounded).
        one_way_lanes: vehicles and cyclists in a lane move its way or stand
            (the prior's ``one_way_lanes``).

    Example:
        >>> PipelineConfig(score_threshold=0.1).low
        0.25
    """

    rules: str = field(default="rules/traffic.rules", metadata={"path": "file"})
    weights: str | None = field(default=None, metadata={"path": "file"})
    calibration: str | None = field(default=None, metadata={"path": "file"})
    duplicate_iou: float = field(default=1.0, metadata={"range": (0.0, 1.0)})
    score_threshold: float = field(default=0.08, metadata={"range": (0.0, 1.0)})
    low: float = field(default=0.25, metadata={"range": (0.0, 1.0)})
    high: float = field(default=0.8, metadata={"range": (0.0, 1.0)})
    robust: bool = True
    repair: bool = False
    time_budget_ms: float = field(default=50.0, metadata={"range": (0.1, 60000.0)})
    near_radius_m: float = field(default=NEAR_RADIUS_M, metadata={"range": (0.0, 100.0)})
    batch_size: int = field(default=32, metadata={"range": (1, 4096)})
    precision: str = field(default="auto", metadata={"choices": ("auto", "float32", "bfloat16", "float16")})
    stream_precision: str = field(default="float32",
                                  metadata={"choices": ("auto", "float32", "bfloat16", "float16")})
    stream_threads: int = field(default=1, metadata={"range": (0, 256)})
    track_max_distance_m: float = field(default=4.0, metadata={"range": (0.1, 100.0)})
    track_max_misses: int = field(default=2, metadata={"range": (0, 1000)})
    track_window: int = field(default=5, metadata={"range": (2, 100)})
    track_speed_uncertainty: float = field(default=0.8, metadata={"range": (0.0, 60.0)})
    position_uncertainty_m: float = field(default=0.75, metadata={"range": (0.0, 10.0)})
    track_jitter_fraction: float = field(default=0.25, metadata={"range": (0.0, 1.0)})
    track_existence_window: int = field(default=3, metadata={"range": (1, 100)})
    track_coast: bool = True
    class_groups: list[list[str]] = field(default_factory=lambda: [list(g) for g in CONFUSABLE_CLASSES],
                                          metadata={"choices": CLASS_NAMES})
    class_share_iou: float = field(default=0.5, metadata={"range": (0.0, 1.0)})
    motion_prior: bool = True
    top_speeds_mps: dict[str, float] = field(default_factory=lambda: dict(TOP_SPEEDS_MPS),
                                             metadata={"keys": CLASS_NAMES, "range": (0.1, 200.0)})
    one_way_lanes: bool = True

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"`low` must be below `high`. Received: low={self.low}, high={self.high}")

    def rules_path(self) -> Path:
        """The rule file; a relative path not found here is looked up in the shipped ``configs/``."""
        path = Path(self.rules)
        if not path.is_absolute() and not path.exists() and (_CONFIGS / path).exists():
            return _CONFIGS / path
        return path


@dataclass
class FrameResult:
    """Everything the pipeline found in one frame.

    Attributes:
        name: the frame's name (image file or ``scene-<id>``).
        detections: what perception returned (after the score threshold).
        objects: the grounded objects (ego frame), ids matching the facts.
        facts: the frame's :class:`symbolic.reasoning.facts.FactBase`.
        graph: the frame's :class:`bridge.scene_graph.SceneGraph`.
        decision: the reasoner's :class:`symbolic.reasoning.decision.Decision`.
        timings_ms: stage -> milliseconds (``perception``, ``grounding``,
            ``reasoning``, ``planning`` with a planner, ``total``); batched
            stages are shared equally.
        frame: the input frame.
        plan: the planner's ``ManeuverPlan`` when the pipeline has a planner
            (its ``action`` is the maneuver's first step), else None.
        route: the route (:class:`symbolic.planning.routing.Route`) when the planner
            routes first (:class:`RouteStage`), else None.
        route_map: the :class:`symbolic.planning.roadnet.RoadNetwork` the route is on.
    """

    name: str
    detections: Any
    objects: list
    facts: Any
    graph: Any
    decision: Any
    timings_ms: dict[str, float]
    frame: Any = None
    plan: Any = None
    route: Any = None
    route_map: Any = None

    @property
    def action(self) -> str:
        return self.decision.action

    def to_json(self) -> dict:
        """One JSON line of ``nesy run``'s output."""
        frame = self.frame
        return {
            "frame": self.name,
            "episode_id": getattr(frame, "episode_id", None),
            "frame_index": getattr(frame, "frame_index", None),
            "time_s": getattr(frame, "time_s", None),
            "action": self.decision.action,
            "detections": self.detections.to_records(),
            "objects": [o.to_json() for o in self.objects],
            "facts": self.facts.to_json(),
            "decision": self.decision.to_json(),
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
            "plan": None if self.plan is None else self.plan.to_json(),
            "route": None if self.route is None else self.route.to_json(),
        }


class Pipeline:
    """Perception, grounding, (repair) and reasoning over frames.

    Args:
        detector: an object with ``predict(images, *, score_threshold,
            batch_size, precision) -> list[Detections]``
            (``perception.model.Detector``);
            may be None with ``oracle=True``.
        reasoner: a :class:`symbolic.reasoning.reasoner.Reasoner`.
        config: a :class:`PipelineConfig` (thresholds, tracker, repair).
        oracle: use each frame's ground truth instead of the detector.
        calibration: a :class:`bridge.calibration.ScoreCalibration` applied
            to every detection before grounding, or None (raw scores).
        planner: optional stage called as ``planner(result, reasoner)`` after
            each decision, returning a plan stored in ``result.plan`` (e.g.
            :class:`ManeuverStage`: a few seconds of actions toward a lane,
            every step checked against the rules).

    Example:
        >>> from symbolic.reasoning.reasoner import Reasoner
        >>> from perception.world import preset_config, generate_scene
        >>> pipeline = Pipeline(reasoner=Reasoner.from_file(PipelineConfig().rules_path()), oracle=True)
        >>> [result] = pipeline([generate_scene(preset_config("easy"), seed=1)])
        >>> result.action in pipeline.reasoner.ruleset.actions
        True
    """

    def __init__(self, detector=None, reasoner=None, *, config: PipelineConfig | None = None,
                 oracle: bool = False, planner=None, calibration=None):
        self.detector = detector
        self.reasoner = reasoner
        self.config = config if config is not None else PipelineConfig()
        self.oracle = oracle
        self.planner = planner
        self.calibration = calibration
        self.motion_prior = (MotionPrior(dict(self.config.top_speeds_mps), self.config.one_way_lanes)
                             if self.config.motion_prior and not oracle else None)

    @classmethod
    def from_config(cls, config="configs/drive.yaml", *, weights: str | None = None, oracle: bool = False,
                    **overrides) -> "Pipeline":
        """Build the pipeline an experiment file describes.

        Args:
            config: path of the experiment file, an ``ExperimentConfig`` or a
                :class:`PipelineConfig`.
            weights: a detector checkpoint overriding the config's.
            oracle: ground-truth perception; no detector is loaded.
            overrides: :class:`PipelineConfig` fields to replace, e.g. ``robust=False``.

        Raises:
            VocabularyError: a rule uses a predicate the grounding never produces.
        """
        from symbolic.reasoning.reasoner import Reasoner

        from bridge.vocabulary import check_rules_vocabulary

        settings = _pipeline_section(config)
        if overrides:
            settings = dataclasses.replace(settings, **overrides)
        reasoner = Reasoner.from_file(str(settings.rules_path()), robust=settings.robust, low=settings.low,
                                      high=settings.high, time_budget_ms=settings.time_budget_ms,
                                      repair=settings.repair)
        check_rules_vocabulary(reasoner.ruleset)
        if oracle:
            return cls(None, reasoner, config=settings, oracle=True)
        weights = weights or settings.weights or None
        detector = load_detector(weights)
        calibration = load_calibration(settings.calibration, weights) if settings.calibration else None
        return cls(detector, reasoner, config=settings, calibration=calibration)

    # ------------------------------------------------------------ public entry points

    def __call__(self, frames: Sequence, *, explain: bool = True, overlap: bool = False,
                 track: bool = False) -> list[FrameResult]:
        """Decide frames with perception batched; independently, or tracked when they are episodes in order.

        Frames go to the detector ``batch_size`` at a time. By default each
        frame stands alone: no object's motion is known, so every motion fact
        is uncertain and the robust reasoner covers any motion. With
        ``track=True`` the frames are consecutive frames of episodes, in time
        order: objects are tracked across them as in :meth:`stream` (the
        tracker restarts when ``episode_id`` changes or ``time_s`` goes back),
        so a track's motion is known after its first frames. With
        ``overlap=True`` the detector works on the next batch (in a second
        thread: torch releases the interpreter lock) while the current one is
        grounded and decided; on two busy cores that measured slower, so it
        is off by default.

        Args:
            frames: scenes or frames (see the module docstring).
            explain: compute why-not answers for rejected actions.
            overlap: run the next batch's perception while deciding.
            track: the frames are episodes in time order; track objects across them.

        Returns:
            One :class:`FrameResult` per frame, in order.
        """
        from concurrent.futures import ThreadPoolExecutor

        frames = list(frames)
        self._check_ready()
        size = self.config.batch_size
        batches = [frames[begin:begin + size] for begin in range(0, len(frames), size)]
        tracker = self._tracker() if track and not self.oracle else None
        previous = None
        results = []
        with ThreadPoolExecutor(max_workers=1) as worker:
            pending = worker.submit(self._timed_perceive, batches[0]) if batches else None
            for index, batch in enumerate(batches):
                detections, perception_ms = pending.result()
                if index + 1 < len(batches):
                    pending = worker.submit(self._timed_perceive, batches[index + 1])
                    if not overlap:
                        pending.result()
                with garbage_collection_paused():  # see the docstring: collections cost a sixth of a frame
                    for frame, frame_detections in zip(batch, detections):
                        if tracker is not None and not _continues(previous, frame):
                            tracker.reset()
                        previous = frame
                        if self.oracle:
                            ids, velocities = [o.id for o in frame.objects], grounding.scene_velocities(frame)
                        else:
                            ids, velocities = None, None
                        results.append(self._decide(frame, frame_detections, ids, velocities, perception_ms,
                                                    explain, tracker=tracker))
        return results

    def _timed_perceive(self, frames: list) -> tuple[list, float]:
        """Detections of ``frames`` and the milliseconds per frame they took."""
        start = time.perf_counter()
        detections = self._perceive(frames, self.config.precision)
        return detections, (time.perf_counter() - start) * 1000 / max(len(frames), 1)

    def stream(self, frames: Iterable, *, explain: bool = True) -> Iterator[FrameResult]:
        """Decide frame by frame (batch 1), tracking objects across each episode.

        The tracker restarts when a frame's ``episode_id`` differs from the
        previous frame's or its ``time_s`` goes back.

        Yields:
            One :class:`FrameResult` per frame, as soon as it is decided.
        """
        self._check_ready()
        tracker = self._tracker()
        previous = None
        for frame in frames:
            if not _continues(previous, frame):
                tracker.reset()
            previous = frame
            start = time.perf_counter()
            with torch_threads(self.config.stream_threads):
                [detections] = self._perceive([frame], self.config.stream_precision)
            perception_ms = (time.perf_counter() - start) * 1000
            if self.oracle:
                yield self._decide(frame, detections, [o.id for o in frame.objects],
                                   grounding.scene_velocities(frame), perception_ms, explain)
            else:
                yield self._decide(frame, detections, None, None, perception_ms, explain, tracker=tracker)

    # ------------------------------------------------------------ stages

    def _tracker(self) -> Tracker:
        return Tracker(max_distance_m=self.config.track_max_distance_m, max_misses=self.config.track_max_misses,
                       window=self.config.track_window, speed_uncertainty=self.config.track_speed_uncertainty,
                       jitter_fraction=self.config.track_jitter_fraction,
                       existence_window=self.config.track_existence_window, coast=self.config.track_coast)

    def _check_ready(self) -> None:
        if self.reasoner is None:
            raise ValueError("the pipeline has no reasoner. Pass `reasoner=Reasoner.from_file(...)` "
                             "or build it with Pipeline.from_config(...)")
        if self.detector is None and not self.oracle:
            raise ValueError("the pipeline has no detector. Pass `detector=...` or use `oracle=True`")

    def _perceive(self, frames: list, precision: str = "auto") -> list:
        if self.oracle:
            for frame in frames:
                if not hasattr(frame, "objects"):
                    raise ValueError(f"oracle mode needs ground truth, but frame {frame_name(frame)!r} has no objects")
            return [grounding.scene_detections(frame) for frame in frames]
        if not frames:
            return []
        detections = self.detector.predict(images_to_tensor([f.image for f in frames]),
                                           score_threshold=self.config.score_threshold,
                                           batch_size=self.config.batch_size, precision=precision)
        if self.calibration is not None:
            detections = [self.calibration.apply(d) for d in detections]
        if self.config.duplicate_iou < 1.0:
            detections = [suppress_duplicates(d, self.config.duplicate_iou) for d in detections]
        return detections

    def _decide(self, frame, detections, ids, velocities, perception_ms, explain, tracker=None) -> FrameResult:
        start = time.perf_counter()
        scored = detections
        if self.config.class_groups and not self.oracle:
            scored = share_class_evidence(detections, self.config.class_groups, self.config.class_share_iou)
        objects = grounding.detections_to_objects(
            scored, frame.calibration, ids=ids, velocities=velocities,
            position_uncertainty=0.0 if self.oracle else self.config.position_uncertainty_m)
        if tracker is not None:
            objects = tracker.update(objects, frame.ego, _time(frame))
        objects = [o for o in objects if not self.reasoner.reads_false(o.confidence)]   # absent: not grounded
        facts, graph = grounding.ground_objects(objects, frame.road, frame.ego,
                                                near_radius=self.config.near_radius_m,
                                                motion_prior=self.motion_prior)
        grounding_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        decision = self.reasoner.decide(facts, explain=explain)
        reasoning_ms = (time.perf_counter() - start) * 1000
        timings = {"perception": perception_ms, "grounding": grounding_ms, "reasoning": reasoning_ms}
        result = FrameResult(frame_name(frame), detections, objects, facts, graph, decision, timings, frame)
        if self.planner is not None:
            start = time.perf_counter()
            result.plan = self.planner(result, self.reasoner)
            timings["planning"] = (time.perf_counter() - start) * 1000
        timings["total"] = sum(timings.values())
        return result


class ManeuverStage:
    """A planner stage: plan each frame's maneuver toward a lane with :mod:`symbolic.planning.maneuver`.

    The frame's road becomes a ``RoadLayout`` of the lanes running the ego's
    way (the nearest governing stop line and crosswalk ahead included) and its
    objects ``TrackedObject`` records moving at their tracked velocity.

    Args:
        target_lane: the lane to reach, counted from 0 = the leftmost lane
            running the ego's way.
        horizon: steps to look ahead.
        step_s: seconds per step.

    Example:
        >>> from symbolic.reasoning.reasoner import Reasoner
        >>> from perception.world import generate_scene, preset_config
        >>> reasoner = Reasoner.from_file(PipelineConfig().rules_path())
        >>> pipeline = Pipeline(reasoner=reasoner, oracle=True, planner=ManeuverStage(target_lane=0))
        >>> [result] = pipeline([generate_scene(preset_config("easy"), seed=1)])
        >>> result.plan.action in reasoner.ruleset.actions
        True
    """

    def __init__(self, target_lane: int, *, horizon: int = 10, step_s: float = 0.5):
        self.target_lane = target_lane
        self.horizon = horizon
        self.step_s = step_s

    def __call__(self, result: FrameResult, reasoner):
        from symbolic.planning.maneuver import ManeuverPlanner, ManeuverState, ManeuverTarget

        from bridge.maneuver_facts import predicted_fact_list

        frame = result.frame
        layout, left_edge, ego_lane = road_layout(frame.road)
        if not 0 <= self.target_lane < layout.num_lanes:
            raise ValueError(f"`target_lane` must be in [0, {layout.num_lanes - 1}] for {frame_name(frame)} "
                             f"({layout.num_lanes} lanes run the ego's way). Received: target_lane={self.target_lane}")
        objects = [tracked_object(o, left_edge) for o in result.objects]
        planner = ManeuverPlanner(reasoner, layout, predict_facts=predicted_fact_list, horizon=self.horizon,
                                  step_s=self.step_s)
        return planner.plan(ManeuverState(lane=ego_lane, y=0.0, speed=float(frame.ego.speed)), objects,
                            ManeuverTarget(lane=self.target_lane))


class RouteStage(ManeuverStage):
    """A planner stage that routes first: plan the route on the frame's road map, then the maneuver it needs.

    Per frame, the frame's road becomes a road network
    (:func:`symbolic.planning.maneuver.road_for_layout`; built once per distinct road
    layout and kept for the next frames), a
    :class:`~symbolic.planning.routing.RoutePlanner` plans from the ego's lane node to
    ``destination``, and the lane the route needs next is the maneuver
    planner's target. The route is stored in ``result.route`` (its map in
    ``result.route_map``), the plan is returned (``result.plan``).

    Args:
        destination: the node to reach, or None for the default: the
            westbound road's end (``"W_end"``, a left turn) when the frame has
            a crossing ahead, else the far end of the ego's lane.
        horizon: steps to look ahead.
        step_s: seconds per step.

    Example:
        >>> from symbolic.reasoning.reasoner import Reasoner
        >>> from perception.world import generate_scene, preset_config
        >>> reasoner = Reasoner.from_file(PipelineConfig().rules_path())
        >>> pipeline = Pipeline(reasoner=reasoner, oracle=True, planner=RouteStage())
        >>> [result] = pipeline([generate_scene(preset_config("easy"), seed=1)])
        >>> result.route.length > 0, result.plan.action in reasoner.ruleset.actions
        (True, True)
    """

    def __init__(self, destination: str | None = None, *, horizon: int = 10, step_s: float = 0.5):
        if destination is not None and not isinstance(destination, str):
            raise TypeError(f"`destination` must be a node name (str) or None. Received: destination={destination!r}")
        super().__init__(target_lane=0, horizon=horizon, step_s=step_s)
        self.destination = destination
        self.networks_ = {}

    def network(self, layout):
        """The fitted route planner of ``layout``'s road network (built once per layout)."""
        from symbolic.planning.maneuver import road_for_layout
        from symbolic.planning.routing import RoutePlanner

        if layout not in self.networks_:
            if len(self.networks_) >= 64:
                self.networks_.pop(next(iter(self.networks_)))
            ahead = 0.0 if layout.stop_line_y is None else layout.stop_line_y
            length = max(200.0, 10.0 * math.ceil((ahead + 150.0) / 10.0))
            self.networks_[layout] = RoutePlanner().fit(road_for_layout(layout, length=length))
        return self.networks_[layout]

    def __call__(self, result: FrameResult, reasoner):
        from symbolic.planning.maneuver import ManeuverPlanner, ManeuverState, route_and_target

        from bridge.maneuver_facts import predicted_fact_list

        frame = result.frame
        layout, left_edge, ego_lane = road_layout(frame.road)
        router = self.network(layout)
        destination = self.destination or default_destination(router.road_, ego_lane)
        if destination not in router.road_.graph:
            raise ValueError(f"`destination` {destination!r} is not a node of the road map of {frame_name(frame)} "
                             f"(e.g. 'W_end', 'E_end' or a lane's last node)")
        route, target = route_and_target(router, ego_lane, 0.0, destination)
        result.route, result.route_map = route, router.road_
        objects = [tracked_object(o, left_edge) for o in result.objects]
        planner = ManeuverPlanner(reasoner, layout, predict_facts=predicted_fact_list, horizon=self.horizon,
                                  step_s=self.step_s)
        return planner.plan(ManeuverState(lane=ego_lane, y=0.0, speed=float(frame.ego.speed)), objects, target)


def default_destination(road, ego_lane: int) -> str:
    """Where a frame's route goes by default: ``"W_end"`` (left at the crossing) if any, else the ego lane's end.

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> default_destination(straight_road(num_lanes=2, crossing_at=100.0), 1)
        'W_end'
        >>> default_destination(straight_road(num_lanes=2, length=50, crossing_at=None), 1)
        'L1_5'
    """
    if "W_end" in road.graph:
        return "W_end"
    return max((a["y"], n) for n, a in road.graph.nodes(data=True) if a.get("lane") == ego_lane)[1]


def road_layout(road):
    """The planner's view of a road map: ``(RoadLayout, left edge x, ego lane index)``.

    Lanes are the ones running the ego's way, numbered from 0 on the left;
    the left edge is their left border in ego-frame metres.

    Example:
        >>> from perception.world import Lane, RoadMap
        >>> road = RoadMap([Lane(0, -3.5, 3.5, -1, 13.9), Lane(1, 0.0, 3.5, 1, 13.9), Lane(2, 3.5, 3.5, 1, 13.9)], 1)
        >>> layout, left_edge, ego_lane = road_layout(road)
        >>> layout.num_lanes, left_edge, ego_lane
        (2, -1.75, 0)
    """
    from symbolic.planning.maneuver import RoadLayout

    ego = next(lane for lane in road.lanes if lane.index == road.ego_lane)
    lanes = sorted((lane for lane in road.lanes if lane.direction == ego.direction), key=lambda lane: lane.center_x)
    stops = [line.y for line in road.stop_lines if road.ego_lane in tuple(line.lanes) and line.y > 0]
    crossings = [(c.y_min, c.y_max) for c in road.crosswalks if c.y_max > 0]
    layout = RoadLayout(num_lanes=len(lanes), lane_width=float(ego.width), speed_limit=float(ego.speed_limit),
                        stop_line_y=min(stops) if stops else None, crosswalk=min(crossings) if crossings else None)
    return layout, lanes[0].x_min, lanes.index(ego)


def tracked_object(obj, left_edge: float):
    """An :class:`bridge.grounding.ObjectState` as the planner's ``TrackedObject`` (road frame)."""
    from symbolic.planning.maneuver import TrackedObject

    vx, vy = obj.velocity if obj.velocity is not None else (0.0, 0.0)
    states = obj.attributes.get("light_state") or {}
    light = max(states, key=states.get) if states else None
    return TrackedObject(obj.id, obj.label, x=obj.position[0] - left_edge, y=obj.position[1], vx=vx, vy=vy,
                         length=obj.size[0], width=obj.size[1], light=light, confidence=obj.confidence)


# ---------------------------------------------------------------- helpers

def load_detector(weights: str | None = None):
    """The shipped detector, or the checkpoint at ``weights``."""
    from perception.model import Detector

    if weights:
        return Detector.load(weights)
    return Detector.load_default()


@contextlib.contextmanager
def garbage_collection_paused():
    """Run the block with Python's cyclic garbage collector paused, restoring its state after.

    Grounding and deciding a frame allocate hundreds of small objects
    (facts, graph nodes, terms); the collector then runs many times per
    batch, and now and then a full collection over everything the batch's
    results hold (measured: 1 ms of CPU per frame on average, single pauses
    of over 100 ms that ran past the reasoner's time budget). Batched mode
    pauses it while a batch is grounded and decided: the frames free their
    temporaries by reference counting, and the collector catches up when
    the batch is done. Memory is bounded by one batch.

    Example:
        >>> import gc
        >>> with garbage_collection_paused():
        ...     gc.isenabled()
        False
        >>> gc.isenabled()
        True
    """
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def torch_threads(num_threads: int):
    """Run the block with ``num_threads`` torch threads (0: unchanged), restoring the setting after.

    Example:
        >>> import torch
        >>> before = torch.get_num_threads()
        >>> with torch_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    if not num_threads:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def weights_path(weights: str | None = None) -> Path:
    """The checkpoint file ``load_detector(weights)`` reads."""
    if weights:
        return Path(weights)
    from perception.model import DEFAULT_WEIGHTS

    return Path(DEFAULT_WEIGHTS)


def load_calibration(path: str, weights: str | None = None):
    """The score calibration at ``path`` if it was fitted for this checkpoint, else None (with a warning)."""
    import sys

    from bridge.calibration import ScoreCalibration, file_sha256

    calibration = ScoreCalibration.load(path)
    checkpoint = weights_path(weights)
    if calibration.weights_sha256 and checkpoint.is_file() and file_sha256(checkpoint) != calibration.weights_sha256:
        print(f"nesy: warning: {path} was fitted for another checkpoint than {checkpoint}; detector scores are "
              f"used uncalibrated (refit with 'nesy calibrate')", file=sys.stderr)
        return None
    return calibration


def suppress_duplicates(detections, iou_threshold: float = 0.5):
    """Keep the more confident of detections overlapping by ``iou_threshold`` or more, whatever their class.

    A detector may fire two classes on one object (a pedestrian on a stop
    sign); the object has one class.

    Returns:
        :class:`perception.detections.Detections`, the kept rows in score order.

    Example:
        >>> import torch
        >>> from perception.detections import Detections
        >>> d = Detections(torch.tensor([[0., 0., 10., 10.], [1., 0., 10., 10.], [20., 20., 30., 30.]]),
        ...                torch.tensor([5, 2, 0]), torch.tensor([0.9, 0.4, 0.8]), ("car", "b", "pedestrian", "c", "d", "stop_sign"))
        >>> suppress_duplicates(d).label_names()
        ['stop_sign', 'car']
    """
    from torchvision.ops import nms

    if len(detections) < 2:
        return detections
    keep = nms(detections.boxes.float(), detections.scores.float(), iou_threshold)
    return detections.select(keep)


def images_to_tensor(images: Sequence):
    """(H, W, 3) uint8 arrays to one float tensor (B, 3, H, W) in [0, 1].

    Example:
        >>> import numpy as np
        >>> images_to_tensor([np.zeros((4, 6, 3), np.uint8)]).shape
        torch.Size([1, 3, 4, 6])
    """
    import numpy as np
    import torch

    batch = torch.from_numpy(np.stack([np.asarray(image) for image in images]))  # (B, H, W, 3) uint8
    return batch.permute(0, 3, 1, 2).float().div_(255.0)  # channels_last memory, as the detector runs


def frame_name(frame) -> str:
    """A frame's display name: its ``name`` or ``file_name``, else ``scene-<image_id>``.

    Example:
        >>> from types import SimpleNamespace
        >>> frame_name(SimpleNamespace(image_id=7)), frame_name(SimpleNamespace(file_name="images/a.png"))
        ('scene-7', 'images/a.png')
    """
    for attribute in ("name", "file_name"):
        value = getattr(frame, attribute, None)
        if value:
            return str(value)
    return f"scene-{getattr(frame, 'image_id', 0)}"


def _time(frame) -> float:
    return float(getattr(frame, "time_s", 0.0) or 0.0)


def _continues(previous, frame) -> bool:
    """Whether ``frame`` follows ``previous`` in the same episode (the tracker keeps its tracks)."""
    return previous is not None and getattr(frame, "episode_id", None) == getattr(previous, "episode_id", None) \
        and _time(frame) >= _time(previous)


def _pipeline_section(config) -> PipelineConfig:
    if isinstance(config, PipelineConfig):
        return config
    if isinstance(config, (str, Path)):
        from bridge.experiment import load_config

        config = load_config(config)
    section = getattr(config, "pipeline", None)
    if not isinstance(section, PipelineConfig):
        raise TypeError(f"`config` must be an experiment file, an ExperimentConfig or a PipelineConfig. "
                        f"Received {type(config).__name__}")
    return section
