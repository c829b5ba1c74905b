"""A generated hierarchy (216 organisations over 6 levels, persons, customers, 400 orders with
lines, the completed ones with their commissions, a third of those billed and some credited) read by
every kind of viewer through every
path, compared with the visibility rules (docs/design.md, "Visibility") computed here, independently of app/: not one
row
too many, not one too few, and the counts and totals agree.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.dialects.postgresql import Range

from app.accounts.models import Role
from app.audit.service import SYSTEM
from app.commissions import service as commissions
from app.commissions.models import PartnerCommission
from app.config import get_settings
from app.contacts.models import Contact
from app.finance import payments
from app.finance import service as finance
from app.finance.models import PaymentMethod
from app.notifications.models import Communication, CommunicationStatus
from app.operations.documents import DirectoryStore
from app.operations.models import Document, Quote, QuoteChannel, Visit, VisitInstaller, WorkOrder
from app.orders.models import LineItem, Order, OrderChannel
from app.tasks.models import InternalTask
from tests.factories import gid, issue_token, uid
from tests.support.api import gql
from tests.support.hierarchy import Hierarchy
from tests.support.walls import WALLS, knock_down

ORGANISATIONS_PER_LEVEL = (4, 12, 30, 50, 60, 60)  # 216 organisations, 6 levels
CUSTOMERS = 80
ORDERS = 400
CENT = Decimal("0.01")


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class World:
    """The generated data and the rules, computed in plain Python."""

    parent: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    is_org: dict[uuid.UUID, bool] = field(default_factory=dict)
    rate: dict[uuid.UUID, Decimal | None] = field(default_factory=dict)
    levels: list[list[uuid.UUID]] = field(default_factory=list)
    staff_person: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # organisation → its person
    customers: list[uuid.UUID] = field(default_factory=list)
    orders: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    commissions: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    documents: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)  # invoices and credit notes
    payments: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # payment → the invoice it pays
    communications: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)  # order, audience, recipient
    tasks: set[uuid.UUID] = field(default_factory=set)
    installers: list[uuid.UUID] = field(default_factory=list)
    quotes: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)  # account, end, chain
    visits: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)  # order or quote, installers, work order
    work_orders: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # → its order
    files: dict[uuid.UUID, tuple[str, uuid.UUID]] = field(default_factory=dict)  # document → (parent kind, parent)

    @cached_property
    def hierarchy(self) -> Hierarchy:
        """Asked only once the world is generated (the parents no longer change)."""
        return Hierarchy(self.parent)

    def subtree(self, root: uuid.UUID) -> set[uuid.UUID]:
        return {root} | self.hierarchy.below(root)

    def ancestors(self, contact: uuid.UUID) -> list[uuid.UUID]:
        return self.hierarchy.above(contact)

    def effective_rate(self, contact: uuid.UUID) -> Decimal | None:
        for candidate in [contact, *self.ancestors(contact)]:
            if self.rate.get(candidate) is not None:
                return self.rate[candidate]
        return None

    def involved(self, order: dict[str, Any]) -> set[uuid.UUID]:
        return {order["account"], *([order["end"]] if order["end"] else []), *order["chain"]}


@dataclass
class Expected:
    """What one viewer may see, by the rules."""

    members: set[uuid.UUID] | None  # None: unrestricted
    world: World
    viewer_contact: uuid.UUID | None = None
    customer: bool = False

    def sees_order(self, order_id: uuid.UUID) -> bool:
        return self.members is None or bool(self.world.involved(self.world.orders[order_id]) & self.members)

    @property
    def orders(self) -> set[uuid.UUID]:
        return {o for o in self.world.orders if self.sees_order(o)}

    @property
    def contacts(self) -> set[uuid.UUID]:
        if self.members is None:
            return set(self.world.parent)
        on_orders = set().union(*(self.world.involved(self.world.orders[o]) for o in self.orders))
        on_quotes = set().union(*(self.world.involved(self.world.quotes[q]) for q in self.quotes))
        installing = {i for v in self.visits for i in self.installers_seen(v)}
        assert self.viewer_contact is not None
        return self.members | set(self.world.ancestors(self.viewer_contact)) | on_orders | on_quotes | installing

    def sees_quote(self, quote_id: uuid.UUID) -> bool:
        """Like an order: one of its parties is in scope."""
        return self.members is None or bool(self.world.involved(self.world.quotes[quote_id]) & self.members)

    @property
    def quotes(self) -> set[uuid.UUID]:
        return {q for q in self.world.quotes if self.sees_quote(q)}

    def sees_parent(self, visit_id: uuid.UUID) -> bool:
        visit = self.world.visits[visit_id]
        return self.sees_order(visit["order"]) if visit["order"] else self.sees_quote(visit["quote"])

    def sees_visit(self, visit_id: uuid.UUID) -> bool:
        """Its order (or quote) is visible, or one of its installers is in scope."""
        if self.members is None:
            return True
        return self.sees_parent(visit_id) or bool(self.world.visits[visit_id]["installers"] & self.members)

    def installers_seen(self, visit_id: uuid.UUID) -> set[uuid.UUID]:
        """A booking is visible with its visit's order or quote, or when its installer is in scope."""
        crew = self.world.visits[visit_id]["installers"]
        if self.members is None or self.sees_parent(visit_id):
            return set(crew)
        return crew & self.members

    @property
    def visits(self) -> set[uuid.UUID]:
        return {v for v in self.world.visits if self.sees_visit(v)}

    def sees_work_order(self, work_order_id: uuid.UUID) -> bool:
        """Its order is visible, or an installer in scope is booked on one of its visits."""
        if self.members is None or self.sees_order(self.world.work_orders[work_order_id]):
            return True
        return any(
            v["work_order"] == work_order_id and v["installers"] & self.members for v in self.world.visits.values()
        )

    @property
    def work_orders(self) -> set[uuid.UUID]:
        return {w for w in self.world.work_orders if self.sees_work_order(w)}

    @property
    def files(self) -> set[uuid.UUID]:
        """A document follows its one parent; one of a contact's: the contact is in scope."""
        rules = {
            "order": self.sees_order,
            "quote": self.sees_quote,
            "visit": self.sees_visit,
            "work_order": self.sees_work_order,
            "contact": lambda c: self.members is None or c in self.members,
        }
        return {d for d, (kind, parent) in self.world.files.items() if rules[kind](parent)}

    def shown(self, contact: uuid.UUID, customer: bool) -> dict[str, bool]:
        """Which of a visible contact's details this viewer sees: everything in its scope (but
        a customer no commission rate), names only for its ancestors (whatever order they are
        on), and for a contact it knows only from an order a partner the details it needs to
        work the order, a customer nothing more than the name; no one outside staff sees the
        commission rate of a contact outside its scope."""
        if self.members is None:
            return {"details": True, "rate": True}
        assert self.viewer_contact is not None
        if contact in self.members:
            return {"details": True, "rate": not customer}
        if contact in self.world.ancestors(self.viewer_contact):
            return {"details": False, "rate": False}
        return {"details": not customer, "rate": False}

    def sees_commission(self, commission_id: uuid.UUID) -> bool:
        return self.members is None or self.world.commissions[commission_id]["beneficiary"] in self.members

    @property
    def commissions(self) -> set[uuid.UUID]:
        return {c for c in self.world.commissions if self.sees_commission(c)}

    def documents(self, kind: str) -> set[uuid.UUID]:
        """Invoices and credit notes follow the order they bill."""
        return {d for d, doc in self.world.documents.items() if doc["kind"] == kind and self.sees_order(doc["order"])}

    @property
    def communications(self) -> set[uuid.UUID]:
        """What was told about a visible order, not to staff; a customer: only what it was told."""
        if self.members is None:
            return set(self.world.communications)
        return {
            c
            for c, told in self.world.communications.items()
            if told["audience"] != "staff"
            and self.sees_order(told["order"])
            and (not self.customer or told["recipient"] in self.members)
        }


