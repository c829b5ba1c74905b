"""The visibility policy: the one place that decides what a viewer may see, rows and fields.

Nothing is computed per request beyond the viewer's identity (`Viewer`: its contact and the
root of its scope). Every rule is a SQL condition on the entity's own table, so lists, counts,
`node`, nested fields and loaders all filter in the statement that reads the rows, and a
contact's field mask comes from the same statement (`contact_access`). The rules
(docs/design.md, "Visibility"):

- staff roles see everything;
- the **scope** of a partner or customer is the subtree of its scope root (a partner person's
  organisation; otherwise its own contact) — one lookup in `contact_closure`;
- an **order** is visible when its account, its end customer or a contact of its channel chain
  is in scope (its root reaches it: `order_reach`); its channel entries, lines, holds and status
  history follow the order;
- a **commission** is visible when its beneficiary is in scope; its history follows it, and so
  do the beneficiary's commission totals;
- an **invoice** or **credit note** follows the order it bills, and so do its lines, its history
  and the payments' allocations to it; payments themselves and bank statements are staff's only;
- an order's **partner references** follow the order; a partner's **webhook deliveries** (and
  their attempts) and its **API calls** are visible when the partner organisation is in scope;
  its integration configuration, the outbox and the rate counters are staff's only;
- a **communication** (a message told about an order) is visible when its order is and it was
  not for staff; a customer sees only those told to itself; templates are staff's only;
- **internal tasks** and the runs of scheduled jobs are staff's only;
- a **quote** is visible like an order: when its account, its end customer or a contact of its
  channel chain is in scope; its lines and chain follow it;
- a **visit** follows its order (or its quote), and is visible too when one of its installers
  is in scope (an installer's organisation sees its people's agenda); its bookings and site
  survey follow it; installer teams are staff's only;
- a **work order** follows its order, and is visible too when an installer in scope is booked on
  one of its visits (an installer's organisation sees the work its people do); its checklist,
  installation record and seals follow it;
- a **document** follows the one order, quote, visit or work order it is attached to; one
  attached to a contact is visible when the contact is in scope (full access);
- a **contact** is visible when it is in scope (full), an ancestor of the viewer (name only,
  whatever order it is also on), or a party to a visible order or quote, or an installer with a
  visible booking (what working the order needs).

A new entity type gets its rule by one entry in `_RULES` (often `follows(...)` its parent).
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, false, literal, or_, select, true
from sqlalchemy.orm import aliased

from app.accounts.models import STAFF_ROLES, Role
from app.commissions.models import CommissionTotal, PartnerCommission
from app.contacts.models import ADDRESS_FIELDS, Contact, ContactClosure, ContactType
from app.finance.models import BankStatement, BankStatementEntry, Invoice, InvoiceLine, Payment, PaymentAllocation
from app.jobs.models import ScheduleRun
from app.notifications.models import Audience, Communication, NotificationTemplate
from app.operations.models import (
    Document,
    InstallationRecord,
    InstallerTeam,
    InstallerTeamMember,
    Quote,
    QuoteChannel,
    QuoteLine,
    SealUsage,
    SiteSurvey,
    Visit,
    VisitInstaller,
    WorkOrder,
    WorkOrderTask,
)
from app.orders.models import LineItem, Order, OrderChannel, OrderHold, OrderParty, OrderReach
from app.outbox.models import OutboxEvent
from app.partners.models import (
    PartnerApiCall,
    PartnerIntegration,
    PartnerOrder,
    PartnerProduct,
    PartnerRateWindow,
    WebhookAttempt,
    WebhookDelivery,
)
from app.status.models import EntityCurrentStatus, StatusTransition
from app.status.registry import registered
from app.tasks.models import InternalTask


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking, as far as visibility goes."""

    unrestricted: bool
    contact_id: uuid.UUID | None = None
    """The viewer's own contact."""
    root_id: uuid.UUID | None = None
    """The root of its scope: a partner person's organisation, otherwise its own contact."""
    partner: bool = False
    """Partners work orders: they see the contact details of an order's parties and the
    commission rates inside their own scope; customers see neither."""


