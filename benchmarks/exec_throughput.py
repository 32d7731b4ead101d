"""Execution throughput: orps's engine against three other ways of running the same tests, on the
same rows in the same run, and whether orps's verdicts are the reference harness's.

Runs the canonical solutions of a dataset CSV (default: all of LBPP dev) on their tests, one test
at a time, through:

- **orps**: ``run_tests`` on one warm shared ``Sandbox``, as a refine uses it (a confined,
  measured run per test, the checker apart from the solution); ``--sandbox-per-problem`` starts
  one per row instead (the cold path);
- **fresh python per test**, the reference harness's design: ``code.py`` in a temp folder and a
  fresh ``python -c "<test_setup>\\n<test>"`` there per test, output captured, exit 0 a pass;
- **the fork-per-test floor** (``fork_floor.py``): one warm zygote that imports each row's
  libraries, then ``os.fork()`` per test, the child running setup, solution and test in-process
  and answering through its exit status. No confinement and no measurement: the cheapest a test
  in a process of its own can be, so orps's distance from it is what its sandbox costs;
- **evalplus's own ``untrusted_check``** (``evalplus_worker.py``, in a venv the benchmark makes
  under ``benchmarks/.cache/`` or ``--evalplus-venv``, from PyPI): one forked process per
  candidate with all of its tests in-process, as evalplus judges HumanEval+/MBPP+. It can only
  express ``assert f(literals) == literal`` tests after a setup of bare imports, so only those
  rows and tests count for it, and orps runs that same subset once more for its ratio.

Every harness gets the same environment (``sandbox_env``: ``PYTHONHASHSEED=0``, one BLAS thread)
and preloads the same libraries (``modules_to_preload`` of the row's code, setup and tests); a
worker's start counts towards its harness, as the shared sandbox's does. Rows rotate the order of
the harnesses so that a change in load affects all. Only executions are counted, whatever their
outcome. orps's pass/fail (AC or not) is compared with fresh python's on every test: where they
differ, the test is listed (time limits differ: orps's is the problem's, 2 s; fresh python's and
the floor's 60 s, as the reference harness's).

    .venv/bin/python benchmarks/exec_throughput.py [--limit N] [--dataset PATH] [--sandbox-per-problem]
        [--evalplus-venv DIR]

The last line is ``speedup_vs_fresh_python=X vs_fork_floor=F speedup_vs_evalplus=Y agreement=Z``:
orps's executions/s over each harness's (evalplus: on its subset; ``n/a`` where evalplus could not
be installed), and the fraction of tests on which orps and fresh python agree.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from toolvenv import CACHE, ToolUnavailable, tool_python

from orps_engine import FunctionTarget, OrpsError, Problem, SuiteResult, run_tests
from orps_engine.problem.datasets import problem_from_row, read_rows
from orps_engine.sandbox import Sandbox, modules_to_preload, sandbox_env

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
DATASETS = Path(os.environ.get("ORPS_DATASETS", REPO.parent / "shared" / "datasets"))
FLOOR_SCRIPT = BENCH / "fork_floor.py"
EVALPLUS_WORKER = BENCH / "evalplus_worker.py"
EVALPLUS = "evalplus==0.3.1"
# ``evalplus.eval`` imports these; its other declared dependencies (transformers, datasets, model
# clients) serve generation, which the benchmark does not use.
EVALPLUS_IMPORTS = ("psutil",)
SOLUTION_LIBRARIES = ("numpy", "pandas")  # what the datasets' solutions import, at the engine's versions
TIMEOUT_S = 60  # per test, fresh python's and the floor's: the reference harness's


@dataclass(frozen=True)
class RowRun:
    passed: tuple[bool, ...]  # per test, in the row's order
    seconds: float


@dataclass
class Tally:
    label: str
    executions: int = 0
    seconds: float = 0.0

    def add(self, run: RowRun) -> None:
        self.executions += len(run.passed)
        self.seconds += run.seconds

    @property
    def rate(self) -> float:
        return self.executions / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return f"{self.label}: {self.executions} executions in {self.seconds:.2f} s = {self.rate:.1f} executions/s"


@dataclass(frozen=True)
class EvalplusCase:
    """A test evalplus can express: ``entry(*args) == expected``, every part a literal's source."""

    index: int  # in the row's tests
    args: tuple[str, ...]
    expected: str


