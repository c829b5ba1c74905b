"""Contacts: batched reads for the loaders, search, creation and re-parenting.

The hierarchy is guarded twice: here, with typed errors, and by the `contact_hierarchy_guard`
trigger in the database. Both serialise on one transaction-level advisory lock, taken here
before any row is touched, so two concurrent moves that together would form a cycle cannot both
succeed: the second waits, then sees the first and is refused.
"""

from __future__ import annotations

import enum
import functools
import re
import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Final

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, and_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app import text
from app.access import policy
from app.access.policy import Access, Viewer
from app.audit.service import Actor, record, snapshot
from app.contacts.errors import CycleDetected, InvalidParent
from app.contacts.models import ADDRESS_FIELDS, Contact, ContactClosure, ContactType
from app.db import any_of, any_of_ids, by_keys, columns, constraint_name, read
from app.errors import NotFound, ValidationFailed
from app.keep import KEEP, Keep

HIERARCHY_LOCK_KEY: Final = 7_340_001  # equals the key in the contact_hierarchy_guard trigger
# Cycles are impossible (trigger + lock); this bound only keeps a recursive query finite should
# the data ever be damaged by hand.
_RECURSION_GUARD: Final = 10_000


@dataclass(frozen=True, slots=True)
class HierarchyEntry:
    level: int
    contact: Contact
    access: Access


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactFilter:
    """What `contacts` filters on; the texts are cleaned (or refused) when the filter is made."""

    contact_type: ContactType | None = None
    subtype: str | None = None
    parent_id: uuid.UUID | None = None
    top_level_only: bool = False
    search: str | None = None

    def __post_init__(self) -> None:
        subtype = text.line(self.subtype, field="subtype", max_length=_max_length("contact_subtype"))
        object.__setattr__(self, "subtype", subtype)
        object.__setattr__(self, "search", text.line(self.search, field="search", max_length=text.SEARCH_LENGTH))


class ContactSortField(enum.StrEnum):
    DISPLAY_NAME = "display_name"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@dataclass(frozen=True, slots=True)
class ContactSorting:
    field: ContactSortField = ContactSortField.DISPLAY_NAME
    descending: bool = False


MAX_PAYMENT_TERMS_DAYS: Final = 365


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactCreate:
    contact_type: ContactType
    display_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    contact_subtype: str | None = None
    parent_id: uuid.UUID | None = None
    commission_rate: Decimal | None = None
    business_entity_id: uuid.UUID | None = None
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country_code: str | None = None
    vat_number: str | None = None
    payment_terms_days: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactChanges:
    display_name: str | None | Keep = KEEP
    first_name: str | None | Keep = KEEP
    last_name: str | None | Keep = KEEP
    email: str | None | Keep = KEEP
    phone: str | None | Keep = KEEP
    contact_subtype: str | None | Keep = KEEP
    parent_id: uuid.UUID | None | Keep = KEEP
    commission_rate: Decimal | None | Keep = KEEP
    business_entity_id: uuid.UUID | None | Keep = KEEP
    street: str | None | Keep = KEEP
    house_number: str | None | Keep = KEEP
    postal_code: str | None | Keep = KEEP
    city: str | None | Keep = KEEP
    country_code: str | None | Keep = KEEP
    vat_number: str | None | Keep = KEEP
    payment_terms_days: int | None | Keep = KEEP


# --- reads -------------------------------------------------------------------------------------


async def get(*, session: AsyncSession, contact_id: uuid.UUID) -> Contact | None:
    return await session.get(Contact, contact_id)


async def get_or_raise(*, session: AsyncSession, contact_id: uuid.UUID) -> Contact:
    contact = await get(session=session, contact_id=contact_id)
    if contact is None:
        raise NotFound("Contact", contact_id)
    return contact


Seen = tuple[Contact, Access]
"""A contact as a viewer sees it: the row and how much of it (`app.access.policy.Access`)."""


def _seeing(stmt: Select[Any], viewer: Viewer, *, parties: bool = False) -> Select[Any]:
    """`stmt` (a contact's columns, `columns(Contact)`, and whatever else it selects) with the
    viewer's access to the contact as the column `access`; with `parties`, for contacts that are
    parties to, or installers on, what the viewer was shown (`policy.party_access`)."""
    access = policy.party_access(viewer) if parties else policy.contact_access(viewer)
    return stmt.add_columns(access.label("access"))


def _visible(rows: Sequence[Any]) -> list[tuple[Any, Access]]:
    """Each row with the viewer's access; the contacts the viewer may not see are left out.
    The row is the contact as a plain row (app.db.columns)."""
    return [(row, Access(row.access)) for row in rows if row.access]


