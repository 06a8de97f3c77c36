"""Calibration between the ego frame (metres) and image pixels.

The ego frame has its origin at the ego vehicle's centre, ``x`` to the right
and ``y`` forward. The image looks straight down with the ego near the bottom
centre, heading up the image: ``u = u0 + x / mpp`` and ``v = v0 - y / mpp``.
Headings are radians, 0 along the ego's heading, counter-clockwise positive,
so an object with heading ``h`` moves along ``(-sin h, cos h)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EGO_ROW_FRACTION = 0.9  # the ego centre sits 90% of the way down the image


@dataclass
class Calibration:
    """Pixel <-> ego-frame mapping of one top-down image.

    Args:
        metres_per_pixel: ground size of one pixel.
        image_size: ``(W, H)`` in pixels.
        ego_pixel: ``(u, v)`` of the ego centre.

    Example:
        >>> cal = Calibration(0.2, (256, 256), (128.0, 230.4))
        >>> cal.ego_to_pixel(0.0, 10.0)
        (128.0, 180.4)
        >>> cal.pixel_to_ego(128.0, 180.4)
        (0.0, 10.0)
    """

    metres_per_pixel: float
    image_size: tuple[int, int]
    ego_pixel: tuple[float, float]

    @classmethod
    def from_config(cls, config) -> "Calibration":
        """The calibration of images made with a :class:`WorldConfig`.

        Example:
            >>> from perception.world.config import WorldConfig
            >>> Calibration.from_config(WorldConfig()).ego_pixel
            (128.0, 230.4)
        """
        size = config.image_size
        return cls(float(config.metres_per_pixel), (size, size), (size / 2.0, size * EGO_ROW_FRACTION))

    def ego_to_pixel(self, x, y):
        """Pixel coordinates ``(u, v)`` of ego-frame points; scalars or arrays of any shape."""
        u = self.ego_pixel[0] + np.asarray(x, dtype=float) / self.metres_per_pixel
        v = self.ego_pixel[1] - np.asarray(y, dtype=float) / self.metres_per_pixel
        return _plain(u), _plain(v)

    def pixel_to_ego(self, u, v):
        """Ego-frame metres ``(x, y)`` of pixel coordinates; scalars or arrays of any shape."""
        x = (np.asarray(u, dtype=float) - self.ego_pixel[0]) * self.metres_per_pixel
        y = (self.ego_pixel[1] - np.asarray(v, dtype=float)) * self.metres_per_pixel
        return _plain(x), _plain(y)

    def view_bounds(self) -> tuple[float, float, float, float]:
        """Ego-frame rectangle seen by the image: ``(x_min, x_max, y_min, y_max)`` metres.

        Example:
            >>> [round(b, 2) for b in Calibration(0.2, (256, 256), (128.0, 230.4)).view_bounds()]
            [-25.6, 25.6, -5.12, 46.08]
        """
        x_min, y_max = self.pixel_to_ego(0.0, 0.0)
        x_max, y_min = self.pixel_to_ego(float(self.image_size[0]), float(self.image_size[1]))
        return x_min, x_max, y_min, y_max

    def to_json(self) -> dict:
        return {"metres_per_pixel": self.metres_per_pixel, "image_size": list(self.image_size),
                "ego_pixel": list(self.ego_pixel)}

    @classmethod
    def from_json(cls, data: dict) -> "Calibration":
        return cls(float(data["metres_per_pixel"]), tuple(int(v) for v in data["image_size"]),
                   tuple(float(v) for v in data["ego_pixel"]))


def _plain(values: np.ndarray):
    return float(values) if values.ndim == 0 else values


def heading_vectors(heading: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors ``(forward, right)`` in the ego frame for an object's heading.

    Example:
        >>> forward, right = heading_vectors(0.0)
        >>> forward.tolist(), right.tolist()
        ([-0.0, 1.0], [1.0, 0.0])
    """
    sin, cos = np.sin(heading), np.cos(heading)
    return np.array([-sin, cos]), np.array([cos, sin])


def local_to_ego(points, position, heading: float) -> np.ndarray:
    """Ego-frame coordinates of points given in an object's own frame.

    Args:
        points: (N, 2) ``(forward, right)`` metres in the object's frame.
        position: ``(x, y)`` of the object's centre in the ego frame.
        heading: the object's heading in radians.

    Returns:
        (N, 2) ego-frame ``(x, y)``.

    Example:
        >>> local_to_ego([[1.0, 0.0]], (2.0, 3.0), np.pi / 2).round(6).tolist()
        [[1.0, 3.0]]
    """
    forward, right = heading_vectors(heading)
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    return np.asarray(position, dtype=float) + points[:, :1] * forward + points[:, 1:] * right
