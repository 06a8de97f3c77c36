import torch

from perception.augment import augment, augment_batch, horizontal_flip, translate


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
    assert len(first[1]["boxes"]) == 1  # under this seed the box stays in view, so it is always checked
    assert first[1]["boxes"][0].tolist() == _box_of_bright_pixels(first[0])


def _random_scene_batch(num_images=12, size=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(num_images, 3, size, size, generator=g)
    targets = []
    for _ in range(num_images):
        count = int(torch.randint(0, 5, (1,), generator=g))
        corner = torch.rand(count, 2, generator=g) * (size - 8)
        extent = 2 + torch.rand(count, 2, generator=g) * 12
        boxes = torch.cat([corner, (corner + extent).clamp(max=size)], dim=1)
        targets.append({"boxes": boxes, "labels": torch.randint(0, 3, (count,), generator=g),
                        "light_state": torch.randint(-1, 3, (count,), generator=g)})
    return images, targets


def test_batch_augmentation_matches_image_by_image_augmentation_under_the_same_seed():
    images, targets = _random_scene_batch()
    for seed in range(4):
        batch_images, batch_targets = augment_batch(images, targets, torch.Generator().manual_seed(seed),
                                                    max_shift=0.3)
        one_by_one = torch.Generator().manual_seed(seed)
        for image, target, got_image, got_target in zip(images, targets, batch_images, batch_targets):
            want_image, want_target = augment(image, target, one_by_one, max_shift=0.3)
            assert torch.allclose(got_image, want_image, atol=1e-6)
            for key in ("boxes", "labels", "light_state"):
                assert torch.equal(got_target[key], want_target[key])


def test_flip_mirrors_velocities_and_shift_keeps_them_with_their_boxes():
    stack = torch.zeros(6, 32, 32)  # two frames on channels: every frame gets the same flip
    stack[0:3, 5:9, 3:7] = 1.0
    stack[3:6, 5:9, 7:11] = 1.0
    target = {"boxes": torch.tensor([[7., 5., 11., 9.]]), "labels": torch.tensor([0]),
              "velocities": torch.tensor([[8.0, -2.0]])}
    flipped, out = horizontal_flip(stack, target)
    assert out["velocities"].tolist() == [[-8.0, -2.0]]
    assert out["boxes"][0].tolist() == _box_of_bright_pixels(flipped[3:])
    assert _box_of_bright_pixels(flipped[:3])[0] > out["boxes"][0, 0]  # the previous frame is now to the right
    images, targets = augment_batch(stack[None], [target], torch.Generator().manual_seed(0), color=0.0)
    assert images.shape == (1, 6, 32, 32) and targets[0]["velocities"].abs().tolist() == [[8.0, 2.0]]
