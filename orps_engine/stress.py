"""``orps stress``: random inputs until a solution and a brute force disagree, the failing input
shrunk to the smallest one found, to be saved as a test.

A trial: the generator runs with the trial's seed as its only argument (``gen.py SEED`` prints one
input, as Codeforces and online-judge-tools stress scripts run it; trial ``i`` of a run with seed
``S`` gets ``S + i``), then the brute force and the solution each run on that input. The solution's
output is judged against the brute force's with the problem's comparison and limits, so a TLE, RE
or MLE on an input the brute force answers is a failure too; a brute force that fails is reported
as such, never blamed on the solution. Every program runs in the sandbox, each in a warm sandbox of
its own opened once, so a trial costs milliseconds.

Shrinking, once a failing input is found: first the generator with other seeds (the seeds after
the search's), keeping any smaller failing input; then ``shrink``'s reducer on the smallest one,
where a candidate counts only if the brute force accepts it (exit 0: a brute force that asserts
the input's constraints keeps the reducer to valid inputs) and the solution fails it with the same
verdict. Each phase may try ``shrink_runs`` inputs, and both together take ``config.STRESS_SHRINK_S``
at most. Everything but that time budget is deterministic: the same seed gives the same trials.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

from . import config, shrink
from .errors import HarnessError, InputError, NoTestsFound
from .judge import ProgramRun, open_sandbox, run_program
from .problem import Comparison, Problem, ProblemKind, TestCase, TestKind, WholeFile, load_problem, read_solution
from .problem.compare import inferred_comparison
from .project.load import program_python
from .results import ExecutionResult, Verdict
from .sandbox import Sandbox


class StressStatus(str, Enum):
    FOUND = "found"  # the solution failed an input the brute force answered
    NONE_FOUND = "none found"  # every trial agreed
    GENERATOR_FAILED = "generator failed"  # the generator did not exit cleanly within its limits
    BRUTE_FAILED = "brute failed"  # the brute force did not, on a generated input


class Phase(str, Enum):
    SEARCH = "search"  # trials of the generator's inputs
    RESEED = "reseed"  # shrinking: other seeds, for a smaller failing input
    REDUCE = "reduce"  # shrinking: smaller variants of the smallest failing input


class Role(str, Enum):
    GENERATOR = "generator"
    BRUTE = "brute force"


@dataclass(frozen=True, slots=True, kw_only=True)
class StressConfig:
    generator: Path
    brute: Path
    seed: int
    runs: int = config.STRESS_RUNS
    shrink_runs: int = config.STRESS_SHRINK_RUNS
    shrink_s: float = config.STRESS_SHRINK_S
    helper_time_limit_s: float = config.STRESS_HELPER_TIME_LIMIT_S  # the generator's and the brute force's


@dataclass(frozen=True, slots=True, kw_only=True)
class Trial:
    """One input, the brute force's output for it, and the solution judged against that."""

    seed: int | None  # the generator's; None for an input the reducer made
    input: str
    expected: str  # all the brute force printed
    solution: ExecutionResult

    @property
    def failed(self) -> bool:
        return self.solution.verdict is not Verdict.AC


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramFailure:
    """The generator or the brute force did not run cleanly: what it was given and why it failed."""

    role: Role
    path: Path
    seed: int
    input: str | None  # the brute force's input (None for the generator: it reads none)
    result: ExecutionResult
    stderr: str  # its end


@dataclass(frozen=True, slots=True, kw_only=True)
class StressProgress:
    """Where a stress run is: for a progress line."""

    phase: Phase
    done: int
    total: int
    smallest_chars: int | None  # the smallest failing input's size so far


@dataclass(frozen=True, slots=True, kw_only=True)
class StressOutcome:
    status: StressStatus
    seed: int  # the first trial's
    trials: int  # trials of the search run
    found: Trial | None = None  # the smallest failing input found
    first_input: str | None = None  # the first failing input found, before shrinking
    shrink_tries: int = 0  # inputs tried while shrinking
    failure: ProgramFailure | None = None
    interrupted: bool = False  # stopped (Ctrl+C) before it was done
    notes: tuple[str, ...] = ()  # what the sandbox said of its confinement


ProgressCallback = Callable[[StressProgress], None]


