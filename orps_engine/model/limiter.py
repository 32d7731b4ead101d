"""How many model calls may be in flight at once: an adaptive limit, within 1..``max_in_flight``.

The ceiling can be high (``max_in_flight``, 128 by default: a round of the paper preset issues
60 programmer calls at once, then their 60 critic calls) because the limit does not start there
and comes down at the first sign of congestion. What we chose, TCP-style:

* **Slow start**: the limit starts at ``INITIAL_LIMIT`` (32: a paper-preset round 0 of 20 calls
  goes out in one wave; a server that takes fewer says so at once, by 429s, queueing or its
  ``/props``, which is asked before the first call) and grows by one with every successful call,
  so it doubles with each round trip of replies (32, 64, 128) until the first sign of congestion
  below ends the slow start for good. A refine on an endpoint that never pushes back reaches its
  whole fan-out within a call's latency or two; starting at 8 cost the paper preset's round 0
  one extra wave (``benchmarks/refine_latency.py --latency 1``: 3.2 s for round 0, against
  2.4 s from 32).
* **Multiplicative decrease** on each sign of congestion, then **additive increase** (below).

The signs the server shows of its capacity:

* **429** (or a timeout, which on a busy server is queueing too): the limit halves,
  ``limit = max(1, min(limit, in flight) // 2)``; the call waits its backoff and tries again.
  While other calls were in flight with it, a 429 is a sign of too many calls rather than of a
  spent quota, so its retry is free (does not count against ``max_retries``): calls are not lost
  to congestion. Alone in flight, a 429 counts as an attempt like any other failure.
* **Queueing** (streamed calls only): a server that generates one reply at a time (llama.cpp's
  server with one slot, llama-cpp-python) holds later calls before their first chunk. A call
  *queued* if it started with other calls in flight, its first chunk took at least 3x the
  quickest first chunk seen so far and at least 0.1 s, and it waited at least half as long as it
  then took to stream its reply. The limit then drops to the number of other calls that were
  streaming while it waited (1 on a serial server, n for n slots), or halves if none were (the
  server was busy with something the client cannot see).
* **Interruption**: llama-cpp-python's server (``interrupt_requests``, on by default) ends a
  streamed reply early, without a finish reason, as soon as another request arrives. A call so
  ended (``Outcome.INTERRUPTED``, only ever when it had company) sets the ceiling and the limit
  to 1 for the rest of the run: on such a server, concurrency only destroys replies.
* **Additive increase** (once slow start has ended): after ``2 * limit`` successful calls with no
  such sign, the limit grows by one, up to ``max_in_flight``; on a server that queues, the probe
  costs one call a wait, and on one that answers 429 above some k, one free retry.

A sign counts only if its call started after the last decrease (``epoch``), so one burst of 429s
halves the limit once, not once per call. ``cap`` lowers the ceiling where the server tells its
parallelism (llama.cpp's ``/props`` ``total_slots``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

log = logging.getLogger(__name__)

QUEUE_FACTOR = 3.0  # a first chunk this many times slower than the quickest one seen: queued
QUEUE_MIN_S = 0.1  # ... and at least this slow
QUEUE_SHARE = 0.5  # ... and waited at least this share of the time it then streamed
INCREASE_EVERY = 2  # successes per unit of the limit before the limit grows by one (after slow start)
INITIAL_LIMIT = 32  # where slow start begins (never above the ceiling)


class Outcome(str, Enum):
    OK = "ok"
    CONGESTED = "congested"  # a 429 or a timeout
    INTERRUPTED = "interrupted"  # the server cut the reply short for another call: it serves one at a time
    FAILED = "failed"  # anything else: says nothing of capacity


@dataclass(eq=False)
class Ticket:
    """One attempt's slot, with what the limiter learns from it."""

    epoch: int
    others: int  # other calls in flight when this one started
    started: float
    first_chunk: float | None = None
    peak_streaming: int = 0  # the most other calls streaming at once while this one waited
    company: bool = False  # another call was in flight at some time during this one
    released: bool = False


