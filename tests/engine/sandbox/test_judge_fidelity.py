"""A program judged as a judge judges ``python3 prog.py < input``: its standard streams as CPython
makes them (buffered, lines split at ``\\n`` only), memory as the whole process's peak resident size
(so a large reserved thread stack is not memory, but the interpreter's own is), the output limit, and
the comparison chosen from the expected outputs when the tests name none. Real sandbox runs."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from orps_engine import Verdict, load_problem, run_tests
from orps_engine.problem import CompareKind
from orps_engine.results import SuiteResult

Write = Callable[..., Path]


def judge(write: Write, code: str, tests: list[tuple[str, str]], **extra: object) -> SuiteResult:
    path = write("prog.py", code)
    write("prog.tests.json", json.dumps({"tests": [{"input": i, "output": o} for i, o in tests], **extra}))
    return run_tests(load_problem(path, python=sys.executable))


def test_stdin_keeps_a_carriage_return_and_is_buffered_as_in_cpython(write: Write) -> None:
    code = ("import sys\ns = input()\n"
            "print(len(s), type(sys.stdin.buffer).__name__, type(sys.stdout.buffer).__name__, sys.stdin.newlines)\n")
    # as a judge runs it: no PYTHONUNBUFFERED or other settings of ours
    expected = subprocess.run([sys.executable, "-c", code], input=b"abc\r\n", capture_output=True, check=True,
                              env={"PATH": "/usr/bin:/bin"}).stdout
    suite = judge(write, code, [("abc\r\n", expected.decode())], compare="exact")
    assert suite.results[0].verdict is Verdict.AC, suite.results[0]
    assert expected.split()[:3] == [b"4", b"BufferedReader", b"BufferedWriter"]


def test_the_fast_input_idiom_reads_a_million_integers_about_as_fast_as_plain_python(write: Write,
                                                                                     tmp_path: Path) -> None:
    n = 10**6
    data = f"{n}\n" + "\n".join(str(i % 1000) for i in range(n)) + "\n"
    code = ("import sys\ninput = sys.stdin.buffer.readline\nn = int(input())\ns = 0\n"
            "for _ in range(n):\n    s += int(input())\nprint(s)\n")
    answer = str(sum(i % 1000 for i in range(n)))
    source = tmp_path / "plain.py"
    source.write_text(code)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    plain = subprocess.run([sys.executable, str(source)], input=data.encode(), capture_output=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    plain_ms = 1000 * (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    assert plain.stdout.decode().strip() == answer
    suite = judge(write, code, [(data, answer)], timeLimit=20000)
    result = suite.results[0]
    assert result.verdict is Verdict.AC, result
    judged = suite.judge_cpu_ms(result)
    assert judged is not None and judged <= 2 * plain_ms + 50, (judged, plain_ms)  # one byte per read: 10x and more


def test_a_correct_twenty_megabyte_output_is_accepted(write: Write) -> None:
    code = "for _ in range(200000):\n    print('y' * 99)\n"
    suite = judge(write, code, [("", ("y" * 99 + "\n") * 200000)], timeLimit=10000)
    assert suite.results[0].verdict is Verdict.AC, suite.results[0]


def test_output_over_the_problems_own_limit_is_ole_and_says_the_limit(write: Write) -> None:
    suite = judge(write, "print('z' * (3 * 1024 * 1024))\n", [("", "z")], outputLimit=2)
    result = suite.results[0]
    assert result.verdict is Verdict.OLE and result.detail == "output over the 2 MB limit", result


def test_lines_mode_compares_the_words_of_each_line(write: Write) -> None:
    suite = judge(write, "print('1  2')\nprint('3')\n", [("", "1 2\n3\n")], compare="lines")
    assert suite.results[0].verdict is Verdict.AC
    suite = judge(write, "print('1 2 3')\n", [("", "1 2\n3\n")], compare="lines")
    assert suite.results[0].verdict is Verdict.WA


def test_250_mib_under_a_256_mb_limit_is_mle_as_the_interpreter_counts_too(write: Write) -> None:
    code = "x = bytearray(250 * 1024 * 1024)\nfor i in range(0, len(x), 4096):\n    x[i] = 1\nprint('ok')\n"
    suite = judge(write, code, [("", "ok")], memoryLimit=256, timeLimit=10000)
    result = suite.results[0]
    assert result.verdict is Verdict.MLE, result
    assert result.peak_kb is not None and result.peak_kb > 256 * 1024


def test_the_peak_counts_the_interpreters_own_memory_as_a_fresh_python_has_it(write: Write) -> None:
    # VmHWM, this image's own peak: ru_maxrss would keep the peak of the process that started it
    probe = "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    fresh_kb = int(subprocess.run([sys.executable, "-c", probe], capture_output=True, check=True, text=True).stdout)
    suite = judge(write, "pass\n", [("", "")])
    peak = suite.results[0].peak_kb
    assert peak is not None and 0.5 * fresh_kb <= peak <= 2 * fresh_kb + 4096, (peak, fresh_kb)


def test_a_large_thread_stack_for_deep_recursion_fits_a_256_mb_limit(write: Write) -> None:
    code = ("import sys, threading\nsys.setrecursionlimit(10**6)\n"
            "def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\n"
            "def main():\n    print(f(100000))\n"
            "threading.stack_size(2**29)\nt = threading.Thread(target=main)\nt.start()\nt.join()\n")
    suite = judge(write, code, [("", "100000")], memoryLimit=256, timeLimit=10000)
    assert suite.results[0].verdict is Verdict.AC, suite.results[0]


def test_a_thread_that_never_ends_is_tle_as_python_would_hang(write: Write) -> None:
    code = "import threading, time\ndef spin():\n    while True:\n        time.sleep(0.01)\n" \
           "threading.Thread(target=spin).start()\nprint('done')\n"
    suite = judge(write, code, [("", "done")], timeLimit=500)
    assert suite.results[0].verdict is Verdict.TLE, suite.results[0]


@pytest.mark.parametrize(("outputs", "kind"), [(["0.5", "3"], CompareKind.FLOAT), (["1 2", "-3"], CompareKind.TOKENS),
                                               (["1e-3"], CompareKind.FLOAT), (["abc.def"], CompareKind.TOKENS)])
def test_with_no_compare_real_answers_are_compared_as_floats(write: Write, outputs: list[str],
                                                            kind: CompareKind) -> None:
    path = write("prog.py", "print(input())\n")
    write("prog.tests.json", json.dumps({"tests": [{"input": o, "output": o} for o in outputs]}))
    problem = load_problem(path)
    assert problem.compare.kind is kind and problem.compare.inferred


def test_the_inferred_float_comparison_accepts_within_1e6_and_says_so(write: Write) -> None:
    suite = judge(write, "print(1 / 3)\n", [("", "0.333333")])
    assert suite.results[0].verdict is Verdict.AC, suite.results[0]
    assert any("compared as numbers within 1e-06" in note for note in suite.notes), suite.notes
    assert suite.startup_cpu_ms is not None and suite.startup_cpu_ms > 0
