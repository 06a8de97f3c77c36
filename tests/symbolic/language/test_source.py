"""A rule file's text: encoding, line breaks, limits on numbers, nesting and size, and what an include may name."""
import re

import pytest

from symbolic.language.errors import RuleError
from symbolic.language.loader import load_rules, parse_rules
from symbolic.language.source import MAX_TOKENS, split_lines


def test_infinite_weights_are_a_rule_error_not_a_broken_decision():
    text = "pred car(o)\nactions go, stop\nprefer go weight 1e999\navoid go weight 1e999\n"
    with pytest.raises(RuleError) as info:
        parse_rules(text, "w.rules")
    first = info.value.errors[0]
    assert (first.line, first.column) == (3, 18)
    assert "number 1e999 is out of range" in first.message and "1e+09" in first.message
    assert "w.rules:4:17: number 1e999 is out of range" in str(info.value)


@pytest.mark.parametrize("literal, place", [
    ("rule r [weight 1e999]: go", (3, 16)),
    ("rule r: f < " + "9" * 400 + " => go", (3, 13)),
    ("rule r: f > 1e-400 => go", (3, 13)),
    ("func g: Real in [0, 1e309]", (3, 21)),
])
def test_numbers_out_of_range_point_at_the_number(literal, place):
    with pytest.raises(RuleError, match="is out of range") as info:
        parse_rules("func f: Real\nactions go\n" + literal, "n.rules")
    assert (info.value.line, info.value.column) == place


def test_written_zero_and_the_limits_themselves_are_fine():
    rules = parse_rules("func f: Real in [0.000, 1e9]\nactions go\nrule r [weight 1e-9]: f > 0e5 => go")
    assert rules.functions["f"][2] == (0.0, 1e9) and rules.rules[0].weight == 1e-9


@pytest.mark.parametrize("formula, reached", [
    ("f * 1e9 * 1e9 > 1", "1e+18"),
    ("f > 1e9 * 1e9", "1e+18"),
    ("f / 1e9 / 1e9 > 1", "1e-18"),
])
def test_arithmetic_that_leaves_the_range_is_a_rule_error(formula, reached):
    message = f"makes a number of magnitude {reached}; arithmetic in a rule file stays between 1e-12 and 1e+12"
    with pytest.raises(RuleError, match=re.escape(message)) as info:
        parse_rules(f"func f: Real\nactions go\nrule r: {formula} => go", "a.rules")
    assert info.value.line == 3


def test_an_overflowing_range_no_longer_reaches_the_checker():
    from symbolic.verify.checker import check_rules
    with pytest.raises(RuleError, match="1:21: number 1e999 is out of range"):
        check_rules(parse_rules("func f: Real in [0, 1e999]\nactions go, stop\nrule r: f > 1 => go"), 1)


def test_invalid_utf8_is_reported_at_the_bad_byte(tmp_path):
    path = tmp_path / "bad.rules"
    path.write_bytes("actions go\n# café\nrule r: \xe9 go\n".encode("utf-8").replace(b"\xc3\xa9 go", b"\xe9 go"))
    with pytest.raises(RuleError) as info:
        load_rules(path)
    error = info.value
    assert (error.file, error.line, error.column) == (str(path), 3, 9)
    assert "invalid UTF-8 (invalid continuation byte 0xe9)" in error.message
    assert str(error).splitlines()[1:] == ["    rule r: \ufffd go", "            ^"]


def test_a_byte_order_mark_is_skipped(tmp_path):
    path = tmp_path / "bom.rules"
    path.write_bytes(b"\xef\xbb\xbfactions stop, go\n")
    assert load_rules(path).actions == ["stop", "go"]


@pytest.mark.parametrize("body", ["not " * 5000 + "go", "1 + " * 3000 + "1 > 0", "go => " * 3000 + "go",
                                  "(go and " * 2000 + "go" + ")" * 2000, "- " * 5000 + "1 < 0"])
def test_deep_nesting_is_a_rule_error_before_anything_recurses(body):
    with pytest.raises(RuleError, match="formula nested more than 100 levels deep") as info:
        parse_rules(f"actions go\nrule deep: {body}", "deep.rules")
    assert info.value.line == 2 and info.value.column > 9


def test_nesting_up_to_the_limit_and_redundant_parentheses_are_fine():
    rules = parse_rules("actions go\nrule r: " + "not " * 90 + "go\nrule s: " + "(" * 1000 + "go" + ")" * 1000)
    assert [r.name for r in rules.rules] == ["r", "s"]


def test_too_many_tokens_is_refused_before_parsing():
    text = "actions go\n" + "rule r: " + " and ".join(["go"] * MAX_TOKENS) + "\n"
    with pytest.raises(RuleError, match=f"the file holds more than {MAX_TOKENS:,} tokens") as info:
        parse_rules(text, "big.rules")
    assert info.value.line == 2


def test_a_form_feed_caret_is_on_the_line_it_is_in():
    with pytest.raises(RuleError) as info:
        parse_rules("actions go\n\x0crule r: foo\n", "ff.rules")
    error = info.value
    assert (error.line, error.column, error.source_line) == (2, 10, "\x0crule r: foo")
    assert str(error).splitlines()[1:] == ["    ?rule r: foo", "             ^"]


