import torch

from perception.decode import decode_outputs
from perception.losses import gather_at
from perception.targets import encode_targets


def test_decode_of_a_hand_made_heatmap():
    outputs = torch.full((1, 2 + 4 + 3, 16, 16), -8.0)
    outputs[0, 4:6] = 0.0  # zero offsets everywhere
    # class 1 at cell (x=5, y=7), 12 x 8 px, offset (0.25, 0.5), light state 2
    outputs[0, 1, 7, 5] = 3.0
    outputs[0, 2:4, 7, 5] = torch.tensor([3.0, 2.0])
    outputs[0, 4:6, 7, 5] = torch.tensor([0.25, 0.5])
    outputs[0, 6:9, 7, 5] = torch.tensor([0.0, 0.0, 5.0])
    # a weaker neighbour of the same class is not a local maximum
    outputs[0, 1, 7, 6] = 2.0
    # class 0 below the threshold
    outputs[0, 0, 2, 2] = -2.0
    result = decode_outputs(outputs, num_classes=2, attribute_sizes={"light_state": 3}, score_threshold=0.3)[0]
    assert result["labels"].tolist() == [1]
    assert torch.allclose(result["scores"], torch.sigmoid(torch.tensor([3.0])))
    assert torch.allclose(result["boxes"], torch.tensor([[15.0, 26.0, 27.0, 34.0]]))
    assert result["light_state"].argmax(dim=1).tolist() == [2]


def test_decode_inverts_the_target_encoding():
    boxes = torch.tensor([[10., 12., 30., 20.], [40., 41., 52., 60.]])
    target = {"boxes": boxes, "labels": torch.tensor([0, 1])}
    enc = encode_targets([target], num_classes=2, height=16, width=16)
    outputs = torch.zeros(1, 6, 16, 16)
    outputs[:, :2] = torch.logit(enc["heatmap"].clamp(1e-4, 1 - 1e-4))
    flat = outputs[:, 2:].flatten(2).clone()
    for m in range(2):
        flat[0, 0:2, enc["index"][0, m]] = enc["size"][0, m]
        flat[0, 2:4, enc["index"][0, m]] = enc["offset"][0, m]
    outputs[:, 2:] = flat.reshape(1, 4, 16, 16)
    assert torch.allclose(gather_at(outputs[:, 2:4], enc["index"])[0], enc["size"][0])
    result = decode_outputs(outputs, num_classes=2, attribute_sizes={}, score_threshold=0.9)[0]
    order = result["labels"].argsort()
    assert torch.allclose(result["boxes"][order], boxes, atol=1e-4)
