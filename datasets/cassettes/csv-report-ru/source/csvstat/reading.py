"""Reading the CSV file: UTF-8 with or without BOM, a chosen one-character delimiter."""

from __future__ import annotations

import csv
from pathlib import Path

from csvstat.stats import ReportError


def read_table(path: Path, delimiter: str) -> tuple[list[str], list[list[str]]]:
    """The header (names stripped) and the data rows (blank lines skipped).

    Raises:
        ReportError: the file is missing, unreadable, not UTF-8, malformed or
            empty.

    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [row for row in csv.reader(handle, delimiter=delimiter) if row]
    except FileNotFoundError:
        raise ReportError(f"файл не найден: {path}") from None
    except IsADirectoryError:
        raise ReportError(f"{path} — это папка, а не файл") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path}: файл не в кодировке UTF-8") from None
    except OSError as exc:
        raise ReportError(f"не удалось прочитать {path}: {exc.strerror}") from None
    except csv.Error as exc:
        raise ReportError(f"{path}: ошибка формата CSV: {exc}") from None
    if not rows:
        raise ReportError(f"файл пуст: {path}")
    return [name.strip() for name in rows[0]], rows[1:]
