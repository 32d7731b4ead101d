"""The prompts of the search: the programmer's task, its trajectory in later rounds, the critic's
review, and the reminders sent when a reply misses its format.

Prompts are kept under a character budget: the oldest attempts of a trajectory go first, then
long fields are cut, so a deep search never sends the model more than it was configured for.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..problem import FunctionTarget, Problem, ProblemKind, TestKind
from ..problem.target import TargetInfo, signature, statement, target_code, target_info
from ..text import clip

# Strategy hints, one per sample of a round (as in the reference implementation), cycled when
# a round draws more samples than there are hints.
STRATEGY_HINTS: tuple[str, ...] = (
    "Aim for the most time-efficient algorithm: lower the asymptotic complexity first.",
    "Optimise memory: avoid building large intermediate structures; stream where you can.",
    "Prefer an iterative formulation (explicit loops or stacks instead of recursion).",
    "Consider a recursive formulation with memoisation where subproblems repeat.",
    "Write idiomatic, pythonic code: built-ins, comprehensions and the standard library's fast paths.",
    "Look for a mathematical insight or closed form that replaces brute force.",
    "Optimise for large inputs: think about the worst case the tests could grow to.",
    "Keep it simple and readable; remove redundant work while keeping the behaviour exact.",
    "Use the right data structure (sets, dicts, heaps, deques, bisect) for each lookup.",
    "Precompute once and reuse: hoist invariant work out of loops, cache repeated results.",
    "Check the edge cases (empty input, single element, extremes) before optimising.",
    "Reduce constant factors: fewer function calls and attribute lookups in hot loops.",
    "Use a greedy or two-pointer technique if the problem's structure allows it.",
    "Consider dynamic programming over a well-chosen state.",
)

PROGRAMMER_SYSTEM = (
    "You are an expert Python programmer improving existing code. Correctness comes first: the "
    "code must pass every test. Then make it faster and lighter. Reason step by step about the "
    "code, the tests and the execution results, then give exactly one ```python code block with "
    "the complete new version of the target (keep its name and signature; include any imports "
    "and helper functions it needs in the same block, unless the target says otherwise). Write "
    "your reasoning before the block."
)
CRITIC_SYSTEM = (
    "You are a strict reviewer of Python code. You see a task, a candidate, and the report of "
    "actually running the candidate on the tests. Judge correctness first, then efficiency and "
    "clarity, and name the single most useful next improvement. End with a line `Score: N`, N "
    "from 1 (poor) to 5 (excellent), and add a line `Final: yes` only if the candidate passes "
    "every test and you see no significant improvement left."
)
CODE_REMINDER = ("Your reply had no usable ```python code block. Reply again: brief reasoning, then exactly one "
                 "```python block with the complete code.")
SCORE_REMINDER = "Your review had no score. Reply again with the review, ending with a line `Score: N` (N from 1 to 5)."
OMITTED = "[{n} earlier attempt(s) omitted to fit the prompt budget]"
CUT = "\n[... cut to fit the prompt budget]"
KEEP_TAIL = 600


@dataclass(frozen=True, slots=True)
class Attempt:
    """One step of a trajectory, as the programmer sees it."""

    code: str
    report: str
    critique: str


def hint(index: int) -> str:
    return STRATEGY_HINTS[index % len(STRATEGY_HINTS)]


def task_text(problem: Problem, budget: int) -> str:
    """The task, within ``budget`` characters: each section gets its own share, so a long
    docstring or test list never pushes out what follows it."""
    goal = _goal(problem)
    code = target_code(problem)
    about = statement(problem)
    if isinstance(problem.target, FunctionTarget) and about.strip() and about.strip().splitlines()[-1] in code:
        about = "(described by the docstring in the current code)"  # do not send it twice
    parts = [f"## Problem\n{_cut(about, budget // 6)}", f"## Current code\n```python\n{_cut(code, budget // 3)}```",
             f"## {goal}", f"## Public tests\n{_tests(problem, budget // 3)}"]
    return "\n\n".join(parts)


def _goal(problem: Problem) -> str:
    if isinstance(problem.target, FunctionTarget):
        info = target_info(problem)
        if info is None or info.is_class:
            return f"Target: `{problem.target.qualname}`; keep its signature:\n    {signature(problem)}"
        return _function_goal(info, signature(problem))
    if problem.kind is ProblemKind.PROGRAM:
        return "Target: the whole program; it reads standard input and writes standard output."
    return "Target: the whole file; the tests import it as a module and call its functions."


def _function_goal(info: TargetInfo, signature: str | None) -> str:
    """The target line of a function or method: what it is, what to keep, what the block holds."""
    name = info.qualname.rpartition(".")[2]
    if info.owner is None:
        what = f"the function `{info.qualname}`" + (" (an `async def`)" if info.is_async else "")
        block = "The rest of the file stays as it is: do not redefine its other names."
    else:
        article = "an" if info.kind[0] in "aeiou" else "a"
        what = (f"the method `{info.qualname}` ({'an `async def`, ' if info.is_async else ''}{article} {info.kind} "
                f"of class `{info.owner}`; keep its signature and decorators)")
        keyword = "async def" if info.is_async else "def"
        block = (f"Return only the method, as `{keyword} {name}` at column 0: no class around it, no decorators, "
                 "and nothing else in the block (put any helpers and imports inside the method).")
    lines = [f"Target: {what}{':' if info.owner else '; keep its signature:'}\n    {signature}"]
    if info.is_async:
        lines.append("It is awaited by the tests: keep it an `async def`.")
    if info.decorators:
        lines.append(f"Its decorators stay in the file, above it (do not repeat them): {' '.join(info.decorators)}")
    lines.append(block)
    return "\n".join(lines)


def _tests(problem: Problem, budget: int) -> str:
    lines = []
    if problem.setup.strip():
        lines.append(f"Setup run before each test:\n```python\n{problem.setup.strip()}\n```")
    for test in problem.tests:
        if test.kind is TestKind.STDIO:
            lines.append(f"Test {test.id}: input:\n{_cut(test.input or '', 400)}\nexpected output:\n"
                         f"{_cut(test.expected or '', 400)}")
        elif test.kind is TestKind.DOCTEST:
            shown = test.want or test.exc_msg or ""
            lines.append(f"Test {test.id}:\n>>> {(test.source or '').strip()}\n{shown}".rstrip())
        else:
            lines.append(f"Test {test.id}:\n{(test.source or '').strip()}")
    return _cut("\n".join(lines), budget)


def programmer_messages(problem: Problem, trajectory: list[Attempt], strategy: str,
                        budget: int) -> list[dict[str, str]]:
    room = max(0, budget - len(PROGRAMMER_SYSTEM))
    task = task_text(problem, room // 2 if trajectory else room)
    if not trajectory:
        user = f"{task}\n\n## Strategy\n{strategy}\n\nWrite the improved version."
        return _fit([_system(PROGRAMMER_SYSTEM), {"role": "user", "content": user}], budget)
    # Half the room is history: the latest attempt always (cut to half of it if need be), then
    # older ones while they fit, each cut to a quarter; the oldest go first.
    room_history = room // 2
    parts: list[str] = []
    for index in range(len(trajectory) - 1, -1, -1):
        cap = room_history // 2 if not parts else room_history // 4
        text = _attempt(index, trajectory[index], cap)
        if parts and sum(map(len, parts)) + len(text) > room_history:
            break
        parts.insert(0, text)
    omitted = len(trajectory) - len(parts)
    history = "\n\n".join(parts)
    note = OMITTED.format(n=omitted) + "\n\n" if omitted else ""
    user = (f"{task}\n\n## Your attempts so far, with their execution reports and reviews\n{note}{history}\n\n"
            f"## Next\nImprove on the latest attempt, guided by its report and review. Strategy: {strategy}")
    return _fit([_system(PROGRAMMER_SYSTEM), {"role": "user", "content": user}], budget)


def _attempt(index: int, attempt: Attempt, budget: int) -> str:
    return (f"### Attempt {index + 1}\n```python\n{_cut(attempt.code.rstrip(), budget // 2)}\n```\n"
            f"Execution report:\n{_cut(attempt.report, budget // 4)}\n"
            f"Review:\n{_cut(attempt.critique.strip() or '(none)', budget // 4)}")


def critic_messages(problem: Problem, code: str, report: str, budget: int) -> list[dict[str, str]]:
    room = max(0, budget - len(CRITIC_SYSTEM))
    user = (f"{task_text(problem, room // 3)}\n\n## Candidate\n```python\n{_cut(code.rstrip(), room // 3)}\n```\n\n"
            f"## Execution report\n{_cut(report, room // 4)}\n\nReview the candidate.")
    return _fit([_system(CRITIC_SYSTEM), {"role": "user", "content": user}], budget)


def with_reminder(messages: list[dict[str, str]], reply: str, reminder: str, budget: int) -> list[dict[str, str]]:
    """The conversation so far, the reply that missed its format (cut to fit), and a reminder."""
    least = len(CUT) + 40
    room = budget - sum(len(m["content"]) for m in messages) - len(reminder)
    if room < least:  # a prompt that filled its budget: its last message makes room for the echo
        messages = _fit(messages, budget - len(reminder) - least)
        room = budget - sum(len(m["content"]) for m in messages) - len(reminder)
    echoed = _cut(reply, max(least, room))
    return [*messages, {"role": "assistant", "content": echoed}, {"role": "user", "content": reminder}]


def _system(text: str) -> dict[str, str]:
    return {"role": "system", "content": text}


def _fit(messages: list[dict[str, str]], budget: int) -> list[dict[str, str]]:
    """Cut the middle of the last message so the whole prompt stays within ``budget``
    characters: its end (the instruction, the strategy, the latest review) always survives."""
    used = sum(len(m["content"]) for m in messages[:-1])
    room = max(2 * KEEP_TAIL, budget - used)
    last = messages[-1]
    content = last["content"]
    if len(content) > room:
        head = room - KEEP_TAIL - len(CUT)
        content = content[:head] + CUT + "\n" + content[-(KEEP_TAIL - 1):]
        messages = [*messages[:-1], {"role": last["role"], "content": content}]
    return messages


def _cut(text: str, limit: int) -> str:
    return clip(text, limit, CUT)
