"""The report as a text table: cells separated by ``|``, numbers with two decimals and a dot."""

from __future__ import annotations

from collections.abc import Sequence

from csvstat.stats import ColumnSummary

HEADER = ("столбец", "количество", "минимум", "максимум", "среднее", "медиана", "пропущено")


def fixed(value: float) -> str:
    """Two decimals with a dot; never "-0.00"."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def cells(summary: ColumnSummary) -> list[str]:
    """The row of one column."""
    return [summary.name, str(summary.count), fixed(summary.minimum), fixed(summary.maximum),
            fixed(summary.mean), fixed(summary.median), str(summary.skipped)]


def render_table(summaries: Sequence[ColumnSummary]) -> str:
    """Header, a rule, one row per column; names left-aligned, numbers right-aligned."""
    rows = [list(HEADER), *(cells(summary) for summary in summaries)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]

    def line(row: Sequence[str]) -> str:
        parts = [row[0].ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return " | ".join(parts)

    rule = "-+-".join("-" * width for width in widths)
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])
