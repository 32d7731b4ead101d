"""The checker: runs one of the user's tests, in its own sandboxed process, against the solution.

The solution lives in another process; here its module is a proxy (see ``rpc``), so the test's
own code, its expected values and every comparison stay out of the solution's reach. The
checker receives its test (``protocol.CheckerSpec``) from the parent on ``CONTROL_FD`` and sends
back a ``protocol.CheckerReport`` with an outcome:

- ``pass``: the test ran to its end;
- ``fail``: an assertion failed (with actual and expected), or the test raised once the
  solution had answered (e.g. it returned the wrong type);
- ``solution_error``: the solution raised, and the test did not expect it;
- ``solution_exit``: the solution's process ended, or broke the protocol, before the test did;
- ``test_error``: the test broke before the solution was involved (never the solution's fault).

Everything of the solution's that goes into a report (an exception's type, message, line, what it
printed) is converted and bounded here, so no answer of the solution's can make the report
malformed or large; a frame it forges on the socket is its own failure (``solution_exit``).

Imports: the checker must never import one of its own modules from the solution's folder, nor get
the solution's module for one of them (a solution named ``doctest.py`` would otherwise decide its
doctests' outcome). So what the test's kind needs (``doctest``) is imported first; then the
solution's folder goes on ``sys.path`` *after* the interpreter's own entries (the tests' helpers
import from it, but nothing the standard library or an installed package provides is found there
first); only then is the solution's module bound, as every import of its name, by the tests.

The CPU time this process spends running the tests' callables on the solution's behalf (the
solution calls a key function the test passed) is reported (``callback_cpu_ms``): the parent bills
it to the solution. A solution that keeps a callback running until this process reaches its CPU
limit gets that report too, sent from the SIGXCPU handler (the hard limit is a second later), so
the parent judges it TLE instead of finding a checker that died without a report.
"""

from __future__ import annotations

import ast
import builtins
import io
import os
import resource
import signal
import socket
import sys
import traceback
import types
from typing import Any, cast

from . import behaviour, codec, protocol, rpc, wire
from .protocol import CheckerJob, CheckerReport, CheckerSpec, CheckOutcome, ErrorInfo, ExcInfo

MAX_REPR = 1000
MAX_TYPE_NAME = 200
MAX_TRACE = 4000
MAX_OUTPUT = 64 * 1024  # a doctest's output, an outcome's actual, expected or message
_BUILTIN_NAMES = frozenset(dir(builtins))


class _AssertFailed(AssertionError):
    def __init__(self, actual: str | None, expected: str | None, message: str) -> None:
        super().__init__(message)
        self.actual, self.expected = actual, expected


def main(job: CheckerJob) -> int:
    ctl = socket.socket(fileno=protocol.CONTROL_FD)
    spec = protocol.read_spec(wire.recv(ctl))
    own = _own_modules(spec["test"]["kind"])  # before the solution's folder or module can answer for them
    sys.path.extend(p for p in spec.get("sys_path", []) if type(p) is str and p not in sys.path)
    endpoint = rpc.Endpoint(socket.socket(fileno=protocol.RPC_FD), serve_ops=rpc.CHECKER_OPS)
    recorder = None
    if spec.get("record_calls"):
        recorder = behaviour.Recorder(lambda handle: endpoint.request("snapshot", handle._orps_id),
                                      lambda value: type(value) is rpc.Remote)
        endpoint.observer = recorder.record
    _report_on_cpu_limit(ctl, endpoint)
    outcome = _bounded(Checker(spec, endpoint, own).run())
    wire.send(ctl, _report(outcome, endpoint, recorder))
    return 0


def _report(outcome: CheckOutcome, endpoint: rpc.Endpoint, recorder: behaviour.Recorder | None,
            callback_cpu_s: float | None = None) -> CheckerReport:
    busy_s = endpoint.busy_s - (recorder.busy_s if recorder is not None else 0.0)  # describing is not the solution
    billed_s = endpoint.served_cpu_so_far() if callback_cpu_s is None else callback_cpu_s
    report = cast(CheckerReport, {**outcome, "solution_ms": round(max(0.0, busy_s) * 1000, 3),
                                  "calls": endpoint.calls, "callback_cpu_ms": round(billed_s * 1000, 3)})
    if recorder is not None:
        report["behaviour"] = recorder.calls
        report["behaviour_truncated"] = recorder.truncated
    return report


