"""Talking to the API in tests: GraphQL requests through the in-process client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
) -> dict[str, Any]:
    """Run an operation that must succeed: any top-level error fails the test."""
    response = await post(client, query, variables, token=token)
    body = response.json()
    assert response.status_code == 200, body
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def gql_errors(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
) -> list[dict[str, Any]]:
    """Run an operation that must fail with top-level errors; return them."""
    body = (await post(client, query, variables, token=token)).json()
    assert body.get("errors"), body
    return body["errors"]


CREATE_ORDER = """
mutation ($input: CreateOrderInput!) {
  createOrder(input: $input) {
    __typename
    ... on OrderSuccess { order { id number status { name } channelChain { position contact { displayName } } } }
    ... on UserError { code field message }
  }
}
"""


# --- statuses and billing ---------------------------------------------------------------------

CHANGE = """
mutation ($input: ChangeStatusInput!) {
  changeStatus(input: $input) {
    __typename
    ... on ChangeStatusSuccess { transition { fromStatus toStatus movement slaDeadline isMilestone } entity { id } }
    ... on InvalidStatusTransition { fromStatus toStatus allowed }
    ... on ApprovalRequired { role }
    ... on StatusConflict { expected actual }
    ... on FinalStatus { status }
    ... on OrderNotBilled { billingState }
    ... on UserError { code message field }
  }
}
"""
HOLD = """
mutation ($input: PlaceOrderOnHoldInput!) {
  placeOrderOnHold(input: $input) {
    __typename
    ... on OrderHoldSuccess { order { status { name } } hold { statusBefore isActive } }
    ... on UserError { code }
  }
}
"""
RESUME = """
mutation ($input: ResumeOrderInput!) {
  resumeOrder(input: $input) {
    __typename
    ... on OrderHoldSuccess { order { status { name } } hold { isActive resumedAt } }
    ... on UserError { code }
  }
}
"""
ADD_LINE = """
mutation ($input: AddOrderLineInput!) {
  addOrderLine(input: $input) {
    __typename
    ... on OrderLineSuccess { order { lines { id } totals { commissionableNet } } }
    ... on UserError { code message field }
  }
}
"""
GENERATE_INVOICE = """
mutation ($input: GenerateInvoiceInput!) {
  generateInvoice(input: $input) {
    __typename
    ... on InvoiceSuccess { invoice { id number grossAmount lines { id } order { billingState } } }
    ... on LineAlreadyInvoiced { invoiceNumber }
    ... on UserError { code message field }
  }
}
"""


async def change(client: httpx.AsyncClient, token: str, order_id: str, to_status: str, **extra: Any) -> Any:
    variables = {"input": {"entityType": "ORDER", "entityId": order_id, "toStatus": to_status, **extra}}
    return (await gql(client, CHANGE, variables, token=token))["changeStatus"]


async def bill(
    client: httpx.AsyncClient, token: str, order_id: str, line_ids: list[str] | None = None
) -> dict[str, Any]:
    """Invoice the order's unbilled lines (or `line_ids`); the invoice must be issued."""
    variables = {"input": {"orderId": order_id, **({"lineIds": line_ids} if line_ids is not None else {})}}
    result = (await gql(client, GENERATE_INVOICE, variables, token=token))["generateInvoice"]
    assert result["__typename"] == "InvoiceSuccess", result
    return result["invoice"]


async def add_line(
    client: httpx.AsyncClient,
    token: str,
    order_id: str,
    price: str = "100.00",
    *,
    commissionable: bool = True,
    **fields: str,
) -> str:
    """A line of one unit at `price`, 21 % VAT (`fields` overrides: quantity, vatRate,
    discountPercent, description); returns the new line's id."""
    variables = {
        "input": {
            "orderId": order_id,
            "description": "Work",
            "quantity": "1",
            "unitPrice": price,
            "vatRate": "21",
            "isCommissionable": commissionable,
            **fields,
        }
    }
    result = (await gql(client, ADD_LINE, variables, token=token))["addOrderLine"]
    assert result["__typename"] == "OrderLineSuccess", result
    return str(result["order"]["lines"][-1]["id"])


async def walk(client: httpx.AsyncClient, token: str, order_id: str, statuses: Sequence[str]) -> None:
    """Move the order through `statuses`, billing it before `invoiced` (which needs it billed)."""
    for status in statuses:
        if status == "invoiced":
            await bill(client, token, order_id)
        await change(client, token, order_id, status)
