"""Checkpoints that lose nothing, run nothing and are refused when altered.

A checkpoint is one safetensors file of weights whose header also carries
the metadata (config, class map, attribute map, metrics, version) as JSON;
a human-readable copy of that metadata sits beside it as ``<name>.json``
(a copy only: loading reads the header). A checkpoint to resume training
from also holds the training state in the same file: the optimizer's
tensors under ``training.``-prefixed names and the epoch, step, learning
rate, history and random state in the metadata's ``"training"`` entry. The
weights and the state they belong to are therefore committed by one rename
(:func:`perception.files.write_atomic`): a save killed at any point leaves
the previous checkpoint whole, never new weights beside old optimizer state.

The metadata records ``content_sha256``, a SHA-256 over every tensor (name,
type, shape, bytes) and the rest of the metadata. Loading refuses, with one
line naming the file and what was expected: an unknown ``format_version``,
contents that no longer match their SHA-256, NaN or infinite values; and,
given the tensors a model expects (:func:`check_tensors`), a missing, extra,
wrongly typed or wrongly shaped tensor. The hash detects corruption and edits
made without recomputing it; it is a checksum, not a signature.

Format versions: 1 (weights and metadata; training state in a second file
``<name>.state.safetensors``, no hash) and 2 (this one). Version-1 files still
load; a version-1 pair is resumed only when both files name the same epoch.
Loading never unpickles.

The environment variable ``NESY_CHECKPOINT_PAUSE_S`` (seconds, for kill
tests only) makes every checkpoint write wait that long between writing its
temporary file and moving it into place.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save

from perception.files import remove_orphans, write_atomic

FORMAT_VERSION = 2
KNOWN_FORMAT_VERSIONS = (1, 2)
METADATA_KEY = "nesy"
DIGEST_KEY = "content_sha256"
TRAINING_PREFIX = "training."
PAUSE_VARIABLE = "NESY_CHECKPOINT_PAUSE_S"


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or does not fit; the message names the file."""


@dataclasses.dataclass
class TrainingState:
    """What a resumable checkpoint holds beside the weights.

    Attributes:
        optimizer: a torch optimizer ``state_dict``.
        info: JSON-ready loop state: ``epoch`` (0-based, the last finished
            epoch), ``global_step``, ``learning_rate``, ``history`` (list of
            per-epoch logs), ``seed``, ``scaler`` (a GradScaler state) ...
        rng_states: random states by name (``"torch"``, ``"cuda.0"`` ...),
            uint8 tensors.
        weights: the model's tensors (filled when loaded).
        metadata: the checkpoint's metadata (filled when loaded).
    """

    optimizer: dict
    info: dict
    rng_states: dict[str, torch.Tensor] = dataclasses.field(default_factory=dict)
    weights: dict[str, torch.Tensor] = dataclasses.field(default_factory=dict)
    metadata: dict = dataclasses.field(default_factory=dict)


def sidecar_path(path: str | Path) -> Path:
    """The JSON file beside a checkpoint.

    Example:
        >>> sidecar_path("runs/a/best.safetensors").as_posix()
        'runs/a/best.json'
    """
    path = Path(path)
    return path.with_name(path.name.removesuffix(".safetensors") + ".json")


def state_path(path: str | Path) -> Path:
    """The separate training-state file of a format-1 checkpoint (format 2 keeps
    the state inside the checkpoint).

    Example:
        >>> state_path("runs/a/last.safetensors").as_posix()
        'runs/a/last.state.safetensors'
    """
    path = Path(path)
    return path.with_name(path.name.removesuffix(".safetensors") + ".state.safetensors")


