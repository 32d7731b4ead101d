"""``orps add FILE``: add a stdin/stdout test to FILE's tests file (``FILE_STEM.tests.json``, made in
Competitive Companion's format if there is none), from standard input or the clipboard.

The text is the test's input, then a line ``---``, then its expected output (or give the expected
output with ``--expected-file``). ``orps add sol.py < case.txt``; ``orps add sol.py --clipboard``.

Exit codes: 0 added, 2 bad input.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..problem.sidecar_edit import add_test
from ..text import printable

SEPARATOR = "---"
# Clipboard readers, the first found on PATH is used.
_CLIPBOARD = (["wl-paste", "--no-newline"], ["xclip", "-selection", "clipboard", "-o"],
              ["xsel", "--clipboard", "--output"],
              ["pbpaste"])


def register(commands: Any) -> None:
    parser = commands.add_parser("add", help="add a stdin/stdout test to a solution's tests file",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, metavar="FILE", help="the solution (its tests file is FILE_STEM.tests.json)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--clipboard", action="store_true", help="read the test from the clipboard, not stdin")
    source.add_argument("--input-file", dest="input_file", type=Path, metavar="PATH", help="the test's input")
    parser.add_argument("--expected-file", dest="expected_file", type=Path, metavar="PATH",
                        help="the expected output (else it follows the input after a line ---)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InputError("file not found", path=args.file, hint="pass the solution's .py file")
    text = _read_text(args)
    input_text, expected = _split(text, _read_file(args.expected_file) if args.expected_file else None)
    change = add_test(args.file, input_text, expected)
    made = f" (created {change.path.name})" if change.created else ""
    print(printable(f"added test {change.number} to {change.path}{made}: {change.total} test(s) now"))
    return 0


def _read_text(args: argparse.Namespace) -> str:
    if args.input_file is not None:
        return _read_file(args.input_file)
    if args.clipboard:
        return _clipboard()
    if sys.stdin.isatty():
        print(f"paste the input, a line {SEPARATOR}, then the expected output; end with Ctrl+D", file=sys.stderr)
    return sys.stdin.read()


def _split(text: str, expected: str | None) -> tuple[str, str]:
    """``input\\n---\\nexpected`` (the separator alone on its line), or all of it the input when the
    expected output comes from a file."""
    if expected is not None:
        return text, expected
    lines = text.splitlines(keepends=True)
    marks = [i for i, line in enumerate(lines) if line.strip() == SEPARATOR]
    if not marks:
        raise InputError(f"no expected output: put it after a line {SEPARATOR}, or pass --expected-file PATH")
    if len(marks) > 1:
        raise InputError(f"{len(marks)} lines {SEPARATOR}: one separates the input from the expected output")
    at = marks[0]
    return "".join(lines[:at]), "".join(lines[at + 1:])


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=path) from None


def _clipboard() -> str:
    for command in _CLIPBOARD:
        if shutil.which(command[0]) is not None:
            done = subprocess.run(command, capture_output=True, timeout=10, check=False)
            if done.returncode != 0:
                raise InputError(f"{command[0]} could not read the clipboard: {done.stderr.decode(errors='replace')}")
            return done.stdout.decode("utf-8", errors="replace")
    raise InputError("no clipboard reader found (wl-paste, xclip, xsel or pbpaste)",
                     hint="pipe the test in instead: orps add FILE < case.txt")
