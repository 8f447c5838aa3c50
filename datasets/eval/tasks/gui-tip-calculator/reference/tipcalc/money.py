"""Exact money arithmetic for the tip calculator (Decimal, two places), without Qt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

KOPECK = Decimal("0.01")
RUBLE = Decimal("1")


class BillError(ValueError):
    """The bill is not a usable amount (the message is shown to the user)."""


@dataclass(frozen=True)
class Split:
    """The result: tip, total and each person's share, in rubles with two places."""

    tip: Decimal
    total: Decimal
    per_person: Decimal


def parse_amount(text: str) -> Decimal:
    """An amount as people type it: "1 234,50", "1234.5", spaces between digit groups.

    Raises:
        BillError: not a number, negative, or more than two decimal places.

    """
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise BillError(f"«{text.strip()}» — не сумма")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise BillError(f"«{text.strip()}» — не сумма") from None
    if amount < 0:
        raise BillError("Сумма не может быть отрицательной")
    if amount != amount.quantize(KOPECK):
        raise BillError("В сумме не больше двух знаков после запятой")
    return amount.quantize(KOPECK)


def split(bill: Decimal, percent: int, people: int, round_up: bool) -> Split:
    """Tip (half-up to kopecks), total (optionally up to whole rubles), share (rounded up).

    Raises:
        BillError: people is less than 1 or percent is negative.

    """
    if people < 1 or percent < 0:
        raise BillError("Нужно хотя бы одного человека и неотрицательный процент")
    tip = (bill * percent / 100).quantize(KOPECK, rounding=ROUND_HALF_UP)
    total = bill + tip
    if round_up:
        total = total.quantize(RUBLE, rounding=ROUND_CEILING).quantize(KOPECK)
        tip = total - bill
    share = (total / people).quantize(KOPECK, rounding=ROUND_CEILING)
    return Split(tip=tip, total=total, per_person=share)


def format_amount(amount: Decimal) -> str:
    """``1 234 567,89``: two places, a space between thousands, a decimal comma."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",")
