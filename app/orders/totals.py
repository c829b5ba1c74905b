"""Order totals, computed the same way wherever they appear.

Money is Decimal end to end (NUMERIC in the database), in EUR. Rounding is half-up to the cent:
- a line's net = quantity × unit price × (1 − discount %), rounded;
- VAT per rate = the sum of that rate's line nets × rate, rounded (one rounding per rate, as on
  a Dutch invoice);
- gross = net + VAT; the commissionable net is the sum of the commissionable lines' nets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Protocol

CENT: Final = Decimal("0.01")
HUNDRED: Final = Decimal(100)
ZERO: Final = Decimal("0.00")


class PricedLine(Protocol):
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def discount_percent(self) -> Decimal: ...
    @property
    def vat_rate(self) -> Decimal: ...
    @property
    def is_commissionable(self) -> bool: ...


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(line: PricedLine) -> Decimal:
    return money(line.quantity * line.unit_price * (HUNDRED - line.discount_percent) / HUNDRED)


@dataclass(frozen=True, slots=True)
class VatAmount:
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    net: Decimal
    vat: tuple[VatAmount, ...]
    vat_total: Decimal
    gross: Decimal
    commissionable_net: Decimal


def compute(lines: Iterable[PricedLine]) -> Totals:
    base_by_rate: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    net = commissionable = ZERO
    for line in lines:
        amount = line_net(line)
        net += amount
        base_by_rate[line.vat_rate.normalize()] += amount
        if line.is_commissionable:
            commissionable += amount
    vat = tuple(
        VatAmount(rate=rate, base=base, amount=money(base * rate / HUNDRED))
        for rate, base in sorted(base_by_rate.items(), reverse=True)
    )
    vat_total = sum((v.amount for v in vat), ZERO)
    return Totals(net=net, vat=vat, vat_total=vat_total, gross=net + vat_total, commissionable_net=commissionable)
