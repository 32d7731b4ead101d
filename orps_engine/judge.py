"""Judging: run a problem's tests in the sandbox and turn raw runs into verdicts.

Everything here happens in the parent, on plain data: stdout compared against the expected
text, the checker's report read as data, limits checked against the warden's measurements. A
verdict is a failure until that comparison says otherwise; a failure of ours is HARNESS.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from . import config
from .problem import CompareKind, Problem, ProblemKind, TestCase, TestKind, import_root
from .results import Behaviour, Call, ExecutionResult, RunError, SuiteResult, Verdict
from .sandbox import (
    PYTEST_RUNTIME,
    CaseKind,
    CheckerReport,
    CheckerSpec,
    FunctionRun,
    Limits,
    Outcome,
    ProjectRun,
    ProjectSpec,
    RawRun,
    RemoteError,
    Sandbox,
    modules_to_preload,
)
from .text import ELLIPSIS, excerpt

ProgressCallback = Callable[[int, int, ExecutionResult], None]

# What a result carries of the texts a run produced (or that describe it): the run chooses their
# size, so each is cut here, once, after the verdict was decided on the whole text; every report
# (the table, ``--json``, the editor, the model's execution report) then reads a bounded result.
MAX_SHOWN_TEXT = 16 * 1024  # expected, actual, what the solution printed
MAX_ERROR_MESSAGE = 4000  # an exception's message, a verdict's detail
MAX_ERROR_TYPE = 200  # an exception's type name


def open_sandbox(problem: Problem, *extra_sources: str) -> Sandbox:
    """A sandbox warmed up for this problem: the libraries it imports already loaded."""
    folder = import_root(problem.path) if problem.path.parent.is_dir() else None
    project = problem.project
    return Sandbox(python=problem.python, solution_dir=folder, preload=_imports(problem, *extra_sources),
                   sibling_modules=project is None, protected=[project.root] if project is not None else [])


def _imports(problem: Problem, *extra_sources: str) -> list[str]:
    sources = [problem.source, problem.setup, *extra_sources, *(t.source or "" for t in problem.tests)]
    if any(t.kind is TestKind.PYTEST for t in problem.tests):
        return [*modules_to_preload(*sources, "import pytest"), PYTEST_RUNTIME]
    return modules_to_preload(*sources)


def run_tests(problem: Problem, *, sandbox: Sandbox | None = None,
              on_result: ProgressCallback | None = None, count_bytecodes: bool = False) -> SuiteResult:
    """Run every test of ``problem`` (in order, one at a time, so timings do not interfere).
    ``count_bytecodes``: each test is also run counted, right after (see ``run_test``)."""
    own = sandbox is None
    box = open_sandbox(problem) if sandbox is None else sandbox
    if not own:
        box.preload(_imports(problem))
    try:
        results = []
        for i, test in enumerate(problem.tests):
            result = run_test(box, problem, test, count_bytecodes=count_bytecodes)
            results.append(result)
            if on_result is not None:
                on_result(i + 1, len(problem.tests), result)
        startup = box.interpreter["startup_cpu_ms"] if problem.kind is ProblemKind.PROGRAM else None
        return SuiteResult(results=tuple(results), startup_cpu_ms=startup,
                           notes=problem.notes + comparison_notes(problem) + box.notes + run_notes(results))
    finally:
        if own:
            box.close()


async def arun_tests(problem: Problem, *, sandbox: Sandbox | None = None,
                     on_result: ProgressCallback | None = None, count_bytecodes: bool = False) -> SuiteResult:
    """``run_tests`` off the event loop. Cancelling it kills the sandbox, so the run in the
    worker thread stops at once; a sandbox passed in is then dead and must not be reused."""
    box = sandbox if sandbox is not None else await asyncio.to_thread(open_sandbox, problem)
    try:
        return await asyncio.to_thread(run_tests, problem, sandbox=box, on_result=on_result,
                                       count_bytecodes=count_bytecodes)
    except asyncio.CancelledError:
        box.kill()
        raise
    finally:
        if sandbox is None:
            await asyncio.to_thread(box.close)


def comparison_notes(problem: Problem) -> tuple[str, ...]:
    """Say so where orps chose the comparison itself (the tests set none) and it is not the usual one."""
    chosen = problem.compare
    if problem.kind is not ProblemKind.PROGRAM or not chosen.inferred or chosen.kind is not CompareKind.FLOAT:
        return ()
    return (f"outputs compared as numbers within {chosen.tolerance:g} (absolute or relative): the expected outputs "
            f"hold real numbers and the tests set no \"compare\" (--compare, or \"compare\" in the tests file, "
            f"sets another)",)


def run_notes(results: Sequence[ExecutionResult]) -> tuple[str, ...]:
    """What the runs themselves said of their confinement (a layer the kernel refused in the run),
    once each: the suite's notes, as ``orps test`` prints them."""
    return tuple(dict.fromkeys(note for result in results for note in result.notes))


