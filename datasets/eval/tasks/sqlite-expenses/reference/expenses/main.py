"""expenses --db FILE add|month|year: a personal expenses tracker on SQLite.

Amounts are kept as whole kopecks (INTEGER), so sums are exact.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from contextlib import closing
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

TOTAL = "ИТОГО"
SCHEMA = """
CREATE TABLE IF NOT EXISTS expense (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL,                                 -- ISO date, YYYY-MM-DD
    amount_kop INTEGER NOT NULL CHECK (amount_kop > 0),
    category TEXT NOT NULL,                            -- lower case
    note TEXT NOT NULL DEFAULT ''
)
"""


class UsageError(ValueError):
    """A value on the command line is invalid; the message says which and why."""


def parse_amount(text: str) -> int:
    """'199,90' or '199.90' -> 19990 kopecks.

    Raises:
        UsageError: not a number, not positive, or more than two decimals.

    """
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise UsageError(f"сумма {text!r} — не число") from None
    if not value.is_finite() or value <= 0:
        raise UsageError(f"сумма должна быть больше нуля, а не {text!r}")
    if value >= 10**12 or value != value.quantize(Decimal("0.01")):  # a huge one can't be rounded
        raise UsageError(f"сумма {text!r} слишком большая" if value >= 10**12 else f"в сумме {text!r} больше двух знаков после запятой")
    return int(value * 100)


def parse_date(text: str, fmt: str = "%Y-%m-%d") -> str:
    """Validate a date (or a month, or a year, by ``fmt``) and return it unchanged.

    Raises:
        UsageError: not a real date in that format.

    """
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        shown = fmt.replace("%Y", "ГГГГ").replace("%m", "ММ").replace("%d", "ДД")
        raise UsageError(f"неверная дата {text!r}, нужен формат {shown}") from None
    return text


def money(kopecks: int) -> str:
    """19990 -> '199.90'."""
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def connect(path: Path) -> sqlite3.Connection:
    """Open (and create if needed) the database."""
    conn = sqlite3.connect(path)
    conn.execute(SCHEMA)
    return conn


def add(conn: sqlite3.Connection, amount: str, category: str, day: str | None,
        note: str) -> None:
    """Record one expense; validates everything before writing."""
    kopecks = parse_amount(amount)
    name = category.strip().lower()
    if not name:
        raise UsageError("категория не может быть пустой")
    day = parse_date(day) if day is not None else date.today().isoformat()
    with conn:
        conn.execute("INSERT INTO expense (day, amount_kop, category, note) VALUES (?, ?, ?, ?)",
                     (day, kopecks, name, note))


def month_report(conn: sqlite3.Connection, month: str) -> list[str]:
    """Lines `category sum`, largest first (ties alphabetical), then the total."""
    parse_date(month, "%Y-%m")
    rows = conn.execute(
        "SELECT category, SUM(amount_kop) AS total FROM expense"
        " WHERE substr(day, 1, 7) = ? GROUP BY category", (month,)).fetchall()
    rows.sort(key=lambda row: (-row[1], row[0]))
    lines = [f"{category} {money(total)}" for category, total in rows]
    return [*lines, f"{TOTAL} {money(sum(total for _, total in rows))}"]


def year_report(conn: sqlite3.Connection, year: str) -> list[str]:
    """Lines `YYYY-MM sum` for the months with expenses, in order, then the total."""
    parse_date(year, "%Y")
    rows = conn.execute(
        "SELECT substr(day, 1, 7) AS month, SUM(amount_kop) FROM expense"
        " WHERE substr(day, 1, 4) = ? GROUP BY month ORDER BY month", (year,)).fetchall()
    lines = [f"{month} {money(total)}" for month, total in rows]
    return [*lines, f"{TOTAL} {money(sum(total for _, total in rows))}"]


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="expenses", description="Учёт расходов в SQLite")
    parser.add_argument("--db", type=Path, required=True, help="файл базы SQLite")
    commands = parser.add_subparsers(dest="command", required=True)
    add_cmd = commands.add_parser("add", help="записать расход")
    add_cmd.add_argument("amount", help="сумма в рублях: 199.90 или 199,90")
    add_cmd.add_argument("category")
    add_cmd.add_argument("--date", help="ГГГГ-ММ-ДД, по умолчанию сегодня")
    add_cmd.add_argument("--note", default="")
    month_cmd = commands.add_parser("month", help="итоги за месяц по категориям")
    month_cmd.add_argument("month", help="ГГГГ-ММ")
    year_cmd = commands.add_parser("year", help="итоги года по месяцам")
    year_cmd.add_argument("year", help="ГГГГ")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 2 on bad input, 1 when the database fails."""
    args = build_parser().parse_args(argv)
    try:
        with closing(connect(args.db)) as conn:
            if args.command == "add":
                add(conn, args.amount, args.category, args.date, args.note)
                return 0
            report = month_report if args.command == "month" else year_report
            print("\n".join(report(conn, getattr(args, args.command))))
    except UsageError as exc:
        print(f"expenses: {exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:
        print(f"expenses: не удалось открыть базу {args.db}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
