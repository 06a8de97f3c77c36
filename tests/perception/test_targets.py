import torch

from perception.targets import encode_targets


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