def run_test(box: Sandbox, problem: Problem, test: TestCase, *, count_bytecodes: bool = False) -> ExecutionResult:
    """One test's measured run. ``count_bytecodes``: then a counted run of it (``run_counted``),
    whose bytecodes the result carries if that run came to the same verdict; its times and memory
    are never used. Not where child processes are allowed: their bytecodes would not be counted."""
    result = _run_once(box, problem, test, count_bytecodes=False)
    if not count_bytecodes:
        return result
    if problem.allow_subprocesses:
        return replace(result, notes=(*result.notes, BYTECODES_NOT_COUNTED_CHILDREN))
    counted = run_counted(box, problem, test)
    notes = (*result.notes, *(n for n in counted.notes if n not in result.notes))
    if counted.verdict is not result.verdict:
        return replace(result, notes=(*notes, f"bytecodes not counted: the counted run of test {test.id} came to "
                                              f"{counted.verdict.value}"))
    return replace(result, bytecodes=counted.bytecodes, notes=notes)


def run_counted(box: Sandbox, problem: Problem, test: TestCase) -> ExecutionResult:
    """A counted run of one test: traced, so judged with ``config.COUNT_SLOWDOWN`` times the time
    limit; its CPU time is the traced run's (what ``benchmarks/noise.py`` compares to measure the
    counter's overhead), nobody's cost."""
    slowed = replace(problem, time_limit_s=problem.time_limit_s * config.COUNT_SLOWDOWN)
    return _run_once(box, slowed, test, count_bytecodes=True)


BYTECODES_NOT_COUNTED_CHILDREN = "bytecodes not counted: child processes are allowed (--allow-subprocesses)"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramRun:
    """One run of a program on one input, with all it printed: for a caller whose next step reads
    the output itself (a stress test's generator makes the input, its brute force the expected)."""

    result: ExecutionResult  # its ``actual`` and ``stdout`` cut, as every result's
    stdout: str  # the whole of it (within the output limit)
    stderr: str  # its end, cut to MAX_ERROR_MESSAGE: why a program failed, in its own words


def run_program(box: Sandbox, problem: Problem, test: TestCase, *, argv: Sequence[str] = ()) -> ProgramRun:
    """Run ``problem``'s program once on ``test``'s input with ``argv`` as its arguments, judged
    as ``run_test`` judges it. A test without an expected output is not compared: its verdict is
    AC when the program exited cleanly within the limits."""
    raw = box.run_program(source=problem.source, filename=str(problem.path), stdin=test.input or "",
                          limits=program_limits(problem), argv=argv)
    result = judge_program(problem, test, raw, compared=test.expected is not None,
                           checker=lambda: run_checker(box, problem, test, raw.stdout))
    return ProgramRun(result=result, stdout=raw.stdout, stderr=_tail(raw.stderr, MAX_ERROR_MESSAGE))


def _tail(text: str, limit: int) -> str:
    """The end of ``text`` (where a traceback says what went wrong), within ``limit`` characters."""
    return text if len(text) <= limit else ELLIPSIS + text[len(text) - limit + len(ELLIPSIS):]


