"""Fuzz facts files (``nesy rules explain --facts``): ``python -m benchmarks fuzz --target facts --cases 3000``.

Each case starts from a valid frame of the driving vocabulary (objects, class,
position and light facts, measured values in their declared ranges) and
applies one mutation: either one that keeps it valid (key order, optional keys
left out, whitespace) or one that breaks it in a known place (a misspelt key,
a number or ``true`` as an argument, an empty object id, a non-finite,
out-of-range or boolean number, a key or atom given twice, nesting, broken
JSON...). The case knows which, and the place the error must name.

A case fails when an invalid document is accepted, a valid one is refused, or
the refusal is anything but one ``ValueError``/``TypeError`` line that starts
with the file's path and names the place. Documents are read with
:meth:`symbolic.reasoning.facts.FactBase.from_file` and, every fifth case,
also with ``nesy rules explain FILE --facts`` against
``configs/rules/traffic.rules`` (exit 0 for a valid frame, 1 with one error
line naming the file otherwise).
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import random
import tempfile
from pathlib import Path

from benchmarks.fuzzing import Case
from bridge.cli import main
from symbolic.reasoning.facts import FactBase

RULES = Path(__file__).resolve().parents[2] / "configs" / "rules" / "traffic.rules"
CLI_EVERY = 5

_CLASSES = ("car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign")
_OBJECT_PREDICATES = ("ahead", "behind", "left_of", "right_of", "same_lane", "in_left_lane", "in_right_lane",
                      "in_adjacent_lane", "in_crosswalk", "on_sidewalk", "at_stop_line", "on_road", "approaching")
_OBJECT_FUNCTIONS = {"dist": (0, 200), "gap": (-200, 200), "speed": (0, 60), "ttc": (0, 100)}
_EGO_FUNCTIONS = {"ego_speed": (0, 40), "speed_limit": (0, 40), "stopping_distance": (0, 200)}
_EGO_PREDICATES = ("left_lane_exists", "right_lane_exists", "ego_stopped", "stopped_at_sign")

_BAD_CONSTANTS = (7, 0, -1, True, False, None, "", " ", "o 1", "o1)", "a,b", 1.5, [], ["o1"], {"id": "o1"})
_BAD_NAMES = (5, True, None, "", "1car", "car(", "ca r", "car-2", [], {"pred": "car"})
_BAD_CONFIDENCES = (math.nan, math.inf, -math.inf, -0.01, 1.01, 2, -1, 10 ** 400, "0.5", True, False, None, [], {})
_BAD_VALUES = (math.nan, math.inf, -math.inf, 10 ** 400, -10 ** 400, "3", True, False, None, [], {})
_BAD_TOLERANCES = (-0.5, math.nan, math.inf, 10 ** 400, "0.1", True, None, [])


def _valid_document(rng: random.Random) -> dict:
    objects = {f"o{i}": rng.choice(_CLASSES) for i in range(1, rng.randint(1, 5))}
    facts = []
    for obj, label in objects.items():
        if rng.random() < 0.3:  # the class fact with a confidence of its own
            facts.append({"pred": label, "args": [obj], "confidence": round(rng.random(), 3)})
        for predicate in rng.sample(_OBJECT_PREDICATES, rng.randint(0, 3)):
            facts.append({"pred": predicate, "args": [obj], "confidence": round(rng.random(), 3)})
        if label == "traffic_light":
            facts.append({"pred": "light", "args": [obj, rng.choice(("red", "yellow", "green"))]})
        for function in rng.sample(list(_OBJECT_FUNCTIONS), rng.randint(0, 4)):
            low, high = _OBJECT_FUNCTIONS[function]
            entry = {"func": function, "args": [obj], "value": round(rng.uniform(low, high), 2)}
            if function in ("dist", "gap") and rng.random() < 0.5:
                entry["tolerance"] = round(rng.uniform(0, 1), 2)
            facts.append(entry)
    if len(objects) >= 2 and rng.random() < 0.5:
        first, second = rng.sample(list(objects), 2)
        facts.append({"pred": "near", "args": [first, second], "confidence": 0.7})
    for predicate in rng.sample(_EGO_PREDICATES, rng.randint(0, 2)):
        facts.append({"pred": predicate, "args": []})
    for function, (low, high) in _EGO_FUNCTIONS.items():
        facts.append({"func": function, "args": [], "value": round(rng.uniform(low, high), 1)})
    return {"objects": objects, "facts": facts}


def _object_entries(document: dict) -> list[int]:
    return [i for i, entry in enumerate(document["facts"]) if entry.get("args")]


def _mutate(rng: random.Random, document: dict) -> tuple[str, object, str | None]:
    """``(label, document or raw text, place)``: place None keeps the document valid."""
    facts = document["facts"]
    kind = rng.randrange(20)
    if kind == 0:  # valid: key order shuffled, whitespace, optional keys left out
        for entry in facts:
            if entry.get("confidence") == 1.0:
                del entry["confidence"]
        items = list(document.items())
        rng.shuffle(items)
        return "valid_reordered", json.dumps(dict(items), indent=rng.choice((None, 1, 4))), None
    if kind == 1:  # valid: no objects section (classes as facts)
        classes = [{"pred": label, "args": [obj]} for obj, label in document.pop("objects").items()]
        atoms = {(e.get("pred"), tuple(e["args"])) for e in facts}
        facts[:0] = [c for c in classes if (c["pred"], tuple(c["args"])) not in atoms]
        return "valid_no_objects", document, None
    if kind == 2:
        key, typo = rng.choice((("objects", "object"), ("facts", "fact"), ("objects", "Objects"), (None, "extra")))
        if key is None:
            document[typo] = rng.choice(({}, [], 1, "x"))
        else:
            document[typo] = document.pop(key)
        return f"top_level_{typo}", document, f"unknown key {typo!r} at the top level"
    if kind == 3:
        candidates = _object_entries(document)
        if candidates:
            index = rng.choice(candidates)
            position = rng.randrange(len(facts[index]["args"]))
            facts[index]["args"][position] = rng.choice(_BAD_CONSTANTS)
            return "bad_argument", document, f"facts[{index}].args[{position}]"
        kind = 4
    if kind == 4:
        bad = rng.choice(("", " ", "o 1", "(o1)", "o1,o2"))
        document["objects"][bad] = "car"
        return "bad_object_id", document, "objects["
    if kind == 5:
        if document["objects"]:
            obj = rng.choice(list(document["objects"]))
            document["objects"][obj] = rng.choice(_BAD_NAMES)
            return "bad_class", document, f"objects[{obj!r}]"
        document["objects"] = rng.choice(([], "car", 3, None))
        return "objects_not_a_mapping", document, "objects"
    if kind == 6:
        index = rng.randrange(len(facts))
        facts[index]["confidence"] = rng.choice(_BAD_CONFIDENCES)
        return "bad_confidence", document, f"facts[{index}]"
    if kind == 7:
        functions = [i for i, e in enumerate(facts) if "func" in e]
        index = rng.choice(functions)
        if rng.random() < 0.2:
            del facts[index]["value"]
        else:
            facts[index]["value"] = rng.choice(_BAD_VALUES)
        return "bad_value", document, f"facts[{index}]"
    if kind == 8:
        index = rng.randrange(len(facts))
        facts[index]["tolerance"] = rng.choice(_BAD_TOLERANCES) if "func" in facts[index] else rng.choice((0.1, 1))
        return "bad_tolerance", document, f"facts[{index}]"
    if kind == 9:
        index = rng.randrange(len(facts))
        facts[index] = rng.choice((5, "car(o1)", [], None, True))
        return "entry_not_an_object", document, f"facts[{index}]"
    if kind == 10:
        index = rng.randrange(len(facts))
        entry = facts[index]
        if "pred" in entry:
            entry["func"] = entry["pred"]
        elif rng.random() < 0.5:
            entry["pred"] = entry["func"]
        else:
            del entry["func"]
        return "pred_and_func", document, f"facts[{index}]"
    if kind == 11:
        index = rng.randrange(len(facts))
        facts[index][rng.choice(("confidance", "arg", "Pred", "values", ""))] = 1
        return "unknown_entry_key", document, f"facts[{index}]"
    if kind == 12:
        index = rng.randrange(len(facts))
        key = "pred" if "pred" in facts[index] else "func"
        text = json.dumps(document)
        entry_text = json.dumps(facts[index])
        twice = entry_text.replace("{", "{" + json.dumps(key) + ": " + json.dumps(facts[index][key]) + ", ", 1)
        return "duplicate_key", text.replace(entry_text, twice, 1), "appears twice"
    if kind == 13:
        index = rng.randrange(len(facts))
        again = copy.deepcopy(facts[index])
        if "confidence" in again or rng.random() < 0.5:
            again["confidence"] = 0.5
        facts.append(again)
        return "duplicate_atom", document, f"facts[{len(facts) - 1}]"
    if kind == 14:
        document["facts"] = rng.choice(({}, "ahead(o1)", None, 3, {"pred": "car"}))
        return "facts_not_a_list", document, "facts"
    if kind == 15:
        return "top_level_not_an_object", json.dumps(rng.choice(([], 3, "facts", None, [document]))), "expected an object"
    if kind == 16:
        index = rng.randrange(len(facts))
        key = "pred" if "pred" in facts[index] else "func"
        facts[index][key] = rng.choice(_BAD_NAMES)
        return "bad_name", document, f"facts[{index}]"
    if kind == 17:
        index = rng.randrange(len(facts))
        facts[index]["args"] = rng.choice(("o1", 1, None, {"0": "o1"}, True))
        return "args_not_a_list", document, f"facts[{index}].args"
    if kind == 18:
        depth = rng.choice((100, 5000, 200_000))
        place = "facts[0]: expected an object" if depth < 1000 else "nested too deeply"
        return "deep_nesting", '{"facts": ' + "[" * depth + "]" * depth + "}", place
    text = json.dumps(document)
    choice = rng.randrange(4)
    if choice == 0:
        return "truncated", text[:rng.randrange(1, len(text) - 1)], "invalid JSON"
    if choice == 1:
        return "huge_integer", text.replace('"value": ', '"value": 1' + "0" * 5000 + ", \"x\": ", 1), "invalid JSON"
    if choice == 2:
        return "not_utf8", b"\xff\xfe" + text.encode("utf-16-le"), "cannot read"
    return "raw_token", text.replace('"value": ', '"value": ' + rng.choice(("NaN", "Infinity", "-Infinity", "1e999")) + ", \"v\": ", 1), "facts["


def generate(rng: random.Random, index: int) -> Case:
    """Case ``index``: a valid driving frame with one mutation."""
    label, document, place = _mutate(rng, _valid_document(rng))
    if isinstance(document, (str, bytes)):
        content = document
    else:
        content = json.dumps(document, allow_nan=True)
    return Case(label, {"content": content, "place": place, "cli": index % CLI_EVERY == 0})


def _refusal_problem(message: str, path: str, place: str) -> str | None:
    if "\n" in message.strip():
        return f"error of more than one line: {message[:200]!r}"
    if not message.startswith(path):
        return f"error not naming the file: {message[:200]!r}"
    if place not in message:
        return f"error not naming {place!r}: {message[:200]!r}"
    return None


def check(case: Case) -> str | None:
    """None when a valid frame is accepted, or an invalid one refused in one line naming the file and place."""
    place = case.payload["place"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "frame.facts.json"
        content = case.payload["content"]
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        try:
            FactBase.from_file(path)
        except (ValueError, TypeError) as error:
            if place is None:
                return f"valid document refused: {str(error)[:200]}"
            problem = _refusal_problem(str(error), str(path), place)
            if problem:
                return problem
        else:
            if place is not None:
                return f"invalid document accepted (expected an error naming {place!r})"
        if case.payload["cli"]:
            return _check_cli(path, place)
    return None


def _check_cli(path: Path, place: str | None) -> str | None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["rules", "explain", str(RULES), "--facts", str(path), "--time-budget-ms", "60000"])
    message = err.getvalue()
    if place is None:
        return None if code == 0 else f"nesy rules explain refused a valid frame ({code}): {message[:200]!r}"
    if code != 1:
        return f"nesy rules explain exited {code} on an invalid document"
    prefix = "nesy rules: error: "
    if not message.startswith(prefix):
        return f"nesy rules explain did not print one error line: {message[:200]!r}"
    return _refusal_problem(message[len(prefix):], str(path), place)
