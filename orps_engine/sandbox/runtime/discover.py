"""The discover run: collect a project's tests with pytest and run them once on the user's own code,
noting which functions of one file each test calls, directly or through other code.

It runs in the sandbox, from the project's root, as ``python -m pytest`` run there would (collecting
imports the user's code, and so does running it): pytest's own collection (its rootdir,
``testpaths``, ``python_files``, ``conftest.py`` fixtures, parametrize, markers) decides what
the tests are; nothing here reads a test file. While the tests run, a profiler watches for calls
of code defined in the target file (``sys.monitoring`` on 3.12+, ``sys.setprofile`` before), and
an audit hook notes the files the user's package code opens, so that later runs of candidate
code may read exactly those.

The report (``protocol.DiscoverReport``) goes to the parent on ``CONTROL_FD``. Standard library
only, but for pytest, which is the user's (imported from their interpreter).
"""

from __future__ import annotations

import ast
import os
import socket
import sys
import threading
from types import CodeType, FrameType
from typing import Any, Literal

from . import protocol, wire
from .protocol import DiscoveredItem, DiscoverJob, DiscoverReport, DiscoverSpec

_MONITORING: Any = getattr(sys, "monitoring", None)  # 3.12+
MAX_ITEMS = 20_000
MAX_ERRORS = 200
MAX_ERROR_TEXT = 2000
MAX_FILES = 5000


def main(job: DiscoverJob) -> int:
    ctl = socket.socket(fileno=protocol.CONTROL_FD)
    spec = protocol.read_discover_spec(wire.recv(ctl))
    wire.send(ctl, discover(spec))
    return 0


def discover(spec: DiscoverSpec) -> DiscoverReport:
    try:
        import pytest
    except ImportError:
        return _failure(f"pytest is not installed for {sys.executable}")
    root = os.path.realpath(spec["root"])
    # As ``python -m pytest`` run from the root: the root is importable (the common way to run a
    # project's tests without installing it).
    sys.path[:0] = [p for p in (root, *spec["sys_path"]) if p not in sys.path]
    recorder = Recorder(os.path.realpath(spec["target_file"]), root)
    sys.addaudithook(recorder.audit)
    plugin = _Plugin(recorder)
    args = [*spec["args"], "-p", "no:cacheprovider", "-q", "--no-header", "--tb=no", "-rN"]
    try:
        code = pytest.main(args, plugins=[plugin])
    finally:
        recorder.stop()
    error = None
    if not plugin.items and int(code) in (3, 4):  # internal error, usage error: nothing ran
        error = f"pytest stopped with exit code {int(code)}: {plugin.usage_error or 'see its output'}"
    module, package = _target_module(recorder.target)
    return {"error": error, "items": plugin.report_items(), "collect_errors": plugin.collect_errors[:MAX_ERRORS],
            "module": module, "package": package, "package_files": recorder.package_files(plugin.test_files()),
            "pytest_version": str(getattr(pytest, "__version__", "?"))}


def _failure(error: str) -> DiscoverReport:
    return {"error": error, "items": [], "collect_errors": [], "module": None, "package": False,
            "package_files": [], "pytest_version": ""}


