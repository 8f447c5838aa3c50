"""The year as a 7 x weeks grid (Monday first) and the longest run of active days."""

from __future__ import annotations

from datetime import date, timedelta


def week_column(day: date) -> int:
    """The column of ``day``: weeks since the week (Monday first) holding 1 January."""
    first = date(day.year, 1, 1)
    return ((day - first).days + first.weekday()) // 7


def year_matrix(counts: dict[date, int], year: int) -> list[list[int | None]]:
    """7 rows (Monday .. Sunday) x one column per week the year touches (53 or 54).

    Cells hold the day's count (0 when absent); cells outside ``year`` are None. Dates of
    other years in ``counts`` are ignored.
    """
    last = date(year, 12, 31)
    grid: list[list[int | None]] = [[None] * (week_column(last) + 1) for _ in range(7)]
    day = date(year, 1, 1)
    while day.year == year:
        grid[day.weekday()][week_column(day)] = counts.get(day, 0)
        day += timedelta(days=1)
    return grid


def longest_streak(counts: dict[date, int], year: int) -> int:
    """The most consecutive days of ``year`` with at least one event."""
    best = run = 0
    day = date(year, 1, 1)
    while day.year == year:
        run = run + 1 if counts.get(day, 0) > 0 else 0
        best = max(best, run)
        day += timedelta(days=1)
    return best
