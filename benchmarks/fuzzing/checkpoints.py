"""Fuzz target ``checkpoints``: tampered model and training checkpoints.

Each case saves a small detector checkpoint (or a resumable one with its
optimizer state), tampers with it and loads it the way nesy does
(:meth:`perception.model.Detector.load`, or a trainer resuming from it):
bytes flipped, files truncated, metadata edited (class names, attributes,
config, ``format_version``, the recorded SHA-256), tensors replaced with NaN,
infinite, integer or wrongly shaped ones, dropped or added, training state
edited, and format-1 weights/state pairs from different epochs. Half of the
edits are "forged": the SHA-256 is recomputed afterwards, so the checks
behind it (types, shapes, finiteness, class lists, version) are exercised.

A case fails when the tampered checkpoint loads with content that differs
from what was saved (a tamper that changes nothing, such as a flip undone,
may load), when an untampered control is refused, or when the refusal is
anything but a one-line :class:`perception.checkpoint.CheckpointError`
naming the file.
"""
from __future__ import annotations

import functools
import json
import random
import tempfile
from pathlib import Path

import torch
import torch._dynamo  # noqa: F401 - the first optimizer step imports it; here it happens outside the timed cases
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from benchmarks.fuzzing import Case
from perception.checkpoint import (DIGEST_KEY, TRAINING_PREFIX, CheckpointError, content_digest,
                                   optimizer_to_tensors, state_path)
from perception.model import Detector
from perception.training import Trainer, TrainingConfig

CLASS_NAMES = ("car", "truck", "pedestrian")
MODEL_KINDS = ("control", "flip", "truncate", "version", "class_names", "attributes", "config", "tensor", "digest",
               "header")
TRAINING_KINDS = ("training_control", "pair", "no_state", "state_edit", "state_tensor")


def generate(rng: random.Random, index: int) -> Case:
    """One tamper, described by plain values (the work happens in :func:`check`)."""
    kind = rng.choice(MODEL_KINDS + TRAINING_KINDS) if index >= 2 else ("control", "training_control")[index]
    forge = rng.random() < 0.5
    payload = {"kind": kind, "forge": forge, "seed": rng.randrange(2**31)}
    if kind == "flip":
        payload["flips"] = [(rng.random(), rng.randrange(1, 256)) for _ in range(rng.randint(1, 4))]
    elif kind == "truncate":
        payload["keep"] = rng.random()
    elif kind == "version":
        payload["value"] = rng.choice([999, 0, 3, -1, "2", 2.5, None, True, "x", "delete"])
    elif kind == "class_names":
        payload["edit"] = rng.choice(["swap_top", "swap_config", "swap_both", "rename", "add_both", "remove_both",
                                      "duplicate", "not_a_list"])
    elif kind == "attributes":
        payload["edit"] = rng.choice(["reorder_top", "reorder_config", "add_value_both", "drop_config"])
    elif kind == "config":
        payload["edit"] = rng.choice(["width", "head_width", "delete", "not_an_object", "unknown_key", "depth"])
    elif kind == "tensor":
        payload["edit"] = rng.choice(["nan", "inf", "int64", "float64", "float16", "grow", "flatten", "drop", "extra",
                                      "counter_float"])
        payload["pick"] = rng.random()
    elif kind == "digest":
        payload["edit"] = rng.choice(["delete", "garbage", "one_hex_changed", "not_a_string"])
    elif kind == "header":
        payload["edit"] = rng.choice(["not_json", "json_list", "no_nesy_key", "empty_file", "foreign_bytes"])
    elif kind == "pair":
        payload["weights_epoch"] = rng.randint(1, 4)
        payload["state_epoch"] = rng.randint(1, 4)
    elif kind == "state_edit":
        payload["edit"] = rng.choice(["epoch_negative", "epoch_text", "step_float", "rate_nan", "rate_negative",
                                      "history_not_list", "optimizer_missing", "groups_missing", "epoch_moved"])
    elif kind == "state_tensor":
        payload["edit"] = rng.choice(["moment_nan", "moment_int", "moment_shape", "rng_float", "rng_shape",
                                      "moment_dropped_group"])
    label = f"{kind}:{payload.get('edit', payload.get('value', ''))}{' forged' if forge else ''}"
    return Case(label, payload)


