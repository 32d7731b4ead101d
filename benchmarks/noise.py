"""Measurement noise: how much one candidate's figures vary from run to run, what counting its
bytecodes costs, and whether a refine's final measurement ever calls an A-vs-A pair a change.

1. ``--repeats`` runs (default 10) of one candidate (the canonical solution of ``--row`` of the
   dataset, default LBPP dev row 1), in one warm sandbox: the coefficient of variation (stdev /
   mean) of its suite's CPU time, and of its bytecode count (one counted run per repeat; the count
   is deterministic, so its CV should be exactly 0).
2. The counter's overhead, on the first ``--limit`` rows (default 5): the CPU time of each test's
   counted (traced) run over its measured one, summed per row; the factor printed is the median
   over rows. A row's tests spend most of their CPU outside the code's bytecodes (the sandboxed
   process, imports, C functions), so the factor is printed too for a pure-Python loop (a
   function summing a range of 300 000 numbers, the worst case). A counted run is always an extra
   run, never the measured one (``judge.run_counted``), and is made only where the deterministic
   figure is needed: a refine's final measurement when its CPU runs cannot decide, and
   ``orps test --count-bytecodes``.
3. ``--refines`` (default 20) A-vs-A refines' final measurement: for each of that many rows, the
   canonical solution measured against an identical copy with ``search.measure_pair``, exactly as
   a refine measures its pick against the original (``repeats`` interleaved runs each, default 5,
   in alternating order, in one sandbox; then, where the CPU runs show no significant change, one
   counted run each). A pair counts as called significant if its CPU time, its peak memory or its
   bytecode count is reported as a significant change, either way.

How significance is decided (``orps_engine.measure``): the Mann-Whitney rank test over the two
sets of runs, exact, two-sided, p < 0.01 (with too few runs for 1%, no overlap at all), and a
change over 3%; the bytecode count decides only where the CPU runs show no significant change, by
more than 3%, and only if its ratio lies inside the CPU ratio's 95% Hodges-Lehmann interval.

Measured on the 2-core development machine, shared and loaded: see the final report of roadmap 9.
The last line: ``cpu_cv=... cost_cv=... overhead=...x loop_overhead=...x aa_significant=K/N`` (K must
be 0).

    .venv/bin/python benchmarks/noise.py [--dataset PATH] [--row N] [--repeats N] [--limit N]
        [--refines N] [--measure-repeats N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: the engine of this checkout
    sys.path.insert(0, str(REPO))

from orps_engine.config import Settings  # noqa: E402
from orps_engine.judge import open_sandbox, run_counted, run_test, run_tests  # noqa: E402
from orps_engine.problem import Problem, load_problem  # noqa: E402
from orps_engine.problem.datasets import problem_from_row, read_rows  # noqa: E402
from orps_engine.search import Delta, Evaluator, measure_pair  # noqa: E402

DATASETS = Path(os.environ.get("ORPS_DATASETS", REPO.parent / "shared" / "datasets"))
LOOP = "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
LOOP_TESTS = '{"entry_point": "total", "asserts": ["assert total(300000) == 44999850000"]}'


def coefficient_of_variation(values: list[float]) -> float:
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean and len(values) > 1 else 0.0


def repeat_one(problem: Problem, repeats: int) -> tuple[list[float], list[int | None]]:
    """The suite's CPU time and bytecodes, ``repeats`` times, in one warm sandbox."""
    box = open_sandbox(problem)
    try:
        suites = [run_tests(problem, sandbox=box, count_bytecodes=True) for _ in range(repeats)]
    finally:
        box.close()
    return [s.total_cpu_ms for s in suites], [s.total_bytecodes for s in suites]


def overhead(problem: Problem) -> float | None:
    """The row's counted runs' CPU time over its measured runs' (tests that pass both ways)."""
    box = open_sandbox(problem)
    measured = traced = 0.0
    try:
        for test in problem.tests:
            plain, counted = run_test(box, problem, test), run_counted(box, problem, test)
            if plain.verdict.passed and counted.verdict.passed and plain.cpu_ms and counted.cpu_ms:
                measured += plain.cpu_ms
                traced += counted.cpu_ms
    finally:
        box.close()
    return traced / measured if measured else None


