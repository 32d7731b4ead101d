"""``orps serve``: start the language server (stdio, or --tcp HOST:PORT)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="start the orps language server", description=__doc__)
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Lazily: the engine never imports the server otherwise.
    from orps_server.server import start  # type: ignore[import-not-found]

    start(args.tcp)
    return 0
