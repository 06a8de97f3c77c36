"""Config validation: every mistake is one line naming the file, line and key."""
from dataclasses import dataclass, field

import pytest

from bridge.config import build_dataclass, load_yaml
from bridge.errors import ConfigError


@dataclass
class Inner:
    noise: float = field(default=0.1, metadata={"range": (0.0, 1.0)})
    preset: str = field(default="default", metadata={"choices": ("easy", "default", "hard")})


@dataclass
class Outer:
    seed: int = 0
    enabled: bool = True
    sizes: tuple[int, int] = (1, 4)
    rules: str = field(default="", metadata={"path": "file"})
    inner: Inner = field(default_factory=Inner)
    speeds: dict[str, float] = field(default_factory=dict, metadata={"keys": ("car", "truck"), "range": (0.0, 50.0)})


def build(tmp_path, text):
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    data, lines = load_yaml(path)
    return build_dataclass(Outer, data, source=str(path), lines=lines, base_dir=tmp_path)


def test_valid_file_builds_nested_sections(tmp_path):
    (tmp_path / "a.rules").write_text("")
    config = build(tmp_path, "seed: 3\nsizes: [2, 5]\nrules: a.rules\ninner:\n  noise: 0.5\n")
    assert config.seed == 3 and config.sizes == (2, 5) and config.inner.noise == 0.5
    assert config.rules == str(tmp_path / "a.rules")


def test_unknown_key_names_line_and_suggests(tmp_path):
    with pytest.raises(ConfigError, match=r"exp.yaml:3: unknown key 'inner.nois'. Did you mean 'noise'\?"):
        build(tmp_path, "seed: 1\ninner:\n  nois: 0.5\n")


def test_unknown_key_without_close_match_lists_options(tmp_path):
    with pytest.raises(ConfigError, match="Expected one of: enabled, inner, rules, seed, sizes, speeds"):
        build(tmp_path, "zzz: 1\n")


def test_wrong_type_says_received(tmp_path):
    with pytest.raises(ConfigError, match=r"exp.yaml:1: `seed` must be an integer. Received: seed='three'"):
        build(tmp_path, "seed: three\n")


def test_bool_is_not_an_integer(tmp_path):
    with pytest.raises(ConfigError, match="`seed` must be an integer"):
        build(tmp_path, "seed: true\n")


def test_out_of_range(tmp_path):
    with pytest.raises(ConfigError, match=r"`inner.noise` must be in \[0.0, 1.0\]. Received: inner.noise=1.5"):
        build(tmp_path, "inner:\n  noise: 1.5\n")


def test_bad_choice_suggests(tmp_path):
    with pytest.raises(ConfigError, match="must be one of easy, default, hard.*Did you mean 'hard'"):
        build(tmp_path, "inner:\n  preset: hrd\n")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"`rules` names a file that does not exist: .*nope.rules"):
        build(tmp_path, "rules: nope.rules\n")


def test_wrong_tuple_length(tmp_path):
    with pytest.raises(ConfigError, match=r"`sizes` must be a list of 2 values"):
        build(tmp_path, "sizes: [1, 2, 3]\n")


def test_section_must_be_mapping(tmp_path):
    with pytest.raises(ConfigError, match=r"`inner` must be a mapping"):
        build(tmp_path, "inner: 3\n")


def test_invalid_yaml_points_at_line(tmp_path):
    with pytest.raises(ConfigError, match=r"exp.yaml:2:\d+: invalid YAML"):
        build(tmp_path, "seed: 1\n  bad: [\n")


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_yaml(tmp_path / "absent.yaml")


def test_top_level_must_be_mapping(tmp_path):
    with pytest.raises(ConfigError, match="expected a mapping of sections"):
        build(tmp_path, "- 1\n- 2\n")


def test_mapping_checks_each_key_and_value(tmp_path):
    assert build(tmp_path, "speeds: {car: 20, truck: 15.5}\n").speeds == {"car": 20.0, "truck": 15.5}
    with pytest.raises(ConfigError, match=r"exp.yaml:1: `speeds` has an unknown key 'cra'. Did you mean 'car'\?"):
        build(tmp_path, "speeds: {cra: 20}\n")
    with pytest.raises(ConfigError, match=r"`speeds.truck` must be in \[0.0, 50.0\]. Received: speeds.truck=90.0"):
        build(tmp_path, "speeds:\n  car: 20\n  truck: 90\n")
    with pytest.raises(ConfigError, match=r"`speeds.car` must be a number. Received: speeds.car='fast'"):
        build(tmp_path, "speeds: {car: fast}\n")
    with pytest.raises(ConfigError, match=r"`speeds` must be a mapping"):
        build(tmp_path, "speeds: [1, 2]\n")


# ---------------------------------------------------------------- hostile YAML

def load(tmp_path, text):
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return load_yaml(path)


def test_an_alias_bomb_is_refused_before_it_grows(tmp_path):
    """Nine levels of ten aliases each: 10**10 nodes once expanded (it used to reach gigabytes)."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    with pytest.raises(ConfigError, match=r"exp\.yaml:4:\d+: aliases expand the document past 10000 nodes"):
        load(tmp_path, "\n".join(lines) + "\n")


def test_a_few_aliases_and_merges_still_load(tmp_path):
    data, lines = load(tmp_path, "base: &b {seed: 1, noise: 0.2}\nworld:\n  <<: *b\n  seed: 2\nother: *b\n")
    assert data["world"] == {"seed": 2, "noise": 0.2} and data["other"] == {"seed": 1, "noise": 0.2}
    assert lines["world.seed"] == 4


@pytest.mark.parametrize("text, message", [
    ("world:\n  seed: 1\npipeline: {}\nworld:\n  seed: 2\n", r"exp\.yaml:4:1: duplicate key 'world' \(first given on line 1\)"),
    ("world:\n  seed: 1\n  seed: 2\n", r"exp\.yaml:3:3: duplicate key 'seed' \(first given on line 2\)"),
])
def test_a_key_given_twice_is_refused_with_its_line(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text)


@pytest.mark.parametrize("text, message", [
    ("world: &w\n  x: *w\n", r"exp\.yaml:2:6: alias \*w refers to the collection that holds it"),
    ("&w [*w]\n", r"exp\.yaml:1:5: alias \*w refers"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", r"exp\.yaml:1(:\d+)?: nested more than 20 levels deep"),
    ("world:\n  seed: 1" + "0" * 5000 + "\n", r"exp\.yaml: invalid YAML: an integer has more than \d+ digits"),
])
def test_recursive_aliases_deep_nesting_and_huge_numbers_are_config_errors(tmp_path, text, message):
    """These used to escape as RecursionError or a ValueError naming no file."""
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text)


@pytest.mark.parametrize("text, key", [("inner:\n  noise: .nan\n", "inner.noise"),
                                        ("seed: 1\nspeeds:\n  car: .inf\n", "speeds.car"),
                                        ("sizes: [1, -.inf]\n", r"sizes\[1\]")])
def test_numbers_must_be_finite(tmp_path, text, key):
    with pytest.raises(ConfigError, match=rf"exp\.yaml:\d+: `{key}` must be a finite number"):
        build(tmp_path, text)
