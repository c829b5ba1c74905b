"""Errors of the API.

Expected failures of a mutation are data: a member of its result union implementing
`UserError { code, message, field }`. Clients switch on `__typename` or `code`.
Request-level failures (no or bad token, missing role, bad paging arguments) are GraphQL errors
with `extensions.code`. Anything unexpected is masked as "Unexpected error." and logged in full
with the request id.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError, Node
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.utils.str_converters import to_camel_case

from app.accounts.errors import TokenAlreadyRevoked
from app.contacts import errors as contact_errors
from app.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from app.numbering.errors import NumberingNotConfigured
from app.orders import errors as order_errors
from app.status import errors as status_errors


class RequestErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    BAD_REQUEST = "BAD_REQUEST"
    """The HTTP request itself is malformed (body, headers): nothing was parsed."""
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    """The document breaks a rule of the schema or a limit: nothing ran."""
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    """Masked ("Unexpected error."); the log has the cause under the request id."""
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


def request_error(code: RequestErrorCode, message: str, nodes: Node | None = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code.value})


def bad_input(message: str, nodes: Node | None = None) -> GraphQLError:
    return request_error(RequestErrorCode.BAD_USER_INPUT, message, nodes)


R = TypeVar("R")


@strawberry.enum(description="What went wrong, for clients to switch on.")
class ErrorCode(enum.Enum):
    NOT_FOUND = NotFound.code
    VALIDATION_FAILED = ValidationFailed.code
    PERMISSION_DENIED = PermissionDenied.code
    CYCLE_DETECTED = contact_errors.CycleDetected.code
    INVALID_PARENT = contact_errors.InvalidParent.code
    TOKEN_REVOKED = TokenAlreadyRevoked.code
    INVALID_STATUS_TRANSITION = status_errors.InvalidStatusTransition.code
    APPROVAL_REQUIRED = status_errors.ApprovalRequired.code
    STATUS_CONFLICT = status_errors.StatusConflict.code
    FINAL_STATUS = status_errors.FinalStatus.code
    NO_WORKFLOW = status_errors.NoWorkflow.code
    NUMBERING_NOT_CONFIGURED = NumberingNotConfigured.code
    ALREADY_ON_HOLD = order_errors.OrderAlreadyOnHold.code
    NOT_ON_HOLD = order_errors.OrderNotOnHold.code
    ORDER_LOCKED = order_errors.OrderLocked.code


@strawberry.interface(description="An expected failure of a mutation; nothing was written.")
class UserError:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(description="The input field at fault, when there is one.")


@strawberry.type(name="NotFound")
class NotFoundError(UserError):
    pass


@strawberry.type
class ValidationError(UserError):
    pass


@strawberry.type(name="PermissionDenied")
class PermissionDeniedError(UserError):
    pass


@strawberry.type(name="CycleDetected")
class CycleDetectedError(UserError):
    pass


@strawberry.type(name="InvalidParent")
class InvalidParentError(UserError):
    pass


@strawberry.type(name="TokenRevoked")
class TokenRevokedError(UserError):
    pass


@strawberry.type
class InvalidStatusTransition(UserError):
    from_status: str | None
    to_status: str
    allowed: list[str] = strawberry.field(description="The statuses this one may move to.")


@strawberry.type
class ApprovalRequired(UserError):
    role: str = strawberry.field(description="The role the target step needs.")


@strawberry.type
class StatusConflict(UserError):
    expected: str | None
    actual: str


@strawberry.type
class FinalStatus(UserError):
    status: str


@strawberry.type(name="NoWorkflow")
class NoWorkflowError(UserError):
    pass


@strawberry.type(name="NumberingNotConfigured")
class NumberingNotConfiguredError(UserError):
    pass


@strawberry.type
class AlreadyOnHold(UserError):
    pass


@strawberry.type
class NotOnHold(UserError):
    pass


@strawberry.type
class OrderLocked(UserError):
    status: str = strawberry.field(description="The status that locks the lines (invoiced or final).")


_ERROR_TYPES: dict[type[DomainError], type[UserError]] = {
    NotFound: NotFoundError,
    ValidationFailed: ValidationError,
    PermissionDenied: PermissionDeniedError,
    contact_errors.CycleDetected: CycleDetectedError,
    contact_errors.InvalidParent: InvalidParentError,
    TokenAlreadyRevoked: TokenRevokedError,
    status_errors.NoWorkflow: NoWorkflowError,
    NumberingNotConfigured: NumberingNotConfiguredError,
    order_errors.OrderAlreadyOnHold: AlreadyOnHold,
    order_errors.OrderNotOnHold: NotOnHold,
}

# Error types that carry more than code, message and field: how to read the extra fields.
_EXTRA_FIELDS: dict[type[DomainError], tuple[type[UserError], Callable[[Any], dict[str, Any]]]] = {
    status_errors.InvalidStatusTransition: (
        InvalidStatusTransition,
        lambda e: {"from_status": e.from_status, "to_status": e.to_status, "allowed": e.allowed},
    ),
    status_errors.ApprovalRequired: (ApprovalRequired, lambda e: {"role": e.role}),
    status_errors.StatusConflict: (StatusConflict, lambda e: {"expected": e.expected, "actual": e.actual}),
    status_errors.FinalStatus: (FinalStatus, lambda e: {"status": e.status}),
    order_errors.OrderLocked: (OrderLocked, lambda e: {"status": e.status}),
}


def to_user_error(exc: DomainError) -> UserError:
    """The GraphQL error type for a domain exception (the one mapping between the layers)."""
    common: dict[str, Any] = {
        "code": ErrorCode(exc.code),
        "message": exc.message,
        "field": to_camel_case(exc.field) if exc.field else None,
    }
    for exc_type in type(exc).__mro__:
        if exc_type in _EXTRA_FIELDS:
            error_type, extra = _EXTRA_FIELDS[exc_type]
            return error_type(**common, **extra(exc))
        if exc_type in _ERROR_TYPES:
            return _ERROR_TYPES[exc_type](**common)
    raise exc


async def mutate(
    info: Any, change: Callable[[AsyncSession], Awaitable[R]], answer: Callable[[R], Awaitable[Any] | Any]
) -> Any:
    """The one shape of every mutation. `change(session)` runs in the mutation's own transaction:
    it decodes the input's ids and calls the service, and a domain error it raises rolls the
    transaction back and is answered as the matching error type. After the commit,
    `answer(result)` builds the success from what `change` returned, reading the changed objects
    back through the viewer's loaders (so the answer shows what the viewer may see, fresh)."""
    try:
        async with info.context.transaction() as session:
            result = await change(session)
    except DomainError as exc:
        return to_user_error(exc)
    answered = answer(result)
    return await answered if inspect.isawaitable(answered) else answered
