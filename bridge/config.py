"""Typed, validated configuration files.

Each section of an experiment file (``world``, ``model``, ...) is a dataclass
owned by the package that uses it. :func:`build_dataclass` checks a mapping
read from YAML against such a dataclass: unknown keys (with a "did you mean"),
wrong types, values outside a field's declared range or choices, and missing
files each raise a one-line :class:`ConfigError` that names the file, the line
and the key.

Fields declare their checks in ``metadata``::

    num_objects: int = field(default=8, metadata={"range": (0, 40)})
    preset: str = field(default="default", metadata={"choices": ("easy", "default", "hard")})
    rules: str = field(default="rules/traffic.rules", metadata={"path": "file"})

Paths are resolved relative to the config file's folder.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from bridge.errors import ConfigError


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
    """Build and validate dataclass ``cls`` from a mapping.

    Args:
        cls: a dataclass whose fields may carry ``range``, ``choices`` and
            ``path`` metadata.
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
    lines = lines or {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        where = _where(source, lines, prefix.rstrip("."))
        raise ConfigError(f"{where}: `{prefix.rstrip('.') or 'config'}` must be a mapping. Received {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            raise ConfigError(f"{_where(source, lines, prefix + str(key))}: unknown key '{prefix}{key}'."
                              f"{_did_you_mean(str(key), fields)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        values[name] = _check_value(value, hints[name], fields[name].metadata, source=source,
                                    key=prefix + name, lines=lines, base_dir=base_dir)
    try:
        return cls(**values)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{_where(source, lines, prefix.rstrip('.'))}: {error}") from None


def _did_you_mean(key: str, options) -> str:
    close = difflib.get_close_matches(key, list(options), n=1, cutoff=0.6)
    if close:
        return f" Did you mean '{close[0]}'?"
    return f" Expected one of: {', '.join(sorted(options))}"


def _where(source: str, lines: dict[str, int], key: str) -> str:
    line = lines.get(key)
    return f"{source}:{line}" if line else source


def _check_value(value, hint, metadata, *, source, key, lines, base_dir):
    where = _where(source, lines, key)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        hint = options[0]
        origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return build_dataclass(hint, value, source=source, prefix=key + ".", lines=lines, base_dir=base_dir)
    if origin in (tuple, list):
        return _check_sequence(value, hint, metadata, source=source, key=key, lines=lines, base_dir=base_dir)
    if origin is dict:
        return _check_mapping(value, hint, metadata, source=source, key=key, lines=lines, base_dir=base_dir)
    checked = _check_scalar(value, hint, key, where)
    return _check_constraints(checked, metadata, key, where, base_dir)


def _check_sequence(value, hint, metadata, *, source, key, lines, base_dir):
    where = _where(source, lines, key)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where}: `{key}` must be a list. Received: {key}={value!r}")
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            raise ConfigError(f"{where}: `{key}` must be a list of {len(args)} values. Received: {key}={value!r}")
        item_hints = args
    else:
        item_hints = [args[0] if args else Any] * len(value)
    items = [_check_value(v, h, metadata, source=source, key=f"{key}[{i}]", lines=lines, base_dir=base_dir)
             for i, (v, h) in enumerate(zip(value, item_hints))]
    if metadata.get("ordered") and list(items) != sorted(items):
        raise ConfigError(f"{where}: `{key}` must be in increasing order. Received: {key}={value!r}")
    return tuple(items) if origin is tuple else items


def _check_mapping(value, hint, metadata, *, source, key, lines, base_dir):
    """A mapping: each key of the key type (one of ``metadata["keys"]`` when given), each value checked."""
    where = _where(source, lines, key)
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: `{key}` must be a mapping. Received: {key}={value!r}")
    key_hint, value_hint = typing.get_args(hint) or (Any, Any)
    allowed = metadata.get("keys")
    item_metadata = {k: v for k, v in metadata.items() if k != "keys"}
    checked = {}
    for name, item in value.items():
        name = _check_scalar(name, key_hint, key, where)
        if allowed is not None and name not in allowed:
            raise ConfigError(f"{where}: `{key}` has an unknown key {name!r}.{_did_you_mean(str(name), allowed)}")
        checked[name] = _check_value(item, value_hint, item_metadata, source=source, key=f"{key}.{name}",
                                     lines=lines, base_dir=base_dir)
    return checked


_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _check_scalar(value, hint, key, where):
    if hint is Any:
        return value
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(hint, isinstance(value, hint) if isinstance(hint, type) else True)
    if not ok:
        raise ConfigError(f"{where}: `{key}` must be {_TYPE_WORDS.get(hint, getattr(hint, '__name__', hint))}. "
                          f"Received: {key}={value!r}")
    if hint is float:
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{where}: `{key}` must be a finite number. Received: {key}={value!r}")
    return value


def _check_constraints(value, metadata, key, where, base_dir):
    if "range" in metadata:
        low, high = metadata["range"]
        if not low <= value <= high:
            raise ConfigError(f"{where}: `{key}` must be in [{low}, {high}]. Received: {key}={value!r}")
    if "choices" in metadata and value not in metadata["choices"]:
        choices = ", ".join(map(str, metadata["choices"]))
        hint = _did_you_mean(str(value), metadata["choices"]) if isinstance(value, str) else ""
        raise ConfigError(f"{where}: `{key}` must be one of {choices}. Received: {key}={value!r}.{hint}".rstrip("."))
    kind = metadata.get("path")
    if kind and isinstance(value, str):
        path = Path(value).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if kind == "file" and not path.is_file():
            raise ConfigError(f"{where}: `{key}` names a file that does not exist: {path}")
        if kind == "dir" and not path.is_dir():
            raise ConfigError(f"{where}: `{key}` names a folder that does not exist: {path}")
        return str(path)
    return value
