"""Checkpoints that lose nothing and run nothing.

A checkpoint is a safetensors file of weights whose header also carries the
metadata (config, class map, attribute map, metrics, version) as JSON; a
human-readable copy of that metadata sits beside it as ``<name>.json``.
Training state for resuming (optimizer, epoch, random state) is a second
pair, ``<name>.state.safetensors``. Every file is written with
:func:`perception.files.write_atomic` (a temporary file in the same folder,
moved into place), so a write interrupted at any point leaves the previous
checkpoint intact.
Loading never unpickles.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save

from perception.files import write_atomic

FORMAT_VERSION = 1
METADATA_KEY = "nesy"


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or does not fit; the message names the file."""


def _atomic_save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    data = save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, metadata=metadata)
    write_atomic(path, data)


def sidecar_path(path: str | Path) -> Path:
    """The JSON file beside a checkpoint.

    Example:
        >>> sidecar_path("runs/a/best.safetensors").as_posix()
        'runs/a/best.json'
    """
    path = Path(path)
    return path.with_name(path.name.removesuffix(".safetensors") + ".json")


def state_path(path: str | Path) -> Path:
    """The training-state file that belongs to a checkpoint.

    Example:
        >>> state_path("runs/a/last.safetensors").as_posix()
        'runs/a/last.state.safetensors'
    """
    path = Path(path)
    return path.with_name(path.name.removesuffix(".safetensors") + ".state.safetensors")


def save_checkpoint(path: str | Path, weights: dict[str, torch.Tensor], metadata: dict) -> Path:
    """Write weights and metadata atomically.

    Args:
        path: target ``.safetensors`` file.
        weights: name -> tensor (a ``state_dict``).
        metadata: JSON-ready dict (config, class map, metrics, ...).

    Returns:
        The path written.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.safetensors"
        >>> _ = save_checkpoint(p, {"w": torch.ones(2)}, {"class_names": ["car"]})
        >>> weights, meta = load_checkpoint(p)
        >>> weights["w"].tolist(), meta["class_names"], meta["format_version"]
        ([1.0, 1.0], ['car'], 1)
    """
    path = Path(path)
    metadata = {**metadata, "format_version": FORMAT_VERSION}
    text = json.dumps(metadata, indent=2, sort_keys=True)
    _atomic_save_tensors(path, weights, {METADATA_KEY: text})
    write_atomic(sidecar_path(path), text + "\n")
    return path


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Read weights and metadata written by :func:`save_checkpoint`.

    Raises:
        CheckpointError: the file is missing, corrupt or not a nesy checkpoint.

    Example:
        >>> load_checkpoint("no/such/file.safetensors")
        Traceback (most recent call last):
        ...
        perception.checkpoint.CheckpointError: no/such/file.safetensors: no such checkpoint file
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with safe_open(str(path), framework="pt") as file:
            header = file.metadata() or {}
        weights = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint ({reason})") from None
    if METADATA_KEY not in header:
        raise CheckpointError(f"{path}: safetensors file has no '{METADATA_KEY}' metadata; "
                              "expected a checkpoint written by nesy")
    try:
        metadata = json.loads(header[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: checkpoint metadata is not valid JSON ({error.msg})") from None
    return weights, metadata


def optimizer_to_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer's state into tensors and JSON-ready values.

    Example:
        >>> p = torch.nn.Parameter(torch.ones(2)); opt = torch.optim.AdamW([p])
        >>> p.grad = torch.ones(2); opt.step()
        >>> tensors, rest = optimizer_to_tensors(opt)
        >>> sorted(tensors)
        ['state.0.exp_avg', 'state.0.exp_avg_sq', 'state.0.step']
    """
    state = optimizer.state_dict()
    tensors, plain = {}, {}
    for index, values in state["state"].items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{name}"] = value
            else:
                plain[f"{index}.{name}"] = value
    return tensors, {"param_groups": state["param_groups"], "plain_state": plain}


def optimizer_from_tensors(tensors: dict[str, torch.Tensor], rest: dict) -> dict:
    """Rebuild an optimizer ``state_dict`` from :func:`optimizer_to_tensors` parts."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("state."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for key, value in rest.get("plain_state", {}).items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    return {"state": state, "param_groups": rest["param_groups"]}


def save_training_state(path: str | Path, optimizer: torch.optim.Optimizer, info: dict) -> Path:
    """Write the optimizer state, the torch random state and ``info`` (epoch,
    step, history ...) beside checkpoint ``path``; returns the state file.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "last.safetensors"
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
        >>> save_training_state(p, opt, {"epoch": 3}).name
        'last.state.safetensors'
        >>> load_training_state(p)[1]["epoch"]
        3
    """
    tensors, rest = optimizer_to_tensors(optimizer)
    tensors["rng.torch"] = torch.get_rng_state()
    return save_checkpoint(state_path(path), tensors, {**info, "optimizer": rest})


def load_training_state(path: str | Path) -> tuple[dict, dict]:
    """Read what :func:`save_training_state` wrote for checkpoint ``path``.

    Returns:
        ``(optimizer_state_dict, info)``; ``info["rng_state"]`` holds the
        torch random state.
    """
    tensors, info = load_checkpoint(state_path(path))
    info["rng_state"] = tensors.pop("rng.torch", None)
    return optimizer_from_tensors(tensors, info.pop("optimizer")), info
