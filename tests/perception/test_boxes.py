import torch

from perception.boxes import box_area, box_iou, clip_boxes, flip_boxes_horizontal


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
