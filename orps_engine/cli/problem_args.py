"""The arguments that say which file, which tests and which interpreter: the same for every
subcommand that runs tests."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from ..problem import Problem
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


def load(args: argparse.Namespace) -> Problem:
    problem = load_problem(args.file, tests=args.tests, function=args.function, python=args.python,
                           keyword=args.keyword)
    return replace(problem, allow_subprocesses=True) if args.allow_subprocesses else problem
