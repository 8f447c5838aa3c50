"""The library's data: books, readers and loans in one SQLite file."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

LOAN_DAYS = 14
MAX_LOANS = 3
FINE_PER_DAY = 10  # roubles

SCHEMA = """
CREATE TABLE IF NOT EXISTS book (
    isbn TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    author TEXT NOT NULL,
    copies INTEGER NOT NULL CHECK (copies > 0)
);
CREATE TABLE IF NOT EXISTS reader (
    card TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS loan (
    id INTEGER PRIMARY KEY,
    isbn TEXT NOT NULL REFERENCES book(isbn),
    card TEXT NOT NULL REFERENCES reader(card),
    lent_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    returned_on TEXT
);
"""


class Refused(Exception):
    """The library refuses the operation; the message is the reason, for the reader."""


@dataclass(frozen=True)
class Book:
    """One title: ``available`` of ``copies`` copies are on the shelf."""

    isbn: str
    title: str
    author: str
    available: int
    copies: int


@dataclass(frozen=True)
class Overdue:
    """A loan past its due date by ``days`` days."""

    card: str
    name: str
    isbn: str
    days: int


class Library:
    """Books, readers and loans stored in the SQLite file ``path`` (created if missing)."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path)
        self._conn.executescript(SCHEMA)
        self._conn.create_function("casefold", 1, lambda s: s.casefold(), deterministic=True)

    def close(self) -> None:
        """Close the database."""
        self._conn.close()

    def add_book(self, isbn: str, title: str, author: str, copies: int) -> None:
        """Add ``copies`` copies; a known ISBN gets them added to its stock."""
        with self._conn:
            self._conn.execute(
                "INSERT INTO book (isbn, title, author, copies) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(isbn) DO UPDATE SET copies = copies + excluded.copies",
                (isbn, title, author, copies))

    def add_reader(self, card: str, name: str) -> None:
        """Register a reader. Raises Refused: the card number is taken."""
        try:
            with self._conn:
                self._conn.execute("INSERT INTO reader (card, name) VALUES (?, ?)", (card, name))
        except sqlite3.IntegrityError:
            raise Refused(f"читательский билет {card} уже выдан") from None

    def lend(self, isbn: str, card: str, today: date) -> date:
        """Lend a copy for LOAN_DAYS days and return the due date.

        Raises:
            Refused: unknown book or reader, no copy left, the reader's limit is reached,
                the reader has an overdue book or already has this one.

        """
        book = self._book(isbn)
        self._reader_name(card)
        if book.available <= 0:
            raise Refused(f"все экземпляры «{book.title}» на руках")
        loans = self._conn.execute(
            "SELECT isbn, due_on FROM loan WHERE card = ? AND returned_on IS NULL",
            (card,)).fetchall()
        if any(date.fromisoformat(due) < today for _, due in loans):
            raise Refused("у читателя есть просроченная книга, сначала её нужно вернуть")
        if any(held == isbn for held, _ in loans):
            raise Refused(f"у читателя уже есть «{book.title}»")
        if len(loans) >= MAX_LOANS:
            raise Refused(f"у читателя уже {MAX_LOANS} книги на руках")
        due = today + timedelta(days=LOAN_DAYS)
        with self._conn:
            self._conn.execute(
                "INSERT INTO loan (isbn, card, lent_on, due_on) VALUES (?, ?, ?, ?)",
                (isbn, card, today.isoformat(), due.isoformat()))
        return due

    def give_back(self, isbn: str, card: str, today: date) -> int:
        """Close the reader's loan of this book; return the fine in roubles.

        Raises:
            Refused: the reader does not hold this book.

        """
        row = self._conn.execute(
            "SELECT id, due_on FROM loan WHERE isbn = ? AND card = ? AND returned_on IS NULL",
            (isbn, card)).fetchone()
        if row is None:
            raise Refused(f"читатель {card} не брал книгу {isbn}")
        loan_id, due_on = row
        with self._conn:
            self._conn.execute("UPDATE loan SET returned_on = ? WHERE id = ?",
                               (today.isoformat(), loan_id))
        late_days = (today - date.fromisoformat(due_on)).days
        return max(late_days, 0) * FINE_PER_DAY

    def books(self, text: str | None = None) -> list[Book]:
        """Every book (or those whose title or author contains ``text``), by title."""
        query = ("SELECT b.isbn, b.title, b.author, b.copies - COUNT(l.id), b.copies"
                 " FROM book b LEFT JOIN loan l ON l.isbn = b.isbn AND l.returned_on IS NULL")
        params: tuple[str, ...] = ()
        if text is not None:
            query += (" WHERE instr(casefold(b.title), casefold(?)) > 0"
                      " OR instr(casefold(b.author), casefold(?)) > 0")
            params = (text, text)
        rows = self._conn.execute(query + " GROUP BY b.isbn", params).fetchall()
        return sorted((Book(*row) for row in rows),
                      key=lambda book: (book.title.casefold(), book.isbn))

    def overdue(self, today: date) -> list[Overdue]:
        """Open loans past their due date, the longest overdue first."""
        rows = self._conn.execute(
            "SELECT l.card, r.name, l.isbn, l.due_on FROM loan l JOIN reader r USING (card)"
            " WHERE l.returned_on IS NULL AND l.due_on < ?", (today.isoformat(),)).fetchall()
        found = [Overdue(card, name, isbn, (today - date.fromisoformat(due)).days)
                 for card, name, isbn, due in rows]
        return sorted(found, key=lambda item: (-item.days, item.card, item.isbn))

    def _book(self, isbn: str) -> Book:
        for book in self.books():
            if book.isbn == isbn:
                return book
        raise Refused(f"книги с ISBN {isbn} нет в библиотеке")

    def _reader_name(self, card: str) -> str:
        row = self._conn.execute("SELECT name FROM reader WHERE card = ?", (card,)).fetchone()
        if row is None:
            raise Refused(f"читателя с билетом {card} нет")
        return str(row[0])
