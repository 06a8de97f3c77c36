"""The driving vocabulary is declared once and rule files are checked against it."""
from pathlib import Path

import pytest

from symbolic.language.loader import load_rules, parse_rules
from bridge.vocabulary import DRIVING_VOCABULARY, VocabularyError, check_rules_vocabulary

RULES = Path(__file__).resolve().parents[2] / "configs" / "rules"
HEADER = """sort Color = {red, yellow, green}
pred car(o)
pred ahead(o)
pred light(o, Color)
func dist(o): Real in [0, 200]
actions stop, go
safe stop
"""


def test_vocabulary_rules_declares_exactly_this_vocabulary():
    rules = load_rules(RULES / "vocabulary.rules")
    assert rules.sorts == {name: values for name, values in DRIVING_VOCABULARY.sorts}
    predicates = {t.name: len(t.args) for t in DRIVING_VOCABULARY.predicates}
    functions = {t.name: (len(t.args), t.value_range) for t in DRIVING_VOCABULARY.functions}
    assert {name: len(params) for name, params in rules.predicates.items()} == predicates
    assert {name: (len(sig[0]), tuple(float(v) for v in sig[2])) for name, sig in rules.functions.items()} == functions
    for term in DRIVING_VOCABULARY.terms:
        declared = rules.predicates[term.name] if term.kind == "predicate" else rules.functions[term.name][0]
        assert tuple(s if s == "Color" else "object" for s in declared) == term.args, term.name


def test_the_shipped_traffic_rules_use_only_what_grounding_produces_and_its_actions():
    rules = load_rules(RULES / "traffic.rules")
    assert check_rules_vocabulary(rules) is None
    used = set().union(*(rules.used_predicates(r) for r in rules.rules + rules.constraints)) - set(rules.defines)
    assert len(used) > 20 and all(name in DRIVING_VOCABULARY for name in used), sorted(used)
    assert tuple(rules.actions) == DRIVING_VOCABULARY.actions
    assert rules.safe_action == DRIVING_VOCABULARY.safe_action


def test_a_rule_using_an_unknown_predicate_is_refused_naming_rule_line_and_predicate():
    text = HEADER + "pred foggy(o)\nrule fog: exists o: foggy(o) and ahead(o) => stop\n"
    rules = parse_rules(text, "fog.rules")
    with pytest.raises(VocabularyError, match=r"^fog\.rules:9: rule 'fog' uses 'foggy', which the grounding never produces$"):
        check_rules_vocabulary(rules)


def test_a_near_miss_gets_a_did_you_mean():
    rules = parse_rules(HEADER + "pred aheead(o)\nrule r: exists o: car(o) and aheead(o) => stop\n", "typo.rules")
    with pytest.raises(VocabularyError, match="Did you mean 'ahead'"):
        check_rules_vocabulary(rules)


def test_an_unknown_predicate_inside_a_define_is_reported_for_the_define():
    text = HEADER + "pred slippery\ndefine risky(o) := car(o) and slippery\nrule r: exists o: risky(o) => stop\n"
    with pytest.raises(VocabularyError, match="define 'risky' uses 'slippery'"):
        check_rules_vocabulary(parse_rules(text, "d.rules"))


def test_names_a_define_introduces_are_fine():
    rule = "rule r: exists o: close(o) and light(o, red) => stop\n"
    defined = HEADER + "define close(o) := car(o) and dist(o) < 10\n" + rule
    assert check_rules_vocabulary(parse_rules(defined, "ok.rules")) is None
    # the same name declared as a predicate must come from the grounding, which never produces it
    declared = HEADER + "pred close(o)\n" + rule
    with pytest.raises(VocabularyError, match="rule 'r' uses 'close', which the grounding never produces"):
        check_rules_vocabulary(parse_rules(declared, "declared.rules"))


def test_a_term_declared_with_another_arity_is_refused():
    text = HEADER.replace("pred ahead(o)", "pred ahead(o, o)") + "rule r: exists o, p: ahead(o, p) => stop\n"
    with pytest.raises(VocabularyError, match="'ahead' with 2 argument\\(s\\), but the grounding produces it with 1"):
        check_rules_vocabulary(parse_rules(text, "arity.rules"))


def test_vocabulary_lookups():
    assert DRIVING_VOCABULARY.term("ttc").value_range == (0.0, 100.0)
    assert "near" in DRIVING_VOCABULARY and "foggy" not in DRIVING_VOCABULARY
    with pytest.raises(KeyError, match="Did you mean 'dist'"):
        DRIVING_VOCABULARY.term("dst")
