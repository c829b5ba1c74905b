"""Demo data for `make run`: the six-level channel chain, the named partners with dealers and
people, and one account per kind of user. Loaded only into an empty database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import reads
from app.access.policy import STAFF
from app.accounts import service as accounts
from app.accounts.models import Role, UserAccount
from app.audit.service import Actor
from app.business_entities.models import BusinessEntity
from app.catalog.models import Article
from app.commissions import service as commissions
from app.config import get_settings
from app.contacts import service as contacts
from app.contacts.models import Contact, ContactType
from app.contacts.service import ContactCreate
from app.finance import payments
from app.finance import service as finance
from app.finance.models import InvoiceKind, PaymentMethod
from app.finance.payments import AllocationIn, PaymentIn
from app.finance.service import CreditRequest, InvoiceRequest
from app.notifications import service as notifications
from app.notifications.service import TemplateIn
from app.operations import documents, quotes, visits, work_orders
from app.operations.documents import DirectoryStore, DocumentStore
from app.operations.models import DocumentCategory, MeterCabinet, Mounting, VisitType, WorkOrderKind, WorkOrderTask
from app.orders import holds, lines
from app.orders import service as orders
from app.orders.lines import LineIn
from app.orders.models import HoldReason, Order
from app.orders.service import OrderCreate, totals
from app.partners import service as partners
from app.status import engine
from app.status.models import EntityType

DEMO_TOKEN_LABEL: Final = "demo (make run)"
DEMO_ACTOR: Final = Actor(account_id=None, system="demo")


@dataclass(frozen=True, slots=True)
class DemoAccount:
    key: str
    kind: str
    email: str
    roles: tuple[Role, ...]
    contact_name: str | None


DEMO_ACCOUNTS: Final = (
    DemoAccount("admin", "admin (staff)", "admin@demo.chargecars.nl", (Role.ADMIN,), None),
    DemoAccount("finance", "finance (staff)", "finance@demo.chargecars.nl", (Role.FINANCE,), None),
    DemoAccount(
        "planner", "planner (staff: visits, work orders, tasks)", "planner@demo.chargecars.nl", (Role.STAFF,), None
    ),
    DemoAccount("partner", "partner, top of the chain", "mark.visser@voltara.demo", (Role.PARTNER,), "Mark Visser"),
    DemoAccount(
        "dealer", "dealer, low in the chain", "sanne.bakker@snellader-haren.demo", (Role.PARTNER,), "Sanne Bakker"
    ),
    DemoAccount("customer", "end customer", "eva.devries@example.demo", (Role.CUSTOMER,), "Eva de Vries"),
)

# (name, subtype, commission rate) from the Master Distributor down to the Sales Agent; the end
# customer (a person) sits below the Sales Agent.
CHAIN: Final = (
    ("Voltara Distribution B.V.", "Master Distributor", Decimal("0.0200")),
    ("Voltara Regio Noord", "Regional Partner", Decimal("0.0300")),
    ("Laadpunt Groningen", "Local Dealer", Decimal("0.0500")),
    ("Snellader Service Haren", "Sub-dealer", None),  # inherits its parent's rate
    ("Agent Jansen Verkoop", "Sales Agent", Decimal("0.0400")),
)

PARTNERS: Final = {
    "Groendus": ("CC", Decimal("0.0600"), ["Groendus Installatie Zuid", "Groendus Dealer Utrecht"]),
    "Essent": (
        "CC",
        Decimal("0.0500"),
        ["Essent Laadoplossingen Brabant", "Essent Partner Zwolle", "Essent Dealer Leiden"],
    ),
    "Eneco": ("LT", Decimal("0.0550"), ["Eneco Thuisladen West", "Eneco Dealer Arnhem"]),
    "50five": ("ZS", Decimal("0.0450"), ["50five Webshop Dealer", "50five Installatiepartner Oost"]),
    "Alva": ("MKT", Decimal("0.0400"), ["Alva Meterkast Service", "Alva Dealer Amersfoort"]),
}

PEOPLE: Final = [
    ("Pieter", "de Jong"),
    ("Lotte", "Smit"),
    ("Daan", "Mulder"),
    ("Femke", "Bos"),
    ("Ruben", "Dekker"),
    ("Iris", "Meijer"),
    ("Thijs", "Peters"),
    ("Noor", "Hendriks"),
    ("Bram", "van Dijk"),
    ("Sophie", "Vos"),
]


# (street, postal code, city): every demo contact gets one in turn, with its own house number
STREETS: Final = [
    ("Stationsweg", "9711 AM", "Groningen"),
    ("Oude Gracht", "3511 AP", "Utrecht"),
    ("Markt", "5611 EB", "Eindhoven"),
    ("Kerkstraat", "1017 GC", "Amsterdam"),
    ("Dorpsstraat", "9751 AA", "Haren"),
    ("Havenkade", "8011 AB", "Zwolle"),
]


def _address(index: int) -> dict[str, Any]:
    street, postal_code, city = STREETS[index % len(STREETS)]
    return {
        "street": street,
        "house_number": str(10 + index),
        "postal_code": postal_code,
        "city": city,
        "country_code": "NL",
    }


async def is_empty(*, session: AsyncSession) -> bool:
    contacts_count = await session.scalar(select(func.count()).select_from(Contact))
    accounts_count = await session.scalar(select(func.count()).select_from(UserAccount))
    return not contacts_count and not accounts_count


def _email(first: str, last: str, org: str) -> str:
    domain = "".join(ch for ch in org.lower() if ch.isalnum())[:24]
    return f"{first.lower()}.{last.lower().replace(' ', '')}@{domain}.demo"


async def seed(*, session: AsyncSession, with_orders: bool = True, store: DocumentStore | None = None) -> None:
    """Write the demo data (the caller commits); the demo's photos go to `store` (by default the
    configured documents directory)."""
    brands = {b.code: b.id for b in await session.scalars(select(BusinessEntity))}
    numbers = iter(range(1000))

    async def org(name: str, subtype: str, rate: Decimal | None, parent: Contact | None, brand: str = "CC") -> Contact:
        return await contacts.create(
            session=session,
            actor=DEMO_ACTOR,
            contact_in=ContactCreate(
                contact_type=ContactType.ORGANIZATION,
                display_name=name,
                contact_subtype=subtype,
                commission_rate=rate,
                parent_id=parent.id if parent else None,
                business_entity_id=brands[brand],
                email=f"info@{''.join(ch for ch in name.lower() if ch.isalnum())[:24]}.demo",
                vat_number=f"NL{870000001 + len(name) * 7919 % 99999:09d}B01",
                **_address(next(numbers)),
            ),
        )

    async def person(first: str, last: str, subtype: str, parent: Contact, email: str | None = None) -> Contact:
        return await contacts.create(
            session=session,
            actor=DEMO_ACTOR,
            contact_in=ContactCreate(
                contact_type=ContactType.PERSON,
                first_name=first,
                last_name=last,
                contact_subtype=subtype,
                parent_id=parent.id,
                email=email or _email(first, last, parent.display_name),
                phone="+31 6 1234 5678",
                **_address(next(numbers)),
            ),
        )

    parent: Contact | None = None
    chain: list[Contact] = []
    for name, subtype, rate in CHAIN:
        parent = await org(name, subtype, rate, parent)
        chain.append(parent)
    assert parent is not None
    await person("Eva", "de Vries", "Customer", parent, email="eva.devries@example.demo")
    await person("Mark", "Visser", "Partner", chain[0], email="mark.visser@voltara.demo")
    await person("Sanne", "Bakker", "Dealer", chain[3], email="sanne.bakker@snellader-haren.demo")
    await person("Joris", "Jansen", "Sales Agent", chain[4])
    second_region = await org("Voltara Regio Zuid", "Regional Partner", Decimal("0.0300"), chain[0])
    await person("Anouk", "Willems", "Partner", second_region)

    people = iter(PEOPLE * 3)
    for name, (brand, rate, dealers) in PARTNERS.items():
        partner = await org(name, "Partner", rate, None, brand)
        await person(*next(people), "Partner", partner)
        for dealer_name in dealers:
            dealer = await org(dealer_name, "Dealer", None, partner, brand)
            await person(*next(people), "Dealer", dealer)

    by_name = {c.display_name: c.id for c in await session.scalars(select(Contact))}
    joris = await session.get(Contact, by_name["Joris Jansen"])
    assert joris is not None
    joris.language = "en"  # told in English; the other demo people in Dutch
    await _seed_templates(session, brands)
    if with_orders:
        articles = await _seed_catalogue(session, brands)
        await _seed_partner_integration(session, brands, by_name, articles)
        await _seed_orders(session, brands, by_name, articles)
        await _seed_hold(session, brands, by_name)
        await _seed_field_operations(session, brands, articles, store or DirectoryStore(get_settings().documents_dir))
    for demo in DEMO_ACCOUNTS:
        await accounts.create_account(
            session=session,
            actor=DEMO_ACTOR,
            account_in=accounts.AccountCreate(
                email=demo.email,
                display_name=demo.contact_name or f"ChargeCars {demo.key.title()}",
                roles=demo.roles,
                contact_id=by_name[demo.contact_name] if demo.contact_name else None,
            ),
        )


# (brand, account, end customer, channel from position 1, statuses to walk through). A step
# starting with "+" bills instead (`_bill`): "+invoice" every unbilled line, "+deposit" the first
# line only, "+credit" credits the last invoice in full, "+pay" / "+pay-half" records a payment of
# what the last invoice asks, or half of it; "@-N" dates it N days ago.
DEMO_ORDERS: Final[tuple[tuple[Any, ...], ...]] = (
    (
        "CC",
        "Agent Jansen Verkoop",
        "Eva de Vries",
        [
            "Agent Jansen Verkoop",
            "Snellader Service Haren",
            "Laadpunt Groningen",
            "Voltara Regio Noord",
            "Voltara Distribution B.V.",
        ],
        ["quoted", "accepted", "scheduled"],
    ),
    ("CC", "Laadpunt Groningen", "Joris Jansen", ["Laadpunt Groningen", "Voltara Regio Noord"], ["quoted"]),
    (
        "CC",
        "Voltara Regio Zuid",
        "Anouk Willems",
        ["Voltara Regio Zuid", "Voltara Distribution B.V."],
        [
            "quoted",
            "intake",
            "quoted",
            "accepted",
            "scheduled",
            "installing",
            "installed",
            "+invoice@-20",
            "+paid",
            "invoiced",
            "completed",
        ],  # fmt: skip
    ),
    ("CC", "Groendus", None, ["Groendus Dealer Utrecht", "Groendus"], ["cancelled"]),
    (
        "LT",
        "Eneco",
        None,
        ["Eneco Thuisladen West", "Eneco"],
        ["quoted", "accepted", "+invoice@-9", "+credit", "+invoice"],
    ),
    ("MKT", "Alva", None, ["Alva Meterkast Service", "Alva"], ["+deposit@-40"]),
    ("ZS", "50five", None, ["50five Webshop Dealer", "50five"], ["paid", "+invoice@-3", "+pay", "shipped"]),
    ("RS", "Essent", None, [], ["paid"]),
    (
        "CC",
        "Snellader Service Haren",
        "Joris Jansen",
        ["Snellader Service Haren", "Laadpunt Groningen", "Voltara Regio Noord", "Voltara Distribution B.V."],
        [
            "quoted",
            "accepted",
            "+deposit@-30",
            "+paid",
            "scheduled",
            "installing",
            "installed",
            "+invoice@-2",
            "+partially_paid",
            "invoiced",
            "completed",
        ],  # fmt: skip
    ),
)
# Commission statuses to walk, per order (by its index above) and level: one paid, one approved.
DEMO_COMMISSIONS: Final = {2: {1: ["approved", "paid"], 2: ["approved"]}}


# (sku, name, unit, unit price excl. VAT, VAT %), per brand
CATALOGUE: Final = {
    "CC": [
        ("CC-WB11", "Wallbox 11 kW, 3-phase", "piece", "899.00", "21"),
        ("CC-WB22", "Wallbox 22 kW with load balancing", "piece", "1249.00", "21"),
        ("CC-INST-STD", "Standard installation (up to 10 m)", "piece", "495.00", "21"),
        ("CC-CBL-6", "Cable 5x6 mm2", "metre", "12.35", "21"),
    ],
    "LT": [
        ("LT-WB7", "Home charger 7.4 kW", "piece", "649.00", "21"),
        ("LT-INST", "Installation package", "piece", "445.00", "21"),
        ("LT-CBL-4", "Cable 3x4 mm2", "metre", "8.95", "21"),
    ],
    "MKT": [
        ("MKT-UPG-3F", "Meter cabinet upgrade to 3-phase", "piece", "1150.00", "21"),
        ("MKT-GRP", "Extra group with RCD", "piece", "185.00", "21"),
    ],
    "ZS": [("ZS-GO2", "Zaptec Go 2", "piece", "749.00", "21"), ("ZS-PRO", "Zaptec Pro", "piece", "1095.00", "21")],
    "RS": [("RS-IO6", "Ratio io6", "piece", "1175.00", "21"), ("RS-MNT", "Mounting pole", "piece", "289.00", "21")],
}


async def _seed_catalogue(session: AsyncSession, brands: dict[str, uuid.UUID]) -> dict[str, Article]:
    articles = {}
    for brand, items in CATALOGUE.items():
        for sku, name, unit, price, vat in items:
            article = Article(
                business_entity_id=brands[brand],
                sku=sku,
                name=name,
                unit=unit,
                unit_price=Decimal(price),
                vat_rate=Decimal(vat),
            )
            session.add(article)
            articles[sku] = article
    await session.flush()
    return articles


DEMO_PARTNER_CODES: Final = {"ESS-WB11": "CC-WB11", "ESS-WB22": "CC-WB22", "ESS-INSTALL": "CC-INST-STD"}
"""Essent's product codes in the demo (docs/integration.md uses them)."""


