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
