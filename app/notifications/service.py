"""Who is told what, and the telling (docs/notifications.md).

An outbox consumer (`fan_out`, in the dispatch's transaction) turns an order's events into
messages: entering a workflow step tells whom the step's `notification_settings.notify` names
(`end_customer`, `account`, `channel`, `staff:<role>`); a hold placed or resumed tells the end
customer when it was placed with `notifyCustomer` and the channel partners with
`notifyPartner`. Each message is rendered once, from the latest version of the brand's template
for its event in the recipient's language (else the other language), and logged in
`communication` before anything is sent: a contact that opted out of the channel, has no
address, or a brand without a template is logged as suppressed with the reason; one event
never tells one address twice (the log is unique per event, channel and address).

Sending is a job per message (`notification.send`): it claims an attempt under the row lock
with a lease, sends without holding a transaction, and records the outcome. A server that is
away is retried with backoff (±20 %) until the settings' delays run out, then the message is
`failed`, visibly; a recipient the server refuses for good is `bounced`. An API transaction
never waits on a mail server.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any, Final

from pgqueuer import RetryRequested
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app import text
from app.access import policy, reads
from app.access.policy import Viewer
from app.accounts.models import UserAccount
from app.audit.service import Actor, record
from app.business_entities.models import BusinessEntity
from app.contacts.models import Contact
from app.db import columns, read
from app.errors import NotFound, PermissionDenied, ValidationFailed
from app.jobs import queue
from app.jobs.attempts import backoff, wait_for_slot
from app.jobs.queue import JobContext
from app.notifications import templates
from app.notifications.channels import CHANNELS, EMAIL, Outgoing, SendFailed, channel_for
from app.notifications.models import Audience, Communication, CommunicationStatus, NotificationTemplate
from app.orders.models import Order, OrderChannel, OrderHold
from app.outbox.models import OutboxEvent
from app.status.models import EntityCurrentStatus, StatusWorkflowStep

SEND: Final = "notification.send"
LEASE_MARGIN: Final = timedelta(seconds=5)
STAFF_PREFIX: Final = "staff:"
EXCERPT: Final = 500
SUBJECT_LENGTH: Final = 300
BODY_LENGTH: Final = 50_000


# --- templates -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateIn:
    business_entity_id: uuid.UUID
    event: str
    language: str
    subject: str
    body_text: str
    body_html: str | None = None
    channel: str = EMAIL


async def save_template(*, session: AsyncSession, template_in: TemplateIn, actor: Actor) -> NotificationTemplate:
    """A new version of the brand's template for the event, language and channel (the first is
    version 1); refused with TemplateInvalid when it does not parse or uses a variable its
    event does not offer."""
    template_in = TemplateIn(
        business_entity_id=template_in.business_entity_id,
        event=text.line(template_in.event, field="event", max_length=60) or "",
        language=text.line(template_in.language, field="language", max_length=2) or "",
        channel=template_in.channel,
        subject=text.line(template_in.subject, field="subject", max_length=SUBJECT_LENGTH) or "",
        body_text=text.text(template_in.body_text, field="body_text", max_length=BODY_LENGTH) or "",
        body_html=text.text(template_in.body_html, field="body_html", max_length=BODY_LENGTH),
    )
    if template_in.language not in templates.LANGUAGES:
        raise ValidationFailed(f"A template is in one of: {', '.join(templates.LANGUAGES)}.", field="language")
    if template_in.channel not in CHANNELS:
        raise ValidationFailed(f"A channel is one of: {', '.join(CHANNELS)}.", field="channel")
    for field in ("subject", "body_text"):
        if not getattr(template_in, field).strip():
            raise ValidationFailed("Write something.", field=field)
    templates.check(
        template_in.event,
        {"subject": template_in.subject, "body_text": template_in.body_text, "body_html": template_in.body_html},
    )
    if await session.get(BusinessEntity, template_in.business_entity_id) is None:
        raise NotFound("BusinessEntity", template_in.business_entity_id, field="business_entity_id")
    key = (template_in.business_entity_id, template_in.event, template_in.language, template_in.channel)
    # versions of one template are numbered one after the other, whoever saves at the same time
    await session.execute(sql("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": repr(key)})
    latest = await session.scalar(select(func.max(NotificationTemplate.version)).where(*_same_template(*key)))
    template = NotificationTemplate(
        business_entity_id=template_in.business_entity_id,
        event=template_in.event,
        language=template_in.language,
        channel=template_in.channel,
        version=(latest or 0) + 1,
        subject=template_in.subject,
        body_text=template_in.body_text,
        body_html=template_in.body_html,
        created_by_account_id=actor.account_id,
    )
    session.add(template)
    await session.flush()
    await record(
        session=session,
        actor=actor,
        action="notification_template.save",
        entity_type="notification_template",
        entity_id=template.id,
        before=None,
        after={"event": template.event, "language": template.language, "version": template.version},
    )
    return template


def _same_template(brand: Any, event: Any, language: Any, channel: Any) -> list[Any]:
    return [
        NotificationTemplate.business_entity_id == brand,
        NotificationTemplate.event == event,
        NotificationTemplate.language == language,
        NotificationTemplate.channel == channel,
    ]


async def list_templates(
    *, session: AsyncSession, viewer: Viewer, business_entity_id: uuid.UUID | None, all_versions: bool
) -> list[Any]:
    """The templates (the latest version of each, unless all are asked for), by brand, event,
    language and version."""
    stmt = select(*columns(NotificationTemplate)).where(policy.visible(viewer, NotificationTemplate))
    if business_entity_id is not None:
        stmt = stmt.where(NotificationTemplate.business_entity_id == business_entity_id)
    if not all_versions:
        later = NotificationTemplate.__table__.alias("later")
        stmt = stmt.where(
            ~select(later.c.id)
            .where(
                *_same_template(later.c.business_entity_id, later.c.event, later.c.language, later.c.channel),
                later.c.version > NotificationTemplate.version,
            )
            .exists()
        )
    return await read(
        session,
        stmt.order_by(
            NotificationTemplate.business_entity_id,
            NotificationTemplate.event,
            NotificationTemplate.language,
            NotificationTemplate.version,
        ),
    )


async def _template_for(
    session: AsyncSession, brand: uuid.UUID, event: str, language: str, channel: str
) -> NotificationTemplate | None:
    """The latest version for the language, else for the brand's other language."""
    found = list(
        await session.scalars(
            select(NotificationTemplate)
            .where(
                NotificationTemplate.business_entity_id == brand,
                NotificationTemplate.event == event,
                NotificationTemplate.channel == channel,
            )
            .order_by(NotificationTemplate.language != language, NotificationTemplate.version.desc())
            .limit(1)
        )
    )
    return found[0] if found else None


