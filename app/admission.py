"""Admission control: a bounded queue in front of the API's work, per worker process.

At most `max_active_requests` requests run at once; up to `max_queued_requests` more wait for a
turn, first come first served, for at most `queue_timeout_seconds`. A request beyond the queue
is refused at once (503 SERVICE_UNAVAILABLE, `Retry-After`): under overload the requests taken
keep a sane latency, and the rest learn it in a millisecond instead of after the pool timeout
(docs/design.md, "Overload"; figures in docs/benchmarks.md, "Overload").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from app.observability import QUEUED, REFUSED, RUNNING


class Refused(Exception):
    """No turn for this request: the queue is full, or its wait ran out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Admission:
    active: int
    """Requests run at once (0: unlimited; nothing waits, nothing is refused)."""
    queued: int
    timeout: float
    running: int = 0
    waiting: int = 0
    refused: int = 0
    """Requests refused since the process started (the metrics report it)."""
    _turns: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._turns = asyncio.Semaphore(self.active or 1)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one of the running places for the block; `Refused` when there is none to be had."""
        if not self.active:
            with self._running():
                yield
            return
        # decided once the request's body is read: refused before, a client still sending its
        # body may see a reset connection instead of the 503
        if self._turns.locked() and self.waiting >= self.queued:
            self._refuse()
            raise Refused("queue full")
        self.waiting += 1
        QUEUED.inc()
        try:
            async with asyncio.timeout(self.timeout):
                await self._turns.acquire()
        except TimeoutError:
            self._refuse()
            raise Refused("waited too long") from None
        finally:
            self.waiting -= 1
            QUEUED.dec()
        try:
            with self._running():
                yield
        finally:
            self._turns.release()

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        self.running += 1
        RUNNING.inc()
        try:
            yield
        finally:
            self.running -= 1
            RUNNING.dec()

    def _refuse(self) -> None:
        self.refused += 1
        REFUSED.inc()
