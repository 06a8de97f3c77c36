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

import math
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from bridge.errors import ConfigError
from perception import configuration
from perception.configuration import InvalidConfigError


#: nodes a document may hold once its aliases are expanded; a config has a few hundred, and
#: "billion laughs" (aliases of aliases) would otherwise grow to gigabytes.
MAX_EXPANDED_NODES = 10_000
#: how deeply mappings and lists may nest.
MAX_DEPTH = 20
#: the largest config file read, in characters; a config is a few kilobytes (and PyYAML
#: takes seconds per hundred kilobytes).
MAX_CONFIG_BYTES = 256 * 1024
#: LibYAML's parser when PyYAML was built with it: the same documents, ten times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: str | Path) -> tuple[dict, dict[str, int]]:
    """Read a YAML mapping and the line of each dotted key, strictly.

    Refused, each as one :class:`ConfigError` line naming ``file:line``: aliases
    that expand the document past :data:`MAX_EXPANDED_NODES` nodes or refer to
    themselves, nesting deeper than :data:`MAX_DEPTH`, a key given twice in one
    mapping (a ``<<`` merge may still be overridden), and numbers that are not
    finite (``.inf``, ``.nan``).

    Returns:
        ``(data, lines)``: the mapping and ``{"world.num_objects": 12, ...}``.

    Example:
        >>> import tempfile, os
        >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        ...     _ = f.write("world:\\n  seed: 3\\n")
        >>> load_yaml(f.name)
        ({'world': {'seed': 3}}, {'world': 1, 'world.seed': 2})
        >>> with open(f.name, "w") as g:
        ...     _ = g.write("world:\\n  seed: 3\\n  seed: 4\\n")
        >>> load_yaml(f.name)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        bridge.errors.ConfigError: ...:3:3: duplicate key 'seed' (first given on line 2)
        >>> os.unlink(f.name)
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read config file ({getattr(error, 'strerror', None) or error})") from None
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: a config file is at most {MAX_CONFIG_BYTES // 1024} KiB. "
                          f"Received {len(text) // 1024} KiB")
    try:
        _check_brackets(text, path)
        _check_shape(text, path)
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except ConfigError:
        raise
    except _DuplicateKey as error:
        key, mark, first = error.args
        raise ConfigError(f"{path}:{mark.line + 1}:{mark.column + 1}: duplicate key {key!r} "
                          f"(first given on line {first})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as error:  # e.g. an integer of more digits than Python converts
        text = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        if "integer string conversion" in text:
            text = f"an integer has more than {sys.get_int_max_str_digits()} digits"
        raise ConfigError(f"{path}: invalid YAML: {text}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level. Received {type(data).__name__}")
    lines = _key_lines(node)
    _check_finite(data, path, lines)
    return data, lines


def _check_brackets(text: str, path: Path) -> None:
    """Refuse runs of unclosed ``[``/``{`` far past :data:`MAX_DEPTH` before the parser sees them.

    PyYAML reads a flow collection ahead to its end, in time quadratic in its depth, before
    the first event :func:`_check_shape` could stop; brackets inside strings count too,
    so the bound here is twice the real one.
    """
    depth = 0
    for match in _BRACKET.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > 2 * MAX_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            raise ConfigError(f"{path}:{line}: nested more than {MAX_DEPTH} levels deep")


_BRACKET = re.compile(r"[\[\]{}]")


def _check_shape(text: str, path: Path) -> None:
    """Refuse deep nesting and alias expansion before anything is built, from the parser's events."""
    expanded: dict[str, int] = {}          # anchor -> nodes it stands for
    open_anchors: set[str] = set()          # anchors of collections still being read
    stack: list[list] = [[0, None, False]]  # per open collection: nodes so far, its anchor, holds an alias
    for event in yaml.parse(text, Loader=_SAFE_LOADER):
        mark = event.start_mark
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(stack) > MAX_DEPTH:
                raise ConfigError(f"{path}:{mark.line + 1}:{mark.column + 1}: nested more than {MAX_DEPTH} levels deep")
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            stack.append([0, event.anchor, False])
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            count, anchor, aliased = stack.pop()
            size = count + 1
            if anchor is not None:
                expanded[anchor] = size
                open_anchors.discard(anchor)
        elif isinstance(event, yaml.ScalarEvent):
            size, aliased = 1, False
            if event.anchor is not None:
                expanded[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                raise ConfigError(f"{path}:{mark.line + 1}:{mark.column + 1}: alias *{event.anchor} refers to "
                                  "the collection that holds it (a recursive alias)")
            size, aliased = expanded.get(event.anchor, 1), True
        else:
            continue
        parent = stack[-1]
        parent[0] += size
        parent[2] = parent[2] or aliased
        if parent[2] and parent[0] > MAX_EXPANDED_NODES:
            raise ConfigError(f"{path}:{mark.line + 1}:{mark.column + 1}: aliases expand the document past "
                              f"{MAX_EXPANDED_NODES} nodes; write the values out instead")


class _DuplicateKey(Exception):
    pass


class _StrictLoader(_SAFE_LOADER):
    """The safe loader, refusing a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise _DuplicateKey(key_node.value, key_node.start_mark, seen[key])
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _check_finite(data, path: Path, lines: dict[str, int], key: str = "") -> None:
    """Refuse ``.inf`` and ``.nan`` anywhere, naming the file, line and dotted key."""
    if isinstance(data, float) and not math.isfinite(data):
        line = lines.get(key) or lines.get(key.split("[")[0])
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where}: `{key}` must be a finite number. Received: {key}={data!r}")
    if isinstance(data, dict):
        for name, value in data.items():
            _check_finite(value, path, lines, f"{key}.{name}" if key else str(name))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            _check_finite(value, path, lines, f"{key}[{index}]")


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
