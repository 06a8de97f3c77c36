import torch

from perception.augment import augment, horizontal_flip, translate


def _image_with_box(box, size=32):
    image = torch.zeros(3, size, size)
    x0, y0, x1, y1 = box
    image[:, y0:y1, x0:x1] = 1.0
    return image


def _box_of_bright_pixels(image):
    ys, xs = torch.nonzero(image[0] > 0.5, as_tuple=True)
    return [xs.min().item(), ys.min().item(), xs.max().item() + 1, ys.max().item() + 1]


def test_flip_moves_the_box_with_the_pixels():
    image = _image_with_box((3, 5, 10, 9))
    target = {"boxes": torch.tensor([[3., 5., 10., 9.]]), "labels": torch.tensor([1])}
    flipped, out = horizontal_flip(image, target)
    assert out["boxes"][0].tolist() == _box_of_bright_pixels(flipped)
    assert out["labels"].tolist() == [1]


def test_translate_moves_boxes_with_the_pixels_and_drops_objects_that_leave():
    image = _image_with_box((3, 5, 10, 9))
    target = {"boxes": torch.tensor([[3., 5., 10., 9.], [28., 0., 32., 4.]]), "labels": torch.tensor([0, 1]),
              "light_state": torch.tensor([-1, 2])}
    moved, out = translate(image, target, dx=6, dy=-2)
    assert out["labels"].tolist() == [0] and out["light_state"].tolist() == [-1]
    assert out["boxes"][0].tolist() == _box_of_bright_pixels(moved)


def test_augment_is_deterministic_under_a_seed_and_leaves_inputs_unchanged():
    image = _image_with_box((8, 8, 20, 16))
    target = {"boxes": torch.tensor([[8., 8., 20., 16.]]), "labels": torch.tensor([0])}
    copy = image.clone()
    first = augment(image, target, torch.Generator().manual_seed(3), color=0.0)
    second = augment(image, target, torch.Generator().manual_seed(3), color=0.0)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1]["boxes"], second[1]["boxes"])
    assert torch.equal(image, copy)
    if len(first[1]["boxes"]):
        assert first[1]["boxes"][0].tolist() == _box_of_bright_pixels(first[0])
