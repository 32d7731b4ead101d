"""The model client against a real local OpenAI-compatible server (the scripted model): streamed
replies and their cut-offs, usage, retries and giving up, typed errors, the context window, the
adaptive limit on calls in flight, and record/replay. The openai client is never patched.

Pure parts (the repetition rule, the servers' context messages, the limiter) are tested on their
own at the end.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orps_engine.config import Settings
from orps_engine.errors import InputError
from orps_engine.model import (
    FinishReason,
    ModelError,
    ModelErrorKind,
    OpenAIChatModel,
    Recorder,
    Recording,
    ReplayChatModel,
    ReplayMissing,
    Reply,
)
from orps_engine.model.context import is_context_error, window_in_error, window_in_models, window_in_props
from orps_engine.model.limiter import INITIAL_LIMIT, Limiter, Outcome
from orps_engine.model.record import FORMAT, FORMAT_V1, Exchange
from orps_engine.model.repetition import MIN_SPAN, repeating
from tests.fixtures.scripted_model import MODEL_NAME, Endless, ScriptedModel

KEY = "sk-test-SENTINEL-123"
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "say hello please"}]
PROMPT_WORDS = len("You are terse.\nsay hello please".split())
REPO = Path(__file__).parent.parent.parent

MakeModel = Callable[..., OpenAIChatModel]


def _settings(model: ScriptedModel, **changes: Any) -> Settings:
    base = Settings(model=MODEL_NAME, base_url=model.base_url, api_key=KEY, max_retries=3, timeout_s=10.0)
    return replace(base, **changes)


@pytest.fixture
async def make(scripted_model: ScriptedModel) -> AsyncIterator[MakeModel]:
    """``make(recorder=None, **settings)``: a client for the scripted model, closed after the test."""
    made: list[OpenAIChatModel] = []

    def build(recorder: Recorder | None = None, **changes: Any) -> OpenAIChatModel:
        client = OpenAIChatModel(_settings(scripted_model, **changes), recorder=recorder)
        made.append(client)
        return client

    yield build
    for client in made:
        await client.close()


def code_block_closed(text: str) -> bool:
    """The search's kind of stop rule: a fenced block has opened and closed."""
    return text.count("```") >= 2


# -- answers and usage ------------------------------------------------------------------------------


async def test_streams_the_reply_and_accounts_usage(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.on("say hello", "hello there, friend")
    model = make()
    reply = await model.complete("r0/k0/s0/programmer#0", MESSAGES, 0.3)
    assert reply == Reply(text="hello there, friend", finish=FinishReason.STOP, prompt_tokens=PROMPT_WORDS,
                          completion_tokens=3)
    usage = model.usage
    assert (usage.calls, usage.retries, usage.failed_calls, usage.estimated_tokens) == (1, 0, 0, 0)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.largest_prompt_tokens) == (PROMPT_WORDS, 3,
                                                                                           PROMPT_WORDS)
    assert usage.wall_s > 0 and usage.call_s > 0
    [body] = scripted_model.requests
    assert body["model"] == MODEL_NAME and body["messages"] == MESSAGES and body["temperature"] == 0.3
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert "max_tokens" not in body

    await model.complete("r0/k0/s1/programmer#0", MESSAGES, 0.3)
    assert (model.usage.calls, model.usage.completion_tokens) == (2, 6)


async def test_max_tokens_is_sent_and_a_reply_that_reaches_it_says_so(scripted_model: ScriptedModel,
                                                                      make: MakeModel) -> None:
    scripted_model.default("one two three four five six seven")
    model = make()
    reply = await model.complete("k", MESSAGES, 0.0, max_tokens=4)
    assert reply.finish is FinishReason.LENGTH
    assert reply.text.split() == ["one", "two", "three", "four"] and reply.completion_tokens == 4
    assert scripted_model.requests[0]["max_tokens"] == 4
    assert model.usage.cut_length == 1
    assert (await model.complete("k2", MESSAGES, 0.0, max_tokens=50)).finish is FinishReason.STOP


async def test_a_reply_the_context_cut_short_ends_with_length(scripted_model: ScriptedModel,
                                                              make: MakeModel) -> None:
    # the 2,048-token server: a 2,047-token prompt with no max_tokens got a one-token reply
    scripted_model.context_window = 2048
    scripted_model.default("a full and useful answer")
    prompt = [{"role": "user", "content": " ".join(["word"] * 2047)}]
    reply = await make().complete("k", prompt, 0.0)
    assert (reply.text.strip(), reply.finish, reply.completion_tokens) == ("a", FinishReason.LENGTH, 1)


