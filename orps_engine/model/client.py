"""The model client: ``openai.AsyncOpenAI`` against any compatible server, with our own retries,
an adaptive limit on calls in flight, and usage accounting. It knows no prompts and no sandbox.

Each call carries a *key* naming its place in the search (``r1/k0/s2/programmer#0``); the
recorder writes it with the exchange, and a replay answers by it, so a replay does not depend
on prompt text that embeds measured timings.

Why the client streams: a small model can loop until its context is full (minutes on a CPU
server), and a server finishes what it has started. Streaming lets the client stop reading once
the caller's ``stop`` rule says the answer is there (``FinishReason.DONE``) or the reply repeats
itself (``REPETITION``, see ``repetition``); closing the stream closes the connection, and a
server that notices disconnects stops generating. ``max_tokens`` caps the rest (``LENGTH``).
A server that refuses streaming gets plain requests for the rest of the run.

A stream that ends with no finish reason while another call was in flight was interrupted:
llama-cpp-python's server (``interrupt_requests``, on by default) ends the reply it is generating,
with ``[DONE]`` and nothing more, when another request waits for it. Such a reply is not an answer;
it is retried without spending ``max_retries``, and the limiter drops to one call at a time. A
stream without a finish reason and with no company is taken as finished (some proxies drop it).

A stream that breaks before any text (it ends before its first chunk, or the connection drops) is
asked again as a plain request: llama-cpp-python answers a streamed prompt too long for its context
with an empty stream or a dropped connection, but a plain request with the OpenAI-style context
error, which names the window.

Timeouts are on inactivity: a streamed call fails when no chunk came for ``timeout_s``, however
long a live reply takes. A timed-out call is retried once at most: on a server that generates one
reply at a time, the abandoned generation may still hold it, and more retries only queue behind.

Failures are typed (``ModelErrorKind``); a refusal for length is ``CONTEXT`` and names the
window when the server did, and is never retried as it is. The window itself comes from the
``context_window`` setting, else from such an error, else from the server (its model list, or
llama.cpp's ``/props``), asked once. How many calls are in flight is adapted to the server: see
``limiter``.

Token counts are the server's where it sent them (the last chunk of a stream, when asked with
``stream_options.include_usage``); a reply cut short never gets them, and then the usage counts
one token per streamed chunk (servers send about one) and a prompt's characters / 3.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import openai

from ..config import NO_MODEL_HINT, Settings
from ..errors import InputError
from .context import is_context_error, slots_in_props, window_in_error, window_in_models, window_in_props
from .interface import ChatModel, FinishReason, Message, ModelError, ModelErrorKind, Reply, StopRule, Usage
from .limiter import Limiter, Outcome, Ticket
from .record import Exchange, RecordedError, Recorder
from .repetition import repeating

__all__ = ["ChatModel", "FinishReason", "Message", "ModelError", "ModelErrorKind", "OpenAIChatModel", "Reply",
           "StopRule", "Usage"]

log = logging.getLogger(__name__)

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "sk-no-key-required"  # local servers (vLLM, Ollama, llama.cpp) ignore the key
CHARS_PER_TOKEN = 3  # for the usage's estimates only
REPETITION_CHECK_CHARS = 64  # look for a loop each time this much more text has come in
TIMEOUT_ATTEMPTS = 2  # a call that timed out is tried once more at most
FREE_CONGESTION_RETRIES = 16  # 429s with other calls in flight retried without spending max_retries
PROBE_TIMEOUT_S = 10.0
CONTEXT_HINT = ("serve the model with a larger context (llama.cpp: -c / --ctx-size; llama-cpp-python: --n_ctx; "
                "vLLM: --max-model-len), or lower max_tokens or prompt_budget")
TIMEOUT_HINT = "raise timeout_s (--timeout), or lower max_tokens or max_in_flight"
_FINISH = {"stop": FinishReason.STOP, "length": FinishReason.LENGTH}
_OUTCOMES = {ModelErrorKind.RATE_LIMITED: Outcome.CONGESTED, ModelErrorKind.TIMEOUT: Outcome.CONGESTED,
             ModelErrorKind.INTERRUPTED: Outcome.INTERRUPTED}


class _Failed(Exception):
    """One attempt failed; the retry loop decides what becomes of the call."""

    def __init__(self, message: str, kind: ModelErrorKind, retryable: bool, *, cause: Exception | None = None,
                 partial: str = "", context_window: int | None = None) -> None:
        super().__init__(message)
        self.message, self.kind, self.retryable, self.cause = message, kind, retryable, cause
        self.partial, self.context_window = partial, context_window


class _StreamRefused(Exception):
    """The server will not stream (``options`` True: it only refuses ``stream_options``)."""

    def __init__(self, options: bool) -> None:
        super().__init__("streaming refused")
        self.options = options


class _EmptyStream(Exception):
    """The server opened a stream and ended it before its first chunk."""


@dataclass
class _Call:
    key: str
    messages: list[Message]
    temperature: float
    max_tokens: int | None
    stop: StopRule | None
    partial: str = ""  # what the current attempt has streamed so far
    attempts: int = 0
    plain: bool = False  # a stream of this call broke: its next attempts are plain requests

    @property
    def prompt_chars(self) -> int:
        return sum(len(m.get("content", "")) for m in self.messages)


@dataclass(frozen=True, slots=True)
class _Piece:
    """What one streamed chunk carries, read from its JSON (any field of the wrong type is absent)."""

    content: str = ""
    finish: str | None = None
    counts: tuple[int | None, int | None] | None = None  # (prompt, completion) tokens, in a usage chunk

    @staticmethod
    def of(chunk: object) -> _Piece:
        if not isinstance(chunk, dict):
            raise ValueError("a streamed chunk is not a JSON object")
        usage = chunk.get("usage")
        counts = (_int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))) \
            if isinstance(usage, dict) else None
        choices = chunk.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
        delta = choice.get("delta")
        content = delta.get("content") if isinstance(delta, dict) else None
        finish = choice.get("finish_reason")
        return _Piece(content=content if isinstance(content, str) else "",
                      finish=finish if isinstance(finish, str) else None, counts=counts)


@dataclass
class _Reading:
    """A streamed reply as its chunks come in, and whether the caller's rules cut it."""

    call: _Call
    first_text: Callable[[], None]  # the limiter hears of the first chunk with text
    text: str = ""
    chunks: int = 0
    pieces_in: int = 0  # chunks with text
    checked: int = 0  # how much of the text the repetition check has seen
    finish: FinishReason | None = None  # set where the client cut the reply
    server_finish: str | None = None
    counts: tuple[int | None, int | None] = (None, None)

    def take(self, chunk: object) -> bool:
        """One chunk in; True when the reply is cut here."""
        self.chunks += 1
        piece = _Piece.of(chunk)
        if piece.counts is not None:
            self.counts = piece.counts
        self.server_finish = piece.finish or self.server_finish
        if not piece.content:
            return False
        if not self.text:
            self.first_text()
        self.pieces_in += 1
        self.text += piece.content
        self.call.partial = self.text
        stop = self.call.stop
        if stop is not None and stop(self.text):
            self.finish = FinishReason.DONE
        elif len(self.text) - self.checked >= REPETITION_CHECK_CHARS:
            self.checked = len(self.text)
            if repeating(self.text):
                self.finish = FinishReason.REPETITION
        return self.finish is not None


