"""Partner configurations (staff), and the reads of partner data through the visibility policy
(docs/integration.md)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import text
from app.access import policy, reads
from app.access.policy import Viewer
from app.audit.service import Actor, record, snapshot
from app.business_entities.models import BusinessEntity
from app.catalog.models import Article
from app.contacts.models import Contact, ContactType
from app.db import any_of, columns, read
from app.errors import NotFound, ValidationFailed
from app.keep import KEEP, Keep
from app.outbox.service import ORDER_EVENTS
from app.partners.errors import AlreadyConfigured
from app.partners.models import (
    DeliveryStatus,
    PartnerIntegration,
    PartnerOrder,
    PartnerProduct,
    WebhookAttempt,
    WebhookDelivery,
)

CODE_LENGTH: Final = 64
MAPPED_STATUS_LENGTH: Final = 100
MAX_PRODUCTS: Final = 500
MAX_RATE_LIMIT: Final = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegrationIn:
    """A configuration, or (with KEEP) the fields of one to change."""

    business_entity_id: uuid.UUID | Keep = KEEP
    active: bool | Keep = KEEP
    test_mode: bool | Keep = KEEP
    webhook_url: str | None | Keep = KEEP
    events: Sequence[str] | Keep = KEEP
    status_mapping: Mapping[str, str] | Keep = KEEP
    products: Mapping[str, uuid.UUID] | Keep = KEEP
    """The partner's product codes and the articles they order (replaces the whole mapping)."""
    rate_limit_per_minute: int | Keep = KEEP


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _url(value: str | None) -> str | None:
    url = text.line(value, field="webhook_url", max_length=500)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("The webhook endpoint is an http(s) URL with a host.", field="webhook_url")
    return url


def _events(values: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(text.lines(values, field="events", max_length=60)))
    unknown = [e for e in chosen if e not in ORDER_EVENTS]
    if unknown:
        raise ValidationFailed(
            f"Unknown event type {unknown[0]!r}; partners subscribe to {', '.join(ORDER_EVENTS)}.", field="events"
        )
    return chosen