async def generate(sessions) -> World:
    rng = random.Random(20261122)
    world = World()
    contacts: list[dict[str, Any]] = []

    def contact(kind: str, name: str, parent: uuid.UUID | None, rate: Decimal | None = None) -> uuid.UUID:
        contact_id = uuid.uuid4()
        # every contact has an e-mail address, so that whether a viewer may read it shows
        contacts.append(
            {
                "id": contact_id,
                "contact_type": kind,
                "display_name": name,
                "parent_organization_id": parent,
                "commission_rate": rate,
                "email": f"{contact_id.hex[:12]}@generated.example",
            }
        )
        world.parent[contact_id], world.is_org[contact_id], world.rate[contact_id] = (
            parent,
            kind == "organization",
            rate,
        )
        return contact_id

    for depth, count in enumerate(ORGANISATIONS_PER_LEVEL):
        level = []
        for n in range(count):
            parent = rng.choice(world.levels[depth - 1]) if depth else None
            # about half have their own agreement; a few an explicit 0 (no commission, no inheritance)
            rate = rng.choice([None, None, None, Decimal("0"), *(Decimal(f"0.0{r}") for r in range(1, 9))])
            org = contact("organization", f"Org {depth + 1}.{n:02d}", parent, rate)
            level.append(org)
            world.staff_person[org] = contact("person", f"Person of Org {depth + 1}.{n:02d}", org)
        world.levels.append(level)
    world.customers = [contact("person", f"Customer {n:02d}", None) for n in range(CUSTOMERS)]
    # installers: the people of one installer organisation inside the hierarchy, one outside it
    for name, parent in (("Installers Inside", world.levels[1][0]), ("Installers Outside", None)):
        organisation = contact("organization", name, parent)
        world.installers += [contact("person", f"{name} {n}", organisation) for n in range(3)]
    brands = []
    async with sessions() as session:
        brands = list((await session.execute(text("SELECT id FROM business_entity ORDER BY code"))).scalars())

    organisations = [org for level in world.levels for org in level]
    orders, channels, lines, communications, tasks = [], [], [], [], []
    for n in range(ORDERS):
        order_id = uuid.uuid4()
        # a chain of 0–4: an organisation and (mostly) its own upline, sometimes an outsider
        start = rng.choice(organisations)
        chain = [start, *world.ancestors(start)][: rng.randint(0, 4)]
        if chain and rng.random() < 0.2:
            outsider = rng.choice(organisations)
            if outsider not in chain:
                chain.append(outsider)
        account = chain[0] if chain and rng.random() < 0.7 else rng.choice(organisations + world.customers)
        end = rng.choice(world.customers) if rng.random() < 0.8 else None
        status = "completed" if rng.random() < 0.45 else rng.choice(["intake", "quoted", "scheduled"])
        order_lines = [
            {
                "order_id": order_id,
                "description": f"Line {k}",
                "quantity": Decimal(rng.randint(1, 3)),
                "unit_price": Decimal(rng.randint(100, 200_000)) / 100,
                "discount_percent": Decimal(rng.choice([0, 0, 5, 12.5])),
                "vat_rate": Decimal(rng.choice([21, 21, 9, 0])),
                "is_commissionable": rng.random() < 0.8,
            }
            for k in range(rng.randint(1, 3))
        ]
        world.orders[order_id] = {
            "account": account,
            "end": end,
            "chain": chain,
            "status": status,
            "lines": order_lines,
        }
        orders.append(
            {
                "id": order_id,
                "business_entity_id": brands[n % len(brands)],
                "number": f"GEN-{n:05d}",
                "account_contact_id": account,
                "end_customer_contact_id": end,
                "status": status,
            }
        )
        channels += [{"order_id": order_id, "position": p, "contact_id": c} for p, c in enumerate(chain, start=1)]
        lines += order_lines
        if n % 4 == 0:  # what was told about it: to each of its parties, and to staff
            told = [("end_customer", end), ("account", account), *(("channel", c) for c in chain[:1]), ("staff", None)]
            for audience, recipient in told:
                if audience == "end_customer" and recipient is None:
                    continue
                message_id = uuid.uuid4()
                world.communications[message_id] = {"order": order_id, "audience": audience, "recipient": recipient}
                communications.append(
                    {
                        "id": message_id,
                        "dedupe_key": str(message_id),
                        "event": "order.hold_placed",
                        "business_entity_id": brands[n % len(brands)],
                        "order_id": order_id,
                        "audience": audience,
                        "recipient_contact_id": recipient,
                        "recipient_address": "someone@generated.example",
                        "channel": "email",
                        "language": "nl",
                        "status": CommunicationStatus.SENT,
                    }
                )
        if n % 10 == 0:  # and staff's work on it
            task_id = uuid.uuid4()
            world.tasks.add(task_id)
            tasks.append(
                {"id": task_id, "title": "Look at it", "order_id": order_id, "assignee_role": "staff",
                 "status": "open", "source": "manual"}
            )  # fmt: skip

    async with sessions() as session, session.begin():
        for table, rows in (
            (Contact, contacts),
            (Order, orders),
            (OrderChannel, channels),
            (LineItem, lines),
            (Communication, communications),
            (InternalTask, tasks),
        ):
            await session.execute(insert(table), rows)
        # the cascade itself makes the commissions of the completed orders
        for order_id, order in world.orders.items():
            if order["status"] == "completed":
                await commissions.create_for_order(session=session, order_id=order_id, actor=SYSTEM)
        # every third completed order is billed; every fourth invoice of those credited
        billed = [o for o, order in world.orders.items() if order["status"] == "completed"][::3]
        for n, order_id in enumerate(billed):
            invoice = await finance.generate_invoice(
                session=session, request=finance.InvoiceRequest(order_id=order_id), actor=SYSTEM
            )
            world.documents[invoice.id] = {"order": order_id, "kind": "invoice"}
            if n % 2 == 1:  # every other one has a payment on it
                payment = await payments.record_payment(
                    session=session,
                    payment_in=payments.PaymentIn(
                        business_entity_id=invoice.business_entity_id,
                        amount=Decimal("10.00"),
                        paid_on=invoice.issue_date,
                        method=PaymentMethod.IDEAL,
                        allocations=[payments.AllocationIn(invoice.id, Decimal("10.00"))],
                    ),
                    actor=SYSTEM,
                )  # fmt: skip
                world.payments[payment.id] = invoice.id
            if n % 4 == 0:
                note = await finance.credit_invoice(
                    session=session, request=finance.CreditRequest(invoice_id=invoice.id, reason="test"), actor=SYSTEM
                )
                world.documents[note.id] = {"order": order_id, "kind": "credit_note"}
    await _field_operations(sessions, world, brands)
    async with sessions() as session, session.begin():
        # the statistics a running database has (autovacuum): the suite's truncations leave the
        # planner believing these tables empty, and the order page's plans take seconds
        await session.execute(text("ANALYZE"))
    async with sessions() as session:
        for row in await session.scalars(select(PartnerCommission)):
            world.commissions[row.id] = {
                "order": row.order_id,
                "beneficiary": row.beneficiary_contact_id,
                "level": row.level,
                "rate": row.rate,
                "amount": row.amount,
            }
    return world