STAFF = Viewer(unrestricted=True)
NOBODY = Viewer(unrestricted=False)


def viewer_for(
    *,
    roles: frozenset[str],
    contact_id: uuid.UUID | None,
    contact_type: ContactType | None,
    parent_id: uuid.UUID | None,
) -> Viewer:
    if roles & STAFF_ROLES:
        return STAFF
    if contact_id is None or contact_type is None:
        return NOBODY
    partner = Role.PARTNER in roles
    root_id = parent_id if partner and contact_type is ContactType.PERSON and parent_id is not None else contact_id
    return Viewer(unrestricted=False, contact_id=contact_id, root_id=root_id, partner=partner)


# --- the rules -------------------------------------------------------------------------------


def in_scope(viewer: Viewer, contact_id: Any) -> ColumnElement[bool]:
    """`contact_id` (a column or value) lies in the viewer's scope: the subtree of its root."""
    if viewer.unrestricted:
        return true()
    if viewer.root_id is None:
        return false()
    # fresh aliases in every subquery: the statement around it may read the same tables
    link = aliased(ContactClosure)
    return exists().where(link.ancestor_id == viewer.root_id, link.descendant_id == contact_id)


def _order_visible(viewer: Viewer, order: Any = Order) -> ColumnElement[bool]:
    """The orders the scope's root reaches (`order_reach`: a party, or an organisation above a
    party, is the root): one primary-key range the planner hashes once per statement."""
    if viewer.root_id is None:
        return false()
    reach = aliased(OrderReach)
    return order.id.in_(select(reach.order_id).where(reach.ancestor_id == viewer.root_id))


def _reaches(viewer: Viewer, order_id: Any) -> ColumnElement[bool]:
    """The scope sees the order `order_id` (a column): one primary-key probe per row."""
    if viewer.root_id is None:
        return false()
    return root_reaches_order(viewer.root_id, order_id)


def root_reaches_order(root_id: Any, order_id: Any) -> ColumnElement[bool]:
    """The scope rooted at `root_id` (a column or value) sees the order `order_id` (one
    primary-key probe): also whom an order's events may be told to (a partner's webhooks)."""
    return _reach(root_id, order_id).exists()


def _reach(root_id: Any, order_id: Any) -> Select[Any]:
    reach = aliased(OrderReach)
    return select(literal(1)).where(reach.ancestor_id == root_id, reach.order_id == order_id)


def _is_viewer_ancestor(viewer: Viewer, contact_id: Any) -> ColumnElement[bool]:
    if viewer.contact_id is None:
        return false()
    link = aliased(ContactClosure)
    return exists().where(link.ancestor_id == contact_id, link.descendant_id == viewer.contact_id, link.depth > 0)


def _probed(viewer: Viewer, order_id: Any) -> ColumnElement[bool]:
    """`_reaches` as one primary-key probe per row, whatever the planner estimates: for rules
    asked of the few rows a statement reads by keys. Unfenced, the planner may hash every order
    the scope reaches (9,446 for the benchmark's top partner, a millisecond) to test a page's
    few rows; a rule asked of a list keeps `_reaches`, which a hash may serve best."""
    if viewer.root_id is None:
        return false()
    return _reach(viewer.root_id, order_id).offset(0).exists()


def _on_visible_order(viewer: Viewer, contact_id: Any) -> ColumnElement[bool]:
    """Asked per contact row, for the contacts a statement actually reads: one of the contact's
    orders has a party in the scope."""
    if viewer.root_id is None:
        return false()
    mine = aliased(OrderParty)
    # OFFSET 0 keeps each a probe per row: without it the planner may hash every party of every
    # order the scope reaches (36,000 rows for the benchmark's top partner, 18 ms) to test a
    # page's contacts, as in the row-level policy; and a plan that does not know the root (a
    # cached generic plan) merge-joined the contact's orders with all the root's reached ones,
    # 3,000 rows per contact (docs/benchmarks.md)
    return select(literal(1)).where(mine.contact_id == contact_id, _probed(viewer, mine.order_id)).offset(0).exists()


