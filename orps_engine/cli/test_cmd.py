"""``orps test FILE``: run a solution's tests in the sandbox and show verdicts and measurements.

Exit codes: 0 all pass, 1 some fail, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..judge import run_tests
from ..problem import load_problem
from ..report import format_suite, suite_document
from ..results import ExecutionResult


def register(commands: Any) -> None:
    parser = commands.add_parser("test", help="run a solution's tests", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, help="the solution (.py)")
    parser.add_argument("--tests", type=Path, metavar="PATH",
                        help="tests file (JSON) or folder of *.in/*.out; default: FILE's sidecar, doctests, test/")
    parser.add_argument("--function", metavar="NAME", help="the function under test (doctests)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    problem = load_problem(args.file, tests=args.tests, function=args.function)
    progress = _Progress(len(problem.tests)) if not args.json and sys.stderr.isatty() else None
    suite = run_tests(problem, on_result=progress.update if progress else None)
    if progress:
        progress.done()
    if args.json:
        print(json.dumps(suite_document(problem, suite), indent=2))
    else:
        print(format_suite(problem, suite))
    return 0 if suite.all_passed else 1


class _Progress:
    def __init__(self, total: int) -> None:
        self.total = total

    def update(self, done: int, total: int, result: ExecutionResult) -> None:
        sys.stderr.write(f"\r[{done}/{total}] test {result.test_id}: {result.verdict.value}    ")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r" + " " * 60 + "\r")
        sys.stderr.flush()