def _report_on_cpu_limit(ctl: socket.socket, endpoint: rpc.Endpoint) -> None:
    """At the soft CPU limit: if a callback of the tests' is running for the solution, the limit
    was reached on the solution's behalf, so all of this process's CPU is billed to it (the parent
    then finds it over the limit: TLE), reported before exiting; otherwise the test's own code used
    it up, and the checker dies of it as it would without this handler."""
    limit_s = float(resource.getrlimit(resource.RLIMIT_CPU)[0])  # read now: each SIGXCPU raises it by 1 s

    def at_limit(signum: int, _frame: object) -> None:
        if not endpoint.serving:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        # The kernel's account of the limit can run ahead of getrusage's: the limit was reached.
        used_s = max(usage.ru_utime + usage.ru_stime, limit_s)
        outcome: CheckOutcome = {"outcome": "solution_exit",
                                 "message": "kept the tests' callables running until the CPU limit"}
        try:
            wire.send(ctl, _report(outcome, endpoint, None, callback_cpu_s=used_s))
        finally:
            os._exit(0)

    signal.signal(signal.SIGXCPU, at_limit)


def _own_modules(kind: str) -> dict[str, types.ModuleType]:
    """The modules the checker needs for a test of ``kind``, imported while only the interpreter's
    own paths and modules can answer (``doctest`` costs the zygote's start ~12 ms, so it is not
    imported at the top)."""
    if kind != "doctest":
        return {}
    import doctest

    return {"doctest": doctest}


def _bounded(outcome: CheckOutcome) -> CheckOutcome:
    """The outcome with each text cut to ``MAX_OUTPUT``: they hold what the solution printed or
    returned (a doctest's output, the repr of a huge value), whose size it chose."""
    cut = dict(outcome)
    for key in ("actual", "expected", "message"):
        text = cut.get(key)
        if type(text) is str and len(text) > MAX_OUTPUT:
            cut[key] = text[: MAX_OUTPUT - 3] + "..."
    return cast(CheckOutcome, cut)


