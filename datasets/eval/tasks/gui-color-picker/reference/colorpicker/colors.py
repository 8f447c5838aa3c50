"""Colour codes and WCAG contrast, without any Qt."""

from __future__ import annotations

import re

HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")

RGB = tuple[int, int, int]


def parse_hex(text: str) -> RGB:
    """``#RRGGBB``, ``RRGGBB`` or ``#RGB`` (any case) as (red, green, blue), each 0–255.

    Raises:
        ValueError: the text is not such a code (the message says what is expected).

    """
    match = HEX.fullmatch(text.strip())
    if not match:
        raise ValueError(f"«{text.strip()}» — не код цвета; нужно #RRGGBB или #RGB")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    red, green, blue = (int(digits[i:i + 2], 16) for i in (0, 2, 4))
    return red, green, blue


def to_hex(rgb: RGB) -> str:
    """(red, green, blue) as ``#RRGGBB`` in upper case."""
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance, 0 (black) to 1 (white)."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def best_text_colour(rgb: RGB) -> str:
    """"black" or "white": whichever has the higher WCAG contrast ratio on ``rgb``."""
    luminance = relative_luminance(rgb)
    on_black = (luminance + 0.05) / 0.05
    on_white = 1.05 / (luminance + 0.05)
    return "black" if on_black >= on_white else "white"
