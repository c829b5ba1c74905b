"""The PDF of an invoice or credit note, as a Dutch invoice must read (docs/finance.md): seller
and buyer with address and VAT number, the seller's Chamber of Commerce number, the document's
number and dates, each line, the net and VAT per rate, the totals, and how to pay.

Rendered with fpdf2's standard fonts in Windows-1252 (Dutch, German, French and the euro sign);
a character outside it prints as "?" (the document itself keeps the exact text).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fpdf import FPDF

from app.finance.models import InvoiceKind
from app.orders.service import totals

_ENCODING = "windows-1252"
PDF_ROUTE = "/invoices/{document_id}.pdf"
"""Where a document's PDF is served (app/asgi.py) and linked (`BillingDocument.pdfUrl`)."""


def _plain(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.encode(_ENCODING, errors="replace").decode(_ENCODING)


def _money(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{sign}\u20ac {grouped},{cents}"


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f").replace(".", ",")


def _party(data: dict[str, Any]) -> list[str]:
    street = " ".join(p for p in (data.get("street"), data.get("house_number")) if p)
    place = "  ".join(p for p in (data.get("postal_code"), data.get("city")) if p)
    lines = [data.get("name") or "", street, place, data.get("country_code") or ""]
    if data.get("vat_number"):
        lines.append(f"BTW-nr / VAT: {data['vat_number']}")
    return [line for line in lines if line]


def render(document: Any, lines: Sequence[Any], credited_number: str | None = None) -> bytes:
    """The PDF of `document` (an invoice row) with its `lines`; a credit note names the invoice it
    credits (`credited_number`)."""
    credit = document.kind is InvoiceKind.CREDIT_NOTE
    seller, buyer = document.seller, document.buyer
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_title(_plain(document.number))
    pdf.set_author(_plain(seller.get("name")))
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _plain(seller.get("name")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for line in _party(seller)[1:]:
        pdf.cell(0, 5, _plain(line), new_x="LMARGIN", new_y="NEXT")
    for label, key in (("KvK", "chamber_of_commerce_number"), ("IBAN", "iban"), ("E-mail", "email")):
        if seller.get(key):
            pdf.cell(0, 5, _plain(f"{label}: {seller[key]}"), new_x="LMARGIN", new_y="NEXT")

    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 5, "Factuur aan / Bill to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in _party(buyer):
        pdf.cell(0, 5, _plain(line), new_x="LMARGIN", new_y="NEXT")

    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 16)
    title = "Creditnota / Credit note" if credit else "Factuur / Invoice"
    pdf.cell(0, 9, _plain(f"{title} {document.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 5, f"Factuurdatum / Date: {document.issue_date.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    if credit:
        pdf.cell(
            0, 5, _plain(f"Crediteert factuur / Credits invoice: {credited_number}"), new_x="LMARGIN", new_y="NEXT"
        )
        if document.reason:
            pdf.multi_cell(0, 5, _plain(f"Reden / Reason: {document.reason}"), new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.cell(0, 5, f"Vervaldatum / Due: {document.due_date.isoformat()}", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(4)
    widths = (80, 18, 26, 16, 14, 28)
    headers = ("Omschrijving / Description", "Aantal", "Prijs", "Korting", "BTW", "Netto")
    pdf.set_font("Helvetica", "B", 9)
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 6, header, border="B", align="L" if width == widths[0] else "R")
    pdf.ln()
    pdf.set_font("Helvetica", size=9)
    for line in lines:
        values = (
            _plain(line.description)[:60],
            _number(line.quantity),
            _money(line.unit_price),
            f"{_number(line.discount_percent)}%",
            f"{_number(line.vat_rate)}%",
            _money(line.net_amount),
        )
        for width, value in zip(widths, values, strict=True):
            pdf.cell(width, 6, _plain(value), align="L" if width == widths[0] else "R")
        pdf.ln()

    pdf.ln(4)
    computed = totals.compute(lines)
    label_width, amount_width = sum(widths) - 40, 40
    rows = [("Totaal netto / Net", document.net_amount)]
    rows += [(f"BTW / VAT {_number(v.rate)}% over {_money(v.base)}", v.amount) for v in computed.vat]
    rows += [("Totaal BTW / VAT", document.vat_amount), ("Totaal / Total", document.gross_amount)]
    for index, (label, amount) in enumerate(rows):
        pdf.set_font("Helvetica", "B" if index == len(rows) - 1 else "", 10)
        pdf.cell(label_width, 6, _plain(label), align="R")
        pdf.cell(amount_width, 6, _plain(_money(amount)), align="R", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(8)
    pdf.set_font("Helvetica", size=9)
    if credit:
        note = "Dit bedrag wordt verrekend of terugbetaald. / This amount is set off or refunded."
    else:
        note = (
            f"Gelieve {_money(document.gross_amount)} voor {document.due_date.isoformat()} over te maken op "
            f"{seller.get('iban') or '-'} o.v.v. {document.number}. / Please pay by the due date, quoting the number."
        )
    pdf.multi_cell(0, 5, _plain(note))
    return bytes(pdf.output())
