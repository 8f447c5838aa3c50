"""csvstat FILE.csv [--column NAME ...] [--delimiter CHAR]: summary statistics of CSV columns."""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
from pathlib import Path

HEADER = ["столбец", "количество", "минимум", "максимум", "среднее", "медиана", "пропущено"]
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


class ReportError(Exception):
    """The report cannot be made; the message says why."""


def parse_number(text: str) -> float | None:
    """``3,5`` -> 3.5, ``1 200`` -> 1200.0; None when the cell is not a number."""
    cleaned = re.sub(r"\s", "", text).replace(",", ".")
    return float(cleaned) if NUMBER.fullmatch(cleaned) else None


def read_table(path: Path, delimiter: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file (UTF-8, optional BOM)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle, delimiter=delimiter))
    except FileNotFoundError:
        raise ReportError(f"файл не найден: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportError(f"не удалось прочитать {path}: {exc}") from None
    if not rows:
        raise ReportError(f"файл пуст: {path}")
    return [name.strip() for name in rows[0]], rows[1:]


def column_values(rows: list[list[str]], index: int) -> tuple[list[float], int]:
    """The numbers of one column and how many cells were skipped."""
    numbers: list[float] = []
    skipped = 0
    for row in rows:
        value = parse_number(row[index]) if index < len(row) else None
        if value is None:
            skipped += 1
        else:
            numbers.append(value)
    return numbers, skipped


def summary(name: str, numbers: list[float], skipped: int) -> list[str]:
    """One table row: name, count, min, max, mean, median, skipped."""
    values = [min(numbers), max(numbers), statistics.fmean(numbers), statistics.median(numbers)]
    return [name, str(len(numbers)), *(f"{value:.2f}" for value in values), str(skipped)]


def report(header: list[str], rows: list[list[str]], wanted: list[str]) -> list[list[str]]:
    """Table rows for the wanted columns (or every column holding a number)."""
    unknown = [name for name in wanted if name not in header]
    if unknown:
        raise ReportError(f"нет столбца {unknown[0]!r}; есть: {', '.join(header)}")
    table = []
    for name in wanted or header:
        numbers, skipped = column_values(rows, header.index(name))
        if numbers:
            table.append(summary(name, numbers, skipped))
        elif wanted:
            raise ReportError(f"в столбце {name!r} нет ни одного числа")
    if not table:
        raise ReportError("в файле нет числовых столбцов")
    return table


def render(rows: list[list[str]]) -> str:
    """The table, cells separated by `` | `` and padded to the column widths."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(" | ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                          strict=True)).rstrip()
                     for row in rows)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="csvstat", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--column", action="append", default=[], metavar="ИМЯ")
    parser.add_argument("--delimiter", default=",")
    args = parser.parse_args(argv)
    try:
        if len(args.delimiter) != 1:
            raise ReportError("разделитель должен быть одним символом")
        header, rows = read_table(args.file, args.delimiter)
        table = report(header, rows, args.column)
    except ReportError as exc:
        print(f"csvstat: ошибка: {exc}", file=sys.stderr)
        return 1
    print(render([HEADER, *table]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