# --- the variables of an order's message --------------------------------------------------------


async def _step(session: AsyncSession, order_id: uuid.UUID, status: str) -> Any:
    """The step `status` of the order's workflow (its label, whom entering it tells), if any."""
    found = await session.execute(
        select(StatusWorkflowStep.label, StatusWorkflowStep.notification_settings)
        .join(EntityCurrentStatus, EntityCurrentStatus.workflow_id == StatusWorkflowStep.workflow_id)
        .where(
            EntityCurrentStatus.entity_type == "order",
            EntityCurrentStatus.entity_id == order_id,
            StatusWorkflowStep.status_name == status,
        )
    )
    return found.first()


async def _order_variables(
    session: AsyncSession, order: Order, status: str, label: str | None, hold_id: uuid.UUID | None, deadline: str
) -> dict[str, Any]:
    brand = await session.get(BusinessEntity, order.business_entity_id)
    customer = await session.get(Contact, order.end_customer_contact_id or order.account_contact_id)
    variables: dict[str, Any] = {
        "order_number": order.number,
        "brand_name": brand.name if brand else "",
        "customer_name": customer.display_name if customer else "",
        "status": status,
        "status_label": label or status,
        "deadline": deadline,
    }
    hold = await session.get(OrderHold, hold_id) if hold_id else None
    if hold is None and hold_id is None:
        hold = await session.scalar(
            select(OrderHold).where(OrderHold.order_id == order.id).order_by(OrderHold.placed_at.desc()).limit(1)
        )
    variables |= {
        "hold_reason": hold.reason_category.value if hold else "",
        "hold_details": (hold.details or "") if hold else "",
        "resume_date": hold.estimated_resume_date.isoformat() if hold and hold.estimated_resume_date else "",
        "escalation_date": hold.escalation_date.isoformat() if hold and hold.escalation_date else "",
    }
    return variables


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def render(template: NotificationTemplate | Any, variables: dict[str, Any]) -> Rendered:
    return Rendered(
        subject=templates.render(template.subject, variables).strip(),
        text=templates.render(template.body_text, variables),
        html=templates.render(template.body_html, variables, html=True) if template.body_html else None,
    )


