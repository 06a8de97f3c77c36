"""The end-to-end pipeline: frames -> detections -> objects -> facts -> decision (-> plans).

::

    pipeline = Pipeline.from_config("configs/drive.yaml")
    results = pipeline(scenes)                 # batched, frames independent
    for result in pipeline.stream(episode):    # frame by frame, with the tracker
        print(result.decision.action)

Frames are described in :mod:`bridge.frames`. Every stage is a public object
with a small interface, built by :meth:`Pipeline.from_config` and replaceable
one by one::

    Pipeline(perception=..., postprocess=..., tracker=..., grounder=..., reasoner=..., planners=[...], config=...)

- ``perception``: ``detect(frames, *, precision) -> list[Detections]``
  (:mod:`bridge.perception_stage`; a bare detector is wrapped in
  :class:`~bridge.perception_stage.DetectorPerception`);
- ``postprocess``: ``clean(detections)`` and ``share(detections)``
  (:class:`bridge.postprocess.PostProcess`);
- ``tracker``: ``reset()`` and ``update(objects, ego, time_s) -> objects``
  (:class:`bridge.tracker.Tracker`; used when streaming or with ``track=True``);
- ``grounder``: ``locate(detections, frame) -> objects`` and
  ``ground(objects, frame) -> (facts, scene_graph)``
  (:class:`bridge.grounding.DrivingGrounder`);
- ``reasoner``: a :class:`symbolic.reasoning.reasoner.Reasoner`;
- ``planners``: callables ``planner(result, reasoner) -> plan`` run after
  each decision (:mod:`bridge.planning`).

With ``oracle=True`` perception is the ground truth
(:class:`~bridge.perception_stage.OraclePerception`: true boxes, labels,
score 1, one-hot light states, true motion), with no calibration, duplicate
suppression, class sharing, tracker or motion prior: what the rules decide
with a perfect eye, for rule authors.

Before its first timed frame a pipeline warms up (:meth:`Pipeline.warm_up`):
the first frame goes once through every stage, untimed, and is forgotten, so
the detector's first forward pass, z3's first queries and the planners'
first road network are start-up, not the latency of frame 0.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

import torch

from symbolic.reasoning.reasoner import Reasoner

from bridge.conformal import ConformalCalibration
from bridge.experiment import PipelineConfig, pipeline_config
from bridge.frames import continues_episode, frame_name, frame_time
from bridge.grounding import DrivingGrounder
from bridge.motion_prior import MotionPrior
from bridge.perception_stage import DetectorPerception, OraclePerception, load_detector, weights_path
from bridge.postprocess import PostProcess, load_calibration
from bridge.tracker import Tracker
from bridge.vocabulary import check_detector_classes, check_rules_vocabulary

STAGES = ("perception", "grounding", "reasoning")


@dataclass
class FrameResult:
    """Everything the pipeline found in one frame.

    Attributes:
        name: the frame's name (image file or ``scene-<id>``).
        detections: what perception returned (after the score threshold),
            calibrated and without duplicates (``PostProcess.clean``).
        objects: the grounded objects (ego frame), ids matching the facts.
        facts: the frame's :class:`symbolic.reasoning.facts.FactBase`.
        graph: the frame's :class:`bridge.scene_graph.SceneGraph`.
        decision: the reasoner's :class:`symbolic.reasoning.decision.Decision`.
        timings_ms: stage -> milliseconds (``perception``, ``grounding``,
            ``reasoning``, ``planning`` with a planner, ``total``); batched
            stages are shared equally.
        frame: the input frame.
        plan: the plan the pipeline's planners returned (the last one's, e.g.
            a ``ManeuverPlan`` whose ``action`` is the maneuver's first step),
            else None.
        route: the route (:class:`symbolic.planning.routing.Route`) when a planner
            routes first (:class:`bridge.planning.RouteStage`), else None.
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
    """Perception, post-processing, tracking, grounding, (repair) reasoning and planning over frames.

    Args:
        perception: a perception stage (``detect(frames, *, precision)``,
            :mod:`bridge.perception_stage`) or a bare detector (anything with
            ``predict``, e.g. :class:`perception.model.Detector`: wrapped in
            :class:`~bridge.perception_stage.DetectorPerception` with the
            config's ``score_threshold``, ``batch_size`` and
            ``position_uncertainty_m``). None with ``oracle=True``.
        postprocess: a :class:`bridge.postprocess.PostProcess`; by default
            the config's duplicate suppression and class groups, no calibration.
        tracker: a :class:`bridge.tracker.Tracker` (streaming and
            ``track=True``); by default built from the config's ``track_*``
            settings (:func:`default_tracker`).
        grounder: a grounder (``locate``, ``ground``); by default a
            :class:`bridge.grounding.DrivingGrounder` with the config's
            ``near_radius_m`` and motion prior.
        reasoner: a :class:`symbolic.reasoning.reasoner.Reasoner`.
        planners: stages called in order after each decision as
            ``planner(result, reasoner)``; the last one's return value is
            ``result.plan`` (e.g. :class:`bridge.planning.ManeuverStage`: a
            few seconds of actions toward a lane, every step checked against
            the rules).
        config: a :class:`bridge.experiment.PipelineConfig` (thresholds,
            batch sizes, precision, and the defaults of the stages not given).
        oracle: perception is each frame's ground truth; the stages not given
            are the oracle's (no calibration, duplicate suppression, class
            sharing, tracker or motion prior).

    Example:
        >>> from symbolic.reasoning.reasoner import Reasoner
        >>> from perception.world import preset_config, generate_scene
        >>> pipeline = Pipeline(reasoner=Reasoner.from_file(PipelineConfig().rules_path()), oracle=True)
        >>> [result] = pipeline([generate_scene(preset_config("easy"), seed=1)])
        >>> result.action in pipeline.reasoner.ruleset.actions
        True
    """

    def __init__(self, *, perception=None, postprocess: PostProcess | None = None, tracker=None, grounder=None,
                 reasoner=None, planners: Sequence = (), config: PipelineConfig | None = None, oracle: bool = False):
        config = config if config is not None else PipelineConfig()
        if oracle and perception is not None:
            raise ValueError("pass `perception=` or `oracle=True`, not both")
        if oracle:
            perception = OraclePerception()
        elif perception is not None and not hasattr(perception, "detect"):
            perception = DetectorPerception(perception, config.score_threshold, config.batch_size,
                                            config.position_uncertainty_m, config.class_position_uncertainty_m,
                                            config.velocity_uncertainty_scale)
        if postprocess is None:
            postprocess = PostProcess() if oracle else PostProcess(
                duplicate_iou=config.duplicate_iou, class_groups=config.class_groups,
                class_share_iou=config.class_share_iou)
        if tracker is None and not oracle:
            tracker = default_tracker(config)
        if grounder is None:
            prior = MotionPrior(dict(config.top_speeds_mps), config.one_way_lanes) \
                if config.motion_prior and not oracle else None
            grounder = DrivingGrounder(config.near_radius_m, motion_prior=prior)
        self.perception = perception
        self.postprocess = postprocess
        self.tracker = tracker
        self.grounder = grounder
        self.reasoner = reasoner
        self.planners = list(planners)
        self.config = config
        self.warmed_up_: set[str] = set()   # the modes ("stream", "batch") warmed up

    @property
    def oracle(self) -> bool:
        """Perception is the ground truth (:class:`~bridge.perception_stage.OraclePerception`)."""
        return isinstance(self.perception, OraclePerception)

    @classmethod
    def from_config(cls, config="drive", *, weights: str | None = None, oracle: bool = False,
                    planners: Sequence = (), **overrides) -> "Pipeline":
        """Build the pipeline an experiment file describes.

        Args:
            config: path of the experiment file, the name of a shipped one
                (default ``drive``), an ``ExperimentConfig`` or a
                :class:`~bridge.experiment.PipelineConfig`.
            weights: a detector checkpoint overriding the config's.
            oracle: ground-truth perception; no detector is loaded.
            planners: planner stages (:mod:`bridge.planning`).
            overrides: :class:`~bridge.experiment.PipelineConfig` fields to
                replace, e.g. ``robust=False``.

        Raises:
            VocabularyError: a rule uses a predicate the grounding never produces,
                or the detector reports a class the rules do not know.
        """
        settings = pipeline_config(config)
        if overrides:
            settings = dataclasses.replace(settings, **overrides)
        if settings.conformal and not oracle:
            settings = with_conformal(settings, ConformalCalibration.load(settings.conformal))
        reasoner = Reasoner.from_file(str(settings.rules_path()), robust=settings.robust, low=settings.low,
                                      high=settings.high, time_budget_ms=settings.time_budget_ms,
                                      repair=settings.repair)
        check_rules_vocabulary(reasoner.ruleset)
        if oracle:
            return cls(reasoner=reasoner, planners=planners, config=settings, oracle=True)
        weights = weights or settings.weights or None
        detector = load_detector(weights)
        check_detector_classes(detector.class_names, reasoner.ruleset, detector=str(weights_path(weights)))
        calibration = load_calibration(settings.calibration, weights) if settings.calibration else None
        postprocess = PostProcess(calibration, settings.duplicate_iou, settings.class_groups, settings.class_share_iou)
        return cls(perception=detector, postprocess=postprocess, reasoner=reasoner, planners=planners,
                   config=settings)

    # ------------------------------------------------------------ public entry points

    def __call__(self, frames: Sequence, *, explain: bool = True, overlap: bool = False,
                 track: bool = False, warm_up: bool = True) -> list[FrameResult]:
        """Decide frames with perception batched; independently, or tracked when they are episodes in order.

        Frames go to perception ``batch_size`` at a time. By default each
        frame stands alone: no object's motion is known (unless perception
        reports it), so every motion fact is uncertain and the robust
        reasoner covers any motion. With ``track=True`` the frames are
        consecutive frames of episodes, in time order: objects are tracked
        across them as in :meth:`stream` (the tracker restarts when
        ``episode_id`` changes or ``time_s`` goes back), so a track's motion
        is known after its first frames. With ``overlap=True`` perception
        works on the next batch (in a second thread: torch releases the
        interpreter lock) while the current one is grounded and decided; on
        two busy cores that measured slower, so it is off by default.

        Args:
            frames: scenes or frames (see :mod:`bridge.frames`).
            explain: compute why-not answers for rejected actions.
            overlap: run the next batch's perception while deciding.
            track: the frames are episodes in time order; track objects across them.
            warm_up: first run the first frame once through every stage,
                untimed (:meth:`warm_up`; once per pipeline and mode).

        Returns:
            One :class:`FrameResult` per frame, in order.
        """
        frames = list(frames)
        self._check_ready()
        if warm_up and frames:
            self.warm_up(frames[0], mode="batch")
        size = self.config.batch_size
        batches = [frames[begin:begin + size] for begin in range(0, len(frames), size)]
        tracker = self.tracker if track else None
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
                with garbage_collection_paused():  # see its docstring: collections cost a sixth of a frame
                    for frame, frame_detections in zip(batch, detections):
                        if tracker is not None and not continues_episode(previous, frame):
                            tracker.reset()
                        previous = frame
                        results.append(self.decide(frame, frame_detections, explain=explain, tracker=tracker,
                                                   perception_ms=perception_ms))
        return results

    def stream(self, frames: Iterable, *, explain: bool = True, warm_up: bool = True) -> Iterator[FrameResult]:
        """Decide frame by frame (batch 1), tracking objects across each episode.

        The tracker restarts when a frame's ``episode_id`` differs from the
        previous frame's or its ``time_s`` goes back. One stream at a time
        uses the pipeline's tracker.

        Args:
            frames: scenes or frames (see :mod:`bridge.frames`), any iterable.
            explain: compute why-not answers for rejected actions.
            warm_up: first run the first frame once through every stage,
                untimed (:meth:`warm_up`; once per pipeline and mode).

        Yields:
            One :class:`FrameResult` per frame, as soon as it is decided.
        """
        self._check_ready()
        frames = iter(frames)
        first = next(frames, None)
        if first is None:
            return
        if warm_up:
            self.warm_up(first, mode="stream")
        tracker = self.tracker
        previous = None
        for frame in itertools.chain([first], frames):
            if tracker is not None and not continues_episode(previous, frame):
                tracker.reset()
            previous = frame
            start = time.perf_counter()
            with torch_threads(self.config.stream_threads):
                [detections] = self.perceive([frame], precision=self.config.stream_precision)
            perception_ms = (time.perf_counter() - start) * 1000
            yield self.decide(frame, detections, explain=explain, tracker=tracker, perception_ms=perception_ms)

    def warm_up(self, frame, *, mode: str = "batch") -> None:
        """Run ``frame`` once through every stage, untimed, and forget it.

        The first pass through a stage pays its start-up: the detector's first
        forward pass (kernels chosen, buffers allocated), the reasoner's first
        queries, a planner's first road network. :meth:`stream` and
        :meth:`__call__` call this before their first timed frame, so those
        costs are not counted as frame 0's latency. Nothing is kept: the
        tracker is reset, and a multi-frame perception stage forgets the frame
        (``history_``). Once per pipeline and mode; later calls return at once.

        Args:
            frame: a frame like the ones to come (the first of them).
            mode: ``"stream"`` (perception of the one frame at the config's
                ``stream_precision`` and ``stream_threads``, as :meth:`stream`
                runs it) or ``"batch"`` (a full batch of copies of it at its
                ``precision``, as :meth:`__call__` runs it).

        Raises:
            ValueError: ``mode`` is neither.

        Example:
            >>> from symbolic.reasoning.reasoner import Reasoner
            >>> from perception.world import preset_config, generate_scene
            >>> pipeline = Pipeline(reasoner=Reasoner.from_file(PipelineConfig().rules_path()), oracle=True)
            >>> pipeline.warm_up(generate_scene(preset_config("easy"), seed=1))
            >>> sorted(pipeline.warmed_up_)
            ['batch']
        """
        if mode not in ("stream", "batch"):
            raise ValueError(f"`mode` must be 'stream' or 'batch'. Received: mode={mode!r}")
        self._check_ready()
        if mode in self.warmed_up_:
            return
        streaming = mode == "stream"
        precision = self.config.stream_precision if streaming else self.config.precision
        batch = [frame] if streaming else [frame] * self.config.batch_size   # the shapes the timed frames will have
        with torch_threads(self.config.stream_threads if streaming else 0):
            detections = self.perceive(batch, precision=precision)[0]
        if self.tracker is not None:
            self.tracker.reset()
        self.decide(frame, detections, tracker=self.tracker)
        if self.tracker is not None:
            self.tracker.reset()
        history = getattr(self.perception, "history_", None)
        if isinstance(history, list):
            history.clear()
        self.warmed_up_.add(mode)

    # ------------------------------------------------------------ the two halves of a frame

    def perceive(self, frames: Sequence, *, precision: str = "auto") -> list:
        """Perception and the post-processing that gives each frame's reported detections (``PostProcess.clean``).

        Returns:
            One :class:`~perception.detections.Detections` per frame.
        """
        return [self.postprocess.clean(d) for d in self.perception.detect(list(frames), precision=precision)]

    def decide(self, frame, detections, *, explain: bool = True, tracker=None,
               perception_ms: float = 0.0) -> FrameResult:
        """Ground and decide one frame from its perceived detections (:meth:`perceive`).

        Class evidence is shared (``PostProcess.share``), the detections are
        located (``grounder.locate``), tracked when ``tracker`` is given, the
        objects the reasoner reads as absent are dropped, the rest grounded
        (``grounder.ground``) and decided; then the planners run.

        Args:
            frame: the frame.
            detections: its detections from :meth:`perceive`.
            explain: compute why-not answers.
            tracker: a tracker following the frame's episode, or None.
            perception_ms: the perception time to record for the frame.
        """
        start = time.perf_counter()
        objects = self.grounder.locate(self.postprocess.share(detections), frame)
        if tracker is not None:
            objects = tracker.update(objects, frame.ego, frame_time(frame))
        objects = [o for o in objects if not self.reasoner.reads_false(o.confidence)]   # absent: not grounded
        facts, graph = self.grounder.ground(objects, frame)
        grounding_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        decision = self.reasoner.decide(facts, explain=explain)
        reasoning_ms = (time.perf_counter() - start) * 1000
        timings = {"perception": perception_ms, "grounding": grounding_ms, "reasoning": reasoning_ms}
        result = FrameResult(frame_name(frame), detections, objects, facts, graph, decision, timings, frame)
        if self.planners:
            start = time.perf_counter()
            for planner in self.planners:
                result.plan = planner(result, self.reasoner)
            timings["planning"] = (time.perf_counter() - start) * 1000
        timings["total"] = sum(timings.values())
        return result

    def _timed_perceive(self, frames: list) -> tuple[list, float]:
        """Detections of ``frames`` and the milliseconds per frame they took."""
        start = time.perf_counter()
        detections = self.perceive(frames, precision=self.config.precision)
        return detections, (time.perf_counter() - start) * 1000 / max(len(frames), 1)

    def _check_ready(self) -> None:
        if self.reasoner is None:
            raise ValueError("the pipeline has no reasoner. Pass `reasoner=Reasoner.from_file(...)` "
                             "or build it with Pipeline.from_config(...)")
        if self.perception is None:
            raise ValueError("the pipeline has no perception (no detector). Pass `perception=...` "
                             "(a Detector or a perception stage) or use `oracle=True`")


