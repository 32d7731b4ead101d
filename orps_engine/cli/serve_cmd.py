"""``orps serve``: start the language server (stdio, or --tcp HOST:PORT).

The server's own parser reads the arguments (one parser for both ``orps serve`` and
``python -m orps_server``); it is imported only here, when serving, so the engine never loads
the server otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="start the orps language server (see orps serve --help)",
                                 add_help=False, prefix_chars="\0")
    parser.add_argument("arguments", nargs=argparse.REMAINDER)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from orps_server.app import main  # type: ignore[import-not-found]

    return int(main(args.arguments, prog="orps serve"))