def program_limits(problem: Problem) -> Limits:
    """The sandbox limits of one run of ``problem``'s code."""
    return replace(Limits.for_time_and_memory(problem.time_limit_s, problem.memory_limit_mb,
                                              subprocesses=problem.allow_subprocesses),
                   output_bytes=problem.output_limit_mb * 1024 * 1024)


def _run_once(box: Sandbox, problem: Problem, test: TestCase, *, count_bytecodes: bool) -> ExecutionResult:
    limits = program_limits(problem)
    filename = str(problem.path)
    if problem.kind is ProblemKind.PROGRAM:
        raw = box.run_program(source=problem.source, filename=filename, stdin=test.input or "", limits=limits,
                              count_bytecodes=count_bytecodes)
        return judge_program(problem, test, raw, checker=lambda: run_checker(box, problem, test, raw.stdout))
    spec = checker_spec(problem, test, by_value_modules=shared_modules(problem))
    run = box.run_function_test(source=problem.source, filename=filename, module=problem.module, spec=spec,
                                limits=limits, project=project_run(problem),
                                overhead_s=config.PYTEST_OVERHEAD_S if test.kind is TestKind.PYTEST else 0.0,
                                count_bytecodes=count_bytecodes)
    return judge_function(problem, test, run)


_CASE_KINDS: dict[TestKind, CaseKind] = {TestKind.ASSERT: "assert", TestKind.DOCTEST: "doctest",
                                         TestKind.PYTEST: "pytest"}


def checker_spec(problem: Problem, test: TestCase, *, by_value_modules: Sequence[str] = ()) -> CheckerSpec:
    """What the checker process receives: the test itself, with its expected values; the builtin
    names the user's own file defines (only those of the solution's may shadow a builtin in the
    test); and the modules whose plain objects may cross by value (none unless the caller opts in:
    only modules both processes import identically, never the user's own)."""
    filename = str(test.path) if test.path else "<tests>"
    kind = _CASE_KINDS[test.kind]
    source = "" if test.kind is TestKind.PYTEST else test.source or ""  # pytest reads the test file itself
    return {
        "module": problem.module,
        "setup": problem.setup,
        "setup_filename": str(problem.setup_path or "<setup>"),
        "test": {"id": test.id, "kind": kind, "source": source, "filename": filename,
                 "line": _source_line(test), "want": test.want, "exc_msg": test.exc_msg,
                 "context": list(test.context), "flags": test.doctest_flags},
        "project": _project_spec(problem),
        "builtin_names_kept": sorted(problem.kept_builtins),
        "by_value_modules": list(by_value_modules),
        "record_calls": True,
    }


def _project_spec(problem: Problem) -> ProjectSpec | None:
    layout = problem.project
    if layout is None:
        return None
    return {"root": str(layout.root), "module": layout.module, "package": layout.package,
            "filename": str(problem.path), "sys_path": [str(p) for p in layout.import_paths]}


def shared_modules(problem: Problem) -> tuple[str, ...]:
    """The modules both processes import alike, whose plain objects may cross by value: a project's
    own package (the module under test excepted, which the codec never rebuilds)."""
    layout = problem.project
    return (layout.module.split(".")[0],) if layout is not None else ()


def project_run(problem: Problem) -> ProjectRun | None:
    """What the sandbox needs of the problem's project, if it has one."""
    layout = problem.project
    if layout is None:
        return None
    return ProjectRun(root=layout.root, module=layout.module, package=layout.package, filename=problem.path,
                      sys_path=layout.import_paths, solution_reads=layout.solution_reads)


def _source_line(test: TestCase) -> int:
    # A sidecar assert sits on one line of the JSON file; a doctest example (or a pytest test) on its own.
    return test.line if test.line is not None and test.kind is not TestKind.ASSERT else 1


