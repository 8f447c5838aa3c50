"""Reading one numeric column of a CSV file (semicolon or comma separated)."""

from __future__ import annotations

import csv
from pathlib import Path


class ColumnError(ValueError):
    """The column is missing or holds no numbers; the message says what to fix."""


def detect_delimiter(first_line: str) -> str:
    """``;`` for Excel-style files (more semicolons than commas in the header), else ``,``."""
    return ";" if first_line.count(";") > first_line.count(",") else ","


def parse_number(text: str, decimal_comma: bool) -> float | None:
    """The cell as a float, or None when it is empty or not a number."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if decimal_comma:
        cleaned = cleaned.replace(",", ".")
    try:
        return float(cleaned) if cleaned else None
    except ValueError:
        return None


def read_column(path: Path, column: str) -> tuple[list[float], int]:
    """The numbers of one column and how many cells were skipped (empty or not numbers).

    Raises:
        ColumnError: the file cannot be read, the column is missing or has no numbers.

    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ColumnError(f"не удаётся прочитать {path}: {exc}") from exc
    lines = text.splitlines()
    if not lines:
        raise ColumnError(f"файл {path} пуст")
    delimiter = detect_delimiter(lines[0])
    reader = csv.DictReader(lines, delimiter=delimiter)
    header = reader.fieldnames or []
    if column not in header:
        raise ColumnError(f"в файле нет столбца «{column}»; есть: {', '.join(header)}")
    values: list[float] = []
    skipped = 0
    for row in reader:
        number = parse_number(row.get(column) or "", decimal_comma=delimiter == ";")
        if number is None:
            skipped += 1
        else:
            values.append(number)
    if not values:
        raise ColumnError(f"в столбце «{column}» нет ни одного числа")
    return values, skipped
