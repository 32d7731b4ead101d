"""``orps listen``: import problems from Competitive Companion (the browser extension).

Each problem Competitive Companion sends (its "Parse task" button, or a whole contest) becomes a
solution file named from the problem ("A. Watermelon" -> a_watermelon.py), from --template or a
minimal program that reads stdin, and its tests as the sidecar a_watermelon.tests.json that
``orps test a_watermelon.py`` reads. An existing solution is never overwritten: only its tests are
written, and a sidecar that held other tests is kept as a_watermelon.tests.json.bak.

Exit codes: 0 stopped (Ctrl+C, or --once done), 2 bad input (busy port, unreadable template).
"""

from __future__ import annotations

import argparse
import queue
import sys
from pathlib import Path
from typing import Any

from ..companion import ProblemWriter
from ..config import DEFAULT_LISTEN_PORT
from ..errors import InputError, PortBusy
from ..listen import Listener, ListenEvent, ListenEventKind
from ..report.listen import listen_event_lines
from ..text import printable

POLL_S = 0.5  # how often the wait for events wakes (Ctrl+C is seen at once regardless)


def register(commands: Any) -> None:
    parser = commands.add_parser("listen", help="import problems from Competitive Companion", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=_port, default=DEFAULT_LISTEN_PORT,
                        help=f"the port Competitive Companion posts to (default {DEFAULT_LISTEN_PORT}, its own "
                             "default; 0: any free port, printed)")
    parser.add_argument("--dir", type=Path, default=Path("."), help="the folder to write into (default: here)")
    parser.add_argument("--template", type=Path, metavar="FILE", help="each new solution file starts as a copy of FILE")
    parser.add_argument("--once", action="store_true", help="stop after one problem (or one whole contest)")
    parser.set_defaults(handler=run)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535 (or 0: any free one), got {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    events: queue.Queue[ListenEvent] = queue.Queue()
    listener = Listener(ProblemWriter(args.dir, _template(args.template)), port=args.port, on_event=events.put)
    try:
        listener.start()
    except PortBusy as exc:
        hint = (f"run orps listen --port {exc.free_port}, and add port {exc.free_port} to Competitive Companion's "
                "custom ports (its settings)") if exc.free_port is not None else "stop the program on that port"
        raise InputError(str(exc), hint=hint) from None
    try:
        print(f"listening on {listener.url} for Competitive Companion; writing into {args.dir.resolve()} "
              f"({'until one problem or contest arrives' if args.once else 'Ctrl+C to stop'})", flush=True)
        return _serve(events, once=args.once)
    except KeyboardInterrupt:
        listener.close()
        while not events.empty():  # what arrived before Ctrl+C is written: say so
            _print(events.get_nowait())
        print("stopped listening", file=sys.stderr)
        return 0
    finally:
        listener.close()


def _template(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the template: {exc}", path=path) from None


def _serve(events: queue.Queue[ListenEvent], *, once: bool) -> int:
    while True:
        try:
            event = events.get(timeout=POLL_S)
        except queue.Empty:
            continue
        _print(event)
        if once and event.ends_unit:
            return 0


def _print(event: ListenEvent) -> None:
    stream = sys.stderr if event.kind is ListenEventKind.REJECTED else sys.stdout
    first, *notes = listen_event_lines(event)
    print(printable(first), file=stream)
    for note in notes:
        print(printable(f"  {note}"), file=stream)
    stream.flush()
