"""A detector that sees motion: frame stacks in, velocities (m/s) and their uncertainty out."""
import math

import pytest
import torch
from detector_helpers import CLASS_NAMES, quick_training, small_detector

from perception.checkpoint import CheckpointError
from perception.datasets import image_to_tensor
from perception.decode import decode_outputs, pixel_to_ground_velocity
from perception.export import export_detector
from perception.model import DEFAULT_WEIGHTS, Detector
from perception.targets import encode_targets
from perception.world import WorldConfig, generate_scene

METRES_PER_PIXEL, FPS = 0.2, 10.0
RED = torch.tensor([1.0, 0.0, 0.0])[:, None, None]


def moving_rectangle_pairs(num_pairs: int, *, seed: int, size: int = 32, step: int = 4) -> list:
    """(previous, current) frames of one 8x8 red rectangle moving ``step`` pixels left or right."""
    generator = torch.Generator().manual_seed(seed)
    items = []
    for image_id in range(num_pairs):
        frames = torch.full((2, 3, size, size), 0.3)
        dx = step * (int(torch.randint(0, 2, (1,), generator=generator)) * 2 - 1)
        x, y = torch.randint(8, size - 16, (2,), generator=generator).tolist()
        frames[0, :, y:y + 8, x - dx:x - dx + 8] = RED
        frames[1, :, y:y + 8, x:x + 8] = RED
        velocity = pixel_to_ground_velocity(torch.tensor([[float(dx), 0.0]]), metres_per_pixel=METRES_PER_PIXEL,
                                            fps=FPS).float()
        items.append((frames, {"boxes": torch.tensor([[x, y, x + 8, y + 8]], dtype=torch.float32),
                               "labels": torch.zeros(1, dtype=torch.int64), "velocities": velocity,
                               "image_id": image_id}))
    return items


@pytest.mark.parametrize("shift, expected", [((4, 0), (8.0, 0.0)), ((-4, 0), (-8.0, 0.0)),
                                             ((0, 4), (0.0, -8.0)), ((0, -4), (0.0, 8.0))])
def test_a_rectangle_shifted_by_4_pixels_encodes_and_decodes_as_8_metres_per_second(shift, expected):
    """At 0.2 m/px and 10 fps, 4 px per frame is 8 m/s; image y points down, the ego's y forward (up)."""
    dx, dy = shift
    previous = torch.tensor([[20.0, 20.0, 32.0, 28.0]])
    current = previous + torch.tensor([dx, dy, dx, dy], dtype=torch.float32)
    measured = pixel_to_ground_velocity(current[:, :2] - previous[:, :2], metres_per_pixel=METRES_PER_PIXEL, fps=FPS)
    assert measured.tolist() == [list(expected)]
    target = {"boxes": current, "labels": torch.tensor([0]), "velocities": measured.float()}
    encoded = encode_targets([target], num_classes=1, height=16, width=16, metres_per_pixel=METRES_PER_PIXEL, fps=FPS)
    assert encoded["velocity"].tolist() == [[[float(dx), float(dy)]]]  # pixels per frame, image axes
    assert encoded["velocity_mask"].tolist() == [[True]]
    outputs = torch.full((1, 1 + 4 + 4, 16, 16), -10.0)  # a network that predicts exactly the encoded target
    cell = int(encoded["index"][0, 0])
    outputs.view(1, 9, -1)[0, 0, cell] = 10.0
    outputs.view(1, 9, -1)[0, 5:7, cell] = encoded["velocity"][0, 0]
    outputs.view(1, 9, -1)[0, 7:9, cell] = math.log(0.5)
    found = decode_outputs(outputs, num_classes=1, attribute_sizes={}, velocity=True)[0]
    decoded = pixel_to_ground_velocity(found["pixel_velocities"], metres_per_pixel=METRES_PER_PIXEL, fps=FPS)
    assert torch.allclose(decoded, torch.tensor([expected], dtype=torch.float64))
    assert torch.allclose(found["pixel_velocity_scales"], torch.tensor([[0.5, 0.5]]))


