"""Execution throughput: orps's engine against a fresh ``python`` per test, on the same rows.

Runs the canonical solutions of a dataset CSV (default: LBPP dev) on their tests, one test at a
time, through the engine (``run_tests`` on one warm sandbox, as a refine uses it: a confined run per
test; ``--sandbox-per-problem`` starts one per row instead) and
through the reference harness (``code.py`` in a temp folder and a fresh
``python -c "<test_setup>\\n<test>"`` there per test, ``PYTHONHASHSEED=0``). Rows alternate
between the two so that a change in load affects both. Only executions are counted, whatever
their outcome. The last line is the ratio, engine over baseline.

    .venv/bin/python benchmarks/exec_throughput.py [--limit N] [--dataset PATH]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from orps_engine import run_tests
from orps_engine.problem.datasets import problem_from_row, read_rows
from orps_engine.sandbox import Sandbox

REPO = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("ORPS_DATASETS", REPO.parent / "shared" / "datasets"))


def run_engine(row: dict[str, str], box: Sandbox | None) -> tuple[int, float]:
    problem = problem_from_row(row)
    start = time.perf_counter()
    suite = run_tests(problem, sandbox=box)
    return suite.total, time.perf_counter() - start


def run_baseline(row: dict[str, str]) -> tuple[int, float]:
    """Each test in a fresh interpreter, next to the solution as ``code.py``; exit 0 is a pass."""
    tests = [t.source or "" for t in problem_from_row(row).tests]
    setup = row.get("test_setup", "")
    if "from code import" not in setup:  # HumanEval: the tests call the solution's names directly
        setup = "from code import *\n" + setup
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="orps-bench-") as folder:
        Path(folder, "code.py").write_text(row["completion"], encoding="utf-8")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONHASHSEED": "0", "HOME": folder}
        for test in tests:
            try:
                subprocess.run([sys.executable, "-c", f"{setup}\n{test}"], cwd=folder, env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False)
            except subprocess.TimeoutExpired:
                pass
    return len(tests), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="the first N rows (default: all)")
    parser.add_argument("--dataset", type=Path, default=DATASETS / "lbpp" / "dev.csv", help="a dataset CSV")
    parser.add_argument("--sandbox-per-problem", action="store_true",
                        help="start a sandbox for every row (the cold path) instead of sharing one")
    args = parser.parse_args()

    rows = read_rows(args.dataset)[: args.limit]
    totals = {"orps": [0, 0.0], "baseline": [0, 0.0]}
    start = time.perf_counter()
    box = None if args.sandbox_per_problem else Sandbox()
    totals["orps"][1] += time.perf_counter() - start  # the shared sandbox's start counts too
    try:
        for row in rows:
            for name, harness in (("orps", lambda r: run_engine(r, box)), ("baseline", run_baseline)):
                count, seconds = harness(row)
                totals[name][0] += count
                totals[name][1] += seconds
    finally:
        if box is not None:
            box.close()

    rates = {name: count / seconds if seconds else 0.0 for name, (count, seconds) in totals.items()}
    mode = "a sandbox per problem" if args.sandbox_per_problem else "one shared sandbox"
    print(f"dataset: {args.dataset} ({len(rows)} rows; orps with {mode})")
    for name, label in (("orps", "orps engine"), ("baseline", "fresh python per test")):
        count, seconds = totals[name]
        print(f"{label}: {count} executions in {seconds:.2f} s = {rates[name]:.1f} executions/s")
    ratio = rates["orps"] / rates["baseline"] if rates["baseline"] else float("nan")
    print(f"throughput ratio (orps / fresh python per test): {ratio:.1f}x")


if __name__ == "__main__":
    main()