def check(case: Case) -> str | None:
    """None when the tampered checkpoint is refused with a one-line CheckpointError naming it (or a
    control loads unchanged); otherwise what went wrong."""
    payload = case.payload
    torch.manual_seed(payload["seed"] % 1000)
    with tempfile.TemporaryDirectory(prefix="fuzz_checkpoint.") as folder:
        folder = Path(folder)
        training = payload["kind"] in TRAINING_KINDS
        build = _tamper_training if training else _tamper_model
        path, expected, changed = build(folder, payload)
        load = _resume if training else _load_model
        try:
            loaded = load(path)
        except CheckpointError as error:
            message = str(error)
            if "\n" in message:
                return f"refusal spans {message.count(chr(10)) + 1} lines: {message[:120]!r}"
            if path.name not in message:
                return f"refusal does not name {path.name}: {message[:160]!r}"
            if not changed:
                return f"an untampered checkpoint was refused: {message[:160]!r}"
            return None
        if loaded != expected:
            return f"loaded silently with altered content ({_difference(expected, loaded)})"
        return None


# --- model checkpoints ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _base_model() -> tuple[bytes, tuple]:
    """The untampered model checkpoint (its bytes) and what loading it gives; made once per process."""
    torch.manual_seed(0)
    detector = Detector(width=8, head_width=16, class_names=CLASS_NAMES)
    detector.network_ = detector.build_network()
    with tempfile.TemporaryDirectory(prefix="fuzz_checkpoint.") as folder:
        path = detector.save(Path(folder) / "model.safetensors", metrics={"map_50": 0.5})
        return path.read_bytes(), _content(detector.network_.state_dict(), path)


def _tamper_model(folder: Path, payload: dict):
    """Returns (path, what loading the untampered file gives, whether the content was changed)."""
    data, original = _base_model()
    path = folder / "model.safetensors"
    path.write_bytes(data)
    kind, edit, rng = payload["kind"], payload.get("edit"), random.Random(payload["seed"])
    if kind == "control":
        return path, original, False
    if kind == "flip":
        data = bytearray(path.read_bytes())
        for where, mask in payload["flips"]:
            data[int(where * len(data))] ^= mask
        path.write_bytes(bytes(data))
        return path, original, True
    if kind == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[:int(payload["keep"] * (len(data) - 1))])
        return path, original, True
    if kind == "header":
        _edit_header(path, edit)
        return path, original, True
    tensors, metadata = _read_raw(path)
    if kind == "version":
        if payload["value"] == "delete":
            del metadata["format_version"]
        else:
            metadata["format_version"] = payload["value"]
    elif kind == "class_names":
        _edit_class_names(metadata, edit)
    elif kind == "attributes":
        _edit_attributes(metadata, edit)
    elif kind == "config":
        _edit_config(metadata, edit)
    elif kind == "tensor":
        _edit_tensor(tensors, edit, payload["pick"], rng)
    elif kind == "digest":
        _edit_digest(metadata, edit)
    _write_raw(path, tensors, metadata, forge=payload["forge"] and kind != "digest")
    return path, original, True


def _load_model(path: Path):
    detector = Detector.load(path, class_names=CLASS_NAMES)
    return _content(detector.network_.state_dict(), path)


def _content(weights: dict, path: Path) -> tuple:
    """What a load gives, comparable: tensors as (dtype, shape, bytes) and the metadata without its hash."""
    with safe_open(str(path), framework="pt") as file:
        metadata = json.loads(file.metadata()["nesy"])
    metadata.pop(DIGEST_KEY, None)
    tensors = {name: (str(value.dtype), tuple(value.shape), value.detach().cpu().contiguous().numpy().tobytes())
               for name, value in weights.items()}
    return tensors, json.dumps(metadata, sort_keys=True)


