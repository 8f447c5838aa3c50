"""Storage: the notes database (SQLite, schema versioned with ``PRAGMA user_version``).

Every query is a constant SQL string with ``?`` parameters. Matching that ignores case uses
``casefold``, a Python function registered on the connection, so it works in every language.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

ENV_DB = "NOTES_DB"
TITLE_MAX = 200
TAG_MAX = 50

#: Schema migrations; migration ``n`` (1-based) brings ``user_version`` from ``n-1`` to ``n``.
#: Each runs in one transaction, so a failed migration leaves the database as it was.
MIGRATIONS: tuple[str, ...] = (
    """
    BEGIN;
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    PRAGMA user_version = 1;
    COMMIT;
    """,
    """
    BEGIN;
    CREATE INDEX notes_by_updated ON notes (updated DESC, id DESC);
    PRAGMA user_version = 2;
    COMMIT;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class NotesError(Exception):
    """A failure the user should see as one clear message."""


class NoteNotFoundError(NotesError):
    """No note has the requested id."""

    def __init__(self, note_id: int) -> None:
        super().__init__(f"no note with id {note_id}")
        self.note_id = note_id


class DatabaseError(NotesError):
    """The database cannot be opened, is not a notes database, or is too new."""


@dataclass(frozen=True)
class Note:
    """One note. Times are ISO 8601 in UTC, e.g. ``2024-05-01T09:30:00+00:00``."""

    id: int
    title: str
    body: str
    tags: tuple[str, ...]
    created: str
    updated: str


