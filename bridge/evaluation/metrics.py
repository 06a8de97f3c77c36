"""How well the whole loop decides: agreement, unsafe decisions, their causes, latency.

On generated scenes the ground truth is known, so every frame can be judged
against the action the *same rules* choose on the ground-truth facts
(:func:`bridge.ground_truth.ground_truth_facts`):

- **agreement**: the pipeline's action equals that action;
- **balanced agreement**: the mean over true actions of the share of their
  frames the pipeline got right (per-action recall): agreement alone
  rewards always stopping when stopping is common;
- **unsafe**: the pipeline's action breaks a hard rule under the
  ground-truth facts (``Reasoner.violations``);
- **causes**: the perception errors of a disagreeing frame (missed, false or
  mislabelled objects, wrong light states), those involved in the rules that
  fired first;
- **latency**: per stage p50/p99 and frames per second.

:mod:`bridge.evaluation.localization` measures how far the detector's boxes
and the tracker's closing speeds are off.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from torchvision.ops import box_iou

from perception.files import write_atomic
from symbolic.reasoning.reasoner import Reasoner

from bridge.ground_truth import ground_truth_facts
from bridge.pipeline import STAGES, FrameResult
from bridge.vocabulary import LIGHT_STATES

ERROR_KINDS = ("missed", "false", "mislabelled", "wrong_light")


@dataclass(frozen=True)
class PerceptionError:
    """One thing perception got wrong in a frame.

    Args:
        kind: ``"missed"``, ``"false"``, ``"mislabelled"`` or ``"wrong_light"``.
        truth_id: the ground-truth object's id ("" for a false detection).
        detected_id: the pipeline's object id ("" for a missed object).
        label: the true label (the detected one for a false detection).
        detail: e.g. ``"car seen as truck"`` or ``"red seen as green"``.
        relevant: the object took part in a rule that fired.

    Example:
        >>> PerceptionError("missed", "o3", "", "pedestrian").to_json()["kind"]
        'missed'
    """

    kind: str
    truth_id: str
    detected_id: str
    label: str
    detail: str = ""
    relevant: bool = False

    def to_json(self) -> dict:
        return {"kind": self.kind, "truth_id": self.truth_id, "detected_id": self.detected_id,
                "label": self.label, "detail": self.detail, "relevant": self.relevant}


@dataclass
class FrameEvaluation:
    """The judgement of one frame.

    Attributes:
        name: the frame's name.
        action: the pipeline's action.
        truth_action: the action the rules choose on the ground-truth facts.
        unsafe: hard rule instances the pipeline's action breaks under the ground truth.
        errors: the frame's perception errors.
        timings_ms: the pipeline's stage timings.
        fallback: the pipeline returned the safe fallback.
        frame_index: position in its episode (0: the tracker has no history yet).
        judged: False for a warm-up frame (sensor history before the
            episode's first judged frame): reported apart, in the
            every-frame figures only.
        episode_id: the frame's episode (None for an independent scene).
    """

    name: str
    action: str
    truth_action: str
    unsafe: list[str] = field(default_factory=list)
    errors: list[PerceptionError] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    fallback: bool = False
    frame_index: int = 0
    judged: bool = True
    episode_id: int | None = None

    @property
    def agrees(self) -> bool:
        return self.action == self.truth_action

    def causes(self) -> list[PerceptionError]:
        """The errors behind a disagreement: the relevant ones, else all of them."""
        relevant = [e for e in self.errors if e.relevant]
        return relevant or list(self.errors)

    def to_json(self) -> dict:
        return {"frame": self.name, "episode_id": self.episode_id, "frame_index": self.frame_index,
                "judged": self.judged,
                "action": self.action, "truth_action": self.truth_action, "agrees": self.agrees, "unsafe": list(self.unsafe), "fallback": self.fallback,
                "errors": [e.to_json() for e in self.errors],
                "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()}}


@dataclass
class PipelineMetrics:
    """The figures over many frames.

    Decision figures are over the *judged* frames; warm-up frames (sensor
    history, ``FrameEvaluation.judged`` False) count only in the
    ``*_every_frame`` figures, which are over every frame.

    Args:
        frames: one :class:`FrameEvaluation` per frame.
        actions: the rule file's actions, in order (rows/columns of the confusion matrix).
        wall_s: seconds the pipeline itself ran (for frames per second).
        mode: ``"stream"`` or ``"batch"``.

    Example:
        >>> frames = [FrameEvaluation("a", "stop", "stop"), FrameEvaluation("b", "stop", "stop"),
        ...           FrameEvaluation("c", "stop", "stop"), FrameEvaluation("d", "stop", "go"),
        ...           FrameEvaluation("e", "go", "go", judged=False)]
        >>> metrics = PipelineMetrics(frames, actions=("stop", "go"), wall_s=1.0)
        >>> metrics.agreement, metrics.balanced_agreement, metrics.recall()
        (0.75, 0.5, {'stop': 1.0, 'go': 0.0})
        >>> metrics.agreement_every_frame, metrics.num_frames, metrics.num_warmup
        (0.8, 4, 1)
        >>> metrics.confusion()
        [[3, 0], [1, 0]]
    """

    frames: list[FrameEvaluation]
    actions: Sequence[str]
    wall_s: float = 0.0
    mode: str = "stream"

    @property
    def judged_frames(self) -> list[FrameEvaluation]:
        """The frames the decision figures are over (warm-up frames left out)."""
        return [f for f in self.frames if f.judged]

    @property
    def num_frames(self) -> int:
        """Judged frames."""
        return sum(f.judged for f in self.frames)

    @property
    def num_warmup(self) -> int:
        """Warm-up frames the pipeline saw but the decision figures leave out."""
        return len(self.frames) - self.num_frames

    @property
    def agreement(self) -> float:
        """Share of judged frames whose action equals the ground-truth action."""
        return _agreement(self.judged_frames)

    @property
    def agreement_every_frame(self) -> float:
        """Agreement over every frame, warm-up frames included."""
        return _agreement(self.frames)

    @property
    def agreement_with_history(self) -> float:
        """Agreement over judged frames after the first of their episode (motion already tracked)."""
        return _agreement([f for f in self.judged_frames if f.frame_index > 0])

    def recall(self, *, every_frame: bool = False) -> dict[str, float]:
        """True action -> share of its frames the pipeline decided the same, for each action that is ever true."""
        frames = self.frames if every_frame else self.judged_frames
        truths = Counter(f.truth_action for f in frames)
        right = Counter(f.truth_action for f in frames if f.agrees)
        return {a: right[a] / truths[a] for a in self.actions if truths[a]}

    @property
    def balanced_agreement(self) -> float:
        """Mean of :meth:`recall` over the true actions (judged frames): each action counts alike."""
        recall = self.recall()
        return sum(recall.values()) / len(recall) if recall else 0.0

    @property
    def balanced_agreement_every_frame(self) -> float:
        """Balanced agreement over every frame, warm-up frames included."""
        recall = self.recall(every_frame=True)
        return sum(recall.values()) / len(recall) if recall else 0.0

    @property
    def num_unsafe(self) -> int:
        """Judged frames whose action breaks a hard rule under the ground-truth facts."""
        return sum(bool(f.unsafe) for f in self.judged_frames)

    @property
    def num_unsafe_every_frame(self) -> int:
        """Unsafe decisions over every frame, warm-up frames included."""
        return sum(bool(f.unsafe) for f in self.frames)

    @property
    def frames_per_second(self) -> float:
        """Every frame the pipeline decided (warm-up ones too) per second it ran."""
        return len(self.frames) / self.wall_s if self.wall_s > 0 else 0.0

    def confusion(self, *, every_frame: bool = False) -> list[list[int]]:
        """Counts ``[truth][pipeline]`` in the order of :attr:`actions` (judged frames by default)."""
        index = {a: i for i, a in enumerate(self.actions)}
        matrix = [[0] * len(self.actions) for _ in self.actions]
        for f in self.frames if every_frame else self.judged_frames:
            if f.truth_action in index and f.action in index:
                matrix[index[f.truth_action]][index[f.action]] += 1
        return matrix

    def action_counts(self) -> dict[str, dict[str, int]]:
        """``{"pipeline": {action: n}, "truth": {action: n}}`` over the judged frames."""
        frames = self.judged_frames
        return {"pipeline": {a: sum(f.action == a for f in frames) for a in self.actions},
                "truth": {a: sum(f.truth_action == a for f in frames) for a in self.actions}}

    def cause_counts(self) -> dict[str, int]:
        """Perception errors behind disagreements of judged frames, by kind."""
        counts = Counter(e.kind for f in self.judged_frames if not f.agrees for e in f.causes())
        return {kind: counts.get(kind, 0) for kind in ERROR_KINDS}

    def latency(self) -> dict[str, dict[str, float]]:
        """Stage -> ``{"p50", "p99", "mean"}`` milliseconds (every frame)."""
        return latency_summary([f.timings_ms for f in self.frames])

    def to_json(self) -> dict:
        return {
            "mode": self.mode, "num_frames": self.num_frames, "num_warmup": self.num_warmup,
            "agreement": self.agreement, "balanced_agreement": self.balanced_agreement,
            "recall": self.recall(), "agreement_with_history": self.agreement_with_history,
            "num_unsafe": self.num_unsafe, "num_fallback": sum(f.fallback for f in self.judged_frames),
            "every_frame": {"num_frames": len(self.frames), "agreement": self.agreement_every_frame,
                            "balanced_agreement": self.balanced_agreement_every_frame,
                            "recall": self.recall(every_frame=True), "num_unsafe": self.num_unsafe_every_frame,
                            "confusion": self.confusion(every_frame=True)},
            "frames_per_second": self.frames_per_second, "wall_s": self.wall_s,
            "actions": list(self.actions), "confusion": self.confusion(), "action_counts": self.action_counts(),
            "cause_counts": self.cause_counts(), "latency_ms": self.latency(),
            "disagreements": [f.to_json() for f in self.frames if not f.agrees or f.unsafe],
        }

    def write_json(self, path: str | Path) -> Path:
        """Write :meth:`to_json` atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(self.to_json(), indent=1))
        return path

    def table(self) -> str:
        """The figures as a plain-text table."""
        warmup = f", plus {self.num_warmup} warm-up frames not judged" if self.num_warmup else ""
        recall = "  ".join(f"{a} {r:.2f}" for a, r in self.recall().items())
        lines = [f"frames              {self.num_frames} judged ({self.mode}){warmup}",
                 f"agreement           {self.agreement:.2%}",
                 f"balanced agreement  {self.balanced_agreement:.3f} (mean recall over true actions)",
                 f"  recall            {recall}",
                 f"  after frame 0     {self.agreement_with_history:.2%} (motion tracked)",
                 f"unsafe decisions    {self.num_unsafe}",
                 f"fallbacks           {sum(f.fallback for f in self.judged_frames)}"]
        if self.num_warmup:
            lines.append(f"every frame         agreement {self.agreement_every_frame:.2%}, balanced "
                         f"{self.balanced_agreement_every_frame:.3f}, unsafe {self.num_unsafe_every_frame} "
                         f"({len(self.frames)} frames)")
        lines += [f"frames/s            {self.frames_per_second:.1f}", "", "latency ms        p50      p99"]
        for stage, values in self.latency().items():
            lines.append(f"  {stage:<15} {values['p50']:>7.2f}  {values['p99']:>7.2f}")
        width = max(len(a) for a in self.actions) + 2
        lines += ["", "confusion (rows: truth, columns: pipeline)",
                  " " * width + "".join(f"{a:>{width}}" for a in self.actions)]
        for action, row in zip(self.actions, self.confusion()):
            lines.append(f"{action:<{width}}" + "".join(f"{n:>{width}}" for n in row))
        causes = ", ".join(f"{k} {v}" for k, v in self.cause_counts().items())
        lines += ["", f"causes of disagreements: {causes}"]
        return "\n".join(lines)