async def _field_operations(sessions, world: World, brands: list[uuid.UUID]) -> None:
    """Quotes, work orders, visits (with installers) and documents over the generated orders."""
    rng = random.Random(20261204)
    organisations = [org for level in world.levels for org in level]
    quotes, channels, work_orders, visits, booked, files = [], [], [], [], [], []
    for n in range(120):
        quote_id = uuid.uuid4()
        start = rng.choice(organisations)
        chain = [start, *world.ancestors(start)][: rng.randint(0, 3)]
        account = chain[0] if chain and rng.random() < 0.6 else rng.choice(organisations + world.customers)
        end = rng.choice(world.customers) if rng.random() < 0.7 else None
        world.quotes[quote_id] = {"account": account, "end": end, "chain": chain}
        quotes.append(
            {"id": quote_id, "series_id": quote_id, "business_entity_id": brands[0], "number": f"GEN-Q-{n:05d}",
             "account_contact_id": account, "end_customer_contact_id": end, "valid_until": date(2027, 1, 1),
             "status": "sent"}
        )  # fmt: skip
        channels += [{"quote_id": quote_id, "position": p, "contact_id": c} for p, c in enumerate(chain, start=1)]
    orders = list(world.orders)
    for n in range(60):
        work_order_id, order_id = uuid.uuid4(), rng.choice(orders)
        world.work_orders[work_order_id] = order_id
        work_orders.append(
            {"id": work_order_id, "business_entity_id": brands[0], "order_id": order_id, "number": f"GEN-WO-{n:05d}",
             "kind": "installation", "title": "Install", "status": "open"}
        )  # fmt: skip
    by_order: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for work_order_id, order_id in world.work_orders.items():
        by_order[order_id].append(work_order_id)
    base = datetime(2027, 1, 4, 8, tzinfo=UTC)
    for n in range(160):
        visit_id = uuid.uuid4()
        for_quote = rng.choice(list(world.quotes)) if n % 3 == 0 else None
        for_order = None if for_quote else rng.choice(list(by_order) if rng.random() < 0.5 else orders)
        work_order = rng.choice(by_order[for_order]) if for_order in by_order and rng.random() < 0.8 else None
        crew = set(rng.sample(world.installers, rng.choice([1, 1, 2])))
        starts = base + timedelta(hours=2 * n)  # one at a time: no installer is booked twice
        world.visits[visit_id] = {"order": for_order, "quote": for_quote, "installers": crew, "work_order": work_order}
        visits.append(
            {"id": visit_id, "business_entity_id": brands[0], "order_id": for_order, "quote_id": for_quote,
             "work_order_id": work_order, "visit_type": "installation", "starts_at": starts,
             "ends_at": starts + timedelta(hours=1), "status": "planned"}
        )  # fmt: skip
        booked += [
            {
                "visit_id": visit_id,
                "installer_contact_id": i,
                "order_id": for_order,
                "quote_id": for_quote,
                "during": Range(starts, starts + timedelta(hours=1)),
            }
            for i in crew
        ]
    parents = {
        "order": orders,
        "quote": list(world.quotes),
        "visit": list(world.visits),
        "work_order": list(world.work_orders),
        "contact": list(world.parent),
    }
    store = DirectoryStore(get_settings().documents_dir)
    for n in range(100):
        document_id, kind = uuid.uuid4(), list(parents)[n % len(parents)]
        parent = rng.choice(parents[kind])
        world.files[document_id] = (kind, parent)
        key = uuid.uuid4().hex
        await store.put(key, b"%PDF-1.4 generated")
        files.append(
            {"id": document_id, **{f"{k}_id": parent if k == kind else None for k in parents},
             "file_name": f"document-{n}.pdf", "content_type": "application/pdf", "size_bytes": 18,
             "sha256": "0" * 64, "category": "other", "storage_key": key}
        )  # fmt: skip
    async with sessions() as session, session.begin():
        for table, rows in (
            (Quote, quotes),
            (QuoteChannel, channels),
            (WorkOrder, work_orders),
            (Visit, visits),
            (VisitInstaller, booked),
            (Document, files),
        ):
            await session.execute(insert(table), rows)


