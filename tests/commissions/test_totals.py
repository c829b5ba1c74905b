"""The commission totals (migration 0022): parts added by the database in the transaction that
writes the commissions, whatever writes them, summed back by a scheduled run, and read by the
overview of all periods. The overview of a period that spans everything reads the commissions
themselves: both must answer the same."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text

from app.accounts.models import Role
from app.commissions.service import COMPACT
from app.dbserver import asyncpg_dsn
from app.jobs import schedules
from app.jobs.queue import JobContext
from bench.generate import generate
from tests.factories import issue_token
from tests.support.api import gql

COUNTED = """
SELECT beneficiary_contact_id, status, count(*)::int, sum(amount) FROM partner_commission
GROUP BY 1, 2 ORDER BY 1, 2
"""
KEPT = """
SELECT beneficiary_contact_id, status, sum(commissions)::int, sum(amount) FROM commission_total
GROUP BY 1, 2 HAVING sum(commissions) <> 0 OR sum(amount) <> 0 ORDER BY 1, 2
"""
PARTS = "SELECT count(*) FROM commission_total"
OVERVIEW = """
query ($period: PeriodInput, $status: [String!]) {
  commissionOverview(period: $period, status: $status) {
    count total
    beneficiaries(first: 100) { totalCount nodes { count total beneficiary { id } } }
  }
}
"""
ALL_PERIODS = {"from": "2000-01-01", "to": "2100-12-31"}


async def _kept_as_counted(session) -> list[Any]:
    counted = (await session.execute(text(COUNTED))).all()
    assert (await session.execute(text(KEPT))).all() == counted
    return counted


def _compaction() -> schedules.Schedule:
    return next(s for s in schedules.registered() if s.name == COMPACT)


async def test_the_totals_follow_every_write_of_the_commissions(database_url, session, sessions, settings) -> None:
    await generate(database_url, scale=0.004)  # bulk-loaded without triggers, then recounted
    before = await _kept_as_counted(session)
    assert len(before) > 20

    writes = [
        # a status change of some, an amount change of others, a beneficiary moved
        "UPDATE partner_commission SET status = 'approved' WHERE status = 'pending' AND level = 1",
        "UPDATE partner_commission SET amount = amount + 1.25 WHERE level = 2",
        "UPDATE partner_commission SET beneficiary_contact_id = (SELECT beneficiary_contact_id "
        "FROM partner_commission ORDER BY id LIMIT 1) WHERE id IN (SELECT id FROM partner_commission "
        "ORDER BY id DESC LIMIT 5)",
        # new ones, and some removed: every commission of one beneficiary among them
        "INSERT INTO partner_commission (id, order_id, business_entity_id, beneficiary_contact_id, level, "
        "rate, base_amount, amount, status) SELECT gen_random_uuid(), order_id, business_entity_id, "
        "beneficiary_contact_id, level + 20, rate, base_amount, amount, 'pending' FROM partner_commission "
        "WHERE level = 1 LIMIT 30",
        "DELETE FROM partner_commission WHERE beneficiary_contact_id = (SELECT beneficiary_contact_id "
        "FROM partner_commission ORDER BY id DESC LIMIT 1)",
        "DELETE FROM partner_commission WHERE level > 20 AND amount > 100",
    ]
    for write in writes:
        await session.execute(text(write))
        await _kept_as_counted(session)  # within the writing transaction
    await session.commit()
    after = await _kept_as_counted(session)
    assert after != before

    # an update that changes neither amount nor status nor beneficiary adds no part
    parts = (await session.execute(text(PARTS))).scalar_one()
    assert parts > len(after)  # a part per key, and those the writes added
    await session.execute(text("UPDATE partner_commission SET updated_at = now()"))
    await session.commit()
    assert (await session.execute(text(PARTS))).scalar_one() == parts
    # a rolled-back write leaves them as they were
    await session.execute(text("DELETE FROM partner_commission"))
    await session.rollback()
    assert await _kept_as_counted(session) == after

    # the scheduled run sums them back into one part per beneficiary and status
    async with httpx.AsyncClient() as http:
        folded = await schedules.run(JobContext(sessions, settings, http), _compaction())
    assert (folded.outcome, folded.detail) == ("ok", f"{parts - len(after)} parts folded")
    assert (await session.execute(text(PARTS))).scalar_one() == len(after)
    assert await _kept_as_counted(session) == after


async def test_concurrent_writers_of_the_same_beneficiaries_neither_lose_nor_deadlock(
    database_url, session, sessions
) -> None:
    await generate(database_url, scale=0.004)
    rows = (await session.execute(text("SELECT id, beneficiary_contact_id FROM partner_commission ORDER BY id"))).all()
    await session.commit()
    # eight writers, each changing its own commissions, all of them spread over the same
    # beneficiaries and visited in the opposite order by every other writer
    slices = [[row.id for row in rows[i::8]] for i in range(8)]

    async def writer(index: int, ids: list[Any]) -> None:
        conn = await asyncpg.connect(**asyncpg_dsn(database_url))
        try:
            for round_ in range(5):
                async with conn.transaction():
                    order = ids if (index + round_) % 2 else list(reversed(ids))
                    for start in range(0, len(order), 7):
                        await conn.execute(
                            "UPDATE partner_commission SET amount = amount + 0.01, "
                            "status = CASE status WHEN 'pending' THEN 'approved' ELSE 'pending' END "
                            "WHERE id = ANY($1::uuid[])",
                            order[start : start + 7],
                        )
                    await asyncio.sleep(0)
        finally:
            await conn.close()

    async def compacting() -> None:  # the scheduled run, meanwhile, again and again
        for _ in range(10):
            async with sessions() as compactor, compactor.begin():
                await compactor.execute(text("SELECT commission_total_compact()"))
            await asyncio.sleep(0.01)

    await asyncio.gather(*(writer(i, ids) for i, ids in enumerate(slices)), compacting())
    await _kept_as_counted(session)


async def test_the_overview_of_all_periods_answers_as_the_commissions_do(client, database_url, sessions) -> None:
    data = await generate(database_url, scale=0.004)
    async with sessions() as session, session.begin():  # every commission of one beneficiary gone
        await session.execute(
            text(
                "DELETE FROM partner_commission WHERE beneficiary_contact_id = "
                "(SELECT beneficiary_contact_id FROM partner_commission ORDER BY id LIMIT 1)"
            )
        )
    tokens = [
        await issue_token(sessions, Role.ADMIN),
        await issue_token(sessions, Role.PARTNER, contact_id=data.staff[data.top_partner][0]),
    ]
    for token in tokens:
        for status in (None, ["pending"], ["approved", "paid"]):
            kept = (await gql(client, OVERVIEW, {"status": status}, token=token))["commissionOverview"]
            counted = (await gql(client, OVERVIEW, {"status": status, "period": ALL_PERIODS}, token=token))[
                "commissionOverview"
            ]
            assert kept == counted
            assert kept["beneficiaries"]["totalCount"] > 0 or status == ["approved", "paid"]
            assert all(node["count"] > 0 for node in kept["beneficiaries"]["nodes"])
