"""Torch datasets: synthetic on the fly and COCO from disk."""
import json

import pytest
import torch
from PIL import Image

from perception.coco import CocoError, write_coco
from perception.datasets import CocoDataset, SyntheticDataset, collate_detection, scene_to_target
from perception.world import CLASS_NAMES, LIGHT_STATES, WorldConfig, generate_scene

CONFIG = WorldConfig(image_size=96, metres_per_pixel=0.5)


def test_synthetic_items_follow_the_tensor_convention():
    data = SyntheticDataset(CONFIG, num_scenes=5, seed=3)
    image, target = data[1]
    assert image.shape == (3, 96, 96) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert target["boxes"].dtype == torch.float32 and target["boxes"].shape[1] == 4
    assert target["labels"].dtype == torch.int64 and target["light_state"].dtype == torch.int64
    assert len(target["labels"]) == len(target["boxes"]) == len(target["light_state"])
    assert target["image_id"] == 1
    assert len(data) == 5


def test_synthetic_items_are_deterministic_per_index_and_seed():
    first, second = SyntheticDataset(CONFIG, 4, seed=1), SyntheticDataset(CONFIG, 4, seed=1)
    assert torch.equal(first[2][0], second[2][0])
    assert torch.equal(first[2][1]["boxes"], second[2][1]["boxes"])
    assert not torch.equal(first[2][0], first[3][0])
    assert not torch.equal(first[2][0], SyntheticDataset(CONFIG, 4, seed=2)[2][0])


def test_synthetic_index_errors():
    data = SyntheticDataset(CONFIG, 2)
    with pytest.raises(IndexError, match="index 2 is out of range"):
        data[2]
    assert torch.equal(data[-1][0], data[1][0])
    with pytest.raises(ValueError, match="`num_scenes` must be a non-negative integer. Received: num_scenes=-1"):
        SyntheticDataset(CONFIG, -1)
    with pytest.raises(TypeError, match="`config` must be a WorldConfig"):
        SyntheticDataset({"image_size": 96}, 2)


def test_scene_to_target_light_states():
    scene = generate_scene(WorldConfig(control_ahead=1.0), seed=5)
    target = scene_to_target(scene)
    for obj, label, state in zip(scene.objects, target["labels"].tolist(), target["light_state"].tolist()):
        assert CLASS_NAMES[label] == obj.label
        assert state == (LIGHT_STATES.index(obj.attributes["light_state"]) if obj.label == "traffic_light" else -1)


@pytest.fixture
def folder(tmp_path):
    scenes = [generate_scene(CONFIG, seed) for seed in range(3)]
    for index, scene in enumerate(scenes):
        scene.image_id = index + 1
    write_coco(scenes, tmp_path, class_names=CLASS_NAMES)
    return tmp_path, scenes


def test_coco_dataset_round_trips_synthetic_targets(folder):
    path, scenes = folder
    data = CocoDataset(path)
    assert len(data) == 3 and data.class_names == CLASS_NAMES
    for index, scene in enumerate(scenes):
        image, target = data[index]
        expected = scene_to_target(scene)
        assert torch.equal(image, torch.from_numpy(scene.image).permute(2, 0, 1).float() / 255)
        assert torch.allclose(target["boxes"], expected["boxes"])
        assert torch.equal(target["labels"], expected["labels"])
        assert torch.equal(target["light_state"], expected["light_state"])
        assert target["image_id"] == expected["image_id"]


def test_coco_dataset_reads_foreign_category_ids(tmp_path):
    Image.new("RGB", (20, 10)).save(tmp_path / "a.jpg")
    (tmp_path / "ann.json").write_text(json.dumps({
        "images": [{"id": 5, "file_name": "a.jpg", "width": 20, "height": 10}],
        "annotations": [{"id": 1, "image_id": 5, "category_id": 42, "bbox": [1, 2, 3, 4]}],
        "categories": [{"id": 42, "name": "bus"}, {"id": 7, "name": "tram"}]}))
    data = CocoDataset(tmp_path / "ann.json")
    image, target = data[0]
    assert data.class_names == ("tram", "bus")
    assert target["labels"].tolist() == [1] and target["boxes"].tolist() == [[1.0, 2.0, 4.0, 6.0]]
    assert target["light_state"].tolist() == [-1] and image.shape == (3, 10, 20)


def _one_line(error) -> bool:
    return "\n" not in str(error.value)


def test_missing_image_names_the_file(folder):
    path, _ = folder
    (path / "images" / "000002.png").unlink()
    data = CocoDataset(path)
    with pytest.raises(CocoError, match=r"images/000002.png: image file not found \(image id 2") as error:
        data[1]
    assert _one_line(error)


def test_corrupt_image_names_the_file(folder):
    path, _ = folder
    (path / "images" / "000001.png").write_bytes(b"not a png at all")
    with pytest.raises(CocoError, match=r"images/000001.png: cannot decode image \(.*\) \(image id 1") as error:
        CocoDataset(path)[0]
    assert _one_line(error)


