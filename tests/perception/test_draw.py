"""Drawing boxes and grids."""
import numpy as np
import pytest
import torch
from PIL import Image

from perception.draw import color_for, draw_boxes, image_grid, to_pil


def test_draw_boxes_outlines_each_box_in_its_label_colour():
    picture = draw_boxes(np.zeros((40, 40, 3), dtype=np.uint8), [[20, 20, 30, 36]], ["pedestrian"])
    assert picture.size == (40, 40)
    assert picture.getpixel((20, 28)) == color_for("pedestrian")
    assert picture.getpixel((25, 28)) == (0, 0, 0)  # inside stays untouched


def test_draw_boxes_scales_and_accepts_tensors_and_scores():
    image = torch.zeros(3, 20, 30)
    picture = draw_boxes(image, torch.tensor([[2.0, 12.0, 10.0, 18.0]]), ["car"], scores=torch.tensor([0.5]),
                         colors=[(1, 2, 3)], scale=3)
    assert picture.size == (90, 60)
    assert picture.getpixel((6, 40)) == (1, 2, 3)


def test_draw_boxes_leaves_the_input_unchanged():
    image = np.zeros((10, 10, 3), dtype=np.uint8)
    draw_boxes(image, [[1, 1, 5, 5]], ["car"])
    assert not image.any()


def test_draw_boxes_errors():
    image = np.zeros((10, 10, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="`labels` must name each of the 1 boxes. Received 2 labels"):
        draw_boxes(image, [[0, 0, 2, 2]], ["car", "truck"])
    with pytest.raises(ValueError, match="`scores` must have one value per box"):
        draw_boxes(image, [[0, 0, 2, 2]], ["car"], scores=[0.1, 0.2])
    with pytest.raises(ValueError, match="`scale` must be an integer >= 1. Received: scale=0"):
        draw_boxes(image, [], [], scale=0)
    with pytest.raises(ValueError, match=r"`image` must be \(H, W, 3\) uint8 or \(3, H, W\) float"):
        draw_boxes(np.zeros((4, 4)), [], [])


def test_no_boxes_is_fine():
    assert draw_boxes(np.zeros((8, 8, 3), dtype=np.uint8), np.zeros((0, 4)), []).size == (8, 8)


def test_image_grid_places_images_row_by_row():
    red = Image.new("RGB", (10, 6), (255, 0, 0))
    blue = Image.new("RGB", (10, 6), (0, 0, 255))
    grid = image_grid([red, blue, red], columns=2, padding=2)
    assert grid.size == (22, 14)
    assert grid.getpixel((0, 0)) == (255, 0, 0) and grid.getpixel((12, 0)) == (0, 0, 255)
    assert grid.getpixel((0, 8)) == (255, 0, 0) and grid.getpixel((11, 3)) == (24, 24, 24)


def test_image_grid_errors():
    with pytest.raises(ValueError, match="`images` must hold at least one image"):
        image_grid([], columns=2)
    with pytest.raises(ValueError, match="`columns` must be an integer >= 1. Received: columns=0"):
        image_grid([np.zeros((2, 2, 3), dtype=np.uint8)], columns=0)


def test_to_pil_converts_float_chw():
    picture = to_pil(np.ones((3, 2, 5), dtype=np.float32))
    assert picture.size == (5, 2) and picture.getpixel((0, 0)) == (255, 255, 255)
