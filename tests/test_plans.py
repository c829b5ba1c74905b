"""Plans of a restricted viewer's statements (app/db.py): reads by keys (`by_keys`) run on
PostgreSQL's generic plans, everything else is planned for its parameters; the mode is set with
the viewer's settings for the first statement, a list leaves generic plans behind it, the mode is
switched only when a statement wants the other one, and never leaks into another transaction."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text

from app.access.policy import STAFF, Viewer
from app.db import by_keys, create_engine, session_factory

PARTNER = Viewer(unrestricted=False, contact_id=uuid.uuid4(), root_id=uuid.uuid4(), partner=True)
MODE = "SELECT current_setting('plan_cache_mode')"
SWITCH = "SELECT set_config('plan_cache_mode'"


async def _modes(session, *statements) -> list[str]:
    return [str((await session.execute(statement)).scalar_one()) for statement in statements]


async def test_reads_by_keys_run_on_generic_plans_and_the_rest_on_custom_ones(sessions, count_statements) -> None:
    async with sessions(info={"viewer": PARTNER}) as session:
        with count_statements() as counter:
            modes = await _modes(session, text(MODE), by_keys(text(MODE)), by_keys(text(MODE)), text(MODE))
    assert modes == ["force_custom_plan", "force_generic_plan", "force_generic_plan", "force_custom_plan"]
    # one switch each way: the second read by keys found the mode it wanted
    assert sum(s.startswith(SWITCH) for s in counter.statements) == 2


async def test_the_first_statement_sets_the_mode_with_the_viewer_settings(sessions, count_statements) -> None:
    # the viewer's settings wait for the transaction's first statement and carry the mode it
    # wants: no switch for it, whichever kind it is
    for kind, mode in ((by_keys, "force_generic_plan"), (lambda statement: statement, "force_custom_plan")):
        async with sessions(info={"viewer": PARTNER}) as session:
            with count_statements() as counter:
                assert await _modes(session, kind(text(MODE)), kind(text("SELECT current_user"))) == [
                    mode,
                    "chargecars_api",
                ]
        assert not any(s.startswith(SWITCH) for s in counter.statements)
        assert sum("set_config('role'" in s for s in counter.statements) == 1


async def test_a_list_leaves_the_transaction_on_generic_plans(sessions, count_statements) -> None:
    # a list runs on the custom plan it was bound with and leaves generic plans behind for the
    # reads by keys of what it found, without a round trip of its own; a later statement that
    # wants custom plans switches back
    listed = select(func.count()).select_from(select(text("1 AS one")).subquery())
    async with sessions(info={"viewer": PARTNER}) as session:
        with count_statements() as counter:
            assert await _modes(session, listed) == ["1"]
            assert sum(s.startswith(SWITCH) for s in counter.statements) == 0
            assert await _modes(session, by_keys(text(MODE)), text(MODE), listed, by_keys(text(MODE))) == [
                "force_generic_plan",
                "force_custom_plan",
                "1",
                "force_generic_plan",
            ]
    # one switch: to custom plans for the text statement; none after either list
    assert sum(s.startswith(SWITCH) for s in counter.statements) == 1
    async with sessions(info={"viewer": STAFF}) as staff:  # staff plans are left to PostgreSQL
        assert await _modes(staff, listed, text(MODE)) == ["1", "auto"]


async def test_the_driver_connection_gets_the_viewer_settings_first(sessions) -> None:
    # whoever uses the driver's connection itself (the job queue) settles the settings first
    from app.jobs.queue import _asyncpg_connection

    async with sessions(info={"viewer": PARTNER}) as session:
        raw = await _asyncpg_connection(session)
        assert await raw.fetchval("SELECT current_user") == "chargecars_api"
        assert await raw.fetchval(MODE) == "force_custom_plan"


async def test_the_mode_ends_with_its_transaction(sessions) -> None:
    async with sessions(info={"viewer": PARTNER}) as session:
        assert await _modes(session, by_keys(text(MODE))) == ["force_generic_plan"]
        await session.commit()  # the next transaction may run on the same connection
        assert await _modes(session, text(MODE), by_keys(text(MODE))) == ["force_custom_plan", "force_generic_plan"]
        await session.rollback()
        assert await _modes(session, text(MODE)) == ["force_custom_plan"]


async def test_staff_and_system_sessions_keep_postgres_plan_caching(sessions, count_statements) -> None:
    async with sessions(info={"viewer": STAFF}) as staff, sessions() as system:
        with count_statements() as counter:
            assert await _modes(staff, text(MODE), by_keys(text(MODE))) == ["auto", "auto"]
            assert await _modes(system, by_keys(text(MODE)), text(MODE)) == ["auto", "auto"]
    assert not any(s.startswith(SWITCH) for s in counter.statements)


async def test_the_mode_does_not_outlive_its_transaction_on_the_connection(database_url, count_statements) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)  # every transaction on one connection
    try:
        async with session_factory(engine)(info={"viewer": PARTNER}) as session:
            assert await _modes(session, by_keys(text(MODE))) == ["force_generic_plan"]
        async with engine.connect() as system:  # a process's own transaction, no viewer
            assert [(await system.execute(s)).scalar_one() for s in (text(MODE), by_keys(text(MODE)))] == [
                "auto",
                "auto",
            ]
    finally:
        await engine.dispose()


async def test_behind_a_transaction_pooler_every_plan_is_custom(database_url) -> None:
    engine = create_engine(database_url, transaction_pooler=True)  # prepared statements are not kept
    try:
        async with session_factory(engine)(info={"viewer": PARTNER}) as session:
            assert await _modes(session, by_keys(text(MODE)), text(MODE)) == ["force_custom_plan"] * 2
    finally:
        await engine.dispose()


async def test_a_viewer_never_runs_statement_by_statement(database_url) -> None:
    # its settings are the transaction's (`set_config(…, true)`): without a transaction they would
    # hold for one statement, and the next would run as the owner, past row-level security
    engine = create_engine(database_url)
    try:
        statements = session_factory(engine, autocommit=True)
        async with statements() as owner:  # the owner's own statements commit one by one
            assert (await owner.execute(text("SELECT current_user"))).scalar_one() != "chargecars_api"
        async with statements(info={"viewer": PARTNER}) as session:
            with pytest.raises(RuntimeError, match="in transactions"):
                await session.execute(text("SELECT current_user"))
    finally:
        await engine.dispose()
