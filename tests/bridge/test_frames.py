"""Frames: names, time and episodes, images as tensors, the two generators and a dataset folder."""
import numpy as np
import pytest
import torch

from perception.world import WorldConfig
from bridge.frames import (continues_episode, frame_name, generate_episode_frames, generate_one_episode,
                           images_to_tensor, read_frames)

SMALL = WorldConfig(image_size=64, metres_per_pixel=0.8)


def test_images_to_tensor_scales_to_unit_range():
    batch = images_to_tensor([np.full((2, 3, 3), 255, np.uint8)])
    assert batch.shape == (1, 3, 2, 3) and batch.dtype == torch.float32 and float(batch.max()) == 1.0


def test_the_generators_say_what_differs():
    one = generate_one_episode(type("Config", (), {"world": SMALL})(), 4, seed=3)
    assert len({f.episode_id for f in one}) == 1 and [f.frame_index for f in one] == [0, 1, 2, 3]
    many = generate_episode_frames(SMALL, 5, episode_length=2, seed=3)
    assert [f.frame_index for f in many] == [0, 1, 0, 1, 0] and len({f.episode_id for f in many}) == 3
    assert all(continues_episode(a, b) for a, b in zip(one, one[1:]))
    assert not continues_episode(many[1], many[2]) and frame_name(many[0]).startswith("scene-")


def test_a_missing_folder_is_named_by_its_parameter(tmp_path):
    with pytest.raises(ValueError, match="`folder` must be a dataset folder. Received: folder="):
        read_frames(tmp_path / "nowhere")


def test_a_malformed_world_state_skips_its_frame_by_name(tmp_path):
    import json

    from bridge.frames import read_frames
    from perception.coco import write_coco
    from perception.world import CLASS_NAMES, generate_scene

    config = WorldConfig(image_size=32, metres_per_pixel=1.5)
    scenes = [generate_scene(config, seed=seed) for seed in range(2)]
    for index, scene in enumerate(scenes):
        scene.image_id = index
    write_coco(scenes, tmp_path, class_names=CLASS_NAMES)
    lines = (tmp_path / "world.jsonl").read_text().splitlines()
    record = json.loads(lines[1])
    record["ego"] = [1, 2]
    (tmp_path / "world.jsonl").write_text(lines[0] + "\n" + json.dumps(record) + "\n")
    frames, skipped = read_frames(tmp_path)
    assert [f.file_name for f in frames] == ["images/000000.png"]
    assert skipped[0][0] == "images/000001.png" and "malformed world state (world.jsonl record 2" in skipped[0][1]
