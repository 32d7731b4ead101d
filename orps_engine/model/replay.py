"""A model that answers from a recording, with no network.

A recorded reply comes back as it was, finish reason and counts included (the stop rule is not
applied again: the recording already holds what the rule let through). A recorded failure is
raised again as the same ``ModelError`` (same kind, same window), so the search takes the same
turn. A call the recorded search cancelled has no answer: the replay holds it, as the server
did, until the search cancels it again (it will, when it takes the same turn); if it does not
within ``cancelled_wait_s``, the recording does not match the search, which is an error.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .interface import Message, ModelErrorKind, Reply, StopRule, Usage
from .record import Recording

MISMATCH_HINT = "replay with the settings and files it was recorded with, or record anew"


class ReplayMissing(InputError):
    """The search asked for a reply the recording does not have."""


@dataclass
class ReplayChatModel:
    path: Path
    recording: Recording | None = None
    usage: Usage = field(default_factory=Usage)
    cancelled_wait_s: float = 30.0
    _learned_window: int | None = None

    def __post_init__(self) -> None:
        if self.recording is None:
            self.recording = Recording.load(self.path)

    async def complete(self, key: str, messages: list[Message], temperature: float, *,
                       max_tokens: int | None = None, stop: StopRule | None = None) -> Reply:
        assert self.recording is not None
        exchange = self.recording.exchanges.get(key)
        if exchange is None:
            raise ReplayMissing(f"the recording has no reply for the call {key}", path=self.path, hint=MISMATCH_HINT)
        self.usage.retries += exchange.attempts - 1
        if exchange.cancelled:
            await asyncio.sleep(self.cancelled_wait_s)
            raise ReplayMissing(f"the recording has no reply for the call {key}: the recorded search cancelled it",
                                path=self.path, hint=MISMATCH_HINT)
        if exchange.error is not None:
            self.usage.fail(0.0)
            if exchange.error.kind is ModelErrorKind.CONTEXT and exchange.error.context_window is not None:
                self._learned_window = exchange.error.context_window
                self.usage.context_window = self._learned_window
            raise exchange.error.error(partial=exchange.partial, attempts=exchange.attempts)
        assert exchange.reply is not None
        self.usage.add(exchange.reply, 0.0, estimate=exchange.estimate)
        return exchange.reply

    async def context_window(self) -> int | None:
        """What the recorded client knew of the window (its first learnt value), else what a
        replayed context error named."""
        assert self.recording is not None
        window = self.recording.context_window or self._learned_window
        self.usage.context_window = window
        return window

    async def close(self) -> None:
        return None
