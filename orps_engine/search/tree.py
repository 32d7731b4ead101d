"""The search tree's records and the final pick."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..measure import Change, CountChange, cheaper
from ..model import Usage
from ..problem import Problem
from ..results import SuiteResult
from .score import static_score

ORIGINAL = "original"
NEUTRAL_SCORE = 3  # an unscored candidate's place among scored ones (scores run from 1 to 5)


class FailureKind(str, Enum):
    """Why a candidate has no usable code, run or review."""

    NO_CODE = "no_code"  # the programmer's reply held no usable code, even after the reminder
    NO_SCORE = "no_score"  # the critic's review held no score, even after the reminder (the candidate competes)
    NOT_RUN = "not_run"  # the candidate could not be run (a harness failure)
    NO_REPLY = "no_reply"  # the programmer's call failed
    NO_REVIEW = "no_review"  # the critic's call failed (the candidate ran, and competes)
    CONTEXT = "context"  # the prompt could not fit the model's context window

    @property
    def is_parse_failure(self) -> bool:
        return self in (FailureKind.NO_CODE, FailureKind.NO_SCORE)

    @property
    def is_model_failure(self) -> bool:
        return self in (FailureKind.NO_REPLY, FailureKind.NO_REVIEW, FailureKind.CONTEXT)


_PREFIX = {FailureKind.NO_CODE: "parse failure", FailureKind.NO_SCORE: "parse failure",
           FailureKind.NOT_RUN: "could not be run", FailureKind.NO_REPLY: "the model's call failed",
           FailureKind.NO_REVIEW: "the review's call failed", FailureKind.CONTEXT: "context window"}


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    detail: str

    def __str__(self) -> str:
        return f"{_PREFIX[self.kind]}: {self.detail}"


@dataclass
class Node:
    """One candidate: the original code, or a programmer sample with its run and review."""

    id: str
    parent: str | None
    round: int  # -1 for the original
    code: str | None = None  # the target's code (the function's block, or the whole program)
    strategy: str = ""
    reasoning: str = ""
    suite: SuiteResult | None = None
    report: str = ""
    critique: str = ""
    critic_score: int | None = None
    exec_score: float = 0.0
    final: bool = False
    failure: Failure | None = None  # why this node has no usable code, run or review

    @property
    def evaluated(self) -> bool:
        return self.suite is not None

    @property
    def pass_ratio(self) -> float:
        return self.suite.pass_fraction if self.suite else 0.0

    @property
    def passes_all(self) -> bool:
        return self.suite is not None and self.suite.all_passed

    @property
    def cost(self) -> float:
        """Instructions where the CPU counts them, else CPU milliseconds. Never bytecodes: they
        are counted (in slow, traced runs) only for the final measurement (``measure_pair``)."""
        if self.suite is None:
            return float("inf")
        counted = self.suite.total_instructions
        return float(counted) if counted is not None else self.suite.total_cpu_ms

    def beam_key(self, critics_score: bool) -> tuple[float, float]:
        """How the beam ranks it: by the critic's score, then the execution score; a candidate
        left unscored (the critic missed its format, or its call failed) counts as a middling 3.
        ``critics_score`` False (no candidate of the round was scored): by the execution score."""
        if not critics_score:
            return (round(self.exec_score, 3), 0.0)
        return (float(self.critic_score if self.critic_score is not None else NEUTRAL_SCORE), round(self.exec_score, 3))


def better(a: Node, b: Node) -> bool:
    """Is ``a`` a better final pick than ``b``? Pass ratio, then cost (beyond noise), then the
    static score, then the critic's score."""
    if a.pass_ratio != b.pass_ratio:
        return a.pass_ratio > b.pass_ratio
    if cheaper(a.cost, b.cost):
        return True
    if cheaper(b.cost, a.cost):
        return False
    # Costs tie within noise: prefer the smaller, simpler code (the static half of the score;
    # the whole score would let the same noisy timing decide after all).
    static_a, static_b = static_score(a.code or ""), static_score(b.code or "")
    if round(static_a, 4) != round(static_b, 4):
        return static_a > static_b
    # The critic breaks a last tie only between two reviewed candidates: the original has no
    # review, and must not lose to its own copy.
    return a.critic_score is not None and b.critic_score is not None and a.critic_score > b.critic_score


def final_pick(nodes: list[Node]) -> Node:
    """The best of every evaluated candidate; the original (first) wins every tie, and a
    candidate that only repeats the original's code is never an improvement."""
    best = nodes[0]
    for node in nodes[1:]:
        best = pick_step(nodes[0], best, node)
    return best


def pick_step(original: Node, best: Node, node: Node) -> Node:
    """One step of ``final_pick``: ``node`` if it replaces ``best``, else ``best``. The search's
    progress keeps its best this way, one candidate at a time, rather than comparing every
    candidate again after each (which grew with the square of a refine's candidates)."""
    if node.evaluated and node.code is not None and node.code.strip() != (original.code or "").strip() \
            and better(node, best):
        return node
    return best


@dataclass(frozen=True, slots=True, kw_only=True)
class Delta:
    """The pick against the original, measured again with repeats, and what its bytecodes said
    (``measure_pair`` always says; None: a delta that does not consider them)."""

    cpu: Change
    peak: Change
    repeats: int
    bytecodes: CountChange | None = None


@dataclass
class RefineResult:
    problem: Problem
    original: Node
    best: Node
    nodes: list[Node]
    usage: Usage
    rounds_run: int
    delta: Delta | None = None
    stopped: str | None = None  # why the search ended before its last round
    warnings: list[str] = field(default_factory=list)
    ranked_by_execution: int = 0  # rounds whose beam the execution score alone ranked (no critic score)
    context_window: int | None = None  # the model's, as the refine knew it at the end
    smallest_prompt_chars: int | None = None  # the tightest prompt budget the window forced

    @property
    def improved(self) -> bool:
        return self.best.id != ORIGINAL

    @property
    def parse_failures(self) -> int:
        return sum(1 for n in self.nodes if n.failure is not None and n.failure.kind.is_parse_failure)

    def count(self, kind: FailureKind) -> int:
        return sum(1 for n in self.nodes if n.failure is not None and n.failure.kind is kind)

    @property
    def candidates(self) -> list[Node]:
        return [n for n in self.nodes if n.id != ORIGINAL]