def test_wrongly_sized_image_names_the_file(folder):
    path, _ = folder
    Image.new("RGB", (50, 40)).save(path / "images" / "000003.png")
    expected = r"images/000003.png: image is 50x40 but .*annotations.json says 96x96"
    with pytest.raises(CocoError, match=expected) as error:
        CocoDataset(path)[2]
    assert _one_line(error)


def test_box_outside_the_image_is_caught_when_loading(folder):
    path, _ = folder
    annotations = path / "annotations.json"
    data = json.loads(annotations.read_text())
    data["annotations"][0]["bbox"] = [90.0, 90.0, 20.0, 20.0]
    annotations.write_text(json.dumps(data))
    expected = r"annotations.json: annotations\[0\]: bbox .* lies outside its 96x96 image"
    with pytest.raises(CocoError, match=expected) as error:
        CocoDataset(path)
    assert _one_line(error)


def test_missing_keys_are_caught_when_loading(folder):
    path, _ = folder
    annotations = path / "annotations.json"
    data = json.loads(annotations.read_text())
    del data["images"][1]["file_name"]
    annotations.write_text(json.dumps(data))
    with pytest.raises(CocoError, match=r"annotations.json: images\[1\]: missing key 'file_name'"):
        CocoDataset(path)


def test_collate_stacks_images_and_lists_targets():
    data = SyntheticDataset(CONFIG, 3)
    images, targets = collate_detection([data[0], data[1], data[2]])
    assert images.shape == (3, 3, 96, 96) and [t["image_id"] for t in targets] == [0, 1, 2]
    loader = torch.utils.data.DataLoader(data, batch_size=2, collate_fn=collate_detection)
    assert [len(targets) for _, targets in loader] == [2, 1]


def test_collate_rejects_mixed_sizes():
    with pytest.raises(ValueError, match="images of a batch must share one shape"):
        collate_detection([(torch.zeros(3, 4, 4), {}), (torch.zeros(3, 5, 4), {})])


def test_episode_items_are_frame_stacks_oldest_first_with_the_current_frames_velocities():
    from perception.datasets import EpisodeDataset, image_to_tensor
    from perception.world import generate_episode
    from perception.world.episode import scene_seed

    config = WorldConfig(image_size=64, metres_per_pixel=0.8)
    data = EpisodeDataset(config, num_episodes=2, frames_per_episode=4, num_frames=3, seed=5)
    assert len(data) == 2 * 2 and (data.metres_per_pixel, data.fps, data.num_frames) == (0.8, 10.0, 3)
    stack, target = data[3]  # episode 1, the stack ending at its last frame
    frames = generate_episode(config, seed=scene_seed(5, 1), num_frames=4)
    assert stack.shape == (3, 3, 64, 64)
    assert torch.equal(stack[0], image_to_tensor(frames[1].image)) and torch.equal(stack[-1], image_to_tensor(frames[3].image))
    assert torch.equal(target["velocities"], torch.tensor([o.velocity for o in frames[3].objects], dtype=torch.float32))
    assert target["velocities"].dtype == torch.float32 and target["velocities"].shape == (len(target["labels"]), 2)
    assert target["image_id"] == frames[3].image_id + 4
    with pytest.raises(ValueError, match="`frames_per_episode` must be an integer >= 3. Received: frames_per_episode=2"):
        EpisodeDataset(config, num_episodes=1, frames_per_episode=2, num_frames=3)
    with pytest.raises(IndexError, match="out of range"):
        data[4]


def test_fit_trains_a_two_frame_detector_on_episodes_unchanged_from_the_users_side():
    from detector_helpers import quick_training

    from perception.datasets import EpisodeDataset
    from perception.model import Detector
    from perception.training import InMemoryDataset

    config = WorldConfig(image_size=64, metres_per_pixel=0.8)
    data = EpisodeDataset(config, num_episodes=2, frames_per_episode=3, num_frames=2, seed=0)
    detector = Detector(width=4, head_width=8, num_frames=2, metres_per_pixel=0.8)
    detector.fit(data, data, epochs=1, training=quick_training(batch_size=2, augment=True), verbose=False)
    logs = detector.history_[-1]
    assert torch.isfinite(torch.tensor([logs["velocity"], logs["velocity_nll"], logs["val_map_50"]])).all()
    assert "val_velocity_mae" in logs  # None when nothing confident matched after one epoch
    for wrong_calibration in (data, InMemoryDataset(data)):
        with pytest.raises(ValueError, match="the training data has metres_per_pixel=0.8 but the detector expects "
                                             "metres_per_pixel=0.2"):
            Detector(width=4, head_width=8, num_frames=2).fit(wrong_calibration, epochs=1, training=quick_training(),
                                                              verbose=False)
    with pytest.raises(ValueError, match=r"a detector with num_frames=2 trains on frame stacks \(B, 2, 3, H, W\)"):
        Detector(width=4, head_width=8, num_frames=2, metres_per_pixel=0.8).fit(
            SyntheticDataset(config, num_scenes=2), epochs=1, training=quick_training(batch_size=2), verbose=False)
