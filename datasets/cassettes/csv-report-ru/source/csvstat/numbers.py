"""Reading numbers the way Russian Excel writes them: ``3,5``, ``1 200``, ``-0,25``."""

from __future__ import annotations

import re

#: An optional sign, digits with an optional decimal part (after spaces are removed and a
#: decimal comma became a dot). No exponents, no NaN or infinity: those are not data here.
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
#: Spaces Excel puts between digit groups: ordinary, no-break (U+00A0), narrow (U+202F).
GROUP_SPACES = re.compile(r"[\s\u00a0\u202f]")


def parse_number(cell: str) -> float | None:
    """The number in a cell, or None when the cell is empty or not a number.

    >>> parse_number("1 200,50"), parse_number("-3"), parse_number("н/д")
    (1200.5, -3.0, None)
    """
    cleaned = GROUP_SPACES.sub("", cell).replace(",", ".")
    if not NUMBER.fullmatch(cleaned):
        return None
    return float(cleaned)
