"""COCO-format detection datasets: writing synthetic scenes, reading any dataset.

A dataset folder holds ``annotations.json``, ``images/*.png`` and, for
synthetic data, ``world.jsonl`` (one :meth:`Scene.to_json` per image, same
order and ids). Category ids are ``label + 1``; every annotation carries
``bbox`` (x, y, w, h pixels), ``area``, ``iscrowd``, ``category_id``,
``attributes`` (e.g. ``{"light_state": "red"}``), ``object_id`` and
``occlusion``.
"""
from __future__ import annotations

import json
import math
import struct
import warnings
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterable

import numpy as np

from perception.files import write_atomic

ANNOTATIONS_NAME = "annotations.json"
WORLD_NAME = "world.jsonl"
IMAGE_FOLDER = "images"


class CocoError(ValueError):
    """A COCO dataset is malformed; the message names the file and the entry."""


def image_file_name(image_id: int) -> str:
    """File name of an image inside ``images/``.

    Example:
        >>> image_file_name(7)
        '000007.png'
    """
    return f"{image_id:06d}.png"


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 image, quickly: one "sub" filter for every row, zlib level 1.

    Noisy sensor images barely compress, so adaptive per-row filtering (what
    general encoders do) costs about as much time as it saves bytes.

    Example:
        >>> import io
        >>> from PIL import Image
        >>> image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
        >>> np.array_equal(np.asarray(Image.open(io.BytesIO(encode_png(image)))), image)
        True
    """
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"`image` must be (H, W, 3) uint8. Received shape {image.shape}")
    height, width = image.shape[:2]
    rows = image.reshape(height, width * 3)
    filtered = np.empty((height, width * 3 + 1), dtype=np.uint8)
    filtered[:, 0] = 1  # filter type "sub": each byte minus the byte one pixel to its left
    filtered[:, 1:4] = rows[:, :3]
    np.subtract(rows[:, 3:], rows[:, :-3], out=filtered[:, 4:])  # wraps modulo 256, as PNG wants

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(filtered.tobytes(), 1)) + chunk(b"IEND", b""))


def save_png(image: np.ndarray, path: str | Path) -> None:
    """Save an (H, W, 3) uint8 image as PNG atomically (see :func:`encode_png`).

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> path = Path(tempfile.mkdtemp()) / "x.png"
        >>> save_png(np.zeros((4, 6, 3), dtype=np.uint8), path)
        >>> Image.open(path).size
        (6, 4)
    """
    write_atomic(path, encode_png(image), fsync=False)


def categories(class_names) -> list[dict]:
    """The COCO categories of a class map (id = label + 1).

    Example:
        >>> categories(("car", "truck"))[1]
        {'id': 2, 'name': 'truck', 'supercategory': 'road'}
    """
    return [{"id": label + 1, "name": name, "supercategory": "road"} for label, name in enumerate(class_names)]


def scene_annotations(scene, first_annotation_id: int, *, class_names) -> tuple[dict, list[dict]]:
    """The COCO image entry and annotations of one scene.

    Args:
        scene: a :class:`~perception.world.Scene`.
        first_annotation_id: id of its first annotation.
        class_names: the class map; an object's category id is its label's position + 1.

    Returns:
        ``(image, annotations)`` dicts; annotation ids count up from ``first_annotation_id``.

    Example:
        >>> from perception.world import CLASS_NAMES, WorldConfig, generate_scene
        >>> scene = generate_scene(WorldConfig(image_size=64, metres_per_pixel=0.8), seed=0)
        >>> image, annotations = scene_annotations(scene, 1, class_names=CLASS_NAMES)
        >>> image["file_name"], len(annotations) == len(scene.objects)
        ('000000.png', True)
    """
    width, height = scene.calibration.image_size
    image = {"id": scene.image_id, "file_name": image_file_name(scene.image_id), "width": width, "height": height,
             "episode_id": scene.episode_id, "frame_index": scene.frame_index}
    annotations = []
    for offset, obj in enumerate(scene.objects):
        x1, y1, x2, y2 = obj.box
        annotations.append({
            "id": first_annotation_id + offset, "image_id": scene.image_id,
            "category_id": class_names.index(obj.label) + 1,
            "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0,
            "attributes": dict(obj.attributes), "object_id": obj.id, "occlusion": obj.occlusion,
        })
    return image, annotations


def write_coco(scenes: Iterable, out_dir: str | Path, *, class_names, write_images: bool = True) -> Path:
    """Write scenes as a COCO dataset with their world state.

    Args:
        scenes: :class:`~perception.world.Scene` objects with distinct ``image_id``.
        out_dir: folder to create or fill (``images/``, ``annotations.json``, ``world.jsonl``).
        class_names: the class map (the world's ``CLASS_NAMES``); the categories are written from it.
        write_images: False writes only the annotations and world state.

    Returns:
        Path of ``annotations.json``.

    Example:
        >>> import tempfile
        >>> from perception.world import CLASS_NAMES, WorldConfig, generate_scene
        >>> scene = generate_scene(WorldConfig(image_size=64, metres_per_pixel=0.8), seed=0)
        >>> path = write_coco([scene], tempfile.mkdtemp(), class_names=CLASS_NAMES)
        >>> len(read_coco(path)["images"])
        1
    """
    out_dir = Path(out_dir)
    (out_dir / IMAGE_FOLDER).mkdir(parents=True, exist_ok=True)
    images, annotations, world_lines = [], [], []
    for scene in scenes:
        image, entries = scene_annotations(scene, len(annotations) + 1, class_names=class_names)
        if write_images:
            save_png(scene.image, out_dir / IMAGE_FOLDER / image["file_name"])
        images.append(image)
        annotations.extend(entries)
        world_lines.append(json.dumps(scene.to_json()))
    return write_index(out_dir, images, annotations, world_lines, class_names=class_names)


def write_index(out_dir: Path, images: list[dict], annotations: list[dict], world_lines: list[str], *,
                class_names) -> Path:
    """Write ``annotations.json`` and ``world.jsonl`` (atomically) for already written images.

    Args:
        out_dir: the dataset folder.
        images: COCO image entries.
        annotations: COCO annotations with their final ids.
        world_lines: one ``Scene.to_json`` JSON text per image, in the same order.
        class_names: the class map the annotations' category ids refer to.

    Returns:
        Path of ``annotations.json``.

    Example:
        >>> import tempfile
        >>> path = write_index(Path(tempfile.mkdtemp()), [], [], [], class_names=("car", "truck"))
        >>> read_coco(path)["categories"][1]["name"]
        'truck'
    """
    ids = [image["id"] for image in images]
    if len(set(ids)) != len(ids):
        raise ValueError(f"scenes must have distinct image ids. Received duplicates in {sorted(ids)[:10]}")
    data = {"info": {"description": "nesy synthetic driving world"}, "images": images,
            "annotations": annotations, "categories": categories(class_names)}
    path = Path(out_dir) / ANNOTATIONS_NAME
    write_atomic(Path(out_dir) / WORLD_NAME, "".join(line + "\n" for line in world_lines), fsync=False)
    write_atomic(path, json.dumps(data), fsync=False)
    return path


def annotations_path(path: str | Path) -> Path:
    """``path`` itself for a file, ``path/annotations.json`` for a folder.

    Example:
        >>> import tempfile
        >>> annotations_path(tempfile.mkdtemp()).name, annotations_path("data/val.json").name
        ('annotations.json', 'val.json')
    """
    path = Path(path)
    return path / ANNOTATIONS_NAME if path.is_dir() else path


def read_coco(path: str | Path) -> dict:
    """Read and check a COCO detection file (or a folder holding ``annotations.json``).

    Checks the top-level keys, each category's ``id`` (an integer) and ``name``, each
    image's ``id`` (an integer or string, given once), ``file_name`` (a
    relative path inside the dataset folder: :func:`check_file_name`),
    ``width``/``height``, each annotation's ``image_id``/``category_id``/
    ``bbox`` (four finite numbers, non-negative size, inside its image) and
    ``attributes``, and that the ids it refers to exist.

    Returns:
        The parsed mapping.

    Raises:
        CocoError: one line naming the file, the entry and what was expected.

    Example:
        >>> import json, tempfile, os
        >>> folder = tempfile.mkdtemp()
        >>> _ = open(os.path.join(folder, "annotations.json"), "w").write(json.dumps({"images": []}))
        >>> read_coco(folder)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        perception.coco.CocoError: .../annotations.json: missing key 'annotations' at the top level...
    """
    path = annotations_path(path)
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise CocoError(f"{path}: annotations file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CocoError(f"{path}: cannot read annotations file ({error})") from None
    data = _parse_json(text, path)
    if not isinstance(data, dict):
        raise CocoError(f"{path}: expected a JSON object at the top level. Received {type(data).__name__}")
    for key in ("images", "annotations", "categories"):
        if key not in data:
            raise CocoError(f"{path}: missing key '{key}' at the top level. "
                            "Expected 'images', 'annotations' and 'categories'")
        if not isinstance(data[key], list):
            raise CocoError(f"{path}: '{key}' must be a list. Received {type(data[key]).__name__}")
    category_ids = set()
    for index, category in enumerate(data["categories"]):
        where = f"categories[{index}]"
        _require(path, category, ("id", "name"), where)
        _check_id(path, category["id"], f"{where}.id", category_ids, integer=True)
        if not isinstance(category["name"], str) or not category["name"].strip():
            raise CocoError(f"{path}: {where}.name: expected a non-empty string. Received {_shown(category['name'])}")
        category_ids.add(category["id"])
    sizes = {}
    for index, image in enumerate(data["images"]):
        where = f"images[{index}]"
        _require(path, image, ("id", "file_name", "width", "height"), where)
        _check_id(path, image["id"], f"{where}.id", sizes)
        check_file_name(image["file_name"], f"{path}: {where}.file_name")
        width, height = image["width"], image["height"]
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_IMAGE_SIDE for v in (width, height)):
            raise CocoError(f"{path}: {where} (id {image['id']!r}): width and height must be positive integers "
                            f"of at most {MAX_IMAGE_SIDE}. Received width={_shown(width)}, height={_shown(height)}")
        sizes[image["id"]] = (width, height)
    for index, annotation in enumerate(data["annotations"]):
        where = f"annotations[{index}]"
        _require(path, annotation, ("image_id", "category_id", "bbox"), where)
        _check_id(path, annotation["image_id"], f"{where}.image_id")
        _check_id(path, annotation["category_id"], f"{where}.category_id", integer=True)
        if annotation["image_id"] not in sizes:
            raise CocoError(f"{path}: {where}: image_id {annotation['image_id']!r} is not among the images")
        if annotation["category_id"] not in category_ids:
            raise CocoError(f"{path}: {where}: unknown category_id {annotation['category_id']!r}. "
                            f"Expected one of {sorted(category_ids, key=str)[:20]}")
        attributes = annotation.get("attributes")
        if attributes is not None and not isinstance(attributes, dict):
            raise CocoError(f"{path}: {where}.attributes: expected an object such as {{\"light_state\": \"red\"}}. "
                            f"Received {_shown(attributes)}")
        bbox = annotation["bbox"]
        if not (isinstance(bbox, list) and len(bbox) == 4
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and _is_finite(v) for v in bbox)
                and bbox[2] >= 0 and bbox[3] >= 0):
            raise CocoError(f"{path}: {where}: bbox must be [x, y, width, height] with finite numbers and "
                            f"non-negative size. Received {_shown(bbox)}")
        width, height = sizes[annotation["image_id"]]
        x, y, w, h = bbox
        tolerance = 0.5
        if x < -tolerance or y < -tolerance or x + w > width + tolerance or y + h > height + tolerance:
            raise CocoError(f"{path}: {where}: bbox {bbox!r} lies outside its {width}x{height} image "
                            f"(image_id {annotation['image_id']})")
    return data


#: the longest image side a dataset may declare, in pixels.
MAX_IMAGE_SIDE = 65_535
#: the most pixels an image may have; a larger one is refused from its header, before decoding
#: (a small file may declare gigapixels: a decompression bomb).
MAX_IMAGE_PIXELS = 40_000_000


def check_file_name(file_name, where: str) -> str:
    """Refuse an image ``file_name`` that is not a relative path inside the dataset folder.

    Args:
        file_name: the ``file_name`` of a COCO image entry.
        where: the place named in the message, e.g. ``"annotations.json: images[3].file_name"``.

    Returns:
        ``file_name`` unchanged.

    Raises:
        CocoError: not a non-empty string, absolute (``/x``, ``C:\\x``), or with a ``..`` part.

    Example:
        >>> check_file_name("000001.png", "a.json: images[0].file_name")
        '000001.png'
        >>> check_file_name("../../etc/passwd", "a.json: images[0].file_name")
        Traceback (most recent call last):
        ...
        perception.coco.CocoError: a.json: images[0].file_name: must be a relative path inside the dataset folder (no '..', not absolute). Received '../../etc/passwd'
    """
    if not isinstance(file_name, str) or not file_name.strip() or "\0" in file_name:
        raise CocoError(f"{where}: expected a non-empty string naming an image file. Received {_shown(file_name)}")
    posix, windows = PurePosixPath(file_name), PureWindowsPath(file_name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or windows.root \
            or ".." in posix.parts or ".." in windows.parts:
        raise CocoError(f"{where}: must be a relative path inside the dataset folder (no '..', not absolute). "
                        f"Received {_shown(file_name)}")
    return file_name


def read_image(path: str | Path, *, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """An image file's pixels as (H, W, 3) uint8, refusing one over ``max_pixels`` before decoding it.

    Raises:
        CocoError: one line naming the file: missing, over the pixel limit (a
            decompression bomb), or not a readable image.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "x.png"
        >>> save_png(np.zeros((4, 6, 3), dtype=np.uint8), path)
        >>> read_image(path).shape
        (4, 6, 3)
        >>> read_image(path, max_pixels=20)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        perception.coco.CocoError: .../x.png: image is 6x4 = 24 pixels, over the limit of 20; refused before decoding
    """
    from PIL import Image

    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as file:
                width, height = file.size
                if width * height > max_pixels:
                    raise CocoError(f"{path}: image is {width}x{height} = {width * height} pixels, over the limit "
                                    f"of {max_pixels}; refused before decoding")
                return np.asarray(file.convert("RGB"))
    except CocoError:
        raise
    except FileNotFoundError:
        raise CocoError(f"{path}: image file not found") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise CocoError(f"{path}: image declares more pixels than the limit of {max_pixels}; "
                        "refused before decoding") from None
    except Exception as error:  # a malformed file makes PIL's decoders raise many kinds of error
        detail = _short(error).replace(f" {str(path)!r}", "").replace(str(path), "it")
        raise CocoError(f"{path}: cannot decode image ({detail})") from None


def _check_id(path, value, where: str, taken=None, *, integer: bool = False) -> None:
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise CocoError(f"{path}: {where}: expected an integer. Received {_shown(value)}")
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
        raise CocoError(f"{path}: {where}: expected an integer or a non-empty string. Received {_shown(value)}")
    if taken is not None and value in taken:
        raise CocoError(f"{path}: {where}: id {_shown(value)} is given twice")


def _parse_json(text: str, path):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CocoError(f"{path}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}") from None
    except RecursionError:
        raise CocoError(f"{path}: invalid JSON: nested too deeply") from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise CocoError(f"{path}: invalid JSON: {_short(error)}") from None


def _is_finite(number) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an integer too large for a float
        return False


def _shown(value, limit: int = 60) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10 ** 30:
        return f"an integer of {len(str(abs(value)))} digits"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0][:160] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _require(path, entry, keys, where) -> None:
    if not isinstance(entry, dict):
        raise CocoError(f"{path}: {where} must be an object. Received {type(entry).__name__}")
    for key in keys:
        if key not in entry:
            raise CocoError(f"{path}: {where}: missing key '{key}'. Expected keys: {', '.join(keys)}")


def read_world(path: str | Path) -> list[dict]:
    """The ``world.jsonl`` lines of a synthetic dataset folder, as dicts (``Scene.from_json`` rebuilds them).

    Example:
        >>> import tempfile
        >>> from perception.world import CLASS_NAMES, WorldConfig, generate_scene
        >>> folder = tempfile.mkdtemp()
        >>> _ = write_coco([generate_scene(WorldConfig(image_size=64, metres_per_pixel=0.8), 3)], folder,
        ...                class_names=CLASS_NAMES)
        >>> [record["image_id"] for record in read_world(folder)]
        [3]
    """
    path = Path(path)
    path = path / WORLD_NAME if path.is_dir() else path
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CocoError(f"{path}: cannot read world state ({getattr(error, 'strerror', None) or error})") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            record = _parse_json(line, f"{path}:{number}")
            if not isinstance(record, dict):
                raise CocoError(f"{path}:{number}: expected a JSON object (one scene). Received {_shown(record)}")
            records.append(record)
    return records
