"""Numbers as Russian Excel writes them."""

from __future__ import annotations

import pytest

from csvstat.numbers import parse_number


@pytest.mark.parametrize(("cell", "value"), [
    ("3", 3.0), ("3,5", 3.5), ("3.5", 3.5), ("-0,25", -0.25), ("+7", 7.0),
    ("1 200", 1200.0), ("1\u00a0234\u00a0567,89", 1234567.89), ("12\u202f000", 12000.0),
    ("  42  ", 42.0), (",5", 0.5), ("5.", 5.0),
])
def test_numbers(cell: str, value: float) -> None:
    assert parse_number(cell) == value


@pytest.mark.parametrize("cell", ["", "   ", "н/д", "—", "-", "1,2,3", "1.2.3", "12 кг",
                                  "nan", "inf", "1e3", "0x10", "01.03.2024"])
def test_not_numbers(cell: str) -> None:
    assert parse_number(cell) is None
