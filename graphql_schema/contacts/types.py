"""The Contact type and its hierarchy fields."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Self
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.types import Info

from app import text
from app.access import policy
from app.contacts.models import ContactType
from app.contacts.service import HierarchyEntry, Seen
from graphql_schema.business_entities.types import BusinessEntity, load_business_entity
from graphql_schema.contacts.loaders import (
    AncestorsByContactIdLoader,
    ChildrenByParentIdLoader,
    ContactByIdLoader,
    DescendantsByContactIdLoader,
)
from graphql_schema.errors import bad_input
from graphql_schema.execution import context_only
from graphql_schema.loaders import awaited, now_or_later
from graphql_schema.node import register_node
from graphql_schema.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    PageArgs,
    connection_from_list,
    connection_from_query,
)
from graphql_schema.rows import from_row

if TYPE_CHECKING:
    from app.access.policy import Viewer
    from app.orders.models import Order as OrderModel
    from graphql_schema.commissions.types import PartnerCommission, PeriodInput
    from graphql_schema.notifications.types import Communication
    from graphql_schema.operations.types import Document
    from graphql_schema.orders.types import Order

ContactTypeEnum = strawberry.enum(ContactType, name="ContactType")


@strawberry.type(
    description=(
        "A person or an organisation. Organisations form the channel hierarchy through `parent`. "
        "Outside a partner's or customer's own part of the hierarchy some fields read as null: its "
        "ancestors show their name only, a contact it knows from one of its orders what working the "
        "order needs, and the commission rate is shown to staff and to a partner inside its own part."
    )
)
class Contact(relay.Node):
    id: relay.NodeID[str]
    contact_type: ContactTypeEnum  # type: ignore[valid-type]
    contact_subtype: str | None = strawberry.field(description="Free-form: Partner, Dealer, Customer, …")
    display_name: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    street: str | None
    house_number: str | None
    postal_code: str | None
    city: str | None
    country_code: str | None = strawberry.field(description="ISO 3166 alpha-2: NL, BE, DE.")
    vat_number: str | None
    commission_rate: Decimal | None = strawberry.field(description="A fraction: 0.05 is 5 %.")
    payment_terms_days: int | None = strawberry.field(
        description="Days an invoice to this account may stay open; null: the standard 14."
    )
    language: str | None = strawberry.field(description="What it is told in: nl or en.")
    opted_out_channels: list[str] | None = strawberry.field(description="The channels it is never told through.")
    created_at: datetime
    updated_at: datetime

    uuid: strawberry.Private[UUID]
    parent_id: strawberry.Private[UUID | None]
    business_entity_id: strawberry.Private[UUID | None]

    @classmethod
    def from_seen(cls, seen: Seen, viewer: Viewer) -> Self:
        """The contact as `viewer` sees it: the fields the policy hides read as null."""
        model, access = seen
        hidden = dict.fromkeys(policy.hidden_fields(viewer, access))
        return from_row(cls, model, id=str(model.id), uuid=model.id, parent_id=model.parent_organization_id, **hidden)

    @strawberry.field(description="What it was told (that the viewer may see), oldest first.")
    @context_only
    def communications(
        self, info: Info
    ) -> list[Annotated[Communication, strawberry.lazy("graphql_schema.notifications.types")]]:
        from graphql_schema.notifications.loaders import CommunicationsByContactLoader
        from graphql_schema.notifications.types import communications_of

        return communications_of(info, CommunicationsByContactLoader, self.uuid)

    @strawberry.field(description="Documents attached to it (for those who see it in full), oldest first.")
    @context_only
    def documents(self, info: Info) -> list[Annotated[Document, strawberry.lazy("graphql_schema.operations.types")]]:
        from graphql_schema.operations.types import documents_of

        return documents_of(info, "contact_id", self.uuid)

    @strawberry.field(description="The organisation directly above this contact.")
    @context_only
    def parent(self, info: Info) -> Contact | None:
        return contact_of(info, self.parent_id)  # type: ignore[return-value]

    @strawberry.field(description="The chain above this contact, nearest first (level 1 = parent).")
    @context_only
    def ancestors(self, info: Info) -> list[ContactAtLevel]:
        viewer = info.context.viewer
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(AncestorsByContactIdLoader),
            self.uuid,
            lambda entries: [ContactAtLevel.from_entry(entry, viewer) for entry in entries],
        )

    @strawberry.field(description="Number of levels above this contact (0 at the top).")
    @context_only
    def depth(self, info: Info) -> int:
        if self.parent_id is None:
            return 0
        # Everything above a visible contact is visible to its viewer, so this is the true depth.
        return now_or_later(info.context.loaders.get(AncestorsByContactIdLoader), self.uuid, len)  # type: ignore[return-value]

    @strawberry.field(description="Contacts directly below: organisations and persons, by name.")
    async def children(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Contact]:
        rows = await info.context.loaders.get(ChildrenByParentIdLoader).load(self.uuid)
        return _page_of_contacts(info, rows, PageArgs(first, after, last, before))

    @strawberry.field(description="The persons that belong to this organisation, by name.")
    async def members(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Contact]:
        rows = await info.context.loaders.get(ChildrenByParentIdLoader).load(self.uuid)
        persons = [row for row in rows if row[0].contact_type is ContactType.PERSON]
        return _page_of_contacts(info, persons, PageArgs(first, after, last, before))

    @strawberry.field(description="Everything below this contact, by level then name; `maxDepth` limits the levels.")
    async def descendants(
        self,
        info: Info,
        max_depth: int | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ContactAtLevel]:
        if max_depth is not None and max_depth < 1:
            raise bad_input("`maxDepth` must be at least 1.")
        entries = await info.context.loaders.get(DescendantsByContactIdLoader).load((self.uuid, max_depth))
        viewer = info.context.viewer
        return connection_from_list(
            entries,
            PageArgs(first, after, last, before),
            info.context.max_page_size,
            lambda entry: ContactAtLevel.from_entry(entry, viewer),
        )

    @strawberry.field
    @context_only
    async def business_entity(self, info: Info) -> BusinessEntity | None:
        return await load_business_entity(info, self.business_entity_id)

    @strawberry.field(description="Visible orders where this contact is account, end customer or in the chain.")
    async def orders(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Annotated[Order, strawberry.lazy("graphql_schema.orders.types")]]:
        from graphql_schema.orders.loaders import OrderCountByContactIdLoader, OrderPageByContactLoader
        from graphql_schema.orders.types import Order

        loaders = info.context.loaders

        async def count() -> int:
            return await loaders.get(OrderCountByContactIdLoader).load(self.uuid)

        async def fetch(offset: int, limit: int) -> list[OrderModel]:
            return await loaders.get(OrderPageByContactLoader).load((self.uuid, offset, limit))

        page = PageArgs(first, after, last, before)
        return await connection_from_query(page, info.context.max_page_size, count, fetch, Order.from_model)

    @strawberry.field(description="Commissions this contact earned, newest first (none outside the viewer's scope).")
    async def commissions(
        self,
        info: Info,
        status: Annotated[
            list[str] | None,
            strawberry.argument(
                description=f"Any of these statuses (each at most {text.STATUS_NAME_LENGTH} characters)."
            ),
        ] = None,
        period: Annotated[
            Annotated[PeriodInput, strawberry.lazy("graphql_schema.commissions.types")] | None,
            strawberry.argument(description="Earned (created) in this period."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Annotated[PartnerCommission, strawberry.lazy("graphql_schema.commissions.types")]]:
        from graphql_schema.commissions.loaders import CommissionsByBeneficiaryLoader
        from graphql_schema.commissions.types import PartnerCommission, commission_filter

        key = (self.uuid, commission_filter(status, period))
        rows = await info.context.loaders.get(CommissionsByBeneficiaryLoader).load(key)
        page = PageArgs(first, after, last, before)
        return connection_from_list(rows, page, info.context.max_page_size, PartnerCommission.from_model)


@strawberry.type(description="A contact at a distance from another one in the hierarchy.")
class ContactAtLevel:
    level: int = strawberry.field(description="1 = directly above or below, 2 = one further, …")
    contact: Contact

    @classmethod
    def from_entry(cls, entry: HierarchyEntry, viewer: Viewer) -> Self:
        return cls(level=entry.level, contact=Contact.from_seen((entry.contact, entry.access), viewer))


def _page_of_contacts(info: Info, rows: Sequence[Seen], page: PageArgs) -> Connection[Contact]:
    viewer = info.context.viewer
    return connection_from_list(rows, page, info.context.max_page_size, lambda seen: Contact.from_seen(seen, viewer))


async def load_contact(info: Info, contact_id: uuid.UUID | None) -> Contact | None:
    """A contact through the loader: None when it does not exist for the viewer."""
    return await awaited(contact_of(info, contact_id))


def contact_of(info: Info, contact_id: uuid.UUID | None) -> Contact | None | Awaitable[Contact | None]:
    """A contact for a resolver to return: at once when its page prefetched it, else loaded."""
    if contact_id is None:
        return None
    viewer = info.context.viewer
    return now_or_later(
        info.context.loaders.get(ContactByIdLoader),
        contact_id,
        lambda seen: Contact.from_seen(seen, viewer) if seen is not None else None,
    )


async def _load_nodes(info: Info, ids: Sequence[uuid.UUID]) -> list[Contact | None]:
    found = await info.context.loaders.get(ContactByIdLoader).load_many(ids)
    viewer = info.context.viewer
    return [Contact.from_seen(seen, viewer) if seen is not None else None for seen in found]


register_node("Contact", _load_nodes)
