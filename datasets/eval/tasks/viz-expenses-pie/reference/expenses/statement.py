"""Reading a bank statement (CSV with Дата;Категория;Сумма) into expenses per category."""

from __future__ import annotations

import csv
from pathlib import Path

SPACES = str.maketrans("", "", " \u00a0\u202f\t")


class StatementError(ValueError):
    """The statement cannot be read; the message names the line and what is wrong."""


def parse_amount(text: str) -> float:
    """A Russian-formatted amount: ``-1 250,50`` -> -1250.5 (spaces and NBSP are ignored).

    Raises:
        ValueError: the text is not a number.

    """
    cleaned = text.translate(SPACES).replace(",", ".").replace("\u2212", "-")
    if not cleaned:
        raise ValueError("empty amount")
    return float(cleaned)


def totals_by_category(path: str | Path) -> dict[str, float]:
    """Expenses (negative amounts, as positive numbers) summed per category, largest first.

    Categories are compared ignoring case and surrounding spaces; the name shown is the
    first spelling met. Income (positive amounts) is left out.

    Raises:
        StatementError: the file cannot be read, a column is missing or an amount is bad.

    """
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=";")
            header = [name.strip() for name in reader.fieldnames or []]
            reader.fieldnames = header
            for column in ("Категория", "Сумма"):
                if column not in header:
                    raise StatementError(f"в файле нет столбца «{column}» (строка 1)")
            names: dict[str, str] = {}
            totals: dict[str, float] = {}
            for line, row in enumerate(reader, start=2):
                try:
                    amount = parse_amount(row.get("Сумма") or "")
                except ValueError:
                    raise StatementError(f"строка {line}: не удаётся прочитать сумму "
                                         f"«{row.get('Сумма') or ''}»") from None
                if amount >= 0:
                    continue
                name = (row.get("Категория") or "").strip() or "Без категории"
                key = name.casefold()
                names.setdefault(key, name)
                totals[key] = totals.get(key, 0.0) - amount
    except (OSError, UnicodeDecodeError) as exc:
        raise StatementError(f"не удаётся прочитать {path}: {exc}") from exc
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    return {names[key]: round(total, 2) for key, total in ranked}