@pytest.mark.parametrize("separator", ["\v", "\u2028", "\u2029", "\x85", "\x1c"])
def test_unicode_line_separators_stay_inside_their_line(separator):
    with pytest.raises(RuleError) as info:
        parse_rules(f"actions go\nrule r: go{separator}\nrule s: nope\n", "sep.rules")
    lines = {e.line: e.source_line for e in getattr(info.value, "errors", [info.value])}
    assert set(lines) <= {2, 3}
    assert lines[3] == "rule s: nope"
    assert all(source == f"rule r: go{separator}" for line, source in lines.items() if line == 2)


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_windows_and_old_mac_line_endings_count_as_line_breaks(ending):
    text = ending.join(["actions go", "# a comment", "rule r: nope"])
    with pytest.raises(RuleError, match="crlf.rules:3:9: unknown name 'nope'") as info:
        parse_rules(text, "crlf.rules")
    assert info.value.source_line == "rule r: nope"
    assert split_lines(text) == ["actions go", "# a comment", "rule r: nope"]


def test_including_a_file_that_is_not_a_rule_file_never_shows_its_content(tmp_path):
    (tmp_path / "secret.txt").write_text("password: hunter2\n")
    main = tmp_path / "main.rules"
    main.write_text('actions go\ninclude "secret.txt"\ninclude "/etc/passwd"\n')
    with pytest.raises(RuleError) as info:
        load_rules(main)
    text = str(info.value)
    assert "hunter2" not in text and "root:" not in text
    assert "main.rules:2:1: included file 'secret.txt' is not a rule file: its name must end in .rules" in text
    assert "main.rules:3:1: included file '/etc/passwd' is not a rule file" in text


def test_including_a_folder_is_a_rule_error(tmp_path):
    (tmp_path / "lib.rules").mkdir()
    main = tmp_path / "main.rules"
    main.write_text('include "lib.rules"\nactions go\n')
    with pytest.raises(RuleError, match=r"main.rules:1:1: included file 'lib.rules' is a folder, not a rule file"):
        load_rules(main)


@pytest.mark.parametrize("path, message", [
    ("a" * 300 + ".rules", r"cannot open included file 'a+\.rules' \(File name too long\)"),
    ("a/" * 600 + "b.rules", r"include path is too long: 1,207 characters \(at most 1,024\)"),
    ("a\x00b.rules", r"include path 'a\\x00b.rules' holds the character '\\x00'"),
    ("a\u2028b.rules", r"include path 'a\\u2028b.rules' holds the character '\\u2028'"),
])
def test_long_and_odd_include_paths_are_rule_errors(tmp_path, path, message):
    main = tmp_path / "main.rules"
    main.write_text(f'actions go\ninclude "{path}"\n')
    with pytest.raises(RuleError, match="main.rules:2:1: " + message):
        load_rules(main)


def test_bad_bytes_in_an_included_file_are_reported_in_that_file(tmp_path):
    (tmp_path / "v.rules").write_bytes(b"pred car(o)\npred \xff\n")
    main = tmp_path / "main.rules"
    main.write_text('include "v.rules"\nactions go\n')
    with pytest.raises(RuleError, match=r"v.rules:2:6: invalid UTF-8"):
        load_rules(main)


def test_a_file_name_the_system_refuses_is_still_only_a_name():
    assert parse_rules("actions go", "x" * 5000 + ".rules").actions == ["go"]


def test_defines_that_write_out_too_deep_are_refused_once():
    lines = ["pred car(o)", "actions stop, go", "define d0(o) := car(o)"]
    lines += [f"define d{i}(o) := not d{i - 1}(o)" for i in range(1, 400)]
    lines.append("rule r: exists o: d399(o) => stop")
    with pytest.raises(RuleError) as info:
        parse_rules("\n".join(lines), "chain.rules")
    assert not hasattr(info.value, "errors")  # one error: the users of a refused define are not reported again
    assert info.value.message.startswith("define 'd50' written out with the defines it uses nests 102 levels deep")


def test_defines_that_double_each_other_are_refused_before_they_explode():
    lines = ["pred car(o)", "actions stop, go", "define d0(o) := car(o)"]
    lines += [f"define d{i}(o) := d{i - 1}(o) and not d{i - 1}(o)" for i in range(1, 60)]
    lines.append("rule r: exists o: d59(o) => stop")
    with pytest.raises(RuleError, match=r"double.rules:14:8: define 'd11' written out with the defines it uses has "
                                        r"[0-9,]+ parts \(at most 10,000\)"):
        parse_rules("\n".join(lines), "double.rules")


def test_a_long_cycle_of_defines_is_found_without_recursion():
    lines = ["pred car(o)", "actions stop, go"]
    lines += [f"define d{i}(o) := d{(i + 1) % 900}(o)" for i in range(900)]
    with pytest.raises(RuleError, match="recursive define: d0 -> d1 -> d2 -> "):
        parse_rules("\n".join(lines), "cycle.rules")


def test_includes_nest_at_most_32_files_deep(tmp_path):
    for index in range(40):
        (tmp_path / f"f{index}.rules").write_text(f'include "f{index + 1}.rules"\npred p{index}\n')
    (tmp_path / "f40.rules").write_text("actions go\n")
    with pytest.raises(RuleError, match="f32.rules:1:1: includes nest more than 32 files deep"):
        load_rules(tmp_path / "f0.rules")