class LineWorker:
    """A long-lived subprocess that answers one JSON line with one JSON line (``{"passed": [...]}``)."""

    def __init__(self, argv: list[str], folder: Path) -> None:
        self.name = Path(argv[-1]).name
        self.log = open(folder / "worker.log", "w+", encoding="utf-8")  # closed in close()
        self.proc = subprocess.Popen(argv, cwd=folder, env=sandbox_env(str(folder)), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True, encoding="utf-8")

    def ask(self, request: dict[str, object]) -> tuple[bool, ...]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            self.log.seek(0)
            raise RuntimeError(f"{self.name} stopped: {self.log.read()[-2000:]}")
        return tuple(bool(ok) for ok in json.loads(reply)["passed"])

    def close(self) -> None:
        """End of input is the worker's cue to exit."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


def dataset_setup(row: dict[str, str]) -> str:
    """The row's setup as the reference harness runs it: HumanEval's tests call the solution's
    names directly, so they are imported from ``code`` first."""
    setup = row.get("test_setup", "")
    return setup if "from code import" in setup else "from code import *\n" + setup


def preload_of(problem: Problem) -> list[str]:
    return modules_to_preload(problem.source, problem.setup, *(t.source or "" for t in problem.tests))


def run_orps(problem: Problem, box: Sandbox | None) -> tuple[RowRun, SuiteResult]:
    start = time.perf_counter()
    suite = run_tests(problem, sandbox=box)
    seconds = time.perf_counter() - start
    return RowRun(tuple(r.verdict.passed for r in suite.results), seconds), suite


def run_fresh(row: dict[str, str], tests: Sequence[str]) -> RowRun:
    """Each test in a fresh interpreter, next to the solution as ``code.py``; exit 0 is a pass."""
    setup = dataset_setup(row)
    passed = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="orps-bench-") as folder:
        Path(folder, "code.py").write_text(row["completion"], encoding="utf-8")
        for test in tests:
            try:
                done = subprocess.run([sys.executable, "-c", f"{setup}\n{test}"], cwd=folder, env=sandbox_env(folder),
                                      stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT_S, check=False)
                passed.append(done.returncode == 0)
            except subprocess.TimeoutExpired:
                passed.append(False)
    return RowRun(tuple(passed), time.perf_counter() - start)


def run_floor(floor: LineWorker, row: dict[str, str], problem: Problem) -> RowRun:
    start = time.perf_counter()
    passed = floor.ask({"preload": preload_of(problem), "solution": row["completion"], "setup": dataset_setup(row),
                        "tests": [t.source or "" for t in problem.tests], "timeout_s": TIMEOUT_S})
    return RowRun(passed, time.perf_counter() - start)


def run_evalplus(evalplus: LineWorker, problem: Problem, cases: Sequence[EvalplusCase]) -> RowRun:
    assert isinstance(problem.target, FunctionTarget)
    start = time.perf_counter()
    passed = evalplus.ask({"preload": preload_of(problem), "solution": problem.source,
                           "entry_point": problem.target.qualname, "inputs": [list(c.args) for c in cases],
                           "expected": [c.expected for c in cases], "time_limit_s": problem.time_limit_s})
    return RowRun(passed, time.perf_counter() - start)


def evalplus_cases(problem: Problem) -> tuple[EvalplusCase, ...]:
    """The row's tests that evalplus can take as inputs and an expected output: ``assert
    entry(literal, ...) == literal`` (positional arguments), after a setup that only imports."""
    if not isinstance(problem.target, FunctionTarget) or not _only_imports(problem.setup):
        return ()
    found = []
    for index, test in enumerate(problem.tests):
        case = _literal_call(test.source or "", problem.target.qualname)
        if case is not None:
            found.append(EvalplusCase(index, *case))
    return tuple(found)


def _only_imports(setup: str) -> bool:
    try:
        return all(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.parse(setup).body)
    except SyntaxError:
        return False


def _literal_call(test: str, entry: str) -> tuple[tuple[str, ...], str] | None:
    try:
        body = ast.parse(test).body
    except SyntaxError:
        return None
    if len(body) != 1 or not isinstance(body[0], ast.Assert):
        return None
    check = body[0].test
    if not (isinstance(check, ast.Compare) and len(check.ops) == 1 and isinstance(check.ops[0], ast.Eq)):
        return None
    call, expected = check.left, check.comparators[0]
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == entry
            and not call.keywords and all(_is_literal(a) for a in call.args) and _is_literal(expected)):
        return None
    return tuple(ast.unparse(a) for a in call.args), ast.unparse(expected)


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def evalplus_python(venv: Path) -> Path:
    """The venv's python with evalplus, made first if needed (``ToolUnavailable`` if it cannot be)."""
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in SOLUTION_LIBRARIES if _installed(name)]
    return tool_python(venv, [*EVALPLUS_IMPORTS, *pins], without_deps=[EVALPLUS])


