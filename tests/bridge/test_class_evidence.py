"""Confusable classes share a box's evidence: a figure split between pedestrian and cyclist stays for the rules."""
import torch

from perception.detections import Detections
from bridge.class_evidence import CONFUSABLE_CLASSES, share_class_evidence
from bridge.vocabulary import CLASS_NAMES


def detections(rows):
    """``(label, x1, y1, x2, y2, score)`` rows."""
    boxes = torch.tensor([r[1:5] for r in rows], dtype=torch.float32).reshape(-1, 4)
    labels = torch.tensor([CLASS_NAMES.index(r[0]) for r in rows], dtype=torch.int64)
    scores = torch.tensor([r[5] for r in rows], dtype=torch.float32)
    return Detections(boxes, labels, scores, CLASS_NAMES)


def test_a_box_split_between_confusable_classes_gives_each_class_the_sum():
    d = detections([("pedestrian", 0, 0, 10, 20, 0.24), ("cyclist", 1, 0, 10, 21, 0.27),
                    ("car", 0, 0, 10, 20, 0.3),            # overlaps, but cars are no pedestrians
                    ("cyclist", 50, 50, 60, 70, 0.2)])     # alone
    shared = share_class_evidence(d, CONFUSABLE_CLASSES, 0.5)
    assert shared.scores.tolist() == torch.tensor([0.51, 0.51, 0.3, 0.2]).tolist()
    assert torch.equal(shared.boxes, d.boxes) and torch.equal(shared.labels, d.labels)


def test_same_class_overlaps_boxes_apart_and_no_groups_change_nothing():
    d = detections([("pedestrian", 0, 0, 10, 20, 0.6), ("pedestrian", 0, 0, 10, 20, 0.5),
                    ("truck", 100, 100, 140, 120, 0.7), ("car", 130, 100, 170, 120, 0.7)])   # IoU 0.14
    assert torch.equal(share_class_evidence(d, CONFUSABLE_CLASSES, 0.5).scores, d.scores)
    assert share_class_evidence(d, [], 0.5) is d


def test_shared_scores_stay_probabilities():
    d = detections([("car", 0, 0, 10, 20, 0.8), ("truck", 0, 0, 10, 20, 0.7)])
    assert share_class_evidence(d, CONFUSABLE_CLASSES, 0.5).scores.tolist() == [1.0, 1.0]


def test_the_pipeline_grounds_the_shared_score_and_keeps_the_raw_detections():
    import numpy as np

    from perception.world import Calibration, EgoState, Lane, RoadMap
    from perception.world.scene import Scene
    from bridge.experiment import PipelineConfig
    from bridge.pipeline import Pipeline
    from symbolic.reasoning.reasoner import Reasoner

    class Fixed:
        def predict(self, images, *, score_threshold, batch_size, precision="auto"):
            return [detections([("pedestrian", 120, 100, 126, 106, 0.2), ("cyclist", 120, 100, 126, 107, 0.15)])]

    road = RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0)
    scene = Scene(np.zeros((256, 256, 3), np.uint8), [], road, Calibration(0.25, (256, 256), (128.0, 230.0)),
                  EgoState(0, 5.0), image_id=1)
    config = PipelineConfig()
    reasoner = Reasoner.from_file(config.rules_path(), robust=True, low=config.low, high=config.high,
                                  time_budget_ms=10_000)
    [shared] = Pipeline(perception=Fixed(), reasoner=reasoner)([scene])
    assert sorted(round(o.confidence, 2) for o in shared.objects) == [0.35, 0.35]   # above low 0.25: both readings open
    assert sorted(round(s, 2) for s in shared.detections.scores.tolist()) == [0.15, 0.2]
    [alone] = Pipeline(perception=Fixed(), reasoner=reasoner, config=PipelineConfig(class_groups=[]))([scene])
    assert alone.objects == []   # each class alone reads as absent
