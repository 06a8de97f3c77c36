"""Inference helpers around :class:`perception.model.Detector`: batching a
dataset, reading images, turning what users hand to ``predict`` (tensors,
numpy arrays, PIL images, file paths) into image tensors, sharded prediction
over an image folder, and the predictions-vs-truth picture."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader
from tqdm import tqdm

from perception import distributed
from perception.coco import read_image
from perception.datasets import collate_detection
from perception.draw import draw_boxes, image_grid
from perception.files import write_atomic

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def iterate_batches(data, *, batch_size: int = 32, verbose: bool = False, desc: str = ""):
    """Yield ``(images (B, 3, H, W), targets)`` from a Dataset of
    ``(image, target)`` (in order) or from a DataLoader as it is."""
    if not isinstance(data, DataLoader):
        data = DataLoader(data, batch_size=batch_size, shuffle=False, collate_fn=collate_detection)
    yield from tqdm(data, desc=desc, leave=False, file=sys.stderr, disable=None if verbose else True)


def load_image(path: str | Path) -> torch.Tensor:
    """An image file as a float tensor (3, H, W) in [0, 1].

    Raises:
        ValueError: the file is missing, declares more pixels than
            ``perception.coco.MAX_IMAGE_PIXELS`` (refused before decoding) or
            is not a readable image (names the file).

    Example:
        >>> load_image("missing.png")
        Traceback (most recent call last):
        ...
        ValueError: missing.png: cannot read image (No such file or directory)
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: cannot read image (No such file or directory)")
    array = read_image(path)   # refuses an image over the pixel limit before decoding it
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255


def to_image_tensor(image) -> torch.Tensor:
    """One image as the detector sees it: a float tensor (3, H, W) in [0, 1].

    Accepts a tensor (3, H, W), float in [0, 1] or uint8; a PIL image (any
    mode, converted to RGB); a file path (``str`` or ``Path``); or a numpy
    array, channels last: H x W (grey, copied to 3 channels), H x W x 1,
    H x W x 3 or H x W x 4 (alpha dropped), uint8 or float in [0, 1].

    Raises:
        TypeError: not an image type; ValueError: a shape, dtype or range it
        cannot read. The message says what was received (type, shape, dtype).

    Example:
        >>> to_image_tensor(np.full((2, 4), 255, dtype=np.uint8)).shape     # grey H x W
        torch.Size([3, 2, 4])
        >>> to_image_tensor(np.zeros((2, 4, 4), dtype=np.float32)).shape   # RGBA: alpha dropped
        torch.Size([3, 2, 4])
        >>> to_image_tensor(np.full((2, 4, 3), 255.0))
        Traceback (most recent call last):
        ...
        ValueError: float images must hold values in [0, 1]. Received an array of shape (2, 4, 3) and dtype float64 with values in [255.0, 255.0]; divide by 255 or pass uint8
    """
    if isinstance(image, (str, Path)):
        return load_image(image)
    if isinstance(image, Image.Image):
        return torch.from_numpy(np.array(image.convert("RGB"), dtype=np.uint8)).permute(2, 0, 1).float() / 255
    if isinstance(image, np.ndarray):
        return _array_to_tensor(image)
    if isinstance(image, torch.Tensor):
        if image.ndim != 3 or image.shape[0] != 3:
            raise ValueError("tensor images must be (3, H, W), float in [0, 1] or uint8 "
                             f"(numpy arrays: H x W x 3). Received {describe_image(image)}")
        return image.float() / 255 if image.dtype == torch.uint8 else image.float()
    raise TypeError("an image must be a tensor (3, H, W), a numpy array (H x W, H x W x 3 or H x W x 4), "
                    f"a PIL image or a file path. Received {describe_image(image)}")


def describe_image(image) -> str:
    """What an image argument is, for error messages: its type, shape and dtype.

    Example:
        >>> describe_image(np.zeros((2, 3), dtype=np.int64)), describe_image(7)
        ('an array of shape (2, 3) and dtype int64', 'int 7')
    """
    if isinstance(image, np.ndarray):
        return f"an array of shape {image.shape} and dtype {image.dtype}"
    if isinstance(image, torch.Tensor):
        return f"a tensor of shape {tuple(image.shape)} and dtype {image.dtype}"
    if isinstance(image, Image.Image):
        return f"a PIL image of size {image.size} and mode {image.mode}"
    shown = repr(image)
    return f"{type(image).__name__} {shown if len(shown) <= 60 else shown[:57] + '...'}"


