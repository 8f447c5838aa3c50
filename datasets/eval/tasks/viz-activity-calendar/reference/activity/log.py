"""Reading the event log: a CSV with a ``date`` column and an optional ``count``."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path


class LogError(ValueError):
    """The log cannot be read; the message names the line and what is wrong."""


def read_counts(path: str | Path) -> dict[date, int]:
    """Events per day: each row counts ``count`` events (1 when empty); dates add up.

    Raises:
        LogError: the file cannot be read, has no ``date`` column, or a row is bad.

    """
    counts: dict[date, int] = {}
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if "date" not in (reader.fieldnames or []):
                raise LogError("в первой строке нет столбца date")
            for line, row in enumerate(reader, start=2):
                day_text = (row.get("date") or "").strip()
                count_text = (row.get("count") or "").strip()
                try:
                    day = date.fromisoformat(day_text)
                except ValueError:
                    raise LogError(f"строка {line}: дата «{day_text}» не в формате "
                                   "ГГГГ-ММ-ДД") from None
                try:
                    count = int(count_text) if count_text else 1
                except ValueError:
                    raise LogError(f"строка {line}: count «{count_text}» не целое число"
                                   ) from None
                if count < 0:
                    raise LogError(f"строка {line}: count не может быть отрицательным")
                counts[day] = counts.get(day, 0) + count
    except (OSError, UnicodeDecodeError) as exc:
        raise LogError(f"не удаётся прочитать {path}: {exc}") from exc
    return counts
