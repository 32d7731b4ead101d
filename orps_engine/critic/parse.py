"""Reading the model's replies: the programmer's code block and reasoning, the critic's score and
final marker. A reply that misses its format is reported as such (the search retries once)."""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

from .. import pyast
from ..problem import FunctionTarget, Target, pysource

_CODE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.S | re.I)
# The spellings a score comes in: "Score: 4", "**Score:** 4/5", "score = 4", "Rating: 4 out of 5",
# the paper's "$$4$$", "\boxed{4}", and a last line that is only "4" or "4/5".
_SCORES = (
    re.compile(r"\b(?:score|rating|grade)\b[^\d\n]{0,12}?(\d+(?:\.\d+)?)(?:\s*(?:/|out of)\s*(\d+))?", re.I),
    re.compile(r"\$\$\s*(\d+(?:\.\d+)?)\s*\$\$()"),
    re.compile(r"\\boxed\{\s*(\d+(?:\.\d+)?)\s*\}()"),
    re.compile(r"^\W*(\d+(?:\.\d+)?)\s*(?:/\s*(\d+))?\W*\Z", re.M),
)
SCORE_RANGE = (1, 5)
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


def parse_programmer(reply: str, target: Target, source: str) -> ProgrammerReply:
    """The programmer's last code block and its reasoning, with the reason the block cannot
    replace ``target`` in ``source`` (the original file), if it cannot: see ``target_problem``."""
    blocks = _CODE.findall(reply)
    reasoning = _CODE.sub("", reply).strip()[:MAX_REASONING]
    if not blocks:
        return ProgrammerReply(code=None, reasoning=reasoning, problem="no code block")
    code = blocks[-1].strip("\n") + "\n"
    tree: ast.Module | None
    try:
        tree = pyast.parse(code)
    except SyntaxError as exc:
        dedented = textwrap.dedent(code)  # a method copied with its class's indentation
        tree = pysource.parse(dedented) if dedented != code else None
        if tree is None:
            return ProgrammerReply(code=code, reasoning=reasoning,
                                   problem=f"syntax error: {exc.msg} (line {exc.lineno})")
        code = dedented
    except (ValueError, RecursionError, MemoryError) as exc:
        return ProgrammerReply(code=code, reasoning=reasoning, problem=f"the code does not compile: {exc}")
    if isinstance(target, FunctionTarget):
        problem = target_problem(tree, target, source)
        if problem is not None:
            return ProgrammerReply(code=code, reasoning=reasoning, problem=problem)
    return ProgrammerReply(code=code, reasoning=reasoning)


def target_problem(block: ast.Module, target: FunctionTarget, source: str) -> str | None:
    """Why a parsed block cannot replace a function target, if it cannot.

    The block must define the target's name at its top level the way the original does: a
    ``def`` stays a ``def``, an ``async def`` stays async (the tests call it one way), a class a
    class. It must not define (by a def, a class, an assignment or an import) a name that the
    rest of the file defines other than by an import: the file keeps those, and a second
    definition at the target's place would change code outside the target. A method's block
    holds the method alone: the block goes inside the class body, where a helper def would be a
    method the target cannot call by its bare name, and an import a class attribute that its
    body cannot see."""
    name = target.name
    tree = pysource.parse(source)
    original = pysource.find_def(tree, target.qualname) if tree is not None else None
    member = "." in target.qualname
    mine = [n for n in block.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and n.name == name]
    if not mine:
        owner = target.qualname.rpartition(".")[0].rpartition(".")[2]
        if member and any(isinstance(n, ast.ClassDef) and n.name == owner for n in block.body):
            return f"give only the method {name} at column 0, without its class {owner} around it"
        if original is None and name in pysource.top_level_names(block):
            return None  # the original binds it by an assignment too (``add = lambda ...``)
        if original is not None and name in pysource.top_level_names(block):
            return f"the code assigns {name} instead of defining it: keep it {_kind(original)}"
        return f"the code does not define {name}"
    own = mine[-1]  # the last definition wins at import
    if original is not None and type(own) is not type(original):
        return f"the code defines {name} as {_kind(own)}, but it is {_kind(original)}: keep it {_kind(original)}"
    if member:
        if any(statement is not own for statement in block.body):
            return ("for a method target the block must hold only the method: put helpers and imports inside the "
                    "method")
        return None
    if tree is not None:
        clashes = sorted(pysource.bound_names(block.body) & (pysource.top_level_definitions(tree) - {name}))
        if clashes:
            return (f"the code redefines {', '.join(clashes)}, which the rest of the file defines: leave "
                    f"{'it' if len(clashes) == 1 else 'them'} out (the file keeps its own) and give new helpers "
                    "names of their own")
    return None


def _kind(node: pysource.Definition) -> str:
    if isinstance(node, ast.AsyncFunctionDef):
        return "an async def"
    if isinstance(node, ast.FunctionDef):
        return "a plain def (not async)"
    return "a class"


def parse_critic(reply: str) -> CriticReply:
    return CriticReply(critique=reply.strip()[:MAX_REASONING], score=critic_score(reply),
                       final=bool(_FINAL.search(reply)))


def critic_score(reply: str) -> int | None:
    """The last score the reply gives in any common spelling, if it is a whole number from 1 to 5
    (out of 5, or out of nothing); "Score: 93" or "Score: N" is no score."""
    found: list[tuple[int, int]] = []  # (position, score)
    for pattern in _SCORES:
        for match in pattern.finditer(reply.rstrip()):
            value = _score(match.group(1), match.group(2))
            if value is not None:
                found.append((match.start(), value))
    return max(found)[1] if found else None


def _score(number: str, out_of: str | None) -> int | None:
    value = float(number)
    if out_of and int(out_of) != SCORE_RANGE[1]:
        return None
    if not value.is_integer() or not SCORE_RANGE[0] <= value <= SCORE_RANGE[1]:
        return None
    return int(value)


def code_block_closed(text: str) -> bool:
    """Whether a reply streaming in has closed its first code block: all the programmer's reply
    needs (the prompt asks for the reasoning first, then one block), so the rest can be cut."""
    return _CODE.search(text) is not None
