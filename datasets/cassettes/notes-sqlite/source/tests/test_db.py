"""The storage layer: schema and migrations, every operation, search in any language."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from notes.db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    DatabaseError,
    NoteNotFoundError,
    NotesDB,
    clean_tags,
    default_db_path,
    escape_like,
)
from tests.conftest import FakeClock


@pytest.fixture
def db(db_path: Path, clock: FakeClock) -> Iterator[NotesDB]:
    with NotesDB(db_path, clock=clock) as database:
        yield database


def test_new_database_has_the_current_schema(db_path: Path) -> None:
    with NotesDB(db_path) as db:
        assert db.schema_version == SCHEMA_VERSION == 2
        assert db.count() == 0
    assert db_path.is_file()


def test_old_database_is_migrated_and_keeps_its_notes(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO notes (title, body, tags, created, updated)"
                 " VALUES ('Старая', 'текст', 'архив', '2020-01-01T00:00:00+00:00',"
                 " '2020-01-01T00:00:00+00:00')")
    conn.commit()
    conn.close()
    with NotesDB(db_path) as db:
        assert db.schema_version == 2
        assert [n.title for n in db.list_notes()] == ["Старая"]
    conn = sqlite3.connect(db_path)
    indexes = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'notes'")]
    conn.close()
    assert "notes_by_updated" in indexes


def test_newer_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(DatabaseError, match="newer version"):
        NotesDB(db_path)


def test_a_file_that_is_not_a_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match="not a usable notes database"):
        NotesDB(db_path)


def test_add_get_update_delete(db: NotesDB) -> None:
    note = db.add("  Купить   молоко ", "2 литра\nи хлеб", ["дом", "#Покупки", "дом"])
    assert note.id == 1
    assert note.title == "Купить молоко"
    assert note.body == "2 литра\nи хлеб"
    assert note.tags == ("дом", "Покупки")
    assert note.created == note.updated == "2024-05-01T09:01:00+00:00"
    assert db.get(1) == note

    changed = db.update(1, body="3 литра")
    assert (changed.title, changed.body, changed.tags) == ("Купить молоко", "3 литра",
                                                           ("дом", "Покупки"))
    assert changed.created == note.created
    assert changed.updated > note.updated

    cleared = db.update(1, tags=[])
    assert cleared.tags == ()
    assert db.delete([1]) == [cleared]
    with pytest.raises(NoteNotFoundError, match="no note with id 1"):
        db.get(1)


def test_ids_are_not_reused(db: NotesDB) -> None:
    first = db.add("one")
    db.delete([first.id])
    assert db.add("two").id == first.id + 1


def test_delete_is_all_or_nothing(db: NotesDB) -> None:
    db.add("keep me")
    with pytest.raises(NoteNotFoundError):
        db.delete([1, 42])
    assert db.count() == 1


def test_list_is_newest_first_and_filters_tags_in_any_case(db: NotesDB) -> None:
    db.add("a", tags=["Работа"])
    db.add("b", tags=["home"])
    db.add("c", tags=["работа, срочно"])
    db.update(1, body="touched")
    assert [n.title for n in db.list_notes()] == ["a", "c", "b"]
    assert [n.title for n in db.list_notes(tag="РАБОТА")] == ["a", "c"]
    assert [n.title for n in db.list_notes(tag="#срочно")] == ["c"]
    assert [n.title for n in db.list_notes(tag="раб")] == []
    assert [n.title for n in db.list_notes(limit=1)] == ["a"]


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_bad_titles_are_refused(db: NotesDB, title: str) -> None:
    with pytest.raises(ValueError, match="title"):
        db.add(title)
    assert db.count() == 0


def test_clean_tags() -> None:
    assert clean_tags(["a, b", " #c ", "A", "", ",,"]) == ("a", "b", "c")
    with pytest.raises(ValueError, match="longer than"):
        clean_tags(["t" * 51])


def test_search_ascii_ignores_case(db: NotesDB) -> None:
    db.add("Shopping list", "Milk")
    db.add("Work", "call BOB")
    assert [n.title for n in db.search("shopping")] == ["Shopping list"]
    assert [n.title for n in db.search("bob")] == ["Work"]
    assert db.search("nothing like this") == []


def test_search_is_case_insensitive_for_cyrillic(db: NotesDB) -> None:
    db.add("Заметка о встрече", "Обсудить ПЛАН на неделю")
    db.add("Другое", "совсем не то")
    db.add("ЗАМЕТКА капсом")
    assert [n.title for n in db.search("заметка")] == ["ЗАМЕТКА капсом", "Заметка о встрече"]
    assert [n.title for n in db.search("план")] == ["Заметка о встрече"]
    assert [n.title for n in db.search("ЗАМЕТКА")] == ["ЗАМЕТКА капсом", "Заметка о встрече"]


@pytest.mark.parametrize(("stored", "query"), [
    ("Straße", "STRASSE"), ("ΣΟΦΊΑ", "σοφία"), ("Ёлка", "ёлка"), ("ÉTÉ à Paris", "été"),
], ids=["german", "greek", "russian-yo", "french"])
def test_search_folds_case_in_other_languages(db: NotesDB, stored: str, query: str) -> None:
    db.add(stored)
    assert [n.title for n in db.search(query)] == [stored]


def test_search_looks_in_body_and_tags(db: NotesDB) -> None:
    db.add("first", "hidden word inside")
    db.add("second", tags=["Holiday"])
    assert [n.title for n in db.search("WORD")] == ["first"]
    assert [n.title for n in db.search("holiday")] == ["second"]


def test_search_treats_wildcards_literally(db: NotesDB) -> None:
    db.add("100% done")
    db.add("1000 things")
    db.add("snake_case")
    db.add("snakeXcase")
    assert [n.title for n in db.search("100%")] == ["100% done"]
    assert [n.title for n in db.search("_case")] == ["snake_case"]
    assert escape_like("a%b_c\\") == "a\\%b\\_c\\\\"


def test_empty_search_is_refused(db: NotesDB) -> None:
    with pytest.raises(ValueError, match="empty"):
        db.search("  ")


def test_default_path_is_under_home(isolated_home: Path) -> None:
    assert default_db_path() == isolated_home / ".notes" / "notes.db"


def test_environment_overrides_default_path(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("NOTES_DB", str(tmp_path / "elsewhere.db"))
    assert default_db_path() == tmp_path / "elsewhere.db"
