"""The ORPS search (arXiv 2412.15118): a beam search over reasoning and code, where every
candidate is run on the tests and a critic grades it from the execution report.

Round 0 draws N programmer samples, each with its own strategy hint; every candidate is run,
reported and reviewed; the beam keeps the best K by (critic score, execution score). Rounds
1..R give each beam node N children that see the node's whole trajectory (code, reports,
reviews). The final pick is made over every candidate of every round *and the original*, so a
refine never returns something worse than what the user had.

Beyond the reference implementation: the calls of a round run concurrently (bounded by the
model client), executions run in parallel warm sandboxes with a cache, the search stops early
when the best candidate passes everything and a round brings no real improvement, replies that
miss their format are retried once, and a model that stops answering ends the refine with the
best result so far.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from ..config import Settings
from ..critic import (
    CODE_REMINDER,
    SCORE_REMINDER,
    Attempt,
    code_block_closed,
    critic_messages,
    hint,
    parse_critic,
    parse_programmer,
    programmer_messages,
    render_report,
    with_reminder,
)
from ..errors import HarnessError, InputError, ModelUnreachable
from ..measure import CountChange, CountUse, compare, count_change
from ..model import ChatModel, Message, ModelError, ModelErrorKind, Reply, StopRule
from ..problem import Problem
from ..problem.target import splice, target_code
from .budget import Budget, ContextTooSmall
from .evaluate import Evaluator
from .score import execution_score
from .tree import ORIGINAL, Delta, Failure, FailureKind, Node, RefineResult, better, final_pick, pick_step

log = logging.getLogger(__name__)


class EventKind(str, Enum):
    START = "start"  # the original ran
    ROUND = "round"  # a round begins
    CANDIDATE = "candidate"  # a candidate of the round is done
    MEASURE = "measure"  # the pick is measured again against the original
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Event:
    """Progress, for a progress bar or LSP work-done reports."""

    kind: EventKind
    round: int
    rounds: int
    done: int = 0
    total: int = 0
    best: Node | None = None
    original: Node | None = None
    message: str = ""


EventCallback = Callable[[Event], None]


async def refine(problem: Problem, settings: Settings, model: ChatModel, *,
                 on_event: EventCallback | None = None, evaluator: Evaluator | None = None) -> RefineResult:
    """Search for a better version of the problem's target; see the module docstring."""
    search = _Search(problem, settings, model, on_event or (lambda event: None))
    own = evaluator is None
    search.evaluator = evaluator or Evaluator(problem)
    try:
        if own:
            await search.evaluator.start()
        return await search.run()
    finally:
        if own:
            await search.evaluator.close()


def _said(exc: ModelError) -> str:
    return f"{exc}" + (f" ({exc.hint})" if getattr(exc, "hint", None) else "")


def _first_model_failure(nodes: list[Node]) -> str:
    for node in nodes:
        if node.failure is not None and node.failure.kind.is_model_failure:
            return node.failure.detail
    return "no reply"


def _worth_it(original: Node, best: Node, delta: Delta) -> bool:
    """A pick is an improvement if it passes more tests, or is cheaper beyond measured noise (CPU
    time or memory), or, where the CPU runs cannot tell, executes fewer bytecodes than the original
    by a ratio the CPU runs allow (``measure.count_change``)."""
    if best.pass_ratio > original.pass_ratio:
        return True
    lower = [change.significant and change.ratio is not None and change.ratio > 1 for change in (delta.cpu, delta.peak)]
    counted = delta.bytecodes
    return any(lower) or (counted is not None and counted.significant and counted.ratio is not None
                          and counted.ratio > 1)