def default_tracker(config: PipelineConfig) -> Tracker:
    """The tracker a pipeline with ``config`` streams with (its ``track_*`` settings).

    Example:
        >>> default_tracker(PipelineConfig(track_window=4)).window
        4
    """
    return Tracker(max_distance_m=config.track_max_distance_m, max_misses=config.track_max_misses,
                   window=config.track_window, speed_uncertainty=config.track_speed_uncertainty,
                   jitter_fraction=config.track_jitter_fraction, existence_window=config.track_existence_window,
                   coast=config.track_coast, class_speed_uncertainty_scale=config.class_speed_uncertainty_scale,
                   top_speeds=config.top_speeds_mps if config.motion_prior else None, memory_s=config.track_memory_s)


def with_conformal(config: PipelineConfig, table: ConformalCalibration) -> PipelineConfig:
    """``config`` with a conformal table's per-class radii and speed scales for the classes it leaves out.

    Example:
        >>> from bridge.conformal import ConformalCalibration
        >>> table = ConformalCalibration(0.995, {"car": 1.2, "truck": 2.9}, {"car": 1.4})
        >>> settings = with_conformal(PipelineConfig(class_position_uncertainty_m={"truck": 2.5}), table)
        >>> settings.class_position_uncertainty_m, settings.class_speed_uncertainty_scale
        ({'car': 1.2, 'truck': 2.5}, {'car': 1.4})
    """
    return dataclasses.replace(
        config,
        class_position_uncertainty_m={**table.position_radius_m, **config.class_position_uncertainty_m},
        class_speed_uncertainty_scale={**table.speed_uncertainty_scale, **config.class_speed_uncertainty_scale})


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
    previous = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
