"""The Strawberry schema: root types assembled from the domains, and its extensions."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    parse,
)
from graphql.utilities import get_operation_ast
from strawberry import relay
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import DisableIntrospection, MaskErrors, MaxTokensLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext, Info
from strawberry.utils.str_converters import to_camel_case

from app.config import Settings
from app.db import unavailability
from app.errors import ValidationFailed
from graphql_schema.accounts.mutations import AccountMutations
from graphql_schema.accounts.queries import AccountQueries
from graphql_schema.business_entities.queries import BusinessEntityQueries
from graphql_schema.catalog.queries import CatalogQueries
from graphql_schema.commissions.queries import CommissionQueries
from graphql_schema.contacts.mutations import ContactMutations
from graphql_schema.contacts.queries import ContactQueries
from graphql_schema.cost import estimate
from graphql_schema.errors import (
    RETRY_AFTER_SECONDS,
    RequestErrorCode,
    request_error,
    unavailable_extensions,
    unavailable_message,
)
from graphql_schema.execution import Executor
from graphql_schema.finance.mutations import FinanceMutations
from graphql_schema.finance.payments import PaymentMutations, PaymentQueries
from graphql_schema.finance.queries import FinanceQueries
from graphql_schema.finance.reports import FinanceReportQueries
from graphql_schema.inputs import DATE, DATETIME, DECIMAL, InputRefused, check_literals, check_variables
from graphql_schema.limits import DocumentLimits, check_document
from graphql_schema.node import resolve_nodes
from graphql_schema.notifications.mutations import NotificationMutations
from graphql_schema.notifications.queries import NotificationQueries
from graphql_schema.operations.mutations import OperationMutations
from graphql_schema.operations.queries import OperationQueries
from graphql_schema.orders.line_mutations import OrderLineMutations
from graphql_schema.orders.mutations import OrderMutations
from graphql_schema.orders.queries import OrderQueries
from graphql_schema.partners.mutations import PartnerMutations
from graphql_schema.partners.queries import PartnerQueries
from graphql_schema.status.mutations import StatusMutations
from graphql_schema.status.queries import StatusQueries
from graphql_schema.tasks.mutations import TaskMutations
from graphql_schema.tasks.queries import TaskQueries

log = logging.getLogger("chargecars.graphql")


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global id; null when it does not exist for the viewer.")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        return (await resolve_nodes(info, [id]))[0]

    @strawberry.field(description="Objects by global id, in the order asked (at most 100, like every list argument).")
    async def nodes(self, info: Info, ids: list[relay.GlobalID]) -> list[relay.Node | None]:
        return await resolve_nodes(info, ids)


@strawberry.type
class Query(
    NodeQueries,
    AccountQueries,
    ContactQueries,
    OrderQueries,
    OperationQueries,
    CommissionQueries,
    FinanceQueries,
    PaymentQueries,
    FinanceReportQueries,
    PartnerQueries,
    NotificationQueries,
    TaskQueries,
    StatusQueries,
    CatalogQueries,
    BusinessEntityQueries,
):
    pass


@strawberry.type
class Mutation(
    ContactMutations,
    OrderMutations,
    OrderLineMutations,
    OperationMutations,
    StatusMutations,
    FinanceMutations,
    PaymentMutations,
    PartnerMutations,
    NotificationMutations,
    TaskMutations,
    AccountMutations,
):
    pass


def _selects_data(operation: OperationDefinitionNode | None) -> bool:
    """True unless the operation asks only for introspection (`__schema`, `__type`, …)."""
    if operation is None:
        return False
    return any(
        not (isinstance(selection, FieldNode) and selection.name.value.startswith("__"))
        for selection in operation.selection_set.selections
    )


class RequireViewer(SchemaExtension):
    """A request without a token may introspect (GraphiQL shows the schema) but gets
    UNAUTHENTICATED (HTTP 401, like a bad token) for any data field, before anything is
    resolved."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.context.principal is None and context.graphql_document is not None:
            operation = get_operation_ast(context.graphql_document, context.operation_name)
            if _selects_data(operation):
                context.result = ExecutionResult(
                    data=None,
                    errors=[request_error(RequestErrorCode.UNAUTHENTICATED, "A valid bearer token is required.")],
                )
                response = getattr(context.context, "response", None)
                if response is not None:  # the same status as for a bad token
                    response.status_code = 401
                    response.headers["WWW-Authenticate"] = "Bearer"
        yield


