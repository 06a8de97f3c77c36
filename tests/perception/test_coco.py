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
