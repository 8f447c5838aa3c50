"""The storage layer: validation, sorting, search in any language, deletion."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from contacts.db import (
    Contact,
    ContactBook,
    ContactNotFoundError,
    DatabaseError,
    InvalidContactError,
    clean_email,
)


def names(contacts: list[Contact]) -> list[str]:
    return [contact.name for contact in contacts]


def test_add_returns_increasing_ids_and_stores_fields(book: ContactBook) -> None:
    first = book.add("Анна Петрова", "+7 900 123-45-67", "anna@example.org")
    second = book.add("Bob")
    assert second.id > first.id
    assert book.all() == [second, first]  # "Bob" sorts before "Анна"
    assert (second.phone, second.email) == ("", "")


def test_file_and_folder_are_created(db_path: Path, book: ContactBook) -> None:
    book.add("Someone")
    assert db_path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_whitespace_in_fields_is_cleaned(book: ContactBook) -> None:
    contact = book.add("  Mary \t Ann\n Smith ", " +1  555\t0100 ", " mary@example.com ")
    assert (contact.name, contact.phone, contact.email) == (
        "Mary Ann Smith", "+1 555 0100", "mary@example.com")


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_empty_name_is_rejected(book: ContactBook, name: str) -> None:
    with pytest.raises(InvalidContactError, match="name is empty"):
        book.add(name)
    assert book.all() == []


@pytest.mark.parametrize("email", ["ann.example.org", "ann@", "@example.org", "a b@c.d",
                                   "a@b@c"])
def test_bad_email_is_rejected(email: str) -> None:
    with pytest.raises(InvalidContactError, match="not an email address"):
        clean_email(email)


def test_too_long_fields_are_rejected(book: ContactBook) -> None:
    with pytest.raises(InvalidContactError, match="longer than 200"):
        book.add("x" * 201)


def test_all_is_sorted_by_name_ignoring_case(book: ContactBook) -> None:
    for name in ("bob", "Alice", "Zoë", "carol", "ÉMILE", "émile"):
        book.add(name)
    assert names(book.all()) == ["Alice", "bob", "carol", "Zoë", "ÉMILE", "émile"]


def test_find_matches_name_phone_and_email_in_any_case(book: ContactBook) -> None:
    book.add("Анна Петрова", "555-0101")
    book.add("Zoë Smith", email="zoe@Example.org")
    book.add("Bob Stone")
    assert names(book.find("анна")) == ["Анна Петрова"]
    assert names(book.find("ПЕТРОВА")) == ["Анна Петрова"]
    assert names(book.find("zoë")) == ["Zoë Smith"]
    assert names(book.find("ZOË")) == ["Zoë Smith"]
    assert names(book.find("example.ORG")) == ["Zoë Smith"]
    assert names(book.find("0101")) == ["Анна Петрова"]
    assert names(book.find("o")) == ["Bob Stone", "Zoë Smith"]
    assert book.find("nobody") == []


def test_find_folds_german_sharp_s(book: ContactBook) -> None:
    book.add("Hans Straße")
    assert names(book.find("STRASSE")) == ["Hans Straße"]


def test_find_treats_wildcards_literally(book: ContactBook) -> None:
    for name in ("100% Juice Ltd", "a_b", "abc", "1000 Things"):
        book.add(name)
    assert names(book.find("%")) == ["100% Juice Ltd"]
    assert names(book.find("100%")) == ["100% Juice Ltd"]
    assert names(book.find("_")) == ["a_b"]


def test_find_rejects_empty_text(book: ContactBook) -> None:
    with pytest.raises(InvalidContactError, match="search text is empty"):
        book.find("  ")


def test_quotes_are_stored_safely(book: ContactBook) -> None:
    book.add("O'Brien; DROP TABLE contacts; --")
    assert names(book.find("o'brien")) == ["O'Brien; DROP TABLE contacts; --"]


def test_delete_removes_one_contact(book: ContactBook) -> None:
    keep = book.add("Keep")
    gone = book.add("Gone")
    book.delete(gone.id)
    assert book.all() == [keep]


def test_delete_unknown_id_raises_and_keeps_everything(book: ContactBook) -> None:
    book.add("Keep")
    with pytest.raises(ContactNotFoundError, match="no contact with id 999"):
        book.delete(999)
    assert names(book.all()) == ["Keep"]


def test_ids_are_not_reused_after_delete(book: ContactBook) -> None:
    first = book.add("First")
    book.delete(first.id)
    assert book.add("Second").id > first.id


def test_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just text, not SQLite\n" * 100, encoding="utf-8")
    with pytest.raises(DatabaseError, match="not a usable address book"):
        ContactBook(path)
    assert path.read_text(encoding="utf-8").startswith("just text")


def test_schema_version_is_recorded(db_path: Path, book: ContactBook) -> None:
    book.add("Someone")
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
    finally:
        conn.close()