class CostLimit(SchemaExtension):
    """The operation's estimated cost (`graphql_schema/cost.py`), reported in `extensions.cost`;
    over the limit, the operation is refused before anything is resolved."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.requested: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and context.graphql_document is not None:
            self.requested = estimate(
                context.schema._schema, context.graphql_document, context.operation_name, context.variables
            )
            if self.requested > self.limit:
                refusal = request_error(
                    RequestErrorCode.COST_LIMIT_EXCEEDED,
                    f"The operation's estimated cost is {self.requested}, over the limit of {self.limit}: "
                    "ask for smaller pages or fewer nested lists.",
                )
                context.result = ExecutionResult(data=None, errors=[refusal])
        yield

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        return {"cost": {"requested": self.requested, "limit": self.limit}}


DOCUMENTS_KEPT = 256
"""Query texts whose parse and verdict are kept: a client repeats the same few operations; a
flood of distinct texts only cycles the caches."""


class ParseOnce(SchemaExtension):
    """The parsed documents of the last `DOCUMENTS_KEPT` query texts (and parse options). A text
    that does not parse is left to Strawberry's own parse, which reports the syntax error the
    usual way."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            with contextlib.suppress(GraphQLError):
                context.graphql_document = _parsed(context.query, tuple(sorted(context.parse_options.items())))
        yield


@functools.lru_cache(maxsize=DOCUMENTS_KEPT)
def _parsed(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


class CheckRequest(SchemaExtension):
    """Before graphql-core validates: the document's limits (`graphql_schema/limits.py`) and
    the values written in it (`graphql_schema/inputs.py`), both linear in the document, which
    keeps validation cheap; then the variables' values. The verdict on a document depends on
    its text alone and is kept for the last `DOCUMENTS_KEPT` texts; the variables are checked
    on every request."""

    def __init__(self, limits: DocumentLimits, max_list: int) -> None:
        self.limits = limits
        self.max_list = max_list

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None and context.query is not None:
            verdict = _Verdict(
                context.query, self.limits, self.max_list, id(context.schema._schema), tuple(context.validation_rules)
            )
            errors = _document_errors(verdict, document, context.schema._schema)
            # set before Strawberry validates: it then skips its own validation
            context.pre_execution_errors = list(errors) or check_variables(context.variables, max_list=self.max_list)
        yield


@dataclass(frozen=True)
class _Verdict:
    """What a verdict on a document depends on (the schema by identity: one per process)."""

    query: str
    limits: DocumentLimits
    max_list: int
    schema: int
    rules: tuple[Any, ...]


_verdicts: OrderedDict[_Verdict, tuple[GraphQLError, ...]] = OrderedDict()


def _document_errors(verdict: _Verdict, document: DocumentNode, schema: GraphQLSchema) -> tuple[GraphQLError, ...]:
    """The first verdict against the document: its limits, its literals, graphql-core's rules."""
    found = _verdicts.get(verdict)
    if found is None:
        found = _verdicts[verdict] = tuple(
            check_document(document, verdict.limits)
            or check_literals(document, max_list=verdict.max_list)
            or validate_document(schema, document, verdict.rules)
        )
        if len(_verdicts) > DOCUMENTS_KEPT:
            _verdicts.popitem(last=False)
    else:
        _verdicts.move_to_end(verdict)
    return found


_USER_MISTAKES = (ValidationFailed, InputRefused)
"""Raised on bad input: shown to the client as BAD_USER_INPUT, never masked."""


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, (GraphQLError, *_USER_MISTAKES))
        and unavailability(original) is None
    )


class ChargeCarsSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        request_id = getattr(getattr(execution_context, "context", None), "request_id", "-")
        away = {why for error in errors if (why := unavailability(error.original_error)) is not None}
        if away:  # the database, not the request: one line, no traceback
            log.warning("request %s: database %s", request_id, ", ".join(sorted(away)))
        for error in errors:
            if _is_unexpected(error):
                log.error(
                    "request %s: unexpected error at %s: %s",
                    request_id,
                    ".".join(map(str, error.path or [])),
                    error.message,
                    exc_info=error.original_error,
                )
            else:
                log.debug("request %s: %s", request_id, error.message)


_SUGGESTION = re.compile(r" Did you mean .*\?$")


def _with(error: GraphQLError, message: str, code: str | None, extra: dict[str, Any] | None = None) -> GraphQLError:
    """A new error (an error object may be shared, e.g. by cached documents) with `message` and,
    unless it has one, `code`."""
    extensions = dict(error.extensions or {})
    if code is not None:
        extensions.setdefault("code", code)
    extensions.update(extra or {})
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=extensions,
    )