class Checker:
    def __init__(self, spec: CheckerSpec, endpoint: rpc.Endpoint, own: dict[str, types.ModuleType]) -> None:
        self.spec = spec
        self.test = spec["test"]
        self.ep = endpoint
        self.own = own
        self.out = io.StringIO()
        endpoint.on_output = self._capture

    def run(self) -> CheckOutcome:
        if self.test["kind"] == "pytest":
            return self._run_pytest()
        try:
            globs = self._bind_solution()
        except BaseException as exc:
            return self._classify(exc)
        try:
            if self.spec["setup"]:
                self._exec(self.spec["setup"], self.spec["setup_filename"], 1, globs)
            if self.test["kind"] == "doctest":
                return self._run_doctest(globs)
            self._exec(self.test["source"], self.test["filename"], self.test["line"], globs, rewrite=True)
        except BaseException as exc:
            return self._classify(exc)
        return {"outcome": "pass"}

    def _run_pytest(self) -> CheckOutcome:
        try:
            from . import pytest_case
        except ImportError as exc:
            return {"outcome": "test_error", "message": f"pytest is not installed for {sys.executable} ({exc})",
                    "line": None}
        return pytest_case.run(self.spec, self.ep, self.fill_module, self._classify, _show)

    def _capture(self, text: str) -> None:
        self.out.write(text)

    # -- binding the solution -----------------------------------------------------------------
    def _bind_solution(self) -> dict[str, Any]:
        """The test's namespace: the solution's public names, as plain Python's ``from module import *``
        would bind them, except those that would shadow a builtin the user's own file does not
        define (a candidate's ``abs`` that always returns 0 must not judge ``abs(f(x) - y) < eps``).
        The module proxy keeps every name, so ``module.abs`` still reaches the solution's."""
        name = self.spec["module"]
        proxy = types.ModuleType(name)
        bound = self.fill_module(proxy)
        sys.modules[name] = proxy
        globs: dict[str, Any] = {"__name__": "__orps_test__", "__builtins__": builtins}
        globs.update(bound)
        globs.update(__orps_calls=lambda: self.ep.calls, __orps_fail=self._fail,
                     __orps_fail_plain=self._fail_plain)
        return globs

    def fill_module(self, proxy: types.ModuleType) -> dict[str, Any]:
        """Make ``proxy`` the solution's module: every name of it (the rest through ``__getattr__``),
        with an ``__all__`` that leaves out names shadowing builtins the user's file does not define.
        Returns the names a star import binds. Also where the objects that may cross by value are
        agreed on (both processes must)."""
        name = self.spec["module"]
        by_value = list(self.spec.get("by_value_modules", []))
        self.ep.codec.share_by_value(by_value, own_module=name)
        listing = self.ep.request("module", value=by_value)
        if not (type(listing) is dict and type(listing.get("names")) is dict
                and all(type(k) is str for k in listing["names"])
                and (type(listing.get("all", [])) is list and all(type(k) is str for k in listing.get("all", [])))):
            raise rpc.ProtocolError("a malformed module listing")
        names: dict[str, Any] = listing["names"]
        exported: list[str] = listing.get("all", list(names))
        kept = set(self.spec.get("builtin_names_kept", []))
        shadowing = {n for n in (*names, *exported) if n in _BUILTIN_NAMES and n not in kept}
        proxy.__dict__.update(names)
        proxy.__dict__["__all__"] = [n for n in exported if n not in shadowing]  # for ``from module import *``
        remote_module = listing["module"]
        setattr(proxy, "__getattr__", lambda attr: getattr(remote_module, attr))  # noqa: B010 (PEP 562)
        self.ep.name_proxy(remote_module, name.rpartition(".")[2])
        for key, value in names.items():
            self.ep.name_proxy(value, key)
        return {k: v for k, v in names.items() if k not in shadowing}

    def _exec(self, source: str, filename: str, line: int, globs: dict[str, Any],
              rewrite: bool = False) -> None:
        tree = ast.parse(source, filename)
        if rewrite:
            tree = ast.fix_missing_locations(_AssertRewriter(source).visit(tree))
        ast.increment_lineno(tree, max(0, line - 1))
        exec(compile(tree, filename, "exec", dont_inherit=True), globs)

    # -- assertion reporting --------------------------------------------------------------------
    def _fail(self, left: Any, right: Any, op: str, msg: Any, src: str, left_is_actual: bool) -> None:
        actual, expected = (left, right) if left_is_actual else (right, left)
        shown_expected = _show(expected) if op == "Eq" else f"{_OPS.get(op, op)} {_show(expected)}"
        raise _AssertFailed(_show(actual), shown_expected, _message(msg, src))

    def _fail_plain(self, msg: Any, src: str, before: int) -> None:
        actual = _show(self.ep.last_result) if self.ep.calls > before else None
        raise _AssertFailed(actual, f"true: {src}", _message(msg, src))

    # -- doctests -----------------------------------------------------------------------------
    def _run_doctest(self, globs: dict[str, Any]) -> CheckOutcome:
        doctest = self.own["doctest"]
        test, filename = self.test, self.test["filename"]
        for source in test["context"]:
            try:
                self._exec_single(source, filename, globs)
            except BaseException:
                pass
        self.out.seek(0)
        self.out.truncate()
        exc: BaseException | None = None
        try:
            self._exec_single(test["source"], filename, globs, line=test["line"])
        except BaseException as raised:
            exc = raised
        got = self.out.getvalue()
        checker, flags = doctest.OutputChecker(), test["flags"]
        exc_msg, want = test["exc_msg"], test["want"] or ""
        if exc is None:
            if exc_msg is None and checker.check_output(want, got, flags):
                return {"outcome": "pass"}
            expected = want if exc_msg is None else f"Traceback ...\n{exc_msg}"
            return {"outcome": "fail", "actual": got, "expected": expected, "message": "output differs"}
        if exc_msg is None:
            return self._classify(exc)
        got_exc = traceback.format_exception_only(type(exc), exc)[-1][:MAX_OUTPUT]
        if checker.check_output(exc_msg, got_exc, flags) or (
                flags & doctest.IGNORE_EXCEPTION_DETAIL and type(exc).__name__ in exc_msg):
            return {"outcome": "pass"}
        return {"outcome": "fail", "actual": got + got_exc, "expected": exc_msg,
                "message": "raised a different exception"}

    def _exec_single(self, source: str, filename: str, globs: dict[str, Any], line: int = 1) -> None:
        saved = sys.stdout
        sys.stdout = self.out
        try:
            tree = ast.parse(source, filename, mode="single")
            ast.increment_lineno(tree, max(0, line - 1))
            exec(compile(tree, filename, "single", dont_inherit=True), globs)
        finally:
            sys.stdout = saved

    # -- outcomes -----------------------------------------------------------------------------
    def _classify(self, exc: BaseException) -> CheckOutcome:
        info = getattr(exc, "orps_remote", None)
        if info is not None:
            return {"outcome": "solution_error", "error": _error(info)}
        if isinstance(exc, rpc.ProtocolError):  # gone: the parent says how it ended, from its exit status
            return {"outcome": "solution_exit"} if exc.gone else {
                "outcome": "solution_exit", "message": f"broke the protocol: it sent {exc}"[:MAX_REPR]}
        if isinstance(exc, _AssertFailed):
            return {"outcome": "fail", "actual": exc.actual, "expected": exc.expected,
                    "message": str(exc), "line": rpc.user_frame_line(exc, self.test["filename"])}
        line = rpc.user_frame_line(exc, self.test["filename"])
        described = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, (AssertionError, codec.CodecError)) or _is_pytest_failure(exc):
            return {"outcome": "fail", "actual": _show(self.ep.last_result) if self.ep.calls else None,
                    "expected": None, "message": described[:MAX_REPR], "line": line}
        if self.ep.calls:
            return {"outcome": "fail", "actual": _show(self.ep.last_result), "expected": None,
                    "message": f"the test raised {described}"[:MAX_REPR], "line": line}
        return {"outcome": "test_error", "message": f"the test itself failed: {described}"[:MAX_REPR],
                "line": line}


