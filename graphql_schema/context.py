"""The per-request context: the principal and its viewer (for the visibility policy), the read
session and the dataloaders.

Reads share one session per request. Sibling resolvers and loader batches run concurrently and
an AsyncSession must not be used concurrently, so every use goes through `db()`, which holds a
lock: batches queue, each is one statement or one batch. A mutation gets a session (and transaction) of its
own through `transaction()`; afterwards the loaders and the read session's identity map are
cleared so that what the mutation returns is read fresh.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from app.access.policy import STAFF, Viewer
from app.accounts.models import STAFF_ROLES, Role
from app.accounts.service import Principal
from app.audit.service import Actor
from app.operations.documents import DocumentStore

L = TypeVar("L", bound=DataLoader)


class RequestClosed(RuntimeError):
    """A resolver touched the database after its request had been answered."""


class ReadSession:
    """The request's read sessions: one to start with, and up to `size` when batches ask at
    once (`widen`).

    An AsyncSession must not be used concurrently, so each use holds one session; the batches a
    root list loads together (an order page's relations, docs/design.md "Reads in bulk") run
    on as many connections as the request may have, the rest queue. Each session is its own
    transaction under the viewer's role and settings; every statement sees the data as it is
    when it runs, as on one connection at the default isolation level.

    When a field fails and null bubbles up, graphql-core answers while sibling resolvers may
    still be running; closing waits for the statements in flight, and any later use raises
    instead of reopening a connection.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._sessions = [session]
        self._free = [session]
        self._open: Callable[[], AsyncSession] | None = None
        self._size = 1
        self._turn = asyncio.Condition()
        self._closed = False

    def widen(self, open_session: Callable[[], AsyncSession], size: int) -> None:
        """Let the request open sessions with `open_session`, up to `size` in all."""
        self._open, self._size = open_session, max(size, 1)

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncSession]:
        async with self._turn:
            while True:
                if self._closed:
                    raise RequestClosed("the request has already been answered")
                if self._free:
                    session = self._free.pop()
                    break
                if self._open is not None and len(self._sessions) < self._size:
                    session = self._open()
                    self._sessions.append(session)
                    break
                await self._turn.wait()
        try:
            yield session
        finally:
            async with self._turn:
                self._free.append(session)
                # all of them: a waiter for a session may find the request closed and leave
                # without passing the turn on, and `close` waits for every session back
                self._turn.notify_all()

    def forget(self) -> None:
        """Drop what the sessions hold (after a mutation committed elsewhere); no I/O."""
        for session in self._sessions:
            session.expunge_all()

    async def close(self) -> None:
        async with self._turn:
            self._closed = True
            await self._turn.wait_for(lambda: len(self._free) == len(self._sessions))
        failure: BaseException | None = None
        for session in self._sessions:
            try:
                await session.close()
            except Exception as exc:  # every session is closed; the first failure is raised
                failure = failure or exc
        if failure is not None:
            raise failure


class Loaders:
    """Dataloaders of one request, created on first use (never shared between requests)."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._loaders: dict[type[DataLoader], DataLoader] = {}

    def get(self, loader_class: Callable[[Context], L]) -> L:
        # keyed by the loader's class, which the signature types as its constructor
        loader = self._loaders.get(loader_class)  # type: ignore[call-overload]
        if loader is None:
            loader = self._loaders[loader_class] = loader_class(self._context)  # type: ignore[index]
        return loader

    def clear(self) -> None:
        self._loaders.clear()


class Context:
    def __init__(
        self,
        *,
        request: Request,
        response: Response | None,
        request_id: str,
        sessions: async_sessionmaker[AsyncSession],
        write_slots: asyncio.Semaphore,
        reads: ReadSession,
        principal: Principal | None,
        viewer: Viewer,
        max_page_size: int,
        operations: list[tuple[str | None, bool]] | None = None,
        documents: DocumentStore | None = None,
        max_upload_bytes: int = 0,
    ) -> None:
        self.request = request
        self.response = response
        self.request_id = request_id
        self.sessions = sessions
        self.write_slots = write_slots
        self.principal = principal
        self.viewer = viewer
        self.max_page_size = max_page_size
        self.loaders = Loaders(self)
        self._reads = reads
        self.operations = operations
        self.documents = documents
        """Where uploaded documents go (None: uploads are not served here)."""
        self.max_upload_bytes = max_upload_bytes
        """When a list (a partner's request, for its call log): each operation run, as what it
        asked for and whether it answered with errors (`graphql_schema.schema.NameOperations`)."""

    @property
    def roles(self) -> frozenset[str]:
        return self.principal.roles if self.principal else frozenset()

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def actor(self) -> Actor:
        """The viewer as the author of a change (audit log, status transitions)."""
        return Actor(account_id=self.account_id, roles=self.roles, request_id=self.request_id)

    @property
    def account_id(self) -> uuid.UUID | None:
        return self.principal.account_id if self.principal else None

    def db(self) -> AbstractAsyncContextManager[AsyncSession]:
        """The read session, for one statement or one batch at a time."""
        return self._reads.use()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction for one mutation: committed when the block succeeds, rolled back
        when it raises.

        Writers that queue on the same row (a brand's number series, one order's status) would
        each hold a pooled connection while they wait and starve the reads; a bounded number of
        write slots per process keeps the waiting in the process instead.
        """
        # writes are authorised by the services; the database lets them through as unrestricted
        async with self.write_slots, self.sessions(info={"viewer": STAFF}) as session, session.begin():
            yield session
        self.loaders.clear()
        self._reads.forget()