def default_db_path() -> Path:
    """``$NOTES_DB`` if set, else ``~/.notes/notes.db``."""
    configured = os.environ.get(ENV_DB, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".notes" / "notes.db"


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


SQLValue = str | bytes | int | float | None


def casefold(value: SQLValue) -> SQLValue:
    """SQL function ``casefold(x)``: Unicode case folding of text; other values unchanged."""
    return value.casefold() if isinstance(value, str) else value


def escape_like(text: str) -> str:
    """``text`` as a literal inside a ``LIKE ... ESCAPE '\\'`` pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def clean_title(title: str) -> str:
    """A title on one line without surrounding spaces; empty or too long is an error."""
    cleaned = " ".join(title.split())
    if not cleaned:
        raise ValueError("the title is empty")
    if len(cleaned) > TITLE_MAX:
        raise ValueError(f"the title is longer than {TITLE_MAX} characters")
    return cleaned


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags split on commas, trimmed, without a leading ``#``, de-duplicated ignoring case."""
    result: list[str] = []
    seen: set[str] = set()
    for raw in tags:
        for part in raw.split(","):
            tag = " ".join(part.split()).lstrip("#").strip()
            if not tag:
                continue
            if len(tag) > TAG_MAX:
                raise ValueError(f"the tag {tag[:20]!r}... is longer than {TAG_MAX} characters")
            if tag.casefold() not in seen:
                seen.add(tag.casefold())
                result.append(tag)
    return tuple(result)


def _note(row: sqlite3.Row) -> Note:
    tags = tuple(tag for tag in str(row["tags"]).split(",") if tag)
    return Note(id=int(row["id"]), title=str(row["title"]), body=str(row["body"]), tags=tags,
                created=str(row["created"]), updated=str(row["updated"]))


class NotesDB:
    """The notes database at ``path`` (created, with its folder, when missing).

    Raises:
        DatabaseError: the file cannot be opened, is not a SQLite database, or was made by a
            newer version of this program.

    """

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = path
        self._clock = clock
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, timeout=10)
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseError(f"cannot open the database {path}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        self._conn.create_function("casefold", 1, casefold, deterministic=True)
        try:
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise DatabaseError(f"{path} is not a usable notes database: {exc}") from exc
        except DatabaseError:
            self._conn.close()
            raise

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> NotesDB:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    @property
    def schema_version(self) -> int:
        """The database's ``user_version``."""
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"{self.path} was created by a newer version of notes (schema {version};"
                f" this program knows up to {SCHEMA_VERSION})")
        for script in MIGRATIONS[version:]:
            try:
                self._conn.executescript(script)
            except sqlite3.Error:
                if self._conn.in_transaction:
                    self._conn.rollback()
                raise

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat(timespec="seconds")

    # ------------------------------------------------------------------ queries
    def add(self, title: str, body: str = "", tags: Iterable[str] = ()) -> Note:
        """Store a new note and return it.

        Raises:
            ValueError: the title is empty or too long, or a tag is too long.

        """
        clean = clean_title(title)
        tag_text = ",".join(clean_tags(tags))
        now = self._now()
        with self._conn:
            cursor = self._conn.execute(
                "INSERT INTO notes (title, body, tags, created, updated) VALUES (?, ?, ?, ?, ?)",
                (clean, body, tag_text, now, now))
        if cursor.lastrowid is None:  # pragma: no cover - an INSERT always sets it
            raise DatabaseError("the note was not stored")
        return self.get(cursor.lastrowid)

    def get(self, note_id: int) -> Note:
        """The note with ``note_id``.

        Raises:
            NoteNotFoundError: there is none.

        """
        row = self._conn.execute(
            "SELECT id, title, body, tags, created, updated FROM notes WHERE id = ?",
            (note_id,)).fetchone()
        if row is None:
            raise NoteNotFoundError(note_id)
        return _note(row)

    def list_notes(self, *, tag: str | None = None, limit: int | None = None) -> list[Note]:
        """Notes, most recently updated first; only those tagged ``tag`` (any case) if given."""
        wanted = (tag or "").strip().lstrip("#").casefold()
        rows = self._conn.execute(
            "SELECT id, title, body, tags, created, updated FROM notes"
            " WHERE ? = '' OR instr(',' || casefold(tags) || ',', ',' || ? || ',') > 0"
            " ORDER BY updated DESC, id DESC LIMIT ?",
            (wanted, wanted, -1 if limit is None else limit)).fetchall()
        return [_note(row) for row in rows]

    def all_notes(self) -> list[Note]:
        """Every note, oldest first (the export order)."""
        rows = self._conn.execute(
            "SELECT id, title, body, tags, created, updated FROM notes ORDER BY id").fetchall()
        return [_note(row) for row in rows]

    def search(self, text: str, *, limit: int | None = None) -> list[Note]:
        """Notes whose title, body or tags contain ``text``, ignoring case in any language.

        ``%`` and ``_`` in ``text`` match themselves. Most recently updated first.

        Raises:
            ValueError: ``text`` is empty.

        """
        needle = text.strip()
        if not needle:
            raise ValueError("the search text is empty")
        # LIKE alone folds ASCII letters only: fold both sides so "заметка" finds "Заметка".
        pattern = "%" + escape_like(needle.casefold()) + "%"
        rows = self._conn.execute(
            "SELECT id, title, body, tags, created, updated FROM notes"
            " WHERE casefold(title || char(10) || body || char(10) || tags) LIKE ? ESCAPE '\\'"
            " ORDER BY updated DESC, id DESC LIMIT ?",
            (pattern, -1 if limit is None else limit)).fetchall()
        return [_note(row) for row in rows]

    def update(self, note_id: int, *, title: str | None = None, body: str | None = None,
               tags: Iterable[str] | None = None) -> Note:
        """Change the given fields (``None`` keeps a field) and the update time.

        Raises:
            NoteNotFoundError: there is no such note.
            ValueError: the new title or a tag is invalid.

        """
        note = self.get(note_id)
        new_title = note.title if title is None else clean_title(title)
        new_body = note.body if body is None else body
        new_tags = note.tags if tags is None else clean_tags(tags)
        with self._conn:
            self._conn.execute(
                "UPDATE notes SET title = ?, body = ?, tags = ?, updated = ? WHERE id = ?",
                (new_title, new_body, ",".join(new_tags), self._now(), note_id))
        return self.get(note_id)

    def delete(self, note_ids: Iterable[int]) -> list[Note]:
        """Delete notes, all or none, and return them.

        Raises:
            NoteNotFoundError: one of the ids does not exist (nothing is deleted).

        """
        notes = [self.get(note_id) for note_id in dict.fromkeys(note_ids)]
        with self._conn:
            self._conn.executemany("DELETE FROM notes WHERE id = ?",
                                   [(note.id,) for note in notes])
        return notes

    def count(self) -> int:
        """How many notes there are."""
        return int(self._conn.execute("SELECT count(*) FROM notes").fetchone()[0])
