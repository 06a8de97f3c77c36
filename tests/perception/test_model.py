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


def _random_detector():
    detector = small_detector()
    detector.network_ = detector.build_network().eval()
    return detector


def _same_detections(a, b, atol=1e-5):
    return torch.allclose(a.scores, b.scores, atol=atol) and torch.allclose(a.boxes, b.boxes, atol=1e-3)


@pytest.fixture(scope="module")
def picture():
    """A uint8 H x W x 3 picture and the float (3, H, W) tensor it stands for."""
    array = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    return array, torch.from_numpy(array).permute(2, 0, 1).float() / 255


def test_predict_accepts_pil_images_and_file_paths(picture, tmp_path):
    from PIL import Image

    array, tensor = picture
    detector = _random_detector()
    (expected,) = detector.predict(tensor, score_threshold=0.0, precision="float32")
    Image.fromarray(array).save(tmp_path / "a.png")
    inputs = {"PIL RGB": Image.fromarray(array), "PIL RGBA": Image.fromarray(array).convert("RGBA"),
              "str path": str(tmp_path / "a.png"), "Path": tmp_path / "a.png"}
    for name, image in inputs.items():
        (found,) = detector.predict(image, score_threshold=0.0, precision="float32")
        assert _same_detections(found, expected), name
    from_list = detector.predict([tmp_path / "a.png", Image.fromarray(array), tensor], score_threshold=0.0,
                                 precision="float32")
    assert len(from_list) == 3 and all(_same_detections(found, expected) for found in from_list)


def test_predict_accepts_grey_rgba_and_float_arrays(picture):
    array, tensor = picture
    detector = _random_detector()
    (expected,) = detector.predict(tensor, score_threshold=0.0, precision="float32")
    alpha = np.full((*array.shape[:2], 1), 7, dtype=np.uint8)
    for name, image in {"uint8 RGBA": np.concatenate([array, alpha], axis=2),
                        "float RGB in [0, 1]": array.astype(np.float32) / 255,
                        "batch (B, H, W, 3)": array[None]}.items():
        (found,) = detector.predict(image, score_threshold=0.0, precision="float32")
        assert _same_detections(found, expected), name
    grey = array[:, :, 0]
    (expected_grey,) = detector.predict(tensor[:1].expand(3, -1, -1), score_threshold=0.0, precision="float32")
    for name, image in {"uint8 H x W": grey, "float H x W": grey / 255.0, "H x W x 1": grey[:, :, None]}.items():
        (found,) = detector.predict(image, score_threshold=0.0, precision="float32")
        assert _same_detections(found, expected_grey), name


@pytest.mark.parametrize("image, error, message", [
    (np.zeros((3, 32, 32), dtype=np.uint8), ValueError,
     r"numpy images must be H x W, H x W x 3 or H x W x 4. Received an array of shape \(3, 32, 32\) and dtype "
     r"uint8 \(channels first\?"),
    (np.zeros(32, dtype=np.uint8), ValueError, r"Received an array of shape \(32,\) and dtype uint8"),
    (np.full((8, 8, 3), 255.0), ValueError,
     r"float images must hold values in \[0, 1\]. Received an array of shape \(8, 8, 3\) and dtype float64 "
     r"with values in \[255.0, 255.0\]; divide by 255 or pass uint8"),
    (np.full((8, 8), np.nan, dtype=np.float32), ValueError, r"values in \[nan, nan\]"),
    (np.zeros((8, 8, 3), dtype=np.int64), ValueError,
     r"numpy images must be uint8 or float in \[0, 1\]. Received an array of shape \(8, 8, 3\) and dtype int64"),
    (torch.zeros(4, 32, 32), ValueError, r"Received a tensor of shape \(4, 32, 32\) and dtype torch.float32"),
    (12, TypeError, r"a PIL image or a file path. Received int 12"),
    ({"image": 1}, TypeError, r"Received dict \{'image': 1\}"),
])
def test_predict_refuses_what_it_cannot_read_naming_type_shape_and_dtype(image, error, message):
    with pytest.raises(error, match=message):
        _random_detector().predict(image)


def test_predict_names_a_missing_image_file(tmp_path):
    with pytest.raises(ValueError, match=r"missing.png: cannot read image \(No such file or directory\)"):
        _random_detector().predict(tmp_path / "missing.png")


def test_predict_refuses_a_decompression_bomb_before_decoding_it(tmp_path):
    """A tiny PNG declaring 100000 x 100000 pixels: refused from its header, by name."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    with pytest.raises(ValueError, match=r"bomb.png: .*refused before decoding"):
        _random_detector().predict(bomb)


def test_summary_lists_blocks_parameters_input_size_and_flops():
    detector = small_detector(depth=1)
    summary = detector.summary(input_size=64)
    network = detector.build_network()
    assert summary.num_parameters == sum(p.numel() for p in network.parameters())
    assert [block.name for block in summary.blocks][:2] == ["stem", "stage8"] and summary.blocks[-1].name == "head"
    assert sum(block.num_parameters for block in summary.blocks) == summary.num_parameters
    assert summary.input_shape == (1, 3, 64, 64)
    stem_convolution = network.stem[0][0]   # 3 -> 8 channels, 3x3, stride 2 on 64x64: 32x32 outputs
    assert summary.blocks[0].flops >= 2 * 8 * 3 * 9 * 32 * 32
    assert summary.flops == sum(block.flops for block in summary.blocks) > 0
    assert abs(summary.flops - 4 * detector.summary(input_size=32).flops) <= 0.01 * summary.flops  # 4x the pixels
    text = str(summary)
    assert "stem" in text and f"total parameters: {summary.num_parameters:,}" in text
    assert "input size: 3 x 64 x 64" in text and "forward FLOPs:" in text
    assert detector.summary().input_shape == (1, 3, 256, 256)   # config.input_size by default
    assert stem_convolution.in_channels == 3
    temporal = small_detector(num_frames=2)
    assert temporal.summary(input_size=(32, 64)).input_shape == (1, 6, 32, 64)
    with pytest.raises(ValueError, match=r"`input_size` must be a positive integer or \(height, width\). "
                                         r"Received: input_size=0"):
        detector.summary(input_size=0)


def test_summary_of_a_fitted_detector_leaves_its_weights_and_the_random_state_alone():
    detector = _random_detector()
    before = {name: value.clone() for name, value in detector.network_.state_dict().items()}
    torch.manual_seed(3)
    expected_draw = torch.rand(1)
    torch.manual_seed(3)
    detector.summary(input_size=32)
    small_detector().summary(input_size=32)   # no weights yet: the architecture alone
    assert torch.equal(torch.rand(1), expected_draw)
    assert all(torch.equal(before[name], value) for name, value in detector.network_.state_dict().items())
    assert next(detector.network_.parameters()).device.type == "cpu"
