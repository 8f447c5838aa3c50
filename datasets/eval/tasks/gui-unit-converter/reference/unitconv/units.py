"""Unit tables and conversion, without any Qt."""

from __future__ import annotations

# Factors to the category's base unit (metre, kilogram): exact definitions.
LINEAR: dict[str, dict[str, float]] = {
    "Length": {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254,
               "ft": 0.3048, "mi": 1609.344},
    "Mass": {"g": 0.001, "kg": 1.0, "lb": 0.45359237, "oz": 0.45359237 / 16},
}
TEMPERATURE = ("°C", "°F", "K")
CATEGORIES = ("Length", "Mass", "Temperature")


class ConversionError(ValueError):
    """The value cannot be converted (the message is shown to the user)."""


def units_of(category: str) -> list[str]:
    """The unit symbols of a category, in display order."""
    if category == "Temperature":
        return list(TEMPERATURE)
    return list(LINEAR[category])


def parse_number(text: str) -> float:
    """A number typed by a person: a decimal point or comma, surrounding spaces allowed.

    Raises:
        ConversionError: the text is not a finite number.

    """
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise ConversionError("Not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConversionError("Not a finite number")
    return value


def _to_kelvin(value: float, unit: str) -> float:
    if unit == "°C":
        return value + 273.15
    if unit == "°F":
        return (value - 32) * 5 / 9 + 273.15
    return value


def _from_kelvin(kelvin: float, unit: str) -> float:
    if unit == "°C":
        return kelvin - 273.15
    if unit == "°F":
        return (kelvin - 273.15) * 9 / 5 + 32
    return kelvin


def convert(category: str, value: float, source: str, target: str) -> float:
    """Convert ``value`` from unit ``source`` to ``target`` of ``category``.

    Raises:
        ConversionError: a temperature below absolute zero.

    """
    if category == "Temperature":
        kelvin = _to_kelvin(value, source)
        if kelvin < -1e-9:
            raise ConversionError("Below absolute zero")
        return _from_kelvin(max(kelvin, 0.0), target)
    factors = LINEAR[category]
    return value * factors[source] / factors[target]


def format_number(value: float) -> str:
    """Ten significant digits, no float noise, no negative zero."""
    text = f"{value:.10g}"
    return "0" if text == "-0" else text