async def _seed_partner_integration(
    session: AsyncSession, brands: dict[str, uuid.UUID], by_name: dict[str, uuid.UUID], articles: dict[str, Article]
) -> None:
    """Essent sends its orders through the partner API (its webhook endpoint is left to set)."""
    await partners.create_integration(
        session=session,
        organization_id=by_name["Essent"],
        integration_in=partners.IntegrationIn(
            business_entity_id=brands["CC"],
            events=["order.created", "order.status_changed", "order.hold_placed", "order.hold_resumed"],
            status_mapping={"quoted": "OFFERTE", "accepted": "AKKOORD", "scheduled": "INGEPLAND",
                            "installed": "GEINSTALLEERD", "completed": "AFGEROND"},
            products={code: articles[sku].id for code, sku in DEMO_PARTNER_CODES.items()},
        ),
        actor=DEMO_ACTOR,
    )  # fmt: skip


# (event, language, subject, text body): every brand gets them (docs/notifications.md)
TEMPLATES: Final = (
    ("order.status:quoted", "nl", "Uw offerte voor bestelling {{ order_number }}",
     "Beste {{ recipient_name }},\n\nUw offerte voor bestelling {{ order_number }} staat klaar.\n\n{{ brand_name }}"),
    ("order.status:quoted", "en", "Your quote for order {{ order_number }}",
     "Dear {{ recipient_name }},\n\nYour quote for order {{ order_number }} is ready.\n\n{{ brand_name }}"),
    ("order.status:scheduled", "nl", "Installatie ingepland: {{ order_number }}",
     "Beste {{ recipient_name }},\n\nDe installatie voor bestelling {{ order_number }} is ingepland."
     "\n\n{{ brand_name }}"),
    ("order.status:scheduled", "en", "Installation scheduled: {{ order_number }}",
     "Dear {{ recipient_name }},\n\nThe installation for order {{ order_number }} has been scheduled."
     "\n\n{{ brand_name }}"),
    ("order.status:installed", "nl", "Uw laadpunt is geïnstalleerd ({{ order_number }})",
     "Beste {{ recipient_name }},\n\nUw laadpunt is geïnstalleerd. Veel laadplezier!\n\n{{ brand_name }}"),
    ("order.status:installed", "en", "Your charger is installed ({{ order_number }})",
     "Dear {{ recipient_name }},\n\nYour charger has been installed. Happy charging!\n\n{{ brand_name }}"),
    ("order.status:shipped", "nl", "Verzonden: {{ order_number }}",
     "Beste {{ recipient_name }},\n\nBestelling {{ order_number }} is verzonden.\n\n{{ brand_name }}"),
    ("order.status:shipped", "en", "Shipped: {{ order_number }}",
     "Dear {{ recipient_name }},\n\nOrder {{ order_number }} has been shipped.\n\n{{ brand_name }}"),
    ("order.hold_placed", "nl", "Bestelling {{ order_number }} staat even stil",
     "Beste {{ recipient_name }},\n\nBestelling {{ order_number }} wacht ({{ hold_reason }})."
     "{% if resume_date %} We verwachten verder te gaan op {{ resume_date }}.{% endif %}\n\n{{ brand_name }}"),
    ("order.hold_placed", "en", "Order {{ order_number }} is on hold",
     "Dear {{ recipient_name }},\n\nOrder {{ order_number }} is waiting ({{ hold_reason }})."
     "{% if resume_date %} We expect to resume on {{ resume_date }}.{% endif %}\n\n{{ brand_name }}"),
    ("order.hold_resumed", "nl", "Bestelling {{ order_number }} gaat weer verder",
     "Beste {{ recipient_name }},\n\nWe gaan verder met bestelling {{ order_number }}.\n\n{{ brand_name }}"),
    ("order.hold_resumed", "en", "Order {{ order_number }} is back in progress",
     "Dear {{ recipient_name }},\n\nWork on order {{ order_number }} has resumed.\n\n{{ brand_name }}"),
    ("order.sla_breached", "nl", "Te laat: {{ order_number }} ({{ status_label }})",
     "Bestelling {{ order_number }} staat sinds {{ deadline }} te lang in {{ status_label }}. "
     "Er staat een taak voor je klaar."),
    ("order.hold_escalated", "nl", "Escalatie: {{ order_number }} wacht nog ({{ hold_reason }})",
     "Bestelling {{ order_number }} staat nog stil op de escalatiedatum {{ escalation_date }}. "
     "Er staat een taak voor je klaar."),
)  # fmt: skip


