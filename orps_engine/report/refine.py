"""How a refine's result reads: the unified diff, the critique, the before/after table, and the
``--json`` document (schema in the README). The diff and the critique are the model's text, and
notes may quote a run: the terminal text has its control characters escaped (``text.printable``)."""

from __future__ import annotations

import difflib
from typing import Any

from .. import units
from ..measure import ALPHA, MIN_CHANGE, Change, CountChange, CountUse, cheaper
from ..problem.target import function_name, splice
from ..results import SuiteResult
from ..search import Delta, Event, EventKind, FailureKind, Node, RefineResult
from ..text import columns, printable


def refined_source(result: RefineResult) -> str:
    assert result.best.code is not None
    return splice(result.problem, result.best.code)


def unified_diff(result: RefineResult) -> str:
    path = str(result.problem.path)
    before = result.problem.source.splitlines(keepends=True)
    after = refined_source(result).splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, after, f"{path} (original)", f"{path} (refined)"))


def format_refine(result: RefineResult) -> str:
    parts = []
    if result.improved:
        best = result.best
        parts.append(f"Best candidate: {best.id} (round {best.round}, critic score {best.critic_score or '-'}/5)")
        parts.append(unified_diff(result).rstrip("\n"))
        if best.critique:
            parts.append("Critique:\n" + _indent(best.critique))
    else:
        parts.append("No candidate beat the original: it stays as it is.")
    parts.append(delta_table(result))
    if result.delta is not None:
        parts.append(how_measured(result.delta))
    if result.stopped:
        parts.append(f"note: {result.stopped}")
    parts.extend(f"note: {w}" for w in result.warnings)
    parts.append("\n".join([candidates_line(result), model_line(result)]))
    parts.extend(f"diagnosis: {line}" for line in diagnosis(result))
    return printable("\n\n".join(parts))


def candidates_line(result: RefineResult) -> str:
    """``12 candidates over 3 round(s): 9 ran (7 reviewed with a score, 2 without), 3 without usable code``."""
    c = candidate_counts(result)
    parts = [f"{c['ran']} ran ({c['scored']} reviewed with a score"
             + (f", {c['unscored']} without" if c["unscored"] else "")
             + (f", {c['review_failed']} whose review failed" if c["review_failed"] else "") + ")"]
    for key, text in (("no_code", "without usable code"), ("no_reply", "whose call failed"),
                      ("context", "that did not fit the context window"), ("not_run", "that could not be run")):
        if c[key]:
            parts.append(f"{c[key]} {text}")
    return f"{c['candidates']} candidates over {result.rounds_run} round(s): " + ", ".join(parts)


def model_line(result: RefineResult) -> str:
    u = result.usage
    parts = [f"model: {u.calls} calls" + (f" ({u.failed_calls} failed)" if u.failed_calls else "")
             + (f", {u.retries} retries" if u.retries else ""),
             f"{u.prompt_tokens} prompt + {u.completion_tokens} completion tokens", f"{u.wall_s:.1f} s"]
    cuts = [f"{n} {what}" for n, what in ((u.cut_done, "cut once their code block closed"),
                                           (u.cut_repetition, "cut at a repetition"),
                                           (u.cut_length, "stopped at max_tokens")) if n]
    if cuts:
        parts.append("replies: " + ", ".join(cuts))
    if result.context_window is not None:
        parts.append(f"context window {result.context_window} tokens (largest prompt {u.largest_prompt_tokens})")
    return "; ".join(parts)


def candidate_counts(result: RefineResult) -> dict[str, int]:
    candidates = result.candidates
    ran = [n for n in candidates if n.evaluated]
    return {"candidates": len(candidates), "ran": len(ran),
            "scored": sum(1 for n in ran if n.critic_score is not None),
            "unscored": result.count(FailureKind.NO_SCORE), "review_failed": result.count(FailureKind.NO_REVIEW),
            "no_code": result.count(FailureKind.NO_CODE), "no_reply": result.count(FailureKind.NO_REPLY),
            "context": result.count(FailureKind.CONTEXT), "not_run": result.count(FailureKind.NOT_RUN)}


def diagnosis(result: RefineResult) -> list[str]:
    """What went wrong with the model, in one line each, worst first (empty when nothing did)."""
    c, u, lines = candidate_counts(result), result.usage, []
    if c["candidates"] and c["no_code"] * 2 >= c["candidates"]:
        advice = ": try a larger (or code-tuned) model" if c["no_code"] == c["candidates"] else ""
        lines.append(f"the model's replies had no usable code in {c['no_code']} of {c['candidates']} samples{advice}")
    if c["context"]:
        context = next(n.failure for n in result.candidates if n.failure and n.failure.kind is FailureKind.CONTEXT)
        lines.append(context.detail if context is not None else "the prompts did not fit the context window")
    failed = [n.failure for n in result.candidates
              if n.failure is not None and n.failure.kind in (FailureKind.NO_REPLY, FailureKind.NO_REVIEW)]
    if failed:
        lines.append(f"{len(failed)} model call(s) failed, e.g. {failed[0].detail}")
    if c["ran"] and c["scored"] == 0:
        lines.append(f"the critic gave no usable score in any of its {c['ran']} review(s): the beam was ranked by "
                     "the execution score alone")
    elif c["unscored"]:
        lines.append(f"the critic gave no usable score in {c['unscored']} of {c['ran']} review(s): those candidates "
                     "counted as a middling 3")
    if u.cut_repetition:
        lines.append(f"{u.cut_repetition} reply(ies) were cut when the model started repeating itself")
    if u.cut_length:
        lines.append(f"{u.cut_length} reply(ies) stopped at max_tokens before they ended: raise max_tokens if that "
                     "cut code")
    if result.smallest_prompt_chars is not None and result.context_window is not None:
        lines.append(f"the context window ({result.context_window} tokens) cut prompts down to "
                     f"{result.smallest_prompt_chars} characters")
    return lines


