"""The ``orps`` command line: argument parsing and the one place that prints and exits.

``main(argv)`` returns the exit code; each subcommand lives in its own module.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from .. import __version__
from ..errors import OrpsError
from ..text import printable

# Each subcommand and its module, in the order ``orps --help`` lists them. A command line that names
# one imports only its module (``orps test`` never loads the listener, the stress loop or the search):
# the CLI's start-up is most of a small ``orps test``'s time.
COMMANDS = {"test": "test_cmd", "refine": "refine_cmd", "listen": "listen_cmd", "stress": "stress_cmd",
            "serve": "serve_cmd", "add": "add_cmd"}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orps", description="Execution-grounded code refinement (ORPS).")
    parser.add_argument("--version", action="version", version=f"orps {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    named = _named_command(sys.argv[1:] if argv is None else argv)
    for name, module in COMMANDS.items():
        if named is None or name == named:
            importlib.import_module(f".{module}", __name__).register(commands)
    return parser


def _named_command(argv: Sequence[str]) -> str | None:
    """The subcommand the command line names (its first word that is not an option), if it is one."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except OrpsError as exc:  # may quote a run (the sandbox's log) or a file: escaped, like every output
        print(printable(f"error: {exc}"), file=sys.stderr)
        if exc.hint:
            print(printable(f"hint: {exc.hint}"), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # our bug: one line, unless --debug
        if args.debug:
            traceback.print_exc()
        print(printable(f"error: internal error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        print("hint: rerun with --debug for the traceback, and report it", file=sys.stderr)
        return 70


def entrypoint() -> None:
    sys.exit(main())