def test_unknown_target_velocities_are_left_out_of_the_velocity_loss():
    target = {"boxes": torch.tensor([[0.0, 0.0, 8.0, 8.0], [16.0, 16.0, 24.0, 24.0]]), "labels": torch.tensor([0, 0]),
              "velocities": torch.tensor([[8.0, 0.0], [math.nan, math.nan]])}
    encoded = encode_targets([target], num_classes=1, height=8, width=8, metres_per_pixel=METRES_PER_PIXEL, fps=FPS)
    assert encoded["velocity_mask"].tolist() == [[True, False]]
    assert torch.isfinite(encoded["velocity"]).all()


def test_a_tiny_temporal_detector_learns_the_sign_and_scale_of_motion():
    torch.manual_seed(0)
    detector = small_detector(num_frames=2, class_names=("red",), attributes={}, input_size=32,
                              metres_per_pixel=METRES_PER_PIXEL, fps=FPS)
    detector.fit(moving_rectangle_pairs(64, seed=0), epochs=6,
                 training=quick_training(lr_schedule="constant"), verbose=False)
    assert detector.history_[-1]["velocity"] < 0.8 * detector.history_[0]["velocity"]
    held_out = moving_rectangle_pairs(10, seed=99)
    found = detector.predict(torch.stack([frames for frames, _ in held_out]), score_threshold=0.0, precision="float32")
    truth = torch.stack([target["velocities"][0, 0] for _, target in held_out])  # +-8 m/s
    predicted = torch.stack([d.velocities[0, 0] for d in found]).float()  # the strongest peak of each pair
    assert (torch.sign(predicted) == torch.sign(truth)).all(), (truth, predicted)
    assert ((predicted * torch.sign(truth)).mean() > 4.0) and ((predicted * torch.sign(truth)).mean() < 12.0)
    assert all(torch.isfinite(d.velocity_uncertainty).all() and (d.velocity_uncertainty > 0).all() for d in found)
    metrics = detector.evaluate(held_out)
    assert metrics["velocity"]["num_matched"] >= 5 and metrics["velocity_mae"] < 4.0, metrics["velocity"]


@pytest.fixture(scope="module")
def temporal_detector():
    detector = small_detector(num_frames=2)
    detector.network_ = detector.build_network().eval()
    return detector


def test_a_single_frame_given_to_a_two_frame_detector_gives_boxes_and_unknown_velocities(temporal_detector):
    frame = torch.rand(3, 64, 64)
    alone = temporal_detector.predict(frame, score_threshold=0.0, precision="float32")[0]
    as_stack = temporal_detector.predict(torch.stack([frame, frame])[None], score_threshold=0.0,
                                         precision="float32")[0]
    assert len(alone) > 0 and torch.equal(alone.boxes, as_stack.boxes) and torch.equal(alone.scores, as_stack.scores)
    assert alone.velocities.shape == (len(alone), 2) and alone.velocities.dtype == torch.float64
    assert alone.velocities.isnan().all() and alone.velocity_uncertainty.isnan().all()
    assert torch.isfinite(as_stack.velocities).all()
    mixed = temporal_detector.predict([torch.stack([frame, frame]), frame, torch.rand(2, 3, 32, 96)],
                                      score_threshold=0.0)
    assert [bool(d.velocities.isnan().all()) for d in mixed] == [False, True, False]
    batch = temporal_detector.predict(torch.rand(2, 3, 64, 64), score_threshold=0.0)  # (B, 3, H, W): single images
    assert all(d.velocities.isnan().all() for d in batch)


def test_a_stack_of_the_wrong_length_is_refused_by_name(temporal_detector):
    with pytest.raises(ValueError, match=r"T = num_frames = 2, oldest frame first. Received a stack of shape \(3, 3, 64, 64\)"):
        temporal_detector.predict([torch.rand(3, 3, 64, 64)])


