"""Rendering a top-down frame with numpy and PIL.

Objects are drawn as flat-shaded parts (polygons and discs). Each object is
drawn twice, into the image and into an id map, so its box covers exactly the
pixels it drew and its occlusion is the share of them later covered. Sensor
effects follow: blur, brightness and per-channel gain, then noise sliced from
a noise bank that the caller owns and reuses.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from perception.world.geometry import Calibration, local_to_ego
from perception.world.placement import Agent, Distractor, Look
from perception.world.road import RoadMap

NOISE_MARGIN = 64
DASH, GAP = 3.0, 6.0  # metres of lane dashes

# Parts of each class in the object's own frame: (kind, points or (centre, radius), colour key).
# Coordinates are fractions of (length, width): forward in [-0.5, 0.5], right in [-0.5, 0.5].
_CAR = [
    ("poly", [(0.5, -0.36), (0.5, 0.36), (0.42, 0.5), (-0.45, 0.5), (-0.5, 0.4), (-0.5, -0.4), (-0.45, -0.5),
              (0.42, -0.5)], "body"),
    ("poly", [(0.3, -0.4), (0.3, 0.4), (0.12, 0.36), (0.12, -0.36)], "window"),
    ("poly", [(0.1, -0.36), (0.1, 0.36), (-0.27, 0.36), (-0.27, -0.36)], "roof"),
    ("poly", [(-0.3, -0.36), (-0.3, 0.36), (-0.42, 0.32), (-0.42, -0.32)], "window"),
]
_TRUCK = [
    ("poly", [(-0.5, -0.5), (-0.5, 0.5), (0.27, 0.5), (0.27, -0.5)], "cargo"),
    ("poly", [(0.3, -0.46), (0.3, 0.46), (0.5, 0.42), (0.5, -0.42)], "body"),
    ("poly", [(0.44, -0.4), (0.44, 0.4), (0.48, 0.38), (0.48, -0.38)], "window"),
    ("poly", [(-0.45, -0.05), (-0.45, 0.05), (0.22, 0.05), (0.22, -0.05)], "roof"),
]
_PEDESTRIAN = [
    ("poly", [(0.5, -0.3), (0.5, -0.08), (-0.05, -0.08), (-0.05, -0.3)], "legs"),
    ("poly", [(0.05, 0.08), (0.05, 0.3), (-0.5, 0.3), (-0.5, 0.08)], "legs"),
    ("ellipse", (0.0, 0.0, 0.22, 0.5), "shirt"),
    ("disc", (0.02, 0.0, 0.17), "head"),
]
_CYCLIST = [
    ("poly", [(0.5, -0.06), (0.5, 0.06), (-0.5, 0.06), (-0.5, -0.06)], "bike"),
    ("poly", [(0.3, -0.5), (0.3, 0.5), (0.22, 0.5), (0.22, -0.5)], "bike"),
    ("ellipse", (-0.05, 0.0, 0.17, 0.36), "shirt"),
    ("disc", (0.04, 0.0, 0.13), "head"),
]
_LIGHT = [("poly", [(0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5)], "housing")]
_LAMPS = {"red": 0.3, "yellow": 0.0, "green": -0.3}  # forward position of each lamp
_OCTAGON = [(np.cos(a) * 0.5, np.sin(a) * 0.5) for a in np.arange(8) * np.pi / 4 + np.pi / 8]
_STOP_SIGN = [
    ("poly", _OCTAGON, "border"),
    ("poly", [(x * 0.8, y * 0.8) for x, y in _OCTAGON], "face"),
    ("poly", [(0.08, -0.27), (0.08, 0.27), (-0.08, 0.27), (-0.08, -0.27)], "border"),
]
PARTS = {"car": _CAR, "truck": _TRUCK, "pedestrian": _PEDESTRIAN, "cyclist": _CYCLIST,
         "traffic_light": _LIGHT, "stop_sign": _STOP_SIGN}
DRAW_ORDER = {"car": 0, "truck": 0, "cyclist": 1, "pedestrian": 2, "stop_sign": 3, "traffic_light": 3}


@dataclass
class Drawn:
    """What rendering learnt about one object: its box and occluded share."""

    box: tuple[float, float, float, float]
    occlusion: float


def make_noise_bank(image_size: int, seed: int = 0) -> np.ndarray:
    """Standard-normal noise, larger than an image, to slice per frame.

    Returns:
        float32 array (image_size + 64, image_size + 64, 3).

    Example:
        >>> make_noise_bank(32).shape
        (96, 96, 3)
    """
    rng = np.random.default_rng(seed)
    size = image_size + NOISE_MARGIN
    return rng.standard_normal((size, size, 3), dtype=np.float32)


def _ellipse_points(cx: float, cy: float, rx: float, ry: float, num: int = 12) -> list[tuple[float, float]]:
    angles = np.arange(num) * 2 * np.pi / num
    return list(zip(cx + rx * np.cos(angles), cy + ry * np.sin(angles)))


def _part_table(label: str) -> tuple[np.ndarray, list[tuple[str, int, int, float, str]]]:
    """All points of a class's parts stacked into one (K, 2) array, and each part's slice.

    A part is ``(kind, start, stop, radius, colour key)``; discs have one point
    (the centre) and a radius in widths; traffic-light lamps have keys ``lamp:<state>``.
    """
    points, parts = [], []
    specs = list(PARTS[label])
    if label == "traffic_light":
        specs += [("disc", (forward, 0.0, 0.3), f"lamp:{lamp}") for lamp, forward in _LAMPS.items()]
    for kind, spec, key in specs:
        if kind == "disc":
            chunk, radius, kind = [spec[:2]], spec[2], "disc"
        else:
            chunk, radius, kind = (_ellipse_points(*spec) if kind == "ellipse" else spec), 0.0, "poly"
        parts.append((kind, len(points), len(points) + len(chunk), radius, key))
        points.extend(chunk)
    return np.asarray(points, dtype=float), parts


PART_TABLES = {label: _part_table(label) for label in PARTS}


def object_shapes(agent: Agent, position, calibration: Calibration, state: str | None):
    """Pixel shapes of one object: a list of ``(kind, coords, rgb)``.

    ``kind`` is ``"poly"`` (coords: flat list of u, v) or ``"disc"`` (coords:
    ``(u0, v0, u1, v1)``). Lamps of a traffic light are lit only for ``state``.

    Args:
        agent: the object (label, size, heading, appearance).
        position: ``(x, y)`` of its centre in the ego frame.
        calibration: the camera.
        state: a traffic light's state, else None.

    Returns:
        list of ``(kind, coords, rgb)``.

    Example:
        >>> from perception.world.placement import Agent
        >>> car = Agent("o1", "car", 0.0, 0.0, 0.0, 0.0, 4.0, 2.0, "lane",
        ...             {"body": (200, 0, 0), "roof": (180, 0, 0), "window": (30, 30, 30)})
        >>> shapes = object_shapes(car, (0.0, 10.0), Calibration(0.2, (256, 256), (128.0, 230.4)), None)
        >>> kind, coords, color = shapes[0]
        >>> kind, color, (min(coords[1::2]), max(coords[1::2]))
        ('poly', (200, 0, 0), (170.4, 190.4))
    """
    points, parts = PART_TABLES[agent.label]
    local = points * (agent.length, agent.width)
    sin, cos = np.sin(agent.heading), np.cos(agent.heading)
    mpp = calibration.metres_per_pixel
    # ego x = px + f * (-sin) + r * cos ; ego y = py + f * cos + r * sin ; then to pixels
    u = calibration.ego_pixel[0] + (position[0] - local[:, 0] * sin + local[:, 1] * cos) / mpp
    v = calibration.ego_pixel[1] - (position[1] + local[:, 0] * cos + local[:, 1] * sin) / mpp
    pixels = np.column_stack([u, v]).tolist()
    shapes = []
    for kind, start, stop, radius, key in parts:
        if key.startswith("lamp:"):
            lamp = key[5:]
            color = agent.appearance["lamps"][lamp] if lamp == state else agent.appearance["unlit"]
        else:
            color = agent.appearance[key]
        if kind == "disc":
            (cu, cv), r = pixels[start], radius * agent.width / mpp
            shapes.append(("disc", (cu - r, cv - r, cu + r, cv + r), color))
        else:
            shapes.append(("poly", [c for point in pixels[start:stop] for c in point], color))
    return shapes


def _draw_shapes(draws, shapes, fills) -> None:
    for (kind, coords, color) in shapes:
        for draw, fill in zip(draws, fills):
            fill = color if fill is None else fill
            if kind == "poly":
                draw.polygon(coords, fill=fill)
            else:
                draw.ellipse(coords, fill=fill)


def draw_road(draw: ImageDraw.ImageDraw, road: RoadMap, calibration: Calibration, look: Look,
              odometry: float = 0.0) -> None:
    """Draw ground, sidewalks, asphalt, markings, crosswalks and stop lines (ego-frame ``road``).

    Args:
        draw: a PIL drawing context on the frame.
        road: the map in the ego frame.
        calibration: the camera.
        look: the palette.
        odometry: metres travelled, so that lane dashes stay on the road as the view scrolls.

    Example:
        >>> from perception.world.placement import Look
        >>> from perception.world.road import Lane, RoadMap
        >>> look = Look((0, 90, 0), (80, 80, 80), (150, 150, 150), (250, 250, 250), (250, 200, 0))
        >>> image = Image.new("RGB", (64, 64), look.ground)
        >>> draw_road(ImageDraw.Draw(image), RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0),
        ...           Calibration(0.5, (64, 64), (32.0, 57.6)), look)
        >>> image.getpixel((32, 10)), image.getpixel((2, 10))
        ((80, 80, 80), (0, 90, 0))
    """
    width, height = calibration.image_size
    x_min, x_max, y_min, y_max = calibration.view_bounds()

    (eu, ev), mpp = calibration.ego_pixel, calibration.metres_per_pixel

    def rect(x0, x1, y0, y1, color):
        u0, v1 = eu + x0 / mpp, ev - y0 / mpp
        u1, v0 = eu + x1 / mpp, ev - y1 / mpp
        if u1 >= 0 and u0 < width and v1 >= 0 and v0 < height:
            left, top = round(u0), round(v0)
            draw.rectangle((left, top, max(left, round(u1) - 1), max(top, round(v1) - 1)), fill=color)

    far = max(abs(x_min), abs(x_max)) + 10
    for walk in road.sidewalks:
        rect(walk.x_min, walk.x_max, y_min, y_max, look.sidewalk)
    for cross in road.cross_roads:
        rect(-far, far, cross.y_min - 2.5, cross.y_max + 2.5, look.sidewalk)
    rect(road.x_min, road.x_max, y_min, y_max, look.asphalt)
    for cross in road.cross_roads:
        rect(-far, far, cross.y_min, cross.y_max, look.asphalt)
        for y in (cross.y_min + 0.3, cross.y_max - 0.45):
            for x0, x1 in ((-far, road.x_min), (road.x_max, far)):
                rect(x0, x1, y, y + 0.15, look.marking)
        centre = (cross.y_min + cross.y_max) / 2
        for x0, x1 in ((-far, road.x_min - 0.5), (road.x_max + 0.5, far)):
            rect(x0, x1, centre - 0.1, centre + 0.1, look.center_line)
    blocked = [(c.y_min, c.y_max) for c in road.cross_roads] + [(c.y_min, c.y_max) for c in road.crosswalks]

    def line(x, y0, y1, color, thick=0.15, dashed=False):
        spans = [(y0, y1)]
        if dashed:
            start = np.floor((y0 + odometry) / (DASH + GAP)) * (DASH + GAP) - odometry
            spans = [(s, s + DASH) for s in np.arange(start, y1, DASH + GAP)]
        for s0, s1 in spans:
            pieces = [(s0, s1)]
            for b0, b1 in blocked:
                pieces = [p for a0, a1 in pieces for p in ((a0, min(a1, b0)), (max(a0, b1), a1)) if p[1] > p[0]]
            for a0, a1 in pieces:
                rect(x - thick / 2, x + thick / 2, a0, a1, color)

    line(road.x_min + 0.3, y_min, y_max, look.marking)
    line(road.x_max - 0.3, y_min, y_max, look.marking)
    for left, right in zip(road.lanes[:-1], road.lanes[1:]):
        if left.direction != right.direction:
            line(left.x_max - 0.15, y_min, y_max, look.center_line, thick=0.12)
            line(left.x_max + 0.15, y_min, y_max, look.center_line, thick=0.12)
        else:
            line(left.x_max, y_min, y_max, look.marking, dashed=True)
    for crosswalk in road.crosswalks:
        for x in np.arange(crosswalk.x_min + 0.4, crosswalk.x_max - 0.3, 1.0):
            rect(x, x + 0.5, crosswalk.y_min, crosswalk.y_max, look.marking)
    for stop in road.stop_lines:
        rect(stop.x_min, stop.x_max, stop.y - 0.25, stop.y + 0.25, look.marking)


def distractor_shapes(shape: Distractor, position, calibration: Calibration) -> list:
    """Pixel shapes ``(kind, coords, rgb)`` of an unlabelled distractor at ego-frame ``position``.

    Example:
        >>> from perception.world.placement import Distractor
        >>> shapes = distractor_shapes(Distractor("sign", 0.0, 0.0, (2.0, 2.0), (200, 30, 30)), (0.0, 0.0),
        ...                            Calibration(0.5, (64, 64), (32.0, 32.0)))
        >>> [(kind, coords) for kind, coords, _ in shapes]
        [('disc', (30.0, 30.0, 34.0, 34.0)), ('disc', (30.6, 30.6, 33.4, 33.4))]
    """
    length, width = shape.size
    if shape.kind in ("manhole", "dot", "bush", "tree", "sign"):
        u, v = calibration.ego_to_pixel(position[0], position[1])
        r = length / 2 / calibration.metres_per_pixel
        disc = ("disc", (u - r, v - r, u + r, v + r), shape.color)
        if shape.kind != "sign":
            return [disc]
        inner = r * 0.7  # a round sign: coloured ring, white face
        return [disc, ("disc", (u - inner, v - inner, u + inner, v + inner), (235, 235, 235))]
    if shape.kind == "arrow":
        points = [(0.5, 0.0), (0.1, 0.5), (0.1, 0.15), (-0.5, 0.15), (-0.5, -0.15), (0.1, -0.15), (0.1, -0.5)]
    elif shape.kind == "stain":
        points = _ellipse_points(0, 0, 0.5, 0.4, 7)
    else:
        points = [(0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5)]
    ego = local_to_ego(np.asarray(points) * (length, width), position, shape.heading)
    u, v = calibration.ego_to_pixel(ego[:, 0], ego[:, 1])
    return [("poly", np.column_stack([u, v]).ravel().tolist(), shape.color)]


def _shape_extent(shape) -> tuple[float, float, float, float]:
    kind, coords, _ = shape
    if kind == "disc":
        return coords
    return min(coords[0::2]), min(coords[1::2]), max(coords[0::2]), max(coords[1::2])


def render_frame(road: RoadMap, objects, distractors, calibration: Calibration, look: Look, config,
                 rng: np.random.Generator, noise_bank: np.ndarray | None = None, odometry: float = 0.0,
                 draw_objects: bool = True) -> tuple[np.ndarray, dict[str, Drawn]]:
    """Render one frame.

    Args:
        road: the map in the ego frame.
        objects: ``(agent, (x, y) ego frame, light_state or None)`` per object.
        distractors: ``(Distractor, (x, y) ego frame)`` per shape.
        calibration: the camera.
        look: the palette.
        config: a resolved WorldConfig (noise, blur, brightness, color_jitter).
        rng: draws this frame's sensor effects.
        noise_bank: from :func:`make_noise_bank`; made on the spot when None.
        odometry: metres travelled (keeps lane dashes fixed on the road).
        draw_objects: False renders the background only (same sensor effects).

    Returns:
        ``(image, drawn)``: (H, W, 3) uint8 RGB and, per drawn object id, its
        :class:`Drawn`. Objects mostly outside the image are not drawn.

    Example:
        >>> from perception.world.config import preset_config
        >>> from perception.world.placement import Agent, Look
        >>> from perception.world.road import Lane, RoadMap
        >>> config = preset_config("easy", noise=0.0, brightness=0.0, color_jitter=0.0)
        >>> look = Look((0, 90, 0), (80, 80, 80), (150, 150, 150), (250, 250, 250), (250, 200, 0))
        >>> car = Agent("o1", "car", 0.0, 10.0, 0.0, 0.0, 4.0, 2.0, "lane",
        ...             {"body": (200, 0, 0), "roof": (180, 0, 0), "window": (30, 30, 30)})
        >>> image, drawn = render_frame(RoadMap([Lane(0, 0.0, 3.5, 1, 13.9)], 0), [(car, (0.0, 10.0), None)], [],
        ...                             Calibration(0.25, (64, 64), (32.0, 57.6)), look, config,
        ...                             np.random.default_rng(0))
        >>> drawn["o1"].box, drawn["o1"].occlusion
        ((28.0, 9.0, 37.0, 26.0), 0.0)
    """
    width, height = calibration.image_size
    canvas = Image.new("RGB", (width, height), look.ground)
    draw = ImageDraw.Draw(canvas)
    ids = Image.new("L", (width, height), 0)
    id_draw = ImageDraw.Draw(ids)
    for shape, position in distractors:
        if shape.kind == "building":
            _draw_shapes([draw], distractor_shapes(shape, position, calibration), [None])
    draw_road(draw, road, calibration, look, odometry)
    for shape, position in distractors:
        if shape.layer == "ground" and shape.kind != "building":
            _draw_shapes([draw], distractor_shapes(shape, position, calibration), [None])
    drawn_pixels: dict[str, tuple[int, tuple]] = {}
    index_of: dict[str, int] = {}
    ordered = sorted(objects, key=lambda item: DRAW_ORDER[item[0].label])
    for agent, position, state in ordered if draw_objects else ():
        shapes = object_shapes(agent, position, calibration, state)
        extents = np.array([_shape_extent(s) for s in shapes])
        u0, v0 = extents[:, 0].min(), extents[:, 1].min()
        u1, v1 = extents[:, 2].max(), extents[:, 3].max()
        full = max(u1 - u0, 1e-6) * max(v1 - v0, 1e-6)
        inside = max(0.0, min(u1, width) - max(u0, 0)) * max(0.0, min(v1, height) - max(v0, 0))
        if inside / full < 0.5 or len(index_of) >= 254:
            continue
        index = len(index_of) + 1
        index_of[agent.id] = index
        _draw_shapes([draw, id_draw], shapes, [None, index])
        crop = (max(int(u0) - 2, 0), max(int(v0) - 2, 0), min(int(u1) + 3, width), min(int(v1) + 3, height))
        mine = np.asarray(ids.crop(crop)) == index
        rows, columns = np.nonzero(mine)
        if rows.size == 0:
            del index_of[agent.id]
            continue
        box = (float(crop[0] + columns.min()), float(crop[1] + rows.min()),
               float(crop[0] + columns.max() + 1), float(crop[1] + rows.max() + 1))
        drawn_pixels[agent.id] = (int(rows.size), crop, box)
    for shape, position in distractors:
        if shape.layer == "top":
            _draw_shapes([draw, id_draw], distractor_shapes(shape, position, calibration), [None, 255])
    final_ids = np.asarray(ids)
    drawn = {}
    for object_id, (total, crop, box) in drawn_pixels.items():
        visible = np.count_nonzero(final_ids[crop[1]:crop[3], crop[0]:crop[2]] == index_of[object_id])
        drawn[object_id] = Drawn(box, round(float(1.0 - visible / total), 4))
    return apply_sensor(canvas, config, rng, noise_bank), drawn


def apply_sensor(canvas: Image.Image, config, rng: np.random.Generator,
                 noise_bank: np.ndarray | None = None) -> np.ndarray:
    """Blur, brightness, per-channel gain and noise of one frame.

    Args:
        canvas: the drawn frame (PIL RGB).
        config: a resolved WorldConfig (``blur``, ``brightness``, ``color_jitter``, ``noise``).
        rng: draws this frame's effects.
        noise_bank: from :func:`make_noise_bank`; made on the spot when None.

    Returns:
        (H, W, 3) uint8 RGB.

    Example:
        >>> from perception.world.config import preset_config
        >>> image = apply_sensor(Image.new("RGB", (32, 32), (100, 100, 100)), preset_config("hard"),
        ...                      np.random.default_rng(0))
        >>> image.shape, image.dtype, bool(image.std() > 5)
        ((32, 32, 3), dtype('uint8'), True)
    """
    radius = float(rng.uniform(0.0, config.blur)) if config.blur > 0 else 0.0
    gain = (1 + rng.uniform(-config.brightness, config.brightness)) \
        * (1 + rng.uniform(-config.color_jitter, config.color_jitter, size=3))
    sigma = float(rng.uniform(0.5, 1.0)) * config.noise
    offset = rng.integers(0, NOISE_MARGIN, size=2)
    levels = np.arange(256, dtype=np.float64)
    canvas = canvas.point(np.clip(np.outer(gain, levels), 0, 255).astype(np.uint8).ravel().tolist())
    if radius > 0.25:
        canvas = canvas.filter(ImageFilter.BoxBlur(radius))
    image = np.asarray(canvas, dtype=np.float32)
    if sigma > 0:
        width, height = canvas.size
        bank = noise_bank if noise_bank is not None else make_noise_bank(max(width, height))
        image += bank[offset[0]:offset[0] + height, offset[1]:offset[1] + width] * np.float32(sigma)
    return np.clip(image, 0, 255, out=image).astype(np.uint8)
