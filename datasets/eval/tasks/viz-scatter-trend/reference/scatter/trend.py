"""The least-squares line through a set of points and its scatter plot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def fit_line(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """The least-squares line y = slope * x + intercept and its R².

    Returns:
        ``(slope, intercept, r2)``; r2 is 1.0 when every y is the same (a perfect flat fit).

    Raises:
        ValueError: fewer than two points, lists of different lengths, or all x equal.

    """
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} x values but {len(ys)} y values")
    if len(xs) < 2:
        raise ValueError("a trend line needs at least two points")
    n = len(xs)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("all x values are equal: the trend line would be vertical")
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    ss_tot = sum((y - mean_y) ** 2 for y in ys)
    ss_res = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1.0 if ss_tot == 0 else 1 - ss_res / ss_tot
    return slope, intercept, r2


def equation(slope: float, intercept: float) -> str:
    """The line as text with two decimals: ``y = 2.50x + 1.00``, ``y = -0.75x - 3.20``."""
    sign = "-" if intercept < 0 else "+"
    return f"y = {slope:.2f}x {sign} {abs(intercept):.2f}"


def scatter_plot(xs: Sequence[float], ys: Sequence[float], title: str | None = None
                 ) -> Figure:
    """A Figure with the points, the trend line over the data's x range and its equation.

    Raises:
        ValueError: see :func:`fit_line`.

    """
    slope, intercept, r2 = fit_line(xs, ys)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 5), layout="constrained")
    axes = figure.add_subplot()
    axes.scatter(xs, ys, s=18, alpha=0.8, label="data")
    ends = [min(xs), max(xs)]
    axes.plot(ends, [slope * x + intercept for x in ends], color="tab:red",
              label=f"{equation(slope, intercept)} (R² = {r2:.3f})")
    axes.legend()
    axes.grid(True, alpha=0.3)
    if title:
        axes.set_title(title)
    return figure
