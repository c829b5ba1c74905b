"""Every entry point runs the same application: the API, the CLI, Alembic and the tests each wire
it once (app/wiring.py) and end up with the same status adapters and event handlers; importing
the code wires nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import URL

from app.wiring import describe
from tests.support.database import ROOT, scratch_database


def _in_a_fresh_interpreter(code: str) -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


DESCRIBE = "import json; from app.wiring import describe; print(json.dumps(describe()))"


def test_every_entry_point_has_the_same_wiring(database_url: URL) -> None:
    wired = describe()  # the tests' own (tests/conftest.py)
    assert wired["status entity types"] == [
        "credit_note",
        "internal_task",
        "invoice",
        "order",
        "partner_commission",
        "payment",
        "quote",
        "visit",
        "work_order",
    ]
    assert wired["schedules"] == [
        "commissions.compact_totals: */5 * * * *",
        "idempotency.purge: 17 * * * *",
        "quotes.expire: 5 0 * * *",
        "sla.monitor: 0 * * * *",
    ]
    assert wired["on StatusChanged"] == [
        "app.commissions.service._on_status_changed",
        "app.finance.service._on_status_changed",
        "app.operations.quotes._refuse_acceptance_elsewhere",
        "app.operations.visits._release",
        "app.operations.work_orders._on_status_changed",
        "app.outbox.service._on_status_changed",
    ]
    assert wired["on OrderLinesChanged"] == [
        "app.commissions.service._on_lines_changed",
        "app.outbox.service._on_lines_changed",
    ]
    assert wired["on OrderLineChanging"] == ["app.finance.service._on_line_changing"]
    assert wired["on HoldPlaced"] == wired["on HoldResumed"] == ["app.outbox.service._on_hold"]
    assert wired["jobs"] == [
        "notification.send: app.notifications.service.send",
        "outbox.dispatch: app.outbox.service.dispatch",
        "webhook.deliver: app.partners.webhooks.deliver",
    ]
    assert wired["outbox consumers"] == ["app.notifications.service.fan_out", "app.partners.webhooks.fan_out"]

    api = _in_a_fresh_interpreter(
        "from app.asgi import create_app; "
        f"create_app(url={database_url.render_as_string(hide_password=False)!r}); " + DESCRIBE
    )
    chargecars = str(Path(sys.executable).parent / "chargecars")  # the installed command
    cli = subprocess.run([chargecars, "wiring"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    scratch = scratch_database("wiring")
    alembic = _in_a_fresh_interpreter(
        "import asyncio; from sqlalchemy.engine import make_url; from app import migrate; "
        "from app.dbserver import drop_database, ensure_database; "
        f"url = make_url({scratch.render_as_string(hide_password=False)!r}); "
        "asyncio.run(drop_database(url)); asyncio.run(ensure_database(url)); "
        "migrate.upgrade(url, 'head', configure_logging=False); asyncio.run(drop_database(url)); " + DESCRIBE
    )
    assert api == json.loads(cli.stdout) == alembic == wired


def test_importing_wires_nothing() -> None:
    imported = _in_a_fresh_interpreter("import app.models, app.asgi, app.cli, graphql_schema.schema; " + DESCRIBE)
    assert imported == {"status entity types": [], "schedules": [], "jobs": [], "outbox consumers": []}


def test_the_entity_types_graphql_offers_are_the_registered_ones() -> None:
    """`changeStatus` and `workflows` offer exactly the entity types the domains registered."""
    from graphql_schema.status.types import WITH_A_STATUS

    assert sorted(t.value for t in WITH_A_STATUS) == describe()["status entity types"]
