"""The command line frame: exit codes and one-line errors."""
import subprocess
import sys

import pytest

from bridge import cli


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


class _FixedParser:
    def __init__(self, args, handler):
        args.handler = handler
        self.args = args

    def parse_args(self, argv):
        return self.args
