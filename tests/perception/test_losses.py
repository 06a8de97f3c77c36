import torch

from perception.losses import detection_loss, heatmap_focal_loss
from perception.targets import encode_targets


def test_focal_loss_is_lower_for_the_right_heatmap():
    enc = encode_targets([{"boxes": torch.tensor([[8., 8., 24., 24.]]), "labels": torch.tensor([0])}],
                         num_classes=1, height=8, width=8)
    right = torch.logit(enc["heatmap"].clamp(1e-4, 1 - 1e-4))
    assert heatmap_focal_loss(right, enc["heatmap"]) < heatmap_focal_loss(torch.zeros_like(right), enc["heatmap"])


def test_perfect_regression_has_zero_size_and_offset_loss():
    target = {"boxes": torch.tensor([[8., 8., 24., 16.]]), "labels": torch.tensor([0])}
    enc = encode_targets([target], num_classes=1, height=8, width=8)
    outputs = torch.zeros(1, 5, 8, 8)
    cell_y, cell_x = divmod(int(enc["index"][0, 0]), 8)
    outputs[0, 1:3, cell_y, cell_x] = enc["size"][0, 0]
    outputs[0, 3:5, cell_y, cell_x] = enc["offset"][0, 0]
    parts = detection_loss(outputs, enc, num_classes=1, attribute_sizes={})
    assert parts["size"] == 0 and parts["offset"] == 0


def test_loss_without_objects_is_finite():
    enc = encode_targets([{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64),
                           "light_state": torch.zeros(0, dtype=torch.int64)}],
                         num_classes=2, height=4, width=4, attribute_names=("light_state",))
    parts = detection_loss(torch.zeros(1, 9, 4, 4), enc, num_classes=2, attribute_sizes={"light_state": 3})
    assert all(torch.isfinite(v) for v in parts.values())
