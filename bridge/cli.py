"""The ``nesy`` command line.

Each subcommand lives in ``bridge/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a
function ``handler(args) -> int``. Command modules import heavy packages
(torch, z3) inside their handlers, so ``nesy --help`` stays fast.

Exit codes: 0 success, 1 an error in a user file or value (one line on
stderr; ``--debug`` shows the traceback), 2 bad command-line arguments
(one line: an unknown option, a value out of range, a config file that
neither exists nor names a shipped config). A reader that stops reading
early (``nesy ... --json | head -1``) ends the command quietly.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys
import warnings

from bridge.errors import UsageError

COMMANDS = ("generate", "demo", "train", "evaluate", "export", "rules", "run", "plan", "calibrate")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2; a subcommand names itself in them."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def parse_known_args(self, args=None, namespace=None):
        namespace, extra = super().parse_known_args(args, namespace)
        if extra and self._subparsers is None:   # a subcommand's own parser: it reports its unknown arguments
            self.error(f"unrecognized arguments: {' '.join(extra)}")
        return namespace, extra


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand registered.

    Example:
        >>> build_parser().parse_args(["--debug", "generate", "--out", "x"]).debug
        True
    """
    parser = _Parser(prog="nesy", description="A neural network sees, a logic engine decides.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in COMMANDS:
        importlib.import_module(f"bridge.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``nesy`` with ``argv`` and return its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning   # library warnings as one line, restored on return
            code = int(args.handler(args) or 0)
        sys.stdout.flush()   # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # The reader left (`| head`): send what Python still flushes at exit to
        # devnull, so no "Broken pipe" error is printed.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except UsageError as error:
        print(f"nesy {args.command}: error: {error} (see 'nesy {args.command} --help')", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nesy: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one line for the user, the traceback on --debug
        if args.debug:
            raise
        print(f"nesy {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 1


def package_version() -> str:
    """The installed ``nesy`` package's version, from its metadata.

    Example:
        >>> package_version()[0].isdigit()
        True
    """
    try:
        return importlib.metadata.version("nesy")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A library warning as the command line shows it: ``nesy: warning: <message>``."""
    print(f"nesy: warning: {message}", file=sys.stderr if file is None else file)


def _one_line(error: BaseException) -> str:
    """The message for the user: the error's own text for bad user input
    (rule errors keep their source line and caret), type and a hint otherwise."""
    text = str(error).strip() or type(error).__name__
    if isinstance(error, (ValueError, TypeError, OSError, LookupError)):
        return text
    return f"{type(error).__name__}: {text.splitlines()[0]} (run with --debug for the traceback)"

if __name__ == "__main__":
    sys.exit(main())