class Recorder:
    """Calls of the target file's functions, by test; and files opened below the root, by whom."""

    def __init__(self, target: str, root: str) -> None:
        self.target, self.root = target, root
        self.current: str | None = None
        self.calls: dict[str, set[str]] = {}
        self.opened: dict[str, str] = {}  # file -> the innermost file below the root that opened it
        self._spans = _spans(target)
        self._is_target: dict[str, bool] = {}
        self._monitoring = False

    # -- calls --------------------------------------------------------------------------------
    def start(self) -> None:
        monitoring = _MONITORING
        if monitoring is not None:
            tool = monitoring.OPTIMIZER_ID
            if monitoring.get_tool(tool) is None:
                monitoring.use_tool_id(tool, "orps")
                monitoring.register_callback(tool, monitoring.events.PY_START, self._on_start)
                monitoring.set_events(tool, monitoring.events.PY_START)
                self._monitoring = True
                return
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)

    def stop(self) -> None:
        if self._monitoring:
            monitoring = _MONITORING
            monitoring.set_events(monitoring.OPTIMIZER_ID, 0)
            monitoring.free_tool_id(monitoring.OPTIMIZER_ID)
            self._monitoring = False
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type, unused-ignore]

    def _on_start(self, code: CodeType, offset: int) -> object:
        if not self._in_target(code.co_filename):
            disable: object = _MONITORING.DISABLE
            return disable  # never again for this code: no cost after
        self._record(code)
        return None

    def _profile(self, frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and self._in_target(frame.f_code.co_filename):
            self._record(frame.f_code)

    def _in_target(self, filename: str) -> bool:
        found = self._is_target.get(filename)
        if found is None:
            found = self._is_target[filename] = os.path.realpath(filename) == self.target
        return found

    def _record(self, code: CodeType) -> None:
        if self.current is None:
            return
        name = _owner(self._spans, code.co_firstlineno)
        if name is not None:  # module-level code (the file being imported) is no function's call
            self.calls.setdefault(self.current, set()).add(name)

    # -- files --------------------------------------------------------------------------------
    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or len(self.opened) >= MAX_FILES or not args or not isinstance(args[0], (str, bytes)):
            return
        path = os.fsdecode(args[0])
        if not os.path.isabs(path):
            path = os.path.join(os.getcwd(), path)
        path = os.path.realpath(path)
        if not path.startswith(self.root + os.sep) or path in self.opened:
            return
        self.opened[path] = self._opener()

    def _opener(self) -> str:
        frame: FrameType | None = sys._getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(self.root + os.sep) or os.path.realpath(filename).startswith(self.root + os.sep):
                return os.path.realpath(filename)
            frame = frame.f_back
        return ""

    def package_files(self, test_files: set[str]) -> list[str]:
        """The user's own code, as opposed to the tests: the modules below the root that were
        imported and are not test code, and the files such modules opened."""
        test_dirs = {os.path.dirname(f) for f in test_files} - {os.path.dirname(self.target)}

        def is_test(path: str) -> bool:
            name = os.path.basename(path)
            return (path in test_files or name == "conftest.py" or name.startswith("test_")
                    or name.endswith("_test.py") or any(path.startswith(d + os.sep) for d in test_dirs))

        modules = set()
        for module in list(sys.modules.values()):
            filename = getattr(module, "__file__", None)
            if isinstance(filename, str):
                path = os.path.realpath(filename)
                if path.startswith(self.root + os.sep) and os.path.isfile(path) and not is_test(path):
                    modules.add(path)
        data = {path for path, opener in self.opened.items() if opener in modules and not is_test(path)}
        return sorted(modules | data)[:MAX_FILES]


class _Plugin:
    """pytest hooks: the collected items, each one's outcome, and which test is running."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.items: list[Any] = []
        self.phases: dict[str, dict[str, Any]] = {}  # nodeid -> when -> report
        self.collect_errors: list[str] = []
        self.usage_error = ""

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            self.collect_errors.append(f"{report.nodeid or '.'}: {(text[-1] if text else 'failed')}"[:MAX_ERROR_TEXT])

    def pytest_collection_finish(self, session: Any) -> None:
        self.items = list(session.items)[:MAX_ITEMS]
        self.recorder.start()

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.recorder.current = nodeid

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.recorder.current = None

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.phases.setdefault(report.nodeid, {})[report.when] = report

    def test_files(self) -> set[str]:
        return {os.path.realpath(str(item.path)) for item in self.items if getattr(item, "path", None)}

    def report_items(self) -> list[DiscoveredItem]:
        found: list[DiscoveredItem] = []
        for item in self.items:
            path = os.path.realpath(str(getattr(item, "path", "") or ""))
            location = getattr(item, "location", None) or ("", None, "")
            line = location[1] + 1 if isinstance(location[1], int) else 0
            found.append({"nodeid": str(item.nodeid), "file": path, "line": line,
                          "function": _function_name(item), "outcome": outcome(self.phases.get(item.nodeid, {})),
                          "calls": sorted(self.recorder.calls.get(item.nodeid, ()))})
        return found


def outcome(phases: dict[str, Any]) -> Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]:
    """A test's outcome from its phases' reports (setup, call, teardown), as pytest counts it."""
    setup, call, teardown = phases.get("setup"), phases.get("call"), phases.get("teardown")
    if setup is None:
        return "skipped"  # never ran (deselected, or the session stopped)
    if setup.failed:
        return "error"
    if setup.skipped or call is None:
        return "xfailed" if hasattr(setup, "wasxfail") else "skipped"
    if hasattr(call, "wasxfail"):
        result: Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"] = (
            "xfailed" if call.skipped else "xpassed" if call.passed else "failed")
    else:
        result = "passed" if call.passed else "skipped" if call.skipped else "failed"
    if teardown is not None and teardown.failed and result in ("passed", "xpassed"):
        return "error"
    return result


def _function_name(item: Any) -> str:
    """The test function's qualified name in its file: ``TestX.test_y`` for ``f.py::TestX::test_y[1]``."""
    parts = str(item.nodeid).split("::")[1:]
    if parts:
        parts[-1] = parts[-1].split("[", 1)[0]
    return ".".join(parts)


def _spans(path: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function of the file that can be a
    target: top-level functions and methods (``Class.method``), decorators included in the span."""
    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[tuple[int, int, str]] = []

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                found.append((first, int(node.end_lineno or node.lineno), f"{prefix}{node.name}"))
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return found


def _owner(spans: list[tuple[int, int, str]], line: int) -> str | None:
    """The function whose lines hold ``line``: a nested function, a lambda or a comprehension
    counts as a call of the function it is written in."""
    holding = [(last - first, name) for first, last, name in spans if first <= line <= last]
    return min(holding)[1] if holding else None


def _target_module(target: str) -> tuple[str | None, bool]:
    """The dotted name the target file was imported as (the longest, if several), and whether it
    is a package."""
    names = []
    for name, module in list(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if isinstance(filename, str) and os.path.realpath(filename) == target:
            names.append((name.count("."), name, hasattr(module, "__path__")))
    if not names:
        return None, False
    _depth, name, package = max(names)
    return name, package

