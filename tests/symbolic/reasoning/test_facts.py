"""Facts: the tolerance of a measured value, its checks and its JSON form."""
import json
import math

import pytest

from symbolic.reasoning.facts import Fact, FactBase


def test_a_measured_value_carries_its_tolerance():
    fact = Fact("dist", ("o3",), value=40.01, tolerance=0.3)
    assert fact.tolerance == 0.3 and repr(fact) == "Fact('dist(o3) = 40.01 ± 0.3', confidence=1)"
    assert Fact("dist", ("o3",), value=40.01).tolerance == 0.0
    assert repr(Fact("dist", ("o3",), value=40.01)) == "Fact('dist(o3) = 40.01', confidence=1)"
    assert Fact("dist", ("o3",), value=1.0, tolerance=2).tolerance == 2.0 and \
        type(Fact("dist", ("o3",), value=1.0, tolerance=2).tolerance) is float


@pytest.mark.parametrize("kwargs, message", [
    ({"value": 1.0, "tolerance": -0.1}, r"tolerance of dist\(o3\) must be a finite number >= 0. Received -0.1"),
    ({"value": 1.0, "tolerance": math.inf}, r"tolerance of dist\(o3\) must be a finite number >= 0. Received inf"),
    ({"value": 1.0, "tolerance": math.nan}, r"must be a finite number >= 0. Received nan"),
    ({"value": 1.0, "tolerance": "0.3"}, r"must be a finite number >= 0. Received '0.3'"),
    ({"value": 1.0, "tolerance": True}, r"must be a finite number >= 0. Received True"),
    ({"tolerance": 0.3}, r"dist\(o3\) is a predicate: only a function value takes a tolerance. Received tolerance=0.3"),
])
def test_a_bad_tolerance_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Fact("dist", ("o3",), **kwargs)


def test_the_json_form_keeps_the_tolerance_and_old_files_stay_valid(tmp_path):
    facts = FactBase([Fact("car", ("o1",)), Fact("dist", ("o1",), value=40.01, tolerance=0.3),
                      Fact("gap", ("o1",), value=38.0)])
    data = facts.to_json()
    assert data["facts"][1] == {"func": "dist", "args": ["o1"], "value": 40.01, "confidence": 1.0, "tolerance": 0.3}
    assert "tolerance" not in data["facts"][2]  # an exact value is written as before
    path = tmp_path / "frame.json"
    path.write_text(json.dumps(data))
    again = FactBase.from_file(path)
    assert again == facts and again.tolerance("dist", "o1") == 0.3 and again.tolerance("gap", "o1") == 0.0
    assert again.tolerance("dist", "o9") == 0.0
    old = FactBase.from_json({"facts": [{"func": "dist", "args": ["o1"], "value": 12.5}]})
    assert old.get("dist", "o1").tolerance == 0.0


@pytest.mark.parametrize("entry, message", [
    ({"func": "dist", "args": ["o1"], "value": 1.0, "tolerance": -1},
     r"f.json: facts\[0\]: tolerance must be a finite number >= 0. Received -1"),
    ({"func": "dist", "args": ["o1"], "value": 1.0, "tolerance": "wide"}, r"Received 'wide'"),
    ({"pred": "car", "args": ["o1"], "tolerance": 0.5}, r"predicate 'car' takes no 'tolerance'"),
    ({"func": "dist", "args": ["o1"], "value": 1.0, "tol": 0.5}, r"unknown key 'tol'; expected .*tolerance"),
])
def test_a_bad_tolerance_in_a_facts_file_names_the_entry(entry, message):
    with pytest.raises(ValueError, match=message):
        FactBase.from_json({"facts": [entry]}, source="f.json")


@pytest.mark.parametrize("kwargs, message", [
    (dict(predicate=""), "non-empty string"), (dict(predicate=3), "non-empty string"),
    (dict(confidence=1.5), r"in \[0, 1\]"), (dict(confidence=float("nan")), r"in \[0, 1\]"),
    (dict(confidence="0.5"), r"in \[0, 1\]"), (dict(confidence=-0.0 - 1e-9), r"in \[0, 1\]"),
    (dict(value=float("inf")), "finite"), (dict(value=float("nan")), "finite"), (dict(value="3"), "finite"),
    (dict(value=2.0, tolerance=float("inf")), "finite number >= 0"), (dict(value=2.0, tolerance=-0.5), ">= 0"),
    (dict(tolerance=0.5), "only a function value"),
])
def test_a_bad_fact_is_refused_whatever_its_types(kwargs, message):
    fields = dict(predicate="dist", args=("o1",))
    fields.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Fact(**fields)


def test_string_arguments_and_numbers_of_other_types_are_accepted():
    class Name(str):
        pass

    fact = Fact("near", [Name("o1"), "o2"], 1, tolerance=0)
    assert fact.args == ("o1", "o2") and all(type(a) is str for a in fact.args) and fact.confidence == 1
    assert Fact("dist", ("o1",), 1, value=3, tolerance=1).tolerance == 1.0
    assert type(Fact("dist", ("o1",), 1, value=3, tolerance=1).tolerance) is float
    assert Fact("dist", ("o1",), 0.5, value=4.0, tolerance=0.25) == Fact("dist", ("o1",), 0.5, 4.0, 0.25)