def _is_pytest_failure(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("_pytest") and type(exc).__name__ in ("Failed", "OutcomeException")


def _error(info: ExcInfo) -> ErrorInfo:
    """The solution's description of its exception, made well-formed (the solution sent it)."""
    line = info.get("line")
    return {"type": str(info.get("type"))[:MAX_TYPE_NAME], "message": str(info.get("message", ""))[:MAX_REPR],
            "line": line if type(line) is int else None, "trace": str(info.get("trace", ""))[-MAX_TRACE:]}


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<unrepresentable: {type(exc).__name__}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


def _message(msg: Any, src: str) -> str:
    return f"{src}: {msg}" if msg is not None else src


_OPS = {"Eq": "==", "NotEq": "!=", "Lt": "<", "LtE": "<=", "Gt": ">", "GtE": ">=", "Is": "is",
        "IsNot": "is not", "In": "in", "NotIn": "not in"}


class _AssertRewriter(ast.NodeTransformer):
    """Rewrites ``assert a OP b`` so a failure can report both sides."""

    def __init__(self, source: str) -> None:
        self.source = source

    def visit_Assert(self, node: ast.Assert) -> list[ast.stmt]:
        src = (ast.get_source_segment(self.source, node.test) or "assertion").strip()
        msg = node.msg or ast.Constant(None)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            op = test.ops[0]
            stmts = _parse(node,
                "__orps_c0 = __orps_calls()\n__orps_l = L\n__orps_c1 = __orps_calls()\n__orps_r = R\n"
                "if not (__orps_l OP __orps_r):\n"
                "    __orps_fail(__orps_l, __orps_r, NAME, MSG, SRC,\n"
                "                __orps_c1 > __orps_c0 or __orps_calls() == __orps_c1)\n")
            _fill(stmts, {"L": test.left, "R": test.comparators[0], "MSG": msg,
                          "NAME": ast.Constant(type(op).__name__), "SRC": ast.Constant(src)}, op)
        else:
            stmts = _parse(node, "__orps_c0 = __orps_calls()\nif not (T):\n"
                                 "    __orps_fail_plain(MSG, SRC, __orps_c0)\n")
            _fill(stmts, {"T": test, "MSG": msg, "SRC": ast.Constant(src)}, None)
        return stmts


def _parse(where: ast.stmt, template: str) -> list[ast.stmt]:
    """The template's statements, every node placed at ``where`` so tracebacks point there."""
    body = ast.parse(template.replace("OP", "==")).body
    for stmt in body:
        for child in ast.walk(stmt):
            if hasattr(child, "lineno"):
                ast.copy_location(child, where)
    return body


def _fill(stmts: list[ast.stmt], values: dict[str, ast.expr], op: ast.cmpop | None) -> None:
    class _Sub(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return values.get(node.id, node)

        def visit_Compare(self, node: ast.Compare) -> ast.expr:
            self.generic_visit(node)
            if op is not None and isinstance(node.left, ast.Name) and node.left.id == "__orps_l":
                node.ops = [op]
            return node

    for i, stmt in enumerate(stmts):
        stmts[i] = _Sub().visit(stmt)
