"""``nesy generate``: write a synthetic COCO dataset with its world state.

Scenes are independent, or grouped into episodes with ``--episode-length``.
Workers render and save images in parallel; the result is the same for any
number of workers because every scene's seed derives from ``(--seed, index)``.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

DEFAULT_CONFIG = Path("configs/drive.yaml")


def int_at_least(minimum: int):
    """An argparse type accepting integers >= ``minimum``, with a one-line error otherwise.

    Example:
        >>> int_at_least(1)("3")
        3
    """
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate", help="write a synthetic driving dataset (COCO images + annotations + world state)",
        description="Render seeded top-down road scenes and write images/, annotations.json (COCO) "
                    "and world.jsonl (full ground truth per image) into --out.")
    parser.add_argument("--config", type=Path, default=None,
                        help=f"experiment file whose `world:` section is used (default: {DEFAULT_CONFIG} if present)")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.add_argument("--num-scenes", type=positive_int, default=100, help="number of images (default: 100)")
    parser.add_argument("--episode-length", type=non_negative_int, default=0,
                        help="frames per episode; 0 makes independent scenes (default: 0)")
    parser.add_argument("--fps", type=float, default=10.0, help="episode frame rate (default: 10)")
    parser.add_argument("--preset", choices=("easy", "default", "hard"), default=None,
                        help="difficulty preset (overrides the config's)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="dataset seed (default: 0)")
    parser.add_argument("--workers", type=positive_int, default=1, help="parallel worker processes (default: 1)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset in --out")
    parser.set_defaults(handler=run)


def world_config_from(args):
    """The WorldConfig the arguments ask for (config file, then ``--preset``)."""
    from bridge.experiment import load_config
    from perception.world.config import WorldConfig

    path = args.config
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    world = load_config(path).world if path is not None else WorldConfig()
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

    if not 0 < args.fps <= 1000:
        raise ValueError(f"`--fps` must be in (0, 1000]. Received: --fps {args.fps}")
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
