"""The ORPS search end to end: every candidate really runs in the sandbox, and the real openai client
talks to the scripted model server on loopback (nothing is mocked).

Replies are chosen by what a request contains (its system prompt says programmer or critic, its
strategy hint says which sample it is, a ``# variant N`` marker in a candidate's code says which
candidate a review is about), never by arrival order, because a round's calls run concurrently.
"""

from __future__ import annotations

import itertools
import json
import re
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from orps_engine.config import Settings
from orps_engine.critic.prompts import (
    CODE_REMINDER,
    CRITIC_SYSTEM,
    CUT,
    KEEP_TAIL,
    PROGRAMMER_SYSTEM,
    SCORE_REMINDER,
    STRATEGY_HINTS,
)
from orps_engine.errors import InputError, ModelUnreachable
from orps_engine.model import ChatModel, OpenAIChatModel, Recorder, ReplayChatModel, ReplayMissing
from orps_engine.problem import load_problem
from orps_engine.project import load_problem as orps_load
from orps_engine.report.refine import diagnosis, format_refine, refine_document
from orps_engine.results import Verdict
from orps_engine.search import ORIGINAL, Failure, FailureKind, Node, RefineResult, refine
from tests.fixtures.primes import SIEVE_PRIMES, SLOW_PRIMES
from tests.fixtures.scripted_model import Body, Endless, ScriptedModel, prompt_text

Write = Callable[[str, str], Path]

HEADER = '"""Sum of the primes below n."""\n\n\n'
# Correct, and slow: trial division by every smaller number (about 30 ms on the largest test).
ORIGINAL_CODE = SLOW_PRIMES
FAST = SIEVE_PRIMES
# Correct, and twice the original's work.
SLOWER = '''def sum_primes_below(n: int) -> int:
    result = 0
    for _ in range(2):
        total = 0
        for candidate in range(2, n):
            is_prime = True
            for divisor in range(2, candidate):
                if candidate % divisor == 0:
                    is_prime = False
                    break
            if is_prime:
                total += candidate
        result = total
    return result
'''
WRONG = '''def sum_primes_below(n: int) -> int:
    return sum(range(n))
'''
CRASH = '''def sum_primes_below(n: int) -> int:
    raise RuntimeError("not today")
'''
# Fast, and wrong on one test of four (it counts n itself): a search from it never passes everything,
# so it never stops early and every round runs.
OFF_BY_ONE = '''def sum_primes_below(n: int) -> int:
    return sum(c for c in range(2, n + 1) if all(c % d for d in range(2, int(c ** 0.5) + 1)))
'''
TESTS = {
    "entry_point": "sum_primes_below",
    "setup": "from primes import sum_primes_below",
    "timeLimit": 2000,
    "asserts": ["assert sum_primes_below(2) == 0", "assert sum_primes_below(10) == 17",
                "assert sum_primes_below(100) == 1060", "assert sum_primes_below(3000) == 593823"],
}
VARIANT = re.compile(r"# variant (\d+)")


# -- the problem, the settings, the run -----------------------------------------------------------------
def make_problem(write: Write, code: str = ORIGINAL_CODE, header: str = HEADER) -> Path:
    write("primes.tests.json", json.dumps(TESTS))
    return write("primes.py", header + code)


def settings(model: ScriptedModel, **overrides: object) -> Settings:
    values: dict[str, object] = {"model": "scripted", "base_url": model.base_url, "samples": 2, "beam": 1,
                                 "rounds": 0, "repeats": 2, "max_retries": 1, "timeout_s": 20.0}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def run_refine(path: Path, config: Settings, model: ChatModel | None = None) -> RefineResult:
    client = model if model is not None else OpenAIChatModel(config)
    try:
        return await refine(load_problem(path), config, client)
    finally:
        await client.close()


# -- reading requests ---------------------------------------------------------------------------------
def is_programmer(body: Body) -> bool:
    return bool(body["messages"][0]["content"] == PROGRAMMER_SYSTEM)


def is_critic(body: Body) -> bool:
    return bool(body["messages"][0]["content"] == CRITIC_SYSTEM)


def strategy(body: Body) -> int:
    """Which strategy hint the request carries (sample i of round r carries hint i + r)."""
    first_user = body["messages"][1]["content"]
    found = [i for i, text in enumerate(STRATEGY_HINTS) if text in first_user]
    assert len(found) == 1, f"expected one strategy hint in the prompt, found {found}"
    return found[0]


def last(body: Body) -> str:
    return str(body["messages"][-1]["content"])


def total_chars(body: Body) -> int:
    return sum(len(m["content"]) for m in body["messages"])


def variant_in(text: str) -> int | None:
    """The marker of the candidate under review (the task text shows the original, which has none)."""
    found = VARIANT.findall(text)
    return int(found[-1]) if found else None