def _quote_visible(viewer: Viewer, row: Any = Quote) -> ColumnElement[bool]:
    """Like an order: a party (account, end customer, a level of the chain) is in scope."""
    if viewer.root_id is None:
        return false()
    channel = aliased(QuoteChannel)
    return or_(
        in_scope(viewer, row.account_contact_id),
        in_scope(viewer, row.end_customer_contact_id),
        exists().where(channel.quote_id == row.id, in_scope(viewer, channel.contact_id)),
    )


def _visit_visible(viewer: Viewer, row: Any = Visit) -> ColumnElement[bool]:
    """Its order (or quote) is visible, or one of its installers is in scope."""
    if viewer.root_id is None:
        return false()
    quote, booked = aliased(Quote), aliased(VisitInstaller)
    return or_(
        and_(row.order_id.is_not(None), _reaches(viewer, row.order_id)),
        and_(row.quote_id.is_not(None), exists().where(quote.id == row.quote_id, _quote_visible(viewer, quote))),
        exists().where(booked.visit_id == row.id, in_scope(viewer, booked.installer_contact_id)),
    )


def _booking_visible(viewer: Viewer, row: Any = VisitInstaller) -> ColumnElement[bool]:
    """A booking: its visit's order (or quote) is visible, or its installer is in scope. Decided
    on the booking's own row (it carries the visit's order and quote). Bookings are read by
    their visits and their installers, never listed whole: the order is probed per booking (the
    contacts of a partner's order page hashed 9,446 reached orders for their 30 installers)."""
    if viewer.root_id is None:
        return false()
    quote = aliased(Quote)
    return or_(
        and_(row.order_id.is_not(None), _probed(viewer, row.order_id)),
        and_(row.quote_id.is_not(None), exists().where(quote.id == row.quote_id, _quote_visible(viewer, quote))),
        in_scope(viewer, row.installer_contact_id),
    )


def _on_visible_work(viewer: Viewer, contact_id: Any) -> ColumnElement[bool]:
    """A party to a visible quote, or an installer with a visible booking (each test one index
    probe on the contact, then the quote's or the booking's rule)."""
    if viewer.root_id is None:
        return false()
    by_account, by_customer, in_chain, channel = aliased(Quote), aliased(Quote), aliased(Quote), aliased(QuoteChannel)
    booked = aliased(VisitInstaller)
    return or_(
        exists().where(by_account.account_contact_id == contact_id, _quote_visible(viewer, by_account)),
        exists().where(by_customer.end_customer_contact_id == contact_id, _quote_visible(viewer, by_customer)),
        exists().where(
            channel.contact_id == contact_id, in_chain.id == channel.quote_id, _quote_visible(viewer, in_chain)
        ),
        exists().where(booked.installer_contact_id == contact_id, _booking_visible(viewer, booked)),
    )


def _contact_visible(viewer: Viewer, contact: Any = Contact) -> ColumnElement[bool]:
    return or_(
        in_scope(viewer, contact.id),
        _is_viewer_ancestor(viewer, contact.id),
        _on_visible_order(viewer, contact.id),
        _on_visible_work(viewer, contact.id),
    )


def _work_order_visible(viewer: Viewer, row: Any = WorkOrder) -> ColumnElement[bool]:
    """Its order is visible, or an installer in scope is booked on one of its visits."""
    if viewer.root_id is None:
        return false()
    visit, booked = aliased(Visit), aliased(VisitInstaller)
    return or_(
        _reaches(viewer, row.order_id),
        exists().where(
            visit.work_order_id == row.id, booked.visit_id == visit.id, in_scope(viewer, booked.installer_contact_id)
        ),
    )


