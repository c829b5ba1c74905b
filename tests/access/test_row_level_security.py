"""Row-level security, the second wall (migrations 0006, 0008): the API and staff roles own
nothing and cannot bypass it; the API role sees nothing without a viewer, sees a viewer's rows
only and writes nothing; staff (and every write) go through the staff role's policies. That
it enforces the same rules as the application on every path is shown by the generated
comparison run with the application's conditions switched off (test_generated_hierarchy)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.access.policy import STAFF, viewer_for
from app.contacts.models import ContactType
from app.db import API_ROLE, STAFF_ROLE
from tests.factories import load_demo

SCOPED = (
    "contact",
    "sales_order",
    "order_channel",
    "line_item",
    "order_hold",
    "partner_commission",
    "commission_total",
    "status_transition",
    "entity_current_status",
    "order_reach",
    "invoice",
    "invoice_line",
    "payment",
    "payment_allocation",
    "bank_statement",
    "bank_statement_entry",
    "outbox_event",
    "partner_integration",
    "partner_product",
    "partner_order",
    "webhook_delivery",
    "webhook_attempt",
    "partner_api_call",
    "partner_rate_window",
    "notification_template",
    "communication",
    "internal_task",
    "schedule_run",
    "quote",
    "quote_channel",
    "quote_line",
    "visit",
    "visit_installer",
    "site_survey",
    "installer_team",
    "installer_team_member",
    "work_order",
    "work_order_task",
    "installation_record",
    "seal_usage",
    "document",
)


async def _counts(sessions, viewer) -> dict[str, int]:
    async with sessions(info={"viewer": viewer}) as session:
        return {table: (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() for table in SCOPED}


@pytest.mark.parametrize("role", [API_ROLE, STAFF_ROLE])
async def test_the_request_roles_own_nothing_and_cannot_bypass(engine, role) -> None:
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                text("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": role}
            )
        ).one()
        owned = (
            await conn.execute(text("SELECT count(*) FROM pg_tables WHERE tableowner = :r"), {"r": role})
        ).scalar_one()
        secured = set(
            (
                await conn.execute(
                    text("SELECT relname FROM pg_class WHERE relrowsecurity AND relnamespace = 'public'::regnamespace")
                )
            ).scalars()
        )
    assert tuple(found) == (False, False, False) and owned == 0
    assert secured == set(SCOPED)


async def test_each_viewer_runs_as_its_role(sessions) -> None:
    partner = viewer_for(
        roles=frozenset({"partner"}), contact_id=uuid.uuid4(), contact_type=ContactType.ORGANIZATION, parent_id=None
    )
    for viewer, role in ((STAFF, STAFF_ROLE), (partner, API_ROLE)):
        async with sessions(info={"viewer": viewer}) as session:
            assert (await session.execute(text("SELECT current_user"))).scalar_one() == role


async def test_without_a_viewer_the_api_role_sees_nothing(sessions, engine) -> None:
    await load_demo(sessions, with_orders=True)
    async with sessions() as session, session.begin():
        await session.execute(text(f"SET LOCAL ROLE {API_ROLE}"))
        for table in SCOPED:
            assert (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() == 0, table


async def test_a_viewer_sees_its_rows_and_staff_all(sessions) -> None:
    contacts, _ = await load_demo(sessions, with_orders=True)
    everything = await _counts(sessions, STAFF)
    async with sessions() as session:  # the owner: no row-level security
        assert everything == {
            t: (await session.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in SCOPED
        }
    dealer = contacts["Sanne Bakker"]
    partner = viewer_for(
        roles=frozenset({"partner"}),
        contact_id=dealer.id,
        contact_type=ContactType.PERSON,
        parent_id=dealer.parent_organization_id,
    )
    seen = await _counts(sessions, partner)
    assert 0 < seen["sales_order"] < everything["sales_order"]
    assert 0 < seen["contact"] < everything["contact"]
    assert seen["partner_commission"] < everything["partner_commission"]


async def test_only_staff_transactions_write(sessions) -> None:
    contacts, _ = await load_demo(sessions)
    dealer = contacts["Sanne Bakker"]
    partner = viewer_for(
        roles=frozenset({"partner"}),
        contact_id=dealer.id,
        contact_type=ContactType.PERSON,
        parent_id=dealer.parent_organization_id,
    )
    insert = text("INSERT INTO contact (contact_type, display_name) VALUES ('organization', 'Sneaky B.V.')")
    with pytest.raises(DBAPIError, match="row-level security"):
        async with sessions(info={"viewer": partner}) as session, session.begin():
            await session.execute(insert)
    async with sessions(info={"viewer": STAFF}) as session, session.begin():
        await session.execute(insert)
