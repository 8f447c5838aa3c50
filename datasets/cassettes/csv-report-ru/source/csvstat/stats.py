"""Summaries of columns: count, minimum, maximum, mean, median and skipped cells."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from csvstat.numbers import parse_number


class ReportError(Exception):
    """The report cannot be made; the message is one sentence for the user (exit code 1)."""


@dataclass(frozen=True)
class ColumnSummary:
    """The statistics of one column; ``skipped`` counts empty and non-numeric cells."""

    name: str
    count: int
    minimum: float
    maximum: float
    mean: float
    median: float
    skipped: int


def median(values: Sequence[float]) -> float:
    """The middle value; for an even count, the mean of the two middle values.

    Raises:
        ValueError: ``values`` is empty.

    """
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def summarise(name: str, cells: Sequence[str]) -> ColumnSummary | None:
    """The summary of one column's cells, or None when no cell holds a number."""
    numbers = [value for value in map(parse_number, cells) if value is not None]
    if not numbers:
        return None
    return ColumnSummary(name=name, count=len(numbers), minimum=min(numbers),
                         maximum=max(numbers), mean=math.fsum(numbers) / len(numbers),
                         median=median(numbers), skipped=len(cells) - len(numbers))


def column_cells(rows: Sequence[Sequence[str]], index: int) -> list[str]:
    """The cells of one column; a row too short to have it counts as an empty cell."""
    return [row[index] if index < len(row) else "" for row in rows]


def report(header: Sequence[str], rows: Sequence[Sequence[str]],
           wanted: Sequence[str] = ()) -> list[ColumnSummary]:
    """Summaries of the ``wanted`` columns in that order, or of every numeric column.

    Raises:
        ReportError: a wanted column does not exist (the message lists the columns), a
            wanted column holds no number, or (nothing wanted) no column holds a number.

    """
    for name in wanted:
        if name not in header:
            raise ReportError(f"нет столбца «{name}»; есть: " + ", ".join(
                f"«{column}»" for column in header))
    summaries = []
    for name in wanted or header:
        summary = summarise(name, column_cells(rows, header.index(name)))
        if summary is not None:
            summaries.append(summary)
        elif wanted:
            raise ReportError(f"в столбце «{name}» нет ни одного числа")
    if not summaries:
        raise ReportError("в файле нет ни одного числового столбца")
    return summaries