def _installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@dataclass
class Agreement:
    """orps's pass/fail against fresh python's, test by test."""

    tests: int = 0
    agreed: int = 0
    disagreements: list[str] = field(default_factory=list)

    def add(self, task: str, suite: SuiteResult, orps: RowRun, fresh: RowRun) -> None:
        for result, mine, theirs in zip(suite.results, orps.passed, fresh.passed):
            self.tests += 1
            if mine == theirs:
                self.agreed += 1
                continue
            detail = f" ({result.detail})" if result.detail else ""
            self.disagreements.append(f"{task} test {result.test_id}: orps {result.verdict.value}{detail}, "
                                      f"fresh python {'pass' if theirs else 'fail'}")

    @property
    def fraction(self) -> float:
        return self.agreed / self.tests if self.tests else 1.0


@dataclass
class Harnesses:
    """Everything the run keeps: the workers, one tally each, and the agreement."""

    box: Sandbox | None
    floor: LineWorker
    evalplus: LineWorker | None
    tallies: dict[str, Tally]
    agreement: Agreement = field(default_factory=Agreement)
    evalplus_rows: int = 0
    evalplus_disagreements: int = 0  # evalplus's verdict against orps's on its subset (floats: allclose)

    def close(self) -> None:
        if self.box is not None:
            self.box.close()
        self.floor.close()
        if self.evalplus is not None:
            self.evalplus.close()

    def run_row(self, position: int, row: dict[str, str]) -> None:
        """Every harness on the row, in an order rotated by its position."""
        problem = problem_from_row(row)
        tests = [t.source or "" for t in problem.tests]
        cases = evalplus_cases(problem) if self.evalplus is not None else ()
        outcome: dict[str, RowRun] = {}
        suites: list[SuiteResult] = []

        def orps() -> RowRun:
            run, suite = run_orps(problem, self.box)
            suites.append(suite)
            return run

        steps: list[tuple[str, Callable[[], RowRun]]] = [
            ("orps", orps), ("fresh", lambda: run_fresh(row, tests)),
            ("floor", lambda: run_floor(self.floor, row, problem))]
        if cases and self.evalplus is not None:
            evalplus = self.evalplus
            subset = replace(problem, tests=tuple(problem.tests[c.index] for c in cases))
            steps += [("evalplus", lambda: run_evalplus(evalplus, problem, cases)),
                      ("orps_subset", lambda: run_orps(subset, self.box)[0])]
            self.evalplus_rows += 1
        shift = position % len(steps)
        for name, step in steps[shift:] + steps[:shift]:
            outcome[name] = step()
            self.tallies[name].add(outcome[name])
        self.agreement.add(row["task_id"], suites[0], outcome["orps"], outcome["fresh"])
        if cases:
            self.evalplus_disagreements += sum(a != b for a, b in zip(outcome["evalplus"].passed,
                                                                     outcome["orps_subset"].passed))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="the first N rows (default: all)")
    parser.add_argument("--dataset", type=Path, default=DATASETS / "lbpp" / "dev.csv", help="a dataset CSV")
    parser.add_argument("--sandbox-per-problem", action="store_true",
                        help="start a sandbox for every row (the cold path) instead of sharing one")
    parser.add_argument("--evalplus-venv", type=Path, default=CACHE / "evalplus-venv",
                        help="the venv evalplus is installed into, made if missing (default: %(default)s)")
    args = parser.parse_args()
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    try:
        rows = read_rows(args.dataset)[: args.limit]
    except OrpsError as exc:
        sys.exit(f"error: {exc}")
    with tempfile.TemporaryDirectory(prefix="orps-bench-") as work:
        harnesses = start(args, Path(work))
        try:
            for position, row in enumerate(rows):
                harnesses.run_row(position, row)
        finally:
            harnesses.close()
    report(args, len(rows), harnesses)


