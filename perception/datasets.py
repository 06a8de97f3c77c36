"""Torch datasets of detection images: synthetic on the fly, or read from COCO files.

Each item is ``(image, target)``: ``image`` float32 (3, H, W) in [0, 1] and
``target`` = ``{"boxes": (N, 4) float32 xyxy pixels, "labels": (N,) int64,
"light_state": (N,) int64 (index into LIGHT_STATES, -1 where not a light),
"image_id": int}``.

:class:`EpisodeDataset` serves a multi-frame detector: its ``image`` is a
float32 frame stack (T, 3, H, W), oldest frame first and the current frame
last, and its target (the current frame's) also holds ``"velocities"``:
(N, 2) float32 m/s over the ground in ego axes (x right, y forward).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from perception.coco import IMAGE_FOLDER, CocoError, annotations_path, read_coco, read_image
from perception.world.config import CLASS_NAMES, LIGHT_STATES, WorldConfig
from perception.world.episode import SceneGenerator, scene_seed


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> float32 (3, H, W) in [0, 1].

    Example:
        >>> image_to_tensor(np.full((2, 3, 3), 255, dtype=np.uint8)).shape
        torch.Size([3, 2, 3])
    """
    return torch.from_numpy(np.array(image, dtype=np.float32)).permute(2, 0, 1).div_(255.0)


def scene_to_target(scene) -> dict:
    """The torchvision-style target of a scene.

    Returns:
        ``{"boxes": (N, 4) float32, "labels": (N,) int64, "light_state": (N,) int64, "image_id": int}``.

    Example:
        >>> from perception.world import WorldConfig, generate_scene
        >>> target = scene_to_target(generate_scene(WorldConfig(image_size=64, metres_per_pixel=0.8), seed=0))
        >>> target["boxes"].shape[1], target["labels"].dtype
        (4, torch.int64)
    """
    boxes = torch.tensor([o.box for o in scene.objects], dtype=torch.float32).reshape(-1, 4)
    labels = torch.tensor([CLASS_NAMES.index(o.label) for o in scene.objects], dtype=torch.int64)
    states = torch.tensor([_state_index(o.attributes.get("light_state")) for o in scene.objects], dtype=torch.int64)
    return {"boxes": boxes, "labels": labels, "light_state": states, "image_id": int(scene.image_id)}


def _state_index(state) -> int:
    return LIGHT_STATES.index(state) if state in LIGHT_STATES else -1


class SyntheticDataset(torch.utils.data.Dataset):
    """Scenes rendered on the fly; item ``i`` is the same image every time.

    Args:
        config: the world settings.
        num_scenes: length of the dataset.
        seed: dataset seed; scene ``i`` uses ``scene_seed(seed, i)``.

    Example:
        >>> data = SyntheticDataset(WorldConfig(image_size=64, metres_per_pixel=0.8), num_scenes=4, seed=1)
        >>> image, target = data[2]
        >>> image.shape, bool(torch.equal(image, data[2][0])), target["image_id"]
        (torch.Size([3, 64, 64]), True, 2)
    """

    class_names = CLASS_NAMES

    def __init__(self, config: WorldConfig, num_scenes: int, seed: int = 0):
        if not isinstance(config, WorldConfig):
            raise TypeError(f"`config` must be a WorldConfig. Received: config={config!r}")
        if isinstance(num_scenes, bool) or not isinstance(num_scenes, int) or num_scenes < 0:
            raise ValueError(f"`num_scenes` must be a non-negative integer. Received: num_scenes={num_scenes!r}")
        self.config = config
        self.num_scenes = num_scenes
        self.seed = seed
        self.generator = SceneGenerator(config)

    def __len__(self) -> int:
        return self.num_scenes

    def scene(self, index: int):
        """The :class:`~perception.world.Scene` behind item ``index``."""
        if not -self.num_scenes <= index < self.num_scenes:
            raise IndexError(f"index {index} is out of range for a dataset of {self.num_scenes} scenes")
        index %= self.num_scenes
        return self.generator.scene(scene_seed(self.seed, index), image_id=index)

    def __getitem__(self, index: int):
        scene = self.scene(index)
        return image_to_tensor(scene.image), scene_to_target(scene)


