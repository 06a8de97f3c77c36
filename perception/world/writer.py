"""Writing many scenes to a COCO dataset folder, in parallel worker processes.

The work is cut into tasks (a run of independent scenes, or one episode);
each task builds its own :class:`SceneGenerator`, renders and saves its images
and hands back the annotations. Every scene's seed derives from
``(seed, index)``, so the dataset is the same for any number of workers.
"""
from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from perception.coco import IMAGE_FOLDER, save_png, scene_annotations, write_index
from perception.world.config import CLASS_NAMES, WorldConfig
from perception.world.episode import SceneGenerator, scene_seed

SCENES_PER_TASK = 16


def plan_tasks(num_scenes: int, seed: int, episode_length: int = 0, fps: float = 10.0) -> list[dict]:
    """Cut a dataset into tasks; image ids run 1..num_scenes in order.

    Example:
        >>> [t["image_ids"] for t in plan_tasks(5, seed=0, episode_length=2)]
        [[1, 2], [3, 4], [5]]
    """
    tasks = []
    if episode_length:
        for episode, start in enumerate(range(0, num_scenes, episode_length)):
            ids = list(range(start + 1, min(num_scenes, start + episode_length) + 1))
            tasks.append({"kind": "episode", "seed": scene_seed(seed, episode), "episode_id": episode,
                          "image_ids": ids, "fps": fps})
    else:
        for start in range(0, num_scenes, SCENES_PER_TASK):
            ids = list(range(start + 1, min(num_scenes, start + SCENES_PER_TASK) + 1))
            tasks.append({"kind": "scenes", "seeds": [scene_seed(seed, i - 1) for i in ids], "image_ids": ids})
    return tasks


def render_task(config: WorldConfig, task: dict, out_dir: str | None) -> list[tuple[dict, list[dict], str]]:
    """Render one task (and save its images under ``out_dir/images`` unless ``out_dir`` is None).

    Returns:
        Per scene: ``(coco image entry, annotations without final ids, world JSON line)``.

    Example:
        >>> task = plan_tasks(2, seed=0)[0]
        >>> results = render_task(WorldConfig(image_size=64, metres_per_pixel=0.8), task, None)
        >>> [image["id"] for image, _, _ in results]
        [1, 2]
    """
    generator = SceneGenerator(config)
    if task["kind"] == "episode":
        scenes = generator.episode(task["seed"], len(task["image_ids"]), task["fps"],
                                   episode_id=task["episode_id"], first_image_id=task["image_ids"][0])
    else:
        scenes = [generator.scene(seed, image_id=image_id) for seed, image_id in zip(task["seeds"], task["image_ids"])]
    results = []
    for scene in scenes:
        image, annotations = scene_annotations(scene, 0, class_names=CLASS_NAMES)
        if out_dir is not None:
            save_png(scene.image, Path(out_dir) / IMAGE_FOLDER / image["file_name"])
        results.append((image, annotations, json.dumps(scene.to_json())))
    return results


def _render_task(arguments):
    return render_task(*arguments)


def generate_dataset(config: WorldConfig, out_dir: str | Path | None, num_scenes: int, seed: int = 0,
                     episode_length: int = 0, fps: float = 10.0, workers: int = 1,
                     progress: bool = False) -> dict:
    """Render ``num_scenes`` scenes and write them as a COCO dataset.

    Args:
        config: the world settings.
        out_dir: dataset folder; None renders without writing (for timing).
        num_scenes: number of images.
        seed: dataset seed.
        episode_length: frames per episode, 0 for independent scenes.
        fps: episode frame rate.
        workers: processes; 1 renders in this process.
        progress: show a progress bar on stderr (when it is a terminal).

    Returns:
        ``{"num_scenes", "num_objects", "num_per_class": {name: count}, "annotations": path or None}``.

    Example:
        >>> import tempfile
        >>> config = WorldConfig(image_size=64, metres_per_pixel=0.8)
        >>> summary = generate_dataset(config, tempfile.mkdtemp(), num_scenes=3, seed=1)
        >>> summary["num_scenes"], summary["annotations"].name
        (3, 'annotations.json')
    """
    from tqdm import tqdm

    if isinstance(num_scenes, bool) or not isinstance(num_scenes, int) or num_scenes < 1:
        raise ValueError(f"`num_scenes` must be an integer >= 1. Received: num_scenes={num_scenes!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"`workers` must be an integer >= 1. Received: workers={workers!r}")
    if out_dir is not None:
        out_dir = Path(out_dir)
        (out_dir / IMAGE_FOLDER).mkdir(parents=True, exist_ok=True)
    config.resolved()  # fail early on a bad config
    tasks = plan_tasks(num_scenes, seed, episode_length, fps)
    arguments = [(config, task, None if out_dir is None else str(out_dir)) for task in tasks]
    images, annotations, world_lines = [], [], []
    bar = tqdm(total=num_scenes, unit="scene", desc="generate", disable=None if progress else True)
    pool = None
    try:
        if workers == 1 or len(tasks) == 1:
            results = map(_render_task, arguments)
        else:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            pool = multiprocessing.get_context(method).Pool(min(workers, len(tasks)))
            results = pool.imap(_render_task, arguments)
        for task_results in results:
            for image, entries, line in task_results:
                for entry in entries:
                    entry["id"] = len(annotations) + 1
                    annotations.append(entry)
                images.append(image)
                world_lines.append(line)
            bar.update(len(task_results))
        if pool is not None:
            pool.close()
            pool.join()
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
    path = None
    if out_dir is not None:
        path = write_index(out_dir, images, annotations, world_lines, class_names=CLASS_NAMES)
    per_class = {name: 0 for name in CLASS_NAMES}
    for entry in annotations:
        per_class[CLASS_NAMES[entry["category_id"] - 1]] += 1
    return {"num_scenes": len(images), "num_objects": len(annotations), "num_per_class": per_class,
            "annotations": path}