def load_stress_problem(solution: Path, *, python: str | None) -> Problem:
    """The solution as a program, with its tests file's limits and comparison where it has one
    (the stress run's failing input goes there); without tests, the defaults."""
    try:
        problem = load_problem(solution)
    except NoTestsFound:
        problem = Problem(path=solution, source=read_solution(solution), kind=ProblemKind.PROGRAM,
                          target=WholeFile(), tests=(), compare=inferred_comparison(()), origin="no tests yet")
    if problem.kind is not ProblemKind.PROGRAM:
        raise InputError(f"its tests ({problem.origin}) call functions: orps stress runs programs on stdin",
                         path=solution, hint="stress a program that reads its input from stdin")
    return replace(problem, python=program_python(python))


def stress(problem: Problem, settings: StressConfig, *, on_progress: ProgressCallback | None = None,
           stop: threading.Event | None = None) -> StressOutcome:
    """Run the trials; shrink a failing input. ``stop`` set: end after the run in flight, keeping
    the smallest failing input found so far (``StressOutcome.interrupted``)."""
    if settings.runs < 1 or settings.shrink_runs < 0:
        raise InputError("the number of runs must be at least 1, of shrink runs at least 0")
    with _Programs.opened(problem, settings) as programs:
        run = _Run(programs, settings, on_progress or (lambda _p: None), stop or threading.Event())
        return run.search()


class _Programs:
    """The three programs, each in a warm sandbox of its own."""

    def __init__(self, problem: Problem, generator: Problem, brute: Problem, boxes: list[Sandbox]) -> None:
        self.problem, self.generator, self.brute = problem, generator, brute
        self.solution_box, self.generator_box, self.brute_box = boxes

    @classmethod
    @contextmanager
    def opened(cls, problem: Problem, settings: StressConfig) -> Iterator[_Programs]:
        generator = _helper(problem, settings.generator, settings.helper_time_limit_s)
        brute = _helper(problem, settings.brute, settings.helper_time_limit_s)
        with ExitStack() as stack:
            boxes = [stack.enter_context(open_sandbox(p)) for p in (problem, generator, brute)]
            yield cls(problem, generator, brute, boxes)

    def generate(self, seed: int) -> ProgramRun:
        made = run_program(self.generator_box, self.generator, _unjudged("generator", ""), argv=[str(seed)])
        return _ours_checked(made, "the generator")

    def answer(self, text: str) -> ProgramRun:
        return _ours_checked(run_program(self.brute_box, self.brute, _unjudged("brute", text)), "the brute force")

    def judge(self, text: str, expected: str, seed: int | None) -> Trial:
        problem = self.problem
        if problem.compare.inferred:  # as ``orps test`` will judge it once saved: reals compared as such
            problem = replace(problem, compare=_inferred(problem, expected))
        test = TestCase(id="stress", kind=TestKind.STDIO, input=text, expected=expected)
        result = _ours_checked(run_program(self.solution_box, problem, test), "the solution").result
        return Trial(seed=seed, input=text, expected=expected, solution=result)

    @property
    def notes(self) -> tuple[str, ...]:
        return self.solution_box.notes


def _helper(problem: Problem, path: Path, time_limit_s: float) -> Problem:
    """The generator or the brute force, as a program run with the solution's interpreter and memory."""
    return replace(problem, path=path, source=read_solution(path), tests=(), time_limit_s=time_limit_s)


def _ours_checked(run: ProgramRun, what: str) -> ProgramRun:
    """``run``, unless the sandbox failed it: that is orps's failure, never the program's."""
    if run.result.verdict is Verdict.HARNESS:
        raise HarnessError(f"the sandbox failed running {what}: {run.result.detail}")
    return run


def _unjudged(name: str, text: str) -> TestCase:
    return TestCase(id=name, kind=TestKind.STDIO, input=text)


def _inferred(problem: Problem, expected: str) -> Comparison:
    return inferred_comparison([*(t.expected for t in problem.tests), expected])


