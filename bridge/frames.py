"""Frames: what the pipeline reads, where they come from, and how episodes follow each other.

A *frame* is anything with

- ``image``: (H, W, 3) uint8 array, what the camera saw;
- ``road``: the ``RoadMap`` (lanes, crosswalks, stop lines, sidewalks);
- ``calibration``: the camera's ``Calibration`` (pixels to ego-frame metres);
- ``ego``: the ego's ``EgoState`` (lane, speed, size);

and optionally ``time_s`` and ``episode_id`` (streaming: the tracker restarts
when the episode changes or time goes back), ``objects`` (the ground truth,
read by :class:`~bridge.perception_stage.OraclePerception` and the
evaluation), and ``name``, ``file_name`` or ``image_id`` (its display name).
A generated :class:`perception.world.Scene` is one.

Frame sources: :func:`read_frames` (a folder written by ``nesy generate``),
:func:`generate_one_episode` (one episode from an experiment's world) and
:func:`generate_episode_frames` (many frames in episodes of a fixed length).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np
import torch


def frame_name(frame) -> str:
    """A frame's display name: its ``name`` or ``file_name``, else ``scene-<image_id>``.

    Example:
        >>> from types import SimpleNamespace
        >>> frame_name(SimpleNamespace(image_id=7)), frame_name(SimpleNamespace(file_name="images/a.png"))
        ('scene-7', 'images/a.png')
    """
    for attribute in ("name", "file_name"):
        value = getattr(frame, attribute, None)
        if value:
            return str(value)
    return f"scene-{getattr(frame, 'image_id', 0)}"


def frame_time(frame) -> float:
    """A frame's ``time_s`` (0 without one).

    Example:
        >>> from types import SimpleNamespace
        >>> frame_time(SimpleNamespace(time_s=0.4)), frame_time(SimpleNamespace())
        (0.4, 0.0)
    """
    return float(getattr(frame, "time_s", 0.0) or 0.0)


def continues_episode(previous, frame) -> bool:
    """Whether ``frame`` follows ``previous`` in the same episode (a tracker keeps its tracks).

    Example:
        >>> from types import SimpleNamespace
        >>> a, b = SimpleNamespace(episode_id=1, time_s=0.0), SimpleNamespace(episode_id=1, time_s=0.1)
        >>> continues_episode(a, b), continues_episode(b, a), continues_episode(None, a)
        (True, False, False)
    """
    return previous is not None and getattr(frame, "episode_id", None) == getattr(previous, "episode_id", None) \
        and frame_time(frame) >= frame_time(previous)


def images_to_tensor(images: Sequence):
    """(H, W, 3) uint8 arrays to one float tensor (B, 3, H, W) in [0, 1].

    Example:
        >>> import numpy as np
        >>> images_to_tensor([np.zeros((4, 6, 3), np.uint8)]).shape
        torch.Size([1, 3, 4, 6])
    """
    batch = torch.from_numpy(np.stack([np.asarray(image) for image in images]))  # (B, H, W, 3) uint8
    return batch.permute(0, 3, 1, 2).float().div_(255.0)  # channels_last memory, as the detector runs


# ---------------------------------------------------------------- frame sources

def read_frames(folder) -> tuple[list, list[tuple[str, str]]]:
    """The frames of a dataset folder, and the images that could not be used.

    Args:
        folder: a folder written by ``nesy generate`` (``annotations.json``,
            ``images/``, ``world.jsonl``).

    Returns:
        ``(frames, skipped)``: scenes with their images (ground truth from
        ``world.jsonl``, each with ``file_name``), and ``(file name, reason)``
        for every image that is missing, unreadable, of the wrong size, over
        :data:`perception.coco.MAX_IMAGE_PIXELS` (refused before decoding)
        or without a well-formed world state: one bad frame never stops the rest.

    Raises:
        ValueError: the folder, its annotations or its world state are
            missing or malformed (one line naming the file).
    """
    from perception.coco import IMAGE_FOLDER, CocoError, read_coco, read_image, read_world
    from perception.world import Scene

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"`folder` must be a dataset folder. Received: folder={str(folder)!r} (not a folder)")
    data = read_coco(folder)
    records = read_world(folder)
    by_id = {}
    for number, record in enumerate(records, start=1):
        image_id = record.get("image_id")
        if isinstance(image_id, (int, str)) and not isinstance(image_id, bool):
            by_id.setdefault(image_id, (number, record))
    frames, skipped = [], []
    for entry in data["images"]:
        path = folder / IMAGE_FOLDER / entry["file_name"]
        name = f"{IMAGE_FOLDER}/{entry['file_name']}"
        number, record = by_id.get(entry["id"], (None, None))
        if record is None:
            skipped.append((name, f"no world state for image id {entry['id']!r} in world.jsonl"))
            continue
        try:
            image = read_image(path)
        except CocoError as error:  # missing, undecodable or over the pixel limit: this frame only
            skipped.append((name, str(error).removeprefix(f"{path}: ")))
            continue
        try:
            expected = tuple(record["calibration"]["image_size"])  # (W, H)
            if (image.shape[1], image.shape[0]) != expected or (entry["width"], entry["height"]) != expected:
                skipped.append((name, f"image is {image.shape[1]}x{image.shape[0]} pixels; expected "
                                      f"{expected[0]}x{expected[1]}"))
                continue
            scene = Scene.from_json(record, image=image)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as error:
            skipped.append((name, f"malformed world state (world.jsonl record {number}: {_short(error)})"))
            continue
        scene.file_name = name  # the frame's display name in outputs and reports
        frames.append(scene)
    return frames, skipped


def generate_one_episode(config, num_frames: int, *, seed: int = 0, preset: str | None = None) -> list:
    """One episode of ``num_frames`` frames from the experiment's ``world`` section (``nesy run --generate``).

    Args:
        config: an ``ExperimentConfig`` (its ``world``), or None for the default world.
        num_frames: frames in the episode.
        seed: the episode's seed.
        preset: a world preset replacing the config's.

    Example:
        >>> from types import SimpleNamespace
        >>> from perception.world import WorldConfig
        >>> frames = generate_one_episode(SimpleNamespace(world=WorldConfig(image_size=64, metres_per_pixel=0.8)), 3)
        >>> [f.frame_index for f in frames], len({f.episode_id for f in frames})
        ([0, 1, 2], 1)
    """
    from perception.world import WorldConfig, generate_episode

    world = getattr(config, "world", None) or WorldConfig()
    if preset:
        world = dataclasses.replace(world, preset=preset)
    return generate_episode(world, seed=seed, num_frames=num_frames)


def generate_episode_frames(world, num_frames: int, *, episode_length: int = 20, seed: int = 0,
                            warmup_frames: int = 0) -> list:
    """``num_frames`` judged frames in episodes of ``episode_length`` (episode ``k`` uses seed ``seed + k``).

    With ``warmup_frames``, each episode starts with that many more frames
    marked ``warmup``: the sensor history a vehicle has before the first
    frame it is judged on. A pipeline sees them (the tracker learns each
    object's motion), evaluation does not judge them
    (:class:`bridge.evaluation.metrics.PipelineMetrics` reports them apart).

    Args:
        world: a ``WorldConfig``, or None for the default world.
        num_frames: judged frames in all (warm-up frames come on top).
        episode_length: judged frames per episode (the last may be shorter).
        seed: the first episode's seed.
        warmup_frames: frames of history before each episode's first judged frame.

    Example:
        >>> from perception.world import WorldConfig
        >>> world = WorldConfig(image_size=64, metres_per_pixel=0.8)
        >>> frames = generate_episode_frames(world, 5, episode_length=2)
        >>> [(f.episode_id is not None, f.frame_index) for f in frames]
        [(True, 0), (True, 1), (True, 0), (True, 1), (True, 0)]
        >>> [(f.frame_index, f.warmup) for f in generate_episode_frames(world, 2, episode_length=2, warmup_frames=1)]
        [(0, True), (1, False), (2, False)]
    """
    from perception.world import WorldConfig, generate_episode

    if isinstance(warmup_frames, bool) or not isinstance(warmup_frames, int) or warmup_frames < 0:
        raise ValueError(f"`warmup_frames` must be an integer >= 0. Received: warmup_frames={warmup_frames!r}")
    world = world or WorldConfig()
    frames = []
    judged = 0
    episode = 0
    while judged < num_frames:
        length = min(episode_length, num_frames - judged)
        episode_frames = generate_episode(world, seed=seed + episode, num_frames=length + warmup_frames)
        for frame in episode_frames[:warmup_frames]:
            frame.warmup = True
        frames.extend(episode_frames)
        judged += length
        episode += 1
    return frames


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0][:160] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
