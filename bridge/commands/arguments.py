"""Argument types shared by the subcommands: a bad value exits 2 with one line.

Each is an argparse ``type=``: it returns the parsed value or raises
``argparse.ArgumentTypeError``, which the parser prints as
``nesy demo: error: argument --frames: expected an integer in [1, 400], got '1000'``
and exits 2, before any work starts.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from bridge.errors import ConfigError
from bridge.shipped import find_config


def int_in_range(low: int, high: int | None = None):
    """An argparse type accepting integers in ``[low, high]`` (no upper bound when ``high`` is None).

    Example:
        >>> int_in_range(1, 400)("40")
        40
        >>> int_in_range(1, 400)("1000")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: expected an integer in [1, 400], got '1000'
    """
    expected = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


def int_at_least(minimum: int):
    """An argparse type accepting integers >= ``minimum``.

    Example:
        >>> int_at_least(1)("3")
        3
    """
    return int_in_range(minimum)


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def float_in_range(low: float, high: float, *, include_low: bool = True, include_high: bool = True):
    """An argparse type accepting finite numbers in ``[low, high]`` (open at an end not included).

    Example:
        >>> float_in_range(0.0, 1.0)("0.5")
        0.5
        >>> float_in_range(0.0, 1000.0, include_low=False)("0")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: expected a number in (0.0, 1000.0], got '0'
        >>> float_in_range(0.0, 1.0, include_low=False, include_high=False)("1")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: expected a number in (0.0, 1.0), got '1'
    """
    expected = f"a number in {'[' if include_low else '('}{low}, {high}{']' if include_high else ')'}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (low <= value <= high) or (value == low and not include_low) or (value == high and not include_high):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


def config_file(text: str) -> Path:
    """An argparse type for ``--config``: a config file, or the name of a shipped one (:func:`bridge.shipped.find_config`).

    Example:
        >>> config_file("drive").name
        'drive.yaml'
    """
    try:
        return find_config(text)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