async def _seed_templates(session: AsyncSession, brands: dict[str, uuid.UUID]) -> None:
    for brand in brands.values():
        for event, language, subject, body in TEMPLATES:
            await notifications.save_template(
                session=session,
                template_in=TemplateIn(
                    business_entity_id=brand, event=event, language=language, subject=subject, body_text=body
                ),
                actor=DEMO_ACTOR,
            )


async def _seed_hold(session: AsyncSession, brands: dict[str, uuid.UUID], by_name: dict[str, uuid.UUID]) -> None:
    """The quoted order of Joris Jansen waits for parts; he and the partners are told."""
    order_id = await session.scalar(
        select(Order.id).where(
            Order.business_entity_id == brands["CC"],
            Order.end_customer_contact_id == by_name["Joris Jansen"],
            Order.status == "quoted",
        )
    )
    assert order_id is not None
    await holds.place_on_hold(
        session=session,
        order_id=order_id,
        hold_in=holds.HoldIn(
            reason_category=HoldReason.AWAITING_PARTS,
            details="The 22 kW wallbox is back in stock next week.",
            estimated_resume_date=datetime.now(UTC).date() + timedelta(days=10),
            notify_customer=True,
            notify_partner=True,
        ),
        actor=DEMO_ACTOR,
    )


async def _seed_orders(
    session: AsyncSession, brands: dict[str, uuid.UUID], by_name: dict[str, uuid.UUID], articles: dict[str, Article]
) -> None:
    for index, (brand, account, end_customer, channel, statuses) in enumerate(DEMO_ORDERS):
        order = await orders.create(
            session=session,
            actor=DEMO_ACTOR,
            viewer=STAFF,
            order_in=OrderCreate(
                business_entity_id=brands[brand],
                account_contact_id=by_name[account],
                end_customer_contact_id=by_name[end_customer] if end_customer else None,
                channel_contact_ids=[by_name[name] for name in channel],
            ),
        )
        for position, article in enumerate(a for a in articles.values() if a.business_entity_id == brands[brand]):
            quantity = Decimal(8 if article.unit == "metre" else 1)
            await lines.add_line(
                session=session,
                order_id=order.id,
                actor=DEMO_ACTOR,
                line_in=LineIn(
                    article_id=article.id,
                    quantity=quantity,
                    discount_percent=Decimal(5) if position == 0 else Decimal(0),
                ),
            )
        await _walk(session, EntityType.ORDER, order.id, statuses)
        by_level = {
            c.level: c.id
            for c in (await commissions.of_orders_many(session=session, order_ids=[order.id], viewer=STAFF)).get(
                order.id, []
            )
        }
        for level, commission_statuses in DEMO_COMMISSIONS.get(index, {}).items():
            await _walk(session, EntityType.PARTNER_COMMISSION, by_level[level], commission_statuses)


