"""Drawing the year grid with matplotlib."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from activity.grid import week_column, year_matrix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MONTHS = ("Янв", "Фев", "Мар", "Апр", "Май", "Июн", "Июл", "Авг", "Сен", "Окт", "Ноя", "Дек")
WEEKDAYS = {0: "Пн", 2: "Ср", 4: "Пт"}


def plot_year(counts: dict[date, int], year: int) -> Figure:
    """A Figure with the year's grid: brighter cells for more events, month and day labels."""
    import numpy as np
    from matplotlib.figure import Figure

    grid = year_matrix(counts, year)
    values = np.ma.masked_invalid(
        np.array([[np.nan if cell is None else cell for cell in row] for row in grid],
                 dtype=float))
    figure = Figure(figsize=(max(len(grid[0]) * 0.22, 6), 2.6), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(values, cmap="Greens", aspect="equal", vmin=0,
                        vmax=max(1, int(values.max() or 0)))
    axes.set_xticks([week_column(date(year, month, 1)) for month in range(1, 13)],
                    labels=list(MONTHS))
    axes.xaxis.tick_top()
    axes.set_yticks(list(WEEKDAYS), labels=list(WEEKDAYS.values()))
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.set_title(str(year), loc="left")
    figure.colorbar(image, ax=axes, shrink=0.8, label="событий")
    return figure
