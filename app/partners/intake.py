"""`createOrderFromPartner`: a partner's order, under its own reference, idempotently
(docs/integration.md, "Sending an order").

The partner is the calling token's organisation; the order's channel chain is that organisation
and its upline, its account is the organisation, its brand the configured one. The end customer
is found within the partner's scope (by e-mail, else by postcode and house number) or created
under the partner's organisation: a customer outside the scope is never attached, and whether
one exists is never told. Replays are serialised per (partner, reference) by a transaction-level
advisory lock: the same content returns the order already made, other content is a conflict.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Final

import orjson
from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app import text as clean
from app.access import policy
from app.access.policy import Viewer
from app.accounts.models import Role
from app.audit.service import Actor, record
from app.catalog.models import Article
from app.contacts import service as contacts
from app.contacts.models import Contact, ContactType
from app.db import any_of
from app.errors import PermissionDenied, ValidationFailed
from app.orders import service as orders
from app.orders.models import Order
from app.partners.errors import IdempotencyConflict, PartnerInactive, PartnerNotConfigured, UnknownProductCodes
from app.partners.models import PartnerIntegration, PartnerOrder, PartnerProduct

REFERENCE_LENGTH: Final = 100
MAX_LINES: Final = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerIn:
    name: str
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartnerLineIn:
    product_code: str
    quantity: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PartnerOrderIn:
    partner_order_reference: str
    customer: CustomerIn
    lines: Sequence[PartnerLineIn]
    po_number: str | None = None
    dealer_code: str | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedLine:
    product_code: str
    article_id: uuid.UUID
    description: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Intake:
    """What the intake did (or, in test mode, would do)."""

    order_id: uuid.UUID | None
    """The order made or found; None in test mode unless it is a replay."""
    replayed: bool
    test_mode: bool
    customer_id: uuid.UUID | None
    """The customer found; None when one is (or would be) created, unless it was."""
    customer_created: bool
    business_entity_id: uuid.UUID
    channel_contact_ids: list[uuid.UUID]
    lines: list[PlannedLine] = field(default_factory=list)


def _postcode(value: str | None) -> str | None:
    return value.replace(" ", "").upper() if value else None


def _normalised(order_in: PartnerOrderIn) -> PartnerOrderIn:
    customer = order_in.customer
    name = clean.line(customer.name, field="customer.name", max_length=200)
    if not name:
        raise ValidationFailed("The customer has a name.", field="customer.name")
    email = clean.line(customer.email, field="customer.email", max_length=254)
    reference = clean.line(
        order_in.partner_order_reference, field="partner_order_reference", max_length=REFERENCE_LENGTH
    )
    if not reference:
        raise ValidationFailed("The partner's order reference is not empty.", field="partner_order_reference")
    if not order_in.lines:
        raise ValidationFailed("An order has at least one line.", field="lines")
    if len(order_in.lines) > MAX_LINES:
        raise ValidationFailed(f"At most {MAX_LINES} lines.", field="lines")
    return PartnerOrderIn(
        partner_order_reference=reference,
        po_number=clean.line(order_in.po_number, field="po_number", max_length=REFERENCE_LENGTH),
        dealer_code=clean.line(order_in.dealer_code, field="dealer_code", max_length=REFERENCE_LENGTH),
        notes=clean.text(order_in.notes, field="notes", max_length=clean.LONG_TEXT_LENGTH),
        customer=CustomerIn(
            name=name,
            email=email.lower() if email else None,
            phone=clean.line(customer.phone, field="customer.phone", max_length=50),
            street=clean.line(customer.street, field="customer.street", max_length=200),
            house_number=clean.line(customer.house_number, field="customer.house_number", max_length=20),
            postal_code=_postcode(clean.line(customer.postal_code, field="customer.postal_code", max_length=10)),
            city=clean.line(customer.city, field="customer.city", max_length=100),
            country_code=clean.line(customer.country_code, field="customer.country_code", max_length=2),
        ),
        lines=[
            PartnerLineIn(
                product_code=clean.line(line.product_code, field="lines.product_code", max_length=64) or "",
                quantity=line.quantity.normalize() if line.quantity.is_finite() else line.quantity,
            )
            for line in order_in.lines
        ],
    )


def request_hash(order_in: PartnerOrderIn) -> str:
    """The content of an intake, canonical: equal for a replay, different for any change."""
    return hashlib.sha256(orjson.dumps(asdict(order_in), default=str, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def _integration(session: AsyncSession, viewer: Viewer, actor: Actor) -> PartnerIntegration:
    if Role.PARTNER not in actor.roles or viewer.root_id is None:
        raise PermissionDenied("Only a partner's token sends partner orders.")
    integration = await session.scalar(
        select(PartnerIntegration).where(PartnerIntegration.organization_id == viewer.root_id)
    )
    if integration is None:
        raise PartnerNotConfigured("Your organisation has no partner integration; ask ChargeCars to set it up.")
    if not integration.active:
        raise PartnerInactive("Your organisation's partner integration is not active.")
    return integration


async def _planned_lines(
    session: AsyncSession, integration: PartnerIntegration, lines: Sequence[PartnerLineIn]
) -> list[PlannedLine]:
    codes = {line.product_code for line in lines}
    rows = (
        await session.execute(
            select(PartnerProduct.partner_code, Article.id, Article.name, Article.unit_price)
            .join(Article, Article.id == PartnerProduct.article_id)
            .where(PartnerProduct.integration_id == integration.id, any_of(PartnerProduct.partner_code, codes))
        )
    ).all()
    mapped = {row.partner_code: row for row in rows}
    unknown = sorted(codes - mapped.keys())
    if unknown:
        raise UnknownProductCodes(unknown)
    return [
        PlannedLine(
            product_code=line.product_code,
            article_id=mapped[line.product_code].id,
            description=mapped[line.product_code].name,
            quantity=line.quantity,
            unit_price=mapped[line.product_code].unit_price,
        )
        for line in lines
    ]


async def _known_customer(session: AsyncSession, viewer: Viewer, customer: CustomerIn) -> uuid.UUID | None:
    """A person the partner may see that matches by e-mail, else by postcode and house number."""
    matches = []
    if customer.email:
        matches.append((func.lower(Contact.email) == customer.email) & policy.field_visible(viewer, "email"))
    if customer.postal_code and customer.house_number:
        matches.append(
            (func.upper(func.replace(Contact.postal_code, " ", "")) == customer.postal_code)
            & (func.lower(Contact.house_number) == customer.house_number.lower())
            & policy.field_visible(viewer, "postal_code")
        )
    if not matches:
        return None
    found = (
        await session.execute(
            select(Contact.id, (func.lower(Contact.email) == customer.email).label("by_email"))
            .where(
                Contact.contact_type == ContactType.PERSON,
                or_(*matches),
                policy.visible(viewer, Contact),
            )
            .order_by(text("by_email DESC NULLS LAST"), Contact.created_at)
            .limit(1)
        )
    ).first()
    return found.id if found else None


async def _replay(
    session: AsyncSession, integration: PartnerIntegration, order_in: PartnerOrderIn, digest: str
) -> uuid.UUID | None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"partner-intake:{integration.id}:{order_in.partner_order_reference}"},
    )
    existing = (
        await session.execute(
            select(PartnerOrder.order_id, PartnerOrder.request_hash, Order.number)
            .join(Order, Order.id == PartnerOrder.order_id)
            .where(
                PartnerOrder.integration_id == integration.id,
                PartnerOrder.partner_reference == order_in.partner_order_reference,
            )
        )
    ).first()
    if existing is None:
        return None
    if existing.request_hash != digest:
        raise IdempotencyConflict(order_in.partner_order_reference, existing.number)
    return existing.order_id


async def intake(*, session: AsyncSession, order_in: PartnerOrderIn, actor: Actor, viewer: Viewer) -> Intake:
    integration = await _integration(session, viewer, actor)
    order_in = _normalised(order_in)
    digest = request_hash(order_in)
    chain = [
        integration.organization_id,
        *await contacts.ancestor_ids(session=session, contact_id=integration.organization_id),
    ]
    nothing_made = Intake(
        order_id=None,
        replayed=False,
        test_mode=integration.test_mode,
        customer_id=None,
        customer_created=False,
        business_entity_id=integration.business_entity_id,
        channel_contact_ids=chain,
    )
    replayed = await _replay(session, integration, order_in, digest)
    if replayed is not None:
        return replace(nothing_made, order_id=replayed, replayed=True)
    planned = await _planned_lines(session, integration, order_in.lines)
    customer_id = await _known_customer(session, viewer, order_in.customer)
    if integration.test_mode:
        return replace(nothing_made, customer_id=customer_id, lines=planned)
    created = customer_id is None
    if customer_id is None:
        customer = order_in.customer
        customer_id = (
            await contacts.create(
                session=session,
                contact_in=contacts.ContactCreate(
                    contact_type=ContactType.PERSON,
                    display_name=customer.name,
                    contact_subtype="Customer",
                    email=customer.email,
                    phone=customer.phone,
                    street=customer.street,
                    house_number=customer.house_number,
                    postal_code=customer.postal_code,
                    city=customer.city,
                    country_code=customer.country_code,
                    parent_id=integration.organization_id,
                ),
                actor=actor,
            )
        ).id
    order = await orders.create(
        session=session,
        order_in=orders.OrderCreate(
            business_entity_id=integration.business_entity_id,
            account_contact_id=integration.organization_id,
            end_customer_contact_id=customer_id,
            channel_contact_ids=chain,
            notes=order_in.notes,
        ),
        actor=actor,
        viewer=viewer,
    )
    for line in planned:
        await orders.add_line(
            session=session,
            order_id=order.id,
            line_in=orders.LineIn(article_id=line.article_id, quantity=line.quantity),
            actor=actor,
        )
    session.add(
        PartnerOrder(
            order_id=order.id,
            integration_id=integration.id,
            partner_reference=order_in.partner_order_reference,
            po_number=order_in.po_number,
            dealer_code=order_in.dealer_code,
            request_hash=digest,
        )
    )
    await session.flush()
    await record(
        session=session,
        actor=actor,
        action="partner.intake",
        entity_type="order",
        entity_id=order.id,
        before=None,
        after={"partner_order_reference": order_in.partner_order_reference, "customer_created": created},
    )
    return replace(nothing_made, order_id=order.id, customer_id=customer_id, customer_created=created, lines=planned)