async def preview(*, session: AsyncSession, template_id: uuid.UUID, order_id: uuid.UUID) -> tuple[Rendered, dict]:
    """The template rendered for the order (as its end customer would get it), nothing sent."""
    template = await session.get(NotificationTemplate, template_id)
    if template is None:
        raise NotFound("NotificationTemplate", template_id, field="template_id")
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound("Order", order_id, field="order_id")
    status = (
        template.event.removeprefix(templates.STATUS_PREFIX)
        if template.event.startswith(templates.STATUS_PREFIX)
        else order.status
    )
    step = await _step(session, order.id, status)
    variables = await _order_variables(session, order, status, step.label if step else None, None, "")
    variables["recipient_name"] = variables["customer_name"]  # the end customer, else the account
    return render(template, variables), variables


# --- who is told ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    audience: Audience
    contact: Contact | None
    address: str | None
    language: str
    name: str


def _told_by_event(event: OutboxEvent, step_settings: dict[str, Any] | None) -> tuple[str, list[str]] | None:
    """The template event and the audiences an outbox event tells, if any."""
    payload = event.payload
    if event.event_type in ("order.created", "order.status_changed"):
        notify = (step_settings or {}).get("notify") or []
        return (f"{templates.STATUS_PREFIX}{payload['toStatus']}", [str(n) for n in notify]) if notify else None
    if event.event_type in ("order.sla_breached", "order.hold_escalated"):
        return event.event_type, [f"{STAFF_PREFIX}{payload['role']}"]
    if event.event_type in ("order.hold_placed", "order.hold_resumed"):
        audiences = [Audience.END_CUSTOMER.value] * bool(payload.get("notifyCustomer"))
        audiences += [Audience.CHANNEL.value] * bool(payload.get("notifyPartner"))
        return (event.event_type, audiences) if audiences else None
    return None


async def _recipients(session: AsyncSession, order: Order, audiences: Sequence[str]) -> list[Recipient]:
    found: list[Recipient] = []
    for name in audiences:
        if name.startswith(STAFF_PREFIX):
            role = name.removeprefix(STAFF_PREFIX)
            accounts = await session.scalars(
                select(UserAccount)
                .where(UserAccount.is_active, UserAccount.roles.contains([role]))
                .order_by(UserAccount.email)
            )
            found += [Recipient(Audience.STAFF, None, a.email, "nl", a.display_name) for a in accounts]
            continue
        if name == Audience.END_CUSTOMER.value:
            ids = [order.end_customer_contact_id or order.account_contact_id]
        elif name == Audience.ACCOUNT.value:
            ids = [order.account_contact_id]
        elif name == Audience.CHANNEL.value:
            ids = list(
                await session.scalars(
                    select(OrderChannel.contact_id)
                    .where(OrderChannel.order_id == order.id)
                    .order_by(OrderChannel.position)
                )
            )
        else:
            continue  # a setting names an audience this version does not know: nobody
        contacts = {c.id: c for c in await session.scalars(select(Contact).where(Contact.id.in_(ids)))}
        found += [
            Recipient(Audience(name), c, c.email, c.language, c.display_name)
            for c in (contacts.get(i) for i in ids)
            if c is not None
        ]
    return found


async def fan_out(session: AsyncSession, event: OutboxEvent) -> None:
    """An outbox consumer: the messages an order's event gives, logged, and a job for each one
    to send."""
    if event.order_id is None or event.entity_type != "order" or event.payload.get("passedThrough"):
        return  # a step walked through on the way further is not told (app/status/engine.py, `advance`)
    order = await session.get(Order, event.order_id)
    if order is None:
        return
    status = event.payload.get("toStatus") or order.status
    step = await _step(session, order.id, status)
    told = _told_by_event(event, step.notification_settings if step and "toStatus" in event.payload else None)
    if told is None:
        return
    template_event, audiences = told
    hold_id = uuid.UUID(event.payload["holdId"]) if event.payload.get("holdId") else None
    variables = await _order_variables(
        session, order, status, step.label if step else None, hold_id, event.payload.get("deadline", "")
    )
    for recipient in await _recipients(session, order, audiences):
        values = await _message(session, order, template_event, recipient, variables)
        whom = (recipient.address or "").lower() or str(recipient.contact.id if recipient.contact else "")
        communication_id = await session.scalar(
            insert(Communication)
            .values(
                dedupe_key=f"{event.event_id}:{EMAIL}:{whom}",
                outbox_event_id=event.id,
                event=template_event,
                business_entity_id=order.business_entity_id,
                order_id=order.id,
                audience=recipient.audience.value,
                recipient_contact_id=recipient.contact.id if recipient.contact else None,
                recipient_address=recipient.address,
                channel=EMAIL,
                **values,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Communication.id)
        )
        if communication_id is not None and values["status"] is CommunicationStatus.QUEUED:
            await queue.enqueue(
                session, SEND, {"communication": str(communication_id)}, dedupe_key=f"mail:{communication_id}"
            )