# -- verdicts -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class Checked:
    """What a custom checker said of a run's output: its verdict (AC, WA, or HARNESS where the
    checker itself failed) and its message."""

    verdict: Verdict
    message: str


CHECKER_ACCEPTS, CHECKER_WRONG = 0, (1, 2)  # testlib's exit codes: OK; WA and PE (3, FAIL, is the checker's)
CHECKER_FILES = ("input.txt", "output.txt", "answer.txt")  # its argv: INPUT ACTUAL EXPECTED


def run_checker(box: Sandbox, problem: Problem, test: TestCase, actual: str) -> Checked:
    """Run the problem's checker, sandboxed like the solution (in a session of its own), on the test's
    input, the run's output and the expected output, given as three files in its working directory."""
    path = problem.compare.checker
    assert path is not None
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Checked(Verdict.HARNESS, f"the checker {path} cannot be read: {exc}")
    texts = (test.input or "", actual, test.expected or "")
    limits = Limits.for_time_and_memory(config.CHECKER_TIME_LIMIT_S, config.CHECKER_MEMORY_LIMIT_MB)
    raw = box.run_program(source=source, filename=str(path), stdin="", limits=limits, argv=CHECKER_FILES,
                          files=dict(zip(CHECKER_FILES, texts)))
    said = excerpt(" ".join((raw.stdout + "\n" + raw.stderr).split()), MAX_ERROR_MESSAGE)
    if raw.timed_out or raw.signal in (signal.SIGXCPU, signal.SIGKILL):
        return Checked(Verdict.HARNESS, f"the checker {path.name} failed: it ran past its time limit")
    if raw.signal is not None or raw.harness_error:
        why = raw.harness_error or f"signal {raw.signal}"
        return Checked(Verdict.HARNESS, f"the checker {path.name} failed: {why}")
    if raw.crash is not None:  # an uncaught exception exits 1 too: not a wrong answer
        return Checked(Verdict.HARNESS, f"the checker {path.name} failed: {raw.crash.type}: "
                                        f"{excerpt(raw.crash.message, MAX_ERROR_MESSAGE)}")
    if raw.exit_code == CHECKER_ACCEPTS:
        return Checked(Verdict.AC, said)
    if raw.exit_code in CHECKER_WRONG:
        return Checked(Verdict.WA, said or f"the checker {path.name} rejected the output")
    return Checked(Verdict.HARNESS, f"the checker {path.name} failed (exit {raw.exit_code}): {said}")


def _checker_detail(checked: Checked) -> str | None:
    if checked.verdict is Verdict.HARNESS:
        return checked.message  # it says the checker failed
    return f"checker: {checked.message}" if checked.message else None


def judge_program(problem: Problem, test: TestCase, raw: RawRun, *, compared: bool = True,
                  checker: Callable[[], Checked] | None = None) -> ExecutionResult:
    """The run's verdict; ``compared=False``: its output is not compared (AC if it ran cleanly);
    ``checker``: runs the problem's checker on the output (``run_checker``), called only for a run
    that ended cleanly within its limits, where the problem has one (the other verdicts stand)."""
    verdict, detail, error = _limit_verdict(problem, raw, raw.crash)
    if verdict is None:
        if raw.signal is not None or raw.exit_code != 0:
            verdict, error = Verdict.RE, _program_error(problem, raw)
            detail = str(error)
        elif problem.compare.kind is CompareKind.CHECKER and compared:
            if checker is None:
                verdict, detail = Verdict.HARNESS, "the checker was not run"
            else:
                checked = checker()
                verdict, detail = checked.verdict, _checker_detail(checked)
        elif not compared or problem.compare.matches(test.expected or "", raw.stdout):
            verdict = Verdict.AC
        else:
            verdict, detail = Verdict.WA, "output differs"
    return _result(test, verdict, raw, expected=test.expected, actual=raw.stdout, error=error, detail=detail,
                   wall_ms=raw.wall_ms)