@dataclass
class Limiter:
    ceiling: int
    limit: int = 0
    in_flight: int = 0
    epoch: int = 0
    successes: int = 0
    slow_start: bool = True  # until the first sign of congestion
    quickest_first_chunk: float = math.inf
    _waiters: deque[asyncio.Future[None]] = field(default_factory=deque)
    _waiting: set[Ticket] = field(default_factory=set)  # started, no first chunk yet
    _live: set[Ticket] = field(default_factory=set)  # started, not released
    _streaming: int = 0  # started and past their first chunk

    def __post_init__(self) -> None:
        self.ceiling = max(1, self.ceiling)
        self.limit = min(self.limit or INITIAL_LIMIT, self.ceiling)

    async def acquire(self) -> Ticket:
        if self.in_flight >= self.limit or self._waiters:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self.in_flight -= 1  # granted as it was cancelled: give the slot on
                    self._wake()
                else:
                    self._waiters.remove(waiter)
                raise
        else:
            self.in_flight += 1
        ticket = Ticket(epoch=self.epoch, others=self.in_flight - 1, started=time.perf_counter())
        ticket.company = bool(self._live)
        for other in self._live:
            other.company = True
        self._waiting.add(ticket)
        self._live.add(ticket)
        return ticket

    def streaming(self, ticket: Ticket) -> None:
        """The attempt's first chunk arrived."""
        if ticket.first_chunk is not None or ticket.released:
            return
        ticket.first_chunk = time.perf_counter()
        ticket.peak_streaming = max(ticket.peak_streaming, self._streaming)
        self._waiting.discard(ticket)
        self._streaming += 1
        for other in self._waiting:
            other.peak_streaming = max(other.peak_streaming, self._streaming)

    def release(self, ticket: Ticket, outcome: Outcome) -> None:
        if ticket.released:
            return
        ticket.released = True
        now = time.perf_counter()
        self._waiting.discard(ticket)
        self._live.discard(ticket)
        if ticket.first_chunk is not None:
            self._streaming -= 1
        in_flight = self.in_flight
        self.in_flight -= 1
        current = ticket.epoch == self.epoch
        if outcome is Outcome.INTERRUPTED:
            if self.ceiling > 1:
                log.warning("the model's server interrupts a streamed reply when another call arrives: one call at "
                            "a time from now on")
            self.ceiling = 1
            self._lower(1, "the server interrupts replies for other calls")
        elif outcome is Outcome.CONGESTED:
            if current:
                self._lower(max(1, min(self.limit, in_flight) // 2), "the server is congested (429 or a timeout)")
        elif outcome is Outcome.OK:
            queued = self._queued(ticket, now)
            if ticket.first_chunk is not None:
                self.quickest_first_chunk = min(self.quickest_first_chunk, ticket.first_chunk - ticket.started)
            if queued and current and ticket.first_chunk is not None:
                wait = ticket.first_chunk - ticket.started
                self._lower(ticket.peak_streaming or max(1, self.limit // 2),
                            f"calls queue on the server: one waited {wait:.1f} s for its first chunk while "
                            f"{ticket.peak_streaming} other(s) streamed")
            elif current:
                self._grow()
        self._wake()

    def _grow(self) -> None:
        """One more success with no sign of congestion: +1 in slow start (doubling per round trip),
        else +1 per ``INCREASE_EVERY * limit`` successes."""
        self.successes += 1
        wanted = 1 if self.slow_start else INCREASE_EVERY * self.limit
        if self.successes >= wanted and self.limit < self.ceiling:
            self.limit += 1
            self.successes = 0

    def cap(self, ceiling: int) -> None:
        """The server said how many calls it serves at once."""
        self.ceiling = max(1, min(self.ceiling, ceiling))
        if self.limit > self.ceiling:
            self._lower(self.ceiling, "the server serves that many at once")

    def _queued(self, ticket: Ticket, now: float) -> bool:
        if ticket.first_chunk is None or ticket.others == 0:
            return False
        wait = ticket.first_chunk - ticket.started
        streamed = now - ticket.first_chunk
        return wait >= max(QUEUE_MIN_S, QUEUE_FACTOR * self.quickest_first_chunk) and wait >= QUEUE_SHARE * streamed

    def _lower(self, limit: int, why: str) -> None:
        if limit >= self.limit:
            return
        log.info("model calls in flight: %d -> %d (%s)", self.limit, limit, why)
        self.limit, self.successes, self.slow_start = limit, 0, False
        self.epoch += 1

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)
