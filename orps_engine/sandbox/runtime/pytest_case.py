"""One pytest item, run by pytest itself in the checker process against the solution's module.

Every import of the module under test (by the test, a ``conftest.py``, or another module of the
project) gives a proxy bound to the solution process (see ``imports``); the rest of the project
is the user's own code, imported from their files. pytest collects the one node id from the
project's root, with the project's configuration and fixtures, and runs it; hooks record each
phase's outcome and exception, and the comparison behind a failed ``assert``, and the checker
turns them into an outcome as it does for its own tests:

- the module under test failed to load, or raised where the test did not expect it:
  ``solution_error`` (its process ending: ``solution_exit``);
- an assertion failed: ``fail``, with pytest's comparison as actual vs expected;
- a fixture or the collection failed, or the item was skipped or not found: ``test_error``
  (never blamed on the solution);
- an ``xfail`` test that fails passes, as pytest counts it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

import pytest

from . import imports, rpc
from .protocol import CheckerSpec, CheckOutcome

Classify = Callable[[BaseException], CheckOutcome]
MAX_TEXT = 1000


def run(spec: CheckerSpec, endpoint: rpc.Endpoint, fill: Callable[[types.ModuleType], object], classify: Classify,
        show: Callable[[Any], str]) -> CheckOutcome:
    project = spec["project"]
    if project is None:
        return {"outcome": "test_error", "message": "a pytest test needs its project", "line": None}
    nodeid = spec["test"]["id"]
    binder = _Binder(fill)
    sys.path[:0] = [p for p in (project["root"], *project["sys_path"]) if p not in sys.path]  # as discover does
    imports.proxy_imports(project["module"], project["filename"], project["package"], binder.bind)
    endpoint.on_output = _print  # where pytest captures it, as the test's own output
    plugin = _ItemPlugin()
    args = [nodeid, "-p", "no:cacheprovider", "-q", "--no-header", "--tb=short", "-rN"]
    pytest.main(args, plugins=[plugin])
    return plugin.outcome(nodeid, binder, classify, show)


def _print(text: str) -> None:
    sys.stdout.write(text)


class _Binder:
    """Fills the proxy module from the solution's listing (the checker's ``fill_module``), when
    something first imports it, and keeps what went wrong doing so."""

    def __init__(self, fill: Callable[[types.ModuleType], object]) -> None:
        self.fill = fill
        self.error: BaseException | None = None

    def bind(self, module: types.ModuleType) -> None:
        try:
            self.fill(module)
        except BaseException as exc:
            self.error = exc
            raise


class _ItemPlugin:
    def __init__(self) -> None:
        self.reports: dict[str, Any] = {}  # when -> TestReport
        self.errors: dict[str, BaseException] = {}  # when -> the exception of that phase
        self.compared: tuple[str, Any, Any] | None = None
        self.collect_errors: list[str] = []
        self.collected: list[str] = []

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.collect_errors.append(str(report.longrepr).strip()[-MAX_TEXT:])

    def pytest_collection_finish(self, session: Any) -> None:
        self.collected = [str(item.nodeid) for item in session.items]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: Any, call: Any) -> None:
        if call.excinfo is not None:
            self.errors[call.when] = call.excinfo.value

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.reports[report.when] = report

    def pytest_assertrepr_compare(self, config: Any, op: str, left: Any, right: Any) -> None:
        self.compared = (op, left, right)

    # -- the outcome ----------------------------------------------------------------------------
    def outcome(self, nodeid: str, binder: _Binder, classify: Classify, show: Callable[[Any], str]) -> CheckOutcome:
        if binder.error is not None:
            return classify(binder.error)
        setup, call, teardown = (self.reports.get(when) for when in ("setup", "call", "teardown"))
        if setup is None:
            why = self.collect_errors[0] if self.collect_errors else f"pytest did not collect {nodeid}"
            return _test_error(f"the test could not be collected: {why}")
        if setup.failed:
            return self._phase_error("setup", classify, "a fixture failed")
        if call is None:
            return self._skipped(setup)
        if hasattr(call, "wasxfail") and call.skipped:
            return {"outcome": "pass"}  # an expected failure, as pytest counts it
        if call.failed:
            return self._failure(call, classify, show)
        if call.skipped:
            return self._skipped(call)
        if teardown is not None and teardown.failed:
            return self._phase_error("teardown", classify, "a fixture's teardown failed")
        return {"outcome": "pass"}

    def _failure(self, call: Any, classify: Classify, show: Callable[[Any], str]) -> CheckOutcome:
        error = self.errors.get("call")
        crash = getattr(call.longrepr, "reprcrash", None)
        message = str(getattr(crash, "message", "") or "the test failed")[:MAX_TEXT]
        line = getattr(crash, "lineno", None)
        if error is None:  # an xpass under xfail(strict=True)
            return {"outcome": "fail", "actual": None, "expected": None, "message": message, "line": None}
        if isinstance(error, AssertionError) and getattr(error, "orps_remote", None) is None:
            actual = expected = None
            if self.compared is not None:
                op, left, right = self.compared
                actual = show(left)
                expected = show(right) if op == "==" else f"{op} {show(right)}"
            return {"outcome": "fail", "actual": actual, "expected": expected, "message": message,
                    "line": line if isinstance(line, int) else None}
        return classify(error)

    def _phase_error(self, when: str, classify: Classify, what: str) -> CheckOutcome:
        error = self.errors.get(when)
        if error is not None and (getattr(error, "orps_remote", None) is not None
                                  or isinstance(error, rpc.ProtocolError)):
            return classify(error)  # the solution's, though raised in a fixture
        report = self.reports[when]
        crash = getattr(report.longrepr, "reprcrash", None)
        return _test_error(f"{what}: {getattr(crash, 'message', None) or report.longrepr}")

    @staticmethod
    def _skipped(report: Any) -> CheckOutcome:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3 else ""
        return _test_error(f"the test was skipped{': ' + str(reason) if reason else ''}")


def _test_error(message: str) -> CheckOutcome:
    return {"outcome": "test_error", "message": message[:MAX_TEXT], "line": None}
