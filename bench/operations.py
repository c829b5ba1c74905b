"""The benchmark's data and operations: the database, the viewers' tokens, the query mix."""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL

from app import migrate
from app.accounts import service as accounts
from app.accounts.models import Role
from app.audit.service import Actor
from app.db import create_engine, session_factory
from app.dbserver import drop_database, ensure_database, start_embedded, to_asyncpg_url
from app.status import engine as status_engine
from bench.generate import Dataset, generate, summary
from graphql_schema.node import global_id

ROOT = Path(__file__).resolve().parent.parent


QUERIES = Path(__file__).resolve().parent / "queries"


BENCH_ACTOR = Actor(account_id=None, system="bench")


PAGE = 50


READS = 5  # operations() lists the reads first (queries 1–3, the scoped twin of 1, the customer's), then the writes


def bench_database_url() -> URL:
    """A database of its own: on DATABASE_URL's server, else on an embedded server in
    `.pgdata-bench` (CHARGECARS_BENCH_DATA_DIR); never the `make run` database."""
    if os.environ.get("DATABASE_URL"):
        server = to_asyncpg_url(os.environ["DATABASE_URL"])
    else:
        server = start_embedded(Path(os.environ.get("CHARGECARS_BENCH_DATA_DIR", ROOT / ".pgdata-bench")))
    return server.set(database=f"{server.database or 'chargecars'}_bench")


def load_query(name: str) -> str:
    source = (QUERIES / name).read_text()
    if "...OrderTree" in source:
        source += "\n" + (QUERIES / "order_tree.fragment.graphql").read_text()
    return source


@dataclass
class Operation:
    name: str
    token: str
    payload: Callable[[int], dict[str, Any]]
    after: Callable[[int, dict[str, Any]], None] = lambda worker, body: None


async def make_tokens(url: URL, data: Dataset) -> dict[str, str]:
    db = create_engine(url)
    tokens = {}
    async with session_factory(db)() as session, session.begin():
        # the customer with the most orders (as account or end customer): the customer portal's viewer
        customer = (
            await session.execute(
                text(
                    "SELECT p.contact_id FROM order_party p JOIN contact c ON c.id = p.contact_id "
                    "WHERE c.contact_type = 'person' AND c.parent_organization_id IS NULL "
                    "GROUP BY p.contact_id ORDER BY count(*) DESC, p.contact_id LIMIT 1"
                )
            )
        ).scalar_one()
        viewers = {
            "admin": ((Role.ADMIN,), None),
            "partner": ((Role.PARTNER,), data.staff[data.top_partner][0]),
            "analyst": ((Role.STAFF,), None),
            "customer": ((Role.CUSTOMER,), customer),
        }
        for key, (roles, contact) in viewers.items():
            account = await accounts.create_account(
                session=session,
                actor=BENCH_ACTOR,
                account_in=accounts.AccountCreate(
                    email=f"{key}-{uuid.uuid4().hex[:8]}@bench.example",
                    display_name=f"Bench {key}",
                    roles=roles,
                    contact_id=contact,
                ),
            )
            _, tokens[key] = await accounts.issue_token(
                session=session, account_id=account.id, label="bench", expires_at=None, actor=BENCH_ACTOR
            )
    await db.dispose()
    return tokens


@dataclass
class WriteState:
    """What the write operations pick from: orders that can still move, their workflows, brands."""

    orders: list[tuple[uuid.UUID, str, uuid.UUID]]
    workflows: dict[uuid.UUID, status_engine.Workflow]
    brands: list[uuid.UUID]


async def write_state(url: URL) -> WriteState:
    db = create_engine(url)
    async with session_factory(db)() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT s.entity_id, s.status, s.workflow_id FROM entity_current_status s "
                    "JOIN status_workflow_step st ON st.workflow_id = s.workflow_id AND st.status_name = s.status "
                    "WHERE s.entity_type = 'order' AND NOT st.is_final AND st.step_type = 'normal' ORDER BY s.entity_id"
                )
            )
        ).all()
        workflows = await status_engine.workflows_of_many(session=session, ids=list({r.workflow_id for r in rows}))
        brands = list((await session.execute(text("SELECT id FROM business_entity ORDER BY code"))).scalars())
    await db.dispose()
    return WriteState([(r.entity_id, r.status, r.workflow_id) for r in rows], workflows, brands)


