"""The files shipped with the package: the experiment files, rules, maps and maneuvers of ``configs/``.

The repository's top-level ``configs/`` folder is the source of truth; an
installed package carries a copy as ``bridge/configs`` (``pyproject.toml``
maps one onto the other). :data:`CONFIGS_DIR` is whichever of the two exists,
so the same lookups work from a clone, an editable install and a wheel, from
any working directory.

:func:`find_config` turns what a user typed after ``--config`` into a file:
a path that exists, or the name of a shipped experiment file (``drive``,
``quick``, ...). Nothing here imports torch or z3: the command line uses it
while it parses arguments.
"""
from __future__ import annotations

import difflib
from pathlib import Path

from bridge.errors import ConfigError


def _configs_dir() -> Path:
    package = Path(__file__).resolve().parent
    installed = package / "configs"          # a wheel: configs/ copied into the package
    return installed if installed.is_dir() else package.parent / "configs"   # a clone or an editable install


#: The folder of the shipped configs.
CONFIGS_DIR: Path = _configs_dir()

#: The suffix of experiment files.
CONFIG_SUFFIX = ".yaml"


def shipped_path(relative: str | Path) -> Path:
    """The shipped file at ``relative`` inside ``configs/`` (it need not exist).

    Example:
        >>> shipped_path("rules/traffic.rules").is_file()
        True
    """
    return CONFIGS_DIR / relative


def config_names() -> list[str]:
    """The names of the shipped experiment files, sorted.

    Example:
        >>> "drive" in config_names()
        True
    """
    return sorted(path.stem for path in CONFIGS_DIR.glob(f"*{CONFIG_SUFFIX}") if path.is_file())


def shipped_config(name: str) -> Path:
    """The shipped experiment file called ``name`` (``"drive"`` or ``"drive.yaml"``).

    Raises:
        ConfigError: no shipped experiment file has that name; the message
            lists the names that exist.

    Example:
        >>> shipped_config("drive").name
        'drive.yaml'
        >>> shipped_config("drvie")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        bridge.errors.ConfigError: drvie: no shipped config of that name. Did you mean 'drive'? Shipped configs: drive...
    """
    stem = name.removesuffix(CONFIG_SUFFIX)
    path = CONFIGS_DIR / f"{stem}{CONFIG_SUFFIX}"
    if stem and "/" not in stem and "\\" not in stem and path.is_file():
        return path
    raise ConfigError(f"{name}: no shipped config of that name.{_names_hint(stem)}")


def find_config(text: str | Path) -> Path:
    """The experiment file ``text`` names: a file that exists, else a shipped config.

    ``text`` is the name of a shipped experiment file (``drive``) or a path,
    relative to the working directory as any path typed on a command line;
    ``drive.yaml`` and ``configs/drive.yaml`` also name the shipped
    ``drive.yaml`` when no such file exists here.

    Raises:
        ConfigError: ``text`` is neither; the message lists the shipped names.

    Example:
        >>> find_config("drive") == shipped_config("drive")
        True
        >>> find_config("nowhere/x.yaml")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        bridge.errors.ConfigError: nowhere/x.yaml: no such config file, and no shipped config of that name. Shipped configs: drive...
    """
    path = Path(text)
    if isinstance(text, str) and _is_name(text) and (CONFIGS_DIR / f"{text}{CONFIG_SUFFIX}").is_file():
        return shipped_config(text)   # a bare name never picks up a file of the working directory
    if path.is_file():
        return path
    parts = path.parts
    if len(parts) == 2 and parts[0] == "configs":   # the repository's own path to a shipped file
        parts = parts[1:]
    if len(parts) == 1 and (CONFIGS_DIR / f"{parts[0].removesuffix(CONFIG_SUFFIX)}{CONFIG_SUFFIX}").is_file():
        return shipped_config(parts[0])
    if path.is_dir():
        raise ConfigError(f"{text}: is a folder, not a config file.{_names_hint('')}")
    guess = parts[0].removesuffix(CONFIG_SUFFIX) if len(parts) == 1 else ""
    raise ConfigError(f"{text}: no such config file, and no shipped config of that name.{_names_hint(guess)}")


def _is_name(text: str) -> bool:
    """A bare word such as ``drive``: no folder, no suffix."""
    return bool(text) and "/" not in text and "\\" not in text and "." not in text


def _names_hint(stem: str) -> str:
    names = config_names()
    close = difflib.get_close_matches(stem, names, n=1) if stem else []
    did_you_mean = f" Did you mean '{close[0]}'?" if close else ""
    return f"{did_you_mean} Shipped configs: {', '.join(names) or 'none'}"
