"""``nesy rules``: work with rule files.

``nesy rules explain FILE --facts F [--json]`` decides one frame and says why.
Further ``nesy rules`` subcommands live in their own modules, named in
:data:`SUBCOMMAND_MODULES`; each exposes ``register(rules_subparsers)``.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from bridge.commands.arguments import float_in_range
from bridge.errors import UsageError
from symbolic.files import write_text_atomic

#: modules ``bridge.commands.<name>`` that add more ``nesy rules`` subcommands.
SUBCOMMAND_MODULES: tuple[str, ...] = ("rules_check",)


def register(subparsers) -> None:
    """Add ``nesy rules`` and its subcommands."""
    parser = subparsers.add_parser("rules", help="check rule files and explain decisions",
                                   description="Work with rule files (configs/rules/*.rules).")
    rules_subparsers = parser.add_subparsers(dest="rules_command", metavar="SUBCOMMAND", parser_class=type(parser))
    rules_subparsers.required = True
    register_explain(rules_subparsers)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(f"bridge.commands.{name}").register(rules_subparsers)


def register_explain(rules_subparsers) -> None:
    """Add ``nesy rules explain``."""
    parser = rules_subparsers.add_parser(
        "explain", help="decide one frame from a facts file and explain why",
        description="Decide the action for the facts in a JSON file and print the rules that fired "
                    "and why each other action was rejected (docs/rules.md describes both formats).")
    parser.add_argument("file", metavar="FILE", help="the rule file, e.g. configs/rules/traffic.rules")
    parser.add_argument("--facts", required=True, metavar="F", help="facts JSON file of one frame")
    parser.add_argument("--json", action="store_true", help="print the decision as JSON")
    parser.add_argument("--html", metavar="PATH", help="also write the explanation as an HTML page")
    parser.add_argument("--likely", action="store_true",
                        help="read facts with confidence >= 0.5 as true instead of deciding robustly")
    parser.add_argument("--repair", action="store_true",
                        help="first flip the least probable facts that break the file's constraints")
    parser.add_argument("--low", type=float_in_range(0.0, 1.0), default=0.2, help="confidence at or below which a fact is false")
    parser.add_argument("--high", type=float_in_range(0.0, 1.0), default=0.8, help="confidence at or above which a fact is true")
    parser.add_argument("--time-budget-ms", type=float_in_range(0.1, 60000.0), default=1000.0,
                        help="time bound of the decision in milliseconds (default 1000)")
    parser.add_argument("-I", "--include-path", action="append", default=[], metavar="DIR",
                        help="folder searched for included rule files (repeatable)")
    parser.set_defaults(handler=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    from symbolic.language.loader import load_rules
    from symbolic.reasoning.explain import decision_to_html, format_decision
    from symbolic.reasoning.facts import FactBase
    from symbolic.reasoning.reasoner import Reasoner

    if not args.low < args.high:
        raise UsageError(f"--low must be below --high. Received: --low {args.low} --high {args.high}")
    ruleset = load_rules(args.file, args.include_path)
    facts = FactBase.from_file(args.facts)
    ruleset.validate_facts(facts, source=args.facts)
    reasoner = Reasoner(ruleset, robust=not args.likely, low=args.low, high=args.high,
                        time_budget_ms=args.time_budget_ms, repair=args.repair)
    decision = reasoner.decide(facts, explain=True)
    if args.html:
        write_text_atomic(Path(args.html), decision_to_html(decision, title=f"{args.file}: {args.facts}"))
    if args.json:
        json.dump(decision.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_decision(decision))
    return 0


