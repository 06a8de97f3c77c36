"""Export a detector's network to ONNX or TorchScript.

The exported graph maps float images (B, 3, H, W) in [0, 1] (H, W multiples
of 32) to the raw output maps (B, C + 4 + A, H/4, W/4); decode them with
:func:`perception.decode.decode_outputs`. Batch size and image size are
dynamic in ONNX. A multi-frame detector (``num_frames=T``) exports a graph
of (B, 3T, H, W) frame stacks, oldest frame's channels first, to
(B, C + 4 + A + 4, H/4, W/4) (decode with ``velocity=True``).
"""
from __future__ import annotations

import copy
import io
from pathlib import Path

import torch

from perception.backbone import FRAME_CHANNELS, fuse_conv_bn
from perception.files import write_atomic

FORMATS = ("onnx", "torchscript")


def export_detector(detector, path: str | Path, *, format: str = "onnx", input_size: int | None = None) -> Path:
    """Write the detector's network to ``path`` (atomically).

    Args:
        detector: a fitted or loaded :class:`perception.model.Detector`.
        path: output file.
        format: ``"onnx"`` or ``"torchscript"``.
        input_size: side of the example image used for tracing (default
            ``detector.config.input_size``).

    Returns:
        The path written.
    """
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(FORMATS)}. Received: format={format!r}")
    network = fuse_conv_bn(copy.deepcopy(detector._require_network()).float().cpu().eval())
    size = input_size or detector.config.input_size
    example = torch.rand(1, FRAME_CHANNELS * detector.config.num_frames, size, size)
    buffer = io.BytesIO()
    with torch.no_grad():
        if format == "onnx":
            _export_onnx(network, example, buffer)
        else:
            torch.jit.save(torch.jit.trace(network, example), buffer)
    return write_atomic(path, buffer.getvalue())


def _export_onnx(network, example, buffer: io.BytesIO) -> None:
    torch.onnx.export(network, (example,), buffer, input_names=["images"], output_names=["outputs"],
                      dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"},
                                    "outputs": {0: "batch", 2: "rows", 3: "columns"}},
                      opset_version=17, dynamo=False)
