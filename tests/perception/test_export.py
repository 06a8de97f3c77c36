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