async def _seen(session: AsyncSession, stmt: Select[Any], viewer: Viewer) -> list[tuple[Any, Access]]:
    """Each row of `stmt` with the viewer's access to the contact (`_seeing`, `_visible`)."""
    return _visible(await read(session, _seeing(stmt, viewer)))


@functools.lru_cache(maxsize=policy.RULES_KEPT)
def _by_ids(viewer: Viewer, parties: bool = False) -> Select[Any]:
    """The reads by keys below, built once per viewer and kept (their keys bound when they run,
    `any_of_ids`): building one, with the viewer's access levels, and working out its cache key
    cost more than running it (docs/benchmarks.md)."""
    return by_keys(_seeing(select(*columns(Contact)).where(any_of_ids(Contact.id)), viewer, parties=parties))


@functools.lru_cache(maxsize=policy.RULES_KEPT)
def _children_of_ids(viewer: Viewer) -> Select[Any]:
    return by_keys(
        _seeing(
            select(*columns(Contact))
            .where(any_of_ids(Contact.parent_organization_id))
            .order_by(Contact.parent_organization_id, Contact.display_name, Contact.id),
            viewer,
        )
    )


@functools.lru_cache(maxsize=policy.RULES_KEPT)
def _ancestors_of_ids(viewer: Viewer) -> Select[Any]:
    return by_keys(
        _seeing(
            select(ContactClosure.descendant_id.label("start_id"), ContactClosure.depth.label("level"))
            .add_columns(*columns(Contact))
            .join(Contact, Contact.id == ContactClosure.ancestor_id)
            .where(any_of_ids(ContactClosure.descendant_id), ContactClosure.depth > 0)
            .order_by(ContactClosure.descendant_id, ContactClosure.depth),
            viewer,
        )
    )


async def get_many(
    *, session: AsyncSession, ids: Collection[uuid.UUID], viewer: Viewer, parties: bool = False
) -> dict[uuid.UUID, Seen]:
    """The contacts with these ids that `viewer` may see. With `parties`, the ids are of parties
    to orders, or of installers on bookings, that the viewer was shown (read through the policy),
    and their access is worked out without testing again what showed them
    (`policy.party_access`)."""
    rows = _visible(await read(session, _by_ids(viewer, parties), ids=ids))
    return {row.id: (row, access) for row, access in rows}


async def children_of_many(
    *, session: AsyncSession, parent_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Seen]]:
    rows = _visible(await read(session, _children_of_ids(viewer), ids=parent_ids))
    by_parent: dict[uuid.UUID, list[Seen]] = defaultdict(list)
    for contact, access in rows:
        by_parent[contact.parent_organization_id].append((contact, access))
    return by_parent


async def ancestors_of_many(
    *, session: AsyncSession, ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[HierarchyEntry]]:
    """For each id its visible ancestors, nearest first (level 1 = parent): one lookup in the
    closure table for the whole batch."""
    rows = _visible(await read(session, _ancestors_of_ids(viewer), ids=ids))
    result: dict[uuid.UUID, list[HierarchyEntry]] = defaultdict(list)
    for row, access in rows:
        result[row.start_id].append(HierarchyEntry(row.level, row, access))
    return result


