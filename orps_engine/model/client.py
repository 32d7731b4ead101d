"""The model client: ``openai.AsyncOpenAI`` against any compatible server, with our own retries,
a cap on calls in flight, and usage accounting. It knows no prompts and no sandbox.

Each call carries a *key* naming its place in the search (``r1/k0/s2/programmer#0``); the
recorder writes it with the exchange, and a replay answers by it, so a replay does not depend
on prompt text that embeds measured timings.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import openai

from ..config import NO_MODEL_HINT, Settings
from ..errors import InputError
from .record import Recorder

log = logging.getLogger(__name__)

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "sk-no-key-required"  # local servers (vLLM, Ollama, llama.cpp) ignore the key
_RETRYABLE = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError, openai.APIConnectionError,
              openai.APIResponseValidationError, openai.ConflictError)
Message = dict[str, str]


class _Malformed(ValueError):
    """The server answered 200 with something that is not a chat completion."""


class ModelErrorKind(str, Enum):
    TIMEOUT = "timeout"  # no answer in time (after the retries)
    UNREACHABLE = "unreachable"  # no connection to the server
    RATE_LIMITED = "rate_limited"  # 429 after the retries
    SERVER = "server"  # 5xx after the retries
    CONTEXT = "context"  # the prompt (with the reply's room) does not fit the model's context window
    REJECTED = "rejected"  # another 4xx: retrying cannot help (a bad model name, a bad key, ...)
    MALFORMED = "malformed"  # the server answered with something that is not a completion


class ModelError(Exception):
    """A call failed for good (retries spent, or an error retrying cannot fix). For ``CONTEXT``,
    ``context_window`` is the window the server said it has, when it said."""

    def __init__(self, message: str, *, kind: ModelErrorKind, retryable: bool,
                 context_window: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.retryable, self.context_window = kind, retryable, context_window


class FinishReason(str, Enum):
    """Why a reply ended."""

    STOP = "stop"  # the model ended it
    LENGTH = "length"  # it reached ``max_tokens`` (it may be incomplete)
    DONE = "done"  # cut by the caller's stop rule: what was needed had arrived (a closed code block)
    REPETITION = "repetition"  # cut: the model was repeating itself


# Called with the reply's text so far, as it streams in: True once nothing more is needed.
StopRule = Callable[[str], bool]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    text: str
    finish: FinishReason
    prompt_tokens: int | None = None  # as the server counted them, where it said
    completion_tokens: int | None = None


@dataclass
class Usage:
    calls: int = 0  # calls that got an answer
    failed_calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    call_s: float = 0.0  # summed over calls (they overlap: see ``wall_s``)
    wall_s: float = 0.0  # from the first call's start to the last one's end
    cut_done: int = 0  # replies cut once their code block had closed
    cut_repetition: int = 0  # replies cut because the model repeated itself
    cut_length: int = 0  # replies that reached max_tokens
    largest_prompt_tokens: int = 0
    context_window: int | None = None  # the model's, once known

    def add(self, reply: Reply, seconds: float) -> None:
        self.calls += 1
        self.prompt_tokens += reply.prompt_tokens or 0
        self.completion_tokens += reply.completion_tokens or 0
        self.largest_prompt_tokens = max(self.largest_prompt_tokens, reply.prompt_tokens or 0)
        self.call_s += seconds
        self.cut_done += reply.finish is FinishReason.DONE
        self.cut_repetition += reply.finish is FinishReason.REPETITION
        self.cut_length += reply.finish is FinishReason.LENGTH


class ChatModel(Protocol):
    usage: Usage

    async def complete(self, key: str, messages: list[Message], temperature: float, *,
                       max_tokens: int | None = None, stop: StopRule | None = None) -> Reply: ...

    async def context_window(self) -> int | None:
        """The model's context window in tokens: the setting, else what the server says of it
        (its model list, or an error that named it), else None."""

    async def close(self) -> None: ...


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
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=self.settings.base_url or OPENAI_DEFAULT_BASE_URL,
                                          timeout=self.settings.timeout_s, max_retries=0)
        self._slots = asyncio.Semaphore(self.settings.max_in_flight)

    async def complete(self, key: str, messages: list[Message], temperature: float) -> str:
        async with self._slots:
            started = time.perf_counter()
            response = await self._with_retries(key, messages, temperature)
            seconds = time.perf_counter() - started
        text = (response.choices[0].message.content or "") if response.choices else ""
        usage = response.usage
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        self.usage.add(prompt_tokens, completion_tokens, seconds)
        if self.recorder is not None:
            self.recorder.write(key, messages, temperature, text, prompt_tokens, completion_tokens)
        return text

    async def _with_retries(self, key: str, messages: list[Message], temperature: float) -> Any:
        attempts = self.settings.max_retries + 1
        for attempt in range(attempts):
            try:
                response = await self._client.chat.completions.create(
                    model=str(self.settings.model), messages=messages,  # type: ignore[arg-type]
                    temperature=temperature)
                if not hasattr(response, "choices"):  # a body that is not a chat completion at all
                    raise _Malformed("the answer is not a chat completion")
                return response
            except (*_RETRYABLE, ValueError) as exc:  # ValueError: a body that is not JSON
                if attempt + 1 == attempts:
                    self.usage.failed_calls += 1
                    raise ModelError(f"{_describe(exc)} (after {attempts} attempts)", retryable=True) from None
                self.usage.retries += 1
                delay = _backoff(exc, attempt)
                log.info("model call %s failed (%s); retrying in %.1f s", key, _describe(exc), delay)
                await asyncio.sleep(delay)
            except openai.APIStatusError as exc:  # 400/401/403/404/422: retrying will not help
                self.usage.failed_calls += 1
                raise ModelError(_describe(exc), retryable=False) from None
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self._client.close()


def _backoff(exc: Exception, attempt: int) -> float:
    """Exponential with jitter; a server's Retry-After wins (capped, so a refine stays usable)."""
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    if header:
        try:
            return min(30.0, max(0.0, float(header)))
        except ValueError:
            pass
    return float(min(20.0, 0.5 * 2 ** attempt) * (0.5 + random.random() / 2))


def _describe(exc: Exception) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "the model timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "cannot connect to the model's server"
    if isinstance(exc, openai.APIStatusError):
        message = ""
        body = exc.body
        if isinstance(body, dict):
            error = body.get("error", body)
            message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
        return f"the model's server answered HTTP {exc.status_code}" + (f": {message[:200]}" if message else "")
    if isinstance(exc, (openai.APIResponseValidationError, ValueError)):
        return "the model's server sent a malformed answer"
    return f"{type(exc).__name__}: {exc}"
