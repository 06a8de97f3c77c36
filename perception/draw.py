"""Pictures of detections: boxes with labels on an image, and grids of images."""
from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image, ImageDraw

CLASS_COLORS = {
    "car": (255, 64, 255), "truck": (255, 160, 0), "pedestrian": (0, 255, 255),
    "cyclist": (255, 255, 0), "traffic_light": (255, 255, 255), "stop_sign": (255, 80, 80),
}


def color_for(label: str) -> tuple[int, int, int]:
    """A fixed, bright colour for a label name.

    Example:
        >>> color_for("car"), color_for("kangaroo") == color_for("kangaroo")
        ((255, 64, 255), True)
    """
    if label in CLASS_COLORS:
        return CLASS_COLORS[label]
    digest = hashlib.md5(label.encode()).digest()
    return tuple(128 + b // 2 for b in digest[:3])


def to_pil(image) -> Image.Image:
    """A PIL RGB image from a PIL image, an (H, W, 3) uint8 array or a float (3, H, W) tensor/array in [0, 1].

    Example:
        >>> to_pil(np.zeros((4, 6, 3), dtype=np.uint8)).size
        (6, 4)
    """
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[2] not in (1, 3):
        array = array.transpose(1, 2, 0)
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise ValueError(f"`image` must be (H, W, 3) uint8 or (3, H, W) float. Received shape {array.shape}")
    if array.dtype != np.uint8:
        array = (np.clip(array.astype(np.float32), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return Image.fromarray(array)


def draw_boxes(image, boxes, labels: list[str], scores=None, colors=None, scale: int = 1,
               width: int = 1) -> Image.Image:
    """Draw labelled boxes on a copy of ``image``.

    Args:
        image: PIL image, (H, W, 3) uint8 array or float (3, H, W) in [0, 1].
        boxes: (N, 4) xyxy pixels of ``image`` (array, tensor or list).
        labels: N label names.
        scores: optional N confidences, shown after the label.
        colors: optional N RGB tuples; by default one colour per label name.
        scale: enlarge the picture this many times first (labels stay readable).
        width: line width in pixels of the enlarged picture.

    Returns:
        PIL.Image of size (W * scale, H * scale).

    Example:
        >>> picture = draw_boxes(np.zeros((32, 32, 3), dtype=np.uint8), [[4, 4, 20, 12]], ["car"], scale=2)
        >>> picture.size, picture.getpixel((8, 8))
        ((64, 64), (255, 64, 255))
    """
    picture = to_pil(image)
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise ValueError(f"`scale` must be an integer >= 1. Received: scale={scale!r}")
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    if hasattr(boxes, "detach"):
        boxes = boxes.detach().cpu().numpy()
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    if len(labels) != len(boxes):
        raise ValueError(f"`labels` must name each of the {len(boxes)} boxes. Received {len(labels)} labels")
    if scores is not None:
        scores = [float(s) for s in (scores.tolist() if hasattr(scores, "tolist") else scores)]
        if len(scores) != len(boxes):
            raise ValueError(f"`scores` must have one value per box ({len(boxes)}). Received {len(scores)}")
    draw = ImageDraw.Draw(picture)
    for index, (box, label) in enumerate(zip(boxes * scale, labels)):
        color = tuple(colors[index]) if colors is not None else color_for(str(label))
        draw.rectangle([box[0], box[1], max(box[0], box[2] - 1), max(box[1], box[3] - 1)], outline=color, width=width)
        text = str(label) if scores is None else f"{label} {scores[index]:.2f}"
        top = box[1] - 11 if box[1] >= 11 else box[3] + 1
        draw.rectangle([box[0], top, box[0] + 6 * len(text) + 2, top + 10], fill=(0, 0, 0))
        draw.text((box[0] + 1, top), text, fill=color)
    return picture


def image_grid(images, columns: int, padding: int = 2, background=(24, 24, 24)) -> Image.Image:
    """Lay images out in a grid, left to right then top to bottom.

    Args:
        images: PIL images or arrays (any form :func:`to_pil` takes); cells take the largest size.
        columns: images per row.
        padding: pixels between cells.
        background: RGB of the gaps.

    Returns:
        PIL.Image.

    Example:
        >>> image_grid([np.zeros((10, 20, 3), dtype=np.uint8)] * 3, columns=2, padding=0).size
        (40, 20)
    """
    pictures = [to_pil(image) for image in images]
    if not pictures:
        raise ValueError("`images` must hold at least one image. Received none")
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"`columns` must be an integer >= 1. Received: columns={columns!r}")
    columns = min(columns, len(pictures))
    rows = -(-len(pictures) // columns)
    cell_w = max(p.width for p in pictures)
    cell_h = max(p.height for p in pictures)
    grid = Image.new("RGB", (columns * cell_w + (columns - 1) * padding, rows * cell_h + (rows - 1) * padding),
                     background)
    for index, picture in enumerate(pictures):
        row, column = divmod(index, columns)
        grid.paste(picture, (column * (cell_w + padding), row * (cell_h + padding)))
    return grid
