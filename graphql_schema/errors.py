"""Errors of the API.

Expected failures of a mutation are data: a member of its result union implementing
`UserError { code, message, field }`. Clients switch on `__typename` or `code`.
Request-level failures (no or bad token, missing role, bad paging arguments) are GraphQL errors
with `extensions.code`. Anything unexpected is masked as "Unexpected error." and logged in full
with the request id.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.utils.str_converters import to_camel_case

from app.accounts.errors import TokenAlreadyRevoked
from app.contacts import errors as contact_errors
from app.errors import DomainError, NotFound, PermissionDenied, ValidationFailed


class RequestErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"


def request_error(code: RequestErrorCode, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code.value})


def bad_input(message: str) -> GraphQLError:
    return request_error(RequestErrorCode.BAD_USER_INPUT, message)


EXPOSED_CODES = frozenset(code.value for code in RequestErrorCode)


@strawberry.enum(description="What went wrong, for clients to switch on.")
class ErrorCode(enum.Enum):
    NOT_FOUND = NotFound.code
    VALIDATION_FAILED = ValidationFailed.code
    PERMISSION_DENIED = PermissionDenied.code
    CYCLE_DETECTED = contact_errors.CycleDetected.code
    INVALID_PARENT = contact_errors.InvalidParent.code
    TOKEN_REVOKED = TokenAlreadyRevoked.code


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


@strawberry.type
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


_ERROR_TYPES: dict[type[DomainError], type[UserError]] = {
    NotFound: NotFoundError,
    ValidationFailed: ValidationError,
    PermissionDenied: PermissionDeniedError,
    contact_errors.CycleDetected: CycleDetectedError,
    contact_errors.InvalidParent: InvalidParentError,
    TokenAlreadyRevoked: TokenRevokedError,
}


def to_user_error(exc: DomainError) -> UserError:
    """The GraphQL error type for a domain exception (the one mapping between the layers)."""
    for exc_type in type(exc).__mro__:
        error_type = _ERROR_TYPES.get(exc_type)  # type: ignore[call-overload]
        if error_type is not None:
            return error_type(
                code=ErrorCode(exc.code),
                message=exc.message,
                field=to_camel_case(exc.field) if exc.field else None,
            )
    raise exc


async def run_mutation(info: Any, action: Callable[..., Any]) -> Any:
    """Run `action(session)` in the mutation's own transaction; a domain error rolls it back and
    becomes the matching error type."""
    try:
        async with info.context.transaction() as session:
            return await action(session)
    except DomainError as exc:
        return to_user_error(exc)