def operations(
    data: Dataset, tokens: dict[str, str], state: WriteState, concurrency: int, rng: random.Random, page: int = PAGE
) -> list[Operation]:
    tree, portal, analyst, customer = (
        load_query(n)
        for n in (
            "1_frontend_order_tree.graphql",
            "2_partner_portal.graphql",
            "3_analyst_descendants.graphql",
            "5_customer_portal.graphql",
        )
    )
    change, create = load_query("4a_change_status.graphql"), load_query("4b_create_order.graphql")
    # each client task moves its own orders, so that the tasks do not race for one order
    mine: dict[int, list[list[Any]]] = {i: [] for i in range(concurrency)}
    workflows = state.workflows
    for index, (order_id, status, workflow_id) in enumerate(state.orders):
        mine[index % concurrency].append([order_id, status, workflow_id])
    pending: dict[int, tuple[list[Any], str]] = {}

    def change_payload(worker: int) -> dict[str, Any]:
        entry = rng.choice(mine[worker])
        targets = status_engine.workflow_targets(workflows[entry[2]], entry[1])
        # keep orders moving rather than finishing them: a final step only when nothing else is left
        target = rng.choice([t for t in targets if not t.is_final] or targets).status_name
        pending[worker] = (entry, target)
        return {
            "query": change,
            "variables": {
                "input": {
                    "entityType": "ORDER",
                    "entityId": global_id("Order", entry[0]),
                    "toStatus": target,
                    "expectedStatus": entry[1],
                }
            },
        }

    def change_after(worker: int, body: dict[str, Any]) -> None:
        entry, target = pending.pop(worker)
        if body["data"]["changeStatus"]["__typename"] == "ChangeStatusSuccess":
            entry[1] = target
            if not status_engine.workflow_targets(workflows[entry[2]], target):
                mine[worker].remove(entry)

    organisations = [o for level in data.organisations[2:] for o in level] or [
        o for level in data.organisations for o in level
    ]

    def create_payload(worker: int) -> dict[str, Any]:
        start = rng.choice(organisations)
        chain = [start, *data.upline(start)][: rng.randint(0, 4)]
        return {
            "query": create,
            "variables": {
                "input": {
                    "businessEntityId": global_id("BusinessEntity", rng.choice(state.brands)),
                    "accountContactId": global_id("Contact", chain[0] if chain else rng.choice(data.customers)),
                    "endCustomerContactId": global_id("Contact", rng.choice(data.customers)),
                    "channelContactIds": [global_id("Contact", c) for c in chain],
                }
            },
        }

    top = global_id("Contact", data.top_partner)
    return [
        Operation("1 frontend order tree", tokens["admin"], lambda w: {"query": tree, "variables": {"first": page}}),
        # the same request under the partner's visibility: the pair shows what scoping costs
        Operation(
            "1s frontend order tree, partner-scoped",
            tokens["partner"],
            lambda w: {"query": tree, "variables": {"first": page}},
        ),
        Operation("2 partner portal", tokens["partner"], lambda w: {"query": portal, "variables": {"first": page}}),
        Operation(
            "3 analyst descendants",
            tokens["analyst"],
            lambda w: {"query": analyst, "variables": {"partner": top, "first": page}},
        ),
        Operation("5 customer portal", tokens["customer"], lambda w: {"query": customer, "variables": {"first": page}}),
        Operation("4a changeStatus", tokens["admin"], change_payload, change_after),
        Operation("4b createOrder", tokens["admin"], create_payload),
    ]


def read_operations(data: Dataset, tokens: dict[str, str], page: int = PAGE) -> list[Operation]:
    """Queries 1–3 (the reads)."""
    return operations(data, tokens, WriteState([], {}, []), 1, random.Random(0), page)[:READS]


async def prepare(scale: float, seed: int = 1) -> tuple[URL, Dataset, dict[str, str]]:
    """A new benchmark database: migrated, loaded, with a token per viewer."""
    url = bench_database_url()
    await drop_database(url)
    await ensure_database(url)
    await asyncio.to_thread(migrate.upgrade, url, configure_logging=False)  # Alembic runs its own loop
    data = await generate(url, scale=scale, seed=seed)
    print(f"dataset: {summary(data)}", flush=True)
    return url, data, await make_tokens(url, data)
