import torch

from perception.boxes import box_centers, box_sizes
from perception.targets import GAUSSIAN_ALPHA, encode_targets, gaussian_heatmap


def test_each_object_gets_a_unit_peak_on_its_class_channel_only():
    target = {"boxes": torch.tensor([[4., 4., 20., 12.], [40., 40., 48., 60.]]), "labels": torch.tensor([0, 2]),
              "light_state": torch.tensor([-1, 1])}
    enc = encode_targets([target], num_classes=3, height=16, width=16, attribute_names=("light_state",))
    heat = enc["heatmap"][0]
    assert heat[0].max() == 1 and heat[2].max() == 1 and heat[1].max() == 0
    assert (heat == 1).sum() == 2
    # centre (12, 8) -> cell (3, 2); centre (44, 50) -> cell (11, 12)
    assert enc["index"][0].tolist() == [2 * 16 + 3, 12 * 16 + 11]
    assert enc["size"][0].tolist() == [[4.0, 2.0], [2.0, 5.0]]
    assert torch.allclose(enc["offset"][0], torch.tensor([[0.0, 0.0], [0.0, 0.5]]))
    assert enc["light_state"][0].tolist() == [-1, 1]


def test_batch_pads_to_the_largest_object_count_with_a_mask():
    one = {"boxes": torch.tensor([[0., 0., 8., 8.]]), "labels": torch.tensor([0])}
    none = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}
    enc = encode_targets([one, none], num_classes=1, height=8, width=8)
    assert enc["mask"].tolist() == [[True], [False]]
    assert enc["heatmap"][1].sum() == 0


def _image_by_image_heatmap(target, num_classes, height, width, stride=4):
    boxes = target["boxes"]
    centers = box_centers(boxes) / stride
    cells = centers.floor().clamp(min=torch.zeros(2), max=torch.tensor([width - 1.0, height - 1.0]))
    sigmas = (GAUSSIAN_ALPHA * box_sizes(boxes).clamp(min=0) / stride / 6).clamp(min=0.5)
    return gaussian_heatmap(cells, sigmas, target["labels"], num_classes, height, width)


def test_batch_encoding_builds_the_same_heatmaps_as_one_image_at_a_time():
    g = torch.Generator().manual_seed(0)
    targets = []
    for count in (3, 0, 7, 1, 12):
        corner = torch.rand(count, 2, generator=g) * 100
        boxes = torch.cat([corner, corner + 2 + torch.rand(count, 2, generator=g) * 40], dim=1)
        targets.append({"boxes": boxes, "labels": torch.randint(0, 4, (count,), generator=g)})
    enc = encode_targets(targets, num_classes=4, height=32, width=32)
    for i, target in enumerate(targets):
        assert torch.allclose(enc["heatmap"][i], _image_by_image_heatmap(target, 4, 32, 32), atol=1e-6)
        assert enc["mask"][i].sum() == len(target["labels"])
    assert enc["index"].shape == (5, 12)
