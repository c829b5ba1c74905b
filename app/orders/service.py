"""Orders: creation (validated, numbered, started in its workflow), visibility and search."""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Integer, Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from app import text
from app.access import policy
from app.access.policy import Viewer
from app.accounts.models import STAFF_ROLES, Role
from app.audit.service import Actor, record, snapshot
from app.business_entities.models import BusinessEntity
from app.contacts.models import Contact, ContactType
from app.db import any_of, by_keys, columns, read, read_by
from app.errors import NotFound, PermissionDenied, ValidationFailed
from app.numbering.service import DocumentType, allocate
from app.orders import totals
from app.orders.holds import HoldPlaced, HoldResumed
from app.orders.lines import LineIn, OrderLineChanging, OrderLinesChanged, add_line, lines_of_many, resolve_line
from app.orders.models import Order, OrderChannel, OrderReach
from app.status import engine
from app.status.models import EntityCurrentStatus, EntityType
from app.status.registry import EntityAdapter, register

MAX_CHANNEL_LENGTH: Final = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCreate:
    business_entity_id: uuid.UUID
    account_contact_id: uuid.UUID
    end_customer_contact_id: uuid.UUID | None = None
    channel_contact_ids: Sequence[uuid.UUID] = ()
    notes: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilter:
    statuses: Collection[str] = ()
    business_entity_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    overdue: bool | None = None

    def __post_init__(self) -> None:
        statuses = text.lines(self.statuses, field="status", max_length=text.STATUS_NAME_LENGTH)
        object.__setattr__(self, "statuses", statuses)