def loop_overhead() -> float | None:
    with tempfile.TemporaryDirectory(prefix="orps-noise-") as folder:
        Path(folder, "loop.py").write_text(LOOP, encoding="utf-8")
        Path(folder, "loop.tests.json").write_text(LOOP_TESTS, encoding="utf-8")
        return overhead(load_problem(Path(folder, "loop.py")))


async def a_vs_a(problem: Problem, repeats: int) -> Delta:
    evaluator = Evaluator(problem, size=1)
    await evaluator.start()
    try:
        return await measure_pair(evaluator, problem.source, problem.source, repeats)
    finally:
        await evaluator.close()


def called_significant(delta: Delta) -> bool:
    counted = delta.bytecodes
    return delta.cpu.significant or delta.peak.significant or (counted is not None and counted.significant)


def describe(delta: Delta) -> str:
    counted = delta.bytecodes
    count = f"{counted.before} vs {counted.after} ({counted.use.value})" if counted is not None else "-"
    return (f"cpu {delta.cpu.before.median:.1f} vs {delta.cpu.after.median:.1f} ms (p={delta.cpu.p_value:.3f}, "
            f"ratio {delta.cpu.ratio or 0:.3f}), peak p={delta.peak.p_value:.3f}, bytecodes {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASETS / "lbpp" / "dev.csv")
    parser.add_argument("--row", type=int, default=1, help="the row whose solution is repeated (default 1)")
    parser.add_argument("--repeats", type=int, default=10, help="runs of that one candidate (default 10)")
    parser.add_argument("--limit", type=int, default=5, help="rows whose counting overhead is measured (default 5)")
    parser.add_argument("--refines", type=int, default=20, help="A-vs-A final measurements, one per row (default 20)")
    parser.add_argument("--measure-repeats", type=int, default=Settings().repeats,
                        help="runs each in a final measurement (default: the refine's default)")
    args = parser.parse_args()
    rows = read_rows(args.dataset)

    problem = problem_from_row(rows[args.row])
    cpu, counts = repeat_one(problem, args.repeats)
    cpu_cv = coefficient_of_variation(cpu)
    counted = [c for c in counts if c is not None]
    cost_cv = coefficient_of_variation([float(c) for c in counted]) if len(counted) == len(counts) else float("nan")
    print(f"{rows[args.row]['task_id']}: CPU {min(cpu):.1f}-{max(cpu):.1f} ms over {args.repeats} runs "
          f"(cv {cpu_cv:.3f}); bytecodes {sorted(set(counts), key=str)} (cv {cost_cv:.3f})", flush=True)

    factors = []
    for row in rows[: args.limit]:
        factor = overhead(problem_from_row(row))
        print(f"{row['task_id']}: counted runs cost {factor:.1f}x the CPU of measured ones" if factor
              else f"{row['task_id']}: no test passed both ways", flush=True)
        if factor:
            factors.append(factor)

    loop = loop_overhead()
    print(f"pure-Python loop: counted runs cost {loop:.1f}x the CPU of measured ones" if loop else
          "pure-Python loop: did not pass", flush=True)

    significant = 0
    for row in rows[: args.refines]:
        delta = asyncio.run(a_vs_a(problem_from_row(row), args.measure_repeats))
        significant += called_significant(delta)
        print(f"{row['task_id']} A-vs-A: {describe(delta)}" + ("  <- called significant" if called_significant(delta)
                                                               else ""), flush=True)
    factor_text = f"{statistics.median(factors):.1f}x" if factors else "n/a"
    loop_text = f"{loop:.1f}x" if loop else "n/a"
    print(f"cpu_cv={cpu_cv:.3f} cost_cv={cost_cv:.3f} overhead={factor_text} loop_overhead={loop_text} "
          f"aa_significant={significant}/{args.refines}")


if __name__ == "__main__":
    main()