class _Search:
    def __init__(self, problem: Problem, settings: Settings, model: ChatModel, emit: EventCallback) -> None:
        self.problem, self.settings, self.model, self.emit = problem, settings, model, emit
        self.evaluator: Evaluator
        self.nodes: list[Node] = []
        self.by_id: dict[str, Node] = {}
        self.budget = Budget(settings)

    async def run(self) -> RefineResult:
        rounds = self.settings.rounds + 1
        self.budget.window = await self.model.context_window()
        original = Node(id=ORIGINAL, parent=None, round=-1, code=target_code(self.problem))
        await self._evaluate(original)
        assert original.suite is not None  # the original's harness failure raised instead
        baseline = await self.evaluator.record_baseline(original.suite)
        self._add(original)
        self.emit(Event(EventKind.START, 0, rounds, original=original, best=original))
        beam: list[Node] = [original]
        stopped: str | None = None
        rounds_run = ranked_by_execution = 0
        for r in range(rounds):
            slots = [(parent, k, i) for k, parent in enumerate(beam)
                     if not parent.final or self.settings.early_stop == "never" for i in range(self.settings.samples)]
            if not slots:
                stopped = "every candidate in the beam was judged final"
                break
            best_before = final_pick(self.nodes)
            self.emit(Event(EventKind.ROUND, r, rounds, 0, len(slots), best=best_before, original=original))
            children = await self._round(r, slots, rounds)
            rounds_run += 1
            for child in children:
                self._add(child)
            if children and all(c.failure is not None and c.failure.kind is FailureKind.CONTEXT for c in children):
                raise InputError(self.budget.too_small(), hint="a context window of at least 4096 tokens suits most "
                                 "targets; --context-window says what the server has, if it reports too little")
            if self.model.usage.calls == 0:
                raise ModelUnreachable(f"the model could not be reached: {_first_model_failure(children)}",
                                       hint="check --base-url, the model name and the API key")
            if all(c.failure is not None and c.failure.kind in (FailureKind.NO_REPLY, FailureKind.CONTEXT)
                   for c in children):
                why = _first_model_failure(children)
                stopped = f"the model stopped answering ({why}); the result is the best so far"
                break
            usable = [c for c in children if c.evaluated]
            scored = any(c.critic_score is not None for c in usable)
            ranked_by_execution += bool(usable) and not scored
            beam = sorted(usable, key=lambda c: c.beam_key(scored), reverse=True)[: self.settings.beam] or beam
            best_after = final_pick(self.nodes)
            if self.settings.early_stop == "plateau" and best_after.passes_all \
                    and not (best_after is not best_before and better(best_after, best_before)):
                if r + 1 < rounds:
                    stopped = f"stopped early after round {r}: all tests pass and the round brought no improvement"
                break
        best = final_pick(self.nodes)
        result = RefineResult(problem=self.problem, original=original, best=best, nodes=self.nodes,
                              usage=self.model.usage, rounds_run=rounds_run, stopped=stopped,
                              ranked_by_execution=ranked_by_execution, context_window=self.budget.window,
                              smallest_prompt_chars=self.budget.smallest_prompt_chars if self.budget.shrunk else None)
        if baseline.note is not None:
            result.warnings.append(baseline.note)
        if best is not original:
            self.emit(Event(EventKind.MEASURE, rounds_run, rounds, best=best, original=original,
                            message=f"measuring the pick against the original ({self.settings.repeats} runs each)"))
            result.delta = await self._measure(original, best)
            if not _worth_it(original, best, result.delta):
                result.warnings.append(f"the best candidate ({best.id}) passes no more tests and, measured again, "
                                       "is not significantly cheaper: the original stays")
                result.best, result.delta = original, None
                best = original
        self.emit(Event(EventKind.DONE, rounds_run, rounds, best=best, original=original, message=stopped or ""))
        return result

    def _add(self, node: Node) -> None:
        self.nodes.append(node)
        self.by_id[node.id] = node

    # -- a round ------------------------------------------------------------------------------------
    async def _round(self, r: int, slots: list[tuple[Node, int, int]], rounds: int) -> list[Node]:
        """Every slot's candidate, whatever happened to its calls: one that ran competes even if its
        review failed; a failed call fails its own candidate only."""
        tasks = [asyncio.ensure_future(self._expand(parent, r, k, i)) for parent, k, i in slots]
        children: list[Node] = []
        original, best = self.nodes[0], final_pick(self.nodes)
        try:
            for next_done in asyncio.as_completed(tasks):
                children.append(await next_done)
                best = pick_step(original, best, children[-1])
                self.emit(Event(EventKind.CANDIDATE, r, rounds, len(children), len(slots), best=best,
                                original=original))
        finally:
            for task in tasks:
                task.cancel()
        return sorted(children, key=lambda n: n.id)

    async def _expand(self, parent: Node, r: int, k: int, i: int) -> Node:
        node = Node(id=f"r{r}.k{k}.s{i}", parent=parent.id, round=r, strategy=hint(i + r))
        key = f"r{r}/k{k}/s{i}"
        trajectory = self._trajectory(parent)
        code_chars = len(target_code(self.problem))
        try:
            reply, messages = await self._call(
                f"{key}/programmer#0", "programmer", code_chars, code_block_closed,
                lambda budget: programmer_messages(self.problem, trajectory, node.strategy, budget))
            parsed = parse_programmer(reply.text, self.problem.target, self.problem.source)
            if parsed.problem is not None:
                reminder = f"{CODE_REMINDER} (The problem with your reply: {parsed.problem}.)"
                reply, _messages = await self._call(
                    f"{key}/programmer#1", "programmer", code_chars, code_block_closed,
                    lambda budget: with_reminder(messages, reply.text, reminder, budget))
                parsed = parse_programmer(reply.text, self.problem.target, self.problem.source)
        except ModelError as exc:
            node.failure = Failure(FailureKind.NO_REPLY, _said(exc))
            return node
        except ContextTooSmall as exc:
            node.failure = Failure(FailureKind.CONTEXT, str(exc))
            return node
        node.reasoning = parsed.reasoning
        if parsed.problem is not None or parsed.code is None:
            node.failure = Failure(FailureKind.NO_CODE, parsed.problem or "no code")
            return node
        node.code = parsed.code
        await self._evaluate(node)
        await self._review(node, key)
        return node

    async def _call(self, key: str, role: str, code_chars: int, stop: StopRule | None,
                    build: Callable[[int], list[Message]]) -> tuple[Reply, list[Message]]:
        """One model call within the context window: a prompt the server refuses as too long is
        rebuilt once to the window it names (or a fifth shorter) and sent again."""
        for attempt in range(2):
            reply_tokens = self.budget.reply_tokens(role, code_chars)
            chars = self.budget.prompt_chars(reply_tokens)
            messages = build(chars)
            sent = sum(len(m["content"]) for m in messages)
            try:
                reply = await self.model.complete(key if attempt == 0 else f"{key}/shorter", messages,
                                                  self.settings.temperature, max_tokens=reply_tokens, stop=stop)
            except ModelError as exc:
                if exc.kind is not ModelErrorKind.CONTEXT or attempt == 1:
                    raise
                self.budget.learn_window(exc.context_window, sent, reply_tokens)
                continue
            self.budget.learn(sent, reply.prompt_tokens)
            return reply, messages
        raise AssertionError("unreachable")

    def _trajectory(self, parent: Node) -> list[Attempt]:
        chain = []
        node: Node | None = parent
        while node is not None and node.id != ORIGINAL:
            chain.append(Attempt(code=node.code or "", report=node.report, critique=node.critique))
            node = self.by_id.get(node.parent) if node.parent else None
        return chain[::-1]

    async def _evaluate(self, node: Node) -> None:
        assert node.code is not None
        try:
            node.suite = await self.evaluator.evaluate(node.code)
        except HarnessError as exc:
            if node.id == ORIGINAL:
                raise
            node.failure = Failure(FailureKind.NOT_RUN, str(exc))
            return
        node.report = render_report(self.problem, node.code, node.suite)  # the figures the score uses
        node.exec_score = execution_score(node.code, node.suite)

    async def _review(self, node: Node, key: str) -> None:
        """The critic's review; a review that fails or has no score leaves the candidate in the race."""
        if node.suite is None or node.code is None:
            return
        code, report = node.code, node.report
        try:
            reply, messages = await self._call(
                f"{key}/critic#0", "critic", len(code), None,
                lambda budget: critic_messages(self.problem, code, report, budget))
            review = parse_critic(reply.text)
            if review.score is None:
                reply, _messages = await self._call(
                    f"{key}/critic#1", "critic", len(code), None,
                    lambda budget: with_reminder(messages, reply.text, SCORE_REMINDER, budget))
                review = parse_critic(reply.text)
        except (ModelError, ContextTooSmall) as exc:
            node.failure = Failure(FailureKind.NO_REVIEW, _said(exc) if isinstance(exc, ModelError) else str(exc))
            return
        node.critique, node.critic_score, node.final = review.critique, review.score, review.final
        if review.score is None:
            node.failure = Failure(FailureKind.NO_SCORE, "the review has no score")

    # -- the final delta ------------------------------------------------------------------------------
    async def _measure(self, original: Node, best: Node) -> Delta:
        assert original.code is not None and best.code is not None
        return await measure_pair(self.evaluator, splice(self.problem, original.code),
                                  splice(self.problem, best.code), self.settings.repeats)


