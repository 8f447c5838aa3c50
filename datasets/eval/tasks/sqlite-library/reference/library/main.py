"""library --db FILE COMMAND: a small lending library on SQLite."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from library.store import Book, Library, Refused


def iso_date(text: str) -> date:
    """argparse type: a real calendar date YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"неверная дата {text!r}, нужен формат ГГГГ-ММ-ДД") from None


def copies(text: str) -> int:
    """argparse type: a whole number of copies, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"число экземпляров должно быть не меньше 1: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line (argparse exits with code 2 on bad arguments)."""
    parser = argparse.ArgumentParser(prog="library", description="Школьная библиотека")
    parser.add_argument("--db", type=Path, required=True, help="файл базы SQLite")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("add-book", help="добавить книгу")
    cmd.add_argument("isbn")
    cmd.add_argument("title")
    cmd.add_argument("author")
    cmd.add_argument("--copies", type=copies, default=1)
    cmd = sub.add_parser("add-reader", help="записать читателя")
    cmd.add_argument("card")
    cmd.add_argument("name")
    for name, text in (("lend", "выдать книгу"), ("return", "вернуть книгу")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("isbn")
        cmd.add_argument("card")
        cmd.add_argument("--date", type=iso_date, default=None)
    sub.add_parser("books", help="все книги")
    cmd = sub.add_parser("search", help="поиск по названию и автору")
    cmd.add_argument("text")
    cmd = sub.add_parser("overdue", help="просроченные книги")
    cmd.add_argument("--date", type=iso_date, default=None)
    return parser


def book_line(book: Book) -> str:
    """ISBN, title, author, available/total, tab-separated."""
    return f"{book.isbn}\t{book.title}\t{book.author}\t{book.available}/{book.copies}"


def run(library: Library, args: argparse.Namespace) -> None:
    """Carry out one parsed command, printing its result."""
    today = getattr(args, "date", None) or date.today()
    if args.command == "add-book":
        library.add_book(args.isbn, args.title, args.author, args.copies)
    elif args.command == "add-reader":
        library.add_reader(args.card, args.name)
    elif args.command == "lend":
        print(library.lend(args.isbn, args.card, today).isoformat())
    elif args.command == "return":
        print(f"штраф {library.give_back(args.isbn, args.card, today)}")
    elif args.command in ("books", "search"):
        for book in library.books(args.text if args.command == "search" else None):
            print(book_line(book))
    else:
        for item in library.overdue(today):
            print(f"{item.card}\t{item.name}\t{item.isbn}\t{item.days}")


def main(argv: list[str] | None = None) -> int:
    """Run one command: 0 done, 1 refused or the database failed, 2 bad arguments."""
    args = build_parser().parse_args(argv)
    try:
        library = Library(args.db)
    except sqlite3.Error as exc:
        print(f"library: не удалось открыть базу {args.db}: {exc}", file=sys.stderr)
        return 1
    try:
        run(library, args)
    except Refused as exc:
        print(f"library: {exc}", file=sys.stderr)
        return 1
    finally:
        library.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