def _document_visible(viewer: Viewer, row: Any = Document) -> ColumnElement[bool]:
    """The one parent it is attached to is visible (a contact: in scope)."""
    return or_(
        and_(row.order_id.is_not(None), _reaches(viewer, row.order_id)),
        and_(row.quote_id.is_not(None), follows(Quote, Document.quote_id)(viewer, row)),
        and_(row.visit_id.is_not(None), follows(Visit, Document.visit_id)(viewer, row)),
        and_(row.work_order_id.is_not(None), follows(WorkOrder, Document.work_order_id)(viewer, row)),
        and_(row.contact_id.is_not(None), in_scope(viewer, row.contact_id)),
    )


def follows(parent: type[Any], key: Any) -> Callable[..., ColumnElement[bool]]:
    """The rule of a child entity: visible when the parent row `key` (a column of the child)
    points to is visible. Given an alias of the child, the rule reads the alias's column."""

    def rule(viewer: Viewer, child: Any = None) -> ColumnElement[bool]:
        pointer = key if child is None else getattr(child, key.key)
        by_id = _BY_ID.get(parent)
        if by_id is not None:
            return by_id(viewer, pointer)
        row = aliased(parent)
        return exists().where(row.id == pointer, visible(viewer, parent, row))

    rule.followed_key = key.key  # type: ignore[attr-defined]  # read by _FOLLOWED_BY
    return rule


def staff_only(viewer: Viewer, row: Any = None) -> ColumnElement[bool]:
    """The rule of what staff alone see (restricted viewers are never unrestricted)."""
    return false()


_BY_ID: dict[type[Any], Callable[[Viewer, Any], ColumnElement[bool]]] = {Order: _reaches}


def _communication_visible(viewer: Viewer, row: Any = Communication) -> ColumnElement[bool]:
    """What was told about a visible order, not to staff; a customer: only what it was told."""
    told = and_(row.audience != Audience.STAFF.value, _reaches(viewer, row.order_id))
    return told if viewer.partner else and_(told, in_scope(viewer, row.recipient_contact_id))


"""Rules that decide from an entity's id alone, for its children to test without reading the
entity's own row."""


def _status_visible(entity: Any) -> Callable[[Viewer], ColumnElement[bool]]:
    """Status rows of every registered entity type follow their entity."""

    def rule(viewer: Viewer) -> ColumnElement[bool]:
        return or_(
            *(
                and_(entity.entity_type == adapter.entity_type.value, follows(adapter.model, entity.entity_id)(viewer))
                for adapter in registered()
            )
        )

    return rule


def _reach_visible(viewer: Viewer, reach: Any = OrderReach) -> ColumnElement[bool]:
    """A scope sees the reach rows of its own root (they count its orders)."""
    return reach.ancestor_id == viewer.root_id if viewer.root_id is not None else false()


