"""COCO-style evaluation of detections against ground truth.

mAP@0.5 and mAP@[.5:.95] come from pycocotools' ``COCOeval`` (the reference
implementation); on top of it: per-class AP, attribute accuracy (e.g. light
state) on correctly detected objects, and a confusion summary.
"""
from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import torch

from perception.boxes import box_iou, match_boxes
from perception.detections import Detections

MATCH_IOU = 0.5
SUMMARY_SCORE = 0.3  # detections at or above this score count in the confusion summary


def _coco_ground_truth(targets: list[dict], class_names, image_sizes) -> dict:
    images, annotations = [], []
    for image_id, (target, (height, width)) in enumerate(zip(targets, image_sizes)):
        images.append({"id": image_id, "height": int(height), "width": int(width)})
        for box, label in zip(target["boxes"].tolist(), target["labels"].tolist()):
            w, h = box[2] - box[0], box[3] - box[1]
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": int(label) + 1,
                                "bbox": [box[0], box[1], w, h], "area": w * h, "iscrowd": 0})
    categories = [{"id": i + 1, "name": name} for i, name in enumerate(class_names)]
    return {"images": images, "annotations": annotations, "categories": categories}


def _coco_results(predictions: list[Detections]) -> list[dict]:
    results = []
    for image_id, detections in enumerate(predictions):
        for box, label, score in zip(detections.boxes.tolist(), detections.labels.tolist(),
                                     detections.scores.tolist()):
            results.append({"image_id": image_id, "category_id": int(label) + 1, "score": float(score),
                            "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]]})
    return results


def coco_map(predictions: list[Detections], targets: list[dict], class_names, image_sizes) -> dict:
    """mAP and per-class AP from pycocotools.

    Args:
        predictions: one :class:`Detections` per image.
        targets: one target dict per image (``boxes`` (N, 4), ``labels`` (N,)).
        class_names: the class map.
        image_sizes: (height, width) of each image.

    Returns:
        ``map_50``, ``map_50_95`` and ``per_class`` {name: {"ap_50", "ap_50_95"}}
        (``None`` for classes absent from the ground truth).

    Example:
        >>> t = [{"boxes": torch.tensor([[0., 0., 10., 10.]]), "labels": torch.tensor([0])}]
        >>> p = [Detections(torch.tensor([[0., 0., 10., 10.]]), torch.tensor([0]), torch.tensor([0.9]), ("car",))]
        >>> coco_map(p, t, ("car",), [(32, 32)])["map_50"]
        1.0
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    empty = {"map_50": 0.0, "map_50_95": 0.0,
             "per_class": {name: {"ap_50": None, "ap_50_95": None} for name in class_names}}
    results = _coco_results(predictions)
    if not results or not any(len(t["labels"]) for t in targets):
        return empty
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = _coco_ground_truth(targets, class_names, image_sizes)
        truth.createIndex()
        detected = truth.loadRes(results)
        evaluator = COCOeval(truth, detected, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    precision = evaluator.eval["precision"]  # (IoU thresholds, recall, class, area, max detections)
    per_class = {}
    for k, name in enumerate(class_names):
        all_ious = precision[:, :, k, 0, -1]
        at_50 = precision[0, :, k, 0, -1]
        per_class[name] = {"ap_50": _mean_valid(at_50), "ap_50_95": _mean_valid(all_ious)}
    return {"map_50": _round(evaluator.stats[1]), "map_50_95": _round(evaluator.stats[0]), "per_class": per_class}


def _mean_valid(values: np.ndarray) -> float | None:
    valid = values[values > -1]
    return _round(float(valid.mean())) if valid.size else None


def _round(value: float) -> float:
    return round(float(max(value, 0.0)), 4)


def attribute_accuracy(predictions: list[Detections], targets: list[dict], name: str) -> dict:
    """Accuracy of attribute ``name`` on detections matched to objects that
    carry it (target value >= 0).

    Returns:
        ``{"accuracy": float or None, "num_matched": int, "num_objects": int}``.

    Example:
        >>> d = Detections(torch.tensor([[0., 0., 10., 10.]]), torch.tensor([0]), torch.tensor([0.9]), ("light",),
        ...                attributes={"light_state": torch.tensor([[0.1, 0.2, 0.7]])})
        >>> t = {"boxes": torch.tensor([[0., 0., 10., 10.]]), "labels": torch.tensor([0]),
        ...      "light_state": torch.tensor([2])}
        >>> attribute_accuracy([d], [t], "light_state")
        {'accuracy': 1.0, 'num_matched': 1, 'num_objects': 1}
    """
    correct = matched = total = 0
    for detections, target in zip(predictions, targets):
        values = target.get(name)
        if values is None or name not in detections.attributes:
            continue
        total += int((values >= 0).sum())
        predicted = detections.attributes[name].argmax(dim=1)
        for d, t in _match_same_label(detections, target):
            if values[t] >= 0:
                matched += 1
                correct += int(predicted[d] == values[t])
    return {"accuracy": round(correct / matched, 4) if matched else None, "num_matched": matched, "num_objects": total}


def velocity_error(predictions: list[Detections], targets: list[dict], *,
                   score_threshold: float = SUMMARY_SCORE) -> dict:
    """Mean absolute error (m/s, per component) of the velocities of
    confident detections matched to objects whose velocity is known, and the
    mean velocity uncertainty the detector gave them (a calibrated detector
    has the two close).

    Returns:
        ``{"mae": float or None, "mean_uncertainty": float or None, "num_matched": int}``.

    Example:
        >>> d = Detections(torch.tensor([[0., 0., 10., 10.]]), torch.tensor([0]), torch.tensor([0.9]), ("car",),
        ...                velocities=torch.tensor([[7.0, 1.0]], dtype=torch.float64),
        ...                velocity_uncertainty=torch.tensor([[1.0, 0.5]], dtype=torch.float64))
        >>> t = {"boxes": torch.tensor([[0., 0., 10., 10.]]), "labels": torch.tensor([0]),
        ...      "velocities": torch.tensor([[8.0, 0.0]])}
        >>> velocity_error([d], [t])
        {'mae': 1.0, 'mean_uncertainty': 0.75, 'num_matched': 1}
    """
    errors, scales = [], []
    for detections, target in zip(predictions, targets):
        truth = target.get("velocities")
        if truth is None or detections.velocities is None:
            continue
        confident = detections.select(detections.scores >= score_threshold)
        for d, t in _match_same_label(confident, target):
            predicted, true = confident.velocities[d].double(), truth[t].double()
            if torch.isfinite(predicted).all() and torch.isfinite(true).all():
                errors.append((predicted - true).abs())
                if confident.velocity_uncertainty is not None:
                    scales.append(confident.velocity_uncertainty[d].double())
    mae = round(float(torch.stack(errors).mean()), 4) if errors else None
    mean_scale = round(float(torch.stack(scales).mean()), 4) if scales else None
    return {"mae": mae, "mean_uncertainty": mean_scale, "num_matched": len(errors)}


def confusion_summary(predictions: list[Detections], targets: list[dict], class_names, *,
                      score_threshold: float = SUMMARY_SCORE) -> dict:
    """For each true class, what the detector called its objects (the best
    overlapping detection of any class, or ``"missed"``), and the number of
    confident detections that match no object of their class.

    Example:
        >>> d = Detections(torch.tensor([[0., 0., 10., 10.]]), torch.tensor([1]), torch.tensor([0.9]), ("car", "truck"))
        >>> t = {"boxes": torch.tensor([[0., 0., 10., 10.]]), "labels": torch.tensor([0])}
        >>> confusion_summary([d], [t], ("car", "truck"))["called"]["car"]
        {'truck': 1}
    """
    called = {name: {} for name in class_names}
    false_positives = {name: 0 for name in class_names}
    for detections, target in zip(predictions, targets):
        confident = detections.select(detections.scores >= score_threshold)
        truth_labels = target["labels"].tolist()
        if len(confident) and truth_labels:
            iou = box_iou(target["boxes"].float(), confident.boxes.float())  # (T, D)
            best_iou, best = iou.max(dim=1)
        for t, label in enumerate(truth_labels):
            if len(confident) and best_iou[t] >= MATCH_IOU:
                guess = class_names[int(confident.labels[best[t]])]
            else:
                guess = "missed"
            row = called[class_names[label]]
            row[guess] = row.get(guess, 0) + 1
        matched = {d for d, _ in _match_same_label(confident, target)}
        for d in range(len(confident)):
            if d not in matched:
                false_positives[class_names[int(confident.labels[d])]] += 1
    return {"called": called, "false_positives": false_positives}


def _match_same_label(detections: Detections, target: dict) -> list[tuple[int, int]]:
    return match_boxes(detections.boxes, detections.scores, target["boxes"], labels=detections.labels,
                       true_labels=target["labels"], iou_threshold=MATCH_IOU)


def evaluate_detections(predictions: list[Detections], targets: list[dict], *, class_names,
                        image_sizes, attribute_names=()) -> dict:
    """Every figure of a detection evaluation, JSON-ready.

    Args:
        predictions: one :class:`Detections` per image (use a low score
            threshold, e.g. 0.01, for mAP).
        targets: one target dict per image.
        class_names: the class map.
        image_sizes: (height, width) of each image.
        attribute_names: attributes to score, e.g. ``("light_state",)``.

    Returns:
        ``map_50``, ``map_50_95``, ``per_class``, ``<attribute>_accuracy`` and
        ``<attribute>`` details, ``confusion``, ``num_images``, ``num_objects``;
        when the detections and targets carry velocities also
        ``velocity_mae`` (m/s) and ``velocity`` details (:func:`velocity_error`).

    Example:
        >>> t = [{"boxes": torch.tensor([[0., 0., 10., 10.]]), "labels": torch.tensor([0])}]
        >>> p = [Detections(torch.tensor([[0., 0., 10., 10.]]), torch.tensor([0]), torch.tensor([0.9]), ("car",))]
        >>> evaluate_detections(p, t, class_names=("car",), image_sizes=[(32, 32)])["map_50_95"]
        1.0
    """
    if len(predictions) != len(targets):
        raise ValueError(f"need one prediction per target. Received {len(predictions)} predictions "
                         f"for {len(targets)} targets")
    metrics = coco_map(predictions, targets, tuple(class_names), image_sizes)
    for name in attribute_names:
        details = attribute_accuracy(predictions, targets, name)
        metrics[f"{name}_accuracy"] = details["accuracy"]
        metrics[name] = details
    if any(p.velocities is not None for p in predictions) and any("velocities" in t for t in targets):
        metrics["velocity"] = velocity_error(predictions, targets)
        metrics["velocity_mae"] = metrics["velocity"]["mae"]
    metrics["confusion"] = confusion_summary(predictions, targets, tuple(class_names))
    metrics["num_images"] = len(targets)
    metrics["num_objects"] = int(sum(len(t["labels"]) for t in targets))
    return metrics


def format_metrics(metrics: dict) -> str:
    """A plain-text table of an evaluation.

    Example:
        >>> print(format_metrics({"map_50": 0.9, "map_50_95": 0.7, "per_class": {"car": {"ap_50": 0.9, "ap_50_95": 0.7}}}))
        class            AP@0.5  AP@[.5:.95]
        car               0.900        0.700
        all (mAP)         0.900        0.700
    """
    def cell(value):
        return "    -" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"

    lines = [f"{'class':<15}  {'AP@0.5':>6}  {'AP@[.5:.95]':>11}"]
    for name, ap in metrics.get("per_class", {}).items():
        lines.append(f"{name:<15}  {cell(ap['ap_50']):>6}  {cell(ap['ap_50_95']):>11}")
    lines.append(f"{'all (mAP)':<15}  {cell(metrics['map_50']):>6}  {cell(metrics['map_50_95']):>11}")
    for key, value in metrics.items():
        if key.endswith("_accuracy"):
            details = metrics.get(key.removesuffix("_accuracy"), {})
            lines.append(f"{key}: {cell(value)} on {details.get('num_matched', '?')} matched objects")
    if "velocity" in metrics:
        details = metrics["velocity"]
        lines.append(f"velocity_mae: {cell(details['mae'])} m/s (mean uncertainty {cell(details['mean_uncertainty'])} m/s) "
                     f"on {details['num_matched']} matched objects")
    return "\n".join(lines)