def content_digest(tensors: dict[str, torch.Tensor], metadata: dict) -> str:
    """SHA-256 of tensors (name, type, shape and bytes, in name order) and of
    ``metadata`` without its ``content_sha256`` entry, as hex.

    Example:
        >>> a = content_digest({"w": torch.ones(2)}, {"class_names": ["car"]})
        >>> a == content_digest({"w": torch.ones(2)}, {"class_names": ["car"], "content_sha256": "x"})
        True
        >>> a == content_digest({"w": torch.ones(2)}, {"class_names": ["truck"]})
        False
    """
    hasher = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        hasher.update(f"{name}\0{str(tensor.dtype)}\0{tuple(tensor.shape)}\0".encode("utf-8"))
        hasher.update(tensor.reshape(-1).view(torch.uint8).numpy())
    described = {key: value for key, value in metadata.items() if key != DIGEST_KEY}
    hasher.update(json.dumps(described, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return hasher.hexdigest()


def save_checkpoint(path: str | Path, weights: dict[str, torch.Tensor], metadata: dict, *,
                    training: TrainingState | None = None) -> Path:
    """Write weights, metadata and (for resuming) the training state as one
    file, atomically, with its SHA-256 recorded; a copy of the metadata goes
    to ``<name>.json``. Temporary files that killed saves of ``path`` left
    behind are deleted first.

    Args:
        path: target ``.safetensors`` file.
        weights: name -> tensor (a ``state_dict``).
        metadata: JSON-ready dict (config, class map, metrics, ...).
        training: optimizer and loop state to store in the same file.

    Returns:
        The path written.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.safetensors"
        >>> _ = save_checkpoint(p, {"w": torch.ones(2)}, {"class_names": ["car"]})
        >>> weights, meta = load_checkpoint(p)
        >>> weights["w"].tolist(), meta["class_names"], meta["format_version"]
        ([1.0, 1.0], ['car'], 2)
    """
    path = Path(path)
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in weights.items()}
    metadata = {key: value for key, value in metadata.items() if key not in (DIGEST_KEY, "training")}
    metadata["format_version"] = FORMAT_VERSION
    if training is not None:
        tensors.update(_training_tensors(training))
        metadata["training"] = {**training.info, "optimizer": _optimizer_plain(training.optimizer)}
    try:
        metadata = json.loads(json.dumps(metadata))  # the metadata exactly as it will be read back
    except (TypeError, ValueError) as error:
        raise TypeError(f"{path}: checkpoint metadata must be JSON-ready ({error})") from None
    metadata[DIGEST_KEY] = content_digest(tensors, metadata)
    text = json.dumps(metadata, indent=2)
    for folder_name in (path.name, sidecar_path(path).name):
        remove_orphans(path.parent, folder_name)
    pause = _test_pause()
    write_atomic(path, save(tensors, metadata={METADATA_KEY: text}), before_replace=pause)
    write_atomic(sidecar_path(path), text + "\n", before_replace=pause)
    if training is not None:  # a format-1 state file beside it is superseded by the state inside
        for stale in (state_path(path), sidecar_path(state_path(path))):
            stale.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Read weights and metadata written by :func:`save_checkpoint`, checked.

    Returns:
        ``(weights, metadata)``; the training state of a resumable
        checkpoint is left out of ``weights`` (see :func:`load_training_state`).

    Raises:
        CheckpointError: the file is missing, corrupt, altered, of an unknown
            format version, holds non-finite values or is not a nesy checkpoint.

    Example:
        >>> load_checkpoint("no/such/file.safetensors")
        Traceback (most recent call last):
        ...
        perception.checkpoint.CheckpointError: no/such/file.safetensors: no such checkpoint file
    """
    tensors, metadata = _read(Path(path))
    return {name: value for name, value in tensors.items() if not name.startswith(TRAINING_PREFIX)}, metadata


def check_tensors(path: str | Path, weights: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """Refuse weights that do not fit a model: a missing or unexpected
    tensor, another type (int where float is expected) or another shape.

    Args:
        path: the checkpoint, named in the message.
        weights: the tensors read.
        expected: the model's own ``state_dict()``.

    Raises:
        CheckpointError: one line naming ``path``, the tensor and what was expected.

    Example:
        >>> check_tensors("m.safetensors", {"w": torch.ones(2, dtype=torch.int64)}, {"w": torch.ones(2)})
        Traceback (most recent call last):
        ...
        perception.checkpoint.CheckpointError: m.safetensors: tensor 'w' is int64; expected float32
    """
    for name, reference in expected.items():
        if name not in weights:
            raise CheckpointError(f"{path}: tensor {name!r} is missing; expected the {len(expected)} tensors "
                                  "of the model its metadata describes")
        tensor = weights[name]
        if tensor.dtype != reference.dtype:
            raise CheckpointError(f"{path}: tensor {name!r} is {_dtype_name(tensor.dtype)}; "
                                  f"expected {_dtype_name(reference.dtype)}")
        if tensor.shape != reference.shape:
            raise CheckpointError(f"{path}: tensor {name!r} has shape {tuple(tensor.shape)}; expected "
                                  f"{tuple(reference.shape)} for the model its metadata describes")
    for name in weights:
        if name not in expected:
            raise CheckpointError(f"{path}: unexpected tensor {name!r}; the model its metadata describes "
                                  "has no such tensor")


def check_label_maps(path: str | Path, metadata: dict, *, class_names=None) -> None:
    """Refuse metadata whose class or attribute lists contradict each other
    or the caller: the listed ``class_names`` and ``attributes`` must be the
    model config's, and ``class_names`` (when given) the caller's.

    Example:
        >>> meta = {"class_names": ["truck", "car"], "config": {"class_names": ["car", "truck"]}}
        >>> check_label_maps("m.safetensors", meta)
        Traceback (most recent call last):
        ...
        perception.checkpoint.CheckpointError: m.safetensors: the metadata lists class_names ['truck', 'car'] but its model config has ['car', 'truck']; expected the same list in both
    """
    config = metadata.get("config")
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: checkpoint metadata has no model config; expected a 'config' object")
    for key in ("class_names", "attributes"):
        if key in metadata and key in config and _as_lists(metadata[key]) != _as_lists(config[key]):
            raise CheckpointError(f"{path}: the metadata lists {key} {metadata[key]} but its model config has "
                                  f"{config[key]}; expected the same list in both")
    if class_names is not None and _as_lists(list(class_names)) != _as_lists(config.get("class_names")):
        raise CheckpointError(f"{path}: the checkpoint's class map {config.get('class_names')} does not match "
                              f"the expected class map {list(class_names)}")


def load_training_state(path: str | Path) -> TrainingState:
    """The weights and training state to resume from checkpoint ``path``.

    A format-2 checkpoint holds both; for a format-1 checkpoint the state
    is read from ``<name>.state.safetensors`` and accepted only when both
    files name the same epoch.

    Raises:
        CheckpointError: one line naming the file(s): no training state, a
            weights/state pair from different epochs, or a malformed state.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "last.safetensors"
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
        >>> info = {"epoch": 3, "global_step": 12, "learning_rate": 0.1}
        >>> state = TrainingState(opt.state_dict(), info, {"torch": torch.get_rng_state()})
        >>> _ = save_checkpoint(p, {"w": torch.ones(1)}, {}, training=state)
        >>> loaded = load_training_state(p)
        >>> loaded.info["epoch"], loaded.weights["w"].tolist(), sorted(f.name for f in p.parent.iterdir())
        (3, [1.0], ['last.json', 'last.safetensors'])
    """
    path = Path(path)
    tensors, metadata = _read(path)
    weights = {name: value for name, value in tensors.items() if not name.startswith(TRAINING_PREFIX)}
    if "training" in metadata:
        state = _training_state_from(path, tensors, metadata["training"])
    elif metadata.get("format_version") == 1 and state_path(path).is_file():
        state = _format1_training_state(path, metadata)
    else:
        raise CheckpointError(f"{path}: holds weights but no training state (optimizer, epoch, random state); "
                              "expected a checkpoint written by BackupAndRestore")
    state.weights, state.metadata = weights, metadata
    return state


def load_optimizer_state(path: str | Path, optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Load an optimizer ``state_dict`` read from ``path`` after checking
    that it belongs to ``optimizer``'s parameters (groups, counts, shapes, types).

    Raises:
        CheckpointError: one line naming ``path`` and what was expected.
    """
    _check_parameter_groups(path, state.get("param_groups"), optimizer.param_groups)
    own_groups = optimizer.param_groups
    parameters = [p for group in own_groups for p in group["params"]]
    for index, values in state.get("state", {}).items():
        if not 0 <= index < len(parameters):
            raise CheckpointError(f"{path}: the optimizer state names parameter {index}; "
                                  f"expected indices below {len(parameters)}")
        for name, value in values.items():
            if not isinstance(value, torch.Tensor) or name == "step":
                continue
            parameter = parameters[index]
            if not value.is_floating_point() or value.shape != parameter.shape:
                raise CheckpointError(f"{path}: optimizer tensor '{index}.{name}' is {_dtype_name(value.dtype)} "
                                      f"{tuple(value.shape)}; expected {_dtype_name(parameter.dtype)} "
                                      f"{tuple(parameter.shape)} like its parameter")
    try:
        optimizer.load_state_dict(state)
    except (ValueError, KeyError, TypeError, RuntimeError) as error:
        raise CheckpointError(f"{path}: the optimizer state does not fit this optimizer "
                              f"({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None


def _check_parameter_groups(path, groups, own_groups: list[dict]) -> None:
    """Saved parameter groups must match the optimizer's: as many, as large, with settings of the same kind."""
    expected = f"expected {len(own_groups)} group(s) of {[len(own['params']) for own in own_groups]} tensors"
    if not isinstance(groups, list) or len(groups) != len(own_groups):
        raise CheckpointError(f"{path}: the optimizer state has other parameter groups than this model; {expected}")
    for number, (group, own) in enumerate(zip(groups, own_groups)):
        params = group.get("params") if isinstance(group, dict) else None
        if not isinstance(params, list) or len(params) != len(own["params"]) or \
                not all(type(index) is int for index in params):
            raise CheckpointError(f"{path}: optimizer parameter group {number} is malformed; {expected}")
        for key, own_value in own.items():
            if key != "params" and not _same_kind(group.get(key), own_value):
                raise CheckpointError(f"{path}: optimizer parameter group {number} has {key}={group.get(key)!r}; "
                                      f"expected a value like {own_value!r}")


def _same_kind(value, reference) -> bool:
    """Whether a saved optimizer setting has the type of the optimizer's own (finite numbers for numbers)."""
    if reference is None:   # "automatic" (foreach, fused): saved as automatic or as a yes/no choice
        return value is None or isinstance(value, bool)
    if isinstance(reference, (bool, str)):
        return type(value) is type(reference)
    if isinstance(reference, (int, float)):
        return type(value) in (int, float) and math.isfinite(value)
    if isinstance(reference, (tuple, list)):
        return isinstance(value, (tuple, list)) and len(value) == len(reference) and \
            all(_same_kind(v, r) for v, r in zip(value, reference))
    return True   # a setting this check does not know (a tensor, a callable): left to the optimizer


def optimizer_to_tensors(optimizer: torch.optim.Optimizer | dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer's state (or its ``state_dict``) into tensors and JSON-ready values.

    Example:
        >>> p = torch.nn.Parameter(torch.ones(2)); opt = torch.optim.AdamW([p])
        >>> p.grad = torch.ones(2); opt.step()
        >>> tensors, rest = optimizer_to_tensors(opt)
        >>> sorted(tensors)
        ['state.0.exp_avg', 'state.0.exp_avg_sq', 'state.0.step']
    """
    state = optimizer.state_dict() if isinstance(optimizer, torch.optim.Optimizer) else optimizer
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


# --- reading ---------------------------------------------------------------------------------------
def _read(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """All tensors and the metadata of a checkpoint file, after the checks every file must pass."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        data = path.read_bytes()
        tensors = load_bytes(data)
        header = _header_metadata(data)
    except (SafetensorError, OSError, ValueError, RuntimeError, OverflowError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint ({reason})") from None
    if METADATA_KEY not in header:
        raise CheckpointError(f"{path}: safetensors file has no '{METADATA_KEY}' metadata; "
                              "expected a checkpoint written by nesy")
    try:
        metadata = json.loads(header[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: checkpoint metadata is not valid JSON ({error.msg})") from None
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{path}: checkpoint metadata is a JSON {type(metadata).__name__}; expected an object")
    version = metadata.get("format_version")
    if type(version) is not int or version not in KNOWN_FORMAT_VERSIONS:
        raise CheckpointError(f"{path}: unknown checkpoint format_version {version!r}; this nesy reads "
                              f"format_version {', '.join(map(str, KNOWN_FORMAT_VERSIONS))}")
    if version >= 2:
        recorded = metadata.get(DIGEST_KEY)
        if not isinstance(recorded, str):
            raise CheckpointError(f"{path}: checkpoint has no {DIGEST_KEY}; expected one in format_version {version}")
        if content_digest(tensors, metadata) != recorded:
            raise CheckpointError(f"{path}: the contents do not match the {DIGEST_KEY} recorded when it was "
                                  "saved; the file was changed or damaged after it was written")
    for name, tensor in tensors.items():
        if (tensor.is_floating_point() or tensor.is_complex()) and not _all_finite(tensor):
            what = "NaN" if torch.isnan(tensor).any() else "infinite values"
            raise CheckpointError(f"{path}: tensor {name!r} holds {what}; expected finite numbers")
    return tensors, metadata


def _all_finite(tensor: torch.Tensor) -> bool:
    """Whether every value is finite (numpy when it knows the type: far cheaper than torch on small tensors)."""
    if tensor.dtype in (torch.float16, torch.float32, torch.float64, torch.complex64, torch.complex128):
        return bool(numpy.isfinite(tensor.numpy()).all())
    return bool(torch.isfinite(tensor).all())


def _header_metadata(data: bytes) -> dict:
    """The ``__metadata__`` of a safetensors file's header."""
    length = int.from_bytes(data[:8], "little")
    if len(data) < 8 or length > len(data) - 8:
        raise ValueError("header is longer than the file")
    header = json.loads(data[8:8 + length])
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _training_state_from(path: Path, tensors: dict[str, torch.Tensor], info) -> TrainingState:
    if not isinstance(info, dict) or not isinstance(info.get("optimizer"), dict):
        raise CheckpointError(f"{path}: the training state is malformed; expected an object with an 'optimizer' entry")
    info = dict(info)
    _check_loop_state(path, info)
    optimizer_tensors, rng_states = {}, {}
    for name, tensor in tensors.items():
        if name.startswith(TRAINING_PREFIX + "optimizer."):
            optimizer_tensors[name.removeprefix(TRAINING_PREFIX + "optimizer.")] = tensor
        elif name.startswith(TRAINING_PREFIX + "rng."):
            rng_states[name.removeprefix(TRAINING_PREFIX + "rng.")] = tensor
    try:
        optimizer = optimizer_from_tensors(optimizer_tensors, info.pop("optimizer"))
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise CheckpointError(f"{path}: the optimizer state is malformed ({error!r}); expected what "
                              "BackupAndRestore writes") from None
    for name, tensor in rng_states.items():
        if tensor.dtype != torch.uint8 or tensor.ndim != 1:
            raise CheckpointError(f"{path}: random state {name!r} is {_dtype_name(tensor.dtype)} "
                                  f"{tuple(tensor.shape)}; expected a 1-D uint8 tensor")
    return TrainingState(optimizer=optimizer, info=info, rng_states=rng_states)


def _check_loop_state(path: Path, info: dict) -> None:
    for key in ("epoch", "global_step"):
        if type(info.get(key)) is not int or info[key] < 0:
            raise CheckpointError(f"{path}: training state {key}={info.get(key)!r}; expected an integer >= 0")
    rate = info.get("learning_rate")
    if type(rate) not in (int, float) or not math.isfinite(rate) or rate < 0:
        raise CheckpointError(f"{path}: training state learning_rate={rate!r}; expected a finite number >= 0")
    history = info.get("history", [])
    if not isinstance(history, list) or not all(isinstance(row, dict) for row in history):
        raise CheckpointError(f"{path}: training state history is malformed; expected a list of per-epoch objects")


def _format1_training_state(path: Path, metadata: dict) -> TrainingState:
    """The state of a format-1 pair, accepted only when weights and state name the same epoch."""
    state_file = state_path(path)
    tensors, info = _read(state_file)
    metrics = metadata.get("metrics") if isinstance(metadata.get("metrics"), dict) else {}
    weights_epoch = metrics.get("epoch")
    state_epoch = info.get("epoch")
    if type(state_epoch) is not int or type(weights_epoch) is not int or weights_epoch != state_epoch + 1:
        shown = state_epoch + 1 if type(state_epoch) is int else state_epoch
        raise CheckpointError(f"{path} and {state_file}: the weights are from epoch {weights_epoch} but the "
                              f"training state from epoch {shown}; expected a pair saved together "
                              "(a save was interrupted); start a new run or restore both files")
    renamed = {TRAINING_PREFIX + ("rng.torch" if name == "rng.torch" else "optimizer." + name): tensor
               for name, tensor in tensors.items()}
    return _training_state_from(state_file, renamed, info)


# --- writing ---------------------------------------------------------------------------------------
def _training_tensors(training: TrainingState) -> dict[str, torch.Tensor]:
    optimizer_tensors, _ = optimizer_to_tensors(training.optimizer)
    tensors = {f"{TRAINING_PREFIX}optimizer.{name}": value.detach().cpu().contiguous()
               for name, value in optimizer_tensors.items()}
    for name, value in training.rng_states.items():
        tensors[f"{TRAINING_PREFIX}rng.{name}"] = value.detach().cpu().contiguous()
    return tensors


def _optimizer_plain(optimizer_state: dict) -> dict:
    return optimizer_to_tensors(optimizer_state)[1]


def _test_pause():
    """The wait of ``NESY_CHECKPOINT_PAUSE_S`` before each checkpoint rename (kill tests), or None."""
    text = os.environ.get(PAUSE_VARIABLE, "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"{PAUSE_VARIABLE} must be a number of seconds. Received: {text!r}") from None
    return lambda temporary: time.sleep(seconds)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _as_lists(value):
    """JSON values compared as JSON (tuples and lists alike)."""
    return json.loads(json.dumps(value))
