"""``nesy rules check FILE [--objects K] [--json] [--out DIR]``: prove a rule file sound for every scene, or show one that breaks it.

The rules are grounded over K symbolic objects (:mod:`symbolic.verify.checker`). With
``--out DIR`` each example scene is also written there as a facts file, so it can be
replayed with ``nesy rules explain FILE --facts SCENE`` and kept as a regression test;
without it the command writes no file.

Exit codes: 0 no errors or warnings (notes allowed; with ``--fail-on error``
warnings too), 1 problems found, 2 bad arguments or a rule file that cannot be
read, does not parse or does not type-check.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(rules_subparsers) -> None:
    """Add ``nesy rules check``."""
    parser = rules_subparsers.add_parser(
        "check", help="verify a rule file for every scene of up to K objects",
        description="Prove that a rule file leaves an action in every scene of up to K objects and has no "
                    "dead, redundant or conflicting rules and no ties; print an example scene for each "
                    "problem, and with --out write it as a facts file (docs/verification.md).")
    parser.add_argument("file", metavar="FILE", help="the rule file, e.g. configs/rules/traffic.rules")
    parser.add_argument("--objects", type=_num_objects, default=3, metavar="K",
                        help="the most objects in a scene (default 3; scenes with fewer are covered too)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--html", metavar="PATH", help="also write the report as an HTML page")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="write each example scene as a facts file in DIR (default: write no file)")
    parser.add_argument("--fail-on", choices=("error", "warning"), default="warning",
                        help="the least severe finding that makes the exit code 1 (default warning)")
    parser.add_argument("--timeout-ms", type=_positive("--timeout-ms"), default=10_000, metavar="MS",
                        help="z3 time limit per question in milliseconds (default 10000)")
    parser.add_argument("--growth-objects", type=_positive("--growth-objects"), default=100, metavar="N",
                        help="warn about rules whose grounding at N objects (default 100) ...")
    parser.add_argument("--growth-bound", type=_positive("--growth-bound"), default=100_000, metavar="M",
                        help="... exceeds M instances (default 100000; objects ** k for k nested quantified variables)")
    parser.add_argument("-I", "--include-path", action="append", default=[], metavar="DIR",
                        help="folder searched for included rule files (repeatable)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from symbolic.language.errors import RuleError
    from symbolic.language.loader import load_rules
    from symbolic.verify.checker import check_rules, write_scene, write_text
    from symbolic.verify.report import report_to_html

    try:
        ruleset = load_rules(args.file, args.include_path)
    except RuleError as error:
        print(f"nesy rules check: error: {error}", file=sys.stderr)
        return 2
    try:
        report = check_rules(ruleset, args.objects, timeout_ms=args.timeout_ms, progress=sys.stderr.isatty(),
                             growth_objects=args.growth_objects, growth_bound=args.growth_bound)
    except RuleError as error:
        print(f"nesy rules check: error: {error}", file=sys.stderr)
        return 2
    scene_files = {}
    if args.out is not None:
        for index, finding in enumerate(report.findings):
            if finding.scene is not None:
                path = Path(args.out) / f"{index + 1:02d}-{finding.kind}.facts.json"
                scene_files[index] = str(write_scene(finding.scene, path))
    if args.html:
        write_text(report_to_html(report, scene_files), args.html)
    if args.json:
        data = report.to_json()
        for index, finding in enumerate(data["findings"]):
            finding["scene_file"] = scene_files.get(index)
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(report.format(scene_files))
        if scene_files:
            first = next(iter(scene_files.values()))
            print(f"\nreplay a scene: nesy rules explain {args.file} --facts {first}")
        elif any(finding.scene is not None for finding in report.findings):
            print("\nwrite the example scenes as facts files with --out DIR")
    failing = report.errors + (report.warnings if args.fail_on == "warning" else [])
    return 1 if failing else 0


def _num_objects(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"--objects must be a non-negative integer. Received: {text!r}")
    return value


def _positive(flag: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"{flag} must be a positive integer. Received: {text!r}")
        return value
    return parse
