"""a work order's children, and the status rows of work orders, visits and commissions, are
visible when their parent row is: one probe of the parent under its own row-level security,
instead of a visibility function per row

A work order's checklist, installation record and seals, and the status rows of work orders,
visits and commissions, tested each row with a SECURITY DEFINER function
(`chargecars_sees_work_order`, `chargecars_sees_visit`, `chargecars_sees_commission`): about
8 µs a call, a statement of its own run per row. The rule is the parent's, and the parent's
table already enforces it: `EXISTS (SELECT 1 FROM work_order WHERE id = …)` reads the work order
under its policy, so the child is visible exactly when its work order is. `OFFSET 0` keeps it a
probe per row read.

The work order's own policy tests its order first (the fenced `order_reach` probe of migration
0021, about a microsecond) and calls the function, whose installer branch needs it, only when
the order is not reached. A visit's policy already tests its order first (0021); a commission's
is its beneficiary in scope, one hashed set per statement.

The rules are unchanged (the generated-hierarchy comparison runs them alone). Quotes keep their
function: the contact policy reads quotes, and a quote policy written out there made the
contacts' plans several times dearer to make (docs/benchmarks.md).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from collections.abc import Sequence
from typing import Any

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHILDREN = ("work_order_task", "installation_record", "seal_usage")
STATUS_TABLES = ("entity_current_status", "status_transition")
PARENTS = {
    "chargecars_sees_work_order": "work_order",
    "chargecars_sees_visit": "visit",
    "chargecars_sees_commission": "partner_commission",
}


def _migration(name: str) -> Any:
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    spec = spec_from_file_location(name, Path(__file__).with_name(name + ".py"))
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _visible(table: str, key: str) -> str:
    """The row of `table` whose id is `key` is visible under its own policy: one probe."""
    return f"EXISTS (SELECT 1 FROM {table} parent WHERE parent.id = {key} OFFSET 0)"


def _fenced_status_rule(table: str) -> str:
    """0021's rule of the status tables."""
    operations, fenced = (
        _migration("2026_12_04_0017_field_operations"),
        _migration("2026_12_04_0021_children_probed_per_row"),
    )
    rule = operations.status_rule(table, with_operations=True)
    return str(rule.replace(operations.reached(f"{table}.entity_id"), fenced.probed(f"{table}.entity_id"), 1))


def _status_rule(table: str) -> str:
    """0021's rule of the status tables, the parents' functions replaced by probes."""
    rule = _fenced_status_rule(table)
    for function, parent in PARENTS.items():
        call = f"{function}({table}.entity_id)"
        assert call in rule
        rule = rule.replace(call, _visible(parent, f"{table}.entity_id"))
    return rule


def upgrade() -> None:
    fenced = _migration("2026_12_04_0021_children_probed_per_row")
    op.execute(
        "ALTER POLICY work_order_read ON work_order USING "
        f"({fenced.probed('work_order.order_id')} OR chargecars_sees_work_order(id))"
    )
    for table in CHILDREN:
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({_visible('work_order', f'{table}.work_order_id')})")
    for table in STATUS_TABLES:
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({_status_rule(table)})")


def downgrade() -> None:
    operations = _migration("2026_12_04_0017_field_operations")
    for table in STATUS_TABLES:
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({_fenced_status_rule(table)})")
    for table in CHILDREN:
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({operations.READ[table]})")
    op.execute(f"ALTER POLICY work_order_read ON work_order USING ({operations.READ['work_order']})")
