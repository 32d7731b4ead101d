"""The terminal view of a stress run: the failing input with the brute force's and the solution's
outputs, where it was saved, or that none was found; a generator's or brute force's failure with
what it printed on stderr. Every text a run produced is shown escaped (``text.printable``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..results import ExecutionResult, Verdict
from ..stress import ProgramFailure, Role, StressOutcome, Trial
from ..text import escaped_line, printable
from .terminal import MAX_ERROR_LINE, comparison_lines, text_block


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedTest:
    """Where the failing input is among the tests now: the test it became, or the one that had it."""

    path: Path | None  # the file that holds it
    test_id: str  # as ``orps test -t`` names it
    added: bool  # False: a test with this input was there already, and nothing was written
    created: bool = False  # the file was made for it


def format_stress(outcome: StressOutcome, solution: Path, saved: SavedTest | None) -> str:
    """What ``orps stress`` prints on stdout when it found a difference or none."""
    seeds = _seeds(outcome)
    if outcome.found is None:
        stopped = "stopped (interrupted) after" if outcome.interrupted else "no difference in"
        return printable(f"{stopped} {outcome.trials} trial(s) ({seeds})")
    parts = [_found_line(outcome, outcome.found, seeds), _trial(outcome.found, solution)]
    if saved is not None:
        parts.append(_saved_line(saved, solution))
    parts.extend(f"note: {note}" for note in dict.fromkeys(outcome.notes))
    return printable("\n\n".join(parts))


def _seeds(outcome: StressOutcome) -> str:
    last = outcome.seed + max(outcome.trials, 1) - 1
    return f"seed {outcome.seed}" if last == outcome.seed else f"seeds {outcome.seed}..{last}"


def _found_line(outcome: StressOutcome, trial: Trial, seeds: str) -> str:
    line = f"difference found at trial {outcome.trials} ({seeds})"
    first, now = outcome.first_input, len(trial.input)
    if first is not None and first != trial.input:
        smaller = (f"from {len(first)} to {now} characters" if len(first) != now
                   else f"to smaller numbers ({now} characters)")
        line += f"; shrunk {smaller} in {outcome.shrink_tries} runs"
    elif outcome.shrink_tries:
        line += f"; no smaller failing input in {outcome.shrink_tries} runs"
    if outcome.interrupted:
        line += " (shrinking interrupted)"
    origin = f"the generator's for seed {trial.seed}" if trial.seed is not None else "made smaller by orps"
    return f"{line}\nthe input below is {origin}"


def _trial(trial: Trial, solution: Path) -> str:
    result = trial.solution
    lines = [f"{solution.name}: {result.verdict.value}{_detail(result)}", *text_block("input", trial.input)]
    if result.verdict is Verdict.WA:
        lines += comparison_lines(trial.expected, result.actual or "")
    else:
        lines += text_block("expected", trial.expected)
        if result.error is not None:
            lines.append(f"  error: {escaped_line(str(result.error), MAX_ERROR_LINE)}")
    return "\n".join(lines)


def _detail(result: ExecutionResult) -> str:
    return f" - {escaped_line(result.detail, MAX_ERROR_LINE)}" if result.detail and result.error is None else ""


def _saved_line(saved: SavedTest, solution: Path) -> str:
    again = f"orps test {solution} -t {saved.test_id}"
    where = f" in {saved.path}" if saved.path is not None else ""
    if not saved.added:
        return f"already test {saved.test_id}{where} (nothing written); {again}"
    made = " (created)" if saved.created else ""
    return f"saved as test {saved.test_id}{where}{made}; {again}"


def failure_message(failure: ProgramFailure) -> str:
    """Why a stress run could not go on: the generator or the brute force failed, in its own words."""
    result = failure.result
    given = f"seed {failure.seed}" if failure.role is Role.GENERATOR else f"the input of seed {failure.seed}"
    lines = [f"the {failure.role.value} {failure.path.name} failed on {given}: {result.verdict.value}"
             f"{_detail(result)}"]
    if result.error is not None:
        lines.append(f"  error: {escaped_line(str(result.error), MAX_ERROR_LINE)}")
    if failure.input is not None:
        lines += text_block("input", failure.input)
    if failure.stderr.strip():
        lines += text_block("stderr", failure.stderr)
    return printable("\n".join(lines))


def failure_hint(failure: ProgramFailure) -> str:
    if failure.role is Role.GENERATOR:
        return (f"run it by hand: python3 {failure.path} {failure.seed}; a generator reads its seed from "
                f"sys.argv[1] and prints one input")
    return "the brute force must answer every input the generator makes (it is the reference)"