def delta_table(result: RefineResult) -> str:
    """The original against the pick: tests passed, CPU, bytecodes, memory, instructions, and the change."""
    original, best = result.original, result.best
    o, b = original.suite, best.suite
    assert o is not None and b is not None
    delta = result.delta
    rows = [("", "original", "refined", "change"),
            ("tests passed", f"{o.passed}/{o.total}", f"{b.passed}/{b.total}", _passed_change(o, b)),
            ("CPU time", *_measured(delta.cpu if delta else None, o.total_cpu_ms, b.total_cpu_ms, units.ms)),
            ("bytecodes", *_bytecodes(delta.bytecodes if delta else None, o, b)),
            ("peak memory", *_measured(delta.peak if delta else None, o.max_peak_kb, b.max_peak_kb,
                                       lambda v: units.kb(int(v)))),
            ("instructions", *_instructions(o, b))]
    return columns(rows)


def _passed_change(o: SuiteResult, b: SuiteResult) -> str:
    diff = b.passed - o.passed
    return f"+{diff}" if diff > 0 else ("-" if diff == 0 else str(diff))


def _measured(change: Change | None, before: float, after: float, fmt: Any) -> tuple[str, str, str]:
    if change is None:  # nothing changed: the original is the pick
        return fmt(before), fmt(after), "-"
    text = "no significant change"
    if change.significant and change.ratio is not None:
        text = f"{change.ratio:.2f}x lower" if change.ratio > 1 else f"{1 / change.ratio:.2f}x higher"
    noise = max(change.before.rel_noise, change.after.rel_noise)
    return fmt(change.before.median), fmt(change.after.median), f"{text} (noise ±{noise:.0%})"


_COUNT_USE = {CountUse.SKIPPED: "not counted: CPU time decided", CountUse.UNAVAILABLE: "not counted",
              CountUse.AGREES: "agrees with CPU time",
              CountUse.DECIDES: "decides: CPU time could not tell",
              CountUse.UNTRACKED: "not used: does not track CPU time here"}


def _bytecodes(counted: CountChange | None, o: SuiteResult, b: SuiteResult) -> tuple[str, str, str]:
    """The count, and what it did for the comparison: it never wins against the CPU runs."""
    if counted is None:  # not measured again (the original is the pick): what the runs counted, if anything
        return units.count(o.total_bytecodes), units.count(b.total_bytecodes), "-"
    text = _COUNT_USE[counted.use]
    if counted.use is CountUse.SKIPPED:
        return "-", "-", text
    if counted.ratio is not None and counted.use not in (CountUse.UNAVAILABLE, CountUse.SKIPPED):
        ratio = counted.ratio
        amount = ("the same" if ratio == 1 else f"{ratio:.2f}x fewer" if ratio > 1 else f"{1 / ratio:.2f}x more")
        text = f"{amount} ({text})"
    return units.count(counted.before), units.count(counted.after), text


def how_measured(delta: Delta) -> str:
    """How the change column was decided, in a line or two under the table."""
    cpu = delta.cpu
    interval = (f", ratio {cpu.interval[0]:.2f}-{cpu.interval[1]:.2f} at 95%" if cpu.interval is not None else "")
    return (f"measured: {delta.repeats} interleaved runs each; a change counts when Mann-Whitney's rank test gives "
            f"p < {ALPHA:g} (or no overlap at all, with too few runs for that) and it is over {MIN_CHANGE:.0%} "
            f"(CPU: p = {cpu.p_value:.3g}{interval}); bytecodes: one traced run each, deciding only where CPU time "
            "cannot, and only within its interval")


def _instructions(o: SuiteResult, b: SuiteResult) -> tuple[str, str, str]:
    before, after = o.total_instructions, b.total_instructions
    if before is None or after is None:
        return "unavailable", "unavailable", "-"
    ratio = before / after if after else None
    return units.count(before), units.count(after), f"{ratio:.2f}x" if ratio else "-"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.strip().splitlines())


