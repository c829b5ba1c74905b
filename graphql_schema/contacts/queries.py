"""Contact queries: `contacts` (filter, order, paging) and `contact(id:)`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from app import text
from app.contacts import service
from app.contacts.models import Contact as ContactModel
from app.contacts.service import ContactFilter, ContactSortField, ContactSorting
from app.errors import ValidationFailed
from graphql_schema.contacts.types import Contact, ContactTypeEnum, load_contact
from graphql_schema.errors import bad_input
from graphql_schema.inputs import line_field
from graphql_schema.node import decode_id, parse_uuid
from graphql_schema.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    PageArgs,
    SortDirection,
    connection_from_query,
)

ContactSortFieldEnum = strawberry.enum(ContactSortField, name="ContactSortField")


@strawberry.input
class ContactFilterInput:
    contact_type: ContactTypeEnum | None = None  # type: ignore[valid-type]
    subtype: str | None = line_field(
        text.column_length(ContactModel.contact_subtype), "Exact subtype, case-insensitive.", default=None
    )
    parent_id: relay.GlobalID | None = strawberry.field(default=None, description="Direct children of.")
    top_level_only: bool = strawberry.field(default=False, description="Only contacts without a parent.")
    search: str | None = line_field(text.SEARCH_LENGTH, "Part of the name or e-mail address.", default=None)


@strawberry.input
class ContactSort:
    field: ContactSortFieldEnum = ContactSortField.DISPLAY_NAME  # type: ignore[valid-type]
    direction: SortDirection = SortDirection.ASC


def _to_filter(filter_in: ContactFilterInput | None) -> ContactFilter:
    if filter_in is None:
        return ContactFilter()
    try:
        parent_id = (
            decode_id(filter_in.parent_id, expected="Contact", field="parentId") if filter_in.parent_id else None
        )
        return ContactFilter(
            contact_type=filter_in.contact_type,
            subtype=filter_in.subtype,
            parent_id=parent_id,
            top_level_only=filter_in.top_level_only,
            search=filter_in.search,
        )
    except ValidationFailed as exc:
        raise bad_input(f"filter.{exc.field}: {exc.message}") from None


@strawberry.type
class ContactQueries:
    @strawberry.field(description="Contacts the viewer may see, filtered and ordered.")
    async def contacts(
        self,
        info: Info,
        filter: ContactFilterInput | None = None,
        order_by: ContactSort | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Contact]:
        ctx = info.context
        filter_in = _to_filter(filter)
        order = ContactSorting(
            field=order_by.field if order_by else ContactSortField.DISPLAY_NAME,
            descending=bool(order_by and order_by.direction is SortDirection.DESC),
        )
        viewer = ctx.viewer

        async def count() -> int:
            async with ctx.db() as session:
                return await service.count(session=session, filter_in=filter_in, viewer=viewer)

        async def fetch(offset: int, limit: int) -> Sequence[Any]:
            async with ctx.db() as session:
                return await service.search(
                    session=session,
                    filter_in=filter_in,
                    order=order,
                    viewer=viewer,
                    offset=offset,
                    limit=limit,
                )

        return await connection_from_query(
            PageArgs(first, after, last, before),
            ctx.max_page_size,
            count,
            fetch,
            lambda seen: Contact.from_seen(seen, viewer),
        )

    @strawberry.field(description="One contact, or null when it does not exist for the viewer.")
    async def contact(self, info: Info, id: relay.GlobalID) -> Contact | None:
        contact_id = parse_uuid(id.node_id) if id.type_name == "Contact" else None
        return await load_contact(info, contact_id)
