import numpy as np
import pytest
import torch

from perception.model import Detector, DetectorConfig

from detector_helpers import quick_training, rectangle_scenes, small_detector


def test_overfits_a_handful_of_scenes_to_near_perfect_map():
    """Loss, targets and decoding agree: a few scenes are learnt almost exactly.

    Four scenes (12 objects of both classes, lights in two states) in one batch learn in 100 steps, in
    seconds; these reach mAP 1.0 from 60 steps on, and the scenes of seeds 1 and 2 pass at 100 steps too."""
    scenes = rectangle_scenes(4)
    detector = small_detector().fit(scenes, epochs=100, training=quick_training(batch_size=4, learning_rate=1e-2),
                                    verbose=False)
    metrics = detector.evaluate(scenes)
    assert metrics["map_50"] >= 0.95
    assert metrics["light_state_accuracy"] >= 0.95


def test_predict_accepts_batches_lists_and_uint8_arrays_alike():
    scenes = rectangle_scenes(4)
    detector = small_detector().fit(scenes, epochs=1, training=quick_training(batch_size=4), verbose=False)
    batch = torch.stack([image for image, _ in scenes[:2]])
    arrays = [(image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) for image, _ in scenes[:2]]
    from_batch = detector.predict(batch, score_threshold=0.0, precision="float32")
    from_list = detector.predict(list(batch), score_threshold=0.0, precision="float32")
    from_arrays = detector.predict(arrays, score_threshold=0.0, precision="float32")
    assert len(from_batch) == 2
    assert torch.allclose(from_batch[1].scores, from_list[1].scores)
    assert torch.allclose(from_batch[0].scores, from_arrays[0].scores, atol=1e-2)
    assert from_batch[0].attribute_values["light_state"] == ("red", "yellow", "green")
    assert from_batch[0].attributes["light_state"].shape[1] == 3


def test_predict_pads_odd_sizes_and_keeps_boxes_inside_the_image():
    detector = small_detector()
    detector.network_ = detector.build_network().eval()
    (found,) = detector.predict(torch.rand(1, 3, 50, 70), score_threshold=0.0)
    assert len(found) == 100
    assert (found.boxes[:, 2] <= 70).all() and (found.boxes[:, 3] <= 50).all() and (found.boxes >= 0).all()


def test_bfloat16_fast_path_agrees_with_float32():
    scenes = rectangle_scenes(8)
    detector = small_detector().fit(scenes, epochs=3, training=quick_training(), verbose=False)
    images = torch.stack([image for image, _ in scenes])
    exact = detector.predict(images, score_threshold=0.0, precision="float32")
    fast = detector.predict(images, score_threshold=0.0, precision="bfloat16")
    assert torch.allclose(exact[0].scores[:5], fast[0].scores[:5], atol=0.05)


def test_predict_before_fit_says_what_to_do():
    with pytest.raises(ValueError, match=r"no weights yet: call fit\(...\) or Detector.load"):
        small_detector().predict(torch.rand(1, 3, 32, 32))


@pytest.mark.parametrize("bad, message", [
    (dict(score_threshold=1.5), r"`score_threshold` must be a float in \[0, 1\]. Received: score_threshold=1.5"),
    (dict(batch_size=0), r"`batch_size` must be a positive integer. Received: batch_size=0"),
    (dict(precision="fp8"), r"`precision` must be one of .*Received: precision='fp8'"),
])
def test_predict_rejects_bad_arguments_with_one_line(bad, message):
    detector = small_detector()
    detector.network_ = detector.build_network().eval()
    with pytest.raises(ValueError, match=message):
        detector.predict(torch.rand(1, 3, 32, 32), **bad)


def test_wrong_image_shapes_are_named():
    detector = small_detector()
    detector.network_ = detector.build_network().eval()
    with pytest.raises(ValueError, match=r"Received a tensor of shape \(1, 32, 32\)"):
        detector.predict(torch.rand(1, 1, 32, 32))


def test_config_errors_and_unknown_settings():
    with pytest.raises(ValueError, match=r"`width` must be in \[4, 256\]. Received: width=2"):
        DetectorConfig(width=2)
    with pytest.raises(TypeError, match="unknown setting 'widht'"):
        Detector(widht=8)


def test_shipped_default_model_loads_with_the_world_class_map():
    from perception.model import DEFAULT_WEIGHTS
    from perception.world import CLASS_NAMES

    if not DEFAULT_WEIGHTS.exists():
        pytest.skip("no shipped weights in this checkout")
    detector = Detector.load_default()
    assert detector.class_names == CLASS_NAMES
    assert 0.0 < detector.metrics_["map_50"] <= 1.0 and "hard_preset" in detector.metrics_


def test_predict_on_a_channels_last_batch_matches_image_by_image():
    scenes = rectangle_scenes(5)
    detector = small_detector().fit(scenes, epochs=1, training=quick_training(batch_size=4), verbose=False)
    batch = torch.stack([image for image, _ in scenes]).contiguous(memory_format=torch.channels_last)
    whole = detector.predict(batch, score_threshold=0.0, batch_size=2, precision="float32")
    one_by_one = [detector.predict(image, score_threshold=0.0, precision="float32")[0] for image, _ in scenes]
    assert len(whole) == 5
    for a, b in zip(whole, one_by_one):
        assert torch.allclose(a.scores, b.scores, atol=1e-5) and torch.allclose(a.boxes, b.boxes, atol=1e-3)
