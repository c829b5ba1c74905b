"""Order lines and totals: exact decimals, half-up rounding, VAT per rate, the lock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from app.orders import totals
from app.orders.models import LineItem
from tests.factories import gid
from tests.support.api import HOLD, RESUME, bill, change, gql, gql_errors

ADD = """
mutation ($input: AddOrderLineInput!) {
  addOrderLine(input: $input) {
    __typename
    ... on OrderLineSuccess { order { lines { id description quantity unitPrice vatRate netAmount article { sku } }
                                       totals { net vat { rate base amount } vatTotal gross commissionableNet
                                       currency } } }
    ... on OrderLocked { status }
    ... on UserError { code field message }
  }
}
"""
UPDATE = """
mutation ($input: UpdateOrderLineInput!) {
  updateOrderLine(input: $input) { __typename ... on OrderLineSuccess { order { totals { net gross } } }
                                   ... on UserError { code field } }
}
"""
REMOVE = """
mutation ($input: RemoveOrderLineInput!) {
  removeOrderLine(input: $input) { __typename ... on OrderLineSuccess { order { lines { id } totals { net } } }
                                   ... on UserError { code field } }
}
"""


def line(quantity: str, price: str, discount: str = "0", rate: str = "21", commissionable: bool = True) -> LineItem:
    return LineItem(
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        discount_percent=Decimal(discount),
        vat_rate=Decimal(rate),
        is_commissionable=commissionable,
    )


def test_rounding_is_half_up_per_line_and_vat_per_rate() -> None:
    lines = [
        line("3", "0.125"),  # 0.375 → 0.38 (half-up; banker's rounding would give 0.38 too)
        line("1", "0.125"),  # 0.125 → 0.13 (banker's rounding would give 0.12)
        line("2.5", "12.10", discount="10"),  # 27.225 → 27.23
        line("1", "100.00", rate="9"),
        line("1", "50.00", rate="0", commissionable=False),
    ]
    result = totals.compute(lines)
    assert [totals.line_net(x) for x in lines] == [
        Decimal("0.38"),
        Decimal("0.13"),
        Decimal("27.23"),
        Decimal("100.00"),
        Decimal("50.00"),
    ]
    assert result.net == Decimal("177.74")
    assert [(v.rate, v.base, v.amount) for v in result.vat] == [
        (Decimal("21"), Decimal("27.74"), Decimal("5.83")),  # 5.8254 → 5.83
        (Decimal("9"), Decimal("100.00"), Decimal("9.00")),
        (Decimal("0"), Decimal("50.00"), Decimal("0.00")),
    ]
    assert (result.vat_total, result.gross, result.commissionable_net) == (
        Decimal("14.83"),
        Decimal("192.57"),
        Decimal("127.74"),
    )


@pytest.fixture
async def catalogue(sessions):
    async with sessions() as session, session.begin():
        brand = (await session.execute(text("SELECT id FROM business_entity WHERE code = 'CC'"))).scalar_one()
        other = (await session.execute(text("SELECT id FROM business_entity WHERE code = 'ZS'"))).scalar_one()
        rows = (
            await session.execute(
                text(
                    "INSERT INTO article (business_entity_id, sku, name, unit, unit_price, vat_rate, is_active) VALUES "
                    "(:b, 'WB-11', 'Wallbox 11 kW', 'piece', 899.00, 21, true), "
                    "(:b, 'CBL-5', 'Cable 5x6 mm2', 'metre', 12.35, 21, true), "
                    "(:b, 'OLD-1', 'Discontinued', 'piece', 10.00, 21, false), "
                    "(:o, 'ZS-1', 'Other brand article', 'piece', 5.00, 21, true) RETURNING sku, id"
                ),
                {"b": brand, "o": other},
            )
        ).all()
    return {sku: gid("Article", article_id) for sku, article_id in rows}


@pytest.fixture
async def order(create_order, demo) -> str:
    contacts, tokens = demo
    return (await create_order(tokens["admin"], account=contacts["Groendus"]))["order"]["id"]


async def test_lines_from_articles_and_free_lines(client, demo, catalogue, order) -> None:
    _, tokens = demo
    admin = tokens["admin"]
    await gql(client, ADD, {"input": {"orderId": order, "articleId": catalogue["WB-11"], "quantity": "1"}}, token=admin)
    await gql(
        client,
        ADD,
        {"input": {"orderId": order, "articleId": catalogue["CBL-5"], "quantity": "7.5", "discountPercent": "10"}},
        token=admin,
    )
    data = await gql(
        client,
        ADD,
        {
            "input": {
                "orderId": order,
                "description": "Permit fee",
                "quantity": "1",
                "unitPrice": "45.00",
                "vatRate": "0",
                "isCommissionable": False,
            }
        },
        token=admin,
    )
    result = data["addOrderLine"]["order"]
    assert [(x["description"], x["netAmount"], (x["article"] or {}).get("sku")) for x in result["lines"]] == [
        ("Wallbox 11 kW", "899.00", "WB-11"),
        ("Cable 5x6 mm2", "83.36", "CBL-5"),
        ("Permit fee", "45.00", None),
    ]
    assert result["totals"] == {
        "net": "1027.36",
        "vat": [{"rate": "21", "base": "982.36", "amount": "206.30"}, {"rate": "0", "base": "45.00", "amount": "0.00"}],
        "vatTotal": "206.30",
        "gross": "1233.66",
        "commissionableNet": "982.36",
        "currency": "EUR",
    }
    cable = result["lines"][1]["id"]
    updated = await gql(client, UPDATE, {"input": {"id": cable, "quantity": "10"}}, token=admin)
    assert updated["updateOrderLine"]["order"]["totals"]["net"] == "1055.15"  # 10 × 12.35 × 0.9 = 111.15
    # left out keeps, null clears: a line has no field that may be empty, so null is refused
    for field in ("quantity", "description", "unitPrice", "vatRate", "discountPercent", "isCommissionable"):
        refused = await gql(client, UPDATE, {"input": {"id": cable, field: None}}, token=admin)
        assert refused["updateOrderLine"] == {
            "__typename": "ValidationError",
            "code": "VALIDATION_FAILED",
            "field": field,
        }, field
    unchanged = await gql(client, UPDATE, {"input": {"id": cable}}, token=admin)
    assert unchanged["updateOrderLine"]["order"]["totals"]["net"] == "1055.15"
    removed = await gql(client, REMOVE, {"input": {"id": cable}}, token=admin)
    assert len(removed["removeOrderLine"]["order"]["lines"]) == 2
    assert removed["removeOrderLine"]["order"]["totals"]["net"] == "944.00"


@pytest.mark.parametrize(
    ("extra", "typename", "field"),
    [
        ({"quantity": "0", "description": "x", "unitPrice": "1", "vatRate": "21"}, "ValidationError", "quantity"),
        ({"quantity": "1.0001", "description": "x", "unitPrice": "1", "vatRate": "21"}, "ValidationError", "quantity"),
        ({"quantity": "1", "description": "x", "unitPrice": "1.001", "vatRate": "21"}, "ValidationError", "unitPrice"),
        ({"quantity": "1", "description": "x", "unitPrice": "-1", "vatRate": "21"}, "ValidationError", "unitPrice"),
        ({"quantity": "1", "description": "x", "unitPrice": "1", "vatRate": "19"}, "ValidationError", "vatRate"),
        (
            {"quantity": "1", "description": "x", "unitPrice": "1", "vatRate": "21", "discountPercent": "101"},
            "ValidationError",
            "discountPercent",
        ),
        ({"quantity": "1", "unitPrice": "1", "vatRate": "21"}, "ValidationError", "description"),
        ({"quantity": "1", "description": "x", "vatRate": "21"}, "ValidationError", "unitPrice"),
        ({"quantity": "1", "articleId": "OLD-1"}, "ValidationError", "articleId"),
        ({"quantity": "1", "articleId": "ZS-1"}, "NotFound", "articleId"),
    ],
)
async def test_bad_lines_are_refused_and_write_nothing(
    client, demo, catalogue, order, session, extra, typename, field
) -> None:
    _, tokens = demo
    if "articleId" in extra:
        extra = {**extra, "articleId": catalogue[extra["articleId"]]}
    result = (await gql(client, ADD, {"input": {"orderId": order, **extra}}, token=tokens["admin"]))["addOrderLine"]
    assert (result["__typename"], result["field"]) == (typename, field)
    assert (await session.execute(text("SELECT count(*) FROM line_item"))).scalar_one() == 0


async def test_lines_are_locked_once_invoiced_or_final(client, demo, catalogue, order) -> None:
    _, tokens = demo
    admin = tokens["admin"]
    data = await gql(
        client, ADD, {"input": {"orderId": order, "articleId": catalogue["WB-11"], "quantity": "1"}}, token=admin
    )
    line_id = data["addOrderLine"]["order"]["lines"][0]["id"]
    for status in ("quoted", "accepted", "scheduled", "installing", "installed"):
        await change(client, admin, order, status)
    await bill(client, admin, order)
    await change(client, admin, order, "invoiced")
    for query, variables, field in [
        (ADD, {"input": {"orderId": order, "articleId": catalogue["WB-11"], "quantity": "1"}}, "addOrderLine"),
        (UPDATE, {"input": {"id": line_id, "quantity": "2"}}, "updateOrderLine"),
        (REMOVE, {"input": {"id": line_id}}, "removeOrderLine"),
    ]:
        result = (await gql(client, query, variables, token=admin))[field]
        assert result["__typename"] == "OrderLocked", result
    # on hold, the lines stay as locked as in the status the order returns to
    held = await gql(client, HOLD, {"input": {"orderId": order, "reasonCategory": "AWAITING_PAYMENT"}}, token=admin)
    assert held["placeOrderOnHold"]["__typename"] == "OrderHoldSuccess"
    result = (await gql(client, UPDATE, {"input": {"id": line_id, "quantity": "2"}}, token=admin))["updateOrderLine"]
    assert result["__typename"] == "OrderLocked", result
    await gql(client, RESUME, {"input": {"orderId": order}}, token=admin)
    await change(client, admin, order, "completed")
    result = await gql(
        client, ADD, {"input": {"orderId": order, "articleId": catalogue["WB-11"], "quantity": "1"}}, token=admin
    )
    assert result["addOrderLine"]["status"] == "completed"


async def test_only_staff_edit_lines(client, demo, order) -> None:
    _, tokens = demo
    errors = await gql_errors(
        client,
        ADD,
        {"input": {"orderId": order, "quantity": "1", "description": "x", "unitPrice": "1", "vatRate": "21"}},
        token=tokens["partner"],
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_articles_query(client, demo, catalogue) -> None:
    _, tokens = demo
    data = await gql(client, "{ articles { sku } }", token=tokens["admin"])
    assert sorted(a["sku"] for a in data["articles"]) == ["CBL-5", "WB-11", "ZS-1"]
    data = await gql(client, "{ articles(activeOnly: false) { sku } }", token=tokens["admin"])
    assert len(data["articles"]) == 4