async def effective_commission_rates(*, session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """For each id the commission rate that applies to it: its own, else its nearest ancestor's
    (an explicit 0 stops the inheritance). Ids with no rate anywhere above them are absent."""
    up = (
        select(
            Contact.id.label("start_id"),
            Contact.parent_organization_id.label("parent_id"),
            Contact.commission_rate.label("rate"),
            literal(0).label("distance"),
        )
        .where(any_of(Contact.id, ids))
        .cte("rate_up", recursive=True)
    )
    step = aliased(Contact)
    up = up.union_all(
        select(up.c.start_id, step.parent_organization_id, step.commission_rate, up.c.distance + 1)
        .join(step, step.id == up.c.parent_id)
        .where(up.c.rate.is_(None), up.c.distance < _RECURSION_GUARD)
    )
    rows = await session.execute(
        select(up.c.start_id, up.c.rate)
        .where(up.c.rate.is_not(None))
        .ext(distinct_on(up.c.start_id))
        .order_by(up.c.start_id, up.c.distance)
    )
    return {start_id: rate for start_id, rate in rows}


async def descendants_of_many(
    *, session: AsyncSession, ids: Collection[uuid.UUID], max_depth: int | None, viewer: Viewer
) -> dict[uuid.UUID, list[HierarchyEntry]]:
    """For each id the visible contacts below it (level 1 = children) down to `max_depth`
    levels, ordered by level then name: one lookup in the closure table for the whole batch."""
    levels = ContactClosure.depth > 0 if max_depth is None else ContactClosure.depth.between(1, max_depth)
    rows = await _seen(
        session,
        select(ContactClosure.ancestor_id.label("start_id"), ContactClosure.depth.label("level"), *columns(Contact))
        .join(Contact, Contact.id == ContactClosure.descendant_id)
        .where(any_of(ContactClosure.ancestor_id, ids), levels)
        .order_by(ContactClosure.ancestor_id, ContactClosure.depth, Contact.display_name, Contact.id),
        viewer,
    )
    result: dict[uuid.UUID, list[HierarchyEntry]] = defaultdict(list)
    for row, access in rows:
        result[row.start_id].append(HierarchyEntry(row.level, row, access))
    return result


async def ancestor_ids(*, session: AsyncSession, contact_id: uuid.UUID) -> list[uuid.UUID]:
    """The chain above one contact, nearest first (ids only)."""
    rows = await session.scalars(
        select(ContactClosure.ancestor_id)
        .where(ContactClosure.descendant_id == contact_id, ContactClosure.depth > 0)
        .order_by(ContactClosure.depth)
    )
    return list(rows)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(stmt: Select[Any], filter_in: ContactFilter, viewer: Viewer) -> Select[Any]:
    conditions = [policy.visible(viewer, Contact)]
    if filter_in.contact_type is not None:
        conditions.append(Contact.contact_type == filter_in.contact_type)
    if filter_in.subtype:
        conditions.append(func.lower(Contact.contact_subtype) == filter_in.subtype.lower())
    if filter_in.parent_id is not None:
        conditions.append(Contact.parent_organization_id == filter_in.parent_id)
    if filter_in.top_level_only:
        conditions.append(Contact.parent_organization_id.is_(None))
    if filter_in.search:
        pattern = f"%{_escape_like(filter_in.search)}%"
        conditions.append(
            or_(
                Contact.display_name.ilike(pattern, escape="\\"),
                and_(Contact.email.ilike(pattern, escape="\\"), policy.field_visible(viewer, "email")),
            )
        )
    return stmt.where(and_(*conditions))


async def count(*, session: AsyncSession, filter_in: ContactFilter, viewer: Viewer) -> int:
    stmt = _filtered(select(func.count()).select_from(Contact), filter_in, viewer)
    return (await session.scalar(stmt)) or 0


async def search(
    *,
    session: AsyncSession,
    filter_in: ContactFilter,
    order: ContactSorting,
    viewer: Viewer,
    offset: int,
    limit: int,
) -> list[Seen]:
    column = getattr(Contact, order.field.value)
    keys = [column.desc(), Contact.id.desc()] if order.descending else [column.asc(), Contact.id.asc()]
    stmt = _filtered(select(*columns(Contact)), filter_in, viewer).order_by(*keys).offset(offset).limit(limit)
    return await _seen(session, stmt, viewer)


# --- writes ------------------------------------------------------------------------------------

_TEXT_FIELDS = (
    "display_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "contact_subtype",
    *ADDRESS_FIELDS,
    "vat_number",
)
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")


def _max_length(field: str) -> int:
    return text.column_length(getattr(Contact, field))


def _validated(contact_type: ContactType, values: dict[str, Any]) -> dict[str, Any]:
    """The record as it will be stored, or ValidationFailed naming the first bad field."""
    clean = dict(values)
    for name in _TEXT_FIELDS:
        clean[name] = text.line(clean.get(name), field=name, max_length=_max_length(name))

    if clean["email"] is not None:
        try:
            clean["email"] = validate_email(clean["email"], check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationFailed(f"Not a valid e-mail address: {exc}", field="email") from None

    if contact_type is ContactType.PERSON:
        if clean["display_name"] is None:
            derived = " ".join(p for p in (clean["first_name"], clean["last_name"]) if p)
            if not derived:
                raise ValidationFailed(
                    "A person needs a first name, a last name or a display name.", field="display_name"
                )
            clean["display_name"] = derived[: _max_length("display_name")]
        if clean["commission_rate"] is not None:
            raise ValidationFailed("Only organisations have a commission rate.", field="commission_rate")
    elif clean["display_name"] is None:
        raise ValidationFailed("An organisation needs a display name.", field="display_name")

    for name in ("postal_code", "country_code", "vat_number"):
        if clean[name] is not None:
            clean[name] = clean[name].upper()
    if clean["country_code"] is not None and not _COUNTRY_CODE.fullmatch(clean["country_code"]):
        raise ValidationFailed("A country is its two-letter ISO code (NL, BE, DE).", field="country_code")
    terms = clean["payment_terms_days"]
    if terms is not None and not 0 <= terms <= MAX_PAYMENT_TERMS_DAYS:
        raise ValidationFailed(f"Payment terms are 0 to {MAX_PAYMENT_TERMS_DAYS} days.", field="payment_terms_days")

    rate = clean["commission_rate"]
    if rate is not None:
        if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1):
            raise ValidationFailed("A commission rate is a fraction from 0 to 1.", field="commission_rate")
        if rate.as_tuple().exponent < -4:
            raise ValidationFailed("A commission rate has at most 4 decimals.", field="commission_rate")
    return clean


async def _lock_hierarchy(session: AsyncSession) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(HIERARCHY_LOCK_KEY)))


