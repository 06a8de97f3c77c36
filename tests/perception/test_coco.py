"""COCO files: writing scenes, reading them back, and clear errors for bad files."""
import json

import pytest

from perception.coco import CocoError, read_coco, read_world, write_coco
from perception.world import CLASS_NAMES, Scene, SceneGenerator, WorldConfig


@pytest.fixture(scope="module")
def scenes():
    generator = SceneGenerator(WorldConfig(image_size=128, metres_per_pixel=0.4))
    return [generator.scene(seed, image_id=seed + 1) for seed in range(4)]


@pytest.fixture
def dataset(tmp_path, scenes):
    return write_coco(scenes, tmp_path / "data", class_names=CLASS_NAMES)


def test_write_read_round_trip(dataset, scenes):
    data = read_coco(dataset)
    assert [image["id"] for image in data["images"]] == [s.image_id for s in scenes]
    assert [c["name"] for c in sorted(data["categories"], key=lambda c: c["id"])] == list(CLASS_NAMES)
    for scene in scenes:
        entries = [a for a in data["annotations"] if a["image_id"] == scene.image_id]
        assert len(entries) == len(scene.objects)
        for entry, obj in zip(entries, scene.objects):
            x, y, w, h = entry["bbox"]
            assert (x, y, x + w, y + h) == pytest.approx(obj.box)
            assert CLASS_NAMES[entry["category_id"] - 1] == obj.label
            assert entry["object_id"] == obj.id and entry["area"] == pytest.approx(w * h)
            assert entry["iscrowd"] == 0 and entry["attributes"] == obj.attributes
    assert len({a["id"] for a in data["annotations"]}) == len(data["annotations"])
    assert all((dataset.parent / "images" / image["file_name"]).is_file() for image in data["images"])


def test_world_lines_match_the_images(dataset, scenes):
    records = read_world(dataset.parent)
    assert [r["image_id"] for r in records] == [s.image_id for s in scenes]
    assert [Scene.from_json(r).objects for r in records] == [s.objects for s in scenes]


def test_folder_or_file_path_both_work(dataset):
    assert read_coco(dataset.parent) == read_coco(dataset)


def test_lights_carry_their_state(tmp_path):
    generator = SceneGenerator(WorldConfig(control_ahead=1.0))
    scenes = [generator.scene(seed, image_id=seed + 1) for seed in range(10)]
    data = read_coco(write_coco(scenes, tmp_path, class_names=CLASS_NAMES, write_images=False))
    lights = [a for a in data["annotations"] if a["category_id"] == CLASS_NAMES.index("traffic_light") + 1]
    assert lights and all(a["attributes"]["light_state"] in ("red", "yellow", "green") for a in lights)
    assert not (tmp_path / "images" / "000001.png").exists()


def test_duplicate_image_ids_are_refused(tmp_path, scenes):
    with pytest.raises(ValueError, match="distinct image ids"):
        write_coco([scenes[0], scenes[0]], tmp_path, class_names=CLASS_NAMES)


def _broken(dataset, change):
    data = json.loads(dataset.read_text())
    change(data)
    dataset.write_text(json.dumps(data))
    return dataset


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("categories"), r"annotations.json: missing key 'categories' at the top level"),
    (lambda d: d["images"][0].pop("width"), r"annotations.json: images\[0\]: missing key 'width'"),
    (lambda d: d["annotations"][0].pop("bbox"), r"annotations.json: annotations\[0\]: missing key 'bbox'"),
    (lambda d: d["annotations"][0].update(category_id=99), r"annotations\[0\]: unknown category_id 99"),
    (lambda d: d["annotations"][0].update(image_id=777), r"annotations\[0\]: image_id 777 is not among the images"),
    (lambda d: d["annotations"][0].update(bbox=[120.0, 5.0, 30.0, 4.0]),
     r"annotations\[0\]: bbox \[120.0, 5.0, 30.0, 4.0\] lies outside its 128x128 image"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), r"bbox must be \[x, y, width, height\]"),
    (lambda d: d["images"][0].update(height=-4), r"width and height must be positive integers"),
])
def test_bad_files_give_one_line_naming_the_file(dataset, change, message):
    _broken(dataset, change)
    with pytest.raises(CocoError, match=message) as error:
        read_coco(dataset)
    assert "\n" not in str(error.value) and str(dataset) in str(error.value)


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "annotations.json"
    path.write_text('{"images": [}')
    with pytest.raises(CocoError, match=r"annotations.json:1:\d+: invalid JSON"):
        read_coco(path)


