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


def test_arguments_and_numbers_of_other_types_are_accepted_and_arguments_become_strings():
    class Name(str):
        pass

    fact = Fact("near", [Name("o1"), 2], True, tolerance=0)
    assert fact.args == ("o1", "2") and all(type(a) is str for a in fact.args) and fact.confidence is True
    assert Fact("dist", ("o1",), 1, value=3, tolerance=1).tolerance == 1.0
    assert type(Fact("dist", ("o1",), 1, value=3, tolerance=1).tolerance) is float
    assert Fact("dist", ("o1",), 0.5, value=4.0, tolerance=0.25) == Fact("dist", ("o1",), 0.5, 4.0, 0.25)