def test_warm_start_detects_exactly_as_the_single_frame_detector(tiny_detector):
    before = {k: v.clone() for k, v in tiny_detector.network_.state_dict().items()}
    temporal = Detector.from_single_frame(tiny_detector, num_frames=2)
    assert all(torch.equal(v, tiny_detector.network_.state_dict()[k]) for k, v in before.items())
    kernel = temporal.network_.input_convolution.weight
    assert kernel.shape[1] == 6 and kernel[:, :3].abs().sum() == 0  # oldest frame first: zeros
    assert torch.equal(kernel[:, 3:], tiny_detector.network_.input_convolution.weight)
    images = torch.rand(3, 3, 64, 64)
    single = tiny_detector.predict(images, score_threshold=0.0, precision="float32")
    static = temporal.predict(torch.stack([images, images], dim=1), score_threshold=0.0, precision="float32")
    moving = temporal.predict(torch.stack([torch.rand(3, 3, 64, 64), images], dim=1), score_threshold=0.0,
                              precision="float32")
    for expected, found in [*zip(single, static), *zip(single, moving)]:
        assert torch.equal(found.labels, expected.labels)
        assert torch.allclose(found.boxes, expected.boxes, atol=1e-4)
        assert torch.allclose(found.scores, expected.scores, atol=1e-5)
        assert (found.velocities == 0).all()  # the velocity head starts at zero


def test_warm_start_refuses_a_multi_frame_source(temporal_detector):
    with pytest.raises(ValueError, match="must be a single-frame detector. Received a detector with num_frames=2"):
        Detector.from_single_frame(temporal_detector, num_frames=3)


def test_a_checkpoint_with_another_temporal_setting_is_refused_by_name(temporal_detector, tiny_detector, tmp_path):
    path = temporal_detector.save(tmp_path / "temporal.safetensors")
    with pytest.raises(CheckpointError, match=r"temporal.safetensors: the checkpoint was trained with num_frames=2; "
                                              r"expected num_frames=1$"):
        Detector.load(path, num_frames=1)
    loaded = Detector.load(path, num_frames=2)
    stacks = torch.rand(2, 2, 3, 64, 64)
    for a, b in zip(loaded.predict(stacks, score_threshold=0.0), temporal_detector.predict(stacks, score_threshold=0.0)):
        assert torch.equal(a.boxes, b.boxes) and torch.equal(a.velocities, b.velocities)
    single = tiny_detector.save(tmp_path / "single.safetensors")
    with pytest.raises(CheckpointError, match="trained with num_frames=1; expected num_frames=2"):
        Detector.load(single, num_frames=2)


def test_the_shipped_single_frame_checkpoint_loads_and_predicts_as_before():
    detector = Detector.load(DEFAULT_WEIGHTS, num_frames=1)
    assert detector.num_frames == 1 and detector.network_.velocity_head is None
    image = image_to_tensor(generate_scene(WorldConfig(), seed=5).image)
    found = detector.predict(image[None], precision="float32")[0]
    # Recorded with the single-frame detector before multi-frame support.
    assert found.labels.tolist() == [3, 0, 0, 0, 2, 3, 2, 1, 2, 0, 3, 2]
    assert torch.allclose(found.scores, torch.tensor([0.921, 0.8928, 0.8157, 0.8014, 0.7932, 0.7918, 0.7666, 0.7388,
                                                      0.6598, 0.602, 0.543, 0.5349]), atol=2e-4)
    assert torch.allclose(found.boxes[:3], torch.tensor([[127.33, 70.59, 137.29, 81.61], [86.82, 155.62, 97.92, 180.91],
                                                         [122.75, 131.62, 133.92, 154.04]]), atol=0.02)
    assert found.velocities is None and found.velocity_uncertainty is None
    assert math.isclose(detector.forward(image[None]).sum().item(), -176193.78125, rel_tol=1e-5)