def test_missing_file(tmp_path):
    with pytest.raises(CocoError, match="annotations file not found"):
        read_coco(tmp_path / "nothing.json")


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 13, 3), (64, 64, 3)])
def test_png_encoding_is_lossless(shape):
    import io

    import numpy as np
    from PIL import Image

    from perception.coco import encode_png

    image = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(encode_png(image)))), image)
    with pytest.raises(ValueError, match=r"`image` must be \(H, W, 3\) uint8. Received shape \(4, 4\)"):
        encode_png(np.zeros((4, 4), dtype=np.uint8))


@pytest.mark.parametrize("file_name, message", [
    ("../outside.png", r"images\[0\]\.file_name: must be a relative path inside the dataset folder"),
    ("sub/../../outside.png", r"images\[0\]\.file_name: must be a relative path inside"),
    ("/etc/passwd", r"images\[0\]\.file_name: must be a relative path inside"),
    ("C:\\data\\x.png", r"images\[0\]\.file_name: must be a relative path inside"),
    ("..\\outside.png", r"images\[0\]\.file_name: must be a relative path inside"),
    (12, r"images\[0\]\.file_name: expected a non-empty string naming an image file. Received 12"),
    ("", r"images\[0\]\.file_name: expected a non-empty string"),
])
def test_file_names_stay_inside_the_dataset_folder(dataset, file_name, message):
    """A ``..`` or absolute file name used to be followed outside the folder; ``12`` gave a Python type error."""
    _broken(dataset, lambda d: d["images"][0].update(file_name=file_name))
    with pytest.raises(CocoError, match=message) as error:
        read_coco(dataset)
    assert "\n" not in str(error.value) and str(error.value).startswith(str(dataset))


@pytest.mark.parametrize("change, message", [
    (lambda d: d["images"][0].update(id=[1]), r"images\[0\]\.id: expected an integer or a non-empty string"),
    (lambda d: d["images"][1].update(id=d["images"][0]["id"]), r"images\[1\]\.id: id 1 is given twice"),
    (lambda d: d["annotations"][0].update(image_id={"a": 1}), r"annotations\[0\]\.image_id: expected an integer"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 10 ** 400, 3]), r"bbox must be .*Received \[1, 2, 1000"),
    (lambda d: d["annotations"][0].update(attributes=["red"]), r"annotations\[0\]\.attributes: expected an object"),
    (lambda d: d["categories"][0].update(name=None), r"categories\[0\]\.name: expected a non-empty string"),
])
def test_wrong_types_are_named_not_python_errors(dataset, change, message):
    _broken(dataset, change)
    with pytest.raises(CocoError, match=message) as error:
        read_coco(dataset)
    assert "\n" not in str(error.value) and str(error.value).startswith(str(dataset))


def test_huge_numbers_and_deep_nesting_name_the_file(tmp_path):
    path = tmp_path / "annotations.json"
    path.write_text('{"images": [{"id": 1' + "0" * 5000 + "}]}")
    with pytest.raises(CocoError, match=r"annotations\.json: invalid JSON: ValueError: Exceeds the limit"):
        read_coco(path)
    path.write_text('{"images": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CocoError, match=r"annotations\.json: invalid JSON: nested too deeply"):
        read_coco(path)
    world = tmp_path / "world.jsonl"
    world.write_text('{"image_id": 1}\n[1, 2]\n')
    with pytest.raises(CocoError, match=r"world\.jsonl:2: expected a JSON object"):
        read_world(world)


def bomb_png(width, height):
    """A tiny PNG file whose header declares ``width`` x ``height`` pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [7000, 100_000])  # over our limit; over PIL's own (DecompressionBombError)
def test_a_decompression_bomb_is_refused_before_decoding(tmp_path, side):
    from perception.coco import MAX_IMAGE_PIXELS, read_image

    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png(side, side))
    assert path.stat().st_size < 200 and side * side > MAX_IMAGE_PIXELS
    with pytest.raises(CocoError, match=r"bomb\.png: image .*refused before decoding") as error:
        read_image(path)
    assert "\n" not in str(error.value)