async def test_empty_content_is_an_empty_reply(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("")
    reply = await make().complete("k", MESSAGES, 0.0)
    assert (reply.text, reply.finish, reply.completion_tokens) == ("", FinishReason.STOP, 0)


async def test_local_server_needs_no_key(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("ok")
    model = make(api_key=None)
    assert (await model.complete("k", MESSAGES, 0.0)).text == "ok"


async def test_wall_time_is_elapsed_time_not_the_sum_of_overlapping_calls(scripted_model: ScriptedModel,
                                                                          make: MakeModel) -> None:
    scripted_model.default("ok")
    scripted_model.latency_s = 0.3
    model = make(max_in_flight=4)
    started = time.perf_counter()
    await asyncio.gather(*(model.complete(f"k{i}", MESSAGES, 0.0) for i in range(4)))
    elapsed = time.perf_counter() - started
    assert model.usage.call_s >= 4 * 0.3
    assert 0.3 <= model.usage.wall_s <= elapsed
    assert model.usage.wall_s < model.usage.call_s / 2


# -- cut-offs -----------------------------------------------------------------------------------------


async def test_the_stop_rule_cuts_once_the_code_block_has_closed(scripted_model: ScriptedModel,
                                                                 make: MakeModel) -> None:
    scripted_model.default("Faster:\n```python\ndef f():\n    return 1\n```\nand then a long afterword " * 3)
    model = make()
    reply = await model.complete("k", MESSAGES, 0.0, stop=code_block_closed)
    assert reply.finish is FinishReason.DONE
    assert reply.text.rstrip().endswith("```") and reply.text.count("```") == 2 and "afterword" not in reply.text
    assert (reply.prompt_tokens, reply.completion_tokens) == (None, None)  # the server's counts never came
    usage = model.usage
    assert usage.cut_done == 1
    # estimated: the prompt's characters / 3, one token per streamed chunk
    assert usage.completion_tokens == len(reply.text.split()) and usage.prompt_tokens > 0
    assert usage.estimated_tokens == usage.prompt_tokens + usage.completion_tokens
    assert scripted_model.wait_idle()


async def test_a_runaway_reply_is_cut_at_the_repetition_and_the_server_sees_it(scripted_model: ScriptedModel,
                                                                               make: MakeModel) -> None:
    scripted_model.on("loop", Endless("        result = result + step\n", prefix="Here is a faster one:\n```python\n"))
    scripted_model.default("fine")
    scripted_model.chunk_delay_s = 0.002  # a server generates slower than the client reads
    model = make()
    started = time.perf_counter()
    reply = await model.complete("k", [{"role": "user", "content": "loop"}], 0.0, stop=code_block_closed)
    assert reply.finish is FinishReason.REPETITION
    assert MIN_SPAN <= len(reply.text) < MIN_SPAN + 400
    assert time.perf_counter() - started < 5
    # the client closed the connection, and the server stopped generating
    assert scripted_model.wait_idle()
    assert scripted_model.disconnects == 1
    streamed = scripted_model.words_streamed
    time.sleep(0.1)
    assert scripted_model.words_streamed == streamed < 2 * len(reply.text.split())
    assert model.usage.cut_repetition == 1
    assert (await model.complete("k2", MESSAGES, 0.0)).text == "fine"  # a fresh connection


async def test_a_runaway_reply_is_capped_by_max_tokens(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default(Endless("and on "))
    reply = await make().complete("k", MESSAGES, 0.0, max_tokens=20)
    assert reply.finish is FinishReason.LENGTH and reply.completion_tokens == 20


# -- servers that do not stream -----------------------------------------------------------------------


async def test_a_server_that_refuses_streaming_gets_plain_requests_from_then_on(scripted_model: ScriptedModel,
                                                                                make: MakeModel) -> None:
    scripted_model.streaming = False
    scripted_model.default("one two three")
    model = make()
    first = await model.complete("k1", MESSAGES, 0.0, max_tokens=2)
    assert (first.text, first.finish, first.completion_tokens) == ("one two ", FinishReason.LENGTH, 2)
    assert [bool(b.get("stream")) for b in scripted_model.requests] == [True, False]
    assert (await model.complete("k2", MESSAGES, 0.0)).text == "one two three"
    assert [bool(b.get("stream")) for b in scripted_model.requests] == [True, False, False]
    assert (model.usage.calls, model.usage.retries, model.usage.failed_calls) == (2, 0, 0)


async def test_a_server_that_refuses_stream_options_streams_without(scripted_model: ScriptedModel,
                                                                    make: MakeModel) -> None:
    scripted_model.stream_options = False
    scripted_model.default("a b c")
    model = make()
    reply = await model.complete("k", MESSAGES, 0.0)
    assert reply.text == "a b c" and reply.completion_tokens is None  # no usage chunk without the option
    assert model.usage.completion_tokens == 3 and model.usage.estimated_tokens > 0
    await model.complete("k2", MESSAGES, 0.0)
    assert ["stream_options" in b for b in scripted_model.requests] == [True, False, False]
    assert all(b["stream"] for b in scripted_model.requests)


async def test_a_proxy_that_answers_streams_with_plain_json(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.stream_as_json = True
    scripted_model.default("plain answer")
    model = make()
    assert (await model.complete("k1", MESSAGES, 0.0)).text == "plain answer"
    assert (await model.complete("k2", MESSAGES, 0.0)).text == "plain answer"
    assert [bool(b.get("stream")) for b in scripted_model.requests] == [True, False]


# -- timeouts -----------------------------------------------------------------------------------------


async def test_the_timeout_is_on_inactivity_so_a_long_live_reply_is_not_killed(scripted_model: ScriptedModel,
                                                                               make: MakeModel) -> None:
    scripted_model.default(" ".join(f"w{i}" for i in range(12)))
    scripted_model.chunk_delay_s = 0.1  # 1.2 s in all, never more than 0.1 s without a chunk
    model = make(timeout_s=0.5)
    reply = await model.complete("k", MESSAGES, 0.0)
    assert reply.completion_tokens == 12 and model.usage.retries == 0


async def test_a_stream_that_goes_quiet_times_out(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("slow words")
    scripted_model.chunk_delay_s = 2.0  # the headers and the role chunk come, then nothing
    with pytest.raises(ModelError) as info:
        await make(timeout_s=0.3, max_retries=0).complete("k", MESSAGES, 0.0)
    assert info.value.kind is ModelErrorKind.TIMEOUT and info.value.retryable
    assert str(info.value) == "the model sent nothing for 0.3 s (after 1 attempt)"
    assert info.value.hint is not None and "timeout" in info.value.hint


async def test_a_timeout_is_retried_once_at_most(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("late").hang(5.0, times=5)
    model = make(timeout_s=0.3, max_retries=3)
    with pytest.raises(ModelError) as info:
        await model.complete("k", MESSAGES, 0.0)
    assert info.value.kind is ModelErrorKind.TIMEOUT and info.value.attempts == 2
    assert scripted_model.calls() == 2
    assert "twice" in str(info.value) and "abandoned" in str(info.value) and "one reply at a time" in str(info.value)
    assert (model.usage.retries, model.usage.failed_calls) == (1, 1)


# -- retries ------------------------------------------------------------------------------------------


FAULTS: dict[str, Callable[[ScriptedModel], Any]] = {
    "429": lambda m: m.fail(429, times=2, retry_after=0),
    "500": lambda m: m.fail(500, times=2, retry_after=0),
    "503": lambda m: m.fail(503, times=1, retry_after=0),
    "garbage-json": lambda m: m.garbage(times=1),
    "garbage-html": lambda m: m.garbage(times=1, content_type="text/html"),
    "disconnect": lambda m: m.disconnect(times=1),
    "drop-mid-reply": lambda m: m.drop(after_words=1, times=1),
    "timeout": lambda m: m.hang(5.0, times=1),
}
FAULT_COUNT = {"429": 2, "500": 2}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_transient_failures_are_retried_then_succeed(scripted_model: ScriptedModel, make: MakeModel,
                                                            fault: str) -> None:
    scripted_model.default("finally here")
    FAULTS[fault](scripted_model)
    model = make(timeout_s=1.0 if fault == "timeout" else 10.0)
    reply = await model.complete("r0/k0/s0/critic#0", MESSAGES, 0.5)
    assert reply.text == "finally here"
    failures = FAULT_COUNT.get(fault, 1)
    assert scripted_model.calls() == failures + 1
    assert model.usage.retries == failures
    assert (model.usage.calls, model.usage.failed_calls) == (1, 0)


async def test_retry_after_is_honoured(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("ok")
    scripted_model.fail(429, times=1, retry_after=0.4)
    model = make()
    started = time.perf_counter()
    assert (await model.complete("k", MESSAGES, 0.0)).text == "ok"
    assert time.perf_counter() - started >= 0.35


async def test_gives_up_after_max_retries(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("never seen")
    scripted_model.fail(500, times=50, retry_after=0)
    model = make(max_retries=2)
    with pytest.raises(ModelError) as info:
        await model.complete("k", MESSAGES, 0.0)
    assert info.value.retryable is True and info.value.kind is ModelErrorKind.SERVER
    assert "500" in str(info.value) and "after 3 attempts" in str(info.value)
    assert scripted_model.calls() == 3
    assert (model.usage.calls, model.usage.failed_calls, model.usage.retries) == (0, 1, 2)


async def test_no_retries_means_one_attempt(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("never seen")
    scripted_model.fail(429, times=5, retry_after=0)
    with pytest.raises(ModelError) as info:
        await make(max_retries=0).complete("k", MESSAGES, 0.0)
    assert info.value.retryable and info.value.kind is ModelErrorKind.RATE_LIMITED
    assert scripted_model.calls() == 1


async def test_a_dead_server_is_retryable(scripted_model: ScriptedModel, make: MakeModel) -> None:
    model = make(max_retries=0)
    scripted_model.close()  # the port now refuses connections
    with pytest.raises(ModelError, match="cannot connect") as info:
        await model.complete("k", MESSAGES, 0.0)
    assert info.value.retryable and info.value.kind is ModelErrorKind.UNREACHABLE


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_not_retried(scripted_model: ScriptedModel, make: MakeModel, status: int) -> None:
    scripted_model.default("never seen")
    scripted_model.fail(status, times=5)
    model = make()
    with pytest.raises(ModelError) as info:
        await model.complete("k", MESSAGES, 0.0)
    assert info.value.retryable is False and info.value.kind is ModelErrorKind.REJECTED
    assert f"HTTP {status}" in str(info.value) and "scripted fault" in str(info.value)
    assert KEY not in str(info.value)
    assert scripted_model.calls() == 1
    assert (model.usage.retries, model.usage.failed_calls) == (0, 1)


async def test_a_reply_that_dies_midway_keeps_its_partial_text(scripted_model: ScriptedModel,
                                                               make: MakeModel) -> None:
    scripted_model.default("alpha beta gamma delta epsilon").drop(after_words=3, times=5)
    with pytest.raises(ModelError) as info:
        await make(max_retries=1).complete("k", MESSAGES, 0.0)
    assert info.value.kind is ModelErrorKind.UNREACHABLE and "dropped" in str(info.value)
    assert info.value.partial == "alpha beta gamma "


# -- the context window -------------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "window"), [("openai", 1024), ("llama.cpp", 1024), ("vllm", 1024),
                                               ("bare", None)])
async def test_a_prompt_too_long_is_a_context_error_never_retried(scripted_model: ScriptedModel, make: MakeModel,
                                                                  style: Any, window: int | None) -> None:
    scripted_model.context_window = 1024
    scripted_model.context_style = style
    scripted_model.default("never seen")
    model = make()
    with pytest.raises(ModelError) as info:
        await model.complete("k", MESSAGES, 0.0, max_tokens=1100)
    error = info.value
    assert (error.kind, error.retryable, error.context_window) == (ModelErrorKind.CONTEXT, False, window)
    assert "does not fit the model's context window" in str(error) and "HTTP 400" in str(error)
    assert error.hint is not None and "context" in error.hint
    assert scripted_model.calls() == 1
    assert await model.context_window() == window
    assert model.usage.context_window == window
    reply = await model.complete("k2", MESSAGES, 0.0, max_tokens=100)  # a call that fits goes through
    assert reply.text == "never seen"


async def test_an_empty_stream_is_asked_again_plainly_and_gets_the_server_s_own_error(scripted_model: ScriptedModel,
                                                                                    make: MakeModel) -> None:
    """llama-cpp-python answers a streamed prompt too long for its context with an empty 200 stream;
    a plain request gets the context error, with the window, at no extra attempt."""
    scripted_model.context_window, scripted_model.context_style = 1024, "openai"
    scripted_model.refuse_streams_empty = True
    scripted_model.default("fits")
    model = make()
    with pytest.raises(ModelError) as info:
        await model.complete("k", MESSAGES, 0.0, max_tokens=1100)
    assert (info.value.kind, info.value.context_window, info.value.attempts) == (ModelErrorKind.CONTEXT, 1024, 1)
    assert [bool(r.get("stream")) for r in scripted_model.requests] == [True, False]
    reply = await model.complete("k2", MESSAGES, 0.0, max_tokens=100)
    assert (reply.text, bool(scripted_model.requests[-1].get("stream"))) == ("fits", True)  # still streams


async def test_a_stream_dropped_before_any_text_is_retried_plainly(scripted_model: ScriptedModel,
                                                                    make: MakeModel) -> None:
    scripted_model.default("one two three four five six")
    scripted_model.drop(after_words=0, times=1)
    model = make()
    reply = await model.complete("k", MESSAGES, 0.0)
    assert (reply.text, reply.finish) == ("one two three four five six", FinishReason.STOP)
    assert [bool(r.get("stream")) for r in scripted_model.requests] == [True, False]


async def test_the_context_window_setting_wins_and_asks_nothing(scripted_model: ScriptedModel,
                                                                make: MakeModel) -> None:
    scripted_model.model_info = {"max_model_len": 4096}
    model = make(context_window=2000)
    assert await model.context_window() == 2000
    assert scripted_model.gets == [] and model.usage.context_window == 2000


async def test_the_context_window_comes_from_the_model_list_asked_once(scripted_model: ScriptedModel,
                                                                       make: MakeModel) -> None:
    scripted_model.model_info = {"max_model_len": 4096}  # vLLM
    model = make()
    assert list(await asyncio.gather(model.context_window(), model.context_window())) == [4096, 4096]
    assert await model.context_window() == 4096
    assert scripted_model.gets == ["/v1/models"]
    assert model.usage.context_window == 4096


async def test_llama_cpp_props_give_the_served_window_and_the_slots(scripted_model: ScriptedModel,
                                                                    make: MakeModel) -> None:
    # the model list has only the trained window; /props has what the server runs with
    scripted_model.model_info = {"owned_by": "llamacpp", "meta": {"n_ctx_train": 8192, "n_vocab": 49152}}
    scripted_model.props = {"default_generation_settings": {"n_ctx": 1024}, "total_slots": 1}
    model = make(max_in_flight=8)
    assert await model.context_window() == 1024
    assert scripted_model.gets == ["/v1/models", "/props"]
    assert model.usage.in_flight_limit == 1


async def test_no_window_anywhere_is_none_until_an_error_names_one(scripted_model: ScriptedModel,
                                                                   make: MakeModel, tmp_path: Path) -> None:
    scripted_model.context_window = 512
    scripted_model.default("x")
    recorder = Recorder(tmp_path / "rec.jsonl", {})
    model = make(recorder=recorder)
    assert await model.context_window() is None
    with pytest.raises(ModelError):
        await model.complete("k", MESSAGES, 0.0, max_tokens=600)
    assert await model.context_window() == 512
    recorder.close()
    assert Recording.load(tmp_path / "rec.jsonl").context_window == 512


# -- calls in flight ----------------------------------------------------------------------------------


async def test_max_in_flight_bounds_concurrency(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("ok")
    scripted_model.latency_s = 0.2
    capped = make(max_in_flight=2)
    started = time.perf_counter()
    replies = await asyncio.gather(*(capped.complete(f"k{i}", MESSAGES, 0.0) for i in range(6)))
    capped_s = time.perf_counter() - started
    assert [r.text for r in replies] == ["ok"] * 6
    assert capped_s >= 0.5  # three waves of 0.2 s
    assert scripted_model.peak_in_flight == 2

    wide = make(max_in_flight=6)
    started = time.perf_counter()
    await asyncio.gather(*(wide.complete(f"w{i}", MESSAGES, 0.0) for i in range(6)))
    wide_s = time.perf_counter() - started
    assert wide_s < capped_s
    assert wide_s < 1.0  # one wave, with generous room for a slow machine
    assert wide.usage.in_flight_limit == 6  # a server that answers in parallel keeps the limit


async def test_many_calls_with_no_congestion_reach_a_high_concurrency_quickly(scripted_model: ScriptedModel,
                                                                               make: MakeModel) -> None:
    """Slow start from 32 calls in flight, one more per success: 100 calls at once on a server that
    never pushes back go out 32, 64, then all the rest, far beyond the old fixed cap of 8."""
    scripted_model.default("ok")
    scripted_model.latency_s = 0.2
    model = make()  # the default ceiling
    replies = await asyncio.gather(*(model.complete(f"k{i}", MESSAGES, 0.0) for i in range(100)))
    assert [r.text for r in replies] == ["ok"] * 100
    assert scripted_model.peak_in_flight >= 50  # at s successes, min(32 + s, 100 - s) are in flight
    assert model.usage.in_flight_limit == 128  # 32 + one per success, up to the ceiling
    assert (model.usage.retries, model.usage.failed_calls) == (0, 0)


@pytest.mark.parametrize("ceiling", [6, None], ids=["max_in_flight=6", "default ceiling"])
async def test_a_server_that_answers_one_at_a_time_is_sent_one_at_a_time(scripted_model: ScriptedModel,
                                                                         make: MakeModel, ceiling: int | None) -> None:
    scripted_model.slots = 1
    scripted_model.default(" ".join(f"w{i}" for i in range(8)))
    scripted_model.chunk_delay_s = 0.025  # 0.2 s a reply
    model = make(**({} if ceiling is None else {"max_in_flight": ceiling}))
    await asyncio.gather(*(model.complete(f"a{i}", MESSAGES, 0.0) for i in range(6)))
    assert model.usage.in_flight_limit == 1
    assert scripted_model.peak_in_flight == 6 and scripted_model.peak_generating == 1

    scripted_model.peak_in_flight = 0
    replies = await asyncio.gather(*(model.complete(f"b{i}", MESSAGES, 0.0) for i in range(4)))
    assert all(r.finish is FinishReason.STOP for r in replies)
    assert scripted_model.peak_in_flight <= 2  # 1, and at most one probe of 2
    assert model.usage.failed_calls == 0


async def test_a_server_that_interrupts_replies_for_waiting_calls_loses_none(scripted_model: ScriptedModel,
                                                                              make: MakeModel) -> None:
    """llama-cpp-python ends a stream with [DONE] and no finish reason when another request waits:
    such a reply is no answer. Every call still gets its whole reply, one call at a time."""
    scripted_model.slots, scripted_model.interrupt = 1, True
    words = " ".join(f"w{i}" for i in range(12))
    scripted_model.default(words)
    scripted_model.chunk_delay_s = 0.01
    model = make(max_in_flight=4, max_retries=0)
    replies = await asyncio.gather(*(model.complete(f"k{i}", MESSAGES, 0.0) for i in range(4)))
    assert [r.text for r in replies] == [words] * 4
    assert all(r.finish is FinishReason.STOP for r in replies)
    assert scripted_model.interrupted >= 1
    assert model.usage.retries >= scripted_model.interrupted  # free retries: max_retries=0 lost no call
    assert (model.usage.calls, model.usage.failed_calls) == (4, 0)
    assert model.usage.in_flight_limit == 1

    scripted_model.peak_in_flight, scripted_model.interrupted = 0, 0
    more = await asyncio.gather(*(model.complete(f"m{i}", MESSAGES, 0.0) for i in range(3)))
    assert [r.text for r in more] == [words] * 3
    assert scripted_model.peak_in_flight == 1 and scripted_model.interrupted == 0  # never raised again


async def test_a_stream_without_a_finish_reason_and_no_company_is_taken_whole(scripted_model: ScriptedModel,
                                                                              make: MakeModel) -> None:
    """Some proxies drop the finish chunk; alone in flight, nothing can have interrupted the reply."""
    scripted_model.slots, scripted_model.interrupt = 1, True
    scripted_model.default("one two three")
    model = make(max_in_flight=1)
    reply = await model.complete("k", MESSAGES, 0.0)
    assert (reply.text, reply.finish) == ("one two three", FinishReason.STOP)
    assert scripted_model.interrupted == 0 and model.usage.retries == 0


async def test_an_interrupted_call_sets_the_limit_and_ceiling_to_one() -> None:
    limiter = Limiter(4)
    first, second = await limiter.acquire(), await limiter.acquire()
    assert first.company and second.company
    limiter.release(first, Outcome.INTERRUPTED)
    limiter.release(second, Outcome.OK)
    assert (limiter.limit, limiter.ceiling) == (1, 1)
    for _ in range(10):
        ticket = await limiter.acquire()
        assert not ticket.company
        limiter.release(ticket, Outcome.OK)
    assert limiter.limit == 1  # never probed upwards again


async def test_429s_above_two_in_flight_lower_the_limit_and_lose_no_call(scripted_model: ScriptedModel,
                                                                         make: MakeModel) -> None:
    scripted_model.rate_limit_above = 2
    scripted_model.rate_limit_retry_after = 0.02
    scripted_model.latency_s = 0.1
    scripted_model.default("ok")
    model = make(max_in_flight=8, max_retries=2)
    replies = await asyncio.gather(*(model.complete(f"k{i}", MESSAGES, 0.0) for i in range(8)))
    assert [r.text for r in replies] == ["ok"] * 8
    assert scripted_model.rate_limited >= 1 and model.usage.retries == scripted_model.rate_limited
    assert (model.usage.calls, model.usage.failed_calls) == (8, 0)
    assert model.usage.in_flight_limit is not None and model.usage.in_flight_limit <= 3


async def test_429s_above_k_keep_the_calls_in_flight_near_k_and_lose_none(scripted_model: ScriptedModel,
                                                                         make: MakeModel) -> None:
    """With the default (high) ceiling and no retries to spend, a server that answers 429 above 4
    in flight: every call is answered (429s with company are free retries), and once the limiter
    has learnt, calls in flight stay within one probe (and one racing arrival) of 4."""
    k = 4
    scripted_model.rate_limit_above = k
    scripted_model.rate_limit_retry_after = 0.02
    scripted_model.latency_s = 0.05
    scripted_model.default("ok")
    model = make(max_retries=0)
    for batch in ("a", "b"):
        scripted_model.peak_in_flight = 0
        replies = await asyncio.gather(*(model.complete(f"{batch}{i}", MESSAGES, 0.0) for i in range(40)))
        assert [r.text for r in replies] == ["ok"] * 40
    assert (model.usage.calls, model.usage.failed_calls) == (80, 0)
    assert scripted_model.rate_limited >= 1 and model.usage.retries == scripted_model.rate_limited
    assert scripted_model.peak_in_flight <= k + 2  # the second batch: the limit saws between k/2 and k + 1


# -- recording --------------------------------------------------------------------------------------


async def test_recorder_writes_a_header_and_each_exchange_without_the_key(
        scripted_model: ScriptedModel, make: MakeModel, tmp_path: Path) -> None:
    scripted_model.on("first", "reply one")
    scripted_model.on("second", "reply two")
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, {"model": MODEL_NAME, "settings": {"samples": 4}})
    model = make(recorder=recorder)
    await model.complete("r0/k0/s0/programmer#0", [{"role": "user", "content": "first"}], 0.7, max_tokens=50)
    await model.complete("r0/k0/s0/critic#0", [{"role": "user", "content": "second"}], 0.7)
    recorder.close()

    text = path.read_text(encoding="utf-8")
    assert KEY not in text and "SENTINEL" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 3
    assert lines[0] == {"format": FORMAT, "model": MODEL_NAME, "settings": {"samples": 4}}
    first, second = lines[1:]
    assert first["key"] == "r0/k0/s0/programmer#0"
    assert first["messages"] == [{"role": "user", "content": "first"}]
    assert first["reply"] == "reply one" and first["temperature"] == 0.7 and first["max_tokens"] == 50
    assert first["finish"] == "stop" and first["attempts"] == 1 and first["seconds"] >= 0
    assert first["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "estimated": [0, 0]}
    assert (second["key"], second["reply"], second["max_tokens"]) == ("r0/k0/s0/critic#0", "reply two", None)


async def test_failed_calls_are_recorded_and_replay_as_the_same_error(scripted_model: ScriptedModel,
                                                                      make: MakeModel, tmp_path: Path) -> None:
    scripted_model.fail(401)
    scripted_model.context_window = 100
    scripted_model.default("fits")
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, {})
    model = make(recorder=recorder)
    with pytest.raises(ModelError):
        await model.complete("r0/k0/s0/programmer#0", MESSAGES, 0.0)
    with pytest.raises(ModelError) as context:
        await model.complete("r0/k0/s1/programmer#0", MESSAGES, 0.0, max_tokens=200)
    recorder.close()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[1]["error"]["kind"] == "rejected" and "HTTP 401" in lines[1]["error"]["message"]
    assert lines[2]["error"] | {"message": ""} == {"kind": "context", "message": "", "retryable": False,
                                                   "context_window": 100, "hint": context.value.hint}
    assert lines[3] == {"context_window": 100, "source": "error"}

    replay = ReplayChatModel(path)
    with pytest.raises(ModelError) as again:
        await replay.complete("r0/k0/s0/programmer#0", MESSAGES, 0.0)
    assert (again.value.kind, again.value.retryable) == (ModelErrorKind.REJECTED, False)
    with pytest.raises(ModelError) as again:
        await replay.complete("r0/k0/s1/programmer#0", MESSAGES, 0.0)
    assert (again.value.kind, again.value.context_window) == (ModelErrorKind.CONTEXT, 100)
    assert str(again.value) == str(context.value)
    assert await replay.context_window() == 100
    assert (replay.usage.calls, replay.usage.failed_calls) == (0, 2)


async def test_a_failure_after_part_of_the_reply_records_the_part(scripted_model: ScriptedModel,
                                                                  make: MakeModel, tmp_path: Path) -> None:
    scripted_model.default("alpha beta gamma delta").drop(after_words=2, times=3)
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, {})
    with pytest.raises(ModelError):
        await make(recorder=recorder, max_retries=1).complete("k", MESSAGES, 0.0)
    recorder.close()
    [line] = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    assert line["partial"] == "alpha beta " and line["attempts"] == 2 and line["error"]["kind"] == "unreachable"


async def test_a_cancelled_call_is_recorded_and_its_replay_waits_then_says_so(scripted_model: ScriptedModel,
                                                                              make: MakeModel,
                                                                              tmp_path: Path) -> None:
    scripted_model.default("never").hang(30)
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, {})
    task = asyncio.ensure_future(make(recorder=recorder).complete("r0/k0/s3/critic#0", MESSAGES, 0.0))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    recorder.close()
    [line] = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    assert line["cancelled"] is True and line["key"] == "r0/k0/s3/critic#0"

    replay = ReplayChatModel(path, cancelled_wait_s=0.05)
    with pytest.raises(ReplayMissing, match="cancelled"):
        await replay.complete("r0/k0/s3/critic#0", MESSAGES, 0.0)


async def test_replay_gives_back_the_reply_its_finish_and_the_usage(scripted_model: ScriptedModel,
                                                                    make: MakeModel, tmp_path: Path) -> None:
    scripted_model.on("loop", Endless("again and again, the same words\n"))
    scripted_model.on("code", "```python\nx = 1\n```\nafter")
    scripted_model.on("long", "a b c d e f g h")
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, {})
    model = make(recorder=recorder)
    calls = {"r0/k0/s0/programmer#0": ("loop", None), "r0/k0/s1/programmer#0": ("code", None),
             "r0/k0/s2/programmer#0": ("long", 3)}
    recorded = {key: await model.complete(key, [{"role": "user", "content": text}], 0.0, max_tokens=limit,
                                          stop=code_block_closed)
                for key, (text, limit) in calls.items()}
    recorder.close()
    assert [r.finish for r in recorded.values()] == [FinishReason.REPETITION, FinishReason.DONE, FinishReason.LENGTH]

    replay = ReplayChatModel(path)
    for key, reply in recorded.items():
        assert await replay.complete(key, [], 0.5) == reply
    for name in ("calls", "prompt_tokens", "completion_tokens", "estimated_tokens", "cut_done", "cut_repetition",
                 "cut_length", "largest_prompt_tokens"):
        assert getattr(replay.usage, name) == getattr(model.usage, name), name


@pytest.mark.parametrize("example", sorted((REPO / "examples").glob("*/*.replay.jsonl")), ids=lambda p: p.name)
async def test_the_examples_version_1_recordings_still_replay(example: Path) -> None:
    recording = Recording.load(example)
    assert recording.format == FORMAT_V1 and recording.exchanges
    replay = ReplayChatModel(example, recording=recording)
    for key, exchange in recording.exchanges.items():
        reply = await replay.complete(key, [], 0.7)
        assert reply.finish is FinishReason.STOP and exchange.reply is not None and reply.text == exchange.reply.text
    assert await replay.context_window() is None


def test_recorder_on_an_unwritable_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write the recording"):
        Recorder(tmp_path / "missing" / "run.jsonl", {})


def test_a_recorder_closed_before_a_straggler_ends_ignores_it(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "rec.jsonl", {})
    recorder.close()
    recorder.write(Exchange(key="late", cancelled=True))
    assert len((tmp_path / "rec.jsonl").read_text(encoding="utf-8").splitlines()) == 1


# -- replay -----------------------------------------------------------------------------------------


def _recording(path: Path, exchanges: dict[str, str]) -> Path:
    recorder = Recorder(path, {"model": "m"})
    for key, text in exchanges.items():
        reply = Reply(text=text, finish=FinishReason.STOP, prompt_tokens=10, completion_tokens=3)
        recorder.write(Exchange(key=key, messages=[{"role": "user", "content": key}], temperature=0.5, reply=reply))
    recorder.close()
    return path


async def test_replay_answers_by_key_without_a_server(tmp_path: Path) -> None:
    path = _recording(tmp_path / "rec.jsonl", {"r0/k0/s0/programmer#0": "code A", "r0/k0/s0/critic#0": "Score: 4"})
    model = ReplayChatModel(path)
    # the messages do not matter: the key decides
    critic = await model.complete("r0/k0/s0/critic#0", [{"role": "user", "content": "anything"}], 0.1)
    assert critic.text == "Score: 4"
    assert (await model.complete("r0/k0/s0/programmer#0", [], 0.9)).text == "code A"
    assert (model.usage.calls, model.usage.prompt_tokens, model.usage.completion_tokens) == (2, 20, 6)
    await model.close()


async def test_replay_of_an_unknown_key_is_an_input_error(tmp_path: Path) -> None:
    path = _recording(tmp_path / "rec.jsonl", {"r0/k0/s0/programmer#0": "code A"})
    model = ReplayChatModel(path)
    with pytest.raises(ReplayMissing) as info:
        await model.complete("r1/k0/s0/programmer#0", MESSAGES, 0.5)
    assert isinstance(info.value, InputError)
    assert info.value.exit_code == 2
    assert "r1/k0/s0/programmer#0" in str(info.value)
    assert info.value.path == path and info.value.hint


async def test_recorded_then_replayed_round_trip(scripted_model: ScriptedModel, make: MakeModel,
                                                 tmp_path: Path) -> None:
    scripted_model.on("say hello", "hi")
    path = tmp_path / "rec.jsonl"
    recorder = Recorder(path, {"note": "t"})
    await make(recorder=recorder).complete("r0/k1/s2/programmer#0", MESSAGES, 0.5)
    recorder.close()
    replay = ReplayChatModel(path)
    assert (await replay.complete("r0/k1/s2/programmer#0", MESSAGES, 0.5)).text == "hi"
    assert replay.recording is not None and replay.recording.header["note"] == "t"


async def test_a_hand_written_version_1_recording_replays(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    lines = [{"format": FORMAT_V1}, {"key": "a", "reply": "b", "usage": {"prompt_tokens": 0, "completion_tokens": 5}}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert await ReplayChatModel(path).complete("a", [], 0.0) == Reply(text="b", finish=FinishReason.STOP,
                                                                       prompt_tokens=0, completion_tokens=5)


def test_recording_without_the_format_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_text(json.dumps({"key": "k", "reply": "r"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="not an orps recording") as info:
        Recording.load(path)
    assert (info.value.path, info.value.line) == (path, 1)
    with pytest.raises(InputError, match="not an orps recording"):
        ReplayChatModel(path)


def test_empty_recording_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="not an orps recording"):
        Recording.load(path)


@pytest.mark.parametrize("version", [FORMAT_V1, FORMAT])
@pytest.mark.parametrize(("bad", "message"), [("{not json", "not a JSON line"), ("[1, 2]", "expected a JSON object"),
                                              ('{"key": "k"}', "needs a string"),
                                              ('{"key": 3, "reply": "r"}', "needs a string")])
def test_malformed_recording_lines_are_named(tmp_path: Path, bad: str, message: str, version: str) -> None:
    path = tmp_path / "rec.jsonl"
    good = json.dumps({"key": "a", "reply": "b"})
    path.write_text(f'{{"format": "{version}"}}\n{good}\n\n{bad}\n', encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        Recording.load(path)
    assert info.value.path == path and info.value.line == 4
    assert str(info.value).startswith(f"{path}:4: ")


@pytest.mark.parametrize("bad", ['{"key": "k", "reply": "r", "finish": "sideways"}',
                                 '{"key": "k", "error": {"kind": "bored", "message": "m"}}',
                                 '{"key": "k", "error": "m"}', '{"key": "k", "reply": "r", "error": {}}',
                                 '{"key": "k", "cancelled": false}', '{"context_window": "big"}'])
def test_malformed_version_2_exchanges_are_named(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_text(f'{{"format": "{FORMAT}"}}\n{bad}\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        Recording.load(path)
    assert info.value.line == 2


def test_missing_recording_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the recording"):
        Recording.load(tmp_path / "nope.jsonl")


# -- configuration errors ---------------------------------------------------------------------------


def test_no_model_is_an_input_error_with_a_hint() -> None:
    with pytest.raises(InputError, match="no model") as info:
        OpenAIChatModel(Settings(base_url="http://127.0.0.1:9/v1", api_key=KEY))
    assert info.value.hint is not None and "ORPS_MODEL" in info.value.hint
    assert info.value.exit_code == 2


def test_no_key_and_no_base_url_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no API key") as info:
        OpenAIChatModel(Settings(model="gpt-x"))
    assert info.value.hint is not None and "OPENAI_API_KEY" in info.value.hint


# -- the repetition rule (pure) -----------------------------------------------------------------------


LOOPS = {
    "a line": "def f(x):\n" + "    x = x + 1\n" * 120,
    "a block of lines": "Here:\n" + "if a:\n    b()\nelse:\n    c()\n" * 40,
    "part of a line, ending mid-unit": "values = [" + "0, " * 400 + "0",
    "a paragraph": "I think the answer is this. " + "The code is correct and it is fast enough for the tests. " * 20,
    "blank space": "x = 1" + " " * 1200,
    "a whole function": ("def g(n):\n    total = 0\n    for i in range(n):\n        total += i * i\n    return total\n"
                         "\n" + "# " + "-" * 40 + "\n") * 12,
}

BOARD = "board = [\n" + "    [0, 0, 0, 0, 0, 0, 0, 0],\n" * 8 + "]\n"
STUBS = "".join(f"class E{i}(Exception):\n    pass\n\n\n" for i in range(40))
NESTED = "function f() {\n" + "".join("  " * i + "if (x) {\n" for i in range(12)) \
    + "".join("  " * i + "}\n" for i in reversed(range(12))) + "}\n"
TABLE = "PRIMES = [\n" + "".join(f"    {p},\n" for p in range(2, 3000, 7)) + "]\n"
CASES = "".join(f"    case {i}:\n        return handle_{i}(x)\n" for i in range(60))
SEPARATORS = ("# " + "=" * 78 + "\n" + "def f():\n    pass\n\n") * 10
ASSERTS = "".join(f"    assert solve({i}) == {i * i}\n" for i in range(80))
PADDING = "\n".join(["x = 1", "", "", "", "", "", "y = 2", *[""] * 20, "z = 3"])

NORMAL = {"an 8x8 board literal": BOARD, "forty exception stubs": STUBS, "nested closing braces": NESTED,
          "a long table of distinct numbers": TABLE, "a switch on sixty cases": CASES,
          "separator comments": SEPARATORS, "eighty similar asserts": ASSERTS, "blank lines": PADDING,
          "the client's own source": (REPO / "orps_engine/model/client.py").read_text(encoding="utf-8")}


@pytest.mark.parametrize("name", list(LOOPS))
def test_a_loop_is_found(name: str) -> None:
    assert repeating(LOOPS[name])


@pytest.mark.parametrize("name", list(NORMAL))
def test_normal_code_is_never_cut(name: str) -> None:
    text = f"A faster version:\n\n```python\n{NORMAL[name]}```\n"
    assert not any(repeating(text[:end]) for end in range(1, len(text) + 1, 7))


def test_a_short_repeat_is_not_a_loop_yet() -> None:
    assert not repeating("    x = x + 1\n" * 10)  # 140 characters: below the span
    assert not repeating("")


# -- the servers' context messages (pure) -------------------------------------------------------------


CONTEXT_MESSAGES: list[tuple[str, str, dict[str, Any] | None, int | None]] = [
    ("llama-cpp-python", "This model's maximum context length is 1024 tokens. However, you requested 1180 tokens "
     "(1052 in the messages, 128 in the completion). Please reduce the length of the messages or completion.",
     {"code": "context_length_exceeded", "type": "invalid_request_error"}, 1024),
    ("llama-cpp-python, raw", "Requested tokens (2047) exceed context window of 1024", None, 1024),
    ("llama.cpp server", "the request exceeds the available context size, try increasing it",
     {"code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 1500, "n_ctx": 1024}, 1024),
    ("llama.cpp server, older", "the request exceeds the available context size. try increasing the context size "
     "or enable context shift", None, None),
    ("vLLM", "This model's maximum context length is 2048 tokens. However, you requested 2100 tokens (2000 in the "
     "messages, 100 in the completion). Please reduce the length of the messages or completion.", None, 2048),
    ("vLLM, max_tokens", "'max_tokens' or 'max_completion_tokens' is too large: 1000. This model's maximum context "
     "length is 2048 tokens and your request has 1500 input tokens (1000 > 2048 - 1500).", None, 2048),
    ("vLLM, prompt", "The decoder prompt (length 3000) is longer than the maximum model length of 2048. Make sure "
     "that `max_model_len` is no smaller than the number of text tokens.", None, 2048),
    ("vLLM, input", "Input prompt (3000 tokens) is too long and exceeds limit of 2048", None, 2048),
    ("OpenAI", "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. "
     "Please reduce the length of the messages.", {"code": "context_length_exceeded"}, 8192),
    ("OpenAI, newer", "Your input exceeds the context window of this model. Please adjust your input and try again.",
     {"code": "context_length_exceeded"}, None),
    ("Groq", "Please reduce the length of the messages or completion.", {"code": "context_length_exceeded"}, None),
    ("TGI", "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens "
     "and 200 `max_new_tokens`", None, 4096),
    ("LM Studio", "Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded "
     "with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context "
     "length, or provide a shorter input", None, 4096),
    ("Mistral", "Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context "
     "length", None, 32768),
    ("SGLang", "The input (3000 tokens) is longer than the model's context length (2048 tokens).", None, 2048),
    ("Anthropic, through a proxy", "prompt is too long: 210000 tokens > 200000 maximum", None, 200000),
    ("Ollama", "prompt too long; exceeded max context length by 100 tokens", None, None),
]
OTHER_MESSAGES = ["scripted fault: HTTP 400", "The model `gpt-x` does not exist or you do not have access to it.",
                  "Invalid value for 'temperature': must be between 0 and 2.", "max_tokens must be at least 1",
                  "Unrecognized request argument supplied: stream_options",
                  "stream=true is not supported by the scripted model", "Incorrect API key provided: sk-***"]


@pytest.mark.parametrize(("server", "message", "body", "window"), CONTEXT_MESSAGES,
                         ids=[c[0] for c in CONTEXT_MESSAGES])
def test_context_refusals_are_recognised_with_their_window(server: str, message: str, body: dict[str, Any] | None,
                                                           window: int | None) -> None:
    error_body = {"message": message, **(body or {})}
    assert is_context_error(message, error_body)
    assert window_in_error(message, error_body) == window
    assert window_in_error(message, {"error": error_body}) == window  # the body as sent, or as the client unwraps it


@pytest.mark.parametrize("message", OTHER_MESSAGES)
def test_other_refusals_are_not_context_errors(message: str) -> None:
    assert not is_context_error(message, {"message": message, "code": None})


@pytest.mark.parametrize(("entry", "expected"), [
    ({"id": MODEL_NAME, "max_model_len": 4096}, (4096, True)),  # vLLM
    ({"id": MODEL_NAME, "loaded_context_length": 8192, "max_context_length": 32768}, (8192, True)),  # LM Studio
    ({"id": MODEL_NAME, "context_window": 131072}, (131072, True)),  # Groq
    ({"id": MODEL_NAME, "top_provider": {"context_length": 65536}}, (65536, True)),  # OpenRouter
    ({"id": MODEL_NAME, "meta": {"n_ctx_train": 8192}}, (8192, False)),  # llama.cpp: only the trained window
    ({"id": MODEL_NAME, "owned_by": "me"}, (None, False)),  # llama-cpp-python, Ollama, OpenAI
])
def test_windows_in_model_lists(entry: dict[str, Any], expected: tuple[int | None, bool]) -> None:
    assert window_in_models({"object": "list", "data": [entry]}, MODEL_NAME) == expected


def test_a_model_list_with_several_models_is_read_for_the_one_named() -> None:
    data = {"data": [{"id": "a", "max_model_len": 1000}, {"id": "b", "max_model_len": 2000}]}
    assert window_in_models(data, "b") == (2000, True)
    assert window_in_models(data, "c") == (None, False)
    assert window_in_models("not a list", "a") == (None, False)
    assert window_in_props({"n_ctx": 4096}) == 4096 and window_in_props([]) is None


# -- the limiter (pure) ---------------------------------------------------------------------------------


async def test_a_burst_of_429s_halves_the_limit_once() -> None:
    limiter = Limiter(8)
    tickets = [await limiter.acquire() for _ in range(8)]
    for ticket in tickets:
        limiter.release(ticket, Outcome.CONGESTED)
    assert limiter.limit == 4  # not 4, 2, 1, 1, ...
    ticket = await limiter.acquire()
    limiter.release(ticket, Outcome.CONGESTED)  # a call started after the decrease: a new sign
    assert limiter.limit == 1  # min(4, 1 in flight) // 2, at least 1


async def test_slow_start_doubles_per_round_trip_until_the_first_congestion() -> None:
    limiter = Limiter(4 * INITIAL_LIMIT + 1)
    assert limiter.limit == INITIAL_LIMIT  # not the ceiling: a new endpoint is not flooded
    for limit in (2 * INITIAL_LIMIT, 4 * INITIAL_LIMIT):
        tickets = [await limiter.acquire() for _ in range(limiter.limit)]
        for ticket in tickets:
            limiter.release(ticket, Outcome.OK)
        assert limiter.limit == limit  # one more per success: twice as many each round trip
    limiter.limit = 32  # from here on, plain numbers
    tickets = [await limiter.acquire() for _ in range(32)]
    limiter.release(tickets[0], Outcome.CONGESTED)
    assert (limiter.limit, limiter.slow_start) == (16, False)
    for ticket in tickets[1:17]:
        limiter.release(ticket, Outcome.OK)  # calls of before the decrease: they say nothing new
    for _ in range(31):
        ticket = await limiter.acquire()
        limiter.release(ticket, Outcome.OK)
    assert limiter.limit == 16  # additive now: one more only after 2 x 16 successes
    ticket = await limiter.acquire()
    limiter.release(ticket, Outcome.OK)
    assert limiter.limit == 17


async def test_the_limit_grows_by_one_after_twice_its_size_in_successes() -> None:
    limiter = Limiter(4, limit=2, slow_start=False)
    for expected in (2, 2, 2, 3):
        ticket = await limiter.acquire()
        limiter.release(ticket, Outcome.OK)
        assert limiter.limit == expected
    for _ in range(6 + 8):
        ticket = await limiter.acquire()
        limiter.release(ticket, Outcome.OK)
    assert limiter.limit == 4  # never above the ceiling


async def test_waiting_callers_get_slots_in_order_and_a_cancelled_one_leaks_none() -> None:
    limiter = Limiter(1)
    first = await limiter.acquire()
    second = asyncio.ensure_future(limiter.acquire())
    third = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)
    second.cancel()
    await asyncio.sleep(0)
    limiter.release(first, Outcome.FAILED)
    ticket = await asyncio.wait_for(third, 1)
    assert limiter.in_flight == 1
    limiter.release(ticket, Outcome.OK)
    assert limiter.in_flight == 0


async def test_the_server_s_slots_cap_the_limit() -> None:
    limiter = Limiter(8)
    limiter.cap(2)
    assert (limiter.limit, limiter.ceiling) == (2, 2)