def test_a_two_frame_detector_exports_to_torchscript(temporal_detector, tmp_path):
    path = export_detector(temporal_detector, tmp_path / "m.pt", format="torchscript", input_size=64)
    module = torch.jit.load(str(path))
    stacks = torch.rand(2, 6, 64, 64)  # (B, 3T, H, W), oldest frame's channels first
    expected = temporal_detector.forward(stacks, network=temporal_detector.network_.eval())
    assert expected.shape[1] == len(CLASS_NAMES) + 4 + 3 + 4
    assert torch.allclose(module(stacks), expected, atol=1e-4)


def test_a_two_frame_detector_exports_to_onnx(temporal_detector, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path = export_detector(temporal_detector, tmp_path / "m.onnx", format="onnx", input_size=64)
    stacks = torch.rand(3, 6, 64, 96)  # another batch size and width than traced
    exported = ort.InferenceSession(str(path)).run(None, {"images": stacks.numpy()})[0]
    expected = temporal_detector.forward(stacks, network=temporal_detector.network_.eval())
    assert torch.allclose(torch.from_numpy(exported), expected, atol=1e-4)


def test_the_evaluation_table_shows_the_velocity_error():
    from perception.evaluation import format_metrics

    metrics = {"map_50": 0.9, "map_50_95": 0.7, "per_class": {},
               "velocity": {"mae": 1.25, "mean_uncertainty": 1.5, "num_matched": 4}, "velocity_mae": 1.25}
    assert format_metrics(metrics).splitlines()[-1] == (
        "velocity_mae: 1.250 m/s (mean uncertainty 1.500 m/s) on 4 matched objects")


def _temporal_training_config(tmp_path, init_from):
    config = tmp_path / "temporal.yaml"
    config.write_text("world:\n  image_size: 64\n  metres_per_pixel: 0.8\n"
                      "model:\n  width: 8\n  head_width: 16\n  metres_per_pixel: 0.8\n  num_frames: 3\n"
                      "training:\n  epochs: 1\n  batch_size: 4\n  num_train_scenes: 8\n  num_val_scenes: 4\n"
                      f"  frames_per_episode: 6\n  init_from: {init_from}\n")
    return config


def test_train_command_trains_a_multi_frame_detector_on_episode_stacks_warm_started(tmp_path):
    from bridge import cli
    from perception.model import Detector

    single = Detector(width=8, head_width=16, metres_per_pixel=0.8)
    single.network_ = single.build_network().eval()
    single.save(tmp_path / "single.safetensors")
    out = tmp_path / "run"
    assert cli.main(["train", str(_temporal_training_config(tmp_path, "single.safetensors")), "--out", str(out),
                     "--quiet"]) == 0
    trained = Detector.load(out / "model.safetensors")
    assert trained.num_frames == 3 and trained.metrics_["num_images"] == 4   # 4 validation stacks
    history = (out / "history.csv").read_text()
    assert "velocity" in history   # the velocity loss trained


def test_train_command_refuses_a_warm_start_with_other_classes(tmp_path, tiny_detector, capsys):
    from bridge import cli

    tiny_detector.save(tmp_path / "single.safetensors")   # classes red and blue
    config = _temporal_training_config(tmp_path, "single.safetensors")
    assert cli.main(["train", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 1
    assert "training.init_from has classes ['red', 'blue'] but the training data has" in capsys.readouterr().err
def test_train_command_refuses_a_multi_frame_model_on_a_coco_folder(tmp_path, capsys):
    from bridge import cli

    config = tmp_path / "temporal.yaml"
    config.write_text("model:\n  num_frames: 2\n")
    assert cli.main(["train", str(config), "--out", str(tmp_path / "run"), "--data", str(tmp_path)]) == 1
    assert "trains on frame stacks from generated episodes" in capsys.readouterr().err