def judge_function(problem: Problem, test: TestCase, run: FunctionRun) -> ExecutionResult:
    sol, report = billed_solution(run), run.report
    remote_error = report.error if report is not None and report.outcome is Outcome.SOLUTION_ERROR else None
    verdict, detail, error = _limit_verdict(problem, sol, remote_error)
    if verdict is None:
        verdict, detail, error = _report_verdict(problem, run)
    return _result(test, verdict, sol, expected=report.expected if report else None,
                   actual=report.actual if report else None, error=error, detail=detail,
                   wall_ms=report.solution_ms if report else sol.wall_ms, notes=run.checker.notes,
                   failed_at=report.line if report is not None and verdict is Verdict.WA
                   and test.kind is TestKind.PYTEST else None, behaviour=_behaviour(report))


def billed_solution(run: FunctionRun) -> RawRun:
    """The solution's run with the CPU the checker spent for it added: the test's callables (a key
    function, a comparator) that the solution called back run in the checker's process, and in plain
    Python that work would be the call's. The checker measures its thread's CPU time around each
    callback it serves (``CheckerReport.callback_cpu_ms``); without that, a solution could move its
    work into a callback and look free (and escape its own CPU limit)."""
    sol, report = run.solution, run.report
    if report is None or not report.callback_cpu_ms or sol.cpu_ms is None:
        return sol
    return dataclasses.replace(sol, cpu_ms=round(sol.cpu_ms + report.callback_cpu_ms, 3))


def _behaviour(report: CheckerReport | None) -> Behaviour | None:
    if report is None or report.behaviour is None:
        return None
    calls = tuple(Call(label=c["label"], returned=c["returned"], raised=c["raised"], mutated=tuple(c["mutated"]),
                       printed=c["printed"]) for c in report.behaviour)
    return Behaviour(calls=calls, truncated=report.behaviour_truncated)


def _report_verdict(problem: Problem, run: FunctionRun) -> tuple[Verdict, str | None, RunError | None]:
    """The verdict the checker's report gives, once no limit decided one."""
    report = run.report
    if run.checker.harness_error:
        return Verdict.HARNESS, run.checker.harness_error, None
    if report is None:
        return Verdict.HARNESS, run.report_error or _checker_failure(run.checker), None
    if report.outcome is Outcome.PASS:
        return Verdict.AC, None, None
    if report.outcome is Outcome.FAIL:
        return Verdict.WA, report.message or "assertion failed", None
    if report.outcome in (Outcome.SOLUTION_ERROR, Outcome.SOLUTION_EXIT):
        error = _function_error(problem, run.solution, report)
        return Verdict.RE, str(error), error
    return Verdict.HARNESS, report.message or "the test could not run", None


def _limit_verdict(problem: Problem, raw: RawRun,
                   error: RemoteError | None) -> tuple[Verdict | None, str | None, RunError | None]:
    """Verdicts decided by the limits alone, in the order a judge applies them."""
    limit_ms = problem.time_limit_s * 1000
    cpu = raw.cpu_ms or 0.0
    if raw.harness_error:
        return Verdict.HARNESS, raw.harness_error, None
    if raw.timed_out:
        return Verdict.TLE, f"killed at the {_seconds(problem.time_limit_s)} s limit's wall-clock deadline", None
    if raw.signal == signal.SIGXCPU or (raw.signal == signal.SIGKILL and cpu >= limit_ms):
        return Verdict.TLE, f"CPU time over the {_seconds(problem.time_limit_s)} s limit", None
    if raw.output_exceeded:
        return Verdict.OLE, f"output over the {problem.output_limit_mb} MB limit", None
    if raw.signal == signal.SIGXFSZ:
        return Verdict.OLE, f"a file it wrote went over the {config.FILE_SIZE_LIMIT_BYTES >> 20} MB limit", None
    limit_kb = problem.memory_limit_mb * 1024
    if (error is not None and error.type.endswith("MemoryError")) or (raw.peak_kb or 0) > limit_kb:
        return Verdict.MLE, f"memory over the {problem.memory_limit_mb} MB limit", None
    if cpu > limit_ms and raw.exit_code == 0:
        return Verdict.TLE, f"CPU time {cpu / 1000:.2f} s over the {_seconds(problem.time_limit_s)} s limit", None
    return None, None, None