async def _check_parent(session: AsyncSession, *, contact_id: uuid.UUID | None, parent_id: uuid.UUID) -> None:
    """Call with the hierarchy lock held, so what it reads cannot change until commit."""
    if parent_id == contact_id:
        raise CycleDetected(contact_id, parent_id)
    parent = await session.get(Contact, parent_id, populate_existing=True)
    if parent is None:
        raise InvalidParent("The parent contact does not exist.", parent_id)
    if parent.contact_type is not ContactType.ORGANIZATION:
        raise InvalidParent("Only organisations can be parents.", parent_id)
    if contact_id is not None and contact_id in await ancestor_ids(session=session, contact_id=parent_id):
        raise CycleDetected(contact_id, parent_id)


async def _flush(session: AsyncSession, contact: Contact) -> None:
    """Flush, turning the database's own guards into the same typed errors (the backstop)."""
    try:
        await session.flush()
    except IntegrityError as exc:
        name = constraint_name(exc)
        parent_id = contact.parent_organization_id
        if name == "ck_contact_no_cycle":
            assert parent_id is not None  # only a move under a parent can close a cycle
            raise CycleDetected(contact.id, parent_id) from None
        if name in ("ck_contact_parent_is_organization", "fk_contact_parent_organization_id_contact"):
            raise InvalidParent("The parent must be an existing organisation.", parent_id) from None
        if name == "fk_contact_business_entity_id_business_entity":
            raise ValidationFailed("Unknown business entity.", field="business_entity_id") from None
        raise


async def create(*, session: AsyncSession, contact_in: ContactCreate, actor: Actor) -> Contact:
    values = {f.name: getattr(contact_in, f.name) for f in fields(contact_in) if f.name != "contact_type"}
    clean = _validated(contact_in.contact_type, values)
    parent_id = clean.pop("parent_id")
    if parent_id is not None:
        await _lock_hierarchy(session)
        await _check_parent(session, contact_id=None, parent_id=parent_id)
    contact = Contact(contact_type=contact_in.contact_type, parent_organization_id=parent_id, **clean)
    session.add(contact)
    await _flush(session, contact)
    await record(
        session=session,
        actor=actor,
        action="contact.create",
        entity_type="contact",
        entity_id=contact.id,
        before=None,
        after=snapshot(contact),
    )
    return contact


async def update(*, session: AsyncSession, contact_id: uuid.UUID, changes: ContactChanges, actor: Actor) -> Contact:
    moving = changes.parent_id is not KEEP
    if moving:
        await _lock_hierarchy(session)
    contact = await session.get(Contact, contact_id, with_for_update=True, populate_existing=True)
    if contact is None:
        raise NotFound("Contact", contact_id)
    before = snapshot(contact)

    values: dict[str, Any] = {f.name: getattr(contact, f.name) for f in fields(changes) if f.name != "parent_id"}
    values["parent_id"] = contact.parent_organization_id
    values.update({f.name: getattr(changes, f.name) for f in fields(changes) if getattr(changes, f.name) is not KEEP})
    clean = _validated(contact.contact_type, values)

    parent_id = clean.pop("parent_id")
    if moving and parent_id is not None and parent_id != contact.parent_organization_id:
        await _check_parent(session, contact_id=contact.id, parent_id=parent_id)
    contact.parent_organization_id = parent_id
    for name, value in clean.items():
        setattr(contact, name, value)
    await _flush(session, contact)
    await record(
        session=session,
        actor=actor,
        action="contact.update",
        entity_type="contact",
        entity_id=contact.id,
        before=before,
        after=snapshot(contact),
    )
    return contact