_RULES: dict[type[Any], Callable[..., ColumnElement[bool]]] = {
    Contact: _contact_visible,
    Order: _order_visible,
    OrderReach: _reach_visible,
    OrderChannel: follows(Order, OrderChannel.order_id),
    LineItem: follows(Order, LineItem.order_id),
    OrderHold: follows(Order, OrderHold.order_id),
    PartnerCommission: lambda viewer, row=PartnerCommission: in_scope(viewer, row.beneficiary_contact_id),
    # a beneficiary's totals follow its commissions' rule (the beneficiary in scope)
    CommissionTotal: lambda viewer, row=CommissionTotal: in_scope(viewer, row.beneficiary_contact_id),
    Invoice: follows(Order, Invoice.order_id),
    InvoiceLine: follows(Order, InvoiceLine.order_id),
    PaymentAllocation: follows(Order, PaymentAllocation.order_id),
    Payment: staff_only,
    BankStatement: staff_only,
    BankStatementEntry: staff_only,
    PartnerOrder: follows(Order, PartnerOrder.order_id),
    WebhookDelivery: lambda viewer, row=WebhookDelivery: in_scope(viewer, row.organization_id),
    WebhookAttempt: follows(WebhookDelivery, WebhookAttempt.delivery_id),
    PartnerApiCall: lambda viewer, row=PartnerApiCall: in_scope(viewer, row.organization_id),
    PartnerIntegration: staff_only,
    PartnerProduct: staff_only,
    PartnerRateWindow: staff_only,
    OutboxEvent: staff_only,
    Communication: _communication_visible,
    NotificationTemplate: staff_only,
    InternalTask: staff_only,
    ScheduleRun: staff_only,
    Quote: _quote_visible,
    QuoteChannel: follows(Quote, QuoteChannel.quote_id),
    QuoteLine: follows(Quote, QuoteLine.quote_id),
    Visit: _visit_visible,
    VisitInstaller: _booking_visible,
    SiteSurvey: follows(Visit, SiteSurvey.visit_id),
    InstallerTeam: staff_only,
    InstallerTeamMember: staff_only,
    WorkOrder: _work_order_visible,
    WorkOrderTask: follows(WorkOrder, WorkOrderTask.work_order_id),
    InstallationRecord: follows(WorkOrder, InstallationRecord.work_order_id),
    SealUsage: follows(WorkOrder, SealUsage.work_order_id),
    Document: _document_visible,
    StatusTransition: _status_visible(StatusTransition),
    EntityCurrentStatus: _status_visible(EntityCurrentStatus),
}


_FOLLOWED_BY: dict[type[Any], frozenset[str]] = {
    **{model: frozenset({rule.followed_key}) for model, rule in _RULES.items() if hasattr(rule, "followed_key")},
    # the branches of these rules that follow a parent by one of its columns
    Document: frozenset({"order_id", "quote_id", "visit_id", "work_order_id"}),
    Visit: frozenset({"order_id", "quote_id"}),
    WorkOrder: frozenset({"order_id"}),
}
"""For each entity type, the columns by which its rows are visible whenever the row the column
points to is: a child read by such a column for parents the viewer was shown is visible."""


def visible_under(viewer: Viewer, model: type[Any], key: Any) -> ColumnElement[bool]:
    """The condition for rows of `model` read by `key` (one of its columns) for a batch of parent
    rows the viewer was shown (read through this policy): where the rule makes such a row visible
    whenever its parent is (`_FOLLOWED_BY`), the parent's verdict stands and the statement tests
    nothing more; otherwise the model's rule. A loader of an order's checklists, seals or documents
    then plans and runs no copy of the parent's rule per row (docs/benchmarks.md). A contact's
    documents are not among them: a contact seen on an order shows none of its documents."""
    if followed(model, key):
        return true()
    return visible(viewer, model)


