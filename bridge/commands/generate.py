"""``nesy generate``: write a synthetic COCO dataset with its world state.

Scenes are independent, or grouped into episodes with ``--episode-length``.
Workers render and save images in parallel; the result is the same for any
number of workers because every scene's seed derives from ``(--seed, index)``.
"""
from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

from bridge.commands.arguments import config_file, float_in_range, non_negative_int, positive_int
from bridge.shipped import shipped_path

DEFAULT_CONFIG = shipped_path("drive.yaml")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate", help="write a synthetic driving dataset (COCO images + annotations + world state)",
        description="Render seeded top-down road scenes and write images/, annotations.json (COCO) "
                    "and world.jsonl (full ground truth per image) into --out.")
    parser.add_argument("--config", type=config_file, default=DEFAULT_CONFIG,
                        help="experiment file, or the name of a shipped one, whose `world:` section is used "
                             "(default: drive)")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.add_argument("--num-scenes", type=positive_int, default=100, help="number of images (default: 100)")
    parser.add_argument("--episode-length", type=non_negative_int, default=0,
                        help="frames per episode; 0 makes independent scenes (default: 0)")
    parser.add_argument("--fps", type=float_in_range(0.0, 1000.0, include_low=False), default=10.0,
                        help="episode frame rate, (0, 1000] (default: 10)")
    parser.add_argument("--preset", choices=("easy", "default", "hard"), default=None,
                        help="difficulty preset (overrides the config's)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="dataset seed (default: 0)")
    parser.add_argument("--workers", type=positive_int, default=1, help="parallel worker processes (default: 1)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset in --out")
    parser.set_defaults(handler=run)


def world_config_from(args):
    """The WorldConfig the arguments ask for (config file, then ``--preset``)."""
    from bridge.experiment import load_config

    world = load_config(args.config if args.config is not None else DEFAULT_CONFIG).world
    if args.preset:
        world = dataclasses.replace(world, preset=args.preset)
    return world


def remove_stale_images(out: Path, num_scenes: int) -> None:
    """Delete images left in ``out/images`` by an earlier, larger dataset (ids above ``num_scenes``)."""
    from perception.coco import IMAGE_FOLDER, image_file_name

    keep = {image_file_name(i) for i in range(1, num_scenes + 1)}
    for path in (out / IMAGE_FOLDER).glob("[0-9]*.png"):
        if path.name not in keep and path.stem.isdigit():
            path.unlink()


def run(args) -> int:
    from perception.coco import ANNOTATIONS_NAME
    from perception.world.writer import generate_dataset

    world = world_config_from(args)
    if (args.out / ANNOTATIONS_NAME).exists() and not args.overwrite:
        raise ValueError(f"{args.out / ANNOTATIONS_NAME} already exists; pass --overwrite to replace the dataset")
    start = time.perf_counter()
    summary = generate_dataset(world, args.out, num_scenes=args.num_scenes, seed=args.seed,
                               episode_length=args.episode_length, fps=args.fps, workers=args.workers,
                               progress=True)
    seconds = time.perf_counter() - start
    if args.overwrite:
        remove_stale_images(args.out, summary["num_scenes"])
    counts = ", ".join(f"{count} {name}" for name, count in summary["num_per_class"].items())
    print(f"wrote {summary['num_scenes']} scenes ({summary['num_objects']} objects: {counts}; preset {world.preset}) "
          f"to {summary['annotations']} in {seconds:.1f} s ({summary['num_scenes'] / seconds:.0f} scenes/s)")
    sys.stdout.flush()
    return 0
