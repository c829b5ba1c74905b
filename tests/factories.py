"""Building contacts and demo data for tests, through the services (commits its own work)."""

from __future__ import annotations

import os
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry import relay

from app import demo
from app.accounts import service as accounts
from app.accounts.models import Role
from app.audit.service import SYSTEM
from app.contacts import service as contacts
from app.contacts.models import Contact, ContactType
from app.contacts.service import ContactCreate
from graphql_schema.node import global_id


async def make_contact(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    *,
    person: bool = False,
    parent_id: uuid.UUID | None = None,
    rate: Decimal | None = None,
    subtype: str | None = None,
) -> Contact:
    async with sessions() as session, session.begin():
        return await contacts.create(
            session=session,
            actor=SYSTEM,
            contact_in=ContactCreate(
                contact_type=ContactType.PERSON if person else ContactType.ORGANIZATION,
                display_name=name,
                parent_id=parent_id,
                commission_rate=rate,
                contact_subtype=subtype,
                email=f"{uuid.uuid4().hex[:10]}@test.example",
            ),
        )


async def make_tree(
    sessions: async_sessionmaker[AsyncSession], *, roots: int, fanout: int, depth: int, persons_per_org: int = 1
) -> list[Contact]:
    """`roots` top-level organisations, each with `fanout` child organisations per level down to
    `depth` levels, and persons in every organisation; inserted in one transaction."""
    created: list[Contact] = []
    async with sessions() as session, session.begin():

        async def add(contact_type: ContactType, name: str, parent: Contact | None) -> Contact:
            contact = await contacts.create(
                session=session,
                actor=SYSTEM,
                contact_in=ContactCreate(
                    contact_type=contact_type, display_name=name, parent_id=parent.id if parent else None
                ),
            )
            created.append(contact)
            return contact

        level = [await add(ContactType.ORGANIZATION, f"Root {r:03d}", None) for r in range(roots)]
        for d in range(1, depth + 1):
            next_level = []
            for parent in level:
                for p in range(persons_per_org):
                    await add(ContactType.PERSON, f"Person {parent.display_name}/{p}", parent)
                if d < depth:
                    for f in range(fanout):
                        next_level.append(await add(ContactType.ORGANIZATION, f"{parent.display_name}.{f}", parent))
            level = next_level
    return created


async def load_demo(
    sessions: async_sessionmaker[AsyncSession], *, with_orders: bool = False
) -> tuple[dict[str, Contact], dict[str, str]]:
    """The demo data (without its orders unless asked: tests make the orders they reason about):
    contacts by display name, and a token per demo account kind."""
    async with sessions() as session, session.begin():
        await demo.seed(session=session, with_orders=with_orders)
        issued = await demo.issue_demo_tokens(session=session)
    async with sessions() as session:
        by_name = {c.display_name: c for c in await session.scalars(select(Contact))}
    tokens = {account.key: token for account, token in issued}
    return by_name, tokens


DEMO_VIEWERS = [
    ("admin", None, "staff"),
    ("partner", "Mark Visser", "partner"),
    ("dealer", "Sanne Bakker", "partner"),
    ("customer", "Eva de Vries", "customer"),
]
"""The demo accounts as (token key from `load_demo`, display name of their contact, role)."""


async def brand_id(sessions: async_sessionmaker[AsyncSession], code: str) -> uuid.UUID:
    async with sessions() as session:
        return (await session.execute(text("SELECT id FROM business_entity WHERE code = :c"), {"c": code})).scalar_one()


gid = global_id  # the global id of an object, as clients see it


def uid(value: str) -> uuid.UUID:
    """The UUID inside a global id (the inverse of `gid`)."""
    return uuid.UUID(relay.GlobalID.from_id(value).node_id)


async def issue_token(
    sessions: async_sessionmaker[AsyncSession], *roles: Role, contact_id: Any = None, email: str | None = None
) -> str:
    async with sessions() as session, session.begin():
        account = await accounts.create_account(
            session=session,
            actor=SYSTEM,
            account_in=accounts.AccountCreate(
                email=email or f"{roles[0].value}-{os.urandom(4).hex()}@test.example",
                display_name="Test account",
                roles=roles,
                contact_id=contact_id,
            ),
        )
        _, raw = await accounts.issue_token(
            session=session, account_id=account.id, label="test", expires_at=None, actor=SYSTEM
        )
    return raw