def expected_commissions(world: World) -> dict[tuple[uuid.UUID, int], tuple[uuid.UUID, Decimal, Decimal]]:
    """(order, level) → (beneficiary, rate, amount), by the rules of the cascade."""
    result = {}
    for order_id, order in world.orders.items():
        if order["status"] != "completed":
            continue
        base = sum(
            (
                half_up(line["quantity"] * line["unit_price"] * (100 - line["discount_percent"]) / 100)
                for line in order["lines"]
                if line["is_commissionable"]
            ),
            Decimal("0.00"),
        )
        for level, partner in enumerate(order["chain"], start=1):
            rate = world.effective_rate(partner)
            if rate:
                result[(order_id, level)] = (partner, rate, half_up(rate * base))
    return result


async def page_all(client, token, query: str, path: str) -> tuple[int, list[dict[str, Any]]]:
    nodes: list[dict[str, Any]] = []
    after, total = None, -1
    while True:
        connection = (await gql(client, query, {"after": after}, token=token))[path]
        total = connection["totalCount"]
        nodes += connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            return total, nodes
        after = connection["pageInfo"]["endCursor"]


ORDERS_PAGE = """
query ($after: String) { orders(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id commissions { id } invoices { id creditNotes { id } }
  visits { id } workOrders { id } documents { id } } } }
"""
QUOTES_PAGE = """
query ($after: String) { quotes(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id visits { id } documents { id } } } }
"""
VISITS_PAGE = """
query ($after: String) { visits(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id installers { id } workOrder { id } documents { id } } } }
"""
WORK_ORDERS_PAGE = """
query ($after: String) { workOrders(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id visits { id } documents { id } } } }
"""
INVOICES_PAGE = """
query ($after: String) { invoices(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { id order { id } creditNotes { id } allocations { payment { id } } } } }
"""
PAYMENTS_PAGE = """
query ($after: String) { payments(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id allocations { document { id } } } } }
"""
COMMUNICATIONS_PAGE = """
query ($after: String) { communications(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id order { id } } } }
"""
CONTACTS_PAGE = """
query ($after: String) { contacts(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id displayName email commissionRate } } }
"""
NODES = """
query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }
"""
CONTACT_PATHS = """
query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Contact {
  orders(first: 100) { totalCount nodes { id } }
  descendants(first: 100) { totalCount nodes { contact { id } } }
  commissions(first: 100) { totalCount nodes { id } }
} } }
"""
OVERVIEW = """
{ commissionOverview { count total beneficiaries(first: 100) { totalCount nodes { count total beneficiary { id } } } } }
"""


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def check_viewer(client, token: str, expected: Expected, sample: random.Random) -> None:
    world = expected.world
    want_orders, want_contacts, want_commissions = expected.orders, expected.contacts, expected.commissions

    # orders (every page), totalCount, order.commissions
    total, nodes = await page_all(client, token, ORDERS_PAGE, "orders")
    assert {uid(n["id"]) for n in nodes} == want_orders and total == len(want_orders) == len(nodes)
    want_invoices, want_notes = expected.documents("invoice"), expected.documents("credit_note")
    for node in nodes:
        order_id = uid(node["id"])
        assert {uid(c["id"]) for c in node["commissions"]} == {
            c for c in want_commissions if world.commissions[c]["order"] == order_id
        }
        assert {uid(i["id"]) for i in node["invoices"]} == {
            i for i in want_invoices if world.documents[i]["order"] == order_id
        }
        assert {uid(c["id"]) for i in node["invoices"] for c in i["creditNotes"]} == {
            c for c in want_notes if world.documents[c]["order"] == order_id
        }

    # field operations: every page of quotes, visits and work orders, and what hangs off each
    want_quotes, want_visits, want_work, want_files = (
        expected.quotes,
        expected.visits,
        expected.work_orders,
        expected.files,
    )

    def files_of(kind: str, parent: uuid.UUID) -> set[uuid.UUID]:
        return {d for d in want_files if world.files[d] == (kind, parent)}

    for node in nodes:  # the orders' own
        order_id = uid(node["id"])
        assert {uid(v["id"]) for v in node["visits"]} == {
            v for v in want_visits if world.visits[v]["order"] == order_id
        }
        assert {uid(w["id"]) for w in node["workOrders"]} == {w for w in want_work if world.work_orders[w] == order_id}
        assert {uid(d["id"]) for d in node["documents"]} == files_of("order", order_id)
    total, found = await page_all(client, token, QUOTES_PAGE, "quotes")
    assert {uid(n["id"]) for n in found} == want_quotes and total == len(want_quotes)
    for node in found:
        quote_id = uid(node["id"])
        assert {uid(v["id"]) for v in node["visits"]} == {
            v for v in want_visits if world.visits[v]["quote"] == quote_id
        }
        assert {uid(d["id"]) for d in node["documents"]} == files_of("quote", quote_id)
    total, found = await page_all(client, token, VISITS_PAGE, "visits")
    assert {uid(n["id"]) for n in found} == want_visits and total == len(want_visits)
    for node in found:
        visit = world.visits[uid(node["id"])]
        assert {uid(i["id"]) for i in node["installers"]} == expected.installers_seen(uid(node["id"]))
        assert (uid(node["workOrder"]["id"]) if node["workOrder"] else None) == visit["work_order"]
        assert {uid(d["id"]) for d in node["documents"]} == files_of("visit", uid(node["id"]))
    total, found = await page_all(client, token, WORK_ORDERS_PAGE, "workOrders")
    assert {uid(n["id"]) for n in found} == want_work and total == len(want_work)
    for node in found:
        work_order_id = uid(node["id"])
        assert {uid(v["id"]) for v in node["visits"]} == {
            v for v in want_visits if world.visits[v]["work_order"] == work_order_id
        }
        assert {uid(d["id"]) for d in node["documents"]} == files_of("work_order", work_order_id)
    hidden_files = sorted(set(world.files) - want_files)
    downloads = sample.sample(sorted(want_files), min(4, len(want_files)))
    downloads += sample.sample(hidden_files, min(4, len(hidden_files)))
    for document in downloads:
        response = await client.get(f"/documents/{document}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == (200 if document in want_files else 404), document

    # invoices (every page), totalCount, each with its credit notes
    total, nodes = await page_all(client, token, INVOICES_PAGE, "invoices")
    assert {uid(n["id"]) for n in nodes} == want_invoices and total == len(want_invoices)
    assert {uid(c["id"]) for n in nodes for c in n["creditNotes"]} == want_notes
    assert all(uid(n["order"]["id"]) == world.documents[uid(n["id"])]["order"] for n in nodes)
    # what was paid on them shows; who paid (the payment) only to staff
    paid = {i for i in world.payments.values() if i in want_invoices}
    assert {uid(n["id"]) for n in nodes if n["allocations"]} == paid
    payment_seen = [a["payment"] for n in nodes for a in n["allocations"]]
    if expected.members is None:
        assert {uid(p["id"]) for p in payment_seen} == {p for p, i in world.payments.items() if i in paid}
    else:
        assert payment_seen == [None] * len(paid)
    total, nodes = await page_all(client, token, PAYMENTS_PAGE, "payments")
    assert total == (len(world.payments) if expected.members is None else 0) == len(nodes)

    # what was told (every page), totalCount, and each visible order's own
    total, nodes = await page_all(client, token, COMMUNICATIONS_PAGE, "communications")
    want_told = expected.communications
    assert {uuid.UUID(n["id"]) for n in nodes} == want_told and total == len(want_told)
    assert all(uid(n["order"]["id"]) == world.communications[uuid.UUID(n["id"])]["order"] for n in nodes)

    # contacts (every page), totalCount
    total, nodes = await page_all(client, token, CONTACTS_PAGE, "contacts")
    assert {uid(n["id"]) for n in nodes} == want_contacts and total == len(want_contacts)
    # and of each contact exactly the fields the rules allow
    for node in nodes:
        contact_id = uid(node["id"])
        shown = expected.shown(contact_id, expected.customer)
        assert node["displayName"]
        assert (node["email"] is not None) == shown["details"], (node, shown)
        rate = world.rate[contact_id]
        got = Decimal(node["commissionRate"]) if node["commissionRate"] is not None else None
        assert got == (rate if rate is not None and shown["rate"] else None), (node, shown)

    # nodes: every order, contact and commission id; the invisible ones are null
    everything = (
        [gid("Order", o) for o in world.orders]
        + [gid("Contact", c) for c in world.parent]
        + [gid("PartnerCommission", c) for c in world.commissions]
        + [gid("Invoice" if d["kind"] == "invoice" else "CreditNote", i) for i, d in world.documents.items()]
        + [gid("Payment", p) for p in world.payments]
        + [gid("InternalTask", t) for t in world.tasks]
        + [gid("Quote", q) for q in world.quotes]
        + [gid("Visit", v) for v in world.visits]
        + [gid("WorkOrder", w) for w in world.work_orders]
        + [gid("Document", d) for d in world.files]
    )
    seen: dict[str, set[uuid.UUID]] = defaultdict(set)
    for ids in chunks(everything, 100):
        for node in (await gql(client, NODES, {"ids": ids}, token=token))["nodes"]:
            if node is not None:
                seen[node["__typename"]].add(uid(node["id"]))
    assert seen["Order"] == want_orders
    assert seen["Contact"] == want_contacts
    assert seen["PartnerCommission"] == want_commissions
    assert seen["Invoice"] == want_invoices and seen["CreditNote"] == want_notes
    assert seen["Payment"] == (set(world.payments) if expected.members is None else set())
    assert seen["InternalTask"] == (world.tasks if expected.members is None else set())
    assert seen["Quote"] == want_quotes and seen["Visit"] == want_visits
    assert seen["WorkOrder"] == want_work and seen["Document"] == want_files

    # the PDFs: a sample of visible and invisible documents, by the same token
    hidden_documents = sorted(set(world.documents) - want_invoices - want_notes)
    documents = sample.sample(sorted(want_invoices | want_notes), min(4, len(want_invoices | want_notes)))
    documents += sample.sample(hidden_documents, min(4, len(hidden_documents)))
    for document in documents:
        response = await client.get(f"/invoices/{document}.pdf", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == (200 if document in want_invoices | want_notes else 404), document

    # order(id:) and node(id:), one by one for a sample of visible and invisible ids
    hidden_orders = sorted(set(world.orders) - want_orders)
    picks = sample.sample(sorted(want_orders), min(8, len(want_orders))) + sample.sample(
        hidden_orders, min(8, len(hidden_orders))
    )
    aliases = " ".join(f'o{i}: order(id: "{gid("Order", o)}") {{ id }}' for i, o in enumerate(picks))
    hidden_commissions = sorted(set(world.commissions) - want_commissions)
    commission_picks = sample.sample(sorted(want_commissions), min(6, len(want_commissions))) + sample.sample(
        hidden_commissions, min(6, len(hidden_commissions))
    )
    aliases += " " + " ".join(
        f'c{i}: node(id: "{gid("PartnerCommission", c)}") {{ id }}' for i, c in enumerate(commission_picks)
    )
    data = await gql(client, f"{{ {aliases} }}", token=token)
    assert {o for i, o in enumerate(picks) if data[f"o{i}"] is not None} == set(picks) & want_orders
    assert {c for i, c in enumerate(commission_picks) if data[f"c{i}"] is not None} == set(
        commission_picks
    ) & want_commissions

    # contact.orders, contact.descendants, contact.commissions: every visible contact of a
    # restricted viewer, a sample of 100 for the unrestricted ones (they see all 800)
    contacts = sorted(want_contacts)
    if expected.members is None:
        contacts = sample.sample(contacts, 100)
    for ids in chunks(contacts, 25):
        data = await gql(client, CONTACT_PATHS, {"ids": [gid("Contact", c) for c in ids]}, token=token)
        for node in data["nodes"]:
            contact_id = uid(node["id"])
            orders_of = {o for o in want_orders if contact_id in world.involved(world.orders[o])}
            assert node["orders"]["totalCount"] == len(orders_of) >= len(node["orders"]["nodes"])
            assert {uid(n["id"]) for n in node["orders"]["nodes"]} <= orders_of
            if len(orders_of) <= 100:
                assert {uid(n["id"]) for n in node["orders"]["nodes"]} == orders_of
            below = (world.subtree(contact_id) - {contact_id}) & want_contacts
            assert node["descendants"]["totalCount"] == len(below)
            assert {uid(n["contact"]["id"]) for n in node["descendants"]["nodes"]} <= below
            if len(below) <= 100:
                assert {uid(n["contact"]["id"]) for n in node["descendants"]["nodes"]} == below
            earned = {c for c in want_commissions if world.commissions[c]["beneficiary"] == contact_id}
            assert node["commissions"]["totalCount"] == len(earned)
            assert {uid(n["id"]) for n in node["commissions"]["nodes"]} == earned

    # commissionOverview: per beneficiary count and total (largest first), and the grand totals
    overview = (await gql(client, OVERVIEW, token=token))["commissionOverview"]
    per_beneficiary: dict[uuid.UUID, tuple[int, Decimal]] = {}
    for c in want_commissions:
        beneficiary, amount = world.commissions[c]["beneficiary"], world.commissions[c]["amount"]
        so_far, earned_so_far = per_beneficiary.get(beneficiary, (0, Decimal(0)))
        per_beneficiary[beneficiary] = (so_far + 1, earned_so_far + amount)
    assert overview["count"] == len(want_commissions)
    assert Decimal(overview["total"]) == sum((t for _, t in per_beneficiary.values()), Decimal(0))
    assert overview["beneficiaries"]["totalCount"] == len(per_beneficiary)
    page = [(uid(n["beneficiary"]["id"]), n["count"], Decimal(n["total"])) for n in overview["beneficiaries"]["nodes"]]
    assert all(per_beneficiary[b] == (count, total) for b, count, total in page)
    assert [t for _, _, t in page] == sorted((t for _, t in per_beneficiary.values()), reverse=True)[:100]


@pytest.fixture
async def world(sessions):
    return await generate(sessions)


@pytest.mark.parametrize("walls", WALLS)
async def test_every_viewer_sees_exactly_what_the_rules_allow_on_every_path(
    client, sessions, world: World, monkeypatch, walls
) -> None:
    knock_down(monkeypatch, walls)
    assert sum(len(level) for level in world.levels) >= 200 and len(world.levels) == 6
    assert len(world.orders) >= 400 and len(world.commissions) >= 150
    assert sum(d["kind"] == "invoice" for d in world.documents.values()) >= 50
    assert sum(d["kind"] == "credit_note" for d in world.documents.values()) >= 10
    assert len(world.payments) >= 25

    # the cascade made exactly the commissions the rules call for
    want = expected_commissions(world)
    got = {(c["order"], c["level"]): (c["beneficiary"], c["rate"], c["amount"]) for c in world.commissions.values()}
    assert got == want

    sample = random.Random(7)
    # staff roles share one rule (unrestricted): the admin stands for them
    viewers: list[tuple[str, str, Expected]] = [
        ("admin", await issue_token(sessions, Role.ADMIN), Expected(None, world))
    ]
    # a partner person at every depth, in the busiest organisation of that depth
    order_count: dict[uuid.UUID, int] = defaultdict(int)
    for order in world.orders.values():
        for contact in world.involved(order):
            order_count[contact] += 1
    for depth, level in enumerate(world.levels, start=1):
        org = max(level, key=lambda o: (len(world.subtree(o)), order_count[o]))
        person = world.staff_person[org]
        viewers.append(
            (
                f"partner person at depth {depth}",
                await issue_token(sessions, Role.PARTNER, contact_id=person),
                Expected(world.subtree(org) | {person}, world, person),
            )
        )
    # a partner account on an organisation itself, and customers with and without orders
    org = world.levels[2][0]
    viewers.append(
        (
            "partner organisation",
            await issue_token(sessions, Role.PARTNER, contact_id=org),
            Expected(world.subtree(org), world, org),
        )
    )
    with_orders = next(c for c in world.customers if any(o["end"] == c for o in world.orders.values()))
    without = next(
        (c for c in world.customers if all(o["end"] != c and o["account"] != c for o in world.orders.values())), None
    )
    for customer in [with_orders, *([without] if without else [])]:
        viewers.append(
            (
                f"customer {customer}",
                await issue_token(sessions, Role.CUSTOMER, contact_id=customer),
                Expected({customer}, world, customer, customer=True),
            )
        )

    # some viewer sees a visit (and its work order) only because its own installer is booked on
    # it, and not everyone else booked on it
    assert any(
        not expected.sees_parent(v) and expected.installers_seen(v) != world.visits[v]["installers"]
        for _, _, expected in viewers[1:]
        for v in expected.visits
    )
    for name, token, expected in viewers:
        try:
            await check_viewer(client, token, expected, sample)
        except AssertionError as exc:
            raise AssertionError(f"viewer: {name}") from exc
