"""``orps stress FILE --gen GEN.py --brute BRUTE.py``: random tests until the solution and a brute
force disagree.

Each trial runs ``GEN.py SEED`` (the seed in ``sys.argv[1]``; it prints one input), then BRUTE.py and
FILE on that input, all in the sandbox, and judges FILE's output against BRUTE.py's with the tests'
comparison and limits (a TLE, RE or MLE of FILE's is a failure too). The first failing input is
shrunk (other seeds, then smaller variants of it the brute force accepts), printed, and saved as a
new test in FILE's sidecar NAME.tests.json (made if missing), which ``orps test`` and ``orps refine``
then use. The same --seed gives the same trials. Ctrl+C stops after the run in flight, and still
saves the smallest failing input found.

Exit codes: 0 no difference found, 1 a difference found (saved unless --no-save), 2 bad input (a
missing file, or the generator or the brute force failed: its stderr says why), 130 interrupted
before any difference was found, 70 internal error.
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from .. import config
from ..errors import InputError
from ..problem import Overrides, Problem, with_overrides
from ..problem.sidecar_edit import add_test
from ..report.stress import SavedTest, failure_hint, failure_message, format_stress
from ..stress import Phase, StressConfig, StressOutcome, StressProgress, StressStatus, load_stress_problem, stress
from .progress import Progress

EXIT_CODES = {StressStatus.NONE_FOUND: 0, StressStatus.FOUND: 1, StressStatus.GENERATOR_FAILED: 2,
              StressStatus.BRUTE_FAILED: 2}
INTERRUPTED_EXIT = 130


def register(commands: Any) -> None:
    parser = commands.add_parser("stress", help="random tests until the solution and a brute force disagree",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, metavar="FILE", help="the solution (.py), a program on stdin/stdout")
    parser.add_argument("--gen", type=Path, required=True, metavar="GEN.py",
                        help="prints one input; its seed is sys.argv[1]")
    parser.add_argument("--brute", type=Path, required=True, metavar="BRUTE.py",
                        help="a slow but surely correct solution: its output is the expected one")
    parser.add_argument("--runs", type=_positive, default=config.STRESS_RUNS, metavar="N",
                        help=f"trials before giving up (default {config.STRESS_RUNS})")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="the first trial's seed (trial i gets S+i); default: a random one, printed")
    parser.add_argument("--shrink-runs", dest="shrink_runs", type=_non_negative, default=config.STRESS_SHRINK_RUNS,
                        metavar="N", help=f"inputs each shrinking phase may try (default {config.STRESS_SHRINK_RUNS}; "
                                          f"all shrinking stops after {config.STRESS_SHRINK_S:g} s)")
    parser.add_argument("--time-limit", dest="time_limit", metavar="MS", type=float,
                        help="the solution's CPU time per input, in milliseconds (default: its tests', else 2000)")
    parser.add_argument("--compare", metavar="MODE",
                        help="how outputs are compared: tokens, lines, exact or float[:TOL] (default: its tests')")
    parser.add_argument("--python", metavar="PATH",
                        help="the interpreter of all three programs (default: python3 on PATH)")
    parser.add_argument("--no-save", dest="save", action="store_false",
                        help="print the failing input, but add no test to FILE's sidecar")
    parser.set_defaults(handler=run)


def _positive(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _non_negative(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


_FLAGS = {"time_limit_ms": "--time-limit", "compare": "--compare"}


def run(args: argparse.Namespace) -> int:
    for role, path in (("--gen", args.gen), ("--brute", args.brute)):
        if not path.is_file():
            raise InputError(f"{role} {path}: file not found", path=path)
    problem = with_overrides(load_stress_problem(args.file, python=args.python),
                             Overrides(time_limit_ms=args.time_limit, compare=args.compare),
                             _FLAGS.__getitem__, "the command line")
    seed = args.seed if args.seed is not None else secrets.randbelow(10**9)
    settings = StressConfig(generator=args.gen, brute=args.brute, seed=seed, runs=args.runs,
                            shrink_runs=args.shrink_runs)
    if args.seed is None:  # a line of its own, which the progress line does not redraw
        print(f"seed {seed} (--seed {seed} repeats this run)", file=sys.stderr)
    progress = Progress(sys.stderr)
    try:
        with _stop_on_interrupt() as stop:
            outcome = stress(problem, settings, on_progress=lambda p: _show(progress, p), stop=stop)
    finally:
        progress.close()
    return _report(problem, outcome, save=args.save)


def _report(problem: Problem, outcome: StressOutcome, *, save: bool) -> int:
    if outcome.failure is not None:
        raise InputError(failure_message(outcome.failure), hint=failure_hint(outcome.failure))
    saved = _save(problem, outcome) if save else None
    print(format_stress(outcome, problem.path, saved))
    if outcome.found is None and outcome.interrupted:
        return INTERRUPTED_EXIT
    return EXIT_CODES[outcome.status]


def _save(problem: Problem, outcome: StressOutcome) -> SavedTest | None:
    """The smallest failing input as a new test of the sidecar, unless a test has that input already."""
    found = outcome.found
    if found is None:
        return None
    for test in problem.tests:
        if test.input == found.input:
            return SavedTest(path=test.path, test_id=test.id, added=False)
    change = add_test(problem.path, found.input, found.expected)
    return SavedTest(path=change.path, test_id=str(change.number), added=True, created=change.created)


def _show(progress: Progress, event: StressProgress) -> None:
    if event.phase is Phase.SEARCH:
        progress.show(f"trial {event.done}/{event.total}", transient=True)
        return
    what = "other seeds" if event.phase is Phase.RESEED else "smaller inputs"
    progress.show(f"shrinking ({what}) {event.done}/{event.total}: smallest {event.smallest_chars} characters",
                  transient=True)


@contextmanager
def _stop_on_interrupt() -> Iterator[threading.Event]:
    """The first Ctrl+C sets the event (the run in flight ends, then the stress run); a second one
    interrupts at once, as Ctrl+C does elsewhere."""
    stop = threading.Event()

    def on_interrupt(_signum: int, _frame: FrameType | None) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield stop
        return
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
