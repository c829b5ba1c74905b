"""A small world for field operations: an installer organisation with three installers, a
partner with a person, a customer, an outsider partner, a CC order through the partner, and
tokens for each kind of viewer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.access.policy import STAFF
from app.accounts.models import Role
from app.audit.service import SYSTEM
from app.catalog.models import Article
from app.orders import service as orders
from app.orders.service import LineIn, OrderCreate
from tests.factories import brand_id, gid, issue_token, make_contact


@dataclass
class Field:
    brand: uuid.UUID
    installers: list[uuid.UUID]
    partner: uuid.UUID
    partner_person: uuid.UUID
    outsider: uuid.UUID
    customer: uuid.UUID
    order: uuid.UUID
    article: uuid.UUID
    tokens: dict[str, str] = field(default_factory=dict)

    def ids(self, *contacts: uuid.UUID) -> list[str]:
        return [gid("Contact", c) for c in contacts]


def next_weekday(hour: int, days_ahead: int = 7) -> datetime:
    """A weekday at least `days_ahead` days from now, at `hour`:00 UTC."""
    day = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


async def make_order(sessions: Any, world: Field, *, brand: uuid.UUID | None = None) -> uuid.UUID:
    async with sessions() as session, session.begin():
        order = await orders.create(
            session=session,
            order_in=OrderCreate(
                business_entity_id=brand or world.brand,
                account_contact_id=world.partner,
                end_customer_contact_id=world.customer,
                channel_contact_ids=[world.partner],
            ),
            actor=SYSTEM,
            viewer=STAFF,
        )
        if brand is None:
            await orders.add_line(
                session=session,
                order_id=order.id,
                line_in=LineIn(article_id=world.article, quantity=Decimal(1)),
                actor=SYSTEM,
            )
        return order.id


@pytest.fixture
async def field_world(sessions) -> Field:
    installer_org = await make_contact(sessions, "Installers B.V.", subtype="Installer")
    installers = [
        (await make_contact(sessions, f"Installer {n}", person=True, parent_id=installer_org.id)).id for n in range(3)
    ]
    partner = await make_contact(sessions, "Partner B.V.", subtype="Partner")
    partner_person = await make_contact(sessions, "Partner Person", person=True, parent_id=partner.id)
    outsider = await make_contact(sessions, "Outsider B.V.", subtype="Partner")
    outsider_person = await make_contact(sessions, "Outsider Person", person=True, parent_id=outsider.id)
    customer = await make_contact(sessions, "Customer", person=True)
    brand = await brand_id(sessions, "CC")
    async with sessions() as session, session.begin():
        article = Article(
            business_entity_id=brand,
            sku="T-WB",
            name="Test wallbox",
            unit_price=Decimal("800.00"),
            vat_rate=Decimal(21),
        )
        session.add(article)
        await session.flush()
        article_id = article.id
    world = Field(
        brand=brand,
        installers=installers,
        partner=partner.id,
        partner_person=partner_person.id,
        outsider=outsider.id,
        customer=customer.id,
        order=uuid.uuid4(),
        article=article_id,
    )
    world.order = await make_order(sessions, world)
    world.tokens = {
        "admin": await issue_token(sessions, Role.ADMIN),
        "staff": await issue_token(sessions, Role.STAFF),
        "partner": await issue_token(sessions, Role.PARTNER, contact_id=partner_person.id),
        "outsider": await issue_token(sessions, Role.PARTNER, contact_id=outsider_person.id),
        "customer": await issue_token(sessions, Role.CUSTOMER, contact_id=customer.id),
    }
    return world
