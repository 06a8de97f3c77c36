"""``nesy demo``: the whole project in one command (grows as stages land).

For now it drives a short synthetic episode and writes ``preview.png``: the
frames in a grid with their ground-truth boxes and labels.
"""
from __future__ import annotations

from pathlib import Path

DEFAULT_CONFIG = Path("configs/drive.yaml")


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run the demo and write its pictures",
                                   description="Generate a short episode and write a preview grid "
                                               "with ground-truth boxes and labels.")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default: runs/demo)")
    parser.add_argument("--config", type=Path, default=None,
                        help=f"experiment file (default: {DEFAULT_CONFIG} if present)")
    parser.add_argument("--seed", type=int, default=0, help="episode seed (default: 0)")
    parser.add_argument("--frames", type=int, default=8, help="frames in the episode (default: 8)")
    parser.set_defaults(handler=run)


def ground_truth_preview(scenes, columns: int = 4, scale: int = 2):
    """A grid of frames with ground-truth boxes; lights show their state (PIL image)."""
    from perception.draw import draw_boxes, image_grid

    pictures = []
    for scene in scenes:
        labels = [o.label if "light_state" not in o.attributes else f"light:{o.attributes['light_state']}"
                  for o in scene.objects]
        pictures.append(draw_boxes(scene.image, [o.box for o in scene.objects], labels, scale=scale))
    return image_grid(pictures, columns=columns, padding=4)


def run(args) -> int:
    from perception.world.config import WorldConfig
    from perception.world.episode import generate_episode

    if args.frames < 1 or args.frames > 64:
        raise ValueError(f"`--frames` must be in [1, 64]. Received: --frames {args.frames}")
    if args.seed < 0:
        raise ValueError(f"`--seed` must be a non-negative integer. Received: --seed {args.seed}")
    path = args.config if args.config is not None else (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    if path is not None:
        from bridge.experiment import load_config
        world = load_config(path).world
    else:
        world = WorldConfig()
    frames = generate_episode(world, seed=args.seed, num_frames=args.frames, fps=2.0)
    args.out.mkdir(parents=True, exist_ok=True)
    preview = args.out / "preview.png"
    temp = args.out / ".preview.png.tmp"
    ground_truth_preview(frames).save(temp, format="PNG")
    temp.replace(preview)
    print(preview)
    return 0
