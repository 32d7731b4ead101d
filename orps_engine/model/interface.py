"""What every chat model gives the search: a ``Reply`` with the reason it ended, typed errors, the
context window and the usage. ``client`` (the real model), ``replay`` (a recording) and
``record`` share these; ``client`` re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

Message = dict[str, str]


class ModelErrorKind(str, Enum):
    TIMEOUT = "timeout"  # no answer in time (after the retries)
    UNREACHABLE = "unreachable"  # no connection to the server
    RATE_LIMITED = "rate_limited"  # 429 after the retries
    SERVER = "server"  # 5xx after the retries
    CONTEXT = "context"  # the prompt (with the reply's room) does not fit the model's context window
    REJECTED = "rejected"  # another 4xx: retrying cannot help (a bad model name, a bad key, ...)
    MALFORMED = "malformed"  # the server answered with something that is not a completion
    INTERRUPTED = "interrupted"  # the server ended a streamed reply unfinished (no finish reason) for another call


class ModelError(Exception):
    """A call failed for good (retries spent, or an error retrying cannot fix). For ``CONTEXT``,
    ``context_window`` is the window the server said it has, when it said. ``partial`` is the
    text that had streamed in when the last attempt failed (kept in recordings), ``attempts``
    how many requests the call made, ``hint`` what the user can change about it."""

    def __init__(self, message: str, *, kind: ModelErrorKind, retryable: bool,
                 context_window: int | None = None, partial: str = "", attempts: int = 1,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind, self.retryable, self.context_window = kind, retryable, context_window
        self.partial, self.attempts, self.hint = partial, attempts, hint


class FinishReason(str, Enum):
    """Why a reply ended."""

    STOP = "stop"  # the model ended it
    LENGTH = "length"  # it reached ``max_tokens`` (or the context filled up): it may be incomplete
    DONE = "done"  # cut by the caller's stop rule: what was needed had arrived (a closed code block)
    REPETITION = "repetition"  # cut: the model was repeating itself


# Called with the reply's text so far, as it streams in: True once nothing more is needed.
StopRule = Callable[[str], bool]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A model's answer. Token counts are the server's, or None where it gave none (a cut reply
    never gets the server's final count): the search calibrates its budget on real counts only."""

    text: str
    finish: FinishReason
    prompt_tokens: int | None = None  # as the server counted them, where it said
    completion_tokens: int | None = None


@dataclass
class Usage:
    """What the model cost a refine. Counts the server did not give are estimated (prompt and
    reply characters / 3, or one token per streamed chunk) and ``estimated_tokens`` says how
    many of the totals are such estimates."""

    calls: int = 0  # calls that got an answer
    failed_calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated_tokens: int = 0  # of prompt_tokens + completion_tokens, estimated rather than counted
    call_s: float = 0.0  # summed over calls (they overlap: see ``wall_s``)
    wall_s: float = 0.0  # from the first call's start to the last one's end
    cut_done: int = 0  # replies cut once their code block had closed
    cut_repetition: int = 0  # replies cut because the model repeated itself
    cut_length: int = 0  # replies that reached max_tokens
    largest_prompt_tokens: int = 0
    context_window: int | None = None  # the model's, once known
    in_flight_limit: int | None = None  # the limit on calls in flight the client settled on (see client)
    _first_start: float | None = field(default=None, repr=False, compare=False)
    _last_end: float | None = field(default=None, repr=False, compare=False)

    def add(self, reply: Reply, seconds: float, *, estimate: tuple[int, int] = (0, 0)) -> None:
        """A call that got ``reply`` in ``seconds``; ``estimate`` (prompt, completion) stands in for
        the counts the reply lacks."""
        prompt = reply.prompt_tokens if reply.prompt_tokens is not None else estimate[0]
        completion = reply.completion_tokens if reply.completion_tokens is not None else estimate[1]
        self.calls += 1
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.estimated_tokens += (estimate[0] if reply.prompt_tokens is None else 0) \
            + (estimate[1] if reply.completion_tokens is None else 0)
        self.largest_prompt_tokens = max(self.largest_prompt_tokens, prompt)
        self.call_s += seconds
        self.cut_done += reply.finish is FinishReason.DONE
        self.cut_repetition += reply.finish is FinishReason.REPETITION
        self.cut_length += reply.finish is FinishReason.LENGTH

    def fail(self, seconds: float) -> None:
        """A call that failed for good after ``seconds``."""
        self.failed_calls += 1
        self.call_s += seconds

    def span(self, start: float, end: float) -> None:
        """A call ran from ``start`` to ``end`` (``time.perf_counter``): ``wall_s`` is the real time
        from the first call's start to the last call's end, however the calls overlapped."""
        self._first_start = start if self._first_start is None else min(self._first_start, start)
        self._last_end = end if self._last_end is None else max(self._last_end, end)
        self.wall_s = self._last_end - self._first_start


class ChatModel(Protocol):
    usage: Usage

    async def complete(self, key: str, messages: list[Message], temperature: float, *,
                       max_tokens: int | None = None, stop: StopRule | None = None) -> Reply: ...

    async def context_window(self) -> int | None:
        """The model's context window in tokens: the setting, else what the server says of it
        (its model list, or an error that named it), else None."""

    async def close(self) -> None: ...