async def _message(
    session: AsyncSession, order: Order, event: str, recipient: Recipient, variables: dict[str, Any]
) -> dict[str, Any]:
    """The logged message for one recipient: rendered and queued, or suppressed with the reason."""
    if recipient.contact is not None and EMAIL in recipient.contact.opted_out_channels:
        return _suppressed(recipient.language, "opted out of email")
    if not recipient.address:
        return _suppressed(recipient.language, "no e-mail address")
    template = await _template_for(session, order.business_entity_id, event, recipient.language, EMAIL)
    if template is None:
        return _suppressed(recipient.language, f"the brand has no template for {event}")
    try:
        rendered = render(template, variables | {"recipient_name": recipient.name})
    except Exception as exc:  # saved templates are checked; a failure here is logged, never dropped
        return {
            "status": CommunicationStatus.FAILED,
            "reason": None,
            "language": template.language,
            "last_error": f"rendering failed: {exc}"[:EXCERPT],
            "template_id": template.id,
            "template_version": template.version,
        }
    return {
        "status": CommunicationStatus.QUEUED,
        "reason": None,
        "language": template.language,
        "template_id": template.id,
        "template_version": template.version,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
    }


def _suppressed(language: str, reason: str | None) -> dict[str, Any]:
    return {"status": CommunicationStatus.SUPPRESSED, "reason": reason, "language": language}


# --- sending -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Claim:
    attempt: int
    outgoing: Outgoing


async def _sender(session: AsyncSession, brand_id: uuid.UUID, fallback: str) -> str:
    brand = await session.get(BusinessEntity, brand_id)
    if brand is not None and brand.email:
        return f"{brand.name} <{brand.email}>"
    return fallback


async def _claim(context: JobContext, communication_id: uuid.UUID) -> _Claim | None:
    async with context.sessions() as session, session.begin():
        message = await session.get(Communication, communication_id, with_for_update=True)
        if message is None or message.status not in (CommunicationStatus.QUEUED, CommunicationStatus.SENDING):
            return None
        now = datetime.now(UTC)
        wait_for_slot(
            now=now,
            under_way=message.status is CommunicationStatus.SENDING,
            lease_until=message.lease_until,
            waiting=message.status is CommunicationStatus.QUEUED,
            next_attempt_at=message.next_attempt_at,
        )
        message.attempts += 1
        message.status = CommunicationStatus.SENDING
        message.lease_until = now + timedelta(seconds=context.settings.smtp_timeout_seconds) + LEASE_MARGIN
        sender = await _sender(session, message.business_entity_id, context.settings.mail_from)
        domain = parseaddr(sender)[1].rpartition("@")[2] or "chargecars.nl"
        return _Claim(
            attempt=message.attempts,
            outgoing=Outgoing(
                message_id=f"<{message.id}@{domain}>",
                sender=sender,
                recipient=message.recipient_address or "",
                subject=message.subject or "",
                text=message.body_text or "",
                html=message.body_html,
            ),
        )