@pytest.mark.parametrize("args", [("o1", 2), (True,), ("",), "o1", [None]])
def test_an_argument_that_is_not_a_non_empty_string_is_refused_not_turned_into_text(args):
    with pytest.raises(TypeError, match="non-empty strings|tuple of strings"):
        Fact("near", args)


@pytest.mark.parametrize("confidence", [True, False])
def test_a_boolean_is_not_a_confidence(confidence):
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        Fact("car", ("o1",), confidence)


# ---------------------------------------------------------------- the JSON form is read strictly

def write_facts(tmp_path, text):
    path = tmp_path / "facts.json"
    path.write_text(text if isinstance(text, str) else json.dumps(text))
    return path


def test_a_misspelled_top_level_key_is_refused_not_ignored(tmp_path):
    """``"object"`` for ``"objects"`` used to drop every class fact silently (and flip a decision)."""
    path = write_facts(tmp_path, {"object": {"o1": "pedestrian"}, "facts": [{"pred": "ahead", "args": ["o1"]}]})
    with pytest.raises(ValueError, match=r"facts\.json: unknown key 'object' at the top level; .*Did you mean 'objects'"):
        FactBase.from_file(path)


@pytest.mark.parametrize("args, shown", [([7], "7"), ([True], "True"), ([""], "''"), ([None], "None"),
                                         (["o 1"], "'o 1'"), ([["o1"]], r"\['o1'\]")])
def test_an_argument_must_be_a_constant_string(tmp_path, args, shown):
    """``args: [7]`` and ``[true]`` used to become ``"7"`` and ``"True"``."""
    path = write_facts(tmp_path, {"facts": [{"pred": "ahead", "args": args}]})
    with pytest.raises(ValueError, match=rf"facts\.json: facts\[0\]\.args\[0\]: expected a constant.*Received {shown}$"):
        FactBase.from_file(path)


def test_an_empty_object_id_or_a_class_that_is_not_a_name_is_refused(tmp_path):
    path = write_facts(tmp_path, {"objects": {"o1": "car", "": "pedestrian"}, "facts": []})
    with pytest.raises(ValueError, match=r"facts\.json: objects\[''\]: object id: expected a constant.*Received ''"):
        FactBase.from_file(path)
    path = write_facts(tmp_path, {"objects": {"o1": 3}, "facts": []})
    with pytest.raises(ValueError, match=r"facts\.json: objects\['o1'\]: class name: expected a name.*Received 3"):
        FactBase.from_file(path)


@pytest.mark.parametrize("entry, message", [
    ('{"pred": "car", "args": ["o1"], "confidence": NaN}', r"facts\[0\]: confidence must be .*Received nan"),
    ('{"func": "dist", "args": ["o1"], "value": Infinity}', r"facts\[0\]: function 'dist' needs a finite.*Received inf"),
    ('{"func": "dist", "args": ["o1"], "value": 1e999}', r"facts\[0\]: function 'dist' needs a finite.*Received inf"),
    ('{"func": "dist", "args": ["o1"], "value": 1' + "0" * 400 + "}",
     r"facts\[0\]: function 'dist' needs a finite.*Received an integer of 401 digits"),
    ('{"func": "dist", "args": ["o1"], "value": 1' + "0" * 5000 + "}", r"facts\.json: invalid JSON: .*digits"),
    ('{"func": "dist", "args": ["o1"], "value": true}', r"facts\[0\]: function 'dist' needs a finite.*Received True"),
    ('{"pred": 5, "args": ["o1"]}', r"facts\[0\]\.pred: expected a name.*Received 5"),
    ('{"pred": "car", "pred": "truck", "args": ["o1"]}', r"facts\.json: key 'pred' appears twice in one object"),
    ('{"pred": "car", "args": "o1"}', r"facts\[0\]\.args: expected a list of constants"),
])
def test_numbers_names_and_keys_are_checked_and_every_error_names_the_file(tmp_path, entry, message):
    path = write_facts(tmp_path, '{"facts": [' + entry + "]}")
    with pytest.raises(ValueError, match=message) as error:
        FactBase.from_file(path)
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)


def test_an_atom_given_twice_is_refused_and_deep_nesting_names_the_file(tmp_path):
    path = write_facts(tmp_path, {"facts": [{"pred": "car", "args": ["o1"], "confidence": 0.2},
                                            {"pred": "car", "args": ["o1"], "confidence": 0.9}]})
    with pytest.raises(ValueError, match=r"facts\[1\]: car\(o1\) is already given by facts\[0\]"):
        FactBase.from_file(path)
    path = write_facts(tmp_path, '{"facts": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ValueError, match=r"facts\.json: .*nested too deeply"):
        FactBase.from_file(path)


def test_python_and_files_share_one_validator():
    with pytest.raises(ValueError, match=r"<facts>: facts\[0\]\.args\[0\]: expected a constant"):
        FactBase.from_json({"facts": [{"pred": "car", "args": [1]}]})
    facts = FactBase.from_json({"objects": {"o1": "car"}, "facts": [{"pred": "car", "args": ["o1"], "confidence": 0.6}]})
    assert facts.confidence("car", "o1") == 0.6  # an entry on an object's class fact gives its confidence
