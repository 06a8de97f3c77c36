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


def test_velocity_loss_is_masked_to_known_object_centres_and_trains_the_scale():
    from perception.losses import laplace_nll
    from perception.targets import encode_targets

    target = {"boxes": torch.tensor([[8., 8., 16., 16.], [20., 20., 28., 28.]]), "labels": torch.tensor([0, 0]),
              "velocities": torch.tensor([[8.0, 0.0], [float("nan"), float("nan")]])}
    encoded = encode_targets([target], num_classes=1, height=8, width=8, metres_per_pixel=0.2, fps=10.0)
    outputs = torch.zeros(1, 1 + 4 + 4, 8, 8)
    outputs[0, 5, 3, 3] = 4.0  # 4 px per frame at the known object's centre cell (x=3, y=3)
    outputs[0, 5:7, 6, 6] = 100.0  # far off at the unknown object's centre: not counted
    outputs[0, 5:7, 0, 0] = 100.0  # away from every centre: not counted
    parts = detection_loss(outputs, encoded, num_classes=1, attribute_sizes={})
    assert parts["velocity"].item() == 0.0 and parts["velocity_nll"].item() == 0.0
    outputs[0, 5, 3, 3] = 0.0
    worse = detection_loss(outputs, encoded, num_classes=1, attribute_sizes={})
    assert worse["velocity"].item() == 2.0  # |4 - 0| over two components
    wide = outputs.clone()
    wide[0, 7:9, 3, 3] = 1.0  # a wider scale fits the large error better
    assert detection_loss(wide, encoded, num_classes=1, attribute_sizes={})["velocity_nll"] < worse["velocity_nll"]
    assert laplace_nll(torch.zeros(1), torch.full((1,), -50.0), torch.zeros(1)).item() == -5.0  # clamped
