"""The command line frame: exit codes and one-line errors."""
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge import cli
from bridge.commands import rules as rules_command

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_command_exits_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["frobnicate"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "invalid choice" in err


def test_user_error_is_one_line_exit_1(monkeypatch, capsys):
    def failing(args):
        raise ValueError("configs/x.yaml:3: unknown key 'world.nois'. Did you mean 'noise'?")

    parser = cli.build_parser()
    args = parser.parse_args(["generate", "--out", "x"])
    monkeypatch.setattr(cli, "build_parser", lambda: _FixedParser(args, failing))
    assert cli.main(["generate"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "nesy generate: error: configs/x.yaml:3: unknown key 'world.nois'. Did you mean 'noise'?"


def test_debug_shows_traceback(monkeypatch):
    def failing(args):
        raise ValueError("bad value")

    parser = cli.build_parser()
    args = parser.parse_args(["--debug", "generate", "--out", "x"])
    monkeypatch.setattr(cli, "build_parser", lambda: _FixedParser(args, failing))
    with pytest.raises(ValueError, match="bad value"):
        cli.main(["--debug", "generate"])


def test_internal_error_hints_at_debug(monkeypatch, capsys):
    def failing(args):
        raise RuntimeError("boom")

    parser = cli.build_parser()
    args = parser.parse_args(["generate", "--out", "x"])
    monkeypatch.setattr(cli, "build_parser", lambda: _FixedParser(args, failing))
    assert cli.main(["generate"]) == 1
    assert "RuntimeError: boom (run with --debug for the traceback)" in capsys.readouterr().err


def test_console_script_module_runs():
    result = subprocess.run([sys.executable, "-m", "bridge", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "nesy" in result.stdout


def test_version_is_the_package_metadata(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"nesy {importlib.metadata.version('nesy')}"


def exit_code(argv) -> int:
    """The exit code of ``nesy argv``: argparse's, or what ``main`` returned."""
    try:
        return cli.main(argv)
    except SystemExit as exit_info:
        return exit_info.code


#: For each subcommand, arguments that are wrong in themselves: each must exit 2 before any work.
BAD_ARGUMENTS = {
    "generate": [["--out", "x", "--num-scenes", "0"], ["--out", "x", "--fps", "0"], ["--out", "x", "--seed", "-1"],
                 ["--out", "x", "--config", "no-such-config"]],
    "demo": [["--frames", "1000"], ["--frames", "0"], ["--seed", "-3"], ["--config", "no-such-config"]],
    "train": [["no-such-config"], ["--config", "no-such-config"], [], ["drive", "--epochs", "0"]],
    "evaluate": [["--generate", "0"], ["--generate", "5", "--batch-size", "0"],
                 ["--pipeline", "--generate", "5", "--episode-length", "0"],
                 ["--pipeline", "--generate", "5", "--warmup-frames", "-1"],
                 ["--pipeline", "--generate", "5", "--config", "no-such-config"]],
    "export": [["--format", "pdf"]],
    "rules explain": [["x.rules", "--facts", "f.json", "--low", "1.5"],
                      ["x.rules", "--facts", "f.json", "--time-budget-ms", "0"]],
    "rules check": [["x.rules", "--objects", "-1"], ["x.rules", "--timeout-ms", "0"]],
    "run": [["--generate", "0", "--out", "o"], ["--generate", "1", "--out", "o", "--seed", "-1"],
            ["--generate", "1", "--out", "o", "--config", "no-such-config"]],
    "plan": [["--maneuver", "x.json", "--horizon", "0"], ["--maneuver", "x.json", "--step", "0"],
             ["--map", "x.json", "--from", "a"]],
    "calibrate": [["--scenes", "0"], ["--seed", "-1"], ["--config", "no-such-config"]],
}


def test_every_subcommand_is_walked():
    commands = set(cli.COMMANDS) - {"rules"}
    commands |= {"rules explain"} | {f"rules {name.removeprefix('rules_')}"
                                     for name in rules_command.SUBCOMMAND_MODULES}
    assert commands == set(BAD_ARGUMENTS)


@pytest.mark.parametrize("command, argv", [(command, argv) for command, cases in BAD_ARGUMENTS.items()
                                           for argv in cases + [["--no-such-option"]]])
def test_a_bad_argument_exits_2_with_one_line(command, argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)   # nothing may be written, and no file here is a config
    assert exit_code([*command.split(), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"nesy {command.split()[0]}") and "error: " in err
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_config_name_lists_the_shipped_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert exit_code(["run", "--config", "drvie", "--generate", "1", "--out", "o"]) == 2
    err = capsys.readouterr().err
    assert "drvie: no such config file" in err and "Did you mean 'drive'?" in err and "Shipped configs: drive" in err


def test_train_takes_its_config_as_argument_or_option(tmp_path, monkeypatch, capsys):
    from bridge.commands.train import experiment_file

    monkeypatch.chdir(tmp_path)
    parser = cli.build_parser()
    shipped = ROOT / "configs" / "drive.yaml"
    assert experiment_file(parser.parse_args(["train", "drive"])).resolve() == shipped
    assert experiment_file(parser.parse_args(["train", "--config", "drive"])).resolve() == shipped
    other = tmp_path / "other.yaml"
    other.write_text("")
    assert exit_code(["train", "drive", "--config", str(other)]) == 2
    assert "the experiment file is given twice" in capsys.readouterr().err


def test_a_closed_stdout_pipe_ends_quietly():
    """``nesy ... --json | head -1`` where head has already left: no "Broken pipe" on stderr, exit 0."""
    read_end, write_end = os.pipe()
    os.close(read_end)   # the reader is gone before the first byte is written
    command = [sys.executable, "-m", "bridge", "rules", "explain", "configs/rules/traffic.rules",
               "--facts", "configs/rules/examples/traffic.facts.json", "--json"]
    try:
        result = subprocess.run(command, stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=300)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (0, "")


class _FixedParser:
    def __init__(self, args, handler):
        args.handler = handler
        self.args = args

    def parse_args(self, argv):
        return self.args
