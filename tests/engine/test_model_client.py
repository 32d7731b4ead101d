"""The model client against a real local OpenAI-compatible server (the scripted model): replies,
usage, retries, giving up, the cap on calls in flight, and record/replay. The openai client is
never patched."""

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
from orps_engine.model import ModelError, OpenAIChatModel, Recorder, Recording, ReplayChatModel, ReplayMissing
from orps_engine.model.record import FORMAT
from tests.fixtures.scripted_model import MODEL_NAME, ScriptedModel

KEY = "sk-test-SENTINEL-123"
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "say hello please"}]

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


# -- answers and usage ------------------------------------------------------------------------------


async def test_returns_the_reply_and_accounts_usage(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.on("say hello", "hello there, friend")
    model = make()
    text = await model.complete("r0/k0/s0/programmer#0", MESSAGES, 0.3)
    assert text == "hello there, friend"
    usage = model.usage
    assert (usage.calls, usage.retries, usage.failed_calls) == (1, 0, 0)
    assert usage.prompt_tokens == len("You are terse.\nsay hello please".split())
    assert usage.completion_tokens == 3
    assert usage.wall_s > 0
    [body] = scripted_model.requests
    assert body["model"] == MODEL_NAME and body["messages"] == MESSAGES and body["temperature"] == 0.3
    assert not body.get("stream")

    await model.complete("r0/k0/s1/programmer#0", MESSAGES, 0.3)
    assert model.usage.calls == 2
    assert model.usage.completion_tokens == 6


async def test_empty_content_is_an_empty_string(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("")
    assert await make().complete("k", MESSAGES, 0.0) == ""


async def test_local_server_needs_no_key(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("ok")
    model = make(api_key=None)
    assert await model.complete("k", MESSAGES, 0.0) == "ok"


# -- retries ----------------------------------------------------------------------------------------


FAULTS: dict[str, Callable[[ScriptedModel], Any]] = {
    "429": lambda m: m.fail(429, times=2, retry_after=0),
    "500": lambda m: m.fail(500, times=2, retry_after=0),
    "503": lambda m: m.fail(503, times=1, retry_after=0),
    "garbage-json": lambda m: m.garbage(times=1),
    "garbage-html": lambda m: m.garbage(times=1, content_type="text/html"),
    "disconnect": lambda m: m.disconnect(times=1),
    "timeout": lambda m: m.hang(5.0, times=1),
}
FAULT_COUNT = {"429": 2, "500": 2}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_transient_failures_are_retried_then_succeed(scripted_model: ScriptedModel, make: MakeModel,
                                                            fault: str) -> None:
    scripted_model.default("finally")
    FAULTS[fault](scripted_model)
    model = make(timeout_s=1.0 if fault == "timeout" else 10.0)
    assert await model.complete("r0/k0/s0/critic#0", MESSAGES, 0.5) == "finally"
    failures = FAULT_COUNT.get(fault, 1)
    assert scripted_model.calls() == failures + 1
    assert model.usage.retries == failures
    assert (model.usage.calls, model.usage.failed_calls) == (1, 0)


async def test_retry_after_is_honoured(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("ok")
    scripted_model.fail(429, times=1, retry_after=0.4)
    model = make()
    started = time.perf_counter()
    assert await model.complete("k", MESSAGES, 0.0) == "ok"
    assert time.perf_counter() - started >= 0.35


async def test_gives_up_after_max_retries(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("never seen")
    scripted_model.fail(500, times=50, retry_after=0)
    model = make(max_retries=2)
    with pytest.raises(ModelError) as info:
        await model.complete("k", MESSAGES, 0.0)
    assert info.value.retryable is True
    assert "500" in str(info.value) and "after 3 attempts" in str(info.value)
    assert scripted_model.calls() == 3
    assert (model.usage.calls, model.usage.failed_calls, model.usage.retries) == (0, 1, 2)


async def test_no_retries_means_one_attempt(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("never seen")
    scripted_model.fail(429, times=5, retry_after=0)
    with pytest.raises(ModelError) as info:
        await make(max_retries=0).complete("k", MESSAGES, 0.0)
    assert info.value.retryable
    assert scripted_model.calls() == 1


async def test_a_dead_server_is_retryable(scripted_model: ScriptedModel, make: MakeModel) -> None:
    model = make(max_retries=0)
    scripted_model.close()  # the port now refuses connections
    with pytest.raises(ModelError, match="cannot connect") as info:
        await model.complete("k", MESSAGES, 0.0)
    assert info.value.retryable


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_not_retried(scripted_model: ScriptedModel, make: MakeModel, status: int) -> None:
    scripted_model.default("never seen")
    scripted_model.fail(status, times=5)
    model = make()
    with pytest.raises(ModelError) as info:
        await model.complete("k", MESSAGES, 0.0)
    assert info.value.retryable is False
    assert f"HTTP {status}" in str(info.value) and "scripted fault" in str(info.value)
    assert KEY not in str(info.value)
    assert scripted_model.calls() == 1
    assert (model.usage.retries, model.usage.failed_calls) == (0, 1)


# -- calls in flight --------------------------------------------------------------------------------


async def test_max_in_flight_bounds_concurrency(scripted_model: ScriptedModel, make: MakeModel) -> None:
    scripted_model.default("ok")
    scripted_model.latency_s = 0.2
    capped = make(max_in_flight=2)
    started = time.perf_counter()
    replies = await asyncio.gather(*(capped.complete(f"k{i}", MESSAGES, 0.0) for i in range(6)))
    capped_s = time.perf_counter() - started
    assert replies == ["ok"] * 6
    assert capped_s >= 0.5  # three waves of 0.2 s

    wide = make(max_in_flight=6)
    started = time.perf_counter()
    await asyncio.gather(*(wide.complete(f"w{i}", MESSAGES, 0.0) for i in range(6)))
    wide_s = time.perf_counter() - started
    assert wide_s < capped_s
    assert wide_s < 1.0  # one wave, with generous room for a slow machine


# -- recording --------------------------------------------------------------------------------------


async def test_recorder_writes_a_header_and_each_exchange_without_the_key(
        scripted_model: ScriptedModel, make: MakeModel, tmp_path: Path) -> None:
    scripted_model.on("first", "reply one")
    scripted_model.on("second", "reply two")
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, {"model": MODEL_NAME, "settings": {"samples": 4}})
    model = make(recorder=recorder)
    await model.complete("r0/k0/s0/programmer#0", [{"role": "user", "content": "first"}], 0.7)
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
    assert first["reply"] == "reply one" and first["temperature"] == 0.7
    assert first["usage"] == {"prompt_tokens": 1, "completion_tokens": 2}
    assert (second["key"], second["reply"]) == ("r0/k0/s0/critic#0", "reply two")


async def test_failed_calls_are_not_recorded(scripted_model: ScriptedModel, make: MakeModel, tmp_path: Path) -> None:
    scripted_model.fail(401)
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, {})
    with pytest.raises(ModelError):
        await make(recorder=recorder).complete("k", MESSAGES, 0.0)
    recorder.close()
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1


def test_recorder_on_an_unwritable_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write the recording"):
        Recorder(tmp_path / "missing" / "run.jsonl", {})


# -- replay -----------------------------------------------------------------------------------------


def _recording(path: Path, exchanges: dict[str, str]) -> Path:
    recorder = Recorder(path, {"model": "m"})
    for key, reply in exchanges.items():
        recorder.write(key, [{"role": "user", "content": key}], 0.5, reply, 10, 3)
    recorder.close()
    return path


async def test_replay_answers_by_key_without_a_server(tmp_path: Path) -> None:
    path = _recording(tmp_path / "rec.jsonl", {"r0/k0/s0/programmer#0": "code A", "r0/k0/s0/critic#0": "Score: 4"})
    model = ReplayChatModel(path)
    # the messages do not matter: the key decides
    assert await model.complete("r0/k0/s0/critic#0", [{"role": "user", "content": "anything"}], 0.1) == "Score: 4"
    assert await model.complete("r0/k0/s0/programmer#0", [], 0.9) == "code A"
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
    assert await replay.complete("r0/k1/s2/programmer#0", MESSAGES, 0.5) == "hi"
    assert replay.recording is not None and replay.recording.header["note"] == "t"


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


@pytest.mark.parametrize(("bad", "message"), [("{not json", "not a JSON line"), ("[1, 2]", "expected a JSON object"),
                                              ('{"key": "k"}', "needs a string"),
                                              ('{"key": 3, "reply": "r"}', "needs a string")])
def test_malformed_recording_lines_are_named(tmp_path: Path, bad: str, message: str) -> None:
    path = tmp_path / "rec.jsonl"
    good = json.dumps({"key": "a", "reply": "b"})
    path.write_text(f'{{"format": "{FORMAT}"}}\n{good}\n\n{bad}\n', encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        Recording.load(path)
    assert info.value.path == path and info.value.line == 4
    assert str(info.value).startswith(f"{path}:4: ")


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
