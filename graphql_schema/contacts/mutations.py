"""Contact mutations: `createContact` and `updateContact` (including re-parenting)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from app import text
from app.contacts import service
from app.contacts.models import ADDRESS_FIELDS
from app.contacts.models import Contact as ContactModel
from app.contacts.service import ContactChanges, ContactCreate
from graphql_schema.contacts.errors import CycleDetectedError, InvalidParentError
from graphql_schema.contacts.types import Contact, ContactTypeEnum, load_contact
from graphql_schema.errors import NotFoundError, ValidationError, mutate
from graphql_schema.inputs import keep_or, line_field
from graphql_schema.node import decode_id
from graphql_schema.permissions import IsStaffEditor


def _length(field: str) -> int:
    return text.column_length(getattr(ContactModel, field))


@strawberry.input
class CreateContactInput:
    contact_type: ContactTypeEnum  # type: ignore[valid-type]
    display_name: str | None = line_field(
        _length("display_name"), "Required for organisations; derived from the names for persons.", default=None
    )
    first_name: str | None = line_field(_length("first_name"), default=None)
    last_name: str | None = line_field(_length("last_name"), default=None)
    email: str | None = line_field(_length("email"), default=None)
    phone: str | None = line_field(_length("phone"), default=None)
    contact_subtype: str | None = line_field(_length("contact_subtype"), "Partner, Dealer, Customer, …", default=None)
    parent_id: relay.GlobalID | None = strawberry.field(
        default=None, description="An organisation: the dealer, distributor or employer above."
    )
    commission_rate: Decimal | None = strawberry.field(default=None, description="Organisations only, 0 to 1.")
    business_entity_id: relay.GlobalID | None = None
    street: str | None = line_field(_length("street"), default=None)
    house_number: str | None = line_field(_length("house_number"), default=None)
    postal_code: str | None = line_field(_length("postal_code"), default=None)
    city: str | None = line_field(_length("city"), default=None)
    country_code: str | None = line_field(_length("country_code"), "ISO 3166 alpha-2: NL, BE, DE.", default=None)
    vat_number: str | None = line_field(_length("vat_number"), default=None)
    payment_terms_days: int | None = strawberry.field(
        default=None, description="Days an invoice to this account may stay open (0 to 365); null: 14."
    )


@strawberry.input(
    description=(
        "Fields left out stay as they are; null clears a field that may be empty (the rule of every "
        "update). A name a contact needs cannot be cleared: refused with a ValidationError naming it."
    )
)
class UpdateContactInput:
    id: relay.GlobalID
    display_name: str | None = line_field(_length("display_name"), default=strawberry.UNSET)
    first_name: str | None = line_field(_length("first_name"), default=strawberry.UNSET)
    last_name: str | None = line_field(_length("last_name"), default=strawberry.UNSET)
    email: str | None = line_field(_length("email"), default=strawberry.UNSET)
    phone: str | None = line_field(_length("phone"), default=strawberry.UNSET)
    contact_subtype: str | None = line_field(_length("contact_subtype"), default=strawberry.UNSET)
    parent_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="Re-parent under this organisation; null makes it top-level."
    )
    commission_rate: Decimal | None = strawberry.UNSET
    business_entity_id: relay.GlobalID | None = strawberry.UNSET
    street: str | None = line_field(_length("street"), default=strawberry.UNSET)
    house_number: str | None = line_field(_length("house_number"), default=strawberry.UNSET)
    postal_code: str | None = line_field(_length("postal_code"), default=strawberry.UNSET)
    city: str | None = line_field(_length("city"), default=strawberry.UNSET)
    country_code: str | None = line_field(
        _length("country_code"), "ISO 3166 alpha-2: NL, BE, DE.", default=strawberry.UNSET
    )
    vat_number: str | None = line_field(_length("vat_number"), default=strawberry.UNSET)
    payment_terms_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="Days an invoice to this account may stay open (0 to 365); null: 14."
    )


_ADDRESS_AND_TERMS = (*ADDRESS_FIELDS, "vat_number", "payment_terms_days")
"""Taken over from either input as they are."""


@strawberry.type
class ContactSuccess:
    contact: Contact


CreateContactResult = Annotated[
    ContactSuccess | ValidationError | InvalidParentError, strawberry.union("CreateContactResult")
]
UpdateContactResult = Annotated[
    ContactSuccess | ValidationError | InvalidParentError | CycleDetectedError | NotFoundError,
    strawberry.union("UpdateContactResult"),
]


def _optional_id(value: relay.GlobalID | None, *, expected: str, field: str) -> uuid.UUID | None:
    return decode_id(value, expected=expected, field=field) if value is not None else None


async def _contact_success(info: Info, contact_id: uuid.UUID) -> ContactSuccess:
    contact = await load_contact(info, contact_id)
    assert contact is not None, "whoever may change a contact may see it"
    return ContactSuccess(contact=contact)


@strawberry.type
class ContactMutations:
    @strawberry.mutation(
        description="Create an organisation or a person, optionally under a parent organisation (staff).",
        permission_classes=[IsStaffEditor],
    )
    async def create_contact(self, info: Info, input: CreateContactInput) -> CreateContactResult:
        async def change(session: AsyncSession) -> Any:
            contact = await service.create(
                session=session,
                actor=info.context.actor,
                contact_in=ContactCreate(
                    contact_type=input.contact_type,
                    display_name=input.display_name,
                    first_name=input.first_name,
                    last_name=input.last_name,
                    email=input.email,
                    phone=input.phone,
                    contact_subtype=input.contact_subtype,
                    parent_id=_optional_id(input.parent_id, expected="Contact", field="parent_id"),
                    commission_rate=input.commission_rate,
                    business_entity_id=_optional_id(
                        input.business_entity_id, expected="BusinessEntity", field="business_entity_id"
                    ),
                    **{name: getattr(input, name) for name in _ADDRESS_AND_TERMS},
                ),
            )
            return contact.id

        return await mutate(info, change, lambda contact_id: _contact_success(info, contact_id))

    @strawberry.mutation(
        description=(
            "Change a contact's fields, or move it under another parent (its whole subtree moves with it; a move that"
            " makes a cycle is refused). Staff."
        ),
        permission_classes=[IsStaffEditor],
    )
    async def update_contact(self, info: Info, input: UpdateContactInput) -> UpdateContactResult:
        async def change(session: AsyncSession) -> Any:
            contact_id = decode_id(input.id, expected="Contact", field="id")
            changes = ContactChanges(
                display_name=keep_or(input.display_name),
                first_name=keep_or(input.first_name),
                last_name=keep_or(input.last_name),
                email=keep_or(input.email),
                phone=keep_or(input.phone),
                contact_subtype=keep_or(input.contact_subtype),
                parent_id=keep_or(input.parent_id, lambda v: _optional_id(v, expected="Contact", field="parent_id")),
                commission_rate=keep_or(input.commission_rate),
                business_entity_id=keep_or(
                    input.business_entity_id,
                    lambda v: _optional_id(v, expected="BusinessEntity", field="business_entity_id"),
                ),
                **{name: keep_or(getattr(input, name)) for name in _ADDRESS_AND_TERMS},
            )
            contact = await service.update(
                session=session, contact_id=contact_id, changes=changes, actor=info.context.actor
            )
            return contact.id

        return await mutate(info, change, lambda contact_id: _contact_success(info, contact_id))