# -- replies ------------------------------------------------------------------------------------------
def code_reply(code: str, reasoning: str = "Here is my plan.") -> str:
    return f"{reasoning}\n\n```python\n{code}```\n"


def by_pass_rate(body: Body) -> str:
    """A critic that likes exactly the candidates that pass everything."""
    return "Correct on every test.\nScore: 4" if "Pass rate: 4/4" in last(body) else "It fails tests.\nScore: 1"


def script(model: ScriptedModel, programmer: Callable[[Body], str],
           critic: Callable[[Body], str] = by_pass_rate) -> None:
    model.on(is_critic, critic).on(is_programmer, programmer)


def by_strategy(replies: dict[int, str], otherwise: str | None = None) -> Callable[[Body], str]:
    def answer(body: Body) -> str:
        reply = replies.get(strategy(body), otherwise)
        assert reply is not None, f"no reply scripted for strategy {strategy(body)}"
        return reply

    return answer


class Variants:
    """A programmer whose every reply is a new wrong candidate ``# variant N``; it keeps each prompt."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)
        self.prompts: dict[int, str] = {}

    def __call__(self, body: Body) -> str:
        number = next(self._numbers)
        self.prompts[number] = prompt_text(body)
        code = f"def sum_primes_below(n: int) -> int:\n    return -{number}  # variant {number}\n"
        return code_reply(code, reasoning=f"Attempt number {number}.")


def score_of_variant(number: int) -> int:
    return 1 + number % 5


def critic_by_variant(body: Body) -> str:
    number = variant_in(last(body))
    assert number is not None, "the critic was asked about a candidate without a marker"
    return f"Still wrong.\nScore: {score_of_variant(number)}"


def node_with(result: RefineResult, code: str) -> Node:
    matches = [n for n in result.nodes if n.code == code and n.id != ORIGINAL]
    assert matches, "no candidate has that code"
    return matches[0]


# -- 1. the final pick -------------------------------------------------------------------------------
async def test_the_fast_correct_candidate_wins_over_wrong_and_slow_ones(write: Write,
                                                                       scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy({0: code_reply(WRONG), 1: code_reply(SLOWER), 2: code_reply(FAST)}))

    result = await run_refine(path, settings(scripted_model, samples=3))

    assert result.improved
    assert result.best.code == FAST
    assert result.best.passes_all and result.best.critic_score == 4
    assert not node_with(result, WRONG).passes_all
    assert node_with(result, SLOWER).passes_all
    assert result.delta is not None and result.delta.repeats == 2
    assert result.delta.cpu.ratio is not None and result.delta.cpu.ratio > 1
    assert result.rounds_run == 1 and result.stopped is None
    assert result.parse_failures == 0


# -- 2. samples, beam and rounds -------------------------------------------------------------------------
@pytest.mark.parametrize(("samples", "beam", "rounds"), [(2, 1, 2), (3, 2, 1), (2, 2, 2)])
async def test_every_round_expands_each_beam_node_with_n_children(write: Write, scripted_model: ScriptedModel,
                                                                  samples: int, beam: int, rounds: int) -> None:
    # The original fails a test and so does every candidate: nothing ever passes everything, so
    # nothing stops early, and (no "Final: yes", every reply well-formed) every slot is expanded.
    path = make_problem(write, OFF_BY_ONE)
    programmer = Variants()
    script(scripted_model, programmer, critic_by_variant)

    result = await run_refine(path, settings(scripted_model, samples=samples, beam=beam, rounds=rounds))

    expected = samples + rounds * beam * samples
    assert scripted_model.calls(is_programmer) == expected
    assert scripted_model.calls(is_critic) == expected
    assert result.rounds_run == rounds + 1 and result.stopped is None
    assert result.best.id == ORIGINAL  # 3/4 beats every 0/4 candidate

    original, candidates = result.nodes[0], result.nodes[1:]
    assert original.id == ORIGINAL and original.parent is None and original.round == -1
    assert len(candidates) == expected
    ids = [n.id for n in result.nodes]
    assert len(set(ids)) == len(ids)
    by_id = {n.id: n for n in result.nodes}
    for node in candidates:
        match = re.fullmatch(r"r(\d+)\.k(\d+)\.s(\d+)", node.id)
        assert match, node.id
        r, k, s = map(int, match.groups())
        assert r == node.round and 0 <= s < samples and 0 <= k < beam
        assert node.code is not None and node.evaluated and node.failure is None
        number = variant_in(node.code)
        assert number is not None and node.critic_score == score_of_variant(number)
        if r == 0:
            assert node.parent == ORIGINAL and k == 0
        else:
            assert node.parent in by_id and by_id[node.parent].round == r - 1

    for r in range(rounds + 1):
        assert len([n for n in candidates if n.round == r]) == (samples if r == 0 else beam * samples)
    for r in range(1, rounds + 1):
        children = [n for n in candidates if n.round == r]
        previous = [n for n in candidates if n.round == r - 1]
        parents = {n.parent for n in children}
        assert len(parents) == beam
        for parent in parents:  # each beam node: N children s0..s{N-1}, all with the node's beam index
            kids = [n for n in children if n.parent == parent]
            assert sorted(n.id.rsplit(".s", 1)[1] for n in kids) == [str(i) for i in range(samples)]
            assert len({n.id.split(".")[1] for n in kids}) == 1
        kept = [by_id[p] for p in parents if p is not None]
        dropped = [n for n in previous if n.id not in parents]
        # the beam keeps the best K by critic score (every exec score is 0: nothing passes)
        assert min(n.critic_score or 0 for n in kept) >= max((n.critic_score or 0 for n in dropped), default=0)
        beam_index = {p.id: int(next(c for c in children if c.parent == p.id).id.split(".")[1][1:]) for p in kept}
        ranked = sorted(kept, key=lambda n: beam_index[n.id])
        scores = [n.critic_score or 0 for n in ranked]
        assert scores == sorted(scores, reverse=True)

    # each programmer prompt shows the whole trajectory of the node it extends
    for node in candidates:
        assert node.code is not None
        number = variant_in(node.code)
        assert number is not None
        prompt = programmer.prompts[number]
        if node.round == 0:
            assert "Write the improved version" in prompt
        else:
            assert "Improve on the latest attempt" in prompt
        ancestor = by_id[node.parent] if node.parent else None
        while ancestor is not None and ancestor.id != ORIGINAL:
            assert f"# variant {variant_in(ancestor.code or '')}\n" in prompt
            ancestor = by_id[ancestor.parent] if ancestor.parent else None


# -- 3. reply formats -----------------------------------------------------------------------------------
def marked(code: str, label: str) -> str:
    return code.replace("    if n < 3:", f"    # variant {label}\n    if n < 3:", 1)


async def test_critic_scores_in_common_formats_parse(write: Write, scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    codes = {i: marked(FAST, str(i + 1)) for i in range(3)}
    reviews = {1: "Correct and fast.\nScore: 4", 2: "Mostly fine, a bit verbose; score = 3/5",
               3: "Excellent work.\n\n**Score:** 5"}
    script(scripted_model, by_strategy({i: code_reply(c) for i, c in codes.items()}),
           lambda body: reviews[variant_in(last(body)) or 0])

    result = await run_refine(path, settings(scripted_model, samples=3))

    scores = {variant_in(n.code or ""): n.critic_score for n in result.nodes[1:]}
    assert scores == {1: 4, 2: 3, 3: 5}
    assert result.parse_failures == 0
    assert scripted_model.calls(lambda b: last(b) == SCORE_REMINDER) == 0


async def test_a_review_without_a_score_is_retried_once_then_counted(write: Write, scripted_model: ScriptedModel,
                                                                     tmp_path: Path) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy({0: code_reply(marked(FAST, "1")), 1: code_reply(marked(FAST, "2"))}),
           # variant 1 gives its score when reminded; variant 2 never does
           lambda body: ("Looks good.\nScore: 4" if last(body) == SCORE_REMINDER and variant_in(prompt_text(body)) == 1
                         else "Looks good to me, nothing to add."))
    config = settings(scripted_model)
    recorder = Recorder(tmp_path / "rec.jsonl", {"note": "test"})
    try:
        result = await run_refine(path, config, OpenAIChatModel(config, recorder=recorder))
    finally:
        recorder.close()

    reminded = [b for b in scripted_model.requests if last(b) == SCORE_REMINDER]
    assert len(reminded) == 2  # once per candidate, never twice
    for body in reminded:
        assert body["messages"][-2] == {"role": "assistant", "content": "Looks good to me, nothing to add."}
    assert scripted_model.calls(is_critic) == 4
    keys = [json.loads(line)["key"] for line in (tmp_path / "rec.jsonl").read_text().splitlines()[1:]]
    assert sorted(k for k in keys if "critic" in k) == ["r0/k0/s0/critic#0", "r0/k0/s0/critic#1",
                                                        "r0/k0/s1/critic#0", "r0/k0/s1/critic#1"]
    first, second = (next(n for n in result.nodes if variant_in(n.code or "") == v) for v in (1, 2))
    assert first.critic_score == 4 and first.failure is None
    assert second.critic_score is None and second.failure is not None and second.failure.kind is FailureKind.NO_SCORE
    assert result.parse_failures == 1


async def test_a_reply_without_code_is_retried_once_then_counted(write: Write, scripted_model: ScriptedModel,
                                                                 tmp_path: Path) -> None:
    path = make_problem(write)
    prose = "I would use a sieve of Eratosthenes here; it is much faster."

    def programmer(body: Body) -> str:
        if strategy(body) == 0 and last(body).startswith(CODE_REMINDER):
            return code_reply(FAST)  # sample 0 complies when reminded; sample 1 never does
        return prose

    script(scripted_model, programmer)
    config = settings(scripted_model)
    recorder = Recorder(tmp_path / "rec.jsonl", {"note": "test"})
    try:
        result = await run_refine(path, config, OpenAIChatModel(config, recorder=recorder))
    finally:
        recorder.close()

    reminded = [b for b in scripted_model.requests if last(b).startswith(CODE_REMINDER)]
    assert len(reminded) == 2
    assert all(b["messages"][-2] == {"role": "assistant", "content": prose} for b in reminded)
    assert scripted_model.calls(is_programmer) == 4
    assert scripted_model.calls(is_critic) == 1  # only the candidate with code is reviewed
    keys = {json.loads(line)["key"] for line in (tmp_path / "rec.jsonl").read_text().splitlines()[1:]}
    assert {"r0/k0/s0/programmer#1", "r0/k0/s1/programmer#1"} <= keys
    assert not any(k.endswith("#2") for k in keys)
    complied, refused = (next(n for n in result.nodes if n.id == f"r0.k0.s{i}") for i in (0, 1))
    assert complied.code == FAST and complied.failure is None
    assert refused.code is None and refused.failure == Failure(FailureKind.NO_CODE, "no code block")
    assert result.parse_failures == 1
    assert result.best is complied


# -- 4. model faults ---------------------------------------------------------------------------------
FAST_OR_WRONG = {0: code_reply(FAST), 1: code_reply(WRONG)}


async def test_a_429_is_retried_and_the_refine_completes(write: Write, scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy(FAST_OR_WRONG))
    scripted_model.fail(429, times=1, retry_after=0)

    result = await run_refine(path, settings(scripted_model))

    assert result.usage.retries >= 1 and result.usage.failed_calls == 0
    assert result.best.code == FAST
    assert len(scripted_model.requests) == result.usage.calls + 1


async def test_a_round_s_calls_go_out_together_with_the_default_settings(write: Write,
                                                                        scripted_model: ScriptedModel) -> None:
    """Nothing in the search serialises the calls of a round: with the default ceiling, round 1's
    30 programmer calls (3 beam nodes x 10 samples) are answered together, well past the old fixed
    cap of 8, though the sandbox pool is smaller and the candidates wait for the same evaluation."""
    path = make_problem(write, OFF_BY_ONE)
    script(scripted_model, Variants(), critic_by_variant)
    scripted_model.latency_s = 0.2  # every call of a phase overlaps the others

    result = await run_refine(path, settings(scripted_model, samples=10, beam=3, rounds=1))

    assert scripted_model.calls(is_programmer) == scripted_model.calls(is_critic) == 10 + 30
    assert result.usage.failed_calls == 0 and result.rounds_run == 2
    assert scripted_model.peak_generating >= 24  # three times the old cap (slow start begins at 32)


async def test_429s_above_k_lose_no_call_of_a_refine(write: Write, scripted_model: ScriptedModel) -> None:
    """An endpoint that answers 429 above 3 in flight, and no retries to spend: the limiter backs
    off, every 429 with company is retried for free, and every candidate gets its code and review."""
    path = make_problem(write, OFF_BY_ONE)
    script(scripted_model, Variants(), critic_by_variant)
    scripted_model.rate_limit_above = 3
    scripted_model.rate_limit_retry_after = 0.02
    scripted_model.latency_s = 0.05

    result = await run_refine(path, settings(scripted_model, samples=6, beam=2, rounds=1, max_retries=0))

    assert scripted_model.rate_limited >= 1
    assert result.usage.failed_calls == 0 and result.usage.retries == scripted_model.rate_limited
    assert all(n.failure is None and n.critic_score is not None for n in result.candidates)
    assert len(result.candidates) == 6 + 2 * 6
    assert scripted_model.peak_generating <= 3


async def test_a_server_that_never_answers_is_unreachable(write: Write, scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy(FAST_OR_WRONG))
    scripted_model.fail(500, times=10_000, retry_after=0)

    with pytest.raises(ModelUnreachable) as caught:
        await run_refine(path, settings(scripted_model, max_retries=1))

    assert caught.value.exit_code == 3
    assert "HTTP 500" in str(caught.value)
    # Both samples start at once; the first to spend its retry ends the refine and cancels the
    # other, which may or may not have sent its own retry by then.
    assert 3 <= len(scripted_model.requests) <= 2 * 2


async def test_a_model_that_stops_answering_ends_with_the_best_so_far(write: Write,
                                                                      scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy(FAST_OR_WRONG, otherwise=code_reply(FAST)))
    # round 0 is answered; from round 1 on (its prompts extend an attempt), the server fails for good
    scripted_model.fail(500, times=10_000, match="Improve on the latest attempt", retry_after=0)

    result = await run_refine(path, settings(scripted_model, rounds=2, max_retries=1))

    assert result.stopped is not None and "model" in result.stopped
    assert result.rounds_run == 2
    assert result.best.code == FAST and result.improved
    assert result.usage.failed_calls >= 1
    assert all(n.failure is not None and n.failure.kind is FailureKind.NO_REPLY for n in result.nodes if n.round == 1)
    assert result.delta is not None


async def test_a_call_that_times_out_is_retried(write: Write, scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy(FAST_OR_WRONG))
    scripted_model.hang(5.0, times=1)

    result = await run_refine(path, settings(scripted_model, timeout_s=0.5, max_retries=2))

    assert result.usage.retries >= 1 and result.usage.failed_calls == 0
    assert result.best.code == FAST
    assert len(scripted_model.requests) == result.usage.calls + 1


# -- 5, 6. early stop, and the original kept -------------------------------------------------------------
async def test_stops_early_when_the_original_passes_and_nothing_is_faster(write: Write,
                                                                          scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy({0: code_reply(SLOWER), 1: code_reply(WRONG)}, otherwise=code_reply(FAST)))

    result = await run_refine(path, settings(scripted_model, samples=2, beam=2, rounds=2, early_stop="plateau"))

    assert result.rounds_run == 1
    assert result.stopped is not None and "early" in result.stopped
    assert scripted_model.calls(is_programmer) == 2  # round 1 never asked
    assert result.best.id == ORIGINAL and not result.improved


async def test_the_original_is_kept_when_every_candidate_is_worse(write: Write,
                                                                  scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy({0: code_reply(WRONG), 1: code_reply(SLOWER), 2: code_reply(CRASH),
                                        3: "No code from me today."}))

    result = await run_refine(path, settings(scripted_model, samples=4))

    assert result.best is result.original and result.best.id == ORIGINAL
    assert not result.improved
    assert result.best.code == ORIGINAL_CODE
    assert result.delta is None
    assert result.parse_failures == 1
    assert {n.id for n in result.nodes} == {ORIGINAL, "r0.k0.s0", "r0.k0.s1", "r0.k0.s2", "r0.k0.s3"}


async def test_a_copy_of_the_original_is_not_an_improvement(write: Write, scripted_model: ScriptedModel) -> None:
    # The copy runs from the cache (the same suite result): same pass ratio, same cost, same execution
    # score. Only the critic's score differs, and the original, never reviewed, should win that tie.
    path = make_problem(write)
    script(scripted_model, by_strategy({}, otherwise=code_reply(ORIGINAL_CODE, "It is already fine.")))

    result = await run_refine(path, settings(scripted_model))

    assert result.best.id == ORIGINAL, f"{result.best.id} (a byte-identical copy) was picked over the original"
    assert not result.improved


# -- 7. record and replay --------------------------------------------------------------------------
async def test_a_recording_replays_to_the_same_pick_without_a_server(write: Write, tmp_path: Path) -> None:
    path = make_problem(write)
    recording = tmp_path / "refine.jsonl"
    with ScriptedModel() as server:
        # distinct critic scores make the beam's order, and so every call's key, deterministic
        script(server, by_strategy({0: code_reply(FAST), 1: code_reply(SLOWER)}, otherwise=code_reply(FAST)),
               lambda body: "Fast.\nScore: 5" if "bytearray" in last(body) else "Slow.\nScore: 3")
        config = settings(server, samples=2, beam=2, rounds=1)
        recorder = Recorder(recording, {"note": "test"})
        try:
            recorded = await run_refine(path, config, OpenAIChatModel(config, recorder=recorder))
        finally:
            recorder.close()
        calls = len(server.requests)
    assert recorded.best.code == FAST and recorded.rounds_run == 2

    replay = ReplayChatModel(recording)
    replayed = await run_refine(path, config, replay)

    assert replayed.best.code == recorded.best.code
    assert replayed.best.id == recorded.best.id
    assert [n.id for n in replayed.nodes] == [n.id for n in recorded.nodes]
    assert replay.usage.calls == calls

    # a recording that lacks one exchange says which
    lines = recording.read_text().splitlines(keepends=True)
    gap = tmp_path / "gap.jsonl"
    gap.write_text("".join(line for line in lines if '"key": "r0/k0/s1/critic#0"' not in line))
    assert len(gap.read_text().splitlines()) == len(lines) - 1
    with pytest.raises(ReplayMissing) as caught:
        await run_refine(path, config, ReplayChatModel(gap))
    assert caught.value.exit_code == 2
    assert "r0/k0/s1/critic#0" in str(caught.value)


# -- 8. the prompt budget ---------------------------------------------------------------------------
BUDGET = 2000
# A long docstring: it is the problem statement and part of the current code, so the task alone nearly
# fills the budget.
LONG_DOC = "\n".join(
    f"    Note {i}: the tests are public, the hidden ones are larger; keep it pure and fast." for i in range(12))
LONG_OFF_BY_ONE = OFF_BY_ONE.replace(":\n", f':\n    """Sum of the primes below n.\n\n{LONG_DOC}\n    """\n', 1)


LONG_REVIEW = ("Still wrong: the function returns a negative constant instead of summing the primes below n. "
               "Start from the definition, sieve the numbers below n, and sum what survives; check n < 3 first.\n"
               "Score: 2")


async def _deep_refine_under_budget(write: Write, scripted_model: ScriptedModel, programmer: Callable[[Body], str],
                                    code: str = OFF_BY_ONE) -> RefineResult:
    path = make_problem(write, code)  # never passes: every round runs
    # a plain critic: a cut prompt may not even show the candidate
    script(scripted_model, programmer, lambda body: LONG_REVIEW)
    result = await run_refine(path, settings(scripted_model, samples=2, beam=1, rounds=2, prompt_budget=BUDGET))
    assert result.rounds_run == 3 and max(n.round for n in result.nodes) == 2
    return result


async def test_every_prompt_stays_within_the_budget_even_in_round_2(write: Write,
                                                                    scripted_model: ScriptedModel) -> None:
    await _deep_refine_under_budget(write, scripted_model, Variants())

    programmer_requests = [b for b in scripted_model.requests if is_programmer(b)]
    assert len(programmer_requests) == 2 + 2 + 2
    # round 2 extends a two-step trajectory: it shows both steps, or says it left the older out
    assert all("Attempt 2" in last(b) for b in programmer_requests[4:])
    assert any(CUT.strip() in last(b) for b in programmer_requests[2:])  # the budget did bind
    # No slack: the system prompt goes whole and the last message is cut to the room left, the cut
    # marker counted inside it (prompts._fit); that room never falls to _fit's floor (2 x KEEP_TAIL)
    # because both system prompts are far shorter than BUDGET - 2 x KEEP_TAIL.
    assert max(len(PROGRAMMER_SYSTEM), len(CRITIC_SYSTEM)) < BUDGET - 2 * KEEP_TAIL
    sizes = [total_chars(b) for b in scripted_model.requests]
    assert max(sizes) <= BUDGET, sorted(sizes)[-5:]


@pytest.mark.parametrize("code", [OFF_BY_ONE, LONG_OFF_BY_ONE], ids=["short-task", "long-task"])
async def test_cutting_to_the_budget_keeps_what_the_model_must_see(write: Write, scripted_model: ScriptedModel,
                                                                   code: str) -> None:
    # What must survive a cut: for the programmer, the latest attempt's code and what it is asked to do;
    # for the critic, the candidate's code, its pass rate and the request to review. The history and the
    # task text (statement, current code, tests) are what may go.
    await _deep_refine_under_budget(write, scripted_model, Variants(), code)

    programmer_requests = [b for b in scripted_model.requests if is_programmer(b)]
    assert any(CUT.strip() in last(b) for b in scripted_model.requests)  # the budget did bind
    missing: list[str] = []
    for body in programmer_requests[2:]:  # rounds 1 and 2 (round 0's two calls arrive first)
        text = last(body)
        wanted = {"the latest attempt's code": "# variant" in text,
                  "the instruction": "Improve on the latest attempt" in text,
                  "the strategy": any(f"Strategy: {hint}" in text for hint in STRATEGY_HINTS)}
        missing += [f"programmer prompt without {what}" for what, there in wanted.items() if not there]
    for body in scripted_model.requests:
        if is_critic(body):
            text = last(body)
            wanted = {"the candidate's code": "# variant" in text, "the pass rate": "Pass rate:" in text,
                      "the request to review": "Review the candidate." in text}
            missing += [f"critic prompt without {what}" for what, there in wanted.items() if not there]
    assert not missing, sorted(set(missing))


async def test_a_reminder_stays_within_the_budget(write: Write, scripted_model: ScriptedModel) -> None:
    # A long answer without code is echoed back with the reminder; that echo must fit the budget too.
    # Slack: the reminder message itself (it must reach the model whole).
    rambling = "Let me think about this carefully. " * 45  # about 1,600 characters, and no code block
    variants = Variants()
    first_tries = itertools.count()

    def programmer(body: Body) -> str:
        if not last(body).startswith(CODE_REMINDER) and next(first_tries) % 2 == 0:
            return rambling
        return variants(body)

    await _deep_refine_under_budget(write, scripted_model, programmer)

    reminded = [b for b in scripted_model.requests if last(b).startswith(CODE_REMINDER)]
    assert reminded
    for body in reminded:
        assert total_chars(body) <= BUDGET + len(last(body)), (total_chars(body), BUDGET)


# -- behaviour kept --------------------------------------------------------------------------------------
async def test_a_candidate_that_passes_weak_tests_but_changes_behaviour_is_not_picked(
        problem: Callable[[str], Path], scripted_model: ScriptedModel, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = problem("proj_weak")
    sorting = "def parse_row(line):\n    return sorted(int(cell) for cell in line.split(\",\"))\n"
    scripted_model.on(is_critic, "Looks fine and fast.\nScore: 5")
    scripted_model.default(f"Sorting is harmless here.\n```python\n{sorting}```")
    config = settings(scripted_model)
    client = OpenAIChatModel(config)
    try:
        result = await refine(orps_load(root / "rows" / "parse.py", function="parse_row"), config, client)
    finally:
        await client.close()
    assert not result.improved  # the original stays
    candidate = next(n for n in result.nodes if n.id != ORIGINAL and n.suite is not None)
    refused = [r for r in candidate.suite.results if r.verdict is not Verdict.AC]  # type: ignore[union-attr]
    assert [r.test_id for r in refused] == ["tests/test_rows.py::test_three_cells"]
    assert "the original returned [3, 1, 2], the candidate [1, 2, 3]" in (refused[0].detail or "")
    assert "behaviour changed" in candidate.report  # the critic sees the counterexample


# -- roadmap 8: work hidden from the measurement ------------------------------------------------------
# The original's trial division, unchanged, moved into a child whose SIGCHLD is ignored (never reaped,
# so its CPU would count nowhere: once reported 22x faster), or into a thread.
_TRIAL_DIVISION = textwrap.indent(SLOW_PRIMES.split("    total = 0\n", 1)[1].split("    return total\n", 1)[0],
                                  "    ")
HIDDEN_IN_A_CHILD = f"""def sum_primes_below(n: int) -> int:
    import os
    import signal

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        total = 0
{_TRIAL_DIVISION}        os.write(write_end, str(total).encode())
        os._exit(0)
    os.close(write_end)
    return int(os.read(read_end, 64))
