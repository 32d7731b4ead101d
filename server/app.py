"""Start-up: the one server instance, every feature registered on it, logging, and the command
line (``orps serve`` and ``python -m orps_server`` share this parser)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from . import actions, diagnostics, hints, history, hover, lenses, lifecycle, refine, review, search_view
from .server import OrpsServer, Redact

FEATURES = (lifecycle, diagnostics, hints, lenses, hover, actions, refine, review, history, search_view)


def create_server() -> OrpsServer:
    ls = OrpsServer()
    for feature in FEATURES:
        feature.register(ls)
    return ls


def main(argv: Sequence[str] | None = None, prog: str = "python -m orps_server") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="The orps language server (stdio by default).")
    parser.add_argument("--tcp", metavar="HOST:PORT", type=_address, help="listen on TCP instead of stdio")
    parser.add_argument("--verbose", action="store_true",
                        help="log everything to stderr too: each line also sent to the editor's log, each HTTP request")
    args = parser.parse_args(argv)
    ls = create_server()
    _log_to_stderr(ls, verbose=args.verbose)
    if args.tcp is not None:
        ls.start_tcp(*args.tcp)
    else:
        ls.start_io()
    return 0


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT with a port from 1 to 65535, got {text!r}")
    return host or "127.0.0.1", int(port)


def _log_to_stderr(ls: OrpsServer, *, verbose: bool) -> None:
    handler = logging.StreamHandler()  # stderr: stdout carries the protocol
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(Redact(ls))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    logging.getLogger("pygls").setLevel(logging.WARNING)  # at INFO it logs whole messages
    if not verbose:
        for name in ("httpx", "httpx2"):  # openai's HTTP client (by either name): at INFO a line per model call
            logging.getLogger(name).setLevel(logging.WARNING)
