"""One validator for every configuration dataclass.

A configuration class (``DetectorConfig``, ``TrainingConfig``,
``WorldConfig``, the bridge's ``PipelineConfig``) declares each field's
checks in its ``metadata`` and calls :func:`validate` in ``__post_init__``::

    @dataclass
    class SectionConfig:
        num_objects: int = field(default=8, metadata={"range": (0, 40)})
        preset: str = field(default="default", metadata={"choices": ("easy", "default", "hard")})
        lanes: tuple[int, int] = field(default=(1, 4), metadata={"range": (1, 4), "ordered": True})
        speeds: dict[str, float] = field(default_factory=dict, metadata={"keys": ("car",), "range": (0, 50)})
        rules: str = field(default="rules/traffic.rules", metadata={"path": "file"})

        def __post_init__(self):
            validate(self)

:func:`build_dataclass` builds such a class from a mapping read from a file
(the bridge's YAML loader calls it): it also refuses unknown keys (with a
"did you mean"), resolves ``path`` fields against the file's folder and
checks that they exist, and names the file and line in every message.
Both run the same checks, so Python refuses what a file refuses, with the
same one line::

    `batch_size` must be in [1, 65536]. Received: batch_size=0
    configs/drive.yaml:12: `training.batch_size` must be in [1, 65536]. Received: training.batch_size=0

A ``path`` field built in Python is not looked up when the object is made:
a relative path there is resolved where it is used.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class InvalidConfigError(ValueError, TypeError):
    """A configuration value is invalid: one line naming the key, what was
    expected and what was received (and, read from a file, the file and line).

    Both a ValueError and a TypeError: a value of the wrong type is refused
    by the same template as one out of range.
    """


@dataclass(frozen=True)
class _Origin:
    """Where the values come from: a file (with key lines and a folder for relative paths) or Python."""

    source: str | None = None
    lines: dict[str, int] = field(default_factory=dict)
    base_dir: Path | None = None
    check_paths: bool = False

    def where(self, key: str) -> str | None:
        if self.source is None:
            return None
        line = self.lines.get(key)
        return f"{self.source}:{line}" if line else self.source

    def error(self, key: str, text: str) -> InvalidConfigError:
        where = self.where(key)
        return InvalidConfigError(f"{where}: {text}" if where else text)


def validate(instance, *, source: str | None = None) -> None:
    """Check every field of a configuration dataclass against its type and
    ``metadata``; call it from ``__post_init__``.

    Values are normalised in place as a file's would be: an integer given
    for a float field becomes a float, a list given for a tuple field a tuple.

    Args:
        instance: a dataclass instance whose fields may carry ``range``,
            ``choices``, ``keys``, ``ordered`` and ``path`` metadata.
        source: a name to start each message with, e.g. a file name.

    Raises:
        InvalidConfigError: one line, ``... Received: name=value``.

    Example:
        >>> @dataclass
        ... class Section:
        ...     rate: float = field(default=0.5, metadata={"range": (0, 1)})
        ...     def __post_init__(self):
        ...         validate(self)
        >>> Section(rate=1)
        Section(rate=1.0)
        >>> Section(rate=1.5)
        Traceback (most recent call last):
        ...
        perception.configuration.InvalidConfigError: `rate` must be in [0, 1]. Received: rate=1.5
    """
    cls = type(instance)
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"validate() checks dataclass instances. Received: {cls.__name__}")
    origin = _Origin(source=source)
    hints = typing.get_type_hints(cls)
    for item in dataclasses.fields(cls):
        if not item.init:
            continue
        value = getattr(instance, item.name)
        checked = _check_value(value, hints[item.name], item.metadata, key=item.name, origin=origin)
        if checked is not value:
            object.__setattr__(instance, item.name, checked)


def build_dataclass(cls, data: Any, *, source: str = "<config>", prefix: str = "",
                    lines: dict[str, int] | None = None, base_dir: Path | None = None):
    """Build and validate dataclass ``cls`` from a mapping read from a file.

    Args:
        cls: a dataclass whose fields may carry ``range``, ``choices``,
            ``keys``, ``ordered`` and ``path`` metadata.
        data: the mapping; missing keys take their defaults.
        source: file name used in messages.
        prefix: dotted key of this section, e.g. ``"world."``.
        lines: dotted key -> line number in the file.
        base_dir: folder that relative paths are resolved against.

    Raises:
        InvalidConfigError: one line naming the file, the line and the key.

    Example:
        >>> @dataclass
        ... class Section:
        ...     rate: float = field(default=0.5, metadata={"range": (0, 1)})
        >>> build_dataclass(Section, {"rate": 0.25})
        Section(rate=0.25)
        >>> build_dataclass(Section, {"rat": 0.25})
        Traceback (most recent call last):
        ...
        perception.configuration.InvalidConfigError: <config>: unknown key 'rat'. Did you mean 'rate'?
    """
    origin = _Origin(source=source, lines=lines or {}, base_dir=base_dir, check_paths=True)
    return _build(cls, data, prefix=prefix, origin=origin)


def _build(cls, data, *, prefix: str, origin: _Origin):
    if data is None:
        data = {}
    section = prefix.rstrip(".")
    if not isinstance(data, dict):
        raise origin.error(section, f"`{section or 'config'}` must be a mapping. Received {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            raise origin.error(prefix + str(key), f"unknown key '{prefix}{key}'.{_did_you_mean(str(key), fields)}")
    hints = typing.get_type_hints(cls)
    values = {name: _check_value(value, hints[name], fields[name].metadata, key=prefix + name, origin=origin)
              for name, value in data.items()}
    try:
        return cls(**values)
    except (ValueError, TypeError) as error:
        raise origin.error(section, str(error)) from None


def _did_you_mean(key: str, options) -> str:
    close = difflib.get_close_matches(key, list(options), n=1, cutoff=0.6)
    if close:
        return f" Did you mean '{close[0]}'?"
    return f" Expected one of: {', '.join(sorted(options))}"


def _check_value(value, hint, metadata, *, key: str, origin: _Origin):
    union = typing.get_origin(hint)
    if union in (typing.Union, types.UnionType):
        if value is None:
            return None
        hint = [a for a in typing.get_args(hint) if a is not type(None)][0]
    kind = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if origin.check_paths:  # from a file: a nested section is a mapping
            return _build(hint, value, prefix=key + ".", origin=origin)
        if not isinstance(value, hint):
            raise origin.error(key, f"`{key}` must be a {hint.__name__}. Received: {key}={value!r}")
        return value
    if kind in (tuple, list):
        return _check_sequence(value, hint, metadata, key=key, origin=origin)
    if kind is dict:
        return _check_mapping(value, hint, metadata, key=key, origin=origin)
    checked = _check_scalar(value, hint, key=key, origin=origin)
    return _check_constraints(checked, metadata, key=key, origin=origin)


def _check_sequence(value, hint, metadata, *, key: str, origin: _Origin):
    kind = typing.get_origin(hint)
    args = typing.get_args(hint)
    if not isinstance(value, (list, tuple)):
        raise origin.error(key, f"`{key}` must be a list. Received: {key}={value!r}")
    if kind is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            raise origin.error(key, f"`{key}` must be a list of {len(args)} values. Received: {key}={value!r}")
        item_hints = args
    else:
        item_hints = [args[0] if args else Any] * len(value)
    items = [_check_value(v, h, metadata, key=f"{key}[{i}]", origin=origin)
             for i, (v, h) in enumerate(zip(value, item_hints))]
    if metadata.get("ordered") and list(items) != sorted(items):
        raise origin.error(key, f"`{key}` must be in increasing order. Received: {key}={value!r}")
    return tuple(items) if kind is tuple else items


def _check_mapping(value, hint, metadata, *, key: str, origin: _Origin):
    """A mapping: each key of the key type (one of ``metadata["keys"]`` when given), each value checked."""
    if not isinstance(value, dict):
        raise origin.error(key, f"`{key}` must be a mapping. Received: {key}={value!r}")
    key_hint, value_hint = typing.get_args(hint) or (Any, Any)
    allowed = metadata.get("keys")
    item_metadata = {k: v for k, v in metadata.items() if k != "keys"}
    checked = {}
    for name, item in value.items():
        name = _check_scalar(name, key_hint, key=key, origin=origin)
        if allowed is not None and name not in allowed:
            raise origin.error(key, f"`{key}` has an unknown key {name!r}.{_did_you_mean(str(name), allowed)}")
        checked[name] = _check_value(item, value_hint, item_metadata, key=f"{key}.{name}", origin=origin)
    return checked


_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _check_scalar(value, hint, *, key: str, origin: _Origin):
    if hint is Any:
        return value
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(hint, isinstance(value, hint) if isinstance(hint, type) else True)
    if not ok:
        raise origin.error(key, f"`{key}` must be {_TYPE_WORDS.get(hint, getattr(hint, '__name__', hint))}. "
                                f"Received: {key}={value!r}")
    if hint is float:
        value = float(value)
        if not math.isfinite(value):
            raise origin.error(key, f"`{key}` must be a finite number. Received: {key}={value!r}")
    return value


def _check_constraints(value, metadata, *, key: str, origin: _Origin):
    if "range" in metadata:
        low, high = metadata["range"]
        if not low <= value <= high:
            raise origin.error(key, f"`{key}` must be in [{low}, {high}]. Received: {key}={value!r}")
    if "choices" in metadata and value not in metadata["choices"]:
        choices = ", ".join(map(str, metadata["choices"]))
        hint = _did_you_mean(str(value), metadata["choices"]) if isinstance(value, str) else ""
        raise origin.error(key, f"`{key}` must be one of {choices}. Received: {key}={value!r}.{hint}".rstrip("."))
    kind = metadata.get("path")
    if kind and isinstance(value, str) and origin.check_paths:
        path = Path(value).expanduser()
        if not path.is_absolute() and origin.base_dir is not None:
            path = origin.base_dir / path
        if kind == "file" and not path.is_file():
            raise origin.error(key, f"`{key}` names a file that does not exist: {path}")
        if kind == "dir" and not path.is_dir():
            raise origin.error(key, f"`{key}` names a folder that does not exist: {path}")
        return str(path)
    return value
