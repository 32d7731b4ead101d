"""``orps test FILE``: run a solution's tests in the sandbox and show verdicts and measurements.

``orps test FILE::NAME`` (or ``--function NAME``) names the target: a function, or a method as
``Class.method``; its doctests are its tests where there is no tests file.

``--count-bytecodes`` runs each test a second time with its bytecode instructions counted: a cost
that is the same on every run of the same code, where CPU time varies. The counted run is traced
(10-40x slower), so the table's times and memory stay those of the first, untraced run.

Exit codes: 0 all pass, 1 some fail, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ..file_run import FileRun
from ..problem import Problem, only_tests
from ..report import format_suite, suite_document
from ..results import ExecutionResult, SuiteResult
from . import problem_args
from .fileref import split_target
from .progress import Progress


def register(commands: Any) -> None:
    parser = commands.add_parser("test", help="run a solution's tests", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    problem_args.add(parser, function_help="the function under test (NAME or Class.method)")
    parser.add_argument("-t", "--test", dest="only", metavar="ID", action="append",
                        help="run only this test (its number or id as the table shows it; repeatable)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--count-bytecodes", dest="count_bytecodes", action="store_true",
                        help="also count each test's bytecode instructions, in a second (traced, slower) run")
    parser.set_defaults(handler=lambda args: run(split_target(parser, args)))


def run(args: argparse.Namespace) -> int:
    problem = problem_args.load(args)
    if args.only:
        problem = only_tests(problem, args.only)
    progress = Progress(sys.stderr)
    try:
        suite = asyncio.run(_test(problem, None if args.json else progress, args.count_bytecodes))
    finally:
        progress.close()
    if args.json:
        print(json.dumps(suite_document(problem, suite), indent=2))
    else:
        print(format_suite(problem, suite))
    return 0 if suite.all_passed else 1


async def _test(problem: Problem, progress: Progress | None, count_bytecodes: bool) -> SuiteResult:
    def on_result(done: int, total: int, result: ExecutionResult) -> None:
        if progress is not None:
            progress.show(f"[{done}/{total}] test {result.test_id}: {result.verdict.value}", transient=True)

    async with FileRun(problem.path) as run:
        return await run.test(problem, on_result=on_result, count_bytecodes=count_bytecodes)
