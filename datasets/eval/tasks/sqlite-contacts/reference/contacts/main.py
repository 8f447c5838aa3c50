"""contacts --db PATH add|list|find|delete: an address book in an SQLite file."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT ''
)
"""
COLUMNS = "SELECT id, name, phone, email FROM contacts"

Row = tuple[int, str, str, str]


class UsageError(Exception):
    """Bad input from the user (exit code 2)."""


def connect(path: Path) -> sqlite3.Connection:
    """Open (and create) the database; ``fold`` is a Unicode-aware lower-case function."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.create_function("fold", 1, lambda text: (text or "").casefold(), deterministic=True)
    conn.execute(SCHEMA)
    return conn


def add(conn: sqlite3.Connection, name: str, phone: str, email: str) -> int:
    """Insert a contact after validating it; returns its id."""
    name = " ".join(name.split())
    if not name:
        raise UsageError("the name is empty")
    if email and "@" not in email:
        raise UsageError(f"not an email address: {email!r}")
    with conn:
        cursor = conn.execute("INSERT INTO contacts (name, phone, email) VALUES (?, ?, ?)",
                              (name, phone.strip(), email.strip()))
    return int(cursor.lastrowid or 0)


def sort_rows(rows: Iterable[Row]) -> list[Row]:
    """By name, ignoring case; then by id."""
    return sorted(rows, key=lambda row: (row[1].casefold(), row[0]))


def find(conn: sqlite3.Connection, text: str) -> list[Row]:
    """Contacts whose name, phone or email contains ``text`` (any case, literal)."""
    needle = text.casefold()
    rows = conn.execute(COLUMNS + " WHERE instr(fold(name), ?) > 0 OR instr(fold(phone), ?) > 0"
                        " OR instr(fold(email), ?) > 0", (needle, needle, needle))
    return sort_rows(rows)


def delete(conn: sqlite3.Connection, contact_id: int) -> None:
    """Remove one contact; LookupError if there is none with that id."""
    with conn:
        if conn.execute("DELETE FROM contacts WHERE id = ?", (contact_id,)).rowcount == 0:
            raise LookupError(f"no contact with id {contact_id}")


def show(rows: Iterable[Row]) -> None:
    """Print ``ID<TAB>NAME<TAB>PHONE<TAB>EMAIL`` lines."""
    for row in rows:
        print("\t".join(str(value) for value in row))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="contacts", description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    adding = commands.add_parser("add")
    adding.add_argument("name")
    adding.add_argument("--phone", default="")
    adding.add_argument("--email", default="")
    commands.add_parser("list")
    finding = commands.add_parser("find")
    finding.add_argument("text")
    deleting = commands.add_parser("delete")
    deleting.add_argument("id", type=int)
    args = parser.parse_args(argv)
    try:
        conn = connect(args.db)
        try:
            if args.command == "add":
                print(add(conn, args.name, args.phone, args.email))
            elif args.command == "list":
                show(sort_rows(conn.execute(COLUMNS)))
            elif args.command == "find":
                show(find(conn, args.text))
            else:
                delete(conn, args.id)
        finally:
            conn.close()
    except UsageError as exc:
        print(f"contacts: error: {exc}", file=sys.stderr)
        return 2
    except (LookupError, OSError, sqlite3.Error) as exc:
        print(f"contacts: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
