"""The address book: contacts in an SQLite file, validated, searchable in any language.

Every SQL statement is a constant with ``?`` or ``:name`` parameters. Case-insensitive
matching and sorting use Python's ``str.casefold`` (registered in the connection as
``fold``), because SQLite's own ``LIKE``, ``lower()`` and ``NOCASE`` fold ASCII letters only.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    name  TEXT NOT NULL CHECK (length(name) > 0),
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT ''
)
"""
SELECT_ALL = "SELECT id, name, phone, email FROM contacts ORDER BY fold(name), id"
SELECT_MATCHING = (
    "SELECT id, name, phone, email FROM contacts"
    " WHERE instr(fold(name), :needle) > 0 OR instr(fold(phone), :needle) > 0"
    " OR instr(fold(email), :needle) > 0"
    " ORDER BY fold(name), id")
SET_VERSION = "PRAGMA user_version = 1"
INSERT = "INSERT INTO contacts (name, phone, email) VALUES (?, ?, ?)"
DELETE = "DELETE FROM contacts WHERE id = ?"

MAX_FIELD = 200
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class ContactsError(Exception):
    """Base class of the address book's errors; the message is one sentence for the user."""


class InvalidContactError(ContactsError):
    """A name, phone or email that cannot be stored (exit code 2 at the command line)."""


class ContactNotFoundError(ContactsError):
    """No contact has the given id (exit code 1)."""


class DatabaseError(ContactsError):
    """The file is not a usable address book (exit code 1)."""


@dataclass(frozen=True)
class Contact:
    """One contact; ``phone`` and ``email`` are "" when not set."""

    id: int
    name: str
    phone: str = ""
    email: str = ""


def fold(text: str | None) -> str:
    """Case-fold for matching and sorting in any language ("Zoë" == "ZOË", "Анна" == "анна")."""
    return (text or "").casefold()


def clean_name(name: str) -> str:
    """Whitespace runs (tabs, newlines) become one space; raises if nothing is left."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidContactError("the name is empty")
    if len(cleaned) > MAX_FIELD:
        raise InvalidContactError(f"the name is longer than {MAX_FIELD} characters")
    return cleaned


def clean_phone(phone: str) -> str:
    """Whitespace runs become one space; any characters are allowed (+, -, brackets)."""
    cleaned = " ".join(phone.split())
    if len(cleaned) > MAX_FIELD:
        raise InvalidContactError(f"the phone is longer than {MAX_FIELD} characters")
    return cleaned


def clean_email(email: str) -> str:
    """"" stays ""; otherwise ``local@domain`` without spaces, or InvalidContactError."""
    cleaned = email.strip()
    if cleaned and not EMAIL.fullmatch(cleaned):
        raise InvalidContactError(f"not an email address: {cleaned!r} (expected name@domain)")
    if len(cleaned) > MAX_FIELD:
        raise InvalidContactError(f"the email is longer than {MAX_FIELD} characters")
    return cleaned


class ContactBook:
    """An address book in one SQLite file; use as a context manager to close it.

    Raises (on opening):
        DatabaseError: the file exists but is not an SQLite database, or its folder cannot
            be created.

    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path)
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseError(f"cannot open the address book {path}: {exc}") from None
        self._conn.create_function("fold", 1, fold, deterministic=True)
        try:
            with self._conn:
                self._conn.execute(SCHEMA)
                self._conn.execute(SET_VERSION)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise DatabaseError(f"{path} is not a usable address book: {exc}") from None

    def __enter__(self) -> ContactBook:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def add(self, name: str, phone: str = "", email: str = "") -> Contact:
        """Validate and store a contact; returns it with its new id.

        Raises:
            InvalidContactError: empty name, email without ``@``, a field over 200 characters.

        """
        contact = (clean_name(name), clean_phone(phone), clean_email(email))
        with self._conn:
            cursor = self._conn.execute(INSERT, contact)
        return Contact(int(cursor.lastrowid or 0), *contact)

    def all(self) -> list[Contact]:
        """Every contact, sorted by name ignoring case (then by id)."""
        return [Contact(*row) for row in self._conn.execute(SELECT_ALL)]

    def find(self, text: str) -> list[Contact]:
        """Contacts whose name, phone or email contains ``text``, ignoring case.

        ``%`` and ``_`` are ordinary characters. Raises InvalidContactError for empty text.
        """
        needle = fold(text.strip())
        if not needle:
            raise InvalidContactError("the search text is empty")
        rows = self._conn.execute(SELECT_MATCHING, {"needle": needle})
        return [Contact(*row) for row in rows]

    def delete(self, contact_id: int) -> None:
        """Remove one contact.

        Raises:
            ContactNotFoundError: no contact has that id (nothing is removed).

        """
        with self._conn:
            if self._conn.execute(DELETE, (contact_id,)).rowcount == 0:
                raise ContactNotFoundError(f"no contact with id {contact_id}")
