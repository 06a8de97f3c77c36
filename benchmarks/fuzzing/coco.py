"""Fuzz COCO dataset folders: ``python -m benchmarks fuzz --target coco --cases 2000``.

Each case is a small synthetic dataset folder (``nesy generate``'s layout:
``annotations.json``, ``images/*.png``, ``world.jsonl``, two 32-pixel scenes)
with one or two mutations: a field of ``annotations.json`` set to a hostile
value (wrong type, huge or non-finite number, ``..`` or absolute
``file_name``, an id given twice), a key removed, broken JSON, an image
replaced by a decompression bomb (a tiny PNG declaring gigapixels), a
truncated or foreign file, or a malformed ``world.jsonl`` line. A file named
``outside.png`` lies next to the folder, for ``..`` names to reach.

The folder is read three ways: :func:`perception.coco.read_coco`, every item
of :class:`perception.datasets.CocoDataset`, and
:func:`bridge.frames.read_frames` (what ``nesy run --data`` uses). A case
fails when any raises something other than a ``ValueError`` of one line that
starts with a path inside the folder, when an image outside the folder is
read, or when an image over the pixel limit is decoded.
"""
from __future__ import annotations

import copy
import functools
import json
import math
import random
import struct
import tempfile
import zlib
from pathlib import Path

from benchmarks.fuzzing import Case
from bridge.frames import read_frames
from perception.coco import MAX_IMAGE_PIXELS, read_coco, read_world, write_coco
from perception.datasets import CocoDataset
from perception.world import CLASS_NAMES, WorldConfig, generate_scene

_HOSTILE = (None, True, 0, -1, 10 ** 400, 1.5, math.nan, math.inf, "", "x", [], [1], {}, {"a": 1})
_FILE_NAMES = ("../outside.png", "../../outside.png", "sub/../../outside.png", "/etc/hostname", "C:\\x.png",
               "..\\outside.png", 12, None, "", " ", ["a.png"], "missing.png", "images/../000000.png")


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@functools.lru_cache(maxsize=1)
def _base_dataset() -> tuple[dict, list[str], dict[str, bytes]]:
    """Annotations, world lines and image bytes of two 32-pixel scenes, made once per process."""
    config = WorldConfig(image_size=32, metres_per_pixel=1.5, preset="easy")
    with tempfile.TemporaryDirectory() as folder:
        scenes = []
        for seed in range(2):
            scene = generate_scene(config, seed=seed)
            scene.image_id = seed
            scenes.append(scene)
        write_coco(scenes, folder, class_names=CLASS_NAMES)
        data = read_coco(folder)
        world = [json.dumps(record) for record in read_world(folder)]
        images = {p.name: p.read_bytes() for p in (Path(folder) / "images").iterdir()}
    return data, world, images


def _mutate_annotations(rng: random.Random, data: dict) -> tuple[str, object]:
    sections = ("images", "annotations", "categories")
    if not all(isinstance(data.get(name), list) and all(isinstance(e, dict) for e in data[name]) for name in sections):
        return "whole_document", data  # broken by an earlier mutation: keep it so
    choice = rng.randrange(9)
    if choice == 0 and data["images"]:
        data["images"][rng.randrange(len(data["images"]))]["file_name"] = rng.choice(_FILE_NAMES)
        return "file_name", data
    if choice == 1:  # a hostile value anywhere in an entry
        section = rng.choice(("images", "annotations", "categories"))
        if data[section]:
            entry = data[section][rng.randrange(len(data[section]))]
            entry[rng.choice(list(entry) + ["extra"])] = rng.choice(_HOSTILE)
        return f"{section}_value", data
    if choice == 2:
        section = rng.choice(("images", "annotations", "categories"))
        if data[section]:
            entry = data[section][rng.randrange(len(data[section]))]
            entry.pop(rng.choice(list(entry)))
        return f"{section}_missing_key", data
    if choice == 3:
        data[rng.choice(("images", "annotations", "categories"))] = rng.choice(_HOSTILE)
        return "section_value", data
    if choice == 4:
        if data["annotations"]:
            annotation = data["annotations"][rng.randrange(len(data["annotations"]))]
            annotation["bbox"] = rng.choice(([0, 0, 10 ** 400, 1], [math.nan, 0, 1, 1], [0, 0, -1, 1], [0, 0, 1e308, 1],
                                             [1, 2, 3], "0 0 1 1", [True, 0, 1, 1], [0, 0, 1, 1, 1]))
        return "bbox", data
    if choice == 5 and data["images"]:
        image = data["images"][0]
        image[rng.choice(("width", "height"))] = rng.choice((0, -5, 10 ** 12, 2 ** 31, 32.0, "32", True))
        return "image_size", data
    if choice == 6:  # an id given twice, or of a wrong type
        section = rng.choice(("images", "categories"))
        if len(data[section]) > 1:
            data[section][1]["id"] = data[section][0]["id"]
        return f"{section}_duplicate_id", data
    if choice == 7:
        text = json.dumps(data)
        return "broken_json", rng.choice((text[:rng.randrange(1, len(text))], text.replace("]", "", 1),
                                          '{"images": ' + "[" * 50_000 + "]" * 50_000 + "}",
                                          text.replace('"id": 0', '"id": 1' + "0" * 5000, 1), "[]", "null"))
    return "whole_document", rng.choice(([], "x", 3, {"images": [], "annotations": []}, None))


