"""The histogram figure: bars, axis labels, mean and median in the title."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def ru_number(value: float) -> str:
    """Two decimals with a decimal comma: 12.5 -> ``12,50``."""
    return f"{value:.2f}".replace(".", ",")


def build_histogram(values: Sequence[float], bins: int = 10, label: str = "Значение"
                    ) -> Figure:
    """A Figure with one Axes: ``bins`` bars over the range of ``values``.

    Raises:
        ValueError: ``values`` is empty or ``bins`` is below 1.

    """
    if not values:
        raise ValueError("нет значений для гистограммы")
    if bins < 1:
        raise ValueError("число интервалов должно быть не меньше 1")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5), layout="constrained")
    axes = figure.add_subplot()
    axes.hist(list(values), bins=bins, color="tab:blue", edgecolor="white")
    axes.set_xlabel(label)
    axes.set_ylabel("Количество")
    axes.set_title(f"Среднее: {ru_number(statistics.fmean(values))} · "
                   f"медиана: {ru_number(statistics.median(values))}")
    axes.grid(True, axis="y", alpha=0.3)
    return figure
