"""The throughput benchmark's own harnesses judge alike: its fork-per-test floor and its fresh
python per test give the same verdict on every test of a few LBPP rows, for the canonical
solutions (which pass) and for broken ones (which fail some), so that the benchmark's ratios
compare harnesses doing the same work. No timing is asserted."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from orps_engine.problem.datasets import problem_from_row, read_rows
from tests.conftest import DATASETS, REPO

pytestmark = pytest.mark.dataset

BENCH = REPO / "benchmarks"
LBPP_DEV = DATASETS / "lbpp" / "dev.csv"
ROWS = ("lbpp/0", "lbpp/1", "lbpp/2")  # canonical solutions that pass every test under plain Python

if not LBPP_DEV.is_file():
    pytest.skip(f"{LBPP_DEV} not found (set ORPS_DATASETS to the folder holding lbpp/)", allow_module_level=True)


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """``benchmarks/exec_throughput.py`` as a module (it imports its sibling ``toolvenv``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCH))
        spec = importlib.util.spec_from_file_location("exec_throughput", BENCH / "exec_throughput.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        patch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
        spec.loader.exec_module(module)
        yield module
    sys.modules.pop("toolvenv", None)


def _rows() -> list[dict[str, str]]:
    by_id = {row["task_id"]: row for row in read_rows(LBPP_DEV)}
    return [by_id[task] for task in ROWS]


def _broken(row: dict[str, str]) -> dict[str, str]:
    """The row with its entry point redefined last to return None: wrong on most tests."""
    entry = row["signature"].split("def ", 1)[1].split("(", 1)[0]
    return {**row, "completion": row["completion"] + f"\n\ndef {entry}(*args, **kwargs):\n    return None\n"}


@pytest.mark.parametrize("broken", [False, True], ids=["canonical", "broken"])
def test_fork_floor_agrees_with_fresh_python(bench: Any, tmp_path: Path, broken: bool) -> None:
    floor = bench.LineWorker([sys.executable, str(bench.FLOOR_SCRIPT)], tmp_path)
    try:
        for row in map(_broken, _rows()) if broken else _rows():
            problem = problem_from_row(row)
            tests = [t.source or "" for t in problem.tests]
            forked = bench.run_floor(floor, row, problem).passed
            fresh = bench.run_fresh(row, tests).passed
            assert forked == fresh, row["task_id"]
            assert len(fresh) == len(tests)
            assert all(fresh) != broken, (row["task_id"], fresh)
    finally:
        floor.close()