def per_row(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """`condition` tested on each row a statement reads by keys, never joined: its subqueries
    stay subplans of the row (a `CASE` arm is never flattened into a join), so the plan does not
    depend on a guess at the size of the viewer's scope, and a generic plan serves every viewer."""
    return case((condition, true()), else_=false())


def followed(model: type[Any], key: Any) -> bool:
    """Rows of `model` are visible whenever the row their column `key` points to is
    (`_FOLLOWED_BY`): read by `key` for parents the viewer was shown, they need no test."""
    return key.key in _FOLLOWED_BY.get(model, ())


def visible(viewer: Viewer, model: type[Any], row: Any = None) -> ColumnElement[bool]:
    """The condition under which `viewer` sees a row of `model` (or of `row`, an alias of it)."""
    if viewer.unrestricted:
        return true()
    if row is None:
        return _kept_rule(viewer, model)  # type: ignore[arg-type]  # a class is hashable; typeshed says type[Any] may not be
    return _RULES[model](viewer, row)


RULES_KEPT = 64
"""Rules built for (viewer, entity type), kept for the viewer's next requests. Building one is
SQLAlchemy work of up to 7 ms (a contact's, with its aliases and subqueries: docs/benchmarks.md),
several per portal page, and a portal's user asks again and again. A rule is an immutable
expression with the viewer's ids as bound values, so one object serves every statement. The
larger rules hold about 1 MB each (their ORM aliases), so the last 64 are kept: a few portal
users' pages, some 60 MB per worker at most."""


@functools.lru_cache(maxsize=RULES_KEPT)
def _kept_rule(viewer: Viewer, model: type[Any]) -> ColumnElement[bool]:
    return _RULES[model](viewer)


# --- fields of contacts ------------------------------------------------------------------------


class Access(enum.IntEnum):
    """How much of a visible contact a viewer sees (0: nothing, it does not exist for it)."""

    NONE = 0
    NAME = 1
    """An ancestor of the viewer outside its scope: the name and the place in the hierarchy."""
    PARTY = 2
    """A party to a visible order, outside the scope: what working the order needs."""
    FULL = 3


def contact_access(viewer: Viewer, contact: Any = Contact) -> ColumnElement[int]:
    """The viewer's `Access` to each contact row, computed in the statement that reads it.
    Being an ancestor wins over being on an order: naming its upline on an order it creates
    does not unlock the upline's details for a partner."""
    if viewer.unrestricted:
        return literal(int(Access.FULL))
    if contact is Contact:
        return _kept_access(viewer)
    return _access(viewer, contact)


def party_access(viewer: Viewer) -> ColumnElement[int]:
    """`contact_access` for contacts read as parties to orders, or as installers on bookings,
    that the viewer was shown (read through this policy): such a contact is at least a party
    (`Access.PARTY`) by how it was reached, as a child follows the parent it was read for
    (`visible_under`), so only the tests ranked above that are made, in the same order. The
    application's rule then reads no booking, quote or order of the contact's a second time,
    each under its own row-level policy as well (docs/benchmarks.md)."""
    if viewer.unrestricted:
        return literal(int(Access.FULL))
    return _kept_access(viewer, reached=True)


@functools.lru_cache(maxsize=RULES_KEPT)
def _kept_access(viewer: Viewer, *, reached: bool = False) -> ColumnElement[int]:
    return _access(viewer, Contact, reached=reached)


def _access(viewer: Viewer, contact: Any, *, reached: bool = False) -> ColumnElement[int]:
    above = (
        (in_scope(viewer, contact.id), int(Access.FULL)),
        (_is_viewer_ancestor(viewer, contact.id), int(Access.NAME)),
    )
    if reached:
        return case(*above, else_=int(Access.PARTY))
    on_work = or_(_on_visible_order(viewer, contact.id), _on_visible_work(viewer, contact.id))
    return case(*above, (on_work, int(Access.PARTY)), else_=int(Access.NONE))


_DETAILS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    *ADDRESS_FIELDS,
    "vat_number",
    "language",
    "opted_out_channels",
)
_COMMERCIAL = ("commission_rate", "business_entity_id", "payment_terms_days")


def hidden_fields(viewer: Viewer, access: Access) -> tuple[str, ...]:
    """The contact fields `viewer` does not see at `access` (they read as null).

    Full: everything, except the commission rate for customers (it is a partner's commercial
    term). Party: name, type and subtype; a partner also sees the names, e-mail address, phone
    and address it needs to work the order; never the commission rate, payment terms or brand. Name: the name,
    type and subtype only."""
    if viewer.unrestricted:
        return ()
    if access is Access.FULL:
        return () if viewer.partner else ("commission_rate",)
    if access is Access.PARTY and viewer.partner:
        return _COMMERCIAL
    return _DETAILS + _COMMERCIAL


def field_visible(viewer: Viewer, field: str, contact: Any = Contact) -> ColumnElement[bool]:
    """Whether `viewer` sees `field` of each contact row: a filter or search on a field must not
    match where the field reads as null (searching an upline's hidden e-mail address would
    reveal it)."""
    if viewer.unrestricted:
        return true()
    levels = [
        int(level) for level in (Access.NAME, Access.PARTY, Access.FULL) if field not in hidden_fields(viewer, level)
    ]
    return contact_access(viewer, contact).in_(levels)