async def _bill(session: AsyncSession, order_id: uuid.UUID, step: str) -> None:
    action, _, days_ago = step.partition("@")
    issued = finance.today() + timedelta(days=int(days_ago or 0))
    if action in ("invoice", "deposit"):
        first_line = (await lines.lines_of_many(session=session, order_ids=[order_id]))[order_id][0]
        request = InvoiceRequest(
            order_id=order_id, line_ids=[first_line.id] if action == "deposit" else None, issue_date=issued
        )
        await finance.generate_invoice(session=session, request=request, actor=DEMO_ACTOR)
        return
    documents = (await finance.of_orders_many(session=session, order_ids=[order_id], viewer=STAFF))[order_id]
    last = [d for d in documents if d.kind is InvoiceKind.INVOICE][-1]
    if action == "credit":
        credit = CreditRequest(invoice_id=last.id, reason="Wrong charger model billed", issue_date=issued)
        await finance.credit_invoice(session=session, request=credit, actor=DEMO_ACTOR)
        return
    owed = (await finance.owed_now(session, last.id)).open
    amount = owed if action == "pay" else totals.money(owed / 2)
    payment = PaymentIn(
        business_entity_id=last.business_entity_id,
        amount=amount,
        paid_on=issued,
        method=PaymentMethod.IDEAL if action == "pay" else PaymentMethod.BANK_TRANSFER,
        reference=last.number,
        payer_name=last.buyer.get("name"),
        contact_id=last.account_contact_id,
        allocations=[AllocationIn(last.id, amount)],
    )
    await payments.record_payment(session=session, payment_in=payment, actor=DEMO_ACTOR)


