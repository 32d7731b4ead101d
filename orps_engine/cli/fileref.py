"""``FILE::NAME``: a file and its target in one argument, as pytest names a test.

``orps test FILE::Class.method`` is ``orps test FILE --function Class.method``; naming two
different targets, one each way, is a usage error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

FILE_HELP = "the solution (.py); FILE::NAME also names the target, as --function NAME does"


def split_target(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with ``FILE::NAME`` split into ``file`` and ``function`` (exits 2 on a conflict)."""
    text = str(args.file)
    if "::" not in text:
        return args
    file, _, name = text.partition("::")
    if not file or not name:
        parser.error(f"{text}: expected FILE::NAME, e.g. stats.py::Stats.mean")
    if args.function is not None and args.function != name:
        parser.error(f"{text} and --function {args.function} name different targets; give one")
    args.file, args.function = Path(file), name
    return args
