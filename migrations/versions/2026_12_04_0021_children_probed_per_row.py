"""the read policies of an order's children test each row with one probe in `order_reach`

A child of an order (its lines, channel entries, holds, invoice lines, payment allocations, and
the status rows of orders) is visible when its order is reached by the viewer's scope. Written
as a plain `EXISTS`, PostgreSQL turned that test into a hashed set of every order the scope
reaches (9,446 for the benchmark's top partner, about 1 ms to build) to test the few hundred
rows of a page. `OFFSET 0` keeps it a correlated probe on the primary key of `order_reach` per
row read (about a microsecond each), as the contact policy already does (migration 0019).

These tables are read by their order's id (a page's orders, one order), never scanned for a
list of their own, so a probe per row read is the cheaper plan. The rule is unchanged.

The order branch of a visit's and a booking's rule (`order_id IN (the scope's reached orders)`)
becomes the same probe: the contact policy asks, for each installer on a page, whether one of
its bookings is visible, and the booking's hashed set of 9,446 orders took 1.4 ms of the 4.5 ms
the contacts of a partner's order page cost under row-level security.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from collections.abc import Sequence
from typing import Any

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROOT = "chargecars_viewer_root()"
CHILDREN = ("line_item", "order_channel", "order_hold", "invoice_line", "payment_allocation")
STATUS_TABLES = ("entity_current_status", "status_transition")
BOOKINGS = ("visit", "visit_installer")


def probed(order_id: str) -> str:
    """The viewer's scope reaches the order `order_id` (a column): one primary-key probe per
    row, never a hashed set of the scope's orders."""
    return (
        f"EXISTS (SELECT 1 FROM order_reach reach WHERE reach.ancestor_id = {ROOT} "
        f"AND reach.order_id = {order_id} OFFSET 0)"
    )


def _field_operations() -> Any:
    """Migration 0017, whose status rule this one keeps but for the order branch."""
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    name = "2026_12_04_0017_field_operations"
    spec = spec_from_file_location(name, Path(__file__).with_name(name + ".py"))
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    for table in CHILDREN:
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({probed(f'{table}.order_id')})")
    operations = _field_operations()
    for table in STATUS_TABLES:
        rule = operations.status_rule(table, with_operations=True)
        fenced = rule.replace(operations.reached(f"{table}.entity_id"), probed(f"{table}.entity_id"), 1)
        assert fenced != rule
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({fenced})")
    for table in BOOKINGS:
        rule = operations.READ[table]
        hashed = f"order_id IN (SELECT order_id FROM order_reach WHERE ancestor_id = {ROOT})"
        fenced = rule.replace(hashed, probed(f"{table}.order_id"), 1)
        assert fenced != rule
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({fenced})")


def downgrade() -> None:
    operations = _field_operations()
    for table in BOOKINGS:
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({operations.READ[table]})")
    for table in STATUS_TABLES:
        op.execute(
            f"ALTER POLICY {table}_read ON {table} USING ({operations.status_rule(table, with_operations=True)})"
        )
    for table in CHILDREN:
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({operations.reached(f'{table}.order_id')})")
