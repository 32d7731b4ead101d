"""The arguments that say which file, which tests and which interpreter: the same for every
subcommand that runs tests."""

from __future__ import annotations

import argparse
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


def load(args: argparse.Namespace) -> Problem:
    return load_problem(args.file, tests=args.tests, function=args.function, python=args.python,
                        keyword=args.keyword)
