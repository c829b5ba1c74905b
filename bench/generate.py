"""The benchmark dataset, bulk-loaded with COPY into a database of its own.

At scale 1: 2,000 organisations up to 8 levels deep, 10,000 persons (a third of them partner
staff, the rest customers), 50,000 orders over the five brands with 0–4 channel partners, 5–12
status transitions along the brand's real workflow, 3–8 lines from the brand's catalogue, and
commissions where the walk reached the commission-creating step. Totals, rates and amounts come
from the app's own rules (app/orders/totals.py, app/commissions/service.py); the numbers are
deterministic for a scale and seed.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import asyncpg
from asyncpg.pgproto.pgproto import UUID as PgUUID
from sqlalchemy import text
from sqlalchemy.engine import URL

from app import demo
from app.commissions.service import commission_amount
from app.db import create_engine, session_factory
from app.dbserver import asyncpg_dsn
from app.numbering.service import current_year, format_number
from app.orders import totals
from app.status import engine
from app.status.models import EntityType, StepType

# organisations per level (of 2,000) from the master distributors down
LEVEL_WEIGHTS = (12, 48, 140, 260, 400, 480, 400, 260)
PERSONS = 10_000
ORDERS = 50_000
INSTALLERS = 60
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Dataset:
    organisations: list[list[uuid.UUID]] = field(default_factory=list)
    parent: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    rate: dict[uuid.UUID, Decimal | None] = field(default_factory=dict)
    staff: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=lambda: defaultdict(list))
    customers: list[uuid.UUID] = field(default_factory=list)
    counts: dict[str, float] = field(default_factory=dict)

    def upline(self, contact: uuid.UUID) -> list[uuid.UUID]:
        chain, current = [], self.parent[contact]
        while current is not None:
            chain.append(current)
            current = self.parent[current]
        return chain

    def effective_rate(self, contact: uuid.UUID) -> Decimal | None:
        for candidate in (contact, *self.upline(contact)):
            if self.rate.get(candidate) is not None:
                return self.rate[candidate]
        return None

    @property
    def top_partner(self) -> uuid.UUID:
        """The master distributor with the largest subtree: the partner portal's viewer."""
        below: dict[uuid.UUID, int] = defaultdict(int)
        for org in self.parent:
            for ancestor in self.upline(org):
                below[ancestor] += 1
        return max(self.organisations[0], key=lambda o: below[o])


