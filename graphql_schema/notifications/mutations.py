"""`saveNotificationTemplate` (staff) and `setContactPreferences` (staff, or the contact itself)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from app.notifications import service
from app.notifications.service import BODY_LENGTH, SUBJECT_LENGTH, TemplateIn
from graphql_schema.contacts.mutations import ContactSuccess
from graphql_schema.contacts.types import load_contact
from graphql_schema.errors import NotFoundError, PermissionDeniedError, ValidationError, mutate
from graphql_schema.inputs import line_field, text_field
from graphql_schema.node import decode_id
from graphql_schema.notifications.errors import TemplateInvalid
from graphql_schema.notifications.types import NotificationTemplate
from graphql_schema.permissions import IsStaff


@strawberry.input(description="A new version of a brand's template (the first save makes version 1).")
class SaveNotificationTemplateInput:
    business_entity_id: relay.GlobalID
    event: str = line_field(60, "`order.status:<status>`, `order.hold_placed` or `order.hold_resumed`.")
    language: str = line_field(2, "nl or en.")
    subject: str = line_field(SUBJECT_LENGTH, "Jinja2; the event's variables: `{{ order_number }}`.")
    body_text: str = text_field(BODY_LENGTH, "The plain-text body (Jinja2).")
    body_html: str | None = text_field(BODY_LENGTH, "The HTML body (Jinja2, values escaped); optional.", default=None)


@strawberry.input(description="What a contact is told in, and the channels it is never told through.")
class SetContactPreferencesInput:
    contact_id: relay.GlobalID
    language: str | None = line_field(2, "nl or en; left out keeps.", default=None)
    opted_out_channels: list[str] | None = strawberry.field(
        default=None, description='The whole list (e.g. ["email"]; [] opts back in); left out keeps.'
    )


@strawberry.type
class NotificationTemplateSuccess:
    template: NotificationTemplate


SaveNotificationTemplateResult = Annotated[
    NotificationTemplateSuccess | TemplateInvalid | ValidationError | NotFoundError,
    strawberry.union("SaveNotificationTemplateResult"),
]
SetContactPreferencesResult = Annotated[
    ContactSuccess | ValidationError | NotFoundError | PermissionDeniedError,
    strawberry.union("SetContactPreferencesResult"),
]


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        permission_classes=[IsStaff],
        description=(
            "Save a new version of a brand's template. Refused (TemplateInvalid) when it does not parse or "
            "uses a variable its event does not offer; messages already logged keep their version."
        ),
    )
    async def save_notification_template(
        self, info: Info, input: SaveNotificationTemplateInput
    ) -> SaveNotificationTemplateResult:
        async def change(session: AsyncSession) -> Any:
            template = await service.save_template(
                session=session,
                template_in=TemplateIn(
                    business_entity_id=decode_id(
                        input.business_entity_id, expected="BusinessEntity", field="business_entity_id"
                    ),
                    event=input.event,
                    language=input.language,
                    subject=input.subject,
                    body_text=input.body_text,
                    body_html=input.body_html,
                ),
                actor=info.context.actor,
            )
            return template

        return await mutate(
            info, change, lambda template: NotificationTemplateSuccess(template=NotificationTemplate.from_row(template))
        )

    @strawberry.mutation(
        description="Set a contact's language and opted-out channels (staff, or the contact itself).",
    )
    async def set_contact_preferences(
        self, info: Info, input: SetContactPreferencesInput
    ) -> SetContactPreferencesResult:
        async def change(session: AsyncSession) -> Any:
            contact = await service.set_preferences(
                session=session,
                contact_id=decode_id(input.contact_id, expected="Contact", field="contact_id"),
                language=input.language,
                opted_out_channels=input.opted_out_channels,
                actor=info.context.actor,
                viewer=info.context.viewer,
            )
            return contact.id

        async def answer(contact_id: Any) -> Any:
            contact = await load_contact(info, contact_id)
            assert contact is not None, "who may set a contact's preferences sees it"
            return ContactSuccess(contact=contact)

        return await mutate(info, change, answer)
