"""The arguments that say which file, which tests and which interpreter: the same for every
subcommand that runs tests."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..problem import Overrides, Problem, with_overrides
from ..project import load_problem
from .fileref import FILE_HELP


def add(parser: argparse.ArgumentParser, *, function_help: str) -> None:
    parser.add_argument("file", type=Path, metavar="FILE", help=FILE_HELP)
    parser.add_argument("--tests", metavar="PATH",
                        help="a tests file (JSON), a folder of *.in/*.out, or a pytest file, folder or node id; "
                             "default: FILE's sidecar, else its doctests and the project's tests, else test/")
    parser.add_argument("--function", metavar="NAME", help=function_help)
    parser.add_argument("--python", metavar="PATH",
                        help="the interpreter that runs the code and its tests (default: the one running orps)")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", help="only the project tests pytest's -k EXPR selects")
    parser.add_argument("--allow-subprocesses", dest="allow_subprocesses", action="store_true",
                        help="let the code under test start processes (refused by default, so that a run's CPU "
                             "time and memory are all of its work; with this, each child is counted apart)")
    limits = parser.add_argument_group("limits and comparison (over the tests' own)")
    limits.add_argument("--time-limit", dest="time_limit", metavar="MS", type=float,
                        help="CPU time per test, in milliseconds")
    limits.add_argument("--memory-limit", dest="memory_limit", metavar="MB", type=float,
                        help="memory per test, in megabytes (a program: its peak resident size, as judges count it)")
    limits.add_argument("--output-limit", dest="output_limit", metavar="MB", type=float,
                        help="a program's output, in megabytes (default 64)")
    limits.add_argument("--compare", metavar="MODE",
                        help="how a program's output is compared: tokens, lines, exact or float[:TOL]")


_FLAGS = {"time_limit_ms": "--time-limit", "memory_limit_mb": "--memory-limit", "output_limit_mb": "--output-limit",
          "compare": "--compare", "allow_subprocesses": "--allow-subprocesses"}


def load(args: argparse.Namespace) -> Problem:
    problem = load_problem(args.file, tests=args.tests, function=args.function, python=args.python,
                           keyword=args.keyword)
    overrides = Overrides(time_limit_ms=args.time_limit, memory_limit_mb=args.memory_limit,
                          output_limit_mb=args.output_limit, compare=args.compare,
                          allow_subprocesses=True if args.allow_subprocesses else None)
    return with_overrides(problem, overrides, _FLAGS.__getitem__, "the command line")