def _edit_class_names(metadata: dict, edit: str) -> None:
    names, config_names = metadata["class_names"], metadata["config"]["class_names"]
    if edit == "swap_top":
        names[0], names[1] = names[1], names[0]
    elif edit == "swap_config":
        config_names[0], config_names[1] = config_names[1], config_names[0]
    elif edit == "swap_both":   # consistent, so only the caller's expected names can tell
        for listed in (names, config_names):
            listed[0], listed[1] = listed[1], listed[0]
    elif edit == "rename":
        names[-1] = config_names[-1] = "bus"
    elif edit == "add_both":   # the head no longer has a channel per class
        names.append("bus")
        config_names.append("bus")
    elif edit == "remove_both":
        names.pop()
        config_names.pop()
    elif edit == "duplicate":
        names[1] = config_names[1] = names[0]
    elif edit == "not_a_list":
        metadata["config"]["class_names"] = 7


def _edit_attributes(metadata: dict, edit: str) -> None:
    top, config = metadata["attributes"], metadata["config"]["attributes"]
    if edit == "reorder_top":
        top["light_state"].reverse()
    elif edit == "reorder_config":
        config["light_state"].reverse()
    elif edit == "add_value_both":   # one more output channel than the head has
        top["light_state"].append("blue")
        config["light_state"].append("blue")
    elif edit == "drop_config":
        metadata["config"]["attributes"] = {}


def _edit_config(metadata: dict, edit: str) -> None:
    config = metadata["config"]
    if edit == "width":
        config["width"] = config["width"] * 2
    elif edit == "head_width":
        config["head_width"] = config["head_width"] + 8
    elif edit == "depth":
        config["depth"] = config["depth"] + 1
    elif edit == "delete":
        del metadata["config"]
    elif edit == "not_an_object":
        metadata["config"] = ["width", 8]
    elif edit == "unknown_key":
        config["wdith"] = 8


def _edit_tensor(tensors: dict, edit: str, pick: float, rng: random.Random) -> None:
    floats = sorted(name for name, value in tensors.items() if value.is_floating_point())
    name = floats[int(pick * len(floats))]
    value = tensors[name].clone()
    if edit == "nan":
        value.view(-1)[rng.randrange(value.numel())] = float("nan")
    elif edit == "inf":
        value.view(-1)[rng.randrange(value.numel())] = float("-inf")
    elif edit == "int64":
        value = value.round().to(torch.int64)
    elif edit == "float64":
        value = value.double()
    elif edit == "float16":
        value = value.half()
    elif edit == "grow":
        value = torch.cat([value, value[:1]])
    elif edit == "flatten":
        value = value.reshape(-1) if value.ndim > 1 else value.reshape(1, -1)
    elif edit == "drop":
        del tensors[name]
        return
    elif edit == "extra":
        tensors["head.extra"] = torch.zeros(3)
        return
    elif edit == "counter_float":
        counters = sorted(n for n in tensors if n.endswith("num_batches_tracked"))
        tensors[counters[0]] = tensors[counters[0]].float()
        return
    tensors[name] = value


def _edit_digest(metadata: dict, edit: str) -> None:
    if edit == "delete":
        del metadata[DIGEST_KEY]
    elif edit == "garbage":
        metadata[DIGEST_KEY] = "0" * 64
    elif edit == "one_hex_changed":
        digest = metadata[DIGEST_KEY]
        metadata[DIGEST_KEY] = ("1" if digest[0] != "1" else "2") + digest[1:]
    elif edit == "not_a_string":
        metadata[DIGEST_KEY] = 12345


