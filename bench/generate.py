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
import operator
import random
import time
import uuid
from collections import defaultdict
from types import SimpleNamespace
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.engine import URL

from app import demo
from app.commissions.service import commission_amount
from app.db import create_engine, session_factory
from app.dbserver import asyncpg_dsn
from app.numbering.service import current_year, format_number
from app.orders import totals
from app.status import engine
from app.status.models import EntityType, StatusWorkflow, StepType

# organisations per level (of 2,000) from the master distributors down
LEVEL_WEIGHTS = (12, 48, 140, 260, 400, 480, 400, 260)
PERSONS = 10_000
ORDERS = 50_000
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Dataset:
    organisations: list[list[uuid.UUID]] = field(default_factory=list)
    parent: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    rate: dict[uuid.UUID, Decimal | None] = field(default_factory=dict)
    staff: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=lambda: defaultdict(list))
    customers: list[uuid.UUID] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

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


def new_id(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID from the seeded generator: the same dataset for the same seed, and
    without a system call per id."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


async def _copy(conn: asyncpg.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = list(rows[0])
        getter = operator.itemgetter(*columns)
        await conn.copy_records_to_table(table, records=map(getter, rows), columns=columns)


def _walk(rng: random.Random, workflow: engine.Workflow, steps: int) -> list[str]:
    """A status path along the workflow's allowed transitions: mostly forward, sometimes back."""
    path = [workflow.first_step.status_name]
    while len(path) < steps:
        targets = _targets(workflow, path[-1])
        if not targets:
            break
        normal = [t for t in targets if t.step_type is StepType.NORMAL]
        forward = [t for t in normal if t.step_order > workflow.steps[path[-1]].step_order]
        roll = rng.random()
        if forward and roll < 0.8:
            choice = forward[0]
        elif roll < 0.97 and normal:
            choice = rng.choice(normal)
        else:
            choice = rng.choice(targets)
        path.append(choice.status_name)
    return path


async def generate(url: URL, *, scale: float, seed: int = 1) -> Dataset:
    rng = random.Random(seed)
    data = Dataset()
    started = time.perf_counter()
    db = create_engine(url)
    async with session_factory(db)() as session:
        brands = {row.code: row for row in (await session.execute(
            text("SELECT id, code FROM business_entity ORDER BY code"))).all()}
        workflow_rows = (await session.scalars(select(StatusWorkflow).where(StatusWorkflow.is_active))).all()
        workflows = await engine.workflows_of_many(session=session, ids=[w.id for w in workflow_rows])
    def order_workflow(brand_id: uuid.UUID) -> engine.Workflow:
        """The brand's own order workflow, else the default (as the engine chooses)."""
        flows = [w for w in workflows.values() if w.row.entity_type == EntityType.ORDER.value]
        return next((w for w in flows if w.row.business_entity_id == brand_id), None) or next(
            w for w in flows if w.row.is_default)

    order_flow = {code: order_workflow(brand.id) for code, brand in brands.items()}
    commission_flow = next(w for w in workflows.values() if w.row.entity_type == EntityType.PARTNER_COMMISSION.value)

    contacts: list[dict[str, Any]] = []

    def contact(kind: str, name: str, parent: uuid.UUID | None, rate: Decimal | None = None, subtype: str | None = None):  # type: ignore[no-untyped-def]
        contact_id = new_id(rng)
        contacts.append({"id": contact_id, "contact_type": kind, "contact_subtype": subtype, "display_name": name,
                         "parent_organization_id": parent, "commission_rate": rate,
                         "email": f"{contact_id.hex[:12]}@bench.example"})
        data.parent[contact_id], data.rate[contact_id] = parent, rate
        return contact_id

    for depth, weight in enumerate(LEVEL_WEIGHTS):
        level = []
        for n in range(max(1, round(weight * scale))):
            parent = rng.choice(data.organisations[depth - 1]) if depth else None
            rate = Decimal(rng.randint(5, 80)) / 1000 if rng.random() < 0.6 else None
            level.append(contact("organization", f"Partner L{depth + 1}-{n:04d}", parent, rate, "Partner"))
        data.organisations.append(level)
    await db.dispose()
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

    articles: dict[str, list[dict[str, Any]]] = {}
    for code, items in demo.CATALOGUE.items():
        articles[code] = [{"id": new_id(rng), "business_entity_id": brands[code].id, "sku": sku, "name": name,
                           "unit": unit, "unit_price": Decimal(price), "vat_rate": Decimal(vat)}
                          for sku, name, unit, price, vat in items]

    orders, channels, lines, transitions, current, commissions = [], [], [], [], [], []
    numbers: dict[str, int] = defaultdict(int)
    codes = sorted(brands)
    year = current_year()
    deep = [o for level in data.organisations[2:] for o in level] or organisations
    for n in range(max(1, round(ORDERS * scale))):
        code = codes[n % len(codes)]
        brand = brands[code]
        order_id = new_id(rng)
        chain = [(start := rng.choice(deep)), *data.upline(start)][: rng.randint(0, 4)]
        account = chain[0] if chain and rng.random() < 0.6 else rng.choice(data.customers)
        created = NOW - timedelta(days=rng.uniform(0, 365))
        workflow = order_flow[code]
        path = _walk(rng, workflow, rng.randint(5, 12))
        numbers[code] += 1
        orders.append({"id": order_id, "business_entity_id": brand.id,
                       "number": format_number(code, year, numbers[code], 5),
                       "account_contact_id": account, "end_customer_contact_id": rng.choice(data.customers),
                       "status": path[-1], "created_at": created, "updated_at": created})
        channels += [{"order_id": order_id, "position": p, "contact_id": c} for p, c in enumerate(chain, start=1)]
        order_lines = []
        for k in range(rng.randint(3, 8)):
            article = rng.choice(articles[code])
            order_lines.append({
                "id": new_id(rng), "order_id": order_id, "article_id": article["id"], "description": article["name"],
                "quantity": Decimal(rng.randint(1, 12) if article["unit"] == "metre" else 1),
                "unit_price": article["unit_price"], "discount_percent": Decimal(rng.choice([0, 0, 0, 5, 10])),
                "vat_rate": article["vat_rate"], "is_commissionable": rng.random() < 0.85,
                "created_at": created + timedelta(seconds=k), "updated_at": created})
        lines += order_lines
        at = _transitions(transitions, current, "order", order_id, workflow, path, created, rng)
        if chain and any(workflow.steps[s].creates_commissions for s in path):
            base = totals.compute([SimpleNamespace(**line) for line in order_lines]).commissionable_net
            for level, partner in enumerate(chain, start=1):
                rate = data.effective_rate(partner)
                if not rate:
                    continue
                commission_id = new_id(rng)
                commission_path = ["pending", "approved", "paid"][: rng.choice([1, 1, 2, 3])]
                if path[-1] == "cancelled":
                    commission_path = ["pending", "cancelled"]
                commissions.append({"id": commission_id, "order_id": order_id, "business_entity_id": brand.id,
                                    "beneficiary_contact_id": partner, "level": level, "rate": rate,
                                    "base_amount": base, "amount": commission_amount(rate, base),
                                    "status": commission_path[-1], "created_at": at, "updated_at": at})
                _transitions(transitions, current, EntityType.PARTNER_COMMISSION.value, commission_id,
                             commission_flow, commission_path, at, rng)

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
            await _copy(conn, "contact", contacts)
            await _copy(conn, "article", [a for items in articles.values() for a in items])
            await _copy(conn, "sales_order", orders)
            await _copy(conn, "order_channel", channels)
            await _copy(conn, "line_item", lines)
            await _copy(conn, "status_transition", transitions)
            await _copy(conn, "entity_current_status", current)
            await _copy(conn, "partner_commission", commissions)
            for code, last in numbers.items():
                await conn.execute(
                    "UPDATE number_sequence SET last_value = $1 WHERE business_entity_id = $2 "
                    "AND document_type = 'order' AND year = $3", last, brands[code].id, year)
        copied = time.perf_counter()
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    data.counts = {
        "organisations": len(organisations), "levels": len(data.organisations), "persons": len(contacts) - len(organisations),
        "orders": len(orders), "channel levels": len(channels), "lines": len(lines),
        "status transitions": len(transitions), "commissions": len(commissions),
        "build seconds": round(built - started, 1),
        "copy seconds": round(copied - built, 1),
        "load seconds": round(time.perf_counter() - started, 1),
    }
    return data


# the engine's own rules, memoised per workflow and status: they are asked half a million times
_MOVEMENTS: dict[tuple[uuid.UUID, str | None, str], str] = {}
_TARGETS: dict[tuple[uuid.UUID, str], list[Any]] = {}


def _movement(workflow: engine.Workflow, previous: str | None, status: str) -> str:
    key = (workflow.row.id, previous, status)
    if key not in _MOVEMENTS:
        from_step = workflow.steps[previous] if previous else None
        _MOVEMENTS[key] = engine.movement_of(workflow, from_step, workflow.steps[status]).value
    return _MOVEMENTS[key]


def _targets(workflow: engine.Workflow, status: str) -> list[Any]:
    key = (workflow.row.id, status)
    if key not in _TARGETS:
        _TARGETS[key] = engine.workflow_targets(workflow, status)
    return _TARGETS[key]


def _transitions(
    rows: list[dict[str, Any]], current: list[dict[str, Any]], entity_type: str, entity_id: uuid.UUID,
    workflow: engine.Workflow, path: list[str], start: datetime, rng: random.Random,
) -> datetime:
    at, previous = start, None
    last_id = None
    for status in path:
        step = workflow.steps[status]
        last_id = new_id(rng)
        deadline = at + timedelta(hours=step.sla_hours) if step.sla_hours is not None else None
        rows.append({
            "id": last_id, "entity_type": entity_type, "entity_id": entity_id, "workflow_id": workflow.row.id,
            "from_status": previous, "to_status": status,
            "movement": _movement(workflow, previous, status),
            "business_context": "{}", "metadata": "{}", "triggered_by_system": "bench",
            "sla_deadline": deadline, "is_milestone": step.is_milestone, "created_at": at,
        })
        previous = status
        at += timedelta(hours=rng.uniform(1, 96))
    final_at = rows[-1]["created_at"]
    current.append({"entity_type": entity_type, "entity_id": entity_id, "workflow_id": workflow.row.id,
                    "status": path[-1], "since": final_at, "sla_deadline": rows[-1]["sla_deadline"],
                    "last_transition_id": last_id})
    return final_at


def summary(data: Dataset) -> str:
    return ", ".join(f"{k}: {v}" for k, v in data.counts.items())

