import numpy as np
import pytest
import torch

from bridge import cli
from perception.export import export_detector


@pytest.fixture(scope="module")
def detector(tiny_detector):
    return tiny_detector


def test_onnx_export_matches_pytorch(detector, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path = export_detector(detector, tmp_path / "m.onnx", format="onnx", input_size=64)
    session = ort.InferenceSession(str(path))
    images = torch.rand(3, 3, 64, 96)  # another batch size and width than traced
    exported = session.run(None, {"images": images.numpy()})[0]
    expected = detector.forward(images, network=detector.network_.eval()).detach().numpy()
    assert exported.shape == expected.shape
    np.testing.assert_allclose(exported, expected, atol=1e-4)


def test_torchscript_export_matches_pytorch(detector, tmp_path):
    path = export_detector(detector, tmp_path / "m.pt", format="torchscript", input_size=64)
    module = torch.jit.load(str(path))
    images = torch.rand(2, 3, 64, 64)
    expected = detector.forward(images, network=detector.network_.eval())
    assert torch.allclose(module(images), expected, atol=1e-4)


def test_export_command_and_its_errors(detector, tmp_path, capsys):
    weights = detector.save(tmp_path / "w.safetensors")
    assert cli.main(["export", "--weights", str(weights), "--format", "torchscript"]) == 0
    assert (tmp_path / "w.pt").exists()
    assert cli.main(["export", "--weights", str(tmp_path / "none.safetensors"), "--format", "onnx"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("none.safetensors: no such checkpoint file")
    with pytest.raises(ValueError, match="`format` must be one of onnx, torchscript. Received: format='tflite'"):
        export_detector(detector, tmp_path / "m.tfl", format="tflite")


def test_onnx_metadata_carries_class_names_attributes_frames_and_input_size(detector, tmp_path):
    import json

    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    path = export_detector(detector, tmp_path / "m.onnx", format="onnx", input_size=64)
    properties = {entry.key: entry.value for entry in onnx.load(str(path)).metadata_props}
    assert json.loads(properties["class_names"]) == list(detector.class_names) == ["red", "blue"]
    assert json.loads(properties["attribute_names"]) == ["light_state"]
    assert json.loads(properties["attributes"]) == {"light_state": ["red", "yellow", "green"]}
    assert properties["num_frames"] == "1" and properties["input_size"] == "64" and properties["stride"] == "4"
    channels = json.loads(properties["output_channels"])
    session = ort.InferenceSession(str(path))
    assert session.get_modelmeta().custom_metadata_map == properties
    outputs = session.run(None, {"images": torch.rand(1, 3, 64, 64).numpy()})[0]
    assert len(channels) == outputs.shape[1] and channels[:2] == ["heatmap:red", "heatmap:blue"]


def test_exported_metadata_of_a_multi_frame_detector_names_its_velocity_channels(tmp_path):
    import json

    from detector_helpers import small_detector

    temporal = small_detector(num_frames=2)
    temporal.network_ = temporal.build_network().eval()
    path = export_detector(temporal, tmp_path / "m.pt", format="torchscript", input_size=32)
    extra = {"metadata.json": ""}
    module = torch.jit.load(str(path), _extra_files=extra)
    metadata = json.loads(extra["metadata.json"])
    assert metadata["num_frames"] == "2" and json.loads(metadata["class_names"]) == ["red", "blue"]
    channels = json.loads(metadata["output_channels"])
    assert channels[-4:] == ["velocity:x", "velocity:y", "velocity_log_scale:x", "velocity_log_scale:y"]
    assert len(channels) == module(torch.rand(1, 6, 32, 32)).shape[1]
