"""Reading the model's replies: the programmer's code block and reasoning, the critic's score and
final marker. A reply that misses its format is reported as such (the search retries once)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..problem.pysource import top_level_names

_CODE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.S | re.I)
_SCORE = re.compile(r"score\s*(?:[:=]|is)?\s*\**\s*([1-5])(?:\s*(?:/|out of)\s*5)?\b", re.I)
_FINAL = re.compile(r"^\W*final\W*\s*[:=]?\s*\**\s*(yes|true)\b", re.I | re.M)
MAX_REASONING = 4000


@dataclass(frozen=True, slots=True)
class ProgrammerReply:
    code: str | None
    reasoning: str
    problem: str | None = None  # why the code is unusable, if it is


@dataclass(frozen=True, slots=True)
class CriticReply:
    critique: str
    score: int | None
    final: bool


def parse_programmer(reply: str, function: str | None) -> ProgrammerReply:
    blocks = _CODE.findall(reply)
    reasoning = _CODE.sub("", reply).strip()[:MAX_REASONING]
    if not blocks:
        return ProgrammerReply(code=None, reasoning=reasoning, problem="no code block")
    code = blocks[-1].strip("\n") + "\n"
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return ProgrammerReply(code=code, reasoning=reasoning, problem=f"syntax error: {exc.msg} (line {exc.lineno})")
    if function is not None and function not in top_level_names(tree):
        return ProgrammerReply(code=code, reasoning=reasoning, problem=f"the code does not define {function}")
    return ProgrammerReply(code=code, reasoning=reasoning)


def parse_critic(reply: str) -> CriticReply:
    scores = _SCORE.findall(reply)
    return CriticReply(critique=reply.strip()[:MAX_REASONING], score=int(scores[-1]) if scores else None,
                       final=bool(_FINAL.search(reply)))
