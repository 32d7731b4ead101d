"""The datasets' canonical solutions through the engine: every dev test AC but the known failures.

The known failures (``tests/data/*_dev_known_failures.json``) are the tests the canonical
solution fails under the reference harness too (a fresh ``python -c "<setup>\\n<test>"`` per test
next to ``code.py``), plus the few that cannot pass under orps by design (the README's known
limits). A listed test must still fail, so that the lists stay true.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from orps_engine import Verdict, run_tests
from orps_engine.problem.datasets import problem_from_row, read_rows
from orps_engine.sandbox import Sandbox
from tests.conftest import DATA, DATASETS

pytestmark = pytest.mark.dataset

SETS = {"lbpp": "lbpp_dev_known_failures.json", "humaneval_v2": "humaneval_dev_known_failures.json"}

if not all((DATASETS / name / "dev.csv").is_file() for name in SETS):
    pytest.skip(f"datasets not found under {DATASETS} (set ORPS_DATASETS to the folder holding lbpp/ and "
                "humaneval_v2/)", allow_module_level=True)


def _known(name: str) -> dict[str, dict]:
    return json.loads((DATA / SETS[name]).read_text(encoding="utf-8"))


ROWS = {name: read_rows(DATASETS / name / "dev.csv") for name in SETS}
KNOWN = {name: _known(name) for name in SETS}
CASES = [pytest.param(name, row, id=row["task_id"]) for name, rows in ROWS.items() for row in rows]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """One warm sandbox for every row, as a refine shares one across candidates."""
    with Sandbox() as box:
        yield box


@pytest.mark.parametrize(("name", "row"), CASES)
def test_canonical_solution(name: str, row: dict[str, str], sandbox: Sandbox) -> None:
    task = row["task_id"]
    entry = KNOWN[name].get(task, {})
    listed = {str(t) for t in entry.get("tests", [])}
    # Tests whose canonical solution needs nearly all of the CPU limit under plain Python: AC on a
    # quiet machine, TLE on a loaded one. Either is right; any other verdict is not.
    marginal = {str(t) for t in entry.get("marginal", [])}
    problem = problem_from_row(row)
    if not problem.tests:
        pytest.skip(f"{task} has no tests in the dataset (empty test_list)")
    suite = run_tests(problem, sandbox=sandbox)
    unexpected = [f"test {r.test_id}: {r.verdict.value} {r.detail or ''}".rstrip()
                  for r in suite.results if r.test_id not in listed and r.verdict is not Verdict.AC
                  and not (r.test_id in marginal and r.verdict is Verdict.TLE)]
    now_passing = [r.test_id for r in suite.results
                   if r.test_id in listed and r.verdict is Verdict.AC and not entry.get("may_pass")]
    assert not unexpected, f"{task}: tests that should pass did not:\n" + "\n".join(unexpected)
    assert not now_passing, (f"{task}: tests listed as known failures in {SETS[name]} now pass "
                             f"(update the list): {now_passing}")


@pytest.mark.parametrize("name", list(SETS))
def test_known_failures_name_real_tests(name: str) -> None:
    counts = {row["task_id"]: len(problem_from_row(row).tests) for row in ROWS[name]}
    for task, entry in KNOWN[name].items():
        assert task in counts, f"{SETS[name]}: {task} is not a row of {name}/dev.csv"
        assert entry["tests"] and entry["reason"], f"{SETS[name]}: {task} needs tests and a reason"
        assert all(1 <= t <= counts[task] for t in entry["tests"] + entry.get("marginal", [])), \
            f"{SETS[name]}: {task} names a test it lacks"