# -- JSON ------------------------------------------------------------------------------------------
def refine_document(result: RefineResult) -> dict[str, Any]:
    o, b = result.original.suite, result.best.suite
    assert o is not None and b is not None
    delta = result.delta
    return {
        "file": str(result.problem.path),
        "function": function_name(result.problem.target),
        "original": {"passed": o.passed, "total": o.total, "cpu_ms": _median(delta.cpu.before if delta else None,
                                                                              o.total_cpu_ms),
                     "peak_kb": int(delta.peak.before.median) if delta else o.max_peak_kb,
                     "bytecodes": delta.bytecodes.before if delta and delta.bytecodes else o.total_bytecodes},
        "best": {"code": result.best.code, "passed": b.passed, "total": b.total,
                 "cpu_ms": _median(delta.cpu.after if delta else None, b.total_cpu_ms),
                 "peak_kb": int(delta.peak.after.median) if delta else b.max_peak_kb,
                 "bytecodes": delta.bytecodes.after if delta and delta.bytecodes else b.total_bytecodes,
                 "critique": result.best.critique or None, "score": result.best.critic_score},
        "delta": _delta_document(delta),
        "tree": [_node(n) for n in result.nodes],
        "usage": {"calls": result.usage.calls, "failed_calls": result.usage.failed_calls,
                  "retries": result.usage.retries, "prompt_tokens": result.usage.prompt_tokens,
                  "completion_tokens": result.usage.completion_tokens, "wall_s": round(result.usage.wall_s, 3),
                  "call_s": round(result.usage.call_s, 3), "cut_done": result.usage.cut_done,
                  "cut_repetition": result.usage.cut_repetition, "cut_length": result.usage.cut_length,
                  "largest_prompt_tokens": result.usage.largest_prompt_tokens},
        "context_window": result.context_window,
        "candidates": candidate_counts(result),
        "stopped": result.stopped,
        "parse_failures": result.parse_failures,
        "diagnosis": diagnosis(result),
    }


def _delta_document(delta: Delta | None) -> dict[str, Any]:
    if delta is None:
        return {"cpu_ratio": 1.0, "peak_ratio": 1.0, "significant": False, "cpu_p": None, "bytecodes_ratio": None,
                "bytecodes_use": None}
    counted = delta.bytecodes
    return {"cpu_ratio": _round(delta.cpu.ratio), "peak_ratio": _round(delta.peak.ratio),
            "significant": delta.cpu.significant or delta.peak.significant or bool(counted and counted.significant),
            "cpu_p": round(delta.cpu.p_value, 4),
            "bytecodes_ratio": _round(counted.ratio) if counted else None,
            "bytecodes_use": counted.use.value if counted else None}


def _node(node: Node) -> dict[str, Any]:
    suite = node.suite
    return {"id": node.id, "parent": node.parent, "round": node.round,
            "passed": suite.passed if suite else None, "total": suite.total if suite else None,
            "critic_score": node.critic_score, "exec_score": round(node.exec_score, 4),
            "failure": str(node.failure) if node.failure is not None else None}


def _median(spread: Any, fallback: float) -> float:
    return round(spread.median if spread is not None else fallback, 3)


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


# -- one-liners for progress and editors --------------------------------------------------------------
def progress_text(event: Event) -> str:
    """``Round 2/3, best 12/12, 1.8x less CPU``: what a progress bar says about the search."""
    status = _best_status(event.best, event.original)
    if event.kind is EventKind.START:
        return f"original: {status.removeprefix('best ')}"
    if event.kind in (EventKind.ROUND, EventKind.CANDIDATE):
        return f"Round {event.round + 1}/{event.rounds}, {event.done}/{event.total} candidates, {status}"
    if event.kind is EventKind.MEASURE:
        return event.message
    return f"done: {status}" + (f" ({event.message})" if event.message else "")


def _best_status(best: Node | None, original: Node | None) -> str:
    if best is None or best.suite is None:
        return "no result yet"
    status = f"best {best.suite.passed}/{best.suite.total}"
    if original is not None and best is not original and original.cost and best.cost:
        if cheaper(best.cost, original.cost):
            status += f", {original.cost / best.cost:.1f}x less CPU"
        elif cheaper(original.cost, best.cost):
            status += f", {best.cost / original.cost:.1f}x more CPU"
    return status


def refine_line(result: RefineResult) -> str:
    """``ORPS refinement: 12/12 passed, CPU 2.1x lower``: the hint an editor shows on the function."""
    best = result.best.suite
    assert best is not None
    if not result.improved:
        problems = diagnosis(result)
        why = f"; {problems[0]}" if problems else ""
        return f"ORPS refinement: no candidate beat the original ({best.passed}/{best.total} passed){why}"
    parts = [f"{best.passed}/{best.total} passed"]
    delta = result.delta
    counted = delta.bytecodes if delta is not None else None
    if delta is not None and delta.cpu.significant and delta.cpu.ratio:
        ratio = delta.cpu.ratio
        parts.append(f"CPU {ratio:.1f}x lower" if ratio > 1 else f"CPU {1 / ratio:.1f}x higher")
    elif counted is not None and counted.significant and counted.ratio:
        ratio = counted.ratio
        parts.append("CPU within noise, " + (f"{ratio:.2f}x fewer bytecodes" if ratio > 1
                                             else f"{1 / ratio:.2f}x more bytecodes"))
    elif delta is not None:
        parts.append("no significant CPU change")
    return "ORPS refinement: " + ", ".join(parts)
