"""Every code block of README.md runs as written.

Python blocks are executed, each in a fresh namespace (a block defines what
it uses). Every ``nesy`` line of a bash block is parsed by the command line's
own parser, and the cheap ones are run; ``make`` lines name Makefile targets.
The rule-language block loads as a rule file. ``text`` blocks are diagrams.
"""
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
LANGUAGES = {"python", "bash", "rules", "text"}

#: ``nesy`` lines that run in seconds; the others (training, thousands of scenes) are parsed only.
RUN_AS_WRITTEN = ("nesy --version", "nesy demo --frames 3", "nesy run --config drive --generate 20",
                  "nesy rules explain", "nesy rules check", "nesy plan")
#: exit codes a command may end with as written: ``rules check`` exits 1 when it reports findings.
EXIT_CODES = {"nesy rules check": (0, 1)}
#: Python blocks slower than 30 s here.
SLOW_PYTHON = ("Detector(DetectorConfig()).fit",)


@dataclass
class Block:
    language: str
    code: str
    line: int

    def __str__(self):
        return f"README.md:{self.line}:{self.language}"


def code_blocks() -> list[Block]:
    text = README.read_text()
    blocks = []
    for match in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.S | re.M):
        line = text.count("\n", 0, match.start()) + 1
        blocks.append(Block(match.group(1), match.group(2), line))
    return blocks


def blocks_of(language: str) -> list[Block]:
    return [b for b in code_blocks() if b.language == language]


def command_lines(block: Block) -> list[list[str]]:
    """Each command of a bash block as arguments, comments removed."""
    return [words for line in block.code.splitlines() if (words := shlex.split(line, comments=True))]


def nesy_arguments(words: list[str]) -> list[str] | None:
    """The arguments after ``nesy`` (or ``torchrun ... -m bridge``), None for another program."""
    if words[0] == "nesy":
        return words[1:]
    if words[0] == "torchrun" and "-m" in words:
        at = words.index("-m")
        return words[at + 2:] if words[at + 1] == "bridge" else None
    return None


@pytest.fixture
def readme_folder(tmp_path, monkeypatch):
    """A working folder where the README's relative paths (``configs/...``) name the repository's files."""
    (tmp_path / "configs").symlink_to(ROOT / "configs", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_block_names_its_language():
    blocks = code_blocks()
    assert blocks and {b.language for b in blocks} <= LANGUAGES, [str(b) for b in blocks if b.language not in LANGUAGES]


@pytest.mark.parametrize("block", [pytest.param(b, id=str(b), marks=[pytest.mark.slow] if any(
    s in b.code for s in SLOW_PYTHON) else []) for b in blocks_of("python")])
def test_python_block_runs(block, readme_folder, capsys):
    exec(compile(block.code, str(block), "exec"), {"__name__": "__readme__"})


def test_why_not_prints_the_sentence_the_report_shows(readme_folder):
    from bridge.pipeline import Pipeline
    from perception.world import generate_episode, preset_config

    pipeline = Pipeline.from_config("drive", oracle=True)
    results = list(pipeline.stream(generate_episode(preset_config("default"), seed=1, num_frames=20)))
    why_nots = [r.decision.why_not["go"] for r in results if "go" in r.decision.why_not]
    assert why_nots and all(str(w) == w.text and w.text.startswith("go") for w in why_nots)


def test_rules_block_loads_as_a_rule_file(readme_folder):
    from bridge.shipped import shipped_path
    from symbolic.language.loader import load_rules

    [block] = blocks_of("rules")
    path = readme_folder / "readme.rules"
    path.write_text(block.code)
    ruleset = load_rules(path, [shipped_path("rules")])
    assert {"red_light", "vulnerable_nearby"} <= {rule.name for rule in ruleset.rules}


def test_every_nesy_line_parses(readme_folder):
    from bridge.cli import build_parser

    lines = [nesy_arguments(words) for b in blocks_of("bash") for words in command_lines(b)]
    lines = [argv for argv in lines if argv is not None and argv != ["--version"]]
    assert len(lines) >= 10
    for argv in lines:
        build_parser().parse_args(argv)   # an unknown flag or a bad value exits 2 here


def test_make_lines_name_makefile_targets():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    for block in blocks_of("bash"):
        for words in command_lines(block):
            if words[0] == "make":
                assert set(words[1:]) <= targets


@pytest.mark.parametrize("command", [pytest.param(" ".join(words), id=" ".join(words)[:60])
                                     for b in blocks_of("bash") for words in command_lines(b)
                                     if " ".join(words).startswith(RUN_AS_WRITTEN)])
def test_cheap_nesy_line_runs(command, readme_folder, capsys):
    from bridge.cli import main

    started = time.perf_counter()
    try:
        code = main(shlex.split(command)[1:])
    except SystemExit as exit_info:   # --version
        code = exit_info.code
    expected = next((codes for prefix, codes in EXIT_CODES.items() if command.startswith(prefix)), (0,))
    assert code in expected, capsys.readouterr().err
    assert capsys.readouterr().out.strip()
    assert time.perf_counter() - started < 120