async def _walk(session: AsyncSession, entity_type: EntityType, entity_id: uuid.UUID, statuses: list[str]) -> None:
    for status in statuses:
        if status.startswith("+"):
            await _bill(session, entity_id, status[1:])
            continue
        await engine.change_status(
            session=session,
            entity_type=entity_type.value,
            entity_id=entity_id,
            to_status=status,
            actor=DEMO_ACTOR,
            reason="demo data",
        )


async def issue_demo_tokens(
    *, session: AsyncSession, kept: dict[str, str] | None = None
) -> list[tuple[DemoAccount, str]]:
    """A token for each demo account that exists: the one in `kept` (by e-mail) while it is still
    valid for that account, so GraphiQL's stored header keeps working across restarts; otherwise
    a fresh one, revoking the ones issued before."""
    issued = []
    for demo in DEMO_ACCOUNTS:
        account = await session.scalar(select(UserAccount).where(UserAccount.email == demo.email))
        if account is None:
            continue
        raw = (kept or {}).get(demo.email)
        if not (raw and await accounts.holds_token(session=session, account_id=account.id, raw_token=raw)):
            await accounts.revoke_labelled(session=session, account_id=account.id, label=DEMO_TOKEN_LABEL)
            _, raw = await accounts.issue_token(
                session=session, account_id=account.id, label=DEMO_TOKEN_LABEL, expires_at=None, actor=DEMO_ACTOR
            )
        issued.append((demo, raw))
    return issued


