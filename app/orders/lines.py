"""Order lines: add, change, remove — not in a step flagged `locks_lines` (invoiced) or a final one."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from app import events, text
from app.audit.service import Actor, record, snapshot
from app.catalog.models import VAT_RATES, Article
from app.db import numeric_limit, read_by
from app.errors import NotFound, ValidationFailed
from app.keep import KEEP, Keep
from app.orders.errors import OrderLocked
from app.orders.holds import active_hold
from app.orders.models import LineItem, Order
from app.status import engine
from app.status.models import EntityType, StepType


@dataclass(frozen=True, slots=True)
class OrderLinesChanged:
    """Published after lines change, inside the same transaction (commissions recalculate)."""

    order_id: uuid.UUID
    actor: Actor


@dataclass(frozen=True, slots=True)
class OrderLineChanging:
    """Published before a line changes or is removed, inside the same transaction, with the order
    locked: a subscriber refuses by raising (a billed line stays as it was billed)."""

    order_id: uuid.UUID
    line_id: uuid.UUID
    removing: bool
    actor: Actor


@dataclass(frozen=True, slots=True, kw_only=True)
class LineIn:
    article_id: uuid.UUID | None | Keep = KEEP
    description: str | None | Keep = KEEP
    quantity: Decimal | Keep = KEEP
    unit_price: Decimal | None | Keep = KEEP
    discount_percent: Decimal | Keep = KEEP
    vat_rate: Decimal | None | Keep = KEEP
    is_commissionable: bool | Keep = KEEP


MAX_QUANTITY: Final = numeric_limit(LineItem.quantity)
MAX_UNIT_PRICE: Final = numeric_limit(LineItem.unit_price)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    description = text.line(values["description"], field="description", max_length=text.LINE_DESCRIPTION_LENGTH)
    if description is None:
        raise ValidationFailed(
            f"A description of 1 to {text.LINE_DESCRIPTION_LENGTH} characters is needed.", field="description"
        )
    quantity, price, discount, rate = (
        values["quantity"],
        values["unit_price"],
        values["discount_percent"],
        values["vat_rate"],
    )
    if quantity is None or not quantity.is_finite() or not 0 < quantity <= MAX_QUANTITY or _places(quantity) > 3:
        raise ValidationFailed(
            f"The quantity is above 0 and at most {MAX_QUANTITY}, with at most 3 decimals.", field="quantity"
        )
    if price is None or not price.is_finite() or not 0 <= price <= MAX_UNIT_PRICE or _places(price) > 2:
        raise ValidationFailed(f"The unit price is from 0 to {MAX_UNIT_PRICE}, in cents.", field="unit_price")
    if not discount.is_finite() or not 0 <= discount <= 100 or _places(discount) > 2:
        raise ValidationFailed("The discount is a percentage from 0 to 100.", field="discount_percent")
    if rate is None or not rate.is_finite() or rate not in VAT_RATES:
        raise ValidationFailed("The VAT rate is 21, 9 or 0 %.", field="vat_rate")
    if quantity * price >= Decimal("1e10"):
        raise ValidationFailed("The line amount is too large.", field="quantity")
    return {**values, "description": description}


async def _locked_order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    """The order, row-locked, after checking that its lines may still change."""
    order = await session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound("Order", order_id, field="order_id")
    key = (EntityType.ORDER.value, order_id)
    found = (await engine.current_of_many(session=session, keys=[key])).get(key)
    if found is None:
        return order
    current, step = found
    if step.step_type is StepType.HOLD:
        # on hold, the lines stay as locked as they were in the status the order returns to
        hold = await active_hold(session, order_id)
        workflow = await engine.load_workflow(session=session, workflow_id=current.workflow_id)
        step = workflow.steps[hold.status_before] if hold is not None else step
    if step.is_final or step.locks_lines:
        raise OrderLocked(step.status_name)
    return order


async def _article(session: AsyncSession, business_entity_id: uuid.UUID, article_id: uuid.UUID) -> Article:
    article = await session.get(Article, article_id)
    if article is None or article.business_entity_id != business_entity_id:
        raise NotFound("Article", article_id, field="article_id")
    if not article.is_active:
        raise ValidationFailed("This article is no longer sold.", field="article_id")
    return article


def _provided(line_in: LineIn) -> dict[str, Any]:
    return {f.name: getattr(line_in, f.name) for f in fields(line_in) if getattr(line_in, f.name) is not KEEP}


async def add_line(
    *, session: AsyncSession, order_id: uuid.UUID, line_in: LineIn, actor: Actor, work_order_id: uuid.UUID | None = None
) -> LineItem:
    """A new line; what is not given comes from the article (name, price, VAT rate). Extra work
    found on site names the work order it came from."""
    order = await _locked_order(session, order_id)
    line = LineItem(
        order_id=order.id,
        work_order_id=work_order_id,
        **await resolve_line(session=session, business_entity_id=order.business_entity_id, line_in=line_in),
    )
    session.add(line)
    await session.flush()
    await _changed(session, actor, "line_item.add", line, None)
    return line


async def resolve_line(*, session: AsyncSession, business_entity_id: uuid.UUID, line_in: LineIn) -> dict[str, Any]:
    """A new line's values, checked: what is not given comes from the brand's article (name,
    price, VAT rate). Order lines and quote lines both come from here."""
    given = {k: v for k, v in _provided(line_in).items() if v is not None}
    article = await _article(session, business_entity_id, given["article_id"]) if "article_id" in given else None
    values = {
        "article_id": article.id if article else None,
        "description": given.get("description", article.name if article else None),
        "quantity": given.get("quantity"),
        "unit_price": given.get("unit_price", article.unit_price if article else None),
        "discount_percent": given.get("discount_percent", Decimal(0)),
        "vat_rate": given.get("vat_rate", article.vat_rate if article else None),
        "is_commissionable": given.get("is_commissionable", True),
    }
    return _validated(values)


async def update_line(*, session: AsyncSession, line_id: uuid.UUID, line_in: LineIn, actor: Actor) -> LineItem:
    line = await session.get(LineItem, line_id)
    if line is None:
        raise NotFound("LineItem", line_id, field="id")
    order = await _locked_order(session, line.order_id)
    await session.refresh(line)
    await events.publish(session, OrderLineChanging(order_id=order.id, line_id=line.id, removing=False, actor=actor))
    before = snapshot(line)
    values = {f.name: getattr(line, f.name) for f in fields(line_in)}
    values.update(_provided(line_in))
    if values["article_id"] is not None and values["article_id"] != line.article_id:
        await _article(session, order.business_entity_id, values["article_id"])
    for name, value in _validated(values).items():
        setattr(line, name, value)
    await session.flush()
    await _changed(session, actor, "line_item.update", line, before)
    return line


async def remove_line(*, session: AsyncSession, line_id: uuid.UUID, actor: Actor) -> uuid.UUID:
    line = await session.get(LineItem, line_id)
    if line is None:
        raise NotFound("LineItem", line_id, field="id")
    await _locked_order(session, line.order_id)
    await events.publish(
        session, OrderLineChanging(order_id=line.order_id, line_id=line.id, removing=True, actor=actor)
    )
    before = snapshot(line)
    await session.delete(line)
    await session.flush()
    await _changed(session, actor, "line_item.remove", line, before, removed=True)
    return line.order_id


async def _changed(
    session: AsyncSession,
    actor: Actor,
    action: str,
    line: LineItem,
    before: dict[str, Any] | None,
    *,
    removed: bool = False,
) -> None:
    await record(
        session=session,
        actor=actor,
        action=action,
        entity_type="line_item",
        entity_id=line.id,
        before=before,
        after=None if removed else snapshot(line),
    )
    await events.publish(session, OrderLinesChanged(order_id=line.order_id, actor=actor))


async def lines_of_many(*, session: AsyncSession, order_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[LineItem]]:
    return await read_by(session, LineItem.order_id, order_ids, LineItem.created_at, LineItem.id)