_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_id(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID from the seeded generator: the same dataset for the same seed. asyncpg's
    own UUID (a `uuid.UUID`) is built from bytes in C, ~50× faster than `uuid.UUID(int=...)`,
    and COPY encodes it without a detour."""
    return PgUUID(((rng.getrandbits(128) & _V4_CLEAR) | _V4_SET).to_bytes(16, "big"))


# the tables the generator loads, with the columns it fills (rows are tuples in this order)
COLUMNS: dict[str, tuple[str, ...]] = {
    "contact": (
        "id",
        "contact_type",
        "contact_subtype",
        "display_name",
        "parent_organization_id",
        "commission_rate",
        "email",
    ),
    "article": ("id", "business_entity_id", "sku", "name", "unit", "unit_price", "vat_rate"),
    "sales_order": (
        "id",
        "business_entity_id",
        "number",
        "account_contact_id",
        "end_customer_contact_id",
        "status",
        "created_at",
        "updated_at",
    ),
    "order_channel": ("order_id", "position", "contact_id"),
    "quote": (
        "id",
        "business_entity_id",
        "number",
        "revision",
        "series_id",
        "account_contact_id",
        "end_customer_contact_id",
        "valid_until",
        "status",
        "order_id",
        "created_at",
        "updated_at",
    ),
    "quote_line": (
        "id",
        "quote_id",
        "position",
        "article_id",
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "vat_rate",
        "is_commissionable",
    ),
    "work_order": (
        "id",
        "business_entity_id",
        "order_id",
        "number",
        "kind",
        "title",
        "status",
        "created_at",
        "updated_at",
    ),
    "visit": (
        "id",
        "business_entity_id",
        "order_id",
        "work_order_id",
        "visit_type",
        "starts_at",
        "ends_at",
        "status",
        "created_at",
        "updated_at",
    ),
    "visit_installer": ("visit_id", "installer_contact_id", "order_id", "during"),
    "work_order_task": ("id", "work_order_id", "position", "description", "done_at"),
    "seal_usage": ("id", "work_order_id", "seal_number", "action", "recorded_at"),
    "document": (
        "id",
        "order_id",
        "work_order_id",
        "file_name",
        "content_type",
        "size_bytes",
        "sha256",
        "category",
        "storage_key",
        "created_at",
    ),
    "line_item": (
        "id",
        "order_id",
        "article_id",
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "vat_rate",
        "is_commissionable",
        "created_at",
        "updated_at",
    ),
    "status_transition": (
        "id",
        "entity_type",
        "entity_id",
        "workflow_id",
        "from_status",
        "to_status",
        "movement",
        "business_context",
        "metadata",
        "triggered_by_system",
        "sla_deadline",
        "is_milestone",
        "created_at",
    ),
    "entity_current_status": (
        "entity_type",
        "entity_id",
        "workflow_id",
        "status",
        "since",
        "sla_deadline",
        "last_transition_id",
    ),
    "partner_commission": (
        "id",
        "order_id",
        "business_entity_id",
        "beneficiary_contact_id",
        "level",
        "rate",
        "base_amount",
        "amount",
        "status",
        "created_at",
        "updated_at",
    ),
    "invoice": (
        "id",
        "kind",
        "number",
        "business_entity_id",
        "order_id",
        "account_contact_id",
        "seller",
        "buyer",
        "issue_date",
        "due_date",
        "net_amount",
        "vat_amount",
        "gross_amount",
        "status",
        "created_at",
        "updated_at",
    ),
    "payment": (
        "id",
        "business_entity_id",
        "direction",
        "amount",
        "paid_on",
        "method",
        "reference",
        "contact_id",
        "status",
        "created_at",
        "updated_at",
    ),
    "payment_allocation": ("id", "payment_id", "invoice_id", "order_id", "amount", "allocated_on", "created_at"),
    "invoice_line": (
        "id",
        "invoice_id",
        "order_id",
        "position",
        "line_item_id",
        "billing_round",
        "article_id",
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "vat_rate",
        "net_amount",
        "is_commissionable",
    ),
}


@dataclass(frozen=True, slots=True)
class Flow:
    """A workflow's rules as plain data, computed once with the engine's own functions: the
    generator asks them half a million times, and ORM attribute access would dominate."""

    id: uuid.UUID
    first: str
    sla_hours: dict[str, int | None]
    milestone: dict[str, bool]
    creates_commissions: frozenset[str]
    requires_billing: frozenset[str]
    targets: dict[str, list[str]]
    normal: dict[str, list[str]]
    forward: dict[str, str | None]
    movement: dict[tuple[str | None, str], str]

    @classmethod
    def of(cls, workflow: engine.Workflow) -> Flow:
        steps = workflow.steps
        targets = {name: engine.workflow_targets(workflow, name) for name in steps}
        normal = {name: [t for t in ts if t.step_type is StepType.NORMAL] for name, ts in targets.items()}
        first = workflow.first_step
        pairs = [(None, first)] + [(steps[a], b) for a, ts in targets.items() for b in ts]
        return cls(
            id=workflow.row.id,
            first=first.status_name,
            sla_hours={name: step.sla_hours for name, step in steps.items()},
            milestone={name: step.is_milestone for name, step in steps.items()},
            creates_commissions=frozenset(name for name, step in steps.items() if step.creates_commissions),
            requires_billing=frozenset(name for name, step in steps.items() if step.requires_billing),
            targets={name: [t.status_name for t in ts] for name, ts in targets.items()},
            normal={name: [t.status_name for t in ts] for name, ts in normal.items()},
            forward={
                name: next((t.status_name for t in normal[name] if t.step_order > steps[name].step_order), None)
                for name in steps
            },
            movement={
                (a.status_name if a else None, b.status_name): engine.movement_of(workflow, a, b).value
                for a, b in pairs
            },
        )

    def walk(self, rng: random.Random, steps: int) -> list[str]:
        """A status path along the allowed transitions: mostly forward, sometimes back."""
        path = [self.first]
        while len(path) < steps:
            current = path[-1]
            targets = self.targets[current]
            if not targets:
                break
            roll = rng.random()
            forward, normal = self.forward[current], self.normal[current]
            if forward is not None and roll < 0.8:
                path.append(forward)
            elif roll < 0.97 and normal:
                path.append(rng.choice(normal))
            else:
                path.append(rng.choice(targets))
        return path


async def generate(url: URL, *, scale: float, seed: int = 1) -> Dataset:
    rng = random.Random(seed)
    data = Dataset()
    started = time.perf_counter()
    db = create_engine(url)
    async with session_factory(db)() as session:
        brands = {
            row.code: row
            for row in (await session.execute(text("SELECT id, code FROM business_entity ORDER BY code"))).all()
        }

        async def flow(entity_type: EntityType, brand_id: uuid.UUID) -> Flow:
            """The workflow the engine gives this brand's entities (its own, else the default)."""
            return Flow.of(
                await engine.workflow_for(session=session, entity_type=entity_type.value, business_entity_id=brand_id)
            )

        order_flow = {code: await flow(EntityType.ORDER, b.id) for code, b in brands.items()}
        commission_flow = {code: await flow(EntityType.PARTNER_COMMISSION, b.id) for code, b in brands.items()}
        quote_flow = await flow(EntityType.QUOTE, next(iter(brands.values())).id)
        visit_flow = await flow(EntityType.VISIT, next(iter(brands.values())).id)
        work_flow = await flow(EntityType.WORK_ORDER, next(iter(brands.values())).id)
        invoice_flow = {code: await flow(EntityType.INVOICE, b.id) for code, b in brands.items()}
        payment_flow = {code: await flow(EntityType.PAYMENT, b.id) for code, b in brands.items()}
        sellers = {
            code: json.dumps({"name": f"{code} B.V.", "city": "Utrecht", "country_code": "NL"}) for code in brands
        }
    await db.dispose()

    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
    contacts = rows["contact"]

    def contact(
        kind: str, name: str, parent: uuid.UUID | None, rate: Decimal | None = None, subtype: str | None = None
    ) -> uuid.UUID:
        contact_id = new_id(rng)
        contacts.append((contact_id, kind, subtype, name, parent, rate, f"{contact_id.hex[:12]}@bench.example"))
        data.parent[contact_id], data.rate[contact_id] = parent, rate
        return contact_id

    for depth, weight in enumerate(LEVEL_WEIGHTS):
        level = []
        for n in range(max(1, round(weight * scale))):
            parent = rng.choice(data.organisations[depth - 1]) if depth else None
            rate = Decimal(rng.randint(5, 80)) / 1000 if rng.random() < 0.6 else None
            level.append(contact("organization", f"Partner L{depth + 1}-{n:04d}", parent, rate, "Partner"))
        data.organisations.append(level)
    organisations = [o for level in data.organisations for o in level]
    persons = max(4, round(PERSONS * scale))
    for n in range(persons):
        if n % 3 == 0:
            org = rng.choice(organisations)
            data.staff[org].append(contact("person", f"Staff {n:05d}", org))
        else:
            data.customers.append(contact("person", f"Customer {n:05d}", None))
    for org in data.organisations[0]:  # every master distributor has staff (a portal viewer)
        if not data.staff[org]:
            data.staff[org].append(contact("person", f"Staff of {org.hex[:6]}", org))

    # installers: the people of one installer organisation (ids from a generator of their own, so
    # that the rest of the dataset stays as it was before field operations were added)
    ops = random.Random(seed + 7)
    installer_org = new_id(ops)
    contacts.append(
        (installer_org, "organization", "Installer", "ChargeCars Installatie", None, None, "plan@bench.example")
    )
    installers = [new_id(ops) for _ in range(max(4, round(INSTALLERS * scale)))]
    contacts.extend(
        (i, "person", "Installer", f"Installer {n:03d}", installer_org, None, f"{i.hex[:12]}@bench.example")
        for n, i in enumerate(installers)
    )
    data.parent[installer_org] = None
    data.parent.update(dict.fromkeys(installers, installer_org))
    booked_until = dict.fromkeys(installers, NOW - timedelta(days=400))

    articles: dict[str, list[dict[str, Any]]] = {}
    for code, items in demo.CATALOGUE.items():
        articles[code] = [
            {
                "id": new_id(rng),
                "business_entity_id": brands[code].id,
                "sku": sku,
                "name": name,
                "unit": unit,
                "unit_price": Decimal(price),
                "vat_rate": Decimal(vat),
            }
            for sku, name, unit, price, vat in items
        ]
    rows["article"] = [tuple(a[c] for c in COLUMNS["article"]) for items in articles.values() for a in items]

    orders, channels, lines = rows["sales_order"], rows["order_channel"], rows["line_item"]
    transitions, current, commissions = (
        rows["status_transition"],
        rows["entity_current_status"],
        rows["partner_commission"],
    )

    # the line fields the totals rules read
    def line_view(t: tuple[Any, ...]) -> SimpleNamespace:
        return SimpleNamespace(
            quantity=t[4], unit_price=t[5], discount_percent=t[6], vat_rate=t[7], is_commissionable=t[8]
        )

    rates = {o: data.effective_rate(o) for o in organisations}
    uplines = {o: data.upline(o) for o in organisations}
    numbers: dict[str, int] = defaultdict(int)
    invoice_numbers: dict[str, int] = defaultdict(int)
    numbers_of: dict[str, dict[str, int]] = {"quote": defaultdict(int), "work_order": defaultdict(int)}
    invoices, invoice_lines = rows["invoice"], rows["invoice_line"]
    payments, allocations = rows["payment"], rows["payment_allocation"]
    codes = sorted(brands)
    year = current_year()
    discounts = [Decimal(0), Decimal(0), Decimal(0), Decimal(5), Decimal(10)]
    one = Decimal(1)
    metres = [Decimal(q) for q in range(1, 13)]
    deep = [o for level in data.organisations[2:] for o in level] or organisations
    for n in range(max(1, round(ORDERS * scale))):
        code = codes[n % len(codes)]
        brand_id = brands[code].id
        order_id = new_id(rng)
        chain = [(start := rng.choice(deep)), *uplines[start]][: rng.randint(0, 4)]
        account = chain[0] if chain and rng.random() < 0.6 else rng.choice(data.customers)
        created = NOW - timedelta(days=rng.uniform(0, 365))
        order_steps = order_flow[code]
        path = order_steps.walk(rng, rng.randint(5, 12))
        numbers[code] += 1
        orders.append(
            (
                order_id,
                brand_id,
                format_number(code, year, numbers[code], 5),
                account,
                rng.choice(data.customers),
                path[-1],
                created,
                created,
            )
        )
        channels.extend((order_id, p, c) for p, c in enumerate(chain, start=1))
        order_lines = []
        for k in range(rng.randint(3, 8)):
            article = rng.choice(articles[code])
            order_lines.append(
                (
                    new_id(rng),
                    order_id,
                    article["id"],
                    article["name"],
                    rng.choice(metres) if article["unit"] == "metre" else one,
                    article["unit_price"],
                    rng.choice(discounts),
                    article["vat_rate"],
                    rng.random() < 0.85,
                    created + timedelta(seconds=k),
                    created,
                )
            )
        lines.extend(order_lines)
        at = _transitions(transitions, current, "order", order_id, order_steps, path, created, rng)
        if "accepted" in path or "scheduled" in path:
            _field_operations(
                rows, ops, code, brand_id, order_id, account, orders[-1][4], created, path, order_lines, installers,
                booked_until, numbers_of, (quote_flow, visit_flow, work_flow), year,
            )  # fmt: skip
        if not order_steps.requires_billing.isdisjoint(path):
            # billed in full before the step that needs it: one invoice, issued, paid or partly paid
            invoice_id, computed = new_id(rng), totals.compute([line_view(line) for line in order_lines])
            invoice_numbers[code] += 1
            invoice_path = ["issued", "paid"][: rng.choice([1, 2, 2])]
            if len(invoice_path) == 1 and rng.random() < 0.3:
                invoice_path = ["issued", "partially_paid"]
            issued = (created + timedelta(days=rng.uniform(1, 20))).date()
            invoices.append(
                (
                    invoice_id,
                    "invoice",
                    format_number(f"{code}-F", year, invoice_numbers[code], 5),
                    brand_id,
                    order_id,
                    account,
                    sellers[code],
                    json.dumps({"name": f"Account {account.hex[:8]}", "country_code": "NL"}),
                    issued,
                    issued + timedelta(days=14),
                    computed.net,
                    computed.vat_total,
                    computed.gross,
                    invoice_path[-1],
                    created,
                    created,
                )
            )
            invoice_lines.extend(
                (
                    new_id(rng),
                    invoice_id,
                    order_id,
                    position,
                    *line[:1],
                    1,
                    *line[2:8],
                    totals.line_net(line_view(line)),
                    line[8],
                )
                for position, line in enumerate(order_lines, start=1)
            )
            _transitions(
                transitions,
                current,
                EntityType.INVOICE.value,
                invoice_id,
                invoice_flow[code],
                invoice_path,
                created,
                rng,
            )
            if invoice_path[-1] != "issued":  # paid, in full or in part, by one bank transfer
                payment_id, paid_on = new_id(rng), issued + timedelta(days=rng.randint(1, 14))
                amount = computed.gross if invoice_path[-1] == "paid" else totals.money(computed.gross / 2)
                number = invoices[-1][2]
                payments.append(
                    (payment_id, brand_id, "incoming", amount, paid_on, "bank_transfer", number, account, "allocated",
                     created, created)
                )  # fmt: skip
                allocations.append((new_id(rng), payment_id, invoice_id, order_id, amount, paid_on, created))
                _transitions(
                    transitions, current, EntityType.PAYMENT.value, payment_id, payment_flow[code],
                    ["unallocated", "allocated"], created, rng,
                )  # fmt: skip
        if chain and not order_steps.creates_commissions.isdisjoint(path):
            base = totals.compute([line_view(line) for line in order_lines]).commissionable_net
            for position, partner in enumerate(chain, start=1):
                rate = rates[partner]
                if not rate:
                    continue
                commission_id = new_id(rng)
                commission_path = ["pending", "approved", "paid"][: rng.choice([1, 1, 2, 3])]
                if path[-1] == "cancelled":
                    commission_path = ["pending", "cancelled"]
                commissions.append(
                    (
                        commission_id,
                        order_id,
                        brand_id,
                        partner,
                        position,
                        rate,
                        base,
                        commission_amount(rate, base),
                        commission_path[-1],
                        at,
                        at,
                    )
                )
                _transitions(
                    transitions,
                    current,
                    EntityType.PARTNER_COMMISSION.value,
                    commission_id,
                    commission_flow[code],
                    commission_path,
                    at,
                    rng,
                )

    built = time.perf_counter()
    conn = await asyncpg.connect(**asyncpg_dsn(url))
    try:
        async with conn.transaction():
            # The rows are consistent by construction: skip the per-row triggers (foreign-key
            # checks, the hierarchy guard) during the load, as a restore does. Needs a superuser
            # (the embedded server's); elsewhere the triggers run and the load is slower.
            with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.execute("SET LOCAL session_replication_role = replica")
            # As pg_restore does: plain indexes are built once after the load (a sorted build)
            # instead of row by row; the constraints' own indexes stay.
            indexes = await conn.fetch(
                "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() "
                "AND tablename = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conname = i.indexname)",
                list(COLUMNS),
            )
            for index in indexes:
                await conn.execute(f'DROP INDEX "{index["indexname"]}"')
            for table, columns in COLUMNS.items():  # parents before children
                await conn.copy_records_to_table(table, records=rows[table], columns=columns)
            for index in indexes:
                await conn.execute(index["indexdef"])
            # the hierarchy's closure, the orders' parties and their reach, and the commission
            # totals are kept by triggers, which the load may have skipped
            await conn.execute("SELECT contact_closure_rebuild()")
            await conn.execute("SELECT order_party_rebuild()")  # and order_reach_rebuild()
            await conn.execute("SELECT commission_total_rebuild()")
            for document, counted in (("order", numbers), ("invoice", invoice_numbers), *numbers_of.items()):
                for code, last in counted.items():
                    await conn.execute(
                        "UPDATE number_sequence SET last_value = $1 WHERE business_entity_id = $2 "
                        "AND document_type = $3 AND year = $4",
                        last,
                        brands[code].id,
                        document,
                        year,
                    )
        copied = time.perf_counter()
        # statistics for the planner and the visibility map for index-only scans: the state
        # autovacuum keeps a running database in, which freshly copied tables lack
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    data.counts = {
        "organisations": len(organisations),
        "levels": len(data.organisations),
        "persons": len(contacts) - len(organisations),
        "orders": len(orders),
        "channel levels": len(channels),
        "lines": len(lines),
        "status transitions": len(transitions),
        "commissions": len(commissions),
        "invoices": len(invoices),
        "payments": len(payments),
        "quotes": len(rows["quote"]),
        "visits": len(rows["visit"]),
        "work orders": len(rows["work_order"]),
        "documents": len(rows["document"]),
        "build seconds": round(built - started, 1),
        "copy seconds": round(copied - built, 1),
        "load seconds": round(time.perf_counter() - started, 1),
    }
    return data


def _field_operations(
    rows: dict[str, list[tuple[Any, ...]]],
    rng: random.Random,
    code: str,
    brand_id: uuid.UUID,
    order_id: uuid.UUID,
    account: uuid.UUID,
    end_customer: uuid.UUID,
    created: datetime,
    path: list[str],
    order_lines: list[tuple[Any, ...]],
    installers: list[uuid.UUID],
    booked_until: dict[uuid.UUID, datetime],
    numbers_of: dict[str, dict[str, int]],
    flows: tuple[Flow, Flow, Flow],
    year: int,
) -> None:
    """An order's quote (accepted into it, its first lines copied), and once it is scheduled its
    installation work order with a checklist and a visit by one or two installers; installed
    ones have their visit done, checklist ticked, seals and a photo."""
    quote_flow, visit_flow, work_flow = flows
    transitions, current = rows["status_transition"], rows["entity_current_status"]
    if "accepted" in path:
        quote_id = new_id(rng)
        numbers_of["quote"][code] += 1
        rows["quote"].append(
            (quote_id, brand_id, format_number(f"{code}-Q", year, numbers_of["quote"][code], 5), 1, quote_id, account,
             end_customer, (created + timedelta(days=30)).date(), "accepted", order_id, created, created)
        )  # fmt: skip
        rows["quote_line"].extend(
            (new_id(rng), quote_id, position, *line[2:9]) for position, line in enumerate(order_lines[:2], start=1)
        )
        _transitions(transitions, current, EntityType.QUOTE.value, quote_id, quote_flow, ["draft", "sent", "accepted"],
                     created - timedelta(days=3), rng)  # fmt: skip
    if "scheduled" not in path:
        return
    installed = "installed" in path
    work_order_id = new_id(rng)
    numbers_of["work_order"][code] += 1
    work_path = ["open", "in_progress", "completed"] if installed else ["open"]
    rows["work_order"].append(
        (work_order_id, brand_id, order_id, format_number(f"{code}-WO", year, numbers_of["work_order"][code], 5),
         "installation", "Install the charger", work_path[-1], created, created)
    )  # fmt: skip
    _transitions(transitions, current, EntityType.WORK_ORDER.value, work_order_id, work_flow, work_path, created, rng)
    crew = rng.sample(installers, rng.choice([1, 1, 2]))
    starts = max(booked_until[i] for i in crew) + timedelta(hours=rng.randint(1, 48))
    ends = starts + timedelta(hours=4)
    booked_until.update(dict.fromkeys(crew, ends))
    visit_id = new_id(rng)
    visit_path = ["planned", "confirmed", "on_the_way", "on_site", "done"] if installed else ["planned"]
    rows["visit"].append(
        (visit_id, brand_id, order_id, work_order_id, "installation", starts, ends, visit_path[-1], created, created)
    )
    rows["visit_installer"].extend((visit_id, i, order_id, asyncpg.Range(starts, ends)) for i in crew)
    _transitions(transitions, current, EntityType.VISIT.value, visit_id, visit_flow, visit_path, created, rng)
    for position, task in enumerate(("Mount the charger", "Pull the cable", "Test and hand over"), start=1):
        rows["work_order_task"].append((new_id(rng), work_order_id, position, task, ends if installed else None))
    if installed:
        rows["seal_usage"].extend(
            (new_id(rng), work_order_id, f"{code}-S-{work_order_id.hex[:10]}-{n}", "placed", ends) for n in (1, 2)
        )
        rows["document"].append(
            (new_id(rng), None, work_order_id, "installed.jpg", "image/jpeg", 24_000, "0" * 64, "photo",
             work_order_id.hex, ends)
        )  # fmt: skip
    if rng.random() < 0.3:  # a signed quote on the order itself
        rows["document"].append(
            (new_id(rng), order_id, None, "signed-quote.pdf", "application/pdf", 80_000, "0" * 64, "signed_quote",
             order_id.hex, created)
        )  # fmt: skip


def _transitions(
    rows: list[tuple[Any, ...]],
    current: list[tuple[Any, ...]],
    entity_type: str,
    entity_id: uuid.UUID,
    flow: Flow,
    path: list[str],
    start: datetime,
    rng: random.Random,
) -> datetime:
    """The transition rows of a path, and the entity's current status; returns when it arrived."""
    at, previous, last_id, deadline = start, None, None, None
    for status in path:
        arrived = at
        last_id = new_id(rng)
        hours = flow.sla_hours[status]
        deadline = at + timedelta(hours=hours) if hours is not None else None
        rows.append(
            (
                last_id,
                entity_type,
                entity_id,
                flow.id,
                previous,
                status,
                flow.movement[(previous, status)],
                "{}",
                "{}",
                "bench",
                deadline,
                flow.milestone[status],
                at,
            )
        )
        previous = status
        at += timedelta(hours=rng.uniform(1, 96))
    current.append((entity_type, entity_id, flow.id, path[-1], arrived, deadline, last_id))
    return arrived


def summary(data: Dataset) -> str:
    return ", ".join(f"{k}: {v}" for k, v in data.counts.items())