class _Run:
    """One stress run's state: how far it got, and the smallest failing input found."""

    def __init__(self, programs: _Programs, settings: StressConfig, on_progress: ProgressCallback,
                 stop: threading.Event) -> None:
        self.programs, self.settings, self.on_progress, self.stop = programs, settings, on_progress, stop
        self.best: Trial | None = None
        self.tries = 0

    def outcome(self, status: StressStatus, trials: int, *, first_input: str | None = None,
                failure: ProgramFailure | None = None) -> StressOutcome:
        return StressOutcome(status=status, seed=self.settings.seed, trials=trials, found=self.best,
                             first_input=first_input, shrink_tries=self.tries, failure=failure,
                             interrupted=self.stop.is_set(), notes=self.programs.notes)

    def search(self) -> StressOutcome:
        settings = self.settings
        for i in range(settings.runs):
            if self.stop.is_set():
                return self.outcome(StressStatus.NONE_FOUND, i)
            self.on_progress(StressProgress(phase=Phase.SEARCH, done=i + 1, total=settings.runs, smallest_chars=None))
            seed = settings.seed + i
            made = self.programs.generate(seed)
            if not made.result.verdict.passed:
                return self.outcome(StressStatus.GENERATOR_FAILED, i + 1, failure=self._failure(Role.GENERATOR,
                                                                                                 seed, None, made))
            answer = self.programs.answer(made.stdout)
            if not answer.result.verdict.passed:
                return self.outcome(StressStatus.BRUTE_FAILED, i + 1,
                                    failure=self._failure(Role.BRUTE, seed, made.stdout, answer))
            trial = self.programs.judge(made.stdout, answer.stdout, seed)
            if trial.failed:
                self.best = trial
                self._shrink(trial, settings.seed + i + 1)
                return self.outcome(StressStatus.FOUND, i + 1, first_input=trial.input)
        return self.outcome(StressStatus.NONE_FOUND, settings.runs)

    def _failure(self, role: Role, seed: int, text: str | None, run: ProgramRun) -> ProgramFailure:
        path = self.settings.generator if role is Role.GENERATOR else self.settings.brute
        return ProgramFailure(role=role, path=path, seed=seed, input=text, result=run.result, stderr=run.stderr)

    # -- shrinking --------------------------------------------------------------------------------
    def _shrink(self, found: Trial, next_seed: int) -> None:
        """Keep the smallest failing input in ``self.best``: it is the outcome's, however this ends."""
        deadline = time.monotonic() + self.settings.shrink_s
        self.best = self._reseed(found, next_seed, deadline)
        self.best = self._reduce(self.best, deadline)

    def _going(self, deadline: float) -> bool:
        return not self.stop.is_set() and time.monotonic() < deadline

    def _reseed(self, best: Trial, first_seed: int, deadline: float) -> Trial:
        """The smallest failing input among the generator's for the next ``shrink_runs`` seeds (and ``best``)."""
        total = self.settings.shrink_runs
        for j in range(total):
            if not self._going(deadline):
                break
            self._progress(Phase.RESEED, j + 1, total, best)
            seed = first_seed + j
            made = self.programs.generate(seed)
            self.tries += 1
            if made.result.verdict.passed and shrink.size(made.stdout) < shrink.size(best.input):
                best = self._tried(made.stdout, seed, verdict=None) or best
        return best

    def _reduce(self, best: Trial, deadline: float) -> Trial:
        """``best`` cut down by the reducer's candidates (the first that fails alike, again and again)."""
        total, done = self.settings.shrink_runs, 0
        improved = True
        while improved:
            improved = False
            for candidate in shrink.candidates(best.input):
                if done >= total or not self._going(deadline):
                    return best
                done += 1
                self.tries += 1
                self._progress(Phase.REDUCE, done, total, best)
                trial = self._tried(candidate, None, verdict=best.solution.verdict)
                if trial is not None:
                    best, improved = trial, True
                    break
        return best

    def _tried(self, text: str, seed: int | None, *, verdict: Verdict | None) -> Trial | None:
        """The trial of ``text`` if it is a failing input (the brute force accepts it, and the
        solution fails it, with ``verdict`` where one is asked for)."""
        answer = self.programs.answer(text)
        if not answer.result.verdict.passed:
            return None
        trial = self.programs.judge(text, answer.stdout, seed)
        if not trial.failed or (verdict is not None and trial.solution.verdict is not verdict):
            return None
        return trial

    def _progress(self, phase: Phase, done: int, total: int, best: Trial) -> None:
        self.on_progress(StressProgress(phase=phase, done=done, total=total, smallest_chars=len(best.input)))
