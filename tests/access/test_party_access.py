"""A page's contacts are read as what showed them (`app.access.policy.party_access`): parties to
orders, commissions' beneficiaries and installers on bookings that the viewer was shown. Each gets
exactly the access the whole contact rule gives it, an ancestor of the viewer its name only, and
the batch tests none of the rule's branches that how the contacts were reached already decides."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.access.policy import Access, Viewer, viewer_for
from app.accounts.models import Role
from app.contacts import service as contacts
from app.contacts.models import ContactType
from bench.generate import Dataset, generate
from tests.factories import issue_token
from tests.support.api import post
from tests.support.walls import knock_down

MET = """
    WITH seen AS (SELECT order_id FROM order_reach WHERE ancestor_id = :root)
    SELECT contact_id FROM order_party WHERE order_id IN (SELECT order_id FROM seen)
    UNION SELECT c.beneficiary_contact_id FROM partner_commission c
          JOIN contact_closure scope ON scope.descendant_id = c.beneficiary_contact_id AND scope.ancestor_id = :root
          WHERE c.order_id IN (SELECT order_id FROM seen)
    UNION SELECT installer_contact_id FROM visit_installer WHERE order_id IN (SELECT order_id FROM seen)"""
"""The contacts an order page of `root`'s shows: its orders' parties, the beneficiaries of the
commissions it sees on them, and the installers booked on their visits."""


def _viewers(data: Dataset) -> dict[str, Viewer]:
    deep = next(org for org in data.organisations[-1] if data.staff[org])
    customer = data.customers[0]
    return {
        "master distributor": _partner(data, data.top_partner),
        "partner deep in the hierarchy": _partner(data, deep),
        "customer": viewer_for(
            roles=frozenset({Role.CUSTOMER}), contact_id=customer, contact_type=ContactType.PERSON, parent_id=None
        ),
    }


def _partner(data: Dataset, organisation: uuid.UUID) -> Viewer:
    return viewer_for(
        roles=frozenset({Role.PARTNER}),
        contact_id=data.staff[organisation][0],
        contact_type=ContactType.PERSON,
        parent_id=organisation,
    )


@pytest.mark.parametrize("walls", ["both", "application only"])
async def test_a_page_s_contacts_get_the_access_the_whole_rule_gives(
    database_url, sessions, monkeypatch, walls
) -> None:
    data = await generate(database_url, scale=0.004)
    knock_down(monkeypatch, walls)
    levels: Counter[Access] = Counter()
    for name, viewer in _viewers(data).items():
        async with sessions() as session:
            met = list((await session.execute(text(MET), {"root": viewer.root_id})).scalars())
        assert len(met) > 10, name
        async with sessions(info={"viewer": viewer}) as session:
            whole = await contacts.get_many(session=session, ids=met, viewer=viewer)
        async with sessions(info={"viewer": viewer}) as session:
            as_parties = await contacts.get_many(session=session, ids=met, viewer=viewer, parties=True)
        assert _levels(as_parties) == _levels(whole), name
        assert set(whole) == set(met), name  # every contact the page shows is visible
        levels.update(access for _, access in whole.values())
    # the data has every level a page's contact can have: in scope, an ancestor, a party
    assert {Access.FULL, Access.NAME, Access.PARTY} <= set(levels), levels


def _levels(found: dict[uuid.UUID, Any]) -> dict[uuid.UUID, Access]:
    return {contact_id: access for contact_id, (_, access) in found.items()}


TREE = (Path(__file__).parents[2] / "bench" / "queries" / "order_tree.fragment.graphql").read_text()
PAGE = "query { orders(first: 50) { nodes { ...OrderTree } } }" + TREE


async def test_an_order_page_reads_its_contacts_as_parties_in_one_batch(
    client, database_url, sessions, count_statements
) -> None:
    data = await generate(database_url, scale=0.004)
    token = await issue_token(sessions, Role.PARTNER, contact_id=data.staff[data.top_partner][0])
    with count_statements() as counter:
        answer = (await post(client, PAGE, token=token)).json()
    assert "errors" not in answer and len(answer["data"]["orders"]["nodes"]) == 50
    (read,) = [s for s in counter.statements if s.startswith("SELECT contact.id")]
    # the rule's party branches read the contact's orders, bookings and quotes: none of them
    for table in ("order_party", "visit_installer", "quote"):
        assert table not in read, table