def _mapping(values: Mapping[str, str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for ours, theirs in values.items():
        key = text.line(ours, field="status_mapping", max_length=text.STATUS_NAME_LENGTH)
        value = text.line(theirs, field="status_mapping", max_length=MAPPED_STATUS_LENGTH)
        if not key or not value:
            raise ValidationFailed("A status mapping pairs two non-empty names.", field="status_mapping")
        mapping[key] = value
    return mapping


def _rate(value: int) -> int:
    if not 1 <= value <= MAX_RATE_LIMIT:
        raise ValidationFailed(f"A rate limit lies between 1 and {MAX_RATE_LIMIT} calls a minute.", field="rate_limit")
    return value


async def _products(
    session: AsyncSession, integration: PartnerIntegration, products: Mapping[str, uuid.UUID]
) -> dict[str, uuid.UUID]:
    if len(products) > MAX_PRODUCTS:
        raise ValidationFailed(f"At most {MAX_PRODUCTS} product codes.", field="products")
    clean: dict[str, uuid.UUID] = {}
    for code, article_id in products.items():
        key = text.line(code, field="products", max_length=CODE_LENGTH)
        if not key:
            raise ValidationFailed("A product code is not empty.", field="products")
        clean[key] = article_id
    found = set(
        await session.scalars(
            select(Article.id).where(
                any_of(Article.id, set(clean.values())),
                Article.business_entity_id == integration.business_entity_id,
                Article.is_active,
            )
        )
    )
    for code, article_id in clean.items():
        if article_id not in found:
            raise ValidationFailed(
                f"Product code {code!r} maps to no active article of the partner's brand.", field="products"
            )
    return clean


async def _apply(session: AsyncSession, integration: PartnerIntegration, changes: IntegrationIn) -> None:
    given = {f.name: getattr(changes, f.name) for f in fields(changes) if getattr(changes, f.name) is not KEEP}
    if "business_entity_id" in given:
        if await session.get(BusinessEntity, given["business_entity_id"]) is None:
            raise ValidationFailed("Unknown business entity.", field="business_entity_id")
        integration.business_entity_id = given["business_entity_id"]
    for name, clean in (
        ("webhook_url", _url),
        ("events", _events),
        ("status_mapping", _mapping),
        ("rate_limit_per_minute", _rate),
    ):
        if name in given:
            setattr(integration, name, clean(given[name]))
    for flag in ("active", "test_mode"):
        if flag in given:
            setattr(integration, flag, bool(given[flag]))
    await session.flush()
    if "products" in given or "business_entity_id" in given:
        products = (
            given["products"]
            if "products" in given
            else {p.partner_code: p.article_id for p in await session.scalars(_products_of(integration.id))}
        )
        mapping = await _products(session, integration, products)
        await session.execute(delete(PartnerProduct).where(PartnerProduct.integration_id == integration.id))
        session.add_all(
            PartnerProduct(integration_id=integration.id, partner_code=code, article_id=article_id)
            for code, article_id in mapping.items()
        )
        await session.flush()


def _products_of(integration_id: uuid.UUID) -> Any:
    return select(PartnerProduct).where(PartnerProduct.integration_id == integration_id)


async def create_integration(
    *, session: AsyncSession, organization_id: uuid.UUID, integration_in: IntegrationIn, actor: Actor
) -> tuple[PartnerIntegration, str]:
    """A configuration for a partner organisation, and its signing secret (shown this once)."""
    organization = await session.get(Contact, organization_id)
    if organization is None:
        raise NotFound("Contact", organization_id, field="organization_id")
    if organization.contact_type is not ContactType.ORGANIZATION:
        raise ValidationFailed("A partner integration belongs to an organisation.", field="organization_id")
    if isinstance(integration_in.business_entity_id, Keep):
        raise ValidationFailed("Name the brand the partner orders for.", field="business_entity_id")
    if await session.scalar(select(PartnerIntegration.id).where(PartnerIntegration.organization_id == organization_id)):
        raise AlreadyConfigured(f"{organization.display_name} already has an integration.", field="organization_id")
    secret = new_secret()
    integration = PartnerIntegration(
        organization_id=organization_id, business_entity_id=integration_in.business_entity_id, signing_secret=secret
    )
    session.add(integration)
    await session.flush()
    await _apply(session, integration, integration_in)
    await _audit(session, actor, "partner_integration.create", integration, None)
    return integration, secret


async def _locked(session: AsyncSession, integration_id: uuid.UUID) -> PartnerIntegration:
    integration = await session.get(PartnerIntegration, integration_id, with_for_update=True, populate_existing=True)
    if integration is None:
        raise NotFound("PartnerIntegration", integration_id, field="id")
    return integration


async def update_integration(
    *, session: AsyncSession, integration_id: uuid.UUID, changes: IntegrationIn, actor: Actor
) -> PartnerIntegration:
    integration = await _locked(session, integration_id)
    before = _public(integration)
    await _apply(session, integration, changes)
    await _audit(session, actor, "partner_integration.update", integration, before)
    return integration


async def rotate_secret(
    *, session: AsyncSession, integration_id: uuid.UUID, actor: Actor
) -> tuple[PartnerIntegration, str]:
    """A new signing secret (shown this once); the old one signs nothing from now on."""
    integration = await _locked(session, integration_id)
    secret = new_secret()
    integration.signing_secret = secret
    await session.flush()
    await _audit(session, actor, "partner_integration.rotate_secret", integration, None)
    return integration, secret


def _public(integration: PartnerIntegration) -> dict[str, Any]:
    return {k: v for k, v in snapshot(integration).items() if k != "signing_secret"}


async def _audit(
    session: AsyncSession, actor: Actor, action: str, integration: PartnerIntegration, before: dict[str, Any] | None
) -> None:
    await record(
        session=session,
        actor=actor,
        action=action,
        entity_type="partner_integration",
        entity_id=integration.id,
        before=before,
        after=_public(integration),
    )


# --- reads ------------------------------------------------------------------------------------


async def integrations(*, session: AsyncSession, viewer: Viewer) -> list[Any]:
    return await read(
        session,
        select(*columns(PartnerIntegration))
        .where(policy.visible(viewer, PartnerIntegration))
        .order_by(PartnerIntegration.created_at),
    )


async def integrations_by_id(
    *, session: AsyncSession, ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, Any]:
    return await reads.visible_by_id(session, PartnerIntegration, ids, viewer)


async def products_of_many(
    *, session: AsyncSession, integration_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    return await reads.visible_by(
        session, PartnerProduct, PartnerProduct.integration_id, integration_ids, viewer, PartnerProduct.partner_code
    )


async def partner_orders_of_many(
    *, session: AsyncSession, order_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    return await reads.visible_by(session, PartnerOrder, PartnerOrder.order_id, order_ids, viewer)


async def attempts_of_many(
    *, session: AsyncSession, delivery_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    return await reads.visible_by(
        session, WebhookAttempt, WebhookAttempt.delivery_id, delivery_ids, viewer, WebhookAttempt.attempt
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryFilter:
    order_id: uuid.UUID | None = None
    statuses: Collection[DeliveryStatus] = ()
    organization_id: uuid.UUID | None = None


def _deliveries(stmt: Any, filter_in: DeliveryFilter, viewer: Viewer) -> Any:
    stmt = stmt.where(policy.visible(viewer, WebhookDelivery))
    if filter_in.order_id is not None:
        stmt = stmt.where(WebhookDelivery.order_id == filter_in.order_id)
    if filter_in.statuses:
        stmt = stmt.where(WebhookDelivery.status.in_(list(filter_in.statuses)))
    if filter_in.organization_id is not None:
        stmt = stmt.where(WebhookDelivery.organization_id == filter_in.organization_id)
    return stmt


async def count_deliveries(*, session: AsyncSession, filter_in: DeliveryFilter, viewer: Viewer) -> int:
    return int(
        await session.scalar(_deliveries(select(func.count()).select_from(WebhookDelivery), filter_in, viewer)) or 0
    )


async def search_deliveries(
    *, session: AsyncSession, filter_in: DeliveryFilter, viewer: Viewer, offset: int, limit: int
) -> list[Any]:
    """The deliveries `viewer` may see, newest first."""
    stmt = _deliveries(select(*columns(WebhookDelivery)), filter_in, viewer)
    return await read(
        session, stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).offset(offset).limit(limit)
    )


# --- wiring (app/wiring.py) --------------------------------------------------------------------


def wire() -> None:
    """Each dispatched outbox event is fanned out to the partners subscribed to it; a delivery is
    a job."""
    from app.jobs import queue
    from app.outbox import service as outbox
    from app.partners import webhooks

    outbox.consume(webhooks.fan_out)
    queue.register(webhooks.DELIVER, webhooks.deliver)
