"""The pie chart of expenses, with small categories merged into «Прочее»."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

OTHER = "Прочее"
SMALL_SHARE = 0.03


def group_small(totals: dict[str, float], share: float = SMALL_SHARE) -> dict[str, float]:
    """The totals with every category below ``share`` of the sum merged into «Прочее»."""
    whole = sum(totals.values())
    kept: dict[str, float] = {}
    other = 0.0
    for name, amount in totals.items():
        if whole > 0 and amount / whole < share:
            other += amount
        else:
            kept[name] = kept.get(name, 0.0) + amount
    if other:
        kept[OTHER] = kept.get(OTHER, 0.0) + other
    return kept


def percent(value: float) -> str:
    """A wedge's percentage with one decimal and a decimal comma: ``12,5%``."""
    return f"{value:.1f}%".replace(".", ",")


def pie_chart(totals: dict[str, float], title: str | None = None) -> Figure:
    """A Figure with one pie: a wedge per category (small ones merged), names and percents.

    Raises:
        ValueError: there are no positive amounts to draw.

    """
    shown = {name: amount for name, amount in group_small(totals).items() if amount > 0}
    if not shown:
        raise ValueError("нет расходов для диаграммы")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 7), layout="constrained")
    axes = figure.add_subplot()
    axes.pie(list(shown.values()), labels=list(shown), autopct=percent, startangle=90,
             counterclock=False, wedgeprops={"edgecolor": "white"})
    axes.set_aspect("equal")
    axes.set_title(title or f"Расходы: {sum(shown.values()):.2f}".replace(".", ","))
    return figure