def _seconds(value: float) -> str:
    return f"{value:g}"


def _program_error(problem: Problem, raw: RawRun) -> RunError:
    crash = raw.crash
    if crash is not None and crash.type:
        return _explained(problem, RunError(type=crash.type, message=crash.message, line=crash.line,
                                            path=str(problem.path)))
    if raw.signal is not None:
        return RunError(type=_signal_name(raw.signal), message="killed by a signal", path=str(problem.path))
    return RunError(type="NonZeroExit", message=f"exit code {raw.exit_code}", path=str(problem.path))


def _function_error(problem: Problem, sol: RawRun, report: CheckerReport) -> RunError:
    error = report.error
    if report.outcome is Outcome.SOLUTION_EXIT or error is None:
        if sol.signal is not None:
            message = f"the solution's process was killed by {_signal_name(sol.signal)}"
        elif report.message:  # it broke the protocol: the checker says how (a forged frame, a malformed reply)
            message = f"the solution's process {report.message}"
        else:
            message = f"the solution's process exited (status {sol.exit_code}) before the test finished"
        return RunError(type="ProcessExit", message=message, path=str(problem.path))
    return _explained(problem, RunError(type=error.type, message=error.message, line=error.line,
                                        path=str(problem.path)))


# What Python says when the sandbox refuses ``fork``/``clone`` (EPERM; its other refusals are EACCES).
PROCESS_REFUSED = "[Errno 1] Operation not permitted"
PROCESS_HINT = ("if this was starting a process: child processes are refused unless allowed "
                "(--allow-subprocesses, allowSubprocesses in the tests file, orps.allowSubprocesses)")


def _explained(problem: Problem, error: RunError) -> RunError:
    """The error, with what to do if it is the sandbox refusing a child process (the errno alone
    cannot say so for sure: EPERM has other causes)."""
    if problem.allow_subprocesses or error.type != "PermissionError" or not error.message.startswith(PROCESS_REFUSED):
        return error
    return replace(error, message=f"{error.message} - {PROCESS_HINT}")


def _checker_failure(checker: RawRun) -> str:
    if checker.timed_out:
        return "the test itself ran past its deadline"
    tail = checker.stderr.strip().splitlines()[-1:] or [f"exit code {checker.exit_code}, signal {checker.signal}"]
    return f"the test process ended without a report: {tail[0]}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _result(test: TestCase, verdict: Verdict, raw: RawRun, *, expected: str | None, actual: str | None,
            error: RunError | None, detail: str | None, wall_ms: float | None,
            notes: tuple[str, ...] = (), failed_at: int | None = None,
            behaviour: Behaviour | None = None) -> ExecutionResult:
    measured = verdict is not Verdict.HARNESS
    return ExecutionResult(test_id=test.id, verdict=verdict, wall_ms=wall_ms if measured else None,
                           cpu_ms=raw.cpu_ms if measured else None, peak_kb=raw.peak_kb if measured else None,
                           instructions=raw.instructions if measured else None,
                           bytecodes=raw.bytecodes if measured else None, expected=_shown(expected),
                           actual=_shown(actual), error=_bounded_error(error),
                           detail=None if detail is None else excerpt(detail, MAX_ERROR_MESSAGE),
                           stdout=excerpt(raw.stdout, MAX_SHOWN_TEXT), notes=tuple(raw.notes) + notes,
                           failed_at=failed_at, behaviour=behaviour)


def _shown(text: str | None) -> str | None:
    return None if text is None else excerpt(text, MAX_SHOWN_TEXT)


def _bounded_error(error: RunError | None) -> RunError | None:
    if error is None:
        return None
    return dataclasses.replace(error, type=excerpt(error.type, MAX_ERROR_TYPE),
                               message=excerpt(error.message, MAX_ERROR_MESSAGE))



