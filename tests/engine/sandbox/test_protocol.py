"""The sandbox protocol: every message survives ``wire`` as its reader expects it, the version is
checked in the handshake, the fds are distinct, and a malformed message (above all the checker's
report) is refused and judged HARNESS, never read as a verdict."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, get_args

import pytest

from orps_engine import Verdict, load_problem, run_tests
from orps_engine.errors import HarnessError
from orps_engine.judge import judge_function
from orps_engine.sandbox import FunctionRun, Limits, Outcome, RawRun, Sandbox
from orps_engine.sandbox.records import MAX_TEXT, CheckerReport, parse_report
from orps_engine.sandbox.runtime import protocol, rpc, wire

LIMITS: protocol.JobLimits = {"cpu_s": 2.0, "wall_s": 5.0, "memory_kb": 262144, "output_bytes": 8388608,
                              "file_bytes": 67108864, "nofile": 64, "nproc": 64, "stack_bytes": 268435456,
                              "subprocesses": False, "disk_bytes": 67108864, "disk_files": 4096}
COMMON: protocol.JobCommon = {"op": "run", "id": 7, "session": 3, "workdir": "/tmp/w7", "uid": None, "limits": LIMITS,
                              "counted": {"type": 0, "config": 1}, "read_paths": ["/usr"], "list_paths": [],
                              "cwd": None}
INTERPRETER: protocol.Interpreter = {"executable": "/usr/bin/python3", "version": [3, 11, 7],
                                     "prefixes": ["/usr"] * 4, "library_paths": ["/usr/lib/python3.11"],
                                     "sys_path": ["/usr/lib/python3.11"], "startup_cpu_ms": 14.5}
PROGRAM: protocol.ProgramJob = {**COMMON, "role": "program", "source": "print(1)", "filename": "/p.py", "stdin": None,
                                "argv": ["42"], "files": {"input.txt": "1 2\n"}}
SOLUTION: protocol.SolutionJob = {**COMMON, "role": "solution", "source": "x = 1", "filename": "/m.py",
                                  "module": "m", "package": False, "sys_path": []}
CHECKER: protocol.CheckerJob = {**COMMON, "role": "checker"}
CRASH: protocol.CrashInfo = {"type": "ZeroDivisionError", "message": "division by zero", "line": 4}
RESULT: protocol.RunResult = {"op": "result", "id": 7, "exit_code": 1, "signal": None, "timed_out": False,
                              "output_exceeded": False, "wall_ms": 12.5, "cpu_ms": 3.25, "peak_kb": 100,
                              "instructions": None, "stdout": "out\n", "stderr": "Traceback ...", "crash": CRASH,
                              "notes": ["a note"]}
COUNTED_PROGRAM: protocol.ProgramJob = {**PROGRAM, "bytecode_token": "0123456789abcdef"}
COUNTED_RESULT: protocol.RunResult = {**RESULT, "bytecodes": 123456}
COUNT: protocol.OpCount = {"bytecodes": 123456, "intact": True, "token": "0123456789abcdef"}
FAILED: protocol.RunFailed = {"op": "failed", "id": 7, "harness_error": "sandbox setup failed: no reply", "notes": []}
SPEC: protocol.CheckerSpec = {"module": "m", "setup": "import os", "setup_filename": "<setup>",
                              "test": {"id": "1", "kind": "doctest", "source": "f(1)", "filename": "/m.py", "line": 3,
                                       "want": "2\n", "exc_msg": None, "context": ["x = 1"], "flags": 0},
                              "project": None}
ERROR: protocol.ErrorInfo = {"type": "KeyError", "message": "'k'", "line": 2, "trace": "Traceback ..."}
REPORT: protocol.CheckerReport = {"outcome": "solution_error", "error": ERROR, "solution_ms": 0.5, "calls": 1,
                                  "callback_cpu_ms": 0.0}
FAIL_REPORT: protocol.CheckerReport = {"outcome": "fail", "actual": "-1", "expected": "3", "message": "f() == 3",
                                       "line": 1, "solution_ms": 0.25, "calls": 1, "callback_cpu_ms": 0.125}
EXC: protocol.ExcInfo = {"type": "ValueError", "module": "builtins", "message": "bad", "args": ["bad"], "line": None,
                         "trace": ""}

# Every message of the protocol, with the reader its receiver checks it with (None: none needed).
MESSAGES: list[tuple[str, Mapping[str, object], Callable[[object], object] | None]] = [
    ("hello", protocol.hello(["json"]), protocol.read_hello),
    ("ready", protocol.ready(["no network namespace"], 3, INTERPRETER), protocol.read_ready),
    ("preload", {"op": "preload", "modules": ["numpy"]}, protocol.read_request),
    ("preloaded", {"op": "preloaded"}, protocol.read_preloaded),
    ("shutdown", {"op": "shutdown"}, protocol.read_request),
    ("close", {"op": "close", "session": 3}, protocol.read_request),
    ("program job", PROGRAM, protocol.read_request),
    ("counted program job", COUNTED_PROGRAM, protocol.read_request),
    ("solution job", SOLUTION, protocol.read_request),
    ("checker job", CHECKER, protocol.read_request),
    ("run result", RESULT, protocol.read_result),
    ("counted run result", COUNTED_RESULT, protocol.read_result),
    ("counted run result, no count", {**RESULT, "bytecodes": None}, protocol.read_result),
    ("bytecode count", COUNT, protocol.read_count),
    ("run failed", FAILED, protocol.read_result),
    ("crash", CRASH, protocol.read_crash),
    ("setup done", {"setup": "done", "cpu_s": 0.012, "maxrss_kb": 9000, "notes": []}, protocol.read_setup),
    ("setup failed", {"setup": "failed", "error": "OSError: no"}, protocol.read_setup),
    ("host ready", {"op": "host", "error": None, "notes": ["no IPC namespace"]}, protocol.read_host_ready),
    ("host failed", {"op": "host", "error": "OSError: no", "notes": []}, protocol.read_host_ready),
    ("host fork", {"op": "fork", "job": PROGRAM, "fds": [0, 1, 2, 5, 6, 7, 8]}, protocol.read_host_fork),
    ("host forked", {"op": "forked"}, protocol.read_host_forked),
    ("host status", {"wait_status": 256, "cpu_s": 0.001, "maxrss_kb": 9000}, protocol.read_status),
    ("checker spec", SPEC, protocol.read_spec),
    ("checker report", REPORT, protocol.read_report),
    ("failing report", FAIL_REPORT, protocol.read_report),
    ("rpc request", {"id": 3, "op": "call", "obj": 1, "args": [1, {"$t": [2]}], "kwargs": {"k": None}}, None),
    ("rpc reply", {"re": 3, "ok": [1], "out": "printed\n", "mut": [{"where": "arg", "key": 0, "value": [2]}]}, None),
    ("rpc error reply", {"re": 4, "exc": EXC}, None),
]


@pytest.mark.parametrize(("message", "reader"), [pytest.param(m, r, id=name) for name, m, r in MESSAGES])
def test_protocol_message_roundtrips_through_wire(message: Mapping[str, object],
                                                  reader: Callable[[object], object] | None) -> None:
    left, right = socket.socketpair()
    with left, right:
        wire.send(left, message)
        back = wire.recv(right)
    assert back == message
    if reader is not None:
        assert reader(back) == message


def test_protocol_job_fds_travel_with_the_job() -> None:
    left, right = socket.socketpair()
    extra_a, extra_b = socket.socketpair()
    with left, right, extra_a, extra_b:
        wire.send(left, CHECKER, [extra_a.fileno(), extra_b.fileno()])
        back, fds = wire.recv_with_fds(right)
    try:
        assert back == CHECKER and len(fds) == len(protocol.PASSED_FDS["checker"])
    finally:
        for fd in fds:
            os.close(fd)


def test_protocol_fds_each_have_one_meaning() -> None:
    named = [protocol.STDIN_FD, protocol.STDOUT_FD, protocol.STDERR_FD, protocol.RPC_FD, protocol.CONTROL_FD,
             protocol.SETUP_FD, protocol.GO_FD, protocol.STATUS_FD, protocol.CRASH_FD, protocol.HOST_FD,
             protocol.COUNT_FD]
    assert len(set(named)) == len(named)
    passed = {fd for fds in protocol.PASSED_FDS.values() for fd in fds}
    assert passed == {protocol.RPC_FD, protocol.CONTROL_FD}


# -- the version ----------------------------------------------------------------------------------
def test_protocol_hello_of_another_version_is_refused() -> None:
    hello = {**protocol.hello([]), "version": protocol.PROTOCOL_VERSION + 1}
    with pytest.raises(protocol.VersionMismatch) as caught:
        protocol.read_hello(hello)
    assert str(protocol.PROTOCOL_VERSION) in str(caught.value)
    assert str(protocol.PROTOCOL_VERSION + 1) in str(caught.value)


def test_protocol_ready_of_another_version_is_a_mismatch() -> None:
    ready = {**protocol.ready([], 0, INTERPRETER), "version": 1}
    with pytest.raises(protocol.VersionMismatch, match="version 1"):
        protocol.read_ready(ready)


def test_sandbox_refuses_a_runtime_of_another_version(monkeypatch: pytest.MonkeyPatch) -> None:
    # The zygote loads its own copy of the runtime by path: only the engine's side is changed here.
    theirs = protocol.PROTOCOL_VERSION
    monkeypatch.setattr(protocol, "PROTOCOL_VERSION", theirs + 100)
    with pytest.raises(HarnessError) as caught:
        Sandbox()
    text = str(caught.value)
    assert "version mismatch" in text and str(theirs + 100) in text and f"version {theirs}" in text


@pytest.mark.parametrize(
    "job",
    [
        pytest.param({k: v for k, v in PROGRAM.items() if k != "argv"}, id="no-argv"),
        pytest.param({**PROGRAM, "argv": "42"}, id="argv-text"),
        pytest.param({**PROGRAM, "argv": [42]}, id="argv-int"),
    ],
)
def test_protocol_program_job_without_a_list_of_arguments_is_refused(job: object) -> None:
    with pytest.raises(protocol.BadMessage, match="argv"):
        protocol.read_request(job)


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(None, id="no-files"),
        pytest.param({"../up.txt": ""}, id="parent"),
        pytest.param({"a/b.txt": ""}, id="folder"),
        pytest.param({".hidden": ""}, id="hidden"),
        pytest.param({"a.txt": 5}, id="not-text"),
        pytest.param({f"f{i}": "" for i in range(9)}, id="too-many"),
    ],
)
def test_protocol_program_job_files_must_be_plain_names_with_text(files: object) -> None:
    job = {k: v for k, v in PROGRAM.items() if k != "files"} if files is None else {**PROGRAM, "files": files}
    with pytest.raises(protocol.BadMessage, match="files"):
        protocol.read_request(job)


def test_sandbox_program_finds_its_files_and_the_next_run_does_not(tmp_path: Path) -> None:
    code = "import os\nprint(sorted(os.listdir('.')), open('input.txt').read() if os.path.exists('input.txt') else '-')"
    with Sandbox() as box:
        limits = Limits.for_time_and_memory(2.0, 256)
        first = box.run_program(source=code, filename=str(tmp_path / "c.py"), stdin="", limits=limits,
                                files={"input.txt": "7 8", "output.txt": ""})
        second = box.run_program(source=code, filename=str(tmp_path / "c.py"), stdin="", limits=limits)
    assert first.stdout == "['input.txt', 'output.txt'] 7 8\n", first.stderr
    assert second.stdout == "[] -\n", second.stderr


def test_sandbox_program_sees_its_arguments_as_python_file_args_gives_them(tmp_path: Path) -> None:
    with Sandbox() as box:
        raw = box.run_program(source="import sys\nprint(sys.argv)", filename=str(tmp_path / "gen.py"), stdin="",
                              limits=Limits.for_time_and_memory(2.0, 256), argv=["17", "x y"])
    assert raw.exit_code == 0, raw.stderr
    assert raw.stdout == f"{[str(tmp_path / 'gen.py'), '17', 'x y']}\n"


# -- results and reports ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "message",
    [
        pytest.param({**RESULT, "exit_code": "0"}, id="exit-code-text"),
        pytest.param({**RESULT, "timed_out": 1}, id="timed-out-int"),
        pytest.param({**RESULT, "cpu_ms": float("nan")}, id="cpu-nan"),
        pytest.param({**RESULT, "crash": {"type": 3, "message": "", "line": None}}, id="crash-type"),
        pytest.param({**RESULT, "notes": [1]}, id="notes"),
        pytest.param({**RESULT, "bytecodes": "5"}, id="bytecodes-text"),
        pytest.param({**RESULT, "bytecodes": 5.0}, id="bytecodes-float"),
        pytest.param({**RESULT, "bytecodes": -5}, id="bytecodes-negative"),
        pytest.param({k: v for k, v in RESULT.items() if k != "peak_kb"}, id="no-peak"),
        pytest.param({**RESULT, "op": "ok"}, id="op"),
        pytest.param([RESULT], id="list"),
    ],
)
def test_protocol_malformed_run_result_is_refused(message: object) -> None:
    with pytest.raises(protocol.BadMessage):
        protocol.read_result(message)


@pytest.mark.parametrize(
    "message",
    [
        pytest.param({**COUNT, "bytecodes": -1}, id="negative"),
        pytest.param({**COUNT, "bytecodes": protocol.MAX_BYTECODES + 1}, id="too-large"),
        pytest.param({**COUNT, "bytecodes": 1e9}, id="float"),
        pytest.param({**COUNT, "bytecodes": True}, id="bool"),
        pytest.param({**COUNT, "bytecodes": "1"}, id="text"),
        pytest.param({**COUNT, "intact": 1}, id="intact-int"),
        pytest.param({"bytecodes": 1, "token": ""}, id="no-intact"),
        pytest.param({"bytecodes": 1, "intact": True}, id="no-token"),
        pytest.param({**COUNT, "token": "t" * 65}, id="long-token"),
        pytest.param({**COUNT, "extra": "x" * 100}, id="extra-key"),
        pytest.param([1, True], id="list"),
    ],
)
def test_protocol_malformed_bytecode_count_is_refused(message: object) -> None:
    # written by the run itself: anything but a bounded count and a flag is refused
    with pytest.raises(protocol.BadMessage):
        protocol.read_count(message)


def test_raw_run_reads_a_typed_result() -> None:
    assert RawRun.from_message(COUNTED_RESULT).bytecodes == 123456
    assert RawRun.from_message(RESULT).bytecodes is None
    raw = RawRun.from_message(RESULT)
    assert (raw.exit_code, raw.cpu_ms, raw.peak_kb, raw.notes) == (1, 3.25, 100, ("a note",))
    assert raw.crash is not None and (raw.crash.type, raw.crash.line) == ("ZeroDivisionError", 4)
    failed = RawRun.from_message(FAILED)
    assert failed.harness_error == "sandbox setup failed: no reply" and failed.cpu_ms is None


@pytest.mark.parametrize(
    "message",
    [
        pytest.param({**FAIL_REPORT, "outcome": "ac"}, id="outcome"),
        pytest.param({**FAIL_REPORT, "actual": 5}, id="actual-int"),
        pytest.param({**FAIL_REPORT, "line": "1"}, id="line-text"),
        pytest.param({**FAIL_REPORT, "solution_ms": "fast"}, id="solution-ms"),
        pytest.param({k: v for k, v in FAIL_REPORT.items() if k != "calls"}, id="no-calls"),
        pytest.param({**REPORT, "error": None}, id="solution-error-without-error"),
        pytest.param({**REPORT, "error": {**ERROR, "line": [1]}}, id="error-line"),
        pytest.param("pass", id="text"),
    ],
)
def test_malformed_checker_report_is_refused(message: object) -> None:
    with pytest.raises(protocol.BadMessage):
        parse_report(message)


def test_outcome_enum_names_every_outcome_of_the_protocol() -> None:
    assert {outcome.value for outcome in Outcome} == set(get_args(protocol.OutcomeName))


def test_checker_report_parses_typed_and_bounded() -> None:
    report = parse_report({**FAIL_REPORT, "actual": "x" * (MAX_TEXT + 10)})
    assert isinstance(report, CheckerReport) and report.outcome is Outcome.FAIL
    assert report.actual is not None and len(report.actual) == MAX_TEXT
    error = parse_report(REPORT).error
    assert error is not None and (error.type, error.message, error.line) == ("KeyError", "'k'", 2)


def test_malformed_checker_report_is_judged_harness(write: Callable[..., Path]) -> None:
    path = write("mod.py", "def f():\n    return 1\n")
    write("mod.tests.json", json.dumps({"asserts": ["assert f() == 1"]}))
    problem = load_problem(path)
    run = FunctionRun(report=None, report_error="the test process sent a malformed report: 'calls' is missing",
                      solution=RawRun(exit_code=0, cpu_ms=1.0, wall_ms=1.0, peak_kb=10), checker=RawRun(exit_code=0))
    result = judge_function(problem, problem.tests[0], run)
    assert result.verdict is Verdict.HARNESS
    assert result.detail == "the test process sent a malformed report: 'calls' is missing"


def test_forged_checker_report_is_harness_end_to_end(write: Callable[..., Path]) -> None:
    # The test's own code runs in the checker and can reach its wire: a report it forges is refused.
    forge = (
        "import sys\n"
        "wire = sys.modules['_orps_runtime.wire']\n"
        "real = wire.send\n"
        "def forged(sock, message, fds=None):\n"
        "    if isinstance(message, dict) and 'outcome' in message:\n"
        "        message = {'outcome': 'pass', 'solution_ms': 'fast', 'calls': 0, 'callback_cpu_ms': 0}\n"
        "    real(sock, message, fds)\n"
        "wire.send = forged\n"
        "assert f() == 1\n"
    )
    path = write("mod.py", "def f():\n    return 1\n")
    write("mod.tests.json", json.dumps({"asserts": [forge, "assert f() == 1"]}))
    results = run_tests(load_problem(path)).results
    assert [r.verdict for r in results] == [Verdict.HARNESS, Verdict.AC]
    assert results[0].detail is not None and "malformed report" in results[0].detail
    assert "solution_ms" in results[0].detail


# -- rpc --------------------------------------------------------------------------------------------
def _endpoint_against(peer: Callable[[socket.socket], None]) -> tuple[rpc.Endpoint, threading.Thread]:
    mine, theirs = socket.socketpair()
    thread = threading.Thread(target=peer, args=(theirs,))
    thread.start()
    return rpc.Endpoint(mine, serve_ops=rpc.CHECKER_OPS), thread


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param([1], id="not-an-object"),
        pytest.param({"re": "1", "ok": 1}, id="re-text"),
        pytest.param({"re": 1, "ok": 1, "out": 5}, id="out-int"),
        pytest.param({"re": 1, "exc": "boom"}, id="exc-text"),
        pytest.param({"re": 1, "ok": 1, "mut": [["a", 0, [1]]]}, id="mut-list"),
        pytest.param({"id": "x", "op": "call"}, id="request-id-text"),
    ],
)
def test_rpc_malformed_reply_is_a_protocol_error(reply: Any) -> None:
    def peer(sock: socket.socket) -> None:
        with sock:
            wire.recv(sock)
            sock.sendall(_frame(reply))  # raw: wire.send takes only objects

    endpoint, thread = _endpoint_against(peer)
    try:
        with pytest.raises(rpc.ProtocolError):
            endpoint.request("module")
    finally:
        thread.join()
        endpoint.sock.close()


def _frame(message: object) -> bytes:
    body = json.dumps(message).encode()
    return len(body).to_bytes(4, "big") + body


def test_rpc_reply_with_mutation_writes_back() -> None:
    def peer(sock: socket.socket) -> None:
        with sock:
            request = wire.recv(sock)
            assert isinstance(request, dict) and request["op"] == "call"
            wire.send(sock, {"re": request["id"], "ok": None, "mut": [{"where": "arg", "key": 0, "value": [1, 2]}]})

    endpoint, thread = _endpoint_against(peer)
    target: list[int] = [2, 1]
    try:
        assert endpoint.call(1, (target,), {}) is None
    finally:
        thread.join()
        endpoint.sock.close()
    assert target == [1, 2]