def _edit_header(path: Path, edit: str) -> None:
    tensors = load_file(str(path))
    if edit == "not_json":
        save_file(tensors, str(path), metadata={"nesy": "{format_version: 2"})
    elif edit == "json_list":
        save_file(tensors, str(path), metadata={"nesy": "[2]"})
    elif edit == "no_nesy_key":
        save_file(tensors, str(path), metadata={"other": "{}"})
    elif edit == "empty_file":
        path.write_bytes(b"")
    elif edit == "foreign_bytes":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)


# --- resumable checkpoints -----------------------------------------------------------------------------
def _trainer(folder: Path):
    """A trainer ready to resume (network, optimizer, scaler in place), as at the start of a run."""
    detector = Detector(width=8, head_width=16, class_names=CLASS_NAMES)
    trainer = Trainer(detector, TrainingConfig(epochs=10, seed=0), verbose=False)
    torch.manual_seed(0)
    trainer.network = detector.build_network()
    trainer.optimizer = torch.optim.AdamW(trainer.network.parameters(), lr=1e-3)
    trainer.scaler = torch.amp.GradScaler("cuda", enabled=False)
    trainer.learning_rate, trainer.initial_epoch, trainer.global_step, trainer.history = 1e-3, 0, 0, []
    trainer.epoch, trainer.last_checkpoint = 0, None
    return trainer


def _trained_trainer(folder: Path, *, epoch: int = 1):
    """A trainer after one optimisation step, as at the end of epoch ``epoch`` (0-based)."""
    trainer = _trainer(folder)
    for parameter in trainer.network.parameters():
        parameter.grad = torch.randn_like(parameter) if parameter.is_floating_point() else None
    trainer.optimizer.step()
    trainer.epoch, trainer.global_step = epoch, 2 * (epoch + 1)
    trainer.history = [{"epoch": e + 1, "loss": 1.0 / (e + 1)} for e in range(epoch + 1)]
    return trainer


def _resume(path: Path):
    trainer = _trainer(path.parent)
    trainer.restore_checkpoint(path)
    return _restored(trainer)


def _restored(trainer) -> tuple:
    """What a resume restores, comparable."""
    weights = {name: value.detach().contiguous().numpy().tobytes()
               for name, value in trainer.network.state_dict().items()}
    optimizer = trainer.optimizer.state_dict()
    moments = {f"{index}.{name}": value.detach().contiguous().numpy().tobytes() if hasattr(value, "numpy") else value
               for index, values in optimizer["state"].items() for name, value in values.items()}
    return weights, moments, trainer.initial_epoch, trainer.global_step, trainer.learning_rate, \
        json.dumps(trainer.history, sort_keys=True)


@functools.lru_cache(maxsize=1)
def _base_training() -> tuple[bytes, tuple]:
    """The untampered resumable checkpoint (its bytes) and what resuming from it restores; made once."""
    with tempfile.TemporaryDirectory(prefix="fuzz_checkpoint.") as folder:
        path = Path(folder) / "last.safetensors"
        trainer = _trained_trainer(path.parent)
        trainer.save_checkpoint(path, {"epoch": trainer.epoch + 1, "loss": 0.5})
        return path.read_bytes(), _resume(path)