class EpisodeDataset(torch.utils.data.Dataset):
    """Frame stacks from generated episodes, for a detector that sees motion.

    Episode ``e`` is ``frames_per_episode`` consecutive frames at ``fps``
    (seed ``scene_seed(seed, e)``); its items are the stacks that end at
    each frame with ``num_frames - 1`` frames of history, so an episode
    gives ``frames_per_episode - num_frames + 1`` items, in order. The
    episode last read is kept, so reading in order (as
    :class:`perception.training.InMemoryDataset` does) renders each
    episode once.

    Args:
        config: the world settings (``metres_per_pixel`` is the
            calibration; give the detector the same).
        num_episodes: episodes to draw.
        frames_per_episode: frames of each episode (at least ``num_frames``).
        num_frames: frames per stack (T).
        fps: frames per second of the episodes.
        seed: dataset seed.

    Item ``i`` is ``(stack (T, 3, H, W) float32 in [0, 1], target)``; the
    target is the current frame's, with ``velocities`` (N, 2) float32 m/s.

    Example:
        >>> data = EpisodeDataset(WorldConfig(image_size=64, metres_per_pixel=0.8), num_episodes=2,
        ...                       frames_per_episode=3, num_frames=2, seed=1)
        >>> stack, target = data[1]
        >>> len(data), stack.shape, target["velocities"].shape[1], data.metres_per_pixel, data.fps
        (4, torch.Size([2, 3, 64, 64]), 2, 0.8, 10.0)
    """

    class_names = CLASS_NAMES

    def __init__(self, config: WorldConfig, num_episodes: int, frames_per_episode: int, *, num_frames: int = 2,
                 fps: float = 10.0, seed: int = 0):
        if not isinstance(config, WorldConfig):
            raise TypeError(f"`config` must be a WorldConfig. Received: config={config!r}")
        for name, value, low in (("num_episodes", num_episodes, 0), ("num_frames", num_frames, 1),
                                 ("frames_per_episode", frames_per_episode, num_frames), ("seed", seed, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 1000:
            raise ValueError(f"`fps` must be a number in (0, 1000]. Received: fps={fps!r}")
        self.config = config
        self.num_episodes = num_episodes
        self.frames_per_episode = frames_per_episode
        self.num_frames = num_frames
        self.fps = float(fps)
        self.seed = seed
        self.metres_per_pixel = float(config.metres_per_pixel)
        self.generator = SceneGenerator(config)
        self._last_episode: tuple[int, list] | None = None

    @property
    def items_per_episode(self) -> int:
        return self.frames_per_episode - self.num_frames + 1

    def __len__(self) -> int:
        return self.num_episodes * self.items_per_episode

    def episode(self, index: int) -> list:
        """The frames (:class:`~perception.world.Scene`) of episode ``index``."""
        if self._last_episode is None or self._last_episode[0] != index:
            frames = self.generator.episode(scene_seed(self.seed, index), self.frames_per_episode, fps=self.fps,
                                            episode_id=index, first_image_id=index * self.frames_per_episode)
            self._last_episode = (index, frames)
        return self._last_episode[1]

    def __getitem__(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a dataset of {len(self)} stacks")
        episode, position = divmod(index % len(self), self.items_per_episode)
        frames = self.episode(episode)[position:position + self.num_frames]  # oldest first
        stack = torch.stack([image_to_tensor(frame.image) for frame in frames])
        target = scene_to_target(frames[-1])
        target["velocities"] = torch.tensor([o.velocity for o in frames[-1].objects],
                                            dtype=torch.float32).reshape(-1, 2)
        return stack, target


class CocoDataset(torch.utils.data.Dataset):
    """A COCO-format detection dataset (ours or anyone's) as torchvision-style items.

    Labels are positions in the categories sorted by id; ``class_names``
    names them. Images are looked up as ``image_dir/file_name``, by default
    in ``images/`` beside the annotations file, else beside it.

    Args:
        root_or_annotations_path: a dataset folder or its ``annotations.json``.
        image_dir: folder of the image files (optional).

    Example:
        >>> import tempfile
        >>> from perception.coco import write_coco
        >>> from perception.world import CLASS_NAMES, WorldConfig, generate_scene
        >>> folder = tempfile.mkdtemp()
        >>> _ = write_coco([generate_scene(WorldConfig(image_size=64, metres_per_pixel=0.8), 0)], folder,
        ...                class_names=CLASS_NAMES)
        >>> data = CocoDataset(folder)
        >>> len(data), data.class_names[:2], data[0][0].shape
        (1, ('car', 'truck'), torch.Size([3, 64, 64]))
    """

    def __init__(self, root_or_annotations_path: str | Path, image_dir: str | Path | None = None):
        self.path = annotations_path(root_or_annotations_path)
        self.data = read_coco(self.path)
        categories = sorted(self.data["categories"], key=lambda c: c["id"])
        self.class_names = tuple(str(c["name"]) for c in categories)
        self.label_of = {c["id"]: label for label, c in enumerate(categories)}
        self.images = list(self.data["images"])
        self.annotations_of: dict = {image["id"]: [] for image in self.images}
        for annotation in self.data["annotations"]:
            self.annotations_of[annotation["image_id"]].append(annotation)
        self.image_dir = Path(image_dir) if image_dir is not None else None

    def __len__(self) -> int:
        return len(self.images)

    def image_path(self, image: dict) -> Path:
        if self.image_dir is not None:
            return self.image_dir / image["file_name"]
        folder = self.path.parent
        inside = folder / IMAGE_FOLDER / image["file_name"]
        return inside if inside.exists() or not (folder / image["file_name"]).exists() else folder / image["file_name"]

    def load_image(self, index: int) -> np.ndarray:
        """Item ``index``'s pixels as (H, W, 3) uint8, checked against its annotated size."""
        image = self.images[index]
        path = self.image_path(image)
        try:
            pixels = read_image(path)
        except CocoError as error:  # missing, undecodable or over the pixel limit
            raise CocoError(f"{error} (image id {image['id']!r} in {self.path})") from None
        height, width = pixels.shape[:2]
        if (width, height) != (image["width"], image["height"]):
            raise CocoError(f"{path}: image is {width}x{height} but {self.path} says "
                            f"{image['width']}x{image['height']} (image id {image['id']})")
        return pixels

    def target(self, index: int) -> dict:
        """Item ``index``'s target (no pixels read)."""
        image = self.images[index]
        entries = self.annotations_of[image["id"]]
        boxes = torch.tensor([a["bbox"] for a in entries], dtype=torch.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]  # xywh -> xyxy
        labels = torch.tensor([self.label_of[a["category_id"]] for a in entries], dtype=torch.int64)
        states = torch.tensor([_state_index((a.get("attributes") or {}).get("light_state")) for a in entries],
                              dtype=torch.int64)
        return {"boxes": boxes, "labels": labels, "light_state": states, "image_id": image["id"]}

    def __getitem__(self, index: int):
        return image_to_tensor(self.load_image(index)), self.target(index)


def collate_detection(batch):
    """Stack images of equal size and keep targets as a list.

    Args:
        batch: list of ``(image (3, H, W), target)``.

    Returns:
        ``(images (B, 3, H, W), list of targets)``.

    Example:
        >>> images, targets = collate_detection([(torch.zeros(3, 4, 4), {"boxes": torch.zeros(0, 4)})] * 2)
        >>> images.shape, len(targets)
        (torch.Size([2, 3, 4, 4]), 2)
    """
    if not batch:
        raise ValueError("`batch` must hold at least one (image, target) pair. Received an empty batch")
    images, targets = zip(*batch)
    shapes = {tuple(image.shape) for image in images}
    if len(shapes) != 1:
        raise ValueError(f"images of a batch must share one shape. Received shapes {sorted(shapes)}")
    return torch.stack(images), list(targets)
