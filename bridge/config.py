"""Typed, validated configuration files.

Each section of an experiment file (``world``, ``model``, ...) is a dataclass
owned by the package that uses it. :func:`load_yaml` reads a file and the
line of each key; :func:`build_dataclass` checks a mapping read from it
against such a dataclass with :mod:`perception.configuration` (the checks
every configuration class also runs when built in Python): unknown keys
(with a "did you mean"), wrong types, values outside a field's declared
range or choices, and missing files each raise a one-line
:class:`ConfigError` that names the file, the line and the key.

Fields declare their checks in ``metadata``::

    num_objects: int = field(default=8, metadata={"range": (0, 40)})
    preset: str = field(default="default", metadata={"choices": ("easy", "default", "hard")})
    rules: str = field(default="rules/traffic.rules", metadata={"path": "file"})

Paths are resolved relative to the config file's folder.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bridge.errors import ConfigError
from perception import configuration
from perception.configuration import InvalidConfigError


def load_yaml(path: str | Path) -> tuple[dict, dict[str, int]]:
    """Read a YAML mapping and the line of each dotted key.

    Returns:
        ``(data, lines)``: the mapping and ``{"world.num_objects": 12, ...}``.

    Example:
        >>> import tempfile, os
        >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        ...     _ = f.write("world:\\n  seed: 3\\n")
        >>> load_yaml(f.name)
        ({'world': {'seed': 3}}, {'world': 1, 'world.seed': 2})
        >>> os.unlink(f.name)
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config file ({error.strerror})") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level. Received {type(data).__name__}")
    return data, _key_lines(node)


def _key_lines(node, prefix: str = "") -> dict[str, int]:
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{prefix}{key_node.value}"
            lines[key] = key_node.start_mark.line + 1
            lines.update(_key_lines(value_node, key + "."))
    return lines


def build_dataclass(cls, data: Any, *, source: str = "<config>", prefix: str = "",
                    lines: dict[str, int] | None = None, base_dir: Path | None = None):
    """Build and validate dataclass ``cls`` from a mapping read from YAML
    (the checks of :func:`perception.configuration.build_dataclass`; its
    errors raised as :class:`ConfigError`).

    Args:
        cls: a dataclass whose fields may carry ``range``, ``choices``,
            ``keys``, ``ordered`` and ``path`` metadata.
        data: the mapping (from YAML); missing keys take their defaults.
        source: file name used in messages.
        prefix: dotted key of this section, e.g. ``"world."``.
        lines: dotted key -> line number, from :func:`load_yaml`.
        base_dir: folder that relative paths are resolved against.

    Example:
        >>> from dataclasses import dataclass, field
        >>> @dataclass
        ... class Section:
        ...     rate: float = field(default=0.5, metadata={"range": (0, 1)})
        >>> build_dataclass(Section, {"rate": 0.25})
        Section(rate=0.25)
        >>> build_dataclass(Section, {"rat": 0.25})
        Traceback (most recent call last):
        ...
        bridge.errors.ConfigError: <config>: unknown key 'rat'. Did you mean 'rate'?
    """
    try:
        return configuration.build_dataclass(cls, data, source=source, prefix=prefix, lines=lines,
                                             base_dir=base_dir)
    except InvalidConfigError as error:
        raise ConfigError(str(error)) from None
