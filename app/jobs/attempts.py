"""Attempt slots of a job that retries on its own schedule (a webhook delivery, a message).

The row being delivered keeps its state (`lease_until` while an attempt is under way,
`next_attempt_at` while it waits for a retry); a job that finds the row busy or not yet due is
put back by PgQueuer until then (`RetryRequested`), so two jobs of one row never attempt at once
and a retry never comes early.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from pgqueuer import RetryRequested


def wait_for_slot(
    *, now: datetime, under_way: bool, lease_until: datetime | None, waiting: bool, next_attempt_at: datetime | None
) -> None:
    """Put the job back until the row's attempt slot is free: an attempt still leased to another
    worker, or a retry whose time has not come."""
    if under_way and lease_until is not None and lease_until > now:
        raise RetryRequested(lease_until - now, "another worker is on this attempt")
    if waiting and next_attempt_at is not None and next_attempt_at > now:
        raise RetryRequested(next_attempt_at - now, "its retry slot has not come")


def backoff(delays: tuple[float, ...], attempt: int) -> timedelta:
    """The wait after failed attempt `attempt` (1-based): its delay, ±20 % jitter (so that many
    failures do not come back at once)."""
    base = delays[min(attempt, len(delays)) - 1]
    return timedelta(seconds=base * random.uniform(0.8, 1.2))