async def send(context: JobContext, payload: dict[str, Any]) -> None:
    """The job of one message: one attempt, then sent, bounced, failed, or re-queued."""
    communication_id = uuid.UUID(payload["communication"])
    claim = await _claim(context, communication_id)
    if claim is None:
        return
    error: SendFailed | None = None
    provider_id = None
    try:
        provider_id = await channel_for(EMAIL, context.settings).send(claim.outgoing)
    except SendFailed as exc:
        error = exc
    retry: timedelta | None = None
    async with context.sessions() as session, session.begin():
        message = await session.get(Communication, communication_id, with_for_update=True)
        assert message is not None
        if message.attempts != claim.attempt or message.status is not CommunicationStatus.SENDING:
            return  # a later attempt took over after this one's lease ran out
        message.lease_until = None
        now = datetime.now(UTC)
        if error is None:
            message.status, message.sent_at, message.provider_message_id = CommunicationStatus.SENT, now, provider_id
            message.last_error = None
        elif error.permanent:
            message.status, message.last_error = CommunicationStatus.BOUNCED, error.reason[:EXCERPT]
        elif message.attempts <= len(context.settings.notification_retry_delays):
            # one attempt more than there are delays, then failed
            retry = backoff(context.settings.notification_retry_delays, message.attempts)
            message.status, message.next_attempt_at = CommunicationStatus.QUEUED, now + retry
            message.last_error = error.reason[:EXCERPT]
        else:
            message.status, message.last_error = CommunicationStatus.FAILED, error.reason[:EXCERPT]
    if retry is not None:
        raise RetryRequested(retry, error.reason if error else None)


# --- contacts' preferences -----------------------------------------------------------------------


async def set_preferences(
    *,
    session: AsyncSession,
    contact_id: uuid.UUID,
    language: str | None,
    opted_out_channels: Sequence[str] | None,
    actor: Actor,
    viewer: Viewer,
) -> Contact:
    """A contact's language and the channels it is never told through: staff, or the contact
    itself (a customer)."""
    if not viewer.unrestricted and viewer.contact_id != contact_id:
        raise PermissionDenied("Staff, or the contact itself, set its preferences.", field="contact_id")
    contact = await session.get(Contact, contact_id, with_for_update=True)
    if contact is None:
        raise NotFound("Contact", contact_id, field="contact_id")
    before = {"language": contact.language, "opted_out_channels": list(contact.opted_out_channels)}
    if language is not None:
        if language not in templates.LANGUAGES:
            raise ValidationFailed(f"One of: {', '.join(templates.LANGUAGES)}.", field="language")
        contact.language = language
    if opted_out_channels is not None:
        unknown = sorted(set(opted_out_channels) - set(CHANNELS))
        if unknown:
            raise ValidationFailed(f"Unknown channels: {', '.join(unknown)}.", field="opted_out_channels")
        contact.opted_out_channels = sorted(set(opted_out_channels))
    await session.flush()
    await record(
        session=session,
        actor=actor,
        action="contact.preferences",
        entity_type="contact",
        entity_id=contact.id,
        before=before,
        after={"language": contact.language, "opted_out_channels": list(contact.opted_out_channels)},
    )
    return contact


# --- reading the log -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommunicationFilter:
    order_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    statuses: Collection[CommunicationStatus] = ()


def _communications(stmt: Any, filter_in: CommunicationFilter, viewer: Viewer) -> Any:
    stmt = stmt.where(policy.visible(viewer, Communication))
    if filter_in.order_id is not None:
        stmt = stmt.where(Communication.order_id == filter_in.order_id)
    if filter_in.contact_id is not None:
        stmt = stmt.where(Communication.recipient_contact_id == filter_in.contact_id)
    if filter_in.statuses:
        stmt = stmt.where(Communication.status.in_(list(filter_in.statuses)))
    return stmt


async def count_communications(*, session: AsyncSession, filter_in: CommunicationFilter, viewer: Viewer) -> int:
    stmt = _communications(select(func.count()).select_from(Communication), filter_in, viewer)
    return int(await session.scalar(stmt) or 0)


async def search_communications(
    *, session: AsyncSession, filter_in: CommunicationFilter, viewer: Viewer, offset: int, limit: int
) -> list[Any]:
    """The messages `viewer` may see, newest first."""
    stmt = _communications(select(*columns(Communication)), filter_in, viewer)
    return await read(
        session, stmt.order_by(Communication.created_at.desc(), Communication.id).offset(offset).limit(limit)
    )


async def communications_of_many(
    *, session: AsyncSession, key: Any, ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    """The visible messages of many orders (`key` Communication.order_id) or recipients
    (Communication.recipient_contact_id), oldest first."""
    return await reads.visible_by(session, Communication, key, ids, viewer, Communication.created_at, Communication.id)


# --- wiring (app/wiring.py) ----------------------------------------------------------------------


def wire() -> None:
    """An order's events tell whom they concern; a message is a job."""
    from app.outbox import service as outbox

    outbox.consume(fan_out)
    queue.register(SEND, send)