def start(args: argparse.Namespace, work: Path) -> Harnesses:
    labels = {"orps": "orps engine", "fresh": "fresh python per test",
              "floor": "fork-per-test floor (no confinement)", "evalplus": "evalplus untrusted_check",
              "orps_subset": "orps engine on the same tests"}
    tallies = {name: Tally(label) for name, label in labels.items()}
    try:
        python: Path | None = evalplus_python(args.evalplus_venv)
    except ToolUnavailable as exc:
        print(f"evalplus could not be installed, so there is no evalplus comparison: {exc}")
        python = None
    clock = time.perf_counter()
    evalplus = LineWorker([str(python), str(EVALPLUS_WORKER)], _folder(work, "evalplus")) if python else None
    tallies["evalplus"].seconds += time.perf_counter() - clock
    clock = time.perf_counter()
    floor = LineWorker([sys.executable, str(FLOOR_SCRIPT)], _folder(work, "floor"))
    tallies["floor"].seconds += time.perf_counter() - clock
    clock = time.perf_counter()
    box = None if args.sandbox_per_problem else Sandbox()
    tallies["orps"].seconds += time.perf_counter() - clock  # the shared sandbox's start counts too
    return Harnesses(box=box, floor=floor, evalplus=evalplus, tallies=tallies)


def _folder(work: Path, name: str) -> Path:
    (work / name).mkdir()
    return work / name


def report(args: argparse.Namespace, rows: int, harnesses: Harnesses) -> None:
    tallies, agreement = harnesses.tallies, harnesses.agreement
    mode = "a sandbox per problem" if args.sandbox_per_problem else "one shared sandbox"
    print(f"dataset: {args.dataset} ({rows} rows; orps with {mode})")
    for name in ("orps", "fresh", "floor"):
        print(tallies[name].line())
    evalplus_ratio = "n/a"
    if harnesses.evalplus is not None:
        print(f"evalplus can express {tallies['evalplus'].executions} tests of {harnesses.evalplus_rows} rows "
              "(assert f(literals) == literal after a setup of imports):")
        print(f"  {tallies['evalplus'].line()}")
        print(f"  {tallies['orps_subset'].line()}")
        print(f"  evalplus's verdict differs from orps's on {harnesses.evalplus_disagreements} of them")
        evalplus_ratio = _ratio(tallies["orps_subset"], tallies["evalplus"])
    print(f"agreement (orps vs fresh python, pass/fail): {agreement.agreed} of {agreement.tests} tests")
    for line in agreement.disagreements:
        print(f"  {line}")
    print(f"speedup_vs_fresh_python={_ratio(tallies['orps'], tallies['fresh'])} "
          f"vs_fork_floor={_ratio(tallies['orps'], tallies['floor'])} speedup_vs_evalplus={evalplus_ratio} "
          f"agreement={agreement.fraction:.3f}")


def _ratio(mine: Tally, theirs: Tally) -> str:
    return f"{mine.rate / theirs.rate:.2f}" if theirs.rate else "n/a"


if __name__ == "__main__":
    main()
