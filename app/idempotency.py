"""Idempotent requests: the `Idempotency-Key` header (docs/design.md, "Idempotent mutations").

A client that may retry a mutation (after a timeout, a dropped connection) sends a key of its
own choosing, unique per intended change. The first request with a key runs and its answer is
kept for 24 hours; a request with the same key and the same body within that time gets the
first answer again (`Idempotent-Replayed: true`) without running; the same key with another
body is refused (IDEMPOTENCY_KEY_REUSED). Keys belong to the account that sent them.

Concurrent duplicates wait for the first: the first inserts the key's row in a transaction
that stays open while its request runs, and a duplicate's insert waits on that row. The row is
committed with the answer, so every worker process sees it; an answer that says the request
could not be served (a 5xx) is not kept, and the key is free for a retry.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import Message, Send

from app.db import Base, created_at
from app.jobs import schedules
from app.jobs.queue import JobContext


class IdempotencyKey(Base):
    """The first answer to a request sent with a key (migration 0018). Read and written by the
    owner only, in the statements below."""

    __tablename__ = "idempotency_key"
    __table_args__ = (
        CheckConstraint("length(key) BETWEEN 1 AND 255", name="key_length"),
        Index("ix_idempotency_key_expires_at", "expires_at"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(Text)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    request_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


KEPT = timedelta(hours=24)
HEADER = b"idempotency-key"
_VALID = re.compile(r"[\x21-\x7e]{1,255}")

_CLAIM = text(
    "INSERT INTO idempotency_key (account_id, key, fingerprint, request_id, expires_at) "
    "VALUES (:account, :key, :fingerprint, :request_id, now() + :kept) "
    "ON CONFLICT (account_id, key) DO NOTHING RETURNING 1"
)
_FIRST = text(
    "SELECT fingerprint, status_code, content_type, body, request_id FROM idempotency_key "
    "WHERE account_id = :account AND key = :key"
)
_FORGET_EXPIRED = text("DELETE FROM idempotency_key WHERE account_id = :account AND key = :key AND expires_at <= now()")
_ANSWERED = text(
    "UPDATE idempotency_key SET status_code = :status, content_type = :content_type, body = :body "
    "WHERE account_id = :account AND key = :key"
)
_PURGE = text("DELETE FROM idempotency_key WHERE expires_at <= now()")


class KeyInvalid(Exception):
    """The header is not 1–255 visible ASCII characters."""


class KeyReused(Exception):
    """The key was used within 24 h for a request with another body."""

    def __init__(self, first_request_id: str) -> None:
        super().__init__(first_request_id)
        self.first_request_id = first_request_id


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    first_request_id: str


def checked_key(raw: bytes) -> str:
    key = raw.decode("latin-1")
    if not _VALID.fullmatch(key):
        raise KeyInvalid
    return key


def fingerprint(body: bytes, content_type: str) -> str:
    """The request as the key compares it: its body, with a multipart body's boundary (chosen
    anew by the client for every request) taken out."""
    boundary = re.search(r"boundary=\"?([^\";]+)", content_type)
    if boundary:
        body = body.replace(boundary.group(1).encode("latin-1"), b"")
    return hashlib.sha256(body).hexdigest()


class _Capture:
    """`send` that passes the response on and keeps a copy of it."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self.content_type = "application/json"
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    self.content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
        await self._send(message)


async def once(
    engine: AsyncEngine,
    *,
    account_id: uuid.UUID,
    key: str,
    fingerprint: str,
    request_id: str,
    respond: Callable[[Send], Awaitable[None]],
    send: Send,
) -> Answer | None:
    """Run `respond(send)` unless the key was answered before: then return the first answer
    (the caller replays it). KeyReused when the key was used with another request."""
    params: dict[str, Any] = {"account": account_id, "key": key}
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            await conn.execute(_FORGET_EXPIRED, params)
            # waits while a first request with this key runs (its row is not committed yet)
            claimed = await conn.scalar(
                _CLAIM, {**params, "fingerprint": fingerprint, "request_id": request_id, "kept": KEPT}
            )
            if claimed is None:
                first = (await conn.execute(_FIRST, params)).one()
                await transaction.rollback()
                if first.fingerprint != fingerprint:
                    raise KeyReused(first.request_id)
                return Answer(first.status_code, first.content_type, bytes(first.body), first.request_id)
            capture = _Capture(send)
            await respond(capture.send)
            if capture.status is None or capture.status >= 500:
                await transaction.rollback()  # not served: the key stays free for a retry
                return None
            await conn.execute(
                _ANSWERED,
                {**params, "status": capture.status, "content_type": capture.content_type, "body": bytes(capture.body)},
            )
            await transaction.commit()
            return None
        finally:
            if transaction.is_active:
                await transaction.rollback()


PURGE = "idempotency.purge"


async def _hourly(context: JobContext, now: datetime) -> str:
    """Forget the keys older than 24 h."""
    async with context.sessions() as session, session.begin():
        result: Any = await session.execute(_PURGE)
    return f"{result.rowcount} forgotten"


def wire() -> None:
    schedules.register(
        schedules.Schedule(
            name=PURGE,
            cron="17 * * * *",
            description="Idempotency keys older than 24 hours are forgotten.",
            handler=_hourly,
        )
    )
