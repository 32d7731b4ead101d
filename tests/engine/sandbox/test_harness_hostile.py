"""The harness against what a hostile solution sends and prints: forged RPC frames are the
solution's failure (RE or WA, never HARNESS) and the next test still runs; every text a run
produces is bounded in the reports; control characters reach a terminal or an editor escaped (the
JSON keeps them); a solution named like a standard module cannot take the checker's imports over;
CPU spent in the tests' callbacks is the solution's; the counter covers the run itself. Run through
the real engine, as ``test_attacks`` is."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orps_engine import Verdict, load_problem, run_tests
from orps_engine.cli import main
from orps_engine.judge import MAX_SHOWN_TEXT
from orps_engine.report.editor import failure_notes
from orps_engine.sandbox import CountedEvent, Limits, Sandbox
from orps_engine.sandbox.runtime.protocol import RPC_FD
from tests.engine.sandbox.test_attacks import function, stdio, verdicts
from tests.engine.sandbox.test_attacks import run as run_suite
from tests.fixtures.primes import SIEVE_PRIMES, SLOW_PRIMES
from tests.fixtures.scripted_model import Body, ScriptedModel

Write = Callable[..., Path]
LIMITS = Limits.for_time_and_memory(2.0, 256)
FOLLOWING = "assert 1 + 1 == 2"  # the next test, in the same sandbox: it must still run


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """``orps ARGS`` through its entry point, as the CLI tests run it."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- forged frames on the RPC socket ------------------------------------------------------------
def forging(body: str, length: str = "len(body)") -> str:
    """A solution whose ``f`` writes a frame raw on the RPC socket, then ends its process, so no
    real reply follows. ``body`` and ``length`` are Python expressions (bytes, int); ``RE`` in them
    is the id of the checker's request being served, ``dumps`` is ``json.dumps``."""
    return textwrap.dedent(f"""\
        import os, struct, sys
        from json import dumps

        def f(x):
            RE = sys._getframe(1).f_locals["msg"]["id"]
            body = {body}
            os.write({RPC_FD}, struct.pack(">I", {length}) + body)
            os._exit(0)
        """)


def reply(**fields: Any) -> str:
    """A reply frame to the request being served, with ``fields``."""
    return f"dumps({{'re': RE, **{fields!r}}}).encode()"


