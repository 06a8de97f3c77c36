"""Export a detector's network to ONNX or TorchScript.

The exported graph maps float images (B, 3, H, W) in [0, 1] (H, W multiples
of 32) to the raw output maps (B, C + 4 + A, H/4, W/4); decode them with
:func:`perception.decode.decode_outputs`. Batch size and image size are
dynamic in ONNX. A multi-frame detector (``num_frames=T``) exports a graph
of (B, 3T, H, W) frame stacks, oldest frame's channels first, to
(B, C + 4 + A + 4, H/4, W/4) (decode with ``velocity=True``).

What a serving program needs to read the output travels with the file
(:func:`export_metadata`): the class names, the attribute names and values,
``num_frames``, the input size, the stride and the name of every output
channel. ONNX keeps them in the model's ``metadata_props`` (onnxruntime:
``session.get_modelmeta().custom_metadata_map``); TorchScript in the extra
file ``metadata.json`` (``torch.jit.load(path, _extra_files={"metadata.json": ""})``).
"""
from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import torch

from perception.backbone import FRAME_CHANNELS, STRIDE, fuse_conv_bn
from perception.files import write_atomic

FORMATS = ("onnx", "torchscript")


def export_detector(detector, path: str | Path, *, format: str = "onnx", input_size: int | None = None) -> Path:
    """Write the detector's network and its metadata to ``path`` (atomically).

    Args:
        detector: a fitted or loaded :class:`perception.model.Detector`.
        path: output file.
        format: ``"onnx"`` (needs the ``onnx`` package) or ``"torchscript"``.
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
    metadata = export_metadata(detector, input_size=size)
    buffer = io.BytesIO()
    with torch.no_grad():
        if format == "onnx":
            _export_onnx(network, example, buffer, metadata)
        else:
            torch.jit.save(torch.jit.trace(network, example), buffer,
                           _extra_files={"metadata.json": json.dumps(metadata, indent=1)})
    return write_atomic(path, buffer.getvalue())


def export_metadata(detector, *, input_size: int | None = None) -> dict[str, str]:
    """The strings an exported model carries to be read without nesy:
    ``class_names``, ``attribute_names`` and ``attributes`` (JSON),
    ``num_frames``, ``input_size`` (the traced side; any multiple of 32
    works), ``input_layout``, ``stride``, ``output_channels`` (JSON, one name
    per output channel), ``score_threshold`` and ``max_detections``.

    Example:
        >>> from perception.model import Detector
        >>> metadata = export_metadata(Detector(class_names=("car", "light"), attributes={"state": ("red", "green")}))
        >>> json.loads(metadata["class_names"]), json.loads(metadata["attribute_names"]), metadata["input_size"]
        (['car', 'light'], ['state'], '256')
        >>> json.loads(metadata["output_channels"])
        ['heatmap:car', 'heatmap:light', 'size:width', 'size:height', 'offset:x', 'offset:y', 'state:red', 'state:green']
    """
    config = detector.config
    channels = [f"heatmap:{name}" for name in config.class_names]
    channels += ["size:width", "size:height", "offset:x", "offset:y"]
    channels += [f"{name}:{value}" for name, values in config.attributes.items() for value in values]
    if config.num_frames > 1:
        channels += ["velocity:x", "velocity:y", "velocity_log_scale:x", "velocity_log_scale:y"]
    frames = "one image" if config.num_frames == 1 else f"{config.num_frames} frames stacked on channels, oldest first"
    return {
        "class_names": json.dumps(list(config.class_names)),
        "attribute_names": json.dumps(list(config.attributes)),
        "attributes": json.dumps({name: list(values) for name, values in config.attributes.items()}),
        "num_frames": str(config.num_frames),
        "input_size": str(input_size or config.input_size),
        "input_layout": (f"images (B, {FRAME_CHANNELS * config.num_frames}, H, W) float in [0, 1], {frames}; "
                         f"H and W multiples of 32"),
        "stride": str(STRIDE),
        "output_channels": json.dumps(channels),
        "score_threshold": str(config.score_threshold),
        "max_detections": str(config.max_detections),
    }


def _export_onnx(network, example, buffer: io.BytesIO, metadata: dict[str, str]) -> None:
    try:
        import onnx  # optional: only ONNX export needs it
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install onnx") from None
    graph = io.BytesIO()
    torch.onnx.export(network, (example,), graph, input_names=["images"], output_names=["outputs"],
                      dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"},
                                    "outputs": {0: "batch", 2: "rows", 3: "columns"}},
                      opset_version=17, dynamo=False)
    model = onnx.load_from_string(graph.getvalue())
    onnx.helper.set_model_props(model, metadata)
    buffer.write(model.SerializeToString())