async def measure_pair(evaluator: Evaluator, before: str, after: str, repeats: int) -> Delta:
    """Run both sources ``repeats`` times again, interleaved and in alternating order (so that load
    changes, and whatever the first of a pair does to the second, hit both alike), in one sandbox.
    Where the CPU runs show no significant change, each side's bytecodes are then counted, once (it
    is deterministic), in traced runs of their own that no other figure is read from: the count can
    only decide such a tie (``measure.count_change``), and tracing costs 10-40x a run."""
    sources = (before, after)
    cpu: tuple[list[float], list[float]] = ([], [])
    peak: tuple[list[float], list[float]] = ([], [])
    async with evaluator.held() as box:
        for r in range(repeats):
            for side in (0, 1) if r % 2 == 0 else (1, 0):
                suite = await evaluator.run(sources[side], box=box)
                cpu[side].append(suite.total_cpu_ms)
                peak[side].append(float(suite.max_peak_kb))
        cpu_change = compare(*cpu)
        if cpu_change.significant:
            bytecodes = CountChange(before=None, after=None, ratio=None, use=CountUse.SKIPPED)
        else:
            counts = [(await evaluator.run(source, box=box, count_bytecodes=True)).total_bytecodes
                      for source in sources]
            bytecodes = count_change(cpu_change, counts[0], counts[1])
    return Delta(cpu=cpu_change, peak=compare(*peak), repeats=repeats, bytecodes=bytecodes)
