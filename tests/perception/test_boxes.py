import pytest
import torch

from perception.boxes import box_area, box_iou, clip_boxes, flip_boxes_horizontal, match_boxes


def test_iou_of_identical_boxes_is_one_and_disjoint_is_zero():
    boxes = torch.tensor([[0., 0., 4., 4.], [10., 10., 12., 12.]])
    iou = box_iou(boxes, boxes)
    assert torch.allclose(iou, torch.eye(2))


def test_flip_twice_is_identity_and_keeps_area():
    boxes = torch.tensor([[1., 2., 5., 9.], [0., 0., 10., 3.]])
    once = flip_boxes_horizontal(boxes, width=10)
    assert torch.equal(flip_boxes_horizontal(once, width=10), boxes)
    assert torch.equal(box_area(once), box_area(boxes))


def test_clip_keeps_boxes_inside_the_image():
    clipped = clip_boxes(torch.tensor([[-5., -5., 50., 50.]]), height=20, width=30)
    assert clipped.tolist() == [[0., 0., 30., 20.]]


def test_match_boxes_is_greedy_by_score_and_one_to_one():
    truth = torch.tensor([[0., 0., 10., 10.], [20., 0., 30., 10.]])
    boxes = torch.tensor([[0., 0., 10., 10.], [0., 0., 9., 10.], [21., 0., 30., 10.], [50., 50., 60., 60.]])
    scores = torch.tensor([0.5, 0.9, 0.7, 0.95])
    assert match_boxes(boxes, scores, truth) == [(1, 0), (2, 1)]


def test_match_boxes_with_labels_matches_only_the_same_label():
    truth = torch.tensor([[0., 0., 10., 10.]])
    boxes = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 10.]])
    scores = torch.tensor([0.9, 0.5])
    assert match_boxes(boxes, scores, truth, labels=torch.tensor([1, 0]), true_labels=torch.tensor([0])) == [(1, 0)]
    assert match_boxes(boxes, scores, truth) == [(0, 0)]


def test_match_boxes_takes_the_first_of_equal_overlaps_and_handles_empty_inputs():
    truth = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 10.]])
    assert match_boxes(truth[:1], torch.tensor([1.0]), truth) == [(0, 0)]
    assert match_boxes(torch.zeros(0, 4), torch.zeros(0), truth) == []
    assert match_boxes(truth, torch.ones(2), torch.zeros(0, 4)) == []


def test_match_boxes_refuses_bad_arguments():
    boxes = torch.tensor([[0., 0., 10., 10.]])
    with pytest.raises(ValueError, match=r"`iou_threshold` must be a number in \(0, 1\]. Received: iou_threshold=0"):
        match_boxes(boxes, torch.ones(1), boxes, iou_threshold=0)
    with pytest.raises(ValueError, match="give both or neither"):
        match_boxes(boxes, torch.ones(1), boxes, labels=torch.tensor([0]))