def _code(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


class PublicErrors(SchemaExtension):
    """What a client sees of an error: every one carries `extensions.code`, by the phase it
    arose in (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT for variables and
    for a query's refused input); "Did you mean …?" in validation errors would map the schema for
    anyone guessing field names, so only staff keep the suggestions."""

    def __init__(self) -> None:
        self.phase_code: str | None = None

    # Each phase names the errors without a path that arise from its start on (a hook of an
    # extension listed earlier, such as the parse cache, may raise before this one's yield).
    def on_parse(self) -> Iterator[None]:
        self.phase_code = RequestErrorCode.GRAPHQL_PARSE_FAILED.value
        yield

    def on_validate(self) -> Iterator[None]:
        self.phase_code = RequestErrorCode.GRAPHQL_VALIDATION_FAILED.value
        yield

    def on_execute(self) -> Iterator[None]:
        # from here on: the variables' (coercion before any field)
        self.phase_code = RequestErrorCode.BAD_USER_INPUT.value
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        result = context.result
        if result is None or not result.errors:
            return
        staff = bool(context.context and context.context.is_staff)
        result.errors = [self._public(error, staff) for error in result.errors]
        if any(_code(error) == RequestErrorCode.SERVICE_UNAVAILABLE for error in result.errors):
            response = getattr(context.context, "response", None)
            if response is not None:
                response.status_code = 503
                response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)

    def _public(self, error: GraphQLError, staff: bool) -> GraphQLError:
        message = error.message if staff else _SUGGESTION.sub("", error.message)
        original = error.original_error
        why = unavailability(original)
        if why is not None:
            return _with(error, unavailable_message(why), None, unavailable_extensions(why))
        if isinstance(original, ValidationFailed):
            # a query's input refused by the domain (a mutation returns it as ValidationError)
            field = to_camel_case(original.field) if original.field else None
            text = f"{field}: {original.message}" if field else original.message
            return _with(error, text, RequestErrorCode.BAD_USER_INPUT.value, {"field": field} if field else None)
        refused = isinstance(original, InputRefused | StrawberryInputCoercionError)  # a scalar refused a value
        code = RequestErrorCode.BAD_USER_INPUT.value if refused else None
        code = code or (None if error.path else self.phase_code)
        if message == error.message and (code is None or "code" in (error.extensions or {})):
            return error
        return _with(error, message, code)


def operation_label(document: DocumentNode | None, operation_name: str | None) -> str | None:
    """What an operation asked for: its type, its name when the client gave one, and its root
    fields (`query PortalOrders: orders,viewer`); None when the document did not parse."""
    operation = get_operation_ast(document, operation_name) if document is not None else None
    if operation is None:
        return None
    fields = ",".join(s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode))
    named = f"{operation.name.value}: " if operation.name else ""
    return f"{operation.operation.value} {named}{fields}"


class NameOperations(SchemaExtension):
    """For a request whose context keeps `operations` (a partner's: its call log), each
    operation's label and whether it answered with errors."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        kept = getattr(context.context, "operations", None)
        if kept is not None:
            errors = bool(context.result and context.result.errors)
            kept.append((operation_label(context.graphql_document, context.operation_name), errors))


class MaskUnexpected(MaskErrors):
    """Anything unexpected is "Unexpected error." with INTERNAL_SERVER_ERROR; the log keeps it."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        return _with(masked, masked.message, RequestErrorCode.INTERNAL_SERVER_ERROR.value)


def build_schema(settings: Settings) -> ChargeCarsSchema:
    """The schema with the limits of `settings`; each rejection is an error raised before
    anything is resolved (so before any SQL)."""
    limits = DocumentLimits(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_fields=settings.max_fields,
        max_fragments=settings.max_fragments,
        max_field_merges=settings.max_field_merges,
    )
    extensions: list = [
        RequireViewer,
        lambda: CostLimit(settings.max_query_cost),
        lambda: CheckRequest(limits, max_list=settings.max_page_size),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        PublicErrors,
        lambda: MaskUnexpected(should_mask_error=_is_unexpected),
        ParseOnce,  # after MaxTokensLimiter, whose parse options are part of the key
        NameOperations,
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    if settings.tracing:
        from app import tracing

        extensions.append(tracing.schema_extension())
    schema = ChargeCarsSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(batching_config={"max_operations": settings.max_batch_operations}),
        scalar_overrides={Decimal: DECIMAL, date: DATE, datetime: DATETIME},
        execution_context_class=Executor,
    )
    _describe_results(schema._schema)
    return schema


def _describe_results(schema: GraphQLSchema) -> None:
    """Each mutation's result union says what it holds: the success, or which expected errors
    (each a `UserError`: nothing was written)."""
    user_error = schema.get_type("UserError")
    for graphql_type in schema.type_map.values():
        if isinstance(graphql_type, GraphQLUnionType) and not graphql_type.description:
            errors = [t.name for t in graphql_type.types if user_error in t.interfaces]
            successes = [t.name for t in graphql_type.types if user_error not in t.interfaces]
            graphql_type.description = (
                f"{' or '.join(f'`{name}`' for name in successes)} when it worked; otherwise one of the expected "
                f"errors ({', '.join(f'`{name}`' for name in errors)}), each a `UserError`: nothing was written."
            )
