"""The viewer's scope, computed once per request and consulted by every data path.

For a partner or customer viewer:
- members: the scope root (the viewer's organisation for a partner; the viewer's own contact
  for a customer) and everything below it, plus the viewer's own contact;
- ancestors: the chain above the viewer's contact, visible by name only;
- order contacts: the account, end customer and channel partners of every order the viewer may
  see (an order is visible when any of those is a member), visible in full.
Staff roles are unrestricted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import STAFF_ROLES, Role
from app.contacts.models import ContactType


@dataclass(frozen=True, slots=True)
class Scope:
    unrestricted: bool
    root_id: uuid.UUID | None = None
    member_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    ancestor_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    order_contact_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)

    @property
    def visible_contact_ids(self) -> frozenset[uuid.UUID] | None:
        """None means "no restriction"."""
        if self.unrestricted:
            return None
        return self.member_ids | self.ancestor_ids | self.order_contact_ids

    def can_see_contact(self, contact_id: uuid.UUID) -> bool:
        return self.unrestricted or self.sees_in_full(contact_id) or contact_id in self.ancestor_ids

    def sees_in_full(self, contact_id: uuid.UUID) -> bool:
        """Ancestors outside the scope are shown by name only."""
        return self.unrestricted or contact_id in self.member_ids or contact_id in self.order_contact_ids


UNRESTRICTED = Scope(unrestricted=True)
NOTHING = Scope(unrestricted=False)

_SCOPE_SQL = text(
    """
    WITH RECURSIVE down(id) AS (
        SELECT CAST(:root_id AS uuid)
        UNION ALL
        SELECT c.id FROM contact c JOIN down ON c.parent_organization_id = down.id
    ),
    up(id) AS (
        SELECT parent_organization_id FROM contact WHERE id = :contact_id
        UNION ALL
        SELECT c.parent_organization_id FROM contact c JOIN up ON c.id = up.id
        WHERE c.parent_organization_id IS NOT NULL
    )
    SELECT true AS member, id FROM down
    UNION ALL
    SELECT false, id FROM up WHERE id IS NOT NULL
    """
)


_ORDER_CONTACTS_SQL = text(
    """
    WITH visible AS (
        SELECT id FROM sales_order
        WHERE account_contact_id = ANY(:members) OR end_customer_contact_id = ANY(:members)
        UNION
        SELECT order_id FROM order_channel WHERE contact_id = ANY(:members)
    )
    SELECT o.account_contact_id AS id FROM sales_order o JOIN visible v ON v.id = o.id
    UNION
    SELECT o.end_customer_contact_id FROM sales_order o JOIN visible v ON v.id = o.id
    WHERE o.end_customer_contact_id IS NOT NULL
    UNION
    SELECT c.contact_id FROM order_channel c JOIN visible v ON v.id = c.order_id
    """
).bindparams(bindparam("members", type_=ARRAY(UUID(as_uuid=True))))


def scope_root(
    *, roles: frozenset[str], contact_id: uuid.UUID, contact_type: ContactType, parent_id: uuid.UUID | None
) -> uuid.UUID:
    """A partner person sees its organisation's part of the hierarchy; anyone else its own."""
    if Role.PARTNER in roles and contact_type is ContactType.PERSON and parent_id is not None:
        return parent_id
    return contact_id


async def compute_scope(
    *,
    session: AsyncSession,
    roles: frozenset[str],
    contact_id: uuid.UUID | None,
    contact_type: ContactType | None,
    parent_id: uuid.UUID | None,
) -> Scope:
    if roles & STAFF_ROLES:
        return UNRESTRICTED
    if contact_id is None or contact_type is None:
        return NOTHING
    root_id = scope_root(roles=roles, contact_id=contact_id, contact_type=contact_type, parent_id=parent_id)
    rows = (await session.execute(_SCOPE_SQL, {"root_id": root_id, "contact_id": contact_id})).all()
    members = {row.id for row in rows if row.member} | {contact_id}
    ancestors = {row.id for row in rows if not row.member} - members
    on_orders = set((await session.scalars(_ORDER_CONTACTS_SQL, {"members": list(members)})).all()) - members
    return Scope(
        unrestricted=False,
        root_id=root_id,
        member_ids=frozenset(members),
        ancestor_ids=frozenset(ancestors - on_orders),
        order_contact_ids=frozenset(on_orders),
    )
