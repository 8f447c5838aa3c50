"""Command line: ``contacts --db PATH add|list|find|delete ...``.

Output: ``add`` prints the new id; ``list`` and ``find`` print ``ID<TAB>NAME<TAB>PHONE<TAB>EMAIL``
lines sorted by name ignoring case (nothing when there is no match). Exit codes: 0 done;
1 no contact with that id, or the database is unusable; 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from contacts import __version__
from contacts.db import (
    Contact,
    ContactBook,
    ContactsError,
    InvalidContactError,
)

PROG = "contacts"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def contact_id(value: str) -> int:
    """argparse type: a positive whole number."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a contact id: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a contact id: {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with the four commands."""
    parser = argparse.ArgumentParser(prog=PROG, description="An address book in SQLite.")
    parser.add_argument("--db", type=Path, required=True, metavar="PATH",
                        help="the address book file (created with its folder if missing)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = commands.add_parser("add", help="add a contact and print its id")
    add.add_argument("name")
    add.add_argument("--phone", default="", help="phone number (any format)")
    add.add_argument("--email", default="", help="email address (must contain @)")
    commands.add_parser("list", help="every contact, sorted by name")
    find = commands.add_parser("find", help="contacts whose name, phone or email contains TEXT")
    find.add_argument("text")
    delete = commands.add_parser("delete", help="delete the contact with this id")
    delete.add_argument("id", type=contact_id)
    return parser


def line(contact: Contact) -> str:
    """``ID<TAB>NAME<TAB>PHONE<TAB>EMAIL`` (fields never hold tabs: they are cleaned)."""
    return "\t".join((str(contact.id), contact.name, contact.phone, contact.email))


def show(contacts: Iterable[Contact]) -> None:
    """Print one line per contact."""
    for contact in contacts:
        print(line(contact))


def run(args: argparse.Namespace) -> None:
    """Carry out one command (errors propagate)."""
    with ContactBook(args.db) as book:
        if args.command == "add":
            print(book.add(args.name, args.phone, args.email).id)
        elif args.command == "list":
            show(book.all())
        elif args.command == "find":
            show(book.find(args.text))
        else:
            book.delete(args.id)
            print(f"Deleted contact {args.id}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except InvalidContactError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ContactsError, sqlite3.Error) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