# --- a bank statement to import ----------------------------------------------------------------

_CAMT_ENTRY = """      <Ntry>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <BookgDt><Dt>{day}</Dt></BookgDt>
        <AcctSvcrRef>{reference}</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties>
          <RmtInf><Ustrd>{remittance}</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
"""
_CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>{key}</MsgId><CreDtTm>{day}T06:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{key}</Id>
      <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>
{entries}    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


async def demo_statement(*, session: AsyncSession, brand_code: str = "CC") -> str:
    """A CAMT.053 statement of today for the brand's account: what its first open invoice still
    asks, under its number (matched at once); half of the next one's (waits, suggested); and a
    transfer without a reference (waits). Importing it twice is refused the second time."""
    from xml.sax.saxutils import escape

    brand = await session.scalar(select(BusinessEntity).where(BusinessEntity.code == brand_code))
    if brand is None or brand.iban is None:
        raise ValueError(f"No brand {brand_code!r} with an account.")
    invoices = await finance.search(
        session=session,
        filter_in=finance.InvoiceFilter(
            kinds=(InvoiceKind.INVOICE,), business_entity_id=brand.id, statuses=("issued", "partially_paid")
        ),
        viewer=STAFF,
        offset=0,
        limit=2,
    )
    owed = await finance.owed_of_many(session=session, invoice_ids=[i.id for i in invoices])
    day = finance.today().isoformat()
    key = f"DEMO-{brand_code}-{day}"
    entries = []
    for index, invoice in enumerate(invoices):
        amount = owed[invoice.id].open if index == 0 else totals.money(owed[invoice.id].open / 2)
        payer, remittance = invoice.buyer.get("name") or "", f"Factuur {invoice.number}"
        entries.append((amount, payer, remittance))
    entries.append((Decimal("25.00"), "Onbekende betaler", "Bedankt!"))
    rendered = "".join(
        _CAMT_ENTRY.format(
            amount=f"{amount:.2f}", day=day, reference=f"{key}-{n}", payer=escape(payer), remittance=escape(remittance)
        )
        for n, (amount, payer, remittance) in enumerate(entries, start=1)
    )
    return _CAMT.format(key=key, day=day, iban=brand.iban, entries=rendered)


