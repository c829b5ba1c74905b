"""The Strawberry schema: root types assembled from the domains, and its extensions."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import strawberry
from graphql import ExecutionResult, FieldNode, GraphQLError, OperationDefinitionNode
from graphql.utilities import get_operation_ast
from strawberry import relay
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info

from app.config import Settings
from graphql_schema.accounts.mutations import AccountMutations
from graphql_schema.accounts.queries import AccountQueries
from graphql_schema.business_entities.queries import BusinessEntityQueries
from graphql_schema.contacts.mutations import ContactMutations
from graphql_schema.contacts.queries import ContactQueries
from graphql_schema.catalog.queries import CatalogQueries
from graphql_schema.commissions.queries import CommissionQueries
from graphql_schema.orders.line_mutations import OrderLineMutations
from graphql_schema.orders.mutations import OrderMutations
from graphql_schema.orders.queries import OrderQueries
from graphql_schema.status.mutations import StatusMutations
from graphql_schema.status.queries import StatusQueries
from graphql_schema.errors import RequestErrorCode, bad_input, request_error
from graphql_schema.node import resolve_nodes

log = logging.getLogger("chargecars.graphql")


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global id; null when it does not exist for the viewer.")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        return (await resolve_nodes(info, [id]))[0]

    @strawberry.field(description="Objects by global id, in the order asked (at most 100).")
    async def nodes(self, info: Info, ids: list[relay.GlobalID]) -> list[relay.Node | None]:
        if len(ids) > info.context.max_page_size:
            raise bad_input(f"`ids` takes at most {info.context.max_page_size} ids.")
        return await resolve_nodes(info, ids)


@strawberry.type
class Query(
    NodeQueries,
    AccountQueries,
    ContactQueries,
    OrderQueries,
    CommissionQueries,
    StatusQueries,
    CatalogQueries,
    BusinessEntityQueries,
):
    pass


@strawberry.type
class Mutation(ContactMutations, OrderMutations, OrderLineMutations, StatusMutations, AccountMutations):
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
    UNAUTHENTICATED for any data field, before anything is resolved."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.context.principal is None and context.graphql_document is not None:
            operation = get_operation_ast(context.graphql_document, context.operation_name)
            if _selects_data(operation):
                context.result = ExecutionResult(
                    data=None,
                    errors=[request_error(RequestErrorCode.UNAUTHENTICATED, "A valid bearer token is required.")],
                )
        yield


def _is_unexpected(error: GraphQLError) -> bool:
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class ChargeCarsSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        request_id = getattr(getattr(execution_context, "context", None), "request_id", "-")
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


def _without_suggestion(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions, path=error.path,
        original_error=error.original_error, extensions=error.extensions,
    )


class HideSuggestions(SchemaExtension):
    """"Did you mean …?" in validation errors would map the schema for anyone guessing field
    names; only staff get the suggestions."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        result = context.result
        if result is None or not result.errors or (context.context and context.context.is_staff):
            return
        # new errors rather than edited ones: an error object may be shared (cached documents)
        result.errors = [_without_suggestion(error) for error in result.errors]


def build_schema(settings: Settings) -> ChargeCarsSchema:
    """The schema with the limits of `settings`; each rejection is a GraphQL validation error,
    raised before anything is resolved (so before any SQL)."""
    extensions: list = [
        RequireViewer,
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        HideSuggestions,
        lambda: MaskErrors(should_mask_error=_is_unexpected),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return ChargeCarsSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(batching_config={"max_operations": settings.max_batch_operations}),
    )

