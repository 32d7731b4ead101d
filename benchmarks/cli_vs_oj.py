"""CLI cost: ``orps test`` against online-judge-tools' ``oj t`` on the same stdin/stdout tests.

Both tools read the same files: a solution ``main.py`` with ``test/sample-1.in``/``.out`` ...
beside it, oj's own layout (``oj t``'s default ``-d test/ -f %s.%e``), which orps finds for a file
with no other tests (``orps_engine/problem/ojdir.py``). The problem is written to a temp folder
outside any project, so that orps looks for no project tests. ``oj t`` starts a fresh interpreter
per test (``-c``, here the interpreter that runs orps, so both run the solution on the same
Python); ``orps test`` starts its CLI, a sandbox zygote, and a confined, measured run per test.

online-judge-tools comes from PyPI into a venv of its own under ``benchmarks/.cache/`` (or
``--oj-venv``), so its pins never touch the engine's venv; its once-a-day update check keeps its
cache there too (``XDG_CACHE_HOME``). ``orps`` is the script next to this interpreter, run with
``PYTHONPATH`` at this checkout so that it is this checkout's code. Each command runs once
untimed (the update check, bytecode caches), then ``--runs`` times, the commands rotating so that
a change in load affects all; each must exit 0 (every test passes). ``orps test`` is also timed on
a copy with one test, so that the difference shows what a test costs and what the start-up does.

    .venv/bin/python benchmarks/cli_vs_oj.py [--runs N] [--oj-venv DIR]

The last line is ``orps_test_median_ms=A oj_t_median_ms=B ratio=A/B`` (3 tests each).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from toolvenv import CACHE, ToolUnavailable, tool_python

REPO = Path(__file__).resolve().parent.parent
OJ = "online-judge-tools==11.5.1"
COMMAND_TIMEOUT_S = 120
SOLUTION = """import sys


def main() -> None:
    numbers = [int(token) for token in sys.stdin.read().split()]
    print(sum(numbers), max(numbers))


main()
"""
CASES = (("3 4\n", "7 4\n"), ("10 -2 5\n", "13 10\n"), ("1 2 3 4 5 6 7 8 9\n", "45 9\n"))


class BenchFailed(Exception):
    """A command did not do what the comparison needs (exit 0: every test passed)."""


@dataclass
class Command:
    label: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    times_ms: list[float] = field(default_factory=list)

    def run(self) -> float:
        start = time.perf_counter()
        try:
            done = subprocess.run(self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BenchFailed(f"{self.label}: {exc}") from None
        elapsed = (time.perf_counter() - start) * 1000
        if done.returncode != 0:
            tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            raise BenchFailed(f"{self.label} exited {done.returncode}: {tail}")
        return elapsed

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    def line(self) -> str:
        return (f"{self.label}: median {self.median:.1f} ms (min {min(self.times_ms):.1f}, "
                f"max {max(self.times_ms):.1f}, {len(self.times_ms)} runs)")


def write_problem(folder: Path, cases: tuple[tuple[str, str], ...]) -> Path:
    """``main.py`` and ``test/sample-N.in``/``.out``, as ``oj download`` lays out a problem."""
    (folder / "test").mkdir(parents=True)
    solution = folder / "main.py"
    solution.write_text(SOLUTION, encoding="utf-8")
    for number, (given, wanted) in enumerate(cases, start=1):
        (folder / "test" / f"sample-{number}.in").write_text(given, encoding="utf-8")
        (folder / "test" / f"sample-{number}.out").write_text(wanted, encoding="utf-8")
    return solution


def commands(oj: Path, orps: Path, work: Path) -> tuple[Command, Command, Command]:
    three = write_problem(work / "three", CASES)
    one = write_problem(work / "one", CASES[:1])
    orps_env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    oj_env = {**os.environ, "XDG_CACHE_HOME": str(CACHE / "oj-cache")}
    run_solution = f"{shlex.quote(sys.executable)} main.py"
    return (Command("orps test (3 tests)", [str(orps), "test", three.name], three.parent, orps_env),
            Command("oj t (3 tests)", [str(oj), "t", "-c", run_solution, "-d", "test/"], three.parent, oj_env),
            Command("orps test (1 test)", [str(orps), "test", one.name], one.parent, orps_env))


def measure(runs: int, oj: Path, orps: Path) -> tuple[Command, Command, Command]:
    with tempfile.TemporaryDirectory(prefix="orps-bench-oj-") as work:
        timed = commands(oj, orps, Path(work))
        for command in timed:
            command.run()  # untimed: oj's update check, bytecode caches
        for round_ in range(runs):
            shift = round_ % len(timed)
            for command in timed[shift:] + timed[:shift]:
                command.times_ms.append(command.run())
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed invocations of each command (default: 10)")
    parser.add_argument("--oj-venv", type=Path, default=CACHE / "oj-venv",
                        help="the venv online-judge-tools is installed into, made if missing (default: %(default)s)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    orps = Path(sys.executable).with_name("orps")
    if not orps.is_file():
        sys.exit(f"error: no orps script next to {sys.executable}: run this with the venv orps is installed in")
    try:
        oj = tool_python(args.oj_venv, [OJ]).with_name("oj")
        orps_three, oj_three, orps_one = measure(args.runs, oj, orps)
    except ToolUnavailable as exc:
        sys.exit(f"error: online-judge-tools could not be installed: {exc}")
    except BenchFailed as exc:
        sys.exit(f"error: {exc}")
    for command in (orps_three, oj_three, orps_one):
        print(command.line())
    per_test = (orps_three.median - orps_one.median) / (len(CASES) - 1)
    print(f"orps test: about {per_test:.1f} ms a test, {orps_one.median - per_test:.1f} ms of start-up "
          "(from the 1- and 3-test medians)")
    print(f"orps_test_median_ms={orps_three.median:.1f} oj_t_median_ms={oj_three.median:.1f} "
          f"ratio={orps_three.median / oj_three.median:.2f}")


if __name__ == "__main__":
    main()