class OrderSortField(enum.StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NUMBER = "number"


@dataclass(frozen=True, slots=True)
class OrderSorting:
    field: OrderSortField = OrderSortField.CREATED_AT
    descending: bool = True


# --- visibility --------------------------------------------------------------------------------


def involves(contact_ids: Collection[uuid.UUID]) -> Any:
    """Orders on which any of these contacts is the account, the end customer or in the chain."""
    return or_(
        any_of(Order.account_contact_id, contact_ids),
        any_of(Order.end_customer_contact_id, contact_ids),
        exists().where(OrderChannel.order_id == Order.id, any_of(OrderChannel.contact_id, contact_ids)),
    )


# --- reads -------------------------------------------------------------------------------------


async def get_many(*, session: AsyncSession, ids: Collection[uuid.UUID], viewer: Viewer) -> dict[uuid.UUID, Order]:
    """The orders with these ids that `viewer` may see, in one statement."""
    rows = await read(session, select(*columns(Order)).where(any_of(Order.id, ids), policy.visible(viewer, Order)))
    return {order.id: order for order in rows}


async def get_id_by_number(*, session: AsyncSession, number: str) -> uuid.UUID | None:
    cleaned = text.line(number, field="number", max_length=text.DOCUMENT_NUMBER_LENGTH)
    if cleaned is None:
        return None
    return await session.scalar(select(Order.id).where(Order.number == cleaned.upper()))


async def channels_of_many(
    *, session: AsyncSession, order_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[OrderChannel]]:
    return await read_by(session, OrderChannel.order_id, order_ids, OrderChannel.position)


def _filtered(stmt: Select[Any], filter_in: OrderFilter, viewer: Viewer) -> Select[Any]:
    conditions = [policy.visible(viewer, Order)]
    if filter_in.statuses:
        conditions.append(Order.status.in_(list(filter_in.statuses)))
    if filter_in.business_entity_id is not None:
        conditions.append(Order.business_entity_id == filter_in.business_entity_id)
    if filter_in.contact_id is not None:
        conditions.append(involves([filter_in.contact_id]))
    if filter_in.created_from is not None:
        conditions.append(Order.created_at >= filter_in.created_from)
    if filter_in.created_to is not None:
        conditions.append(Order.created_at < filter_in.created_to)
    if filter_in.overdue is not None:
        overdue = exists().where(
            EntityCurrentStatus.entity_type == EntityType.ORDER.value,
            EntityCurrentStatus.entity_id == Order.id,
            EntityCurrentStatus.overdue_since.is_not(None),  # the SLA monitor's stored mark
        )
        conditions.append(overdue if filter_in.overdue else ~overdue)
    return stmt.where(and_(*conditions))


async def count(*, session: AsyncSession, filter_in: OrderFilter, viewer: Viewer) -> int:
    if not viewer.unrestricted and filter_in == OrderFilter():
        # all of a scope's orders: its root's rows of order_reach, one per order (one key range,
        # the same plan for every scope: a generic one serves, `by_keys`)
        stmt = select(func.count()).select_from(OrderReach).where(policy.visible(viewer, OrderReach))
        return (await session.scalar(by_keys(stmt))) or 0
    return (await session.scalar(_filtered(select(func.count()).select_from(Order), filter_in, viewer))) or 0


async def search(
    *, session: AsyncSession, filter_in: OrderFilter, order: OrderSorting, viewer: Viewer, offset: int, limit: int
) -> Sequence[Order]:
    column = getattr(Order, order.field.value)
    keys = [column.desc(), Order.id.desc()] if order.descending else [column.asc(), Order.id.asc()]
    stmt = _filtered(select(*columns(Order)), filter_in, viewer).order_by(*keys).offset(offset).limit(limit)
    return await read(session, stmt)


def _roles_of(contact_ids: Collection[uuid.UUID]) -> Any:
    """(order_id, contact_id) for every role these contacts have on an order, once per pair."""
    return (
        select(Order.id.label("order_id"), Order.account_contact_id.label("contact_id"))
        .where(any_of(Order.account_contact_id, contact_ids))
        .union(
            select(Order.id, Order.end_customer_contact_id).where(any_of(Order.end_customer_contact_id, contact_ids)),
            select(OrderChannel.order_id, OrderChannel.contact_id).where(any_of(OrderChannel.contact_id, contact_ids)),
        )
        .subquery()
    )


def _visible_roles(contact_ids: Collection[uuid.UUID], viewer: Viewer, *columns: Any) -> tuple[Select[Any], Any]:
    roles = _roles_of(contact_ids)
    stmt = select(roles.c.contact_id, *columns).join(Order, Order.id == roles.c.order_id)
    return stmt.where(policy.visible(viewer, Order)), roles


async def count_involving_many(
    *, session: AsyncSession, contact_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, int]:
    """For each contact, how many visible orders it has any role on (one statement)."""
    stmt, roles = _visible_roles(contact_ids, viewer, func.count())
    rows = await session.execute(stmt.group_by(roles.c.contact_id))
    return {contact_id: total for contact_id, total in rows}


PageKey = tuple[uuid.UUID, int, int]  # contact, offset, limit


async def page_involving_many(
    *, session: AsyncSession, pages: Collection[PageKey], viewer: Viewer
) -> dict[PageKey, list[Order]]:
    """For each (contact, offset, limit), that page of the visible orders the contact has any
    role on, newest first: numbered per contact in SQL, so only the pages travel (one statement)."""
    pages = list(pages)
    stmt, roles = _visible_roles({c for c, _, _ in pages}, viewer, Order.id.label("order_id"))
    position = func.row_number().over(
        partition_by=roles.c.contact_id, order_by=(Order.created_at.desc(), Order.id.desc())
    )
    numbered = stmt.add_columns(position.label("position")).subquery()
    wanted = (
        func.unnest(
            bindparam("contacts", [c for c, _, _ in pages], type_=ARRAY(UUID(as_uuid=True))),
            bindparam("offsets", [o for _, o, _ in pages], type_=ARRAY(Integer)),
            bindparam("limits", [n for _, _, n in pages], type_=ARRAY(Integer)),
        )
        .table_valued("contact_id", "offset", "limit")
        .render_derived()
    )
    rows = await read(
        session,
        select(
            wanted.c.contact_id.label("page_contact_id"),
            wanted.c.offset.label("page_offset"),
            wanted.c.limit.label("page_limit"),
            *columns(Order),
        )
        .join(numbered, numbered.c.contact_id == wanted.c.contact_id)
        .join(Order, Order.id == numbered.c.order_id)
        .where(numbered.c.position > wanted.c.offset, numbered.c.position <= wanted.c.offset + wanted.c.limit)
        .order_by(wanted.c.contact_id, numbered.c.position),
    )
    result: dict[PageKey, list[Order]] = defaultdict(list)
    for row in rows:  # the order's columns, and the page it is on
        result[(row.page_contact_id, row.page_offset, row.page_limit)].append(row)
    return result


# --- creation ----------------------------------------------------------------------------------


def _is_partner_like(contact: Contact) -> bool:
    """An organisation, or a person who belongs to one."""
    return contact.contact_type is ContactType.ORGANIZATION or contact.parent_organization_id is not None


async def validated_parties(session: AsyncSession, order_in: OrderCreate, viewer: Viewer) -> dict[uuid.UUID, Contact]:
    """The parties of an order (or a quote) checked: each exists for the viewer, the account and
    the chain are organisations or their people, the chain is short and has no repeats."""
    channel = list(order_in.channel_contact_ids)
    if len(channel) > MAX_CHANNEL_LENGTH:
        raise ValidationFailed(f"A channel chain has at most {MAX_CHANNEL_LENGTH} levels.", field="channel_contact_ids")
    if len(set(channel)) != len(channel):
        raise ValidationFailed("A partner appears only once in a channel chain.", field="channel_contact_ids")
    wanted = {order_in.account_contact_id, *channel}
    if order_in.end_customer_contact_id is not None:
        wanted.add(order_in.end_customer_contact_id)
    # what a viewer may not see does not exist for it
    rows = await session.scalars(select(Contact).where(any_of(Contact.id, wanted), policy.visible(viewer, Contact)))
    found = {c.id: c for c in rows}

    account = found.get(order_in.account_contact_id)
    if account is None:
        raise NotFound("Contact", order_in.account_contact_id, field="account_contact_id")
    if not _is_partner_like(account):
        raise ValidationFailed(
            "The account is an organisation or a person of an organisation.", field="account_contact_id"
        )
    if order_in.end_customer_contact_id is not None and order_in.end_customer_contact_id not in found:
        raise NotFound("Contact", order_in.end_customer_contact_id, field="end_customer_contact_id")
    for contact_id in channel:
        contact = found.get(contact_id)
        if contact is None:
            raise NotFound("Contact", contact_id, field="channel_contact_ids")
        if not _is_partner_like(contact):
            raise ValidationFailed(
                f"Channel partner {contact.display_name!r} is neither an organisation nor a person of one.",
                field="channel_contact_ids",
            )
    return found


def _check_creator(viewer: Viewer, actor: Actor, order_in: OrderCreate) -> None:
    """Staff and system processes create any order; a partner only orders whose channel chain
    holds its organisation (its scope root); customers none."""
    if actor.system is not None or actor.roles & STAFF_ROLES:
        return
    if Role.PARTNER in actor.roles and viewer.root_id in order_in.channel_contact_ids:
        return
    raise PermissionDenied("Partners create orders on which their organisation is in the channel chain.")


async def create(*, session: AsyncSession, order_in: OrderCreate, actor: Actor, viewer: Viewer) -> Order:
    notes = text.text(order_in.notes, field="notes", max_length=text.LONG_TEXT_LENGTH)
    if await session.get(BusinessEntity, order_in.business_entity_id) is None:
        raise ValidationFailed("Unknown business entity.", field="business_entity_id")
    _check_creator(viewer, actor, order_in)
    await validated_parties(session, order_in, viewer)
    workflow = await engine.workflow_for(
        session=session, entity_type=EntityType.ORDER.value, business_entity_id=order_in.business_entity_id
    )

    # From here on nothing is expected to fail; if anything does, the rollback returns the number.
    number = await allocate(
        session=session, business_entity_id=order_in.business_entity_id, document_type=DocumentType.ORDER
    )
    order = Order(
        business_entity_id=order_in.business_entity_id,
        number=number,
        account_contact_id=order_in.account_contact_id,
        end_customer_contact_id=order_in.end_customer_contact_id,
        status=workflow.first_step.status_name,
        notes=notes,
        created_by_account_id=actor.account_id,
    )
    session.add(order)
    await session.flush()
    session.add_all(
        OrderChannel(order_id=order.id, position=position, contact_id=contact_id)
        for position, contact_id in enumerate(order_in.channel_contact_ids, start=1)
    )
    await session.flush()
    await record(
        session=session,
        actor=actor,
        action="order.create",
        entity_type=EntityType.ORDER.value,
        entity_id=order.id,
        before=None,
        after={**snapshot(order), "channel_contact_ids": list(order_in.channel_contact_ids)},
    )
    await engine.initialize(
        session=session, entity_type=EntityType.ORDER.value, entity=order, workflow=workflow, actor=actor
    )
    return order


# --- what other domains use -------------------------------------------------------------------
# Other domains reach orders through this module only (an import contract, pyproject.toml):
# the lines of orders (read, added, resolved from the catalogue) and the event of their change,
# the hold events, and the totals computation; the parties' checks (`validated_parties`).

__all__ = [
    "HoldPlaced",
    "HoldResumed",
    "LineIn",
    "OrderLineChanging",
    "OrderLinesChanged",
    "add_line",
    "lines_of_many",
    "resolve_line",
    "totals",
]


# --- wiring (app/wiring.py) --------------------------------------------------------------------


def wire() -> None:
    """Orders have a status: the engine reaches their rows through this adapter."""
    register(EntityAdapter(entity_type=EntityType.ORDER, model=Order, name="Order"))