def _tamper_training(folder: Path, payload: dict):
    kind, edit = payload["kind"], payload.get("edit")
    data, original = _base_training()
    path = folder / "last.safetensors"
    path.write_bytes(data)
    if kind == "training_control":
        return path, original, False
    if kind == "no_state":
        path.write_bytes(_base_model()[0])
        return path, original, True
    if kind == "pair":
        _write_format1_pair(folder, path, payload["weights_epoch"], payload["state_epoch"])
        # a pair saved together is a valid format-1 checkpoint: what it restores is the expectation
        matched = payload["weights_epoch"] == payload["state_epoch"]
        return path, (_resume(path) if matched else original), not matched
    tensors, metadata = _read_raw(path)
    info = metadata["training"]
    if kind == "state_edit":
        if edit == "epoch_negative":
            info["epoch"] = -1
        elif edit == "epoch_text":
            info["epoch"] = "1"
        elif edit == "step_float":
            info["global_step"] = 3.5
        elif edit == "rate_nan":
            info["learning_rate"] = float("nan")
        elif edit == "rate_negative":
            info["learning_rate"] = -0.1
        elif edit == "history_not_list":
            info["history"] = {"epoch": 1}
        elif edit == "optimizer_missing":
            del info["optimizer"]
        elif edit == "groups_missing":
            del info["optimizer"]["param_groups"]
        elif edit == "epoch_moved":   # a plausible value: only the hash can tell
            info["epoch"] += 1
            payload = {**payload, "forge": False}
    elif kind == "state_tensor":
        moments = sorted(name for name in tensors if name.startswith(TRAINING_PREFIX + "optimizer.")
                         and name.endswith("exp_avg"))
        name = moments[payload["seed"] % len(moments)]
        if edit == "moment_nan":
            tensors[name] = tensors[name].clone().reshape(-1)
            tensors[name][0] = float("nan")
        elif edit == "moment_int":
            tensors[name] = tensors[name].round().long()
        elif edit == "moment_shape":
            tensors[name] = tensors[name].reshape(-1)[:-1].clone() if tensors[name].numel() > 1 else \
                tensors[name].repeat(2)
        elif edit == "rng_float":
            tensors[TRAINING_PREFIX + "rng.torch"] = tensors[TRAINING_PREFIX + "rng.torch"].float()
        elif edit == "rng_shape":
            tensors[TRAINING_PREFIX + "rng.torch"] = tensors[TRAINING_PREFIX + "rng.torch"][:100].clone()
        elif edit == "moment_dropped_group":
            info["optimizer"]["param_groups"] = info["optimizer"]["param_groups"] * 2
    _write_raw(path, tensors, metadata, forge=payload["forge"])
    return path, original, True


def _write_format1_pair(folder: Path, path: Path, weights_epoch: int, state_epoch: int) -> None:
    """The two files a format-1 save wrote; their epochs (1-based) as given."""
    weights_side = _trained_trainer(folder, epoch=weights_epoch - 1)
    state_side = _trained_trainer(folder, epoch=state_epoch - 1)
    metadata = {**weights_side.detector.metadata({"epoch": weights_epoch}), "format_version": 1}
    _write_raw(path, dict(weights_side.network.state_dict()), metadata, forge=False)
    tensors, rest = optimizer_to_tensors(state_side.optimizer)
    tensors["rng.torch"] = torch.get_rng_state()
    info = {"epoch": state_epoch - 1, "global_step": state_side.global_step, "learning_rate": 1e-3,
            "history": state_side.history, "seed": 0, "format_version": 1, "optimizer": rest}
    _write_raw(state_path(path), tensors, info, forge=False)


# --- raw file access (the project's loader is what is tested, so these go around it) -------------------
def _read_raw(path: Path) -> tuple[dict, dict]:
    with safe_open(str(path), framework="pt") as file:
        metadata = json.loads(file.metadata()["nesy"])
    return dict(load_file(str(path))), metadata


def _write_raw(path: Path, tensors: dict, metadata: dict, *, forge: bool) -> None:
    if forge:
        metadata[DIGEST_KEY] = content_digest(tensors, json.loads(json.dumps(metadata)))
    save_file({name: value.contiguous() for name, value in tensors.items()}, str(path),
              metadata={"nesy": json.dumps(metadata)})


def _difference(expected: tuple, loaded: tuple) -> str:
    for position, (before, after) in enumerate(zip(expected, loaded)):
        if before != after:
            if isinstance(before, dict) and isinstance(after, dict):
                names = sorted(set(before) ^ set(after)) or sorted(n for n in before if before[n] != after.get(n))
                return f"part {position}: {names[:3]}"
            return f"part {position}: {str(before)[:60]!r} -> {str(after)[:60]!r}"
    return "unknown"