# --- field operations ------------------------------------------------------------------------------

INSTALLERS: Final = ("ChargeCars Installatie", (("Tim", "Smit"), ("Lotte", "Mulder")), "Team Noord")
CHECKLIST: Final = ("Mount the wallbox", "Pull the cable", "Connect in the meter cabinet", "Test and hand over")


def demo_photo(label: str) -> bytes:
    """A small JPEG standing in for a photo taken on site."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), (226, 232, 240))
    ImageDraw.Draw(image).text((16, 90), label, fill=(15, 23, 42))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


async def _visit_done(session: AsyncSession, visit_id: uuid.UUID) -> None:
    await _walk(session, EntityType.VISIT, visit_id, ["confirmed", "on_the_way", "on_site", "done"])


async def _seed_field_operations(
    session: AsyncSession, brands: dict[str, uuid.UUID], articles: dict[str, Article], store: DocumentStore
) -> None:
    """An installer organisation with two installers and a team; a quote inspected on site,
    revised and accepted into an order; that order's installation work order done (seals, record,
    photo), which moved the order to installed; and a planned installation visit with an open work
    order for the demo order that is scheduled."""
    organisation_name, people, team_name = INSTALLERS
    installer_org = await contacts.create(
        session=session,
        actor=DEMO_ACTOR,
        contact_in=ContactCreate(
            contact_type=ContactType.ORGANIZATION,
            display_name=organisation_name,
            contact_subtype="Installer",
            business_entity_id=brands["CC"],
            email="planning@installatie.chargecars.demo",
        ),
    )
    installers = [
        await contacts.create(
            session=session,
            actor=DEMO_ACTOR,
            contact_in=ContactCreate(
                contact_type=ContactType.PERSON,
                first_name=first,
                last_name=last,
                contact_subtype="Installer",
                parent_id=installer_org.id,
                email=_email(first, last, organisation_name),
                phone="+31 6 8765 4321",
            ),
        )
        for first, last in people
    ]
    team = await visits.create_team(
        session=session, name=team_name, installer_ids=[i.id for i in installers], actor=DEMO_ACTOR
    )
    by_name = {c.display_name: c.id for c in await session.scalars(select(Contact))}
    cc = {a.sku: a for a in articles.values() if a.business_entity_id == brands["CC"]}
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)

    # the quote: inspected on site, revised with what the inspection found, accepted
    quote = await quotes.create(
        session=session,
        quote_in=quotes.QuoteIn(
            business_entity_id=brands["CC"],
            account_contact_id=by_name["Laadpunt Groningen"],
            end_customer_contact_id=by_name["Eva de Vries"],
            channel_contact_ids=[by_name["Laadpunt Groningen"], by_name["Voltara Regio Noord"]],
            valid_until=quotes.today() + timedelta(days=30),
            lines=[
                LineIn(article_id=cc["CC-WB22"].id, quantity=Decimal(1)),
                LineIn(article_id=cc["CC-INST-STD"].id, quantity=Decimal(1)),
            ],
        ),
        actor=DEMO_ACTOR,
        viewer=STAFF,
    )
    inspection = await visits.schedule(
        session=session,
        visit_in=visits.VisitIn(
            quote_id=quote.id,
            visit_type=VisitType.INSPECTION,
            starts_at=today - timedelta(days=3, hours=-1),
            ends_at=today - timedelta(days=3, hours=-2),
            installer_ids=[installers[0].id],
            notes="Meter cabinet in the garage.",
        ),
        actor=DEMO_ACTOR,
    )
    await _visit_done(session, inspection.id)
    await visits.record_survey(
        session=session,
        visit_id=inspection.id,
        survey_in=visits.SurveyIn(
            meter_cabinet=MeterCabinet.NEEDS_UPGRADE,
            phases=3,
            main_fuse_amps=25,
            cable_length_m=Decimal("14.5"),
            mounting=Mounting.WALL,
            cable_route="Along the garage wall, through the crawl space to the meter cabinet.",
        ),
        actor=DEMO_ACTOR,
    )
    await _photo(session, store, "visit_id", inspection.id, "meter-cabinet.jpg", "meter cabinet", ["meter cabinet"])
    await _walk(session, EntityType.QUOTE, quote.id, ["sent"])
    revised = await quotes.revise(session=session, quote_id=quote.id, actor=DEMO_ACTOR)
    await quotes.change_draft(
        session=session,
        quote_id=revised.id,
        change=quotes.DraftChange(
            lines=[
                LineIn(article_id=cc["CC-WB22"].id, quantity=Decimal(1)),
                LineIn(article_id=cc["CC-INST-STD"].id, quantity=Decimal(1)),
                LineIn(article_id=cc["CC-CBL-6"].id, quantity=Decimal(15)),
                LineIn(description="Extra group with RCD in the meter cabinet", quantity=Decimal(1),
                       unit_price=Decimal("185.00"), vat_rate=Decimal(21)),
            ]
        ),
        actor=DEMO_ACTOR,
    )  # fmt: skip
    await _walk(session, EntityType.QUOTE, revised.id, ["sent"])
    order_id = await quotes.accept(session=session, quote_id=revised.id, actor=DEMO_ACTOR, viewer=STAFF)

    # its installation, done yesterday by both installers
    work_order = await work_orders.create(
        session=session,
        order_id=order_id,
        kind=WorkOrderKind.INSTALLATION,
        title="Install the 22 kW wallbox",
        tasks=CHECKLIST,
        actor=DEMO_ACTOR,
    )
    installation = await visits.schedule(
        session=session,
        visit_in=visits.VisitIn(
            order_id=order_id,
            work_order_id=work_order.id,
            visit_type=VisitType.INSTALLATION,
            starts_at=today - timedelta(days=1),
            ends_at=today - timedelta(days=1, hours=-4),
            team_id=team.id,
        ),
        actor=DEMO_ACTOR,
    )
    await _walk(session, EntityType.WORK_ORDER, work_order.id, ["in_progress"])
    await _visit_done(session, installation.id)
    checklist = await reads.visible_by(
        session, WorkOrderTask, WorkOrderTask.work_order_id, [work_order.id], STAFF, WorkOrderTask.position
    )
    for task in checklist[work_order.id]:
        await work_orders.set_task_done(session=session, task_id=task.id, done=True, actor=DEMO_ACTOR)
    await work_orders.record_installation(
        session=session,
        work_order_id=work_order.id,
        record_in=work_orders.InstallationIn(
            charger_make="Alfen",
            charger_model="Eve Single Pro-line 22 kW",
            serial_number="ACE0123456",
            meter_reading_kwh=Decimal("18234.6"),
            earth_resistance_ohm=Decimal("0.42"),
            insulation_resistance_mohm=Decimal("250.00"),
            rcd_trip_time_ms=Decimal("21.5"),
            tests_passed=True,
        ),
        actor=DEMO_ACTOR,
    )
    await work_orders.record_seals(
        session=session,
        work_order_id=work_order.id,
        removed=["GS-104233"],
        placed=["CC-S-000101", "CC-S-000102"],
        actor=DEMO_ACTOR,
    )
    await _photo(session, store, "work_order_id", work_order.id, "wallbox.jpg", "installed wallbox", ["wallbox"])
    await _walk(session, EntityType.WORK_ORDER, work_order.id, ["completed"])  # the order: installed

    # next week: the scheduled demo order's installation, planned for the team
    scheduled = await session.scalar(
        select(Order.id).where(Order.business_entity_id == brands["CC"], Order.status == "scheduled").limit(1)
    )
    if scheduled is not None:
        upcoming = await work_orders.create(
            session=session,
            order_id=scheduled,
            kind=WorkOrderKind.INSTALLATION,
            title="Install the wallbox",
            tasks=CHECKLIST,
            actor=DEMO_ACTOR,
        )
        monday = today + timedelta(days=7 - today.weekday())
        await visits.schedule(
            session=session,
            visit_in=visits.VisitIn(
                order_id=scheduled,
                work_order_id=upcoming.id,
                visit_type=VisitType.INSTALLATION,
                starts_at=monday + timedelta(days=1),
                ends_at=monday + timedelta(days=1, hours=4),
                team_id=team.id,
            ),
            actor=DEMO_ACTOR,
        )


async def _photo(
    session: AsyncSession,
    store: DocumentStore,
    column: str,
    parent_id: uuid.UUID,
    file_name: str,
    label: str,
    tags: list[str],
) -> None:
    await documents.upload(
        session=session,
        store=store,
        upload_in=documents.UploadIn(
            parent_column=column,
            parent_id=parent_id,
            file_name=file_name,
            data=demo_photo(label),
            category=DocumentCategory.PHOTO,
            tags=tags,
        ),
        max_bytes=get_settings().max_upload_bytes,
        actor=DEMO_ACTOR,
        viewer=STAFF,
    )
