"""The behaviour check: a candidate that passes weak asserts but changes what the original did is
refused with a counterexample; what varies between two runs of the original binds no one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orps_engine import Verdict, load_problem, run_tests
from orps_engine.behaviour import Baseline, check, mismatch, same, show
from orps_engine.results import Call

Copy = Callable[[str], Path]


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def call(returned: object = None, *, raised: str | None = None, label: str = "f", mutated: tuple[object, ...] = (),
         printed: str = "") -> Call:
    return Call(label=label, returned=returned, raised=raised, mutated=mutated, printed=printed)


@pytest.mark.parametrize(("a", "b", "equal"), [
    (1, {"f": 1.0}, True),
    ({"f": 0.1 + 0.2}, {"f": 0.3}, True),
    ({"f": 1.0}, {"f": 1.001}, False),
    ({"l": [1, 2]}, {"l": [2, 1]}, False),
    ({"l": [1, 2]}, {"t": [1, 2]}, False),
    ({"s": [1, 2]}, {"s": [2, 1]}, True),
    ({"d": [["a", 1], ["b", 2]]}, {"d": [["b", 2], ["a", 1]]}, True),
    ({"d": [["a", 1]]}, {"d": [["a", 2]]}, False),
    ({"nd": ["float64", [2], [{"f": 1.0}, {"f": 2.0}]]}, {"nd": ["float64", [2], [{"f": 1.0}, {"f": 2.0000000001}]]},
     True),
    ({"h": ["m.Stack", {"d": []}, {"l": [1]}]}, {"h": ["m.Stack", {"d": []}, {"l": [2]}]}, False),
    ({"f": "nan"}, {"f": "nan"}, True),
    ("x", "x", True),
    (None, 0, False),
])
def test_descriptions_compare_like_the_values(a: object, b: object, equal: bool) -> None:
    assert same(a, b) is equal


def test_a_mismatch_says_what_the_original_and_the_candidate_did() -> None:
    assert mismatch(call({"l": [3, 1, 2]}), call({"l": [1, 2, 3]})) == \
        "the original returned [3, 1, 2], the candidate [1, 2, 3]"
    assert mismatch(call(raised="ValueError"), call(None)) == \
        "the original raised ValueError, the candidate returned None"
    assert mismatch(call(raised="ValueError"), call(raised="ValueError")) is None  # messages may differ
    assert mismatch(call(printed="a\n"), call(printed="b\n")) is not None
    assert show({"t": [1]}) == "(1,)" and show({"d": [["k", {"f": 1.5}]]}) == "{'k': 1.5}"


def test_a_weakly_tested_candidate_that_changes_behaviour_is_refused(problem: Copy) -> None:
    root = problem("proj_weak")
    loaded = load_problem(root / "rows" / "parse.py", function="parse_row")
    baseline = Baseline.of(run_tests(loaded), run_tests(loaded))
    sorting = loaded.source.replace("return [int(cell) for cell in line.split(\",\")]",
                                    "return sorted(int(cell) for cell in line.split(\",\"))")
    plain = run_tests(loaded.with_source(sorting))
    assert plain.all_passed  # the asserts alone let it through
    checked = {r.test_id: r for r in check(baseline, plain).results}
    refused = checked["tests/test_rows.py::test_three_cells"]
    assert refused.verdict is Verdict.WA
    assert refused.detail == ("behaviour changed: on tests/test_rows.py::test_three_cells, call 1 (parse_row): "
                              "the original returned [3, 1, 2], the candidate [1, 2, 3]")
    assert (refused.expected, refused.actual) == ("returned [3, 1, 2]", "returned [1, 2, 3]")
    assert checked["tests/test_rows.py::test_parses_something"].verdict is Verdict.AC  # [1, 2] either way
    same_thing = loaded.source.replace("return [int(cell) for cell in line.split(\",\")]",
                                       "return list(map(int, line.split(\",\")))")
    assert check(baseline, run_tests(loaded.with_source(same_thing))).all_passed


def test_nondeterministic_results_bind_no_one_and_mutation_is_checked(problem: Copy) -> None:
    root = problem("proj_weak")
    shuffled = load_problem(root / "rows" / "parse.py", function="shuffled")
    baseline = Baseline.of(run_tests(shuffled), run_tests(shuffled))
    assert baseline.unstable["tests/test_rows.py::test_shuffled_has_everything"] == frozenset({0})
    assert check(baseline, run_tests(shuffled)).all_passed
    normalise = load_problem(root / "rows" / "parse.py", function="normalise")
    baseline = Baseline.of(run_tests(normalise), run_tests(normalise))
    lazy = normalise.source.replace("        values[i] = v / total\n", "        values[i] = v\n")
    checked = check(baseline, run_tests(normalise.with_source(lazy)))
    (result,) = checked.results
    assert result.verdict is Verdict.WA and "the original left its arguments as [0.25, 0.75]" in (result.detail or "")


def test_tests_the_original_fails_bind_no_one(problem: Copy) -> None:
    root = problem("proj_weak")
    loaded = load_problem(root / "rows" / "parse.py", function="parse_row")
    broken = loaded.with_source(loaded.source.replace("return [int(cell) for cell in line.split(\",\")]", "return []"))
    first = run_tests(broken)
    assert not first.all_passed
    baseline = Baseline.of(first, run_tests(broken))
    assert baseline.note is not None and "binds no candidate" in baseline.note
