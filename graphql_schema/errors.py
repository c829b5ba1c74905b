"""Errors of the API.

Expected failures of a mutation are data: a member of its result union implementing
`UserError { code, message, field }`. Clients switch on `__typename` or `code`.
Request-level failures (no or bad token, missing role, bad paging arguments) are GraphQL errors
with `extensions.code`. Anything unexpected is masked as "Unexpected error." and logged in full
with the request id.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError, Node
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.utils.str_converters import to_camel_case

from app.db import Unavailable
from app.errors import DomainError, ErrorCode, NotFound, PermissionDenied, ValidationFailed


class RequestErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    """Outside GraphQL (a document's PDF): nothing the viewer may see is there."""
    BAD_REQUEST = "BAD_REQUEST"
    """The HTTP request itself is malformed (body, headers): nothing was parsed."""
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    """The document breaks a rule of the schema or a limit: nothing ran."""
    COST_LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"
    """The operation's estimated cost is over the limit (`extensions.cost`): nothing ran."""
    PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
    """The `documentId` names no document of the trusted documents' manifest."""
    DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
    """Partner and customer tokens run registered documents only; this one is not: nothing was parsed."""
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    """Masked ("Unexpected error."); the log has the cause under the request id."""
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    """The `Idempotency-Key` was used within 24 hours for another request: nothing ran."""
    RATE_LIMITED = "RATE_LIMITED"
    """A partner organisation's calls per minute are used up; `Retry-After` says when to retry."""


def request_error(code: RequestErrorCode, message: str, nodes: Node | None = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code.value})


RETRY_AFTER_SECONDS = 5
"""What `Retry-After` says when the database was away, busy or too slow."""

_UNAVAILABLE_MESSAGES = {
    Unavailable.DOWN: "The database cannot be reached just now; try again shortly.",
    Unavailable.BUSY: "The server is busy; nothing was run. Try again shortly.",
    Unavailable.TIMEOUT: "The request ran longer than the server allows and was stopped; try again later.",
    Unavailable.OVERLOADED: "The server is at capacity; nothing was run. Try again shortly.",
}


def unavailable_extensions(why: Unavailable) -> dict[str, Any]:
    """`extensions` of a SERVICE_UNAVAILABLE answer: retryable, after how long, and why."""
    return {
        "code": RequestErrorCode.SERVICE_UNAVAILABLE.value,
        "retryable": True,
        "retryAfterSeconds": RETRY_AFTER_SECONDS,
        "reason": why.value,
    }


def unavailable_message(why: Unavailable) -> str:
    return _UNAVAILABLE_MESSAGES[why]


def bad_input(message: str, nodes: Node | None = None) -> GraphQLError:
    return request_error(RequestErrorCode.BAD_USER_INPUT, message, nodes)


R = TypeVar("R")


ErrorCodeEnum = strawberry.enum(ErrorCode, name="ErrorCode", description="What went wrong, for clients to switch on.")


_ERROR_TYPES: dict[type[DomainError], type[UserError]] = {}

U = TypeVar("U", bound="type[UserError]")


def error_type(domain_error: type[DomainError]) -> Callable[[U], U]:
    """Register the GraphQL type a domain error is answered as (graphql_schema/<domain>/errors.py).
    Fields beyond code, message and field are read from the exception's attributes of the same
    name."""

    def register(cls: U) -> U:
        _ERROR_TYPES[domain_error] = cls
        return cls

    return register


_COMMON = frozenset({"code", "message", "field"})


@strawberry.interface(description="An expected failure of a mutation; nothing was written.")
class UserError:
    code: ErrorCodeEnum  # type: ignore[valid-type]
    message: str
    field: str | None = strawberry.field(description="The input field at fault, when there is one.")


@error_type(NotFound)
@strawberry.type(name="NotFound", description="Nothing the viewer may see has that id.")
class NotFoundError(UserError):
    pass


@error_type(ValidationFailed)
@strawberry.type(description="The input breaks a rule; `field` names the input field at fault.")
class ValidationError(UserError):
    pass


@error_type(PermissionDenied)
@strawberry.type(name="PermissionDenied", description="The viewer may see the object but not make this change.")
class PermissionDeniedError(UserError):
    pass


def to_user_error(exc: DomainError) -> UserError:
    """The GraphQL error type registered for a domain exception (or its nearest base)."""
    for exc_type in type(exc).__mro__:
        error_type = _ERROR_TYPES.get(exc_type)
        if error_type is not None:
            extra = {
                f.name: getattr(exc, f.name)
                for f in dataclasses.fields(error_type)
                if f.name not in _COMMON and getattr(f, "base_resolver", None) is None  # resolved fields compute
            }
            return error_type(
                code=exc.code, message=exc.message, field=to_camel_case(exc.field) if exc.field else None, **extra
            )
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
