"""A partner's use of the API: the per-organisation rate limit and the call log
(docs/integration.md, "Rate limits" and "Your API calls").

Every request made with a partner token counts against its organisation's limit (its
integration's `rate_limit_per_minute`, or `CHARGECARS_PARTNER_RATE_LIMIT` for an organisation
without one). The counter is a row per organisation and minute in `partner_rate_window`, so it
holds across any number of API processes: one statement (`admit`) estimates the calls of the
last sixty seconds as a sliding window (the current minute's calls plus the previous minute's,
weighted by how much of it still lies within the last sixty seconds) and takes a call only when
the estimate stays within the limit. The row lock of `ON CONFLICT DO UPDATE` serialises
concurrent calls of one organisation, whichever process serves them. A refused call is not
counted: a partner that waits as `Retry-After` says gets through.

Each call is then logged (`record_call`): who, which operation, how it ended, how long it took.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import policy
from app.access.policy import Viewer
from app.db import columns, read
from app.partners.models import PartnerApiCall

WINDOW_SECONDS: Final = 60
OPERATION_LENGTH: Final = 200


class CallOutcome(enum.StrEnum):
    OK = "ok"
    """Answered without a GraphQL error (a typed refusal in a mutation's result is an answer)."""
    ERRORS = "errors"
    """Answered with GraphQL errors: a refused document, a field the viewer may not use, …"""
    RATE_LIMITED = "rate_limited"
    REFUSED = "refused"
    """Refused before any GraphQL ran (a malformed request): 4xx."""
    FAILED = "failed"
    """The server could not answer (5xx)."""


@dataclass(frozen=True, slots=True)
class RateVerdict:
    admitted: bool
    limit: int
    remaining: int
    """Calls left before the estimate reaches the limit (after this one, when admitted)."""
    retry_after: int
    """Seconds until a call would be admitted again (0 when admitted)."""


# One statement: the limit, the previous minute's calls, and this call taken only when the
# sliding estimate stays within the limit (the insert's SELECT for a new minute, the update's
# WHERE for a minute already counted). Minutes older than the previous one are dropped.
_ADMIT = text(
    """
WITH clock AS (
    SELECT date_trunc('minute', clock_timestamp()) AS window_start,
           extract(epoch FROM clock_timestamp() - date_trunc('minute', clock_timestamp())) / 60.0 AS elapsed
), lim AS (
    SELECT coalesce(
        (SELECT rate_limit_per_minute FROM partner_integration WHERE organization_id = :organization),
        :default_limit) AS per_minute
), prev AS (
    SELECT coalesce((SELECT w.calls FROM partner_rate_window w, clock
                     WHERE w.organization_id = :organization
                       AND w.window_start = clock.window_start - interval '1 minute'), 0) AS calls
), old AS (
    DELETE FROM partner_rate_window w USING clock
    WHERE w.organization_id = :organization AND w.window_start < clock.window_start - interval '1 minute'
), taken AS (
    INSERT INTO partner_rate_window AS w (organization_id, window_start, calls)
    SELECT :organization, clock.window_start, 1 FROM clock, prev, lim
    WHERE prev.calls * (1 - clock.elapsed) + 1 <= lim.per_minute
    ON CONFLICT (organization_id, window_start) DO UPDATE SET calls = w.calls + 1
    WHERE w.calls + 1 + (SELECT calls FROM prev) * (1 - (SELECT elapsed FROM clock))
          <= (SELECT per_minute FROM lim)
    RETURNING w.calls
)
SELECT (SELECT calls FROM taken) AS taken,
       (SELECT w.calls FROM partner_rate_window w, clock
        WHERE w.organization_id = :organization AND w.window_start = clock.window_start) AS current,
       prev.calls AS previous, lim.per_minute, clock.elapsed
FROM clock, prev, lim
"""
)


async def admit(session: AsyncSession, *, organization_id: uuid.UUID, default_limit: int) -> RateVerdict:
    """Count one call of the organisation, or refuse it with the wait before the next one is
    admitted. Runs as the owner (the rate windows are no viewer's to read)."""
    row = (await session.execute(_ADMIT, {"organization": organization_id, "default_limit": default_limit})).one()
    limit, previous, elapsed = int(row.per_minute), int(row.previous), float(row.elapsed)
    if row.taken is not None:
        estimate = previous * (1 - elapsed) + int(row.taken)
        return RateVerdict(True, limit, max(0, math.floor(limit - estimate)), 0)
    # `current` is the refused call's view of this minute (the statement's snapshot: a call
    # taken at the same moment by another process may be missing, which only shortens the wait)
    return RateVerdict(False, limit, 0, retry_after(limit, previous, int(row.current or 0), elapsed))


def retry_after(limit: int, previous: int, current: int, elapsed: float) -> int:
    """Whole seconds until `previous * (1 - t) + current + 1 <= limit` holds at a later moment
    `t` (minutes from this window's start), counting into the next window when this one's own
    calls already fill the limit. At least one second."""
    if current + 1 <= limit:
        # the previous minute's weight has to shrink: (1 - t) <= (limit - current - 1) / previous
        t = 1 - (limit - current - 1) / previous if previous else elapsed
        wait = (t - elapsed) * WINDOW_SECONDS
    else:
        # the next window: current * (1 - t') + 1 <= limit
        t_next = 1 - (limit - 1) / current if current else 0.0
        wait = ((1 - elapsed) + max(0.0, t_next)) * WINDOW_SECONDS
    return max(1, math.ceil(round(wait, 6)))  # 18.000000000000004 s is 18 s


async def record_call(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    account_id: uuid.UUID | None,
    request_id: str,
    operation: str | None,
    outcome: CallOutcome,
    status_code: int,
    duration_ms: int,
) -> None:
    """One line of the call log (as the owner: the API role reads the log, never writes it)."""
    await session.execute(
        insert(PartnerApiCall).values(
            organization_id=organization_id,
            account_id=account_id,
            request_id=request_id,
            operation=operation[:OPERATION_LENGTH] if operation else None,
            outcome=outcome.value,
            status_code=status_code,
            duration_ms=duration_ms,
        )
    )


# --- reading the log --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiCallFilter:
    organization_id: uuid.UUID | None = None
    outcomes: Collection[CallOutcome] = ()
    since: datetime | None = None
    until: datetime | None = None


def _calls(stmt: Any, filter_in: ApiCallFilter, viewer: Viewer) -> Any:
    stmt = stmt.where(policy.visible(viewer, PartnerApiCall))
    if filter_in.organization_id is not None:
        stmt = stmt.where(PartnerApiCall.organization_id == filter_in.organization_id)
    if filter_in.outcomes:
        stmt = stmt.where(PartnerApiCall.outcome.in_([o.value for o in filter_in.outcomes]))
    if filter_in.since is not None:
        stmt = stmt.where(PartnerApiCall.at >= filter_in.since)
    if filter_in.until is not None:
        stmt = stmt.where(PartnerApiCall.at < filter_in.until)
    return stmt


async def count_calls(*, session: AsyncSession, filter_in: ApiCallFilter, viewer: Viewer) -> int:
    return int(await session.scalar(_calls(select(func.count()).select_from(PartnerApiCall), filter_in, viewer)) or 0)


async def search_calls(
    *, session: AsyncSession, filter_in: ApiCallFilter, viewer: Viewer, offset: int, limit: int
) -> list[Any]:
    """The calls `viewer` may see (a partner: its organisation's and those below it), newest first."""
    stmt = _calls(select(*columns(PartnerApiCall)), filter_in, viewer)
    return await read(
        session, stmt.order_by(PartnerApiCall.at.desc(), PartnerApiCall.id.desc()).offset(offset).limit(limit)
    )
