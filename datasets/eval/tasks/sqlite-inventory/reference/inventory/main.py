"""inventory --db FILE report OUT.csv: write the low-stock report as CSV."""

from __future__ import annotations

import argparse
import csv
import sqlite3
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inventory.store import Inventory

HEADER = ("sku", "name", "quantity", "reorder_level", "shortfall")


def write_report(inventory: Inventory, out: Path) -> int:
    """Write the low-stock CSV (UTF-8); return the number of items in it."""
    items = inventory.low_stock()
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for sku, name, quantity, level in items:
            writer.writerow((sku, name, quantity, level, level - quantity))
    return len(items)


def main(argv: list[str] | None = None) -> int:
    """0 on success, 1 when the database is missing or unreadable or OUT can't be written."""
    parser = argparse.ArgumentParser(prog="inventory", description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="the SQLite database")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="write the low-stock report")
    report.add_argument("out", type=Path, help="the CSV file to write")
    args = parser.parse_args(argv)
    if not args.db.is_file():
        print(f"inventory: no database at {args.db}", file=sys.stderr)
        return 1
    try:
        with Inventory(args.db) as inventory:
            count = write_report(inventory, args.out)
    except (sqlite3.Error, OSError) as exc:
        print(f"inventory: {exc}", file=sys.stderr)
        return 1
    print(f"{count} item(s) at or below their reorder level written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