def _mutate_images(rng: random.Random, images: dict[str, bytes]) -> str:
    name = rng.choice(sorted(images))
    choice = rng.randrange(6)
    if choice == 0:
        images[name] = bomb_png(*rng.choice(((100_000, 100_000), (7_000, 7_000), (65_535, 1), (1, 10 ** 9 // 1))))
        return "bomb"
    if choice == 1:
        images[name] = images[name][:rng.randrange(8, len(images[name]))]
        return "truncated_image"
    if choice == 2:
        images[name] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
        return "random_bytes"
    if choice == 3:
        images[name] = bomb_png(16, 16)  # a valid header with a broken body, of the wrong size
        return "wrong_size"
    if choice == 4:
        del images[name]
        return "missing_image"
    images[name] = b"GIF89a" + images[name]
    return "foreign_header"


def _mutate_world(rng: random.Random, world: list[str]) -> str:
    index = rng.randrange(len(world))
    try:
        record = json.loads(world[index])
    except ValueError:  # broken by an earlier mutation
        record = None
    choice = rng.randrange(5) if isinstance(record, dict) and record else rng.randrange(2)
    if choice == 0:
        world[index] = world[index][:rng.randrange(1, len(world[index]))]
    elif choice == 1:
        world[index] = json.dumps(rng.choice(([], 3, "scene", None)))
    elif choice == 2:
        record.pop(rng.choice(list(record)))
        world[index] = json.dumps(record)
    elif choice == 3:
        record[rng.choice(list(record))] = rng.choice(_HOSTILE)
        world[index] = json.dumps(record, allow_nan=True)
    else:
        record["image_id"] = rng.choice(([0], {"id": 0}, "0", True, 10 ** 400))
        world[index] = json.dumps(record)
    return "world"


def generate(rng: random.Random, index: int) -> Case:
    """Case ``index``: the base dataset with one or two mutations."""
    data, world, images = _base_dataset()
    data, world, images = copy.deepcopy(data), list(world), dict(images)
    labels = []
    annotations: object = data
    for _ in range(rng.randint(1, 2)):
        target = rng.randrange(3)
        if target == 0 and isinstance(annotations, dict):
            label, annotations = _mutate_annotations(rng, annotations)
        elif target == 1:
            label = _mutate_images(rng, images)
        else:
            label = _mutate_world(rng, world)
        labels.append(label)
    text = annotations if isinstance(annotations, str) else json.dumps(annotations, allow_nan=True)
    return Case("+".join(labels), {"annotations": text, "world": world, "images": images})


def _write(case: Case, root: Path) -> Path:
    folder = root / "data"
    (folder / "images").mkdir(parents=True)
    (folder / "annotations.json").write_text(case.payload["annotations"])
    (folder / "world.jsonl").write_text("".join(line + "\n" for line in case.payload["world"]))
    for name, content in case.payload["images"].items():
        (folder / "images" / name).write_bytes(content)
    outside = _base_dataset()[2]["000000.png"]
    (root / "outside.png").write_bytes(outside)
    return folder


def _problem(error: BaseException, folder: Path, what: str) -> str | None:
    message = str(error)
    if not isinstance(error, ValueError):
        return f"{what}: {type(error).__name__}: {message.splitlines()[0][:160] if message else ''}"
    if "\n" in message:
        return f"{what}: error of more than one line: {message[:200]!r}"
    if not message.startswith(str(folder)):
        return f"{what}: error not naming a file of the dataset: {message[:200]!r}"
    return None


def check(case: Case) -> str | None:
    """None when every reader accepts the folder or refuses it with one line naming a file of it."""
    with tempfile.TemporaryDirectory() as root:
        folder = _write(case, Path(root))
        try:
            read_coco(folder)
        except Exception as error:  # the case fails unless it is the project's one-line error
            return _problem(error, folder, "read_coco")
        try:
            dataset = CocoDataset(folder)
            for index in range(len(dataset)):
                try:
                    image, _ = dataset[index]
                except Exception as error:
                    problem = _problem(error, folder, f"CocoDataset[{index}]")
                    if problem:
                        return problem
                    continue
                if image.shape[-1] * image.shape[-2] > MAX_IMAGE_PIXELS:
                    return f"CocoDataset[{index}]: decoded an image of {image.shape[-1]}x{image.shape[-2]} pixels"
        except Exception as error:
            return _problem(error, folder, "CocoDataset")
        try:
            frames, skipped = read_frames(folder)
        except Exception as error:
            return _problem(error, folder, "read_frames")
        for frame in frames:
            if frame.image.shape[0] * frame.image.shape[1] > MAX_IMAGE_PIXELS:
                return f"read_frames: decoded {frame.file_name} over the pixel limit"
            if not (folder / frame.file_name).resolve().is_relative_to(folder.resolve()):
                return f"read_frames: read {frame.file_name}, outside the dataset folder"
    return None