def _agreement(frames: Sequence[FrameEvaluation]) -> float:
    return sum(f.agrees for f in frames) / max(len(frames), 1)


def latency_summary(timings: Iterable[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per stage p50, p99 and mean of a list of ``{stage: ms}``.

    Example:
        >>> latency_summary([{"total": 1.0}, {"total": 3.0}])["total"]["p50"]
        2.0
    """
    timings = list(timings)
    summary = {}
    for stage in (*STAGES, "total"):
        values = np.array([t[stage] for t in timings if stage in t], dtype=float)
        if values.size:
            summary[stage] = {"p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99)),
                              "mean": float(values.mean())}
    return summary


# ---------------------------------------------------------------- judging frames

def evaluate_result(result: FrameResult, truth_reasoner, *, iou_threshold: float = 0.5) -> FrameEvaluation:
    """Judge one pipeline result against its frame's ground truth.

    Args:
        result: a :class:`bridge.pipeline.FrameResult` of a generated scene.
        truth_reasoner: a reasoner over the same rules (certain facts, no
            robust mode needed: ground truth has no uncertainty).
        iou_threshold: box overlap for a detection to match a true object.

    Returns:
        A :class:`FrameEvaluation`.
    """
    scene = result.frame
    truth_facts = ground_truth_facts(scene)
    truth = truth_reasoner.decide(truth_facts, explain=False)
    unsafe = [instance.name for instance in truth_reasoner.violations(truth_facts, result.action)]
    errors = perception_errors(result, scene, iou_threshold=iou_threshold)
    truth_ids = {b for r in truth.fired for b in r.bindings}
    detected_ids = {b for r in result.decision.fired for b in r.bindings}
    errors = [PerceptionError(e.kind, e.truth_id, e.detected_id, e.label, e.detail,
                              e.truth_id in truth_ids or e.detected_id in detected_ids) for e in errors]
    return FrameEvaluation(result.name, result.action, truth.action, unsafe, errors, dict(result.timings_ms),
                           bool(result.decision.fallback), int(getattr(scene, "frame_index", 0) or 0),
                           not getattr(scene, "warmup", False), getattr(scene, "episode_id", None))


def perception_errors(result: FrameResult, scene, *, iou_threshold: float = 0.5) -> list[PerceptionError]:
    """Missed, false and mislabelled objects and wrong light states of one frame.

    Detections match true objects one to one, greedily by score, by box
    overlap alone (so a car seen as a truck is *mislabelled*, not missed
    plus false).

    Returns:
        One :class:`PerceptionError` per mistake: missed objects first, then
        false, mislabelled and wrong-light detections.

    Example:
        >>> from perception.world import generate_scene, preset_config
        >>> from bridge.pipeline import Pipeline
        >>> scene = generate_scene(preset_config("easy"), seed=1)
        >>> [result] = Pipeline.from_config("configs/drive.yaml", oracle=True)([scene])
        >>> perception_errors(result, scene)
        []
    """
    truth = scene.objects
    objects = result.objects
    errors: list[PerceptionError] = []
    matched = match_objects(objects, truth, iou_threshold=iou_threshold)
    taken = set(matched.values())
    for j, obj in enumerate(truth):
        if j not in taken:
            errors.append(PerceptionError("missed", obj.id, "", obj.label))
    for i, obj in enumerate(objects):
        if obj.box is None:
            continue   # coasted: no detection this frame, so no detection error
        if i not in matched:
            errors.append(PerceptionError("false", "", obj.id, obj.label, f"score {obj.confidence:.2f}"))
            continue
        true_obj = truth[matched[i]]
        if obj.label != true_obj.label:
            errors.append(PerceptionError("mislabelled", true_obj.id, obj.id, true_obj.label,
                                          f"{true_obj.label} seen as {obj.label}"))
        elif obj.label == "traffic_light":
            seen = _light_state(obj)
            state = true_obj.attributes.get("light_state")
            if seen is not None and state is not None and seen != state:
                errors.append(PerceptionError("wrong_light", true_obj.id, obj.id, "traffic_light",
                                              f"{state} seen as {seen}"))
    return errors


def match_objects(objects, truth, *, iou_threshold: float = 0.5) -> dict[int, int]:
    """Match grounded objects to true objects by box overlap: object index -> true object index.

    One to one, greedily by confidence, IoU >= ``iou_threshold``, whatever
    the labels; an object without a box (coasted) matches nothing.

    Example:
        >>> from bridge.geometry import ObjectState
        >>> seen = [ObjectState("a", "car", (0.0, 9.0), (4.0, 2.0), 0.9, box=(0.0, 0.0, 10.0, 10.0))]
        >>> truth = [ObjectState("t", "truck", (0.0, 9.0), (4.0, 2.0), box=(1.0, 0.0, 10.0, 10.0))]
        >>> match_objects(seen, truth), match_objects(seen, [])
        ({0: 0}, {})
    """
    return _match_any_label(objects, _box_overlaps(objects, truth), iou_threshold)


def _box_overlaps(objects, truth):
    """IoU of each object's box with each true object's box, (D, T); None when either is empty.

    An object without a box (coasted by the tracker: not seen this frame) overlaps nothing.
    """
    if not truth or not objects:
        return None
    true_boxes = torch.tensor([list(o.box) for o in truth], dtype=torch.float32)
    found_boxes = torch.tensor([list(o.box) if o.box is not None else [0.0, 0.0, 0.0, 0.0] for o in objects],
                               dtype=torch.float32)
    return box_iou(found_boxes, true_boxes)  # (D, T)


def _match_any_label(objects, iou, iou_threshold: float) -> dict[int, int]:
    """Object index -> true object index: one to one, greedily by confidence, IoU >= ``iou_threshold``."""
    matched: dict[int, int] = {}
    if iou is None:
        return matched
    taken: set[int] = set()
    for i in sorted(range(len(objects)), key=lambda i: -objects[i].confidence):
        overlaps = iou[i].clone()
        if taken:
            overlaps[list(taken)] = -1.0
        j = int(overlaps.argmax())
        if float(overlaps[j]) >= iou_threshold:
            matched[i] = j
            taken.add(j)
    return matched


def _light_state(obj) -> str | None:
    probabilities = obj.attributes.get("light_state")
    if not probabilities:
        return None
    best = max(probabilities, key=probabilities.get)
    return best if best in LIGHT_STATES else None


def evaluate_pipeline(pipeline, frames: Sequence, *, stream: bool = True, truth_reasoner=None,
                      progress: bool = False, explain: bool = False) -> PipelineMetrics:
    """Run ``pipeline`` over generated frames and judge every decision.

    Args:
        pipeline: a :class:`bridge.pipeline.Pipeline`.
        frames: generated scenes (with ground truth), e.g. episodes in order.
        stream: frame by frame with the tracker (True) or batched (False).
        truth_reasoner: reasoner for the ground-truth decisions; by default
            the pipeline's rules, non-robust, with a generous time budget.
        progress: show a progress bar on stderr.
        explain: ask the pipeline for why-not answers too (slower).

    Returns:
        :class:`PipelineMetrics`; ``wall_s`` counts the pipeline only.

    Example:
        >>> from perception.world import generate_episode, preset_config
        >>> from bridge.pipeline import Pipeline
        >>> oracle = Pipeline.from_config("configs/drive.yaml", oracle=True)
        >>> metrics = evaluate_pipeline(oracle, generate_episode(preset_config("easy"), seed=2, num_frames=3))
        >>> metrics.agreement, metrics.num_unsafe
        (1.0, 0)
    """
    frames = list(frames)
    truth_reasoner = truth_reasoner or truth_reasoner_for(pipeline)
    if stream:
        results, wall_s = timed_stream(pipeline, frames, explain=explain, progress=progress, desc="evaluate")
    else:
        if frames:
            pipeline.warm_up(frames[0], mode="batch")   # start-up, not frames: left out of wall_s
        start = time.perf_counter()
        results = pipeline(frames, explain=explain)
        wall_s = time.perf_counter() - start
    return evaluate_results(results, truth_reasoner, wall_s=wall_s, mode="stream" if stream else "batch")


def timed_stream(pipeline, frames: Sequence, *, explain: bool = True, progress: bool = False,
                 desc: str = "stream") -> tuple[list[FrameResult], float]:
    """Stream ``frames`` through ``pipeline``, timing the pipeline alone (after its warm-up).

    Returns:
        ``(results, seconds)``: one result per frame and the seconds spent inside the pipeline.
    """
    from tqdm import tqdm

    results: list[FrameResult] = []
    wall_s = 0.0
    if len(frames):
        pipeline.warm_up(frames[0], mode="stream")   # start-up, not frames: left out of the seconds
    iterator = pipeline.stream(frames, explain=explain)
    with tqdm(total=len(frames), desc=desc, unit="frame", disable=not progress) as bar:
        while True:
            start = time.perf_counter()
            result = next(iterator, None)
            wall_s += time.perf_counter() - start
            if result is None:
                return results, wall_s
            results.append(result)
            bar.update(1)


def evaluate_results(results: Sequence[FrameResult], truth_reasoner=None, *, reasoner=None, wall_s: float = 0.0,
                     mode: str = "stream") -> PipelineMetrics:
    """Judge results already computed (their frames must carry ground truth).

    Args:
        results: :class:`bridge.pipeline.FrameResult` of generated scenes.
        truth_reasoner: reasoner for the ground-truth decisions; by default one
            over the rules that decided the first result (see ``reasoner``).
        reasoner: the pipeline's reasoner, to build ``truth_reasoner`` from.
        wall_s: seconds the pipeline ran, for frames per second.
        mode: ``"stream"`` or ``"batch"``, for the record.

    Returns:
        :class:`PipelineMetrics`.
    """
    if truth_reasoner is None:
        if reasoner is None:
            raise ValueError("pass `truth_reasoner=` or the pipeline's `reasoner=` to judge results against")
        truth_reasoner = _truth_reasoner(reasoner)
    evaluations = [evaluate_result(r, truth_reasoner) for r in results]
    return PipelineMetrics(evaluations, tuple(truth_reasoner.ruleset.actions), wall_s, mode)


def truth_reasoner_for(pipeline):
    """A reasoner over the pipeline's rules for ground-truth decisions (certain facts)."""
    return _truth_reasoner(pipeline.reasoner)


def _truth_reasoner(reasoner):
    return Reasoner(reasoner.ruleset, robust=False, time_budget_ms=10_000.0)
