"""RuleSet contents, includes and their errors, and facts checked against a vocabulary."""
import json
import math

import pytest

from symbolic.language.errors import RuleError
from symbolic.language.loader import load_rules, parse_rules
from symbolic.reasoning.facts import Fact, FactBase


def write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def test_ruleset_exposes_what_others_build_on():
    rules = load_rules("configs/rules/traffic.rules")
    assert rules.sorts == {"Color": ("red", "yellow", "green")}
    assert rules.predicates["light"] == ("object", "Color") and rules.predicates["ego_stopped"] == ()
    assert rules.functions["dist"] == (("object",), "Real", (0.0, 200.0))
    assert rules.safe_action == "stop"
    red = next(r for r in rules.rules if r.name == "red_light")
    assert (red.kind, red.weight, red.source) == ("hard", None, "configs/rules/traffic.rules:22")
    soft = next(r for r in rules.rules if r.name == "yellow_too_close")
    assert (soft.kind, soft.weight) == ("soft", 20.0)
    assert rules.used_predicates(red) == {"traffic_light", "light", "applies_to_ego", "ahead", "dist",
                                          "stopping_distance"}
    assert rules.preferences == {"go": 10.0, "slow": 7.0, "yield": 3.0, "change_left": 2.0, "change_right": 1.0}
    assert [c.name for c in rules.constraints] == [
        "one_class_car", "one_class_truck", "one_class_pedestrian", "one_class_cyclist", "one_class_light",
        "one_colour", "red_not_yellow", "lights_are_lights"]
    assert rules.files[1].endswith("vocabulary.rules")
    assert rules.class_predicates()[:6] == ["car", "truck", "pedestrian", "cyclist", "traffic_light", "stop_sign"]


def test_safe_defaults_to_the_first_action():
    assert parse_rules("actions wait, move").safe_action == "wait"


def test_include_is_found_beside_the_file_then_on_the_search_path(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    write(lib, "common.rules", "pred car(o)\nactions stop, go\n")
    main = write(tmp_path, "main.rules", 'include "common.rules"\nrule r: exists o in car: true => stop\n')
    with pytest.raises(RuleError, match=r"main.rules:1:1: included file 'common.rules' not found \(searched: "):
        load_rules(main)
    assert load_rules(main, search_path=[lib]).actions == ["stop", "go"]


def test_include_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.rules", 'include "b.rules"\npred a\n')
    write(tmp_path, "b.rules", 'pred b\ninclude "a.rules"\n')
    with pytest.raises(RuleError) as info:
        load_rules(tmp_path / "a.rules")
    assert info.value.line == 2 and info.value.column == 1 and info.value.file.endswith("b.rules")
    assert "include cycle" in info.value.message and "a.rules -> b.rules -> a.rules" in info.value.message


def test_errors_in_an_included_file_name_that_file(tmp_path):
    write(tmp_path, "v.rules", "pred car(o)\npred car(o)\n")
    write(tmp_path, "m.rules", 'include "v.rules"\nactions go\n')
    with pytest.raises(RuleError, match=r"v.rules:2:6: duplicate name 'car'"):
        load_rules(tmp_path / "m.rules")


def test_a_missing_rule_file():
    with pytest.raises(RuleError, match="nope.rules: cannot read rule file"):
        load_rules("nope.rules")


VOCABULARY = parse_rules("sort Color = {red, green}\npred car(o)\npred light(o, Color)\n"
                         "func dist(o): Real in [0, 100]\nactions stop", "v.rules")


@pytest.mark.parametrize("fact, message", [
    (Fact("cra", ("o1",)), r"fact cra\(o1\): unknown predicate 'cra'. Did you mean 'car'\?"),
    (Fact("light", ("o1",)), r"'light' takes 2 argument\(s\) \(object, Color\). Received 1"),
    (Fact("light", ("o1", "blue")), r"argument 2 must be one of Color = \{red, green\}. Received 'blue'"),
    (Fact("light", ("red", "red")), r"argument 1 must be an object id, not the Color constant 'red'"),
    (Fact("dist", ("o1",)), r"It is a function: give it a \"func\" and a \"value\""),
    (Fact("dist", ("o1",), value=300.0), r"value must be in \[0, 100\] as declared. Received 300"),
    (Fact("car", ("o1",), value=3.0), r"unknown function 'car'"),
])
def test_facts_are_checked_against_the_vocabulary(fact, message):
    with pytest.raises(ValueError, match=message):
        VOCABULARY.validate_facts([fact], "f.json")


@pytest.mark.parametrize("entry, message", [
    ({"pred": "car", "args": ["o1"], "confidence": 1.5}, r"f.json: facts\[0\]: confidence must be a number in \[0, 1\]. Received 1.5"),
    ({"pred": "car", "args": ["o1"], "confidence": math.nan}, r"facts\[0\]: confidence must be a number in \[0, 1\]. Received nan"),
    ({"func": "dist", "args": ["o1"], "value": math.nan}, r"facts\[0\]: function 'dist' needs a finite numeric 'value'"),
    ({"pred": "car", "arg": ["o1"]}, r"facts\[0\]: unknown key 'arg'"),
])
def test_the_facts_json_is_validated_entry_by_entry(tmp_path, entry, message):
    path = write(tmp_path, "f.json", json.dumps({"facts": [entry]}))
    with pytest.raises(ValueError, match=message.replace("f.json", str(path).replace(".", r"\."), 1)):
        FactBase.from_file(path)