def _array_to_tensor(array: np.ndarray) -> torch.Tensor:
    if array.ndim == 3 and array.shape[2] in (1, 3, 4):
        array = array[:, :, :3]
    elif array.ndim != 2:
        hint = (" (channels first? numpy images are channels last: array.transpose(1, 2, 0))"
                if array.ndim == 3 and array.shape[0] in (1, 3, 4) else "")
        raise ValueError(f"numpy images must be H x W, H x W x 3 or H x W x 4. Received {describe_image(array)}{hint}")
    if array.dtype == np.uint8:
        scale = 255.0
    elif np.issubdtype(array.dtype, np.floating):
        low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
        if not (low >= 0.0 and high <= 1.0):  # also catches NaN
            raise ValueError(f"float images must hold values in [0, 1]. Received {describe_image(array)} "
                             f"with values in [{low}, {high}]; divide by 255 or pass uint8")
        scale = 1.0
    else:
        raise ValueError(f"numpy images must be uint8 or float in [0, 1]. Received {describe_image(array)}")
    tensor = torch.from_numpy(np.ascontiguousarray(array)).float()
    if scale != 1.0:
        tensor = tensor / scale
    if tensor.ndim == 2:
        tensor = tensor[:, :, None]
    return tensor.permute(2, 0, 1).expand(3, -1, -1).contiguous()


def list_images(folder: str | Path) -> list[Path]:
    """Image files in ``folder`` (sorted; png, jpg, jpeg, bmp).

    Example:
        >>> list_images("no/such/folder")
        Traceback (most recent call last):
        ...
        ValueError: no/such/folder: no such folder of images
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder of images")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def predict_folder(detector, folder: str | Path, out: str | Path, *, batch_size: int = 32,
                   score_threshold: float | None = None, verbose: bool = False) -> int:
    """Detect objects in every image of ``folder`` and write one JSON file
    ``out`` (``{"image name": [records...]}``). Under ``torchrun`` each process
    takes its shard of the images and rank 0 writes the merged result.

    Returns:
        The number of images this process handled.
    """
    paths = distributed.shard(list_images(folder))
    records: dict[str, list] = {}
    for start in tqdm(range(0, len(paths), batch_size), desc="predict", leave=False, file=sys.stderr,
                      disable=None if (verbose and distributed.is_main_process()) else True):
        chunk = paths[start:start + batch_size]
        images = [load_image(p) for p in chunk]
        for path, detections in zip(chunk, detector.predict(images, score_threshold=score_threshold,
                                                            batch_size=batch_size)):
            records[path.name] = detections.to_records()
    merged: dict[str, list] = {}
    for part in distributed.gather_objects(records):
        merged.update(part)
    if distributed.is_main_process():
        text = json.dumps({name: merged[name] for name in sorted(merged)}, indent=1)
        write_atomic(out, text + "\n")
    return len(paths)


def save_prediction_grid(examples, path: str | Path, *, score_threshold: float = 0.3, columns: int = 4,
                         scale: int = 2) -> Path:
    """A PNG of ground truth (left) beside predictions (right) for each example.

    Args:
        examples: ``(image (3, H, W), Detections, target)`` triples.
        path: the PNG to write (atomically).
        score_threshold: predictions below this score are not drawn.
        columns: pictures per row (truth and prediction count as two).
        scale: enlargement of each picture.

    Returns:
        The path written.
    """
    pictures = []
    for image, detections, target in examples:
        names = detections.class_names
        truth_labels = [f"{names[int(k)]}" for k in target["labels"].tolist()]
        pictures.append(draw_boxes(image, target["boxes"], truth_labels, scale=scale))
        confident = detections.select(detections.scores >= score_threshold)
        pictures.append(draw_boxes(image, confident.boxes, confident.label_names(), scores=confident.scores,
                                   scale=scale))
    if not pictures:
        raise ValueError("no examples to draw: the dataset is empty")
    buffer = io.BytesIO()
    image_grid(pictures, columns=columns).save(buffer, format="PNG")
    write_atomic(path, buffer.getvalue())
    return Path(path)
