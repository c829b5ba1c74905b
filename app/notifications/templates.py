"""What a notification may say: the events that tell someone, the variables each offers, and
templates rendered in Jinja2's sandbox (docs/notifications.md, "Templates").

A template is checked when it is saved, not when it is sent: it must parse, and it may use only
the variables its event offers (an unknown name, a typo, is refused with the names it used that
do not exist). Rendering is strict (`StrictUndefined`): a variable without a value renders as
empty text only where the event says it may be absent. The HTML body is escaped automatically;
the subject and the text body are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from app.errors import ValidationFailed
from app.notifications.errors import TemplateInvalid

ORDER_VARIABLES: Final = {
    "recipient_name": "the name of whom the message is for",
    "order_number": "the order's number (CC-2026-00042)",
    "brand_name": "the brand's name",
    "customer_name": "the end customer's name (else the account's)",
    "status": "the order's status (its name: quoted)",
    "status_label": "the order's status as its workflow labels it (Quote sent)",
}
HOLD_VARIABLES: Final = {
    "hold_reason": "why the order is on hold (awaiting_parts, …)",
    "hold_details": "the hold's details (may be empty)",
    "resume_date": "when work is expected to resume (may be empty)",
    "escalation_date": "when the hold escalates (may be empty)",
}
STATUS_PREFIX: Final = "order.status:"
"""Entering a workflow step: `order.status:<status>` (who is told is the step's setting)."""


@dataclass(frozen=True, slots=True)
class EventKind:
    description: str
    variables: dict[str, str]


EVENTS: Final = {
    "order.status": EventKind(
        "An order entered a status whose step tells someone (the event is `order.status:<status>`).",
        ORDER_VARIABLES,
    ),
    "order.hold_placed": EventKind(
        "An order was put on hold with notifyCustomer or notifyPartner.", ORDER_VARIABLES | HOLD_VARIABLES
    ),
    "order.hold_resumed": EventKind(
        "An order on hold with notifyCustomer or notifyPartner was resumed.", ORDER_VARIABLES | HOLD_VARIABLES
    ),
    "order.sla_breached": EventKind(
        "An order passed the SLA deadline of its status (told to the step's approving role, else staff).",
        ORDER_VARIABLES | {"deadline": "when the status's deadline passed"},
    ),
    "order.hold_escalated": EventKind(
        "An order is still on hold on its hold's escalation date (told to staff).", ORDER_VARIABLES | HOLD_VARIABLES
    ),
}
LANGUAGES: Final = ("nl", "en")
_STATUS_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

_ENVIRONMENTS = {
    autoescape: SandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=True)
    for autoescape in (False, True)
}


def kind_of(event: str) -> EventKind:
    """The kind of a template's event (`order.status:quoted` is an `order.status`)."""
    if event.startswith(STATUS_PREFIX):
        if not _STATUS_NAME.match(event.removeprefix(STATUS_PREFIX)):
            raise ValidationFailed("Name the status as `order.status:<status name>`.", field="event")
        return EVENTS["order.status"]
    found = EVENTS.get(event)
    if found is None:
        known = ", ".join([f"{STATUS_PREFIX}<status>", *sorted(k for k in EVENTS if k != "order.status")])
        raise ValidationFailed(f"Unknown event; one of: {known}.", field="event")
    return found


def check(event: str, parts: dict[str, str | None]) -> None:
    """A template's parts (subject, body_text, body_html) parse and use only their event's
    variables; TemplateInvalid names what does not."""
    allowed = kind_of(event).variables
    unknown: set[str] = set()
    for field, source in parts.items():
        if source is None:
            continue
        environment = _ENVIRONMENTS[field == "body_html"]
        try:
            parsed = environment.parse(source)
        except TemplateSyntaxError as exc:
            raise TemplateInvalid(f"{field}, line {exc.lineno}: {exc.message}", field=field, unknown=()) from None
        unknown |= meta.find_undeclared_variables(parsed) - allowed.keys()
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TemplateInvalid(
            f"Unknown variables: {names}. This event offers: {', '.join(sorted(allowed))}.",
            field="body_text",
            unknown=tuple(sorted(unknown)),
        )
    # what only rendering finds (what the sandbox forbids, a filter on the wrong kind of value):
    # rendered once with a sample value for every variable
    sample = dict.fromkeys(allowed, "sample")
    for field, source in parts.items():
        if source is None:
            continue
        try:
            render(source, sample, html=field == "body_html")
        except Exception as exc:
            raise TemplateInvalid(f"{field}: {exc}", field=field, unknown=()) from None


def render(source: str, variables: dict[str, Any], *, html: bool = False) -> str:
    return _ENVIRONMENTS[html].from_string(source).render(**variables)
