"""orps on a real open-source project's own test suite: more-itertools (MIT), its sdist fetched
from the package index into a temporary folder. Its tests are unittest TestCases collected by
pytest; ``chunked`` takes iterables the tests make (generators), and has doctests too."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from orps_engine import FunctionTarget, Verdict, load_problem, run_tests
from orps_engine import TestKind as Kind  # aliased: pytest would collect a Test* class
from orps_engine.behaviour import Baseline, check

VERSION = "10.5.0"
pytestmark = pytest.mark.realproject


@pytest.fixture(scope="module")
def more_itertools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("more_itertools")
    subprocess.run([sys.executable, "-m", "pip", "download", f"more-itertools=={VERSION}", "--no-binary", ":all:",
                    "--no-deps", "--quiet", "-d", str(folder)], check=True, timeout=300)
    (archive,) = folder.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / f"more-itertools-{VERSION}"


def test_its_own_tests_of_chunked_run_and_keep_its_behaviour(more_itertools: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    module = more_itertools / "more_itertools" / "more.py"
    loaded = load_problem(module, function="chunked", keyword="chunked or Chunked")
    assert loaded.target == FunctionTarget("chunked")
    assert loaded.project is not None and loaded.project.module == "more_itertools.more"
    pytest_ids = [t.id for t in loaded.tests if t.kind is Kind.PYTEST]
    assert "tests/test_more.py::ChunkedTests::test_even" in pytest_ids
    assert any(t.kind is Kind.DOCTEST for t in loaded.tests)  # its doctests too
    suite = run_tests(loaded)
    assert {r.verdict for r in suite.results} == {Verdict.AC}, [(r.test_id, r.detail) for r in suite.results]
    baseline = Baseline.of(suite, run_tests(loaded))
    lazy = loaded.source.replace("    if strict:\n        if n is None:", "    if False:\n        if n is None:", 1)
    assert lazy != loaded.source  # a candidate that drops the strict check: caught by the tests themselves
    assert not check(baseline, run_tests(loaded.with_source(lazy))).all_passed