FORGED = {
    "nested-100000-deep": forging('b"[" * 100_000 + b"]" * 100_000'),
    "value-nested-900-deep": forging("b'{\"re\": %d, \"ok\": ' % RE + b'[' * 900 + b']' * 900 + b'}'"),
    "truncated": forging("b'{\"re\": 1, \"ok\"'", length="1000"),
    "oversized-length-prefix": forging("b''", length="0xFFFFFFF0"),
    "wrong-types": forging("b'{\"re\": \"one\", \"ok\": 1}'"),
    "not-an-object": forging("b'[1, 2, 3]'"),
    "invalid-utf8": forging("b'{\"re\": %d, \"ok\": \"\\xff\\xfe\"}' % RE"),
    "not-json": forging("b'{re: 1, ok: nope'"),
    "out-of-order": forging(reply(re=99999, ok=1)),
    "output-not-text": forging(reply(ok=1, out=5)),
    "exception-name-with-nul": forging(reply(exc={"type": "E\x00vil", "module": "m", "message": "x", "args": None,
                                                  "line": None, "trace": ""})),
    "exception-that-cannot-be-rebuilt": forging(reply(exc={"type": "UnicodeDecodeError", "module": "builtins",
                                                           "message": "x", "args": ["one"], "line": None,
                                                           "trace": ""})),
    "mutation-of-the-wrong-type": forging(reply(ok=1, mut=[{"where": "arg", "key": 0, "value": 5}])),
    "unknown-value-tag": forging(reply(ok={"$nope": 1})),
    "handle-never-exported": forging(reply(ok={"$r": 424242})),
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_reply_frame_is_the_solutions_failure_and_the_next_test_runs(write: Write, name: str) -> None:
    suite = run_suite(function(write, FORGED[name], ["assert f([1]) == 1", FOLLOWING]))
    first, following = suite.results
    assert first.verdict in (Verdict.RE, Verdict.WA), (first.verdict, first.detail)
    assert following.verdict is Verdict.AC


def test_reply_nested_100000_deep_says_the_protocol_was_broken(write: Write) -> None:
    suite = run_suite(function(write, FORGED["nested-100000-deep"], ["assert f(1) == 1"]))
    result = suite.results[0]
    assert result.verdict is Verdict.RE
    assert result.error is not None and "broke the protocol" in result.error.message


def test_returned_value_nested_100000_deep_is_re_not_harness(write: Write) -> None:
    code = "def f(x):\n    v = []\n    for _ in range(100_000):\n        v = [v]\n    return v\n"
    suite = run_suite(function(write, code, ["assert f(1) == 1", FOLLOWING]))
    assert verdicts(suite) == [Verdict.RE, Verdict.AC]


def test_module_global_nested_near_the_codec_limit_is_not_harness(write: Write) -> None:
    # The module listing carries the solution's globals: one nested as deep as the codec sends
    # must come back as a failure of the solution's, not of the checker's stack.
    code = "V = []\nfor _ in range(399):\n    V = [V]\n\ndef f(x):\n    return x\n"
    suite = run_suite(function(write, code, ["assert f(1) == 1", FOLLOWING]))
    assert Verdict.HARNESS not in verdicts(suite)


def test_import_raising_an_exception_that_needs_five_arguments_is_re(write: Write) -> None:
    # UnicodeDecodeError cannot be rebuilt from its message alone: the checker must still report it.
    code = "b'\\xff'.decode('utf-8')\n\ndef f(x):\n    return x\n"
    suite = run_suite(function(write, code, ["assert f(1) == 1"]))
    result = suite.results[0]
    assert result.verdict is Verdict.RE
    assert result.error is not None and result.error.type == "UnicodeDecodeError"


def test_exception_needing_five_arguments_can_be_caught_by_the_test(write: Write) -> None:
    code = "def f(data):\n    return data.decode('utf-8')\n"
    catching = ("try:\n    f(b'\\xff')\nexcept UnicodeDecodeError:\n    pass\n"
                "else:\n    raise AssertionError('no error')")
    suite = run_suite(function(write, code, [catching]))
    assert verdicts(suite) == [Verdict.AC], suite.results[0].detail


# -- bounded reports ----------------------------------------------------------------------------
HUGE_EXCEPTION = 'raise type("E" * 40_000_000, (Exception,), {})("m" * 40_000_000)'


def test_40_mb_exception_name_and_message_give_a_bounded_json_and_table(
        write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    code = f"def f(x):\n    print('p' * 1_000_000)\n    {HUGE_EXCEPTION}\n"
    path = function(write, code, ["assert f(1) == 1", "assert f(2) == 1"], time_limit_ms=4000)
    status, out, _err = cli(capsys, "test", path, "--json")
    assert status == 1
    assert len(out) < 1 << 20
    tests = json.loads(out)["tests"]
    assert [t["verdict"] for t in tests] == ["RE", "RE"]
    assert tests[0]["error"]["type"].startswith("EEEE") and len(tests[0]["error"]["type"]) <= 200
    status, out, _err = cli(capsys, "test", path)
    assert status == 1 and len(out) < 64 * 1024
    assert out.rstrip("\n").splitlines()[-1] == "0 passed, 2 failed"


def test_program_crash_with_a_40_mb_exception_name_is_reported_bounded(
        write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    code = f"print('x' * 1_000_000)\n{HUGE_EXCEPTION}\n"
    path = stdio(write, code, [{"input": "", "output": "ok\n"}], time_limit_ms=4000)
    status, out, _err = cli(capsys, "test", path, "--json")
    assert status == 1 and len(out) < 1 << 20
    test = json.loads(out)["tests"][0]
    assert test["verdict"] == "RE"
    assert test["error"]["type"].startswith("EEEE") and len(test["error"]["type"]) <= 200  # the crash survived
    assert len(test["actual"]) <= MAX_SHOWN_TEXT
    assert "more characters" in test["actual"]


def test_doctest_output_and_exception_are_bounded(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    code = textwrap.dedent(f'''\
        def f(x):
            """
            >>> f(1)
            Traceback (most recent call last):
            ValueError: no
            """
            print("p" * 1_000_000)
            {HUGE_EXCEPTION}
        ''')
    path = write("doc.py", code)
    status, out, _err = cli(capsys, "test", f"{path}::f", "--json")
    assert status == 1 and len(out) < 1 << 20
    test = json.loads(out)["tests"][0]
    assert test["verdict"] == "WA"  # a different exception than the one the doctest expects
    assert len(test["actual"]) <= MAX_SHOWN_TEXT


# -- control characters -------------------------------------------------------------------------
HOSTILE = ("\x1b]52;c;ZXZpbA==\x07"  # OSC 52: write the clipboard
           "\x1b[2J\x1b[1A"  # CSI: clear the screen, cursor up
           "\rfake\n1 passed, 0 failed\n"  # overwrite a line; a summary of its own
           "\x1b[8mhidden\x1b[0m \u202ereversed\u202c \x08\x9b")  # concealed text, a bidi override, BS, C1 CSI
RAW_CONTROLS = ("\x1b", "\x07", "\r", "\x08", "\x9b", "\u202e", "\u202c")


def _assert_escaped(out: str) -> None:
    assert not any(c in out for c in RAW_CONTROLS), repr(out)
    assert "\\x1b]52;c;ZXZpbA==\\a" in out and "\\u202e" in out and "\\x9b" in out


def test_output_and_error_text_reach_the_terminal_escaped(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    code = f"def f(x):\n    print({HOSTILE!r})\n    raise ValueError({HOSTILE!r})\n"
    path = function(write, code, ["assert f(1) == 1"])
    status, out, _err = cli(capsys, "test", path)
    assert status == 1
    _assert_escaped(out)
    lines = out.rstrip("\n").splitlines()
    assert lines[-1] == "0 passed, 1 failed"
    assert "1 passed, 0 failed" not in lines  # the fake summary is quoted, indented, never a line of ours


def test_json_keeps_the_control_characters_escaped_by_json(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    code = f"def f(x):\n    raise ValueError({HOSTILE!r})\n"
    path = function(write, code, ["assert f(1) == 1"])
    _status, out, _err = cli(capsys, "test", path, "--json")
    assert not any(c in out for c in RAW_CONTROLS)  # on the terminal, JSON's own escapes
    assert HOSTILE in json.loads(out)["tests"][0]["error"]["message"]  # and the bytes are kept


def test_program_output_is_escaped_in_the_table_and_kept_in_json(write: Write,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = stdio(write, f"print({HOSTILE!r})\n", [{"input": "", "output": "ok\n"}])
    status, out, _err = cli(capsys, "test", path)
    assert status == 1
    _assert_escaped(out)
    assert out.rstrip("\n").splitlines()[-1] == "0 passed, 1 failed"
    _status, out, _err = cli(capsys, "test", path, "--json")
    assert json.loads(out)["tests"][0]["actual"] == HOSTILE + "\n"


def test_editor_notes_are_control_free(write: Write) -> None:
    code = f"def f(x):\n    raise ValueError({HOSTILE!r})\n"
    problem = load_problem(function(write, code, ["assert f(1) == 1"]))
    notes = failure_notes(problem, run_tests(problem))
    assert notes
    for note in notes:
        assert not any(c in note.message for c in RAW_CONTROLS), note.message


def test_refine_output_escapes_the_models_code_and_critique(write: Write, capsys: pytest.CaptureFixture[str],
                                                            scripted_model: ScriptedModel) -> None:
    tests = {"entry_point": "sum_primes_below", "timeLimit": 2000,
             "asserts": ["assert sum_primes_below(10) == 17", "assert sum_primes_below(3000) == 593823"]}
    write("primes.tests.json", json.dumps(tests))
    path = write("primes.py", SLOW_PRIMES)
    hostile_code = f"# {HOSTILE.replace(chr(10), ' ').replace(chr(13), ' ')}\n{SIEVE_PRIMES}"  # line ends end comments

    def programmer(body: Body) -> str:
        return f"A plan.\n\n```python\n{hostile_code}```\n"

    def is_critic(body: Body) -> bool:
        return "Review the candidate." in body["messages"][-1]["content"]

    scripted_model.on(is_critic, lambda body: f"{HOSTILE}\nScore: 4").on(lambda body: True, programmer)
    status, out, err = cli(capsys, "refine", path, "--model", "scripted", "--base-url", scripted_model.base_url,
                           "--samples", "1", "--beam", "1", "--rounds", "0", "--repeats", "2")
    assert status == 0, err
    _assert_escaped(out)
    assert not any(c in err for c in RAW_CONTROLS if c != "\r")  # progress: only its own redraws


# -- solutions named like standard modules ------------------------------------------------------
DOUBLE = '''\
def double(x):
    """
    >>> double(2)
    4
    >>> double(3)
    6
    """
    return 2 * x
'''


@pytest.mark.parametrize("name", ["doctest", "json", "unittest"])
def test_solution_named_like_a_standard_module_runs_its_doctests_and_sidecar(write: Write, name: str) -> None:
    path = write(f"{name}.py", DOUBLE)
    doctests = run_tests(load_problem(path, function="double"))
    assert verdicts(doctests) == [Verdict.AC, Verdict.AC], [r.detail for r in doctests.results]
    write(f"{name}.tests.json", json.dumps({"entry_point": "double", "asserts": [
        "assert double(2) == 4", f"from {name} import double as d\nassert d(5) == 10", "assert double(1) == 3"]}))
    sidecar = run_tests(load_problem(path))
    assert verdicts(sidecar) == [Verdict.AC, Verdict.AC, Verdict.WA], [r.detail for r in sidecar.results]


def test_solution_named_doctest_cannot_judge_its_own_doctests(write: Write) -> None:
    # A candidate named doctest.py that brings an always-satisfied OutputChecker along: the
    # checker's doctest is the standard library's, so the wrong answer is still WA.
    code = DOUBLE.replace("return 2 * x", "return 0") + (
        "\n\nclass OutputChecker:\n    def check_output(self, want, got, flags):\n        return True\n")
    path = write("doctest.py", code)
    suite = run_tests(load_problem(path, function="double"))
    assert verdicts(suite) == [Verdict.WA, Verdict.WA]


def test_helpers_named_like_standard_modules_do_not_reach_the_checker(write: Write) -> None:
    # doctest imports pdb, difflib, inspect...: the solution's folder must not answer for them.
    for shadow in ("pdb", "difflib", "inspect", "unittest"):
        write(f"{shadow}.py", "raise SystemExit('the checker imported the folder')\n")
    path = write("sol.py", DOUBLE)
    suite = run_tests(load_problem(path, function="double"))
    assert verdicts(suite) == [Verdict.AC, Verdict.AC], [r.detail for r in suite.results]


# -- callbacks are billed to the solution -------------------------------------------------------
BURN = ("def key(x):\n    end = time.thread_time() + 0.01\n    while time.thread_time() < end:\n        pass\n"
        "    return x\n")


def test_cpu_spent_in_the_tests_callback_is_billed_to_the_solution(write: Write) -> None:
    # The solution's sort calls the test's key function 20 times; each burns 10 ms of CPU in the
    # checker's process. In plain Python that is the call's cost: it must be in the test's CPU.
    path = function(write, "def f(xs, key):\n    return sorted(xs, key=key)\n",
                    [f"import time\n{BURN}assert f(list(range(20)), key) == list(range(20))",
                     "assert f([2, 1], None) == [1, 2]"])
    heavy, light = run_suite(path).results
    assert heavy.verdict is Verdict.AC and light.verdict is Verdict.AC
    assert heavy.cpu_ms is not None and heavy.cpu_ms >= 150
    assert light.cpu_ms is not None and light.cpu_ms < 100


def test_solution_running_the_tests_callback_past_the_cpu_limit_is_tle_not_harness(write: Write) -> None:
    # The CPU limit is reached in the checker's process, on the solution's behalf: it is the
    # solution's time, so the verdict is TLE (not a checker that died without a report).
    path = function(write, "def f(key):\n    while True:\n        key(1)\n",
                    [f"import time\n{BURN}assert f(key) == 1", FOLLOWING])
    looping, following = run_suite(path).results
    assert looping.verdict is Verdict.TLE, looping.detail
    assert looping.cpu_ms is not None and looping.cpu_ms >= 1000
    assert following.verdict is Verdict.AC


# -- the counter covers the run -----------------------------------------------------------------
BUSY = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end:\n    pass\n"
FORKS = ("import os, time\npids = []\nfor _ in range(2):\n    pid = os.fork()\n    if pid == 0:\n"
         "        end = time.process_time() + 0.15\n        while time.process_time() < end:\n            pass\n"
         "        os._exit(0)\n    pids.append(pid)\nfor pid in pids:\n    os.waitpid(pid, 0)\n")


def test_counter_counts_the_run_itself() -> None:
    # No PMU on these VMs: the software task clock through the same path (CPU nanoseconds) shows
    # the counter is on the run and all it forks, from its start, and not on the sandbox's setup.
    with Sandbox(counted=CountedEvent.TASK_CLOCK) as box:
        forking = replace(LIMITS, subprocesses=True)  # children are refused by default (seccomp)
        busy, forks, idle = (box.run_program(source=code, filename="/tmp/p.py", stdin="", limits=limits)
                             for code, limits in ((BUSY, LIMITS), (FORKS, forking), ("pass", LIMITS)))
    for raw in (busy, forks):
        assert raw.exit_code == 0 and raw.instructions is not None
        assert raw.instructions >= 200_000_000, raw.instructions
    assert idle.instructions is not None and idle.instructions < 50_000_000


def test_counter_counts_a_function_tests_solution(write: Write) -> None:
    path = function(write, "import time\n\ndef f(x):\n" + textwrap.indent(BUSY, "    ") + "    return x\n",
                    ["assert f(1) == 1"])
    problem = load_problem(path)
    with Sandbox(solution_dir=path.parent, counted=CountedEvent.TASK_CLOCK) as box:
        suite = run_tests(problem, sandbox=box)
    result = suite.results[0]
    assert result.verdict is Verdict.AC
    assert result.instructions is not None and result.instructions >= 200_000_000


COUNTED_AS_NOBODY = """\
from orps_engine.sandbox import CountedEvent, Limits, Sandbox
with Sandbox(counted=CountedEvent.TASK_CLOCK) as box:
    raw = box.run_program(source={busy!r}, filename="/tmp/p.py", stdin="",
                          limits=Limits.for_time_and_memory(2.0, 256))
print(raw.exit_code, raw.instructions)
"""


def test_counter_counts_the_run_as_an_unprivileged_user(unprivileged: Any) -> None:
    # As a normal user the counter can only be opened on a process of its own that is still
    # dumpable: the payload before it confines itself, as the warden now does.
    if int(Path("/proc/sys/kernel/perf_event_paranoid").read_text()) > 2:
        pytest.skip("perf_event_paranoid forbids unprivileged counters here")
    done = unprivileged.run("-c", COUNTED_AS_NOBODY.format(busy=BUSY))
    assert done.returncode == 0, done.stderr[-2000:]
    exit_code, counted = done.stdout.split()
    assert exit_code == "0" and counted != "None" and int(counted) >= 200_000_000
