"""SQLAlchemy base, naming convention, engine and session factory."""

from __future__ import annotations

import enum
import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Enum,
    MetaData,
    Select,
    any_,
    bindparam,
    event,
    func,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Server-side defaults (ids, timestamps, `updated_at` on update) come back through RETURNING,
    # so nothing is ever lazily reloaded under asyncio.
    __mapper_args__ = {"eager_defaults": True}


class _Values(ARRAY):
    """An array parameter passed to the driver as it is when its items need no conversion
    (asyncpg encodes uuids, strings and numbers itself): no Python pass over each item."""

    cache_ok = True

    def bind_processor(self, dialect: Any) -> Any:
        if self.item_type.dialect_impl(dialect).bind_processor(dialect) is None:
            return None
        return super().bind_processor(dialect)


def any_of(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column = ANY(:values)`: one bind parameter whatever the batch size, so the statement text
    (and asyncpg's prepared statement) is the same for every batch."""
    return column == any_(bindparam(None, list(values), type_=_Values(column.type)))


IDS = "ids"
"""The parameter a statement built once (`any_of_ids`) takes its batch's keys by."""


def any_of_ids(column: Any) -> ColumnElement[bool]:
    """`column = ANY(:ids)`, the keys given when the statement runs (`read(..., ids=...)`): for
    statements built once per process and kept, whose SQLAlchemy construction (aliases,
    subqueries) cost more than running them (docs/benchmarks.md)."""
    return column == any_(bindparam(IDS, type_=_Values(column.type)))


@functools.cache
def columns(model: type[Any]) -> tuple[ColumnElement[Any], ...]:
    """The model's columns, each named as the model's attribute: `select(*columns(M))` reads
    plain rows (no ORM instance, no identity map) that answer the same attribute names as an
    instance of `M`. The read path uses these (docs/design.md, "Reads in bulk")."""
    return tuple(
        attribute.expression.label(attribute.key)
        if attribute.key != attribute.expression.name
        else attribute.expression
        for attribute in sa_inspect(model).column_attrs
    )


async def read(session: AsyncSession, statement: Any, *, ids: Iterable[Any] | None = None) -> list[Any]:
    """The rows of a Core statement (plain columns, `columns`) on the session's connection and
    transaction: SQLAlchemy's Core result, without the ORM's per-row loading, which an ORM
    session applies even to plain columns. `ids`: the keys of a kept statement (`any_of_ids`)."""
    connection = await session.connection()
    return list((await connection.execute(statement, None if ids is None else {IDS: list(ids)})).all())


async def read_by(session: AsyncSession, key: Any, keys: Iterable[Any], *order_by: Any) -> dict[Any, list[Any]]:
    """The rows of the model of the column `key` whose `key` is one of `keys`, grouped by key, each
    group in `order_by` order: children read for parents the request was shown (row-level
    security still tests each row). `order_by`: columns, or expressions kept in a constant."""
    return grouped(await read(session, rows_by(key, order_by), ids=keys), key.key)


@functools.lru_cache(maxsize=256)
def rows_by(key: Any, order_by: tuple[Any, ...]) -> Any:
    """The statement of `read_by`, built once per key and order and kept, its keys bound when it
    runs (`any_of_ids`): building a statement and working out its cache key (SQLAlchemy walks a
    new one whole) cost more than running it (docs/benchmarks.md). A read by keys (`by_keys`)."""
    return by_keys(select(*columns(key.class_)).where(any_of_ids(key)).order_by(key, *order_by))


def grouped(rows: Iterable[Any], key: str) -> dict[Any, list[Any]]:
    """Rows by the value of their attribute `key`, each group in the rows' order."""
    found: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        found[getattr(row, key)].append(row)
    return found


def constraint_name(exc: DBAPIError) -> str | None:
    """The constraint PostgreSQL named in an integrity error (asyncpg keeps it on the cause)."""
    cause = getattr(exc.orig, "__cause__", None)
    return getattr(cause, "constraint_name", None)


def numeric_limit(column: Any) -> Decimal:
    """The largest value a `NUMERIC(p, s)` column (a mapped attribute) stores: a field's range
    is checked against it before any SQL, so no insert overflows."""
    precision, scale = column.type.precision, column.type.scale
    return Decimal(10) ** (precision - scale) - Decimal(10) ** -scale


def pg_enum(cls: type[enum.Enum], name: str) -> Enum:
    """A PostgreSQL enum type named `name` holding the members' values (not their names)."""
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid())


def created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def updated_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False)


def create_engine(url: URL | str, *, transaction_pooler: bool = False, **kwargs: object) -> AsyncEngine:
    """An engine on `url`. With `transaction_pooler` (CHARGECARS_DATABASE_POOLER=transaction) it
    works through a transaction-mode pooler such as PgBouncer (docs/deployment.md): no cache of
    prepared statements (the next transaction may be on another server connection), each
    prepared statement under a name of its own, no startup parameters (a pooler refuses those
    it does not know), and no generic plans (`by_keys`: nothing would keep them). What a
    request sets for its viewer is set per transaction (`set_config(…, true)`), so it never
    outlives the transaction on a shared connection."""
    if transaction_pooler:
        kwargs.setdefault(
            "connect_args",
            {"statement_cache_size": 0, "prepared_statement_name_func": lambda: f"__cc_{uuid.uuid4().hex}__"},
        )
        url = (make_url(url) if isinstance(url, str) else url).update_query_dict({"prepared_statement_cache_size": "0"})
    # JIT off: asyncpg's type introspection (enums, arrays; once per new connection) is slowed
    # badly by JIT compiling it (MagicStack/asyncpg#875), and the API's short statements gain
    # nothing from JIT. How statements are planned is set per transaction (`_as_viewer`). Behind
    # a pooler, set it on the database instead (`ALTER DATABASE … SET jit = off`).
    kwargs.setdefault("connect_args", {"server_settings": {"jit": "off"}})
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", False)
    engine = create_async_engine(url, **kwargs)
    # behind a pooler no prepared statement is kept: a generic plan would be planned every time
    return engine.execution_options(**{KEPT_PLANS: False}) if transaction_pooler else engine


API_ROLE = "chargecars_api"
"""The role a partner's or customer's transactions run as (migration 0006): it owns nothing,
its row-level security policies are the viewer's rules, and it writes nothing."""
STAFF_ROLE = "chargecars_staff"
"""The role staff transactions and every write run as (migration 0008): it owns nothing either,
and its policies let every row through (the services authorise writes)."""

RANDOM_PAGE_COST = "1.1"
"""The planner's cost of a random page read in request transactions (PostgreSQL's default is 4,
for spinning disks). The API reads pages of a hot working set: at 4 the planner hashed a
partner's 9,446 reached orders (about 1 ms) to test a page's 260 lines or 100 channel entries,
where a probe per row takes a fraction of that (docs/benchmarks.md)."""

PLANS = "chargecars.plans"
"""`Connection.info` key: the transaction of a restricted viewer and the plan cache mode it is
in now."""
SETUP = "chargecars.setup"
"""`Connection.info` key: a viewer's transaction whose settings are not sent yet, and what they
are (`_as_viewer`): they go with its first statement (`_plans_for`)."""
CUSTOM, GENERIC = "force_custom_plan", "force_generic_plan"
BY_KEYS = "chargecars_by_keys"
"""Execution option of a statement that reads rows by a batch of keys (`by_keys`)."""
KEPT_PLANS = "chargecars_kept_plans"
"""Execution option of an engine: False where prepared statements are not kept (behind a
transaction-mode pooler), so generic plans would be planned for every statement anyway."""
TRANSACTION_SETUP = "chargecars_transaction_setup"
"""Execution option of the statements that set a transaction up (its viewer's role and settings,
a plan cache mode) rather than read or write data: they set the plan cache mode themselves, and
a request's count of statements (`X-SQL-Statements`) leaves them out, as their number follows
how many connections the request's batches happened to need side by side."""
_AS_VIEWER = text(
    "SELECT set_config('role', :role, true), set_config('plan_cache_mode', :plans, true), "
    "set_config('random_page_cost', :page_cost, true), "
    "set_config('chargecars.viewer_root', :root, true), set_config('chargecars.viewer_contact', :contact, true), "
    "set_config('chargecars.viewer_partner', :partner, true), "
    "set_config('statement_timeout', coalesce(:timeout, current_setting('statement_timeout')), true)"
).execution_options(**{TRANSACTION_SETUP: True})
AUTOCOMMIT = "chargecars.autocommit"
"""The session factory's `info` key of sessions whose statements each commit on their own."""
STATEMENT_TIMEOUT = "statement_timeout"
"""The session factory's `info` key of the statement timeout of its viewers' transactions (a
PostgreSQL duration such as `30s`)."""


class ViewerSession(Session):
    """A session whose transactions run as the role of the viewer in `info["viewer"]` (anything
    with `unrestricted`, `root_id`, `contact_id` and `partner`: see `app.access.policy.Viewer`), so the
    database's row-level security (the second wall, docs/design.md) applies. A session without
    a viewer runs as the connecting role, the owner: migrations, the CLI, the demo loader and
    system processes."""


_SWITCH_PLANS = text("SELECT set_config('plan_cache_mode', :plans, true)").execution_options(
    **{TRANSACTION_SETUP: True}
)


def by_keys(statement: Any) -> Any:
    """`statement`, marked as a read of rows by a batch of keys (`= ANY(:ids)`) whose plan does
    not depend on who the viewer is: for a restricted viewer it runs on PostgreSQL's generic plan,
    planned once per connection and kept (docs/design.md, "Plans"). Its viewer tests must be
    probes per row (a correlated subquery fenced with `OFFSET 0`, a `CASE` arm, a row-level
    policy), never a join the planner could order by a guess at the size of the viewer's scope."""
    return statement.execution_options(**{BY_KEYS: True})


_THEN_GENERIC = text("(SELECT set_config('plan_cache_mode', 'force_generic_plan', true)) IS NOT NULL")
"""A condition that is always true and, once, as it runs, puts the transaction on generic plans
for the statements after it (a plan cache mode is read when a statement is bound, so the one
it is in keeps its custom plan)."""


@event.listens_for(Engine, "before_execute", retval=True)
def _plans_for(connection: Connection, statement: Any, multiparams: Any, params: Any, execution_options: Any) -> Any:
    """The plan cache mode of a statement (docs/design.md, "Plans"). Before the first statement
    of a viewer's transaction go its settings (`_as_viewer`), in the mode that statement wants.
    After that, in a restricted viewer's transaction, a statement that wants the other mode
    switches to it: generic plans for reads by keys (`by_keys`), custom plans for everything
    else (lists, counts and searches, whose best plan depends on the size of the viewer's scope).

    A list is mostly followed by the reads by keys of what it found, so a restricted viewer's
    list (a `Select`) carries `_THEN_GENERIC`: it leaves the transaction on generic plans without
    a round trip of its own. The mode only decides how fast a statement runs, never what it
    answers."""
    if execution_options.get(TRANSACTION_SETUP):
        return statement, multiparams, params
    wanted = GENERIC if execution_options.get(BY_KEYS) else CUSTOM
    if not settle(connection, wanted):
        found = connection.info.get(PLANS)
        if found is None or found[0] is not connection.get_transaction():
            return statement, multiparams, params  # no restricted viewer's transaction (any more)
        if wanted != found[1]:
            connection.execute(_SWITCH_PLANS, {"plans": wanted})
            connection.info[PLANS] = (found[0], wanted)
    if wanted == CUSTOM and isinstance(statement, Select) and PLANS in connection.info:
        statement = statement.where(_THEN_GENERIC)
        connection.info[PLANS] = (connection.info[PLANS][0], GENERIC)
    return statement, multiparams, params


def settle(connection: Connection, wanted: str = CUSTOM) -> bool:
    """Send the settings of the viewer's transaction on `connection` if they are still waiting
    for its first statement, a restricted viewer's in plan cache mode `wanted`; whoever uses the
    driver's connection itself in such a transaction calls this first. True if they were sent."""
    waiting = connection.info.pop(SETUP, None)
    if waiting is None:
        return False
    transaction, settings = waiting
    if transaction is not connection.get_transaction():
        return False  # that transaction ended without a statement
    if PLANS in connection.info:
        settings = {**settings, "plans": wanted}
        connection.info[PLANS] = (transaction, wanted)
    connection.execute(_AS_VIEWER, settings)
    return True


@event.listens_for(ViewerSession, "after_begin")
def _as_viewer(session: Session, transaction: Any, connection: Connection) -> None:
    """The viewer's role and settings for the transaction, kept until its first statement so
    that they travel in one round trip with the plan cache mode that statement wants."""
    viewer = session.info.get("viewer")
    if viewer is not None and session.info.get(AUTOCOMMIT):
        # its settings would hold for the first statement only, the rest would run as the owner
        raise RuntimeError("a viewer's session must run in transactions, not statement by statement")
    kept = connection.get_execution_options().get(KEPT_PLANS, True)
    connection.info.pop(SETUP, None)
    if viewer is None or viewer.unrestricted or not kept:
        connection.info.pop(PLANS, None)
    else:
        connection.info[PLANS] = (connection.get_transaction(), CUSTOM)
    if viewer is None:
        return
    connection.info[SETUP] = (
        connection.get_transaction(),
        {
            "role": STAFF_ROLE if viewer.unrestricted else API_ROLE,
            # A restricted viewer's statements are planned for their parameters every time, but
            # for reads by keys (`by_keys`): asyncpg prepares every statement, and PostgreSQL's
            # generic plan for a list under the viewer's policies (the size of the viewer's scope
            # unknown to it) was 10-40x slower once a long-running server had switched to it
            # (docs/benchmarks.md). Staff policies are `true`: cached plans serve.
            "plans": "auto" if viewer.unrestricted else CUSTOM,
            "page_cost": RANDOM_PAGE_COST,
            "root": str(viewer.root_id or ""),
            "contact": str(viewer.contact_id or ""),
            "partner": "on" if viewer.partner else "",
            "timeout": session.info.get(STATEMENT_TIMEOUT),
        },
    )


def session_factory(
    engine: AsyncEngine, *, statement_timeout_ms: int = 0, autocommit: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`; with `statement_timeout_ms`, every statement of a viewer's
    transaction (a request's) is cancelled after that long, so no runaway query holds a
    connection (`unavailability` then says TIMEOUT). With `autocommit`, each statement commits
    on its own and no BEGIN or COMMIT is sent: for the owner's single statements around a
    request (its token lookup, a partner's admission and call log), never for a viewer."""
    info: dict[str, object] = {STATEMENT_TIMEOUT: f"{statement_timeout_ms}ms"} if statement_timeout_ms > 0 else {}
    if autocommit:
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        info[AUTOCOMMIT] = True
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, sync_session_class=ViewerSession, info=info
    )


class Unavailable(enum.StrEnum):
    """Why a request could not be served by the database, through no fault of its own: each is
    answered SERVICE_UNAVAILABLE, retryable (docs/design.md, "When the database is away")."""

    DOWN = "down"
    """The server cannot be reached, refuses connections (starting, shutting down, full) or the
    connection was lost."""
    BUSY = "busy"
    """No pooled connection came free within the pool timeout."""
    TIMEOUT = "timeout"
    """A statement ran past the statement timeout and was cancelled."""
    OVERLOADED = "overloaded"
    """The worker's queue was full, or the request waited in it too long (`app/admission.py`):
    nothing of it ran."""


_DOWN_STATES = ("08", "57P01", "57P02", "57P03", "53300")
"""SQLSTATEs of a lost or refused connection: class 08 (connection exception), admin and crash
shutdown, cannot connect now (starting up), too many connections."""


def unavailability(exc: BaseException | None) -> Unavailable | None:
    """Whether `exc` (or what it wraps) means the database was away, busy or too slow, rather
    than a fault of the request or the code."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, PoolTimeout):
            return Unavailable.BUSY
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return Unavailable.DOWN
        if isinstance(exc, asyncpg.QueryCanceledError):
            return Unavailable.TIMEOUT
        if isinstance(exc, OSError | asyncpg.PostgresConnectionError | TimeoutError):
            return Unavailable.DOWN
        if isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc):  # used after it was lost
            return Unavailable.DOWN
        state = getattr(exc, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_DOWN_STATES):
            return Unavailable.DOWN
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return None
