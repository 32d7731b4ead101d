"""A project's own tests: found by pytest in the sandbox, selected by what they call, run one by
one with the code under test in its own process, and kept away from that code."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from orps_engine import (
    FunctionTarget,
    MissingPackage,
    NoTestsFound,
    ProblemKind,
    Verdict,
    WholeFile,
    load_problem,
    run_tests,
)
from orps_engine import TestKind as Kind  # aliased: pytest would collect a Test* class
from orps_engine.project import discover, find_root, select_tests
from orps_engine.project.discovery import cache_dir

Copy = Callable[[str], Path]


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def verdicts(suite: object) -> dict[str, Verdict]:
    return {r.test_id: r.verdict for r in suite.results}  # type: ignore[attr-defined]


def test_project_root_is_the_nearest_marked_folder(tmp_path: Path) -> None:
    (tmp_path / "proj" / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "proj" / "pyproject.toml").write_text("")
    module = tmp_path / "proj" / "src" / "pkg" / "mod.py"
    module.write_text("")
    assert find_root(module) == tmp_path / "proj"
    assert find_root(tmp_path / "loose.py") is None


def test_discovery_collects_with_pytest_and_traces_calls(problem: Copy) -> None:
    root = problem("proj_pkg")
    found = discover(root / "mypkg" / "stats.py", root)
    by_id = {t.nodeid: t for t in found.tests}
    assert set(by_id) == {
        "tests/test_stats.py::test_mean", "tests/test_stats.py::test_mean_cases[xs0-1]",
        "tests/test_stats.py::test_mean_cases[xs1-1.5]", "tests/test_stats.py::test_mean_cases[xs2-1]",
        "tests/test_stats.py::test_mean_of_nothing", "tests/test_stats.py::test_variance",
        "tests/test_stats.py::test_weighted", "tests/test_stats.py::test_skipped",
        "tests/test_stats.py::test_expected_failure", "tests/test_stats.py::TestSpread::test_spread"}
    assert by_id["tests/test_stats.py::test_mean"].calls == {"mean"}
    assert by_id["tests/test_stats.py::test_variance"].calls == {"mean", "variance"}  # indirectly, too
    assert by_id["tests/test_stats.py::TestSpread::test_spread"].calls == {"Stats.__init__", "Stats.spread"}
    assert by_id["tests/test_stats.py::test_skipped"].outcome == "skipped"
    assert by_id["tests/test_stats.py::test_expected_failure"].outcome == "xfailed"
    assert (found.module, found.package, found.import_paths) == ("mypkg.stats", False, (root,))
    readable = {p.relative_to(root).as_posix() for p in found.package_files}
    assert {"mypkg/__init__.py", "mypkg/stats.py", "mypkg/util.py", "mypkg/data/weights.txt"} <= readable
    assert not readable & {"mypkg/settings.py", "tests/helpers.py", "tests/conftest.py", "tests/test_stats.py"}


def test_a_function_gets_the_tests_that_call_it(problem: Copy) -> None:
    root = problem("proj_pkg")
    loaded = load_problem(root / "mypkg" / "stats.py", function="variance")
    assert (loaded.kind, loaded.target) == (ProblemKind.MODULE, FunctionTarget("variance"))
    assert [t.id for t in loaded.tests] == ["tests/test_stats.py::test_variance"]
    test = loaded.tests[0]
    assert test.kind is Kind.PYTEST and test.line == 24 and test.path == root / "tests" / "test_stats.py"
    assert test.source is not None and test.source.startswith("def test_variance(sample):")
    assert loaded.project is not None and loaded.project.module == "mypkg.stats"
    assert any("pytest skipped 1 of the 10" in note for note in loaded.notes)


def test_project_tests_run_green_on_the_original(problem: Copy) -> None:
    root = problem("proj_pkg")
    loaded = load_problem(root / "mypkg" / "stats.py")  # several functions are called: the whole file
    assert loaded.target == WholeFile()
    suite = run_tests(loaded)
    assert set(verdicts(suite).values()) == {Verdict.AC}, suite
    assert suite.total == 9  # all but the skipped one
    skipped_note = [n for n in suite.notes if "skipped" in n]
    assert skipped_note == ["pytest skipped 1 of the 10 collected test(s): a skipped test never runs, so it is never "
                            "selected"]


def test_a_wrong_candidate_fails_with_pytests_comparison(problem: Copy) -> None:
    root = problem("proj_pkg")
    loaded = load_problem(root / "mypkg" / "stats.py", function="mean")
    wrong = loaded.source.replace("return util.total(xs) / len(xs)", "return util.total(xs) / (len(xs) + 1)")
    suite = run_tests(loaded.with_source(wrong))
    result = {r.test_id: r for r in suite.results}["tests/test_stats.py::test_mean"]
    assert (result.verdict, result.expected, result.actual) == (Verdict.WA, "5.0", "4.444444444444445")
    assert result.detail is not None and "assert 4.444444444444445 == 5.0" in result.detail
    assert verdicts(suite)["tests/test_stats.py::test_mean_of_nothing"] is Verdict.AC


def test_a_candidate_that_raises_is_re_and_a_broken_fixture_is_harness(problem: Copy) -> None:
    root = problem("proj_pkg")
    loaded = load_problem(root / "mypkg" / "stats.py", function="mean")
    raising = loaded.source.replace("    if not xs:\n", "    if xs:\n        raise KeyError('boom')\n    if not xs:\n")
    results = {r.test_id: r for r in run_tests(loaded.with_source(raising)).results}
    assert results["tests/test_stats.py::test_mean"].verdict is Verdict.RE
    assert "KeyError" in str(results["tests/test_stats.py::test_mean"].error)
    (root / "tests" / "conftest.py").write_text("import pytest\n\n\n@pytest.fixture\ndef sample():\n"
                                               "    raise OSError('no sample today')\n")
    results = {r.test_id: r for r in run_tests(loaded).results}
    broken = results["tests/test_stats.py::test_mean"]
    assert broken.verdict is Verdict.HARNESS and "no sample today" in (broken.detail or "")


def test_the_code_under_test_cannot_read_the_tests_or_files_its_package_never_read(problem: Copy) -> None:
    root = problem("proj_pkg")
    loaded = load_problem(root / "mypkg" / "stats.py", function="mean")
    peeking = loaded.source.replace(
        '    """The arithmetic mean of xs."""\n',
        '    """The arithmetic mean of xs."""\n'
        '    for name in ("../tests/helpers.py", "settings.py", "../tests/test_stats.py"):\n'
        '        try:\n'
        '            (Path(__file__).parent / name).read_text()\n'
        '        except PermissionError:\n'
        '            continue\n'
        '        return "read " + name\n')
    results = {r.test_id: r for r in run_tests(loaded.with_source(peeking)).results}
    assert results["tests/test_stats.py::test_mean"].verdict is Verdict.AC  # every read was refused
    assert results["tests/test_stats.py::test_variance"].verdict is Verdict.AC


def test_no_tests_call_it_says_what_was_collected(problem: Copy) -> None:
    root = problem("proj_pkg")
    (root / "mypkg" / "unused.py").write_text("def never():\n    return 1\n")
    with pytest.raises(NoTestsFound, match=r"10 test\(s\) collected in tests/, none calls `never`"):
        load_problem(root / "mypkg" / "unused.py", function="never")


def test_explicit_node_ids_and_keywords_narrow_the_tests(problem: Copy) -> None:
    root = problem("proj_pkg")
    stats = root / "mypkg" / "stats.py"
    by_node = load_problem(stats, function="mean", tests=f"{root / 'tests' / 'test_stats.py'}::test_mean_cases")
    assert [t.id for t in by_node.tests] == [f"tests/test_stats.py::test_mean_cases[{c}]"
                                            for c in ("xs0-1", "xs1-1.5", "xs2-1")]
    by_keyword = load_problem(stats, function="mean", keyword="nothing")
    assert [t.id for t in by_keyword.tests] == ["tests/test_stats.py::test_mean_of_nothing"]


def test_the_discovery_is_cached_until_a_test_changes(problem: Copy) -> None:
    root = problem("proj_pkg")
    stats = root / "mypkg" / "stats.py"
    first = discover(stats, root)
    assert len(list(cache_dir().glob("*.json"))) == 1
    started = time.perf_counter()
    again = discover(stats, root)
    assert again == first and time.perf_counter() - started < 1.0  # no test run
    stats.write_text(stats.read_text().replace("/ len(xs)", "/ float(len(xs))"))  # a body: same names
    assert discover(stats, root) == first
    test_file = root / "tests" / "test_stats.py"
    test_file.write_text(test_file.read_text() + "\n\ndef test_more():\n    assert mean([4]) == 4\n")
    changed = discover(stats, root)
    assert "tests/test_stats.py::test_more" in {t.nodeid for t in changed.tests}


def test_an_interpreter_without_pytest_says_so(tmp_path: Path, problem: Copy) -> None:
    root = problem("proj_pkg")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    bare = str(tmp_path / "bare" / "bin" / "python")
    found = discover(root / "mypkg" / "stats.py", root, python=bare)
    assert found.error == f"the project's tests need pytest in {bare}: {bare} -m pip install pytest"
    selection = select_tests(found, FunctionTarget("mean"))
    assert selection.tests == () and selection.why_none is not None and found.error in selection.why_none
    with pytest.raises(MissingPackage, match=r"need pytest in .* -m pip install pytest"):
        load_problem(root / "mypkg" / "stats.py", function="mean", python=bare)


def test_the_sidecar_keeps_its_precedence_in_a_project(problem: Copy) -> None:
    root = problem("proj_pkg")
    (root / "mypkg" / "stats.tests.json").write_text(json.dumps({"entry_point": "mean",
                                                                  "asserts": ["assert mean([2]) == 2"]}))
    loaded = load_problem(root / "mypkg" / "stats.py")
    assert [t.kind for t in loaded.tests] == [Kind.ASSERT] and loaded.project is None


@pytest.mark.parametrize(("module", "function", "name", "package"), [
    ("src/textkit/__init__.py", "slug", "textkit", True),
    ("src/textkit/parse/rows.py", "parse_row", "textkit.parse.rows", False),
    ("src/nsp/tools.py", "double", "nsp.tools", False),
])
def test_src_layouts_packages_and_namespace_packages(problem: Copy, module: str, function: str, name: str,
                                                     package: bool) -> None:
    root = problem("proj_src")
    loaded = load_problem(root / module, function=function)
    assert loaded.project is not None
    assert (loaded.project.module, loaded.project.package, loaded.project.import_paths) == (name, package,
                                                                                            (root / "src",))
    assert len(loaded.tests) == 1
    assert [r.verdict for r in run_tests(loaded).results] == [Verdict.AC]
    broken = loaded.source.replace("return", "return None or", 1)
    assert broken != loaded.source
    assert [r.verdict for r in run_tests(loaded.with_source(broken + "\n\ndef extra():\n    return 0\n")).results] \
        == [Verdict.AC]  # still the same behaviour: the edit keeps the result


def test_a_method_of_the_project_is_a_target_with_the_unittest_case_that_calls_it(problem: Copy) -> None:
    root = problem("proj_pkg")
    loaded = load_problem(f"{root / 'mypkg' / 'stats.py'}", function="Stats.spread")
    assert [t.id for t in loaded.tests] == ["tests/test_stats.py::TestSpread::test_spread"]
    assert [r.verdict for r in run_tests(loaded).results] == [Verdict.AC]
    wrong = loaded.source.replace("return max(self.xs) - min(self.xs)", "return max(self.xs)")
    (result,) = run_tests(loaded.with_source(wrong)).results
    assert result.verdict is Verdict.WA and "5 != 4" in (result.detail or "")