async def _read(pieces: AsyncIterator[object], take: Callable[[object], bool], seconds: float) -> None:
    """Feed the stream's chunks to ``take`` until it or the stream ends; TimeoutError after
    ``seconds`` with no chunk. From Python 3.11 one deadline is pushed back per chunk: a
    ``wait_for`` per chunk makes a task per chunk, about a third of a streamed call's CPU."""
    if sys.version_info >= (3, 11):
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(seconds) as deadline:
            async for chunk in pieces:
                if take(chunk):
                    return
                deadline.reschedule(loop.time() + seconds)
        return
    while True:
        try:
            chunk = await asyncio.wait_for(pieces.__anext__(), seconds)
        except StopAsyncIteration:
            return
        if take(chunk):
            return


@dataclass
class OpenAIChatModel:
    """A real model behind an OpenAI-compatible endpoint."""

    settings: Settings
    recorder: Recorder | None = None
    usage: Usage = field(default_factory=Usage)

    def __post_init__(self) -> None:
        if not self.settings.model:
            raise InputError("no model is set", hint=NO_MODEL_HINT)
        api_key = self.settings.api_key or (NO_KEY if self.settings.base_url else None)
        if api_key is None:
            raise InputError("no API key for the OpenAI API",
                             hint="set OPENAI_API_KEY, or point --base-url at a local server that needs none")
        self._base_url = self.settings.base_url or OPENAI_DEFAULT_BASE_URL
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=self._base_url, timeout=self.settings.timeout_s,
                                          max_retries=0)
        self._limiter = Limiter(self.settings.max_in_flight)
        self.usage.in_flight_limit = self._limiter.limit
        self._stream = True  # until the server refuses it
        self._stream_usage = True  # stream_options.include_usage, until the server refuses it
        self._served_window: int | None = None  # what the server's model list or /props said
        self._learned_window: int | None = None  # what a context error said
        self._probed = False
        self._probe_lock = asyncio.Lock()

    # -- calls ------------------------------------------------------------------------------------

    async def complete(self, key: str, messages: list[Message], temperature: float, *,
                       max_tokens: int | None = None, stop: StopRule | None = None) -> Reply:
        call = _Call(key, messages, temperature, max_tokens, stop)
        started = time.perf_counter()
        try:
            reply, estimate = await self._with_retries(call)
        except ModelError as exc:
            ended = time.perf_counter()
            self.usage.fail(ended - started)
            self.usage.span(started, ended)
            self._record(call, ended - started, error=exc)
            if exc.kind is ModelErrorKind.CONTEXT and exc.context_window is not None:
                self._learn_window(exc.context_window)
            raise
        except asyncio.CancelledError:
            ended = time.perf_counter()
            self.usage.span(started, ended)
            self._record(call, ended - started, cancelled=True)
            raise
        ended = time.perf_counter()
        estimate = (estimate[0] if reply.prompt_tokens is None else 0,
                    estimate[1] if reply.completion_tokens is None else 0)
        self.usage.add(reply, ended - started, estimate=estimate)
        self.usage.span(started, ended)
        self._record(call, ended - started, reply=reply, estimate=estimate)
        return reply

    async def _with_retries(self, call: _Call) -> tuple[Reply, tuple[int, int]]:
        retries_left, timeouts, free = self.settings.max_retries, 0, 0
        while True:
            call.attempts += 1
            call.partial = ""
            ticket = await self._limiter.acquire()
            try:
                result = await self._attempt(call, ticket)
            except _Failed as failure:
                self._release(ticket, _OUTCOMES.get(failure.kind, Outcome.FAILED))
                if not failure.retryable:
                    raise self._error(call, failure) from None
                if failure.kind is ModelErrorKind.RATE_LIMITED and ticket.others and free < FREE_CONGESTION_RETRIES:
                    free += 1  # congestion, not a spent quota: the call is not lost to it
                elif failure.kind is ModelErrorKind.INTERRUPTED and free < FREE_CONGESTION_RETRIES:
                    free += 1  # the server cut it for another call; from now on calls go one at a time
                elif failure.kind is ModelErrorKind.TIMEOUT:
                    timeouts += 1
                    if retries_left == 0 or timeouts >= TIMEOUT_ATTEMPTS:
                        raise self._error(call, failure, timeouts=timeouts) from None
                    retries_left -= 1
                elif retries_left == 0:
                    raise self._error(call, failure) from None
                else:
                    retries_left -= 1
                self.usage.retries += 1
                delay = _backoff(failure.cause, call.attempts - 1)
                log.info("model call %s failed (%s); retrying in %.1f s", call.key, failure.message, delay)
                await asyncio.sleep(delay)
                continue
            except BaseException:
                self._release(ticket, Outcome.FAILED)
                raise
            self._release(ticket, Outcome.OK)
            return result

    def _release(self, ticket: Ticket, outcome: Outcome) -> None:
        self._limiter.release(ticket, outcome)
        self.usage.in_flight_limit = self._limiter.limit

    def _error(self, call: _Call, failure: _Failed, *, timeouts: int = 0) -> ModelError:
        attempts = f"after {call.attempts} attempt{'s' if call.attempts != 1 else ''}"
        message, hint = failure.message, None
        if failure.kind is ModelErrorKind.CONTEXT:
            hint = CONTEXT_HINT
        elif failure.kind is ModelErrorKind.TIMEOUT:
            hint = TIMEOUT_HINT
            if timeouts > 1:
                message += (f", twice ({attempts}; the first attempt was abandoned, and a server that generates one "
                            "reply at a time may have gone on generating it while the retry waited)")
            else:
                message += f" ({attempts})"
        elif failure.retryable:
            message += f" ({attempts})"
        return ModelError(message, kind=failure.kind, retryable=failure.retryable,
                          context_window=failure.context_window, partial=failure.partial, attempts=call.attempts,
                          hint=hint)

    async def _attempt(self, call: _Call, ticket: Ticket) -> tuple[Reply, tuple[int, int]]:
        while self._stream and not call.plain:
            try:
                return await self._streamed(call, ticket)
            except _EmptyStream:
                log.info("model call %s: the server ended its stream before the first chunk; asking again without "
                         "streaming, which returns the server's own error or answer", call.key)
                call.plain = True
            except _StreamRefused as refused:
                if refused.options and self._stream_usage:
                    log.info("the model's server refuses stream_options; streaming without")
                    self._stream_usage = False
                else:
                    log.warning("the model's server refuses streaming: plain requests from now on (a runaway reply "
                                "cannot be cut, only capped by max_tokens)")
                    self._stream = False
        return await self._plain(call)

    def _request(self, call: _Call) -> dict[str, Any]:
        request: dict[str, Any] = {"model": str(self.settings.model), "messages": call.messages,
                                   "temperature": call.temperature}
        if call.max_tokens is not None:
            request["max_tokens"] = call.max_tokens
        return request

    async def _streamed(self, call: _Call, ticket: Ticket) -> tuple[Reply, tuple[int, int]]:
        request = self._request(call)
        request["stream"] = True
        if self._stream_usage:
            request["stream_options"] = {"include_usage": True}
        try:  # chunks as plain JSON: openai's models cost about 0.3 ms of CPU a chunk, a token
            stream = await self._client.post("/chat/completions", cast_to=object, body=request, stream=True,
                                             stream_cls=openai.AsyncStream[object])
        except (openai.APIError, ValueError) as exc:
            raise self._failed(exc, refusable=True) from None
        reading = _Reading(call, lambda: self._limiter.streaming(ticket))
        async with stream:
            content_type = stream.response.headers.get("content-type", "").lower()
            if "json" in content_type:  # a proxy that answers a stream request with a plain completion
                return self._plain_from_body(call, await stream.response.aread())
            if "html" in content_type:
                raise _Failed("the model's server sent a malformed answer (HTML, not a stream)",
                              ModelErrorKind.MALFORMED, True)
            pieces = cast(AsyncGenerator[object, None], stream.__aiter__())  # an async generator, closed below
            try:
                await _read(pieces, reading.take, self.settings.timeout_s)
            except asyncio.TimeoutError:
                raise _Failed(f"the model sent nothing for {self.settings.timeout_s:g} s",
                              ModelErrorKind.TIMEOUT, True, partial=reading.text) from None
            except (openai.APIError, ValueError) as exc:  # the connection dropped, an error chunk, a bad chunk
                call.plain = call.plain or not reading.text  # broken before any text: a plain answer says why
                raise self._failed(exc, partial=reading.text) from None
            finally:
                await pieces.aclose()
        if reading.chunks == 0:
            raise _EmptyStream()
        counts, finish = reading.counts, reading.finish
        if finish is not None:  # cut: the server's final counts never came
            counts = (None, None)
        elif reading.server_finish is None and ticket.company:
            raise _Failed("the model's server ended a reply unfinished (no finish reason) while another call was in "
                          "flight: it serves one reply at a time and interrupts it for the next request",
                          ModelErrorKind.INTERRUPTED, True, partial=reading.text)
        else:
            finish = _FINISH.get(reading.server_finish or "stop", FinishReason.STOP)
        reply = Reply(text=reading.text, finish=finish, prompt_tokens=counts[0], completion_tokens=counts[1])
        return reply, (_estimate(call.prompt_chars), reading.pieces_in)  # about one token per chunk

    async def _plain(self, call: _Call) -> tuple[Reply, tuple[int, int]]:
        try:
            response = await self._client.chat.completions.create(**self._request(call))
        except (openai.APIError, ValueError) as exc:
            raise self._failed(exc) from None
        if not hasattr(response, "choices"):  # a body that is not a chat completion at all
            raise _Failed("the model's server sent a malformed answer", ModelErrorKind.MALFORMED, True)
        choices = response.choices or []
        text = (choices[0].message.content or "") if choices else ""
        finish = _FINISH.get((choices[0].finish_reason or "stop") if choices else "stop", FinishReason.STOP)
        usage = response.usage
        reply = Reply(text=text, finish=finish, prompt_tokens=_int(getattr(usage, "prompt_tokens", None)),
                      completion_tokens=_int(getattr(usage, "completion_tokens", None)))
        return reply, (_estimate(call.prompt_chars), _estimate(len(text)))

    def _plain_from_body(self, call: _Call, body: bytes) -> tuple[Reply, tuple[int, int]]:
        try:
            data = json.loads(body)
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
            if not isinstance(text, str):
                raise TypeError("content is not text")
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Failed("the model's server sent a malformed answer", ModelErrorKind.MALFORMED, True) from None
        log.warning("the model's server answers stream requests with plain completions: plain requests from now on")
        self._stream = False
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        finish = _FINISH.get(str(choice.get("finish_reason") or "stop"), FinishReason.STOP)
        reply = Reply(text=text, finish=finish, prompt_tokens=_int(usage.get("prompt_tokens")),
                      completion_tokens=_int(usage.get("completion_tokens")))
        return reply, (_estimate(call.prompt_chars), _estimate(len(text)))

    def _failed(self, exc: Exception, *, partial: str = "", refusable: bool = False) -> _Failed:
        """What an exception from the openai client means for the call."""
        if isinstance(exc, openai.APITimeoutError):
            return _Failed(f"the model sent nothing for {self.settings.timeout_s:g} s", ModelErrorKind.TIMEOUT, True,
                           cause=exc, partial=partial)
        if isinstance(exc, openai.APIConnectionError):
            what = "the connection to the model's server dropped" if partial else "cannot connect to the model's server"
            return _Failed(what, ModelErrorKind.UNREACHABLE, True, cause=exc, partial=partial)
        if isinstance(exc, openai.APIStatusError):
            status, message = exc.status_code, _server_message(exc)
            said = f"the model's server answered HTTP {status}" + (f": {message[:300]}" if message else "")
            if is_context_error(message, exc.body):
                window = window_in_error(message, exc.body)
                what = f"the prompt does not fit the model's context window{f' of {window} tokens' if window else ''}"
                return _Failed(f"{what} ({said})", ModelErrorKind.CONTEXT, False, cause=exc, context_window=window)
            if refusable and status in (400, 404, 405, 415, 422, 501) and "stream" in message.lower():
                raise _StreamRefused(options="stream_options" in message.lower())
            if status == 429:
                return _Failed(said, ModelErrorKind.RATE_LIMITED, True, cause=exc)
            if status == 408:
                return _Failed(said, ModelErrorKind.TIMEOUT, True, cause=exc)
            if status >= 500 or status == 409:
                return _Failed(said, ModelErrorKind.SERVER, True, cause=exc)
            return _Failed(said, ModelErrorKind.REJECTED, False, cause=exc)
        if isinstance(exc, openai.APIResponseValidationError) or isinstance(exc, ValueError):
            return _Failed("the model's server sent a malformed answer", ModelErrorKind.MALFORMED, True, cause=exc,
                           partial=partial)
        if isinstance(exc, openai.APIError):  # an error the server sent inside the stream
            message = _server_message(exc)
            if is_context_error(message, exc.body):
                window = window_in_error(message, exc.body)
                return _Failed(f"the prompt does not fit the model's context window (the server said: {message[:300]})",
                               ModelErrorKind.CONTEXT, False, cause=exc, context_window=window, partial=partial)
            return _Failed(f"the model's server failed mid-reply: {message[:300]}", ModelErrorKind.SERVER, True,
                           cause=exc, partial=partial)
        return _Failed(f"{type(exc).__name__}: {exc}", ModelErrorKind.MALFORMED, True, cause=exc, partial=partial)

    # -- the context window -------------------------------------------------------------------------

    async def context_window(self) -> int | None:
        if self.settings.context_window is not None:
            self.usage.context_window = self.settings.context_window
            return self.settings.context_window
        async with self._probe_lock:
            if not self._probed:
                self._probed = True
                await self._probe()
        window = self._learned_window or self._served_window
        self.usage.context_window = window
        return window

    async def _probe(self) -> None:
        """Ask the server once: its model list, then llama.cpp's /props (the window it runs with,
        and how many requests it serves at once). Any failure just means nothing was learnt."""
        options: Any = {"timeout": min(self.settings.timeout_s, PROBE_TIMEOUT_S)}
        window, served = None, False
        try:
            models = await self._client.get("/models", cast_to=object, options=options)
            window, served = window_in_models(models, self.settings.model)
        except (openai.APIError, ValueError) as exc:
            log.info("the model's server has no usable model list (%s)", type(exc).__name__)
        if not served and self._base_url != OPENAI_DEFAULT_BASE_URL:
            root = self._base_url.rstrip("/").removesuffix("/v1")
            try:
                props = await self._client.get(f"{root}/props", cast_to=object, options=options)
            except (openai.APIError, ValueError):
                props = None
            window = window_in_props(props) or window
            slots = slots_in_props(props)
            if slots is not None:
                self._limiter.cap(slots)
                self.usage.in_flight_limit = self._limiter.limit
        if window is not None:
            self._served_window = window
            if self.recorder is not None:
                self.recorder.write_context_window(window, "server")

    def _learn_window(self, window: int) -> None:
        if window == self._learned_window:
            return
        self._learned_window = window
        if self.settings.context_window is None:
            self.usage.context_window = window
        if self.recorder is not None:
            self.recorder.write_context_window(window, "error")

    # -- recording ------------------------------------------------------------------------------------

    def _record(self, call: _Call, seconds: float, *, reply: Reply | None = None, estimate: tuple[int, int] = (0, 0),
                error: ModelError | None = None, cancelled: bool = False) -> None:
        if self.recorder is None:
            return
        self.recorder.write(Exchange(
            key=call.key, messages=call.messages, temperature=call.temperature, max_tokens=call.max_tokens,
            reply=reply, estimate=estimate, error=RecordedError.of(error) if error is not None else None,
            cancelled=cancelled, partial=error.partial if error is not None else call.partial if cancelled else "",
            attempts=max(1, call.attempts), seconds=seconds))

    async def close(self) -> None:
        await self._client.close()


def _backoff(exc: Exception | None, attempt: int) -> float:
    """Exponential with jitter; a server's Retry-After wins (capped, so a refine stays usable)."""
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    if header:
        try:
            return min(30.0, max(0.0, float(header)))
        except ValueError:
            pass
    return float(min(20.0, 0.5 * 2 ** attempt) * (0.5 + random.random() / 2))


def _server_message(exc: openai.APIError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message", "") or "")
        return str(error)
    if isinstance(body, str):
        return body
    return "" if isinstance(exc, openai.APIStatusError) else str(exc.message or "")


def _estimate(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