"""
IN_A_THREAD = f"""def sum_primes_below(n: int) -> int:
    import threading

    found = []

    def work() -> None:
        total = 0
{_TRIAL_DIVISION}        found.append(total)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return found[0]
"""


async def test_work_moved_into_a_child_or_a_thread_is_no_improvement(write: Write,
                                                                    scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy({0: code_reply(HIDDEN_IN_A_CHILD), 1: code_reply(IN_A_THREAD)}))

    result = await run_refine(path, settings(scripted_model, samples=2, repeats=5))

    assert not result.improved
    child, thread, original = node_with(result, HIDDEN_IN_A_CHILD), node_with(result, IN_A_THREAD), result.original
    assert not child.passes_all  # a child process is refused: the work cannot leave the run
    errors = [r.error for r in child.suite.results if r.error is not None]  # type: ignore[union-attr]
    assert errors and all(e.type == "PermissionError" for e in errors)
    assert thread.passes_all  # a thread's work is the process's: counted like the original's
    assert thread.suite is not None and original.suite is not None
    assert thread.suite.total_cpu_ms > 0.5 * original.suite.total_cpu_ms


# -- roadmap 7: weak critics, failing calls, correct but slow code ---------------------------------------
def in_round(body: Body, r: int) -> bool:
    """Round r's programmer prompts extend an attempt from round r - 1 (round 0's start afresh)."""
    return ("Improve on the latest attempt" in last(body)) == (r > 0)


async def test_a_correct_but_slow_original_finds_its_improvement_in_round_1(write: Write,
                                                                            scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, lambda body: code_reply(FAST if in_round(body, 1) else SLOWER))

    result = await run_refine(path, settings(scripted_model, samples=2, beam=1, rounds=1))

    assert result.rounds_run == 2 and result.stopped is None  # round 0 brought nothing: the search went on
    assert result.improved and result.best.code == FAST and result.best.round == 1


async def test_a_critic_that_never_scores_still_forms_a_beam_from_the_execution_score(
        write: Write, scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    seen_in_round_1: list[str] = []

    def programmer(body: Body) -> str:
        if in_round(body, 1):
            seen_in_round_1.append(last(body))
            return code_reply(FAST)
        return code_reply(SLOWER if strategy(body) == 0 else FAST.replace("if n < 3:", "if n <= 2:"))

    script(scripted_model, programmer, critic=lambda body: "Looks reasonable. **Score: N**")
    result = await run_refine(path, settings(scripted_model, samples=2, beam=1, rounds=1))

    assert result.rounds_run == 2 and result.ranked_by_execution == 2
    assert seen_in_round_1 and all("if n <= 2:" in text for text in seen_in_round_1)  # the beam kept the faster one
    assert result.best.passes_all and result.improved
    lines = diagnosis(result)
    assert any("no usable score in any of its" in line and "execution score alone" in line for line in lines), lines


async def test_a_failed_review_leaves_the_candidate_that_ran_in_the_race(write: Write,
                                                                          scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy(FAST_OR_WRONG))
    scripted_model.fail(400, times=100, match=lambda body: is_critic(body) and "bytearray" in last(body))

    result = await run_refine(path, settings(scripted_model, samples=2, rounds=0, max_retries=0))

    fast = node_with(result, FAST)
    assert fast.evaluated and fast.failure is not None and fast.failure.kind is FailureKind.NO_REVIEW
    assert result.improved and result.best is fast  # it ran, so it competes: no review needed
    assert result.stopped is None
    assert any("model call(s) failed" in line for line in diagnosis(result))


async def test_replies_without_code_are_diagnosed(write: Write, scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, lambda body: "I would use a sieve, but here is no code.")

    result = await run_refine(path, settings(scripted_model, samples=2, rounds=0))
    text = format_refine(result)

    assert "2 candidates over 1 round(s): 0 ran (0 reviewed with a score), 2 without usable code" in text
    assert ("diagnosis: the model's replies had no usable code in 2 of 2 samples: try a larger (or code-tuned) model"
            in text)
    assert refine_document(result)["candidates"]["no_code"] == 2


async def test_a_runaway_reply_is_cut_and_the_search_goes_on(write: Write, scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    runaway = Endless(unit="and then I would loop again over every number ", prefix="Let me think. ")
    script(scripted_model, lambda body: code_reply(FAST) if strategy(body) == 0 else runaway)
    scripted_model.chunk_delay_s = 0.002  # as a real server: the client's cut comes before max_tokens' last word
    started = time.monotonic()

    result = await run_refine(path, settings(scripted_model, samples=2, rounds=0, max_retries=0))

    assert time.monotonic() - started < 30
    assert scripted_model.wait_idle(10)  # the server notices a closed stream at its next write
    assert result.usage.cut_repetition >= 1 and scripted_model.disconnects >= 1
    assert result.improved and result.best.code == FAST
    assert any("repeating itself" in line for line in diagnosis(result))


async def test_a_small_context_window_shrinks_the_prompts_and_the_refine_goes_on(
        write: Write, scripted_model: ScriptedModel) -> None:
    path = make_problem(write, header=f'"""{"Sum of the primes below n. " * 200}"""\n\n\n')
    scripted_model.context_window = 1100  # the server's, in words: it refuses longer prompts with HTTP 400
    script(scripted_model, by_strategy(FAST_OR_WRONG))

    result = await run_refine(path, settings(scripted_model, samples=2, rounds=0, max_retries=0))

    assert result.context_window == 1100  # named by the server's refusal
    assert result.improved and result.best.code == FAST
    served = [r for r in scripted_model.requests if len(prompt_text(r).split()) + r.get("max_tokens", 0) <= 1100]
    assert served, "no prompt fit the window"


async def test_a_context_window_too_small_for_the_task_says_what_to_set(write: Write,
                                                                        scripted_model: ScriptedModel) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy(FAST_OR_WRONG))

    with pytest.raises(InputError, match=r"context window \(600 tokens\) is too small.*n_ctx") as raised:
        await run_refine(path, settings(scripted_model, samples=2, rounds=0, context_window=600))
    assert raised.value.hint is not None and "--context-window" in raised.value.hint
    assert scripted_model.calls() == 0  # nothing was sent that could not fit


async def test_a_recording_with_failed_calls_replays(write: Write, scripted_model: ScriptedModel,
                                                    tmp_path: Path) -> None:
    path = make_problem(write)
    script(scripted_model, by_strategy(FAST_OR_WRONG))
    scripted_model.fail(400, times=100, match=lambda body: is_critic(body) and "bytearray" in last(body))
    recording = tmp_path / "run.jsonl"
    config = settings(scripted_model, samples=2, rounds=0, max_retries=0)
    recorder = Recorder(recording, {"note": "test"})
    client = OpenAIChatModel(config, recorder=recorder)
    try:
        live = await refine(load_problem(path), config, client)
    finally:
        await client.close()
        recorder.close()
    assert any('"error"' in line for line in recording.read_text().splitlines())
    replayed = await run_refine(path, config, ReplayChatModel(recording))
    assert replayed.best.code == live.best.code == FAST
    assert node_with(replayed, FAST).failure == node_with(live, FAST).failure
