"""The chat store's SQLite tables: projects, chats and their messages (U1, U5, M1).

One file, ``<data_dir>/chats.sqlite``, with three tables:

- ``projects``: folders of chats (a name unique regardless of case);
- ``chats``: one row per chat (title, project, archived flag, times, ``head``: the message
  shown last; a new message becomes the head only when it continues the conversation shown,
  see :meth:`ChatDatabase.add_message`);
- ``messages``: every message of every chat, verbatim, each naming its ``parent_id`` (a chat
  is a tree; branches are siblings). ``seq`` (an integer growing with every insert) orders
  messages by creation; ``data`` is JSON text.

Search needs no extension: titles and message texts are also stored case-folded
(:func:`fold`: Python's ``str.casefold``, which knows every alphabet, unlike SQLite's
ASCII-only ``lower()``; ``ё`` is folded to ``е``), and a query matches with ``instr`` on those
copies, so any substring matches (``прив`` finds ``Привет``).

Safe for several threads (one connection per store, used by one thread at a time under a
lock) and several processes (WAL mode, writers take the lock up front with
``BEGIN IMMEDIATE`` and wait up to :data:`BUSY_TIMEOUT_S` for each other). The schema's
version lives in ``PRAGMA user_version`` (:mod:`memory.schema`); a file from a newer
MultiCoder is refused with :class:`ChatsSchemaError` and left as it is.

Rows are returned as plain dicts (:class:`ChatRow`, :class:`MessageRow`, :class:`ProjectRow`);
:mod:`graph.chats` turns them into the public models and owns the tree logic.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from memory.schema import Migration, migrate
from memory.schema import write_transaction as _write

__all__ = [
    "BUSY_TIMEOUT_S",
    "SCHEMA_VERSION",
    "BadMessageData",
    "ChatDatabase",
    "ChatRow",
    "ChatsSchemaError",
    "DuplicateProjectName",
    "MessageRow",
    "ProjectRow",
    "UnknownChat",
    "UnknownId",
    "UnknownMessage",
    "UnknownProject",
    "fold",
    "is_damage",
    "new_id",
]

BUSY_TIMEOUT_S = 30.0
"""How long a call waits for another process's write lock before ``sqlite3.OperationalError``."""

_DAMAGE_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB (primary result codes)


# -- errors -----------------------------------------------------------------------------------

class UnknownId(LookupError):
    """No row with this id.

    Attributes:
        what: ``chat``, ``project`` or ``message``.
        ident: the id that was asked for.

    """

    what = "row"

    def __init__(self, ident: str) -> None:
        super().__init__(f"no {self.what} '{ident}'")
        self.ident = ident


class UnknownChat(UnknownId):
    """No chat with this id."""

    what = "chat"


class UnknownProject(UnknownId):
    """No project with this id."""

    what = "project"


class UnknownMessage(UnknownId):
    """No message with this id (or not in the chat it was expected in)."""

    what = "message"


class DuplicateProjectName(ValueError):
    """Another project has this name already (names compare regardless of case).

    Attributes:
        name: the name asked for.

    """

    def __init__(self, name: str) -> None:
        super().__init__(f"a project named '{name}' exists already")
        self.name = name


class BadMessageData(ValueError):
    """A message's ``data`` cannot be stored as JSON (not a dict of JSON values, or NaN)."""


class ChatsSchemaError(RuntimeError):
    """The chats file was written by a newer MultiCoder (its schema version is unknown)."""


# -- rows -------------------------------------------------------------------------------------

class ProjectRow(TypedDict):
    """One project: ``project_id``, ``name``, ``created_at`` (ISO-8601 UTC)."""

    project_id: str
    name: str
    created_at: str


class ChatRow(TypedDict):
    """One chat; ``title`` is ``""`` until given or generated; ``head`` a message id or None."""

    chat_id: str
    title: str
    project_id: str | None
    archived: bool
    created_at: str
    updated_at: str
    head: str | None


class MessageRow(TypedDict):
    """One message; ``seq`` grows with every insert (creation order); ``data`` is parsed."""

    seq: int
    message_id: str
    chat_id: str
    parent_id: str | None
    role: str
    kind: str
    content: str
    data: dict[str, Any]
    run_id: str | None
    created_at: str


# -- schema -----------------------------------------------------------------------------------

def _create_tables(connection: sqlite3.Connection) -> None:
    connection.execute(
        "CREATE TABLE projects ("
        " project_id TEXT PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " name_fold TEXT NOT NULL UNIQUE,"
        " created_at TEXT NOT NULL)")
    connection.execute(
        "CREATE TABLE chats ("
        " chat_id TEXT PRIMARY KEY,"
        " title TEXT NOT NULL DEFAULT '',"
        " title_fold TEXT NOT NULL DEFAULT '',"
        " project_id TEXT REFERENCES projects (project_id) ON DELETE SET NULL,"
        " archived INTEGER NOT NULL DEFAULT 0,"
        " created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL,"
        " head TEXT)")
    connection.execute("CREATE INDEX chats_by_updated ON chats (archived, updated_at)")
    connection.execute("CREATE INDEX chats_by_project ON chats (project_id, updated_at)")
    connection.execute(
        "CREATE TABLE messages ("
        " seq INTEGER PRIMARY KEY,"
        " message_id TEXT NOT NULL UNIQUE,"
        " chat_id TEXT NOT NULL REFERENCES chats (chat_id) ON DELETE CASCADE,"
        " parent_id TEXT,"
        " role TEXT NOT NULL,"
        " kind TEXT NOT NULL,"
        " content TEXT NOT NULL,"
        " content_fold TEXT NOT NULL,"
        " data TEXT NOT NULL,"
        " run_id TEXT,"
        " created_at TEXT NOT NULL)")
    connection.execute("CREATE INDEX messages_by_chat ON messages (chat_id, seq)")
    connection.execute("CREATE INDEX messages_by_parent ON messages (chat_id, parent_id, seq)")
    connection.execute("CREATE INDEX messages_by_run ON messages (run_id)")


MIGRATIONS: tuple[Migration, ...] = (_create_tables,)
"""``MIGRATIONS[i]`` upgrades version ``i`` to ``i + 1``; append, never edit."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes."""


# -- helpers ----------------------------------------------------------------------------------

def fold(text: str) -> str:
    """``text`` as stored for search: case-folded (every alphabet), ``ё`` read as ``е``."""
    return text.casefold().replace("ё", "е")


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says the file is damaged or not a database (not: locked, unwritable)."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in _DAMAGE_CODES


def new_id() -> str:
    """A unique id that sorts by creation time (24 hex digits).

    14 hex digits of UTC microseconds, then 10 random ones (``0660d4c54cb7d88f9a2025bf``).
    """
    return f"{time.time_ns() // 1000:014x}{secrets.token_hex(5)}"


def _now() -> str:
    # Fixed width, so text order is time order.
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _dump(data: dict[str, Any]) -> str:
    if not isinstance(data, dict):
        raise BadMessageData(f"message data must be a dict, not {type(data).__name__}")
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BadMessageData(f"message data is not JSON: {exc}") from None


def _chat(row: sqlite3.Row) -> ChatRow:
    return ChatRow(chat_id=row["chat_id"], title=row["title"], project_id=row["project_id"],
                   archived=bool(row["archived"]), created_at=row["created_at"],
                   updated_at=row["updated_at"], head=row["head"])


def _project(row: sqlite3.Row) -> ProjectRow:
    return ProjectRow(project_id=row["project_id"], name=row["name"],
                      created_at=row["created_at"])


def _message(row: sqlite3.Row) -> MessageRow:
    return MessageRow(seq=row["seq"], message_id=row["message_id"], chat_id=row["chat_id"],
                      parent_id=row["parent_id"], role=row["role"], kind=row["kind"],
                      content=row["content"], data=json.loads(row["data"]),
                      run_id=row["run_id"], created_at=row["created_at"])


_CHAT_COLUMNS = "chat_id, title, project_id, archived, created_at, updated_at, head"
_MESSAGE_COLUMNS = ("seq, message_id, chat_id, parent_id, role, kind, content, data, run_id,"
                    " created_at")


def _batches(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    """``values`` in slices small enough for SQLite's limit on bound variables."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


@contextmanager
def _read(connection: sqlite3.Connection) -> Iterator[None]:
    """One snapshot for several SELECTs (another process may write in between otherwise)."""
    connection.execute("BEGIN")
    try:
        yield
    finally:
        with suppress(sqlite3.Error):
            connection.execute("COMMIT")


# -- the database -----------------------------------------------------------------------------

class ChatDatabase:
    """The chat tables at ``path`` (created with its folder, and migrated, when opened).

    Every method is safe to call from any thread; ids that do not exist raise the matching
    :class:`UnknownId` subclass. When opening fails, the connection is closed again (so the
    file can be moved aside).

    Args:
        path: the SQLite file.

    Raises:
        ChatsSchemaError: the file's schema is newer than this code's (left as it is).
        sqlite3.DatabaseError: the file is not a usable SQLite database (:func:`is_damage`
            tells a damaged file from one that cannot be opened or written).
        OSError: the folder cannot be created.

    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as connection:
                connection.execute("PRAGMA journal_mode=WAL")  # persistent: set once per file
                migrate(connection, MIGRATIONS, lambda version: ChatsSchemaError(
                    f"the chats file {path} has schema version {version}, newer than this"
                    f" MultiCoder's ({SCHEMA_VERSION}); upgrade MultiCoder"))
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"ChatDatabase({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                with suppress(sqlite3.Error):
                    connection.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """The store's connection, for the calling thread alone while the block runs."""
        with self._lock:
            if self._connection is None:
                # isolation_level=None: we issue BEGIN/COMMIT ourselves (autocommit otherwise).
                connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S,
                                             isolation_level=None, check_same_thread=False)
                connection.row_factory = sqlite3.Row
                connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000):d}")
                connection.execute("PRAGMA foreign_keys = ON")
                # WAL + NORMAL: a commit survives a crash of the app; a power cut may lose the
                # last commits, never consistency. Keeps adding a message well under 5 ms.
                connection.execute("PRAGMA synchronous = NORMAL")
                self._connection = connection
            yield self._connection

    # -- chats ----------------------------------------------------------------------------

    def create_chat(self, title: str = "", project_id: str | None = None) -> ChatRow:
        """Add an empty chat.

        Raises:
            UnknownProject: ``project_id`` names no project.

        """
        chat_id, now = new_id(), _now()
        with self._connect() as connection, _write(connection):
            if project_id is not None:
                self._require_project(connection, project_id)
            connection.execute(
                "INSERT INTO chats (chat_id, title, title_fold, project_id, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (chat_id, title, fold(title), project_id, now, now))
        return ChatRow(chat_id=chat_id, title=title, project_id=project_id, archived=False,
                       created_at=now, updated_at=now, head=None)

    def get_chat(self, chat_id: str) -> ChatRow:
        """One chat (raises :class:`UnknownChat`)."""
        with self._connect() as connection:
            return self._chat_row(connection, chat_id)

    def list_chats(self, *, archived: bool | None = False, project_id: str | None = None,
                   limit: int | None = 500) -> list[ChatRow]:
        """Chats newest first (by ``updated_at``, then creation).

        Args:
            archived: only archived (True) or only not archived (False) chats; None: both.
            project_id: only the chats of this project; None: any.
            limit: the most rows returned; None: all.

        """
        query = f"SELECT {_CHAT_COLUMNS} FROM chats"  # noqa: S608 - literal columns
        conditions: list[str] = []
        parameters: list[Any] = []
        if archived is not None:
            conditions.append("archived = ?")
            parameters.append(int(archived))
        if project_id is not None:
            conditions.append("project_id = ?")
            parameters.append(project_id)
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        query += " ORDER BY updated_at DESC, rowid DESC"
        if limit is not None:
            query += " LIMIT ?"
            parameters.append(limit)
        with self._connect() as connection:
            return [_chat(row) for row in connection.execute(query, parameters)]

    def set_title(self, chat_id: str, title: str) -> ChatRow:
        """Set a chat's title (raises :class:`UnknownChat`)."""
        return self._set_chat(chat_id, "title = ?, title_fold = ?", (title, fold(title)))

    def set_archived(self, chat_id: str, archived: bool) -> ChatRow:
        """Archive or restore a chat (raises :class:`UnknownChat`)."""
        return self._set_chat(chat_id, "archived = ?", (int(archived),))

    def set_project(self, chat_id: str, project_id: str | None) -> ChatRow:
        """Put a chat into a project, or out of any.

        Raises:
            UnknownChat: no such chat.
            UnknownProject: no such project.

        """
        return self._set_chat(chat_id, "project_id = ?", (project_id,), project_id=project_id)

    def set_head(self, chat_id: str, message_id: str) -> ChatRow:
        """Make a message of the chat its head.

        Raises:
            UnknownChat: no such chat.
            UnknownMessage: the message is not in that chat.

        """
        return self._set_chat(chat_id, "head = ?", (message_id,), message_id=message_id)

    def _set_chat(self, chat_id: str, assignments: str, values: tuple[Any, ...], *,
                  project_id: str | None = None, message_id: str | None = None) -> ChatRow:
        with self._connect() as connection, _write(connection):
            if project_id is not None:
                self._require_project(connection, project_id)
            if message_id is not None:
                self._require_message(connection, message_id, chat_id)
            # assignments are literals of this module; values are bound
            cursor = connection.execute(
                f"UPDATE chats SET {assignments} WHERE chat_id = ?",  # noqa: S608
                (*values, chat_id))
            if cursor.rowcount == 0:
                raise UnknownChat(chat_id)
            return self._chat_row(connection, chat_id)

    def delete_chat(self, chat_id: str) -> None:
        """Delete a chat and all its messages (raises :class:`UnknownChat`)."""
        with self._connect() as connection, _write(connection):
            connection.execute("DELETE FROM messages WHERE chat_id = ?", (chat_id,))
            if connection.execute("DELETE FROM chats WHERE chat_id = ?",
                                  (chat_id,)).rowcount == 0:
                raise UnknownChat(chat_id)

    def search(self, query: str, limit: int = 50) -> list[tuple[ChatRow, MessageRow | None]]:
        """Chats whose title, or one of whose messages, contains every word of ``query``.

        Words are separated by whitespace and compared folded (:func:`fold`) as substrings.

        Args:
            query: what the person typed.
            limit: the most chats returned.

        Returns:
            ``(chat, None)`` when the title matched, else ``(chat, newest matching message)``;
            newest chat first, archived ones included; ``[]`` for a query without words.

        """
        words = fold(query).split()
        if not words or limit < 1:
            return []
        title_test = " AND ".join("instr(title_fold, ?) > 0" for _ in words)
        content_test = " AND ".join("instr(content_fold, ?) > 0" for _ in words)
        columns = f"{_CHAT_COLUMNS}, rowid AS position"
        with self._connect() as connection, _read(connection):
            chats = {row["chat_id"]: row for row in connection.execute(
                f"SELECT {columns} FROM chats WHERE {title_test}"  # noqa: S608
                " ORDER BY updated_at DESC, rowid DESC LIMIT ?", (*words, limit))}
            titled = set(chats)
            newest = {row[0]: row[1] for row in connection.execute(
                f"SELECT chat_id, MAX(seq) FROM messages WHERE {content_test}"  # noqa: S608
                " GROUP BY chat_id", words)}
            for batch in _batches([chat_id for chat_id in newest if chat_id not in chats]):
                chats.update((row["chat_id"], row) for row in connection.execute(
                    f"SELECT {columns} FROM chats"  # noqa: S608
                    f" WHERE chat_id IN ({', '.join('?' for _ in batch)})", batch))
            ranked = sorted(chats.values(), reverse=True,
                            key=lambda row: (row["updated_at"], row["position"]))[:limit]
            found: dict[str, MessageRow] = {}
            for batch in _batches([newest[row["chat_id"]] for row in ranked
                                   if row["chat_id"] not in titled]):
                for row in connection.execute(
                        f"SELECT {_MESSAGE_COLUMNS} FROM messages"  # noqa: S608
                        f" WHERE seq IN ({', '.join('?' for _ in batch)})", batch):
                    found[row["chat_id"]] = _message(row)
        return [(_chat(row), None if row["chat_id"] in titled else found[row["chat_id"]])
                for row in ranked]

    # -- projects -------------------------------------------------------------------------

    def create_project(self, name: str) -> ProjectRow:
        """Add a project (raises :class:`DuplicateProjectName`)."""
        project_id, now = new_id(), _now()
        try:
            with self._connect() as connection, _write(connection):
                connection.execute(
                    "INSERT INTO projects (project_id, name, name_fold, created_at)"
                    " VALUES (?, ?, ?, ?)", (project_id, name, fold(name), now))
        except sqlite3.IntegrityError:
            raise DuplicateProjectName(name) from None
        return ProjectRow(project_id=project_id, name=name, created_at=now)

    def get_project(self, project_id: str) -> ProjectRow:
        """One project (raises :class:`UnknownProject`)."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT project_id, name, created_at FROM projects WHERE project_id = ?",
                (project_id,)).fetchone()
        if row is None:
            raise UnknownProject(project_id)
        return _project(row)

    def list_projects(self) -> list[ProjectRow]:
        """Projects by name (regardless of case)."""
        with self._connect() as connection:
            return [_project(row) for row in connection.execute(
                "SELECT project_id, name, created_at FROM projects"
                " ORDER BY name_fold, created_at")]

    def rename_project(self, project_id: str, name: str) -> ProjectRow:
        """Rename a project (raises :class:`UnknownProject`, :class:`DuplicateProjectName`)."""
        try:
            with self._connect() as connection, _write(connection):
                if connection.execute(
                        "UPDATE projects SET name = ?, name_fold = ? WHERE project_id = ?",
                        (name, fold(name), project_id)).rowcount == 0:
                    raise UnknownProject(project_id)
        except sqlite3.IntegrityError:
            raise DuplicateProjectName(name) from None
        return self.get_project(project_id)

    def delete_project(self, project_id: str) -> None:
        """Delete a project; its chats stay, out of any project.

        Raises:
            UnknownProject: no such project.

        """
        with self._connect() as connection, _write(connection):
            connection.execute("UPDATE chats SET project_id = NULL WHERE project_id = ?",
                               (project_id,))
            if connection.execute("DELETE FROM projects WHERE project_id = ?",
                                  (project_id,)).rowcount == 0:
                raise UnknownProject(project_id)

    # -- messages -------------------------------------------------------------------------

    def add_message(self, chat_id: str, role: str, content: str, *, kind: str,
                    data: dict[str, Any], run_id: str | None, parent_id: str | None,
                    after_head: bool, title: str = "") -> tuple[MessageRow, ChatRow]:
        """Add a message and move the chat's ``updated_at`` (and, usually, its head).

        The message becomes the chat's head when it continues the conversation shown: after
        the head (``after_head``, or ``parent_id`` is the head), as a new root (``parent_id``
        None), or as a new branch off a message on the path from the root to the head (an
        edit or a regenerated answer). A message added under a branch that is not shown (a
        run still working in a version the person switched away from) leaves the head where
        it is.

        Args:
            chat_id: the chat.
            role: who speaks.
            content: the text.
            kind: what the message holds.
            data: structured content (stored as JSON).
            run_id: the run it belongs to.
            parent_id: the message it follows (None: a new root); ignored when ``after_head``.
            after_head: follow the chat's head as it is when the write lock is held (so two
                writers at once make a chain, not a fork).
            title: the chat's title if it has none yet (``""``: leave it).

        Returns:
            The new message and the chat after it (``head`` as it now is).

        Raises:
            UnknownChat: no such chat.
            UnknownMessage: ``parent_id`` is not a message of this chat.
            BadMessageData: ``data`` is not JSON-serialisable.

        """
        data_text = _dump(data)
        message_id, now = new_id(), _now()
        with self._connect() as connection, _write(connection):
            chat = self._chat_row(connection, chat_id)
            parent = chat["head"] if after_head else parent_id
            if parent is not None and not after_head:
                self._require_message(connection, parent, chat_id)
            head = chat["head"]
            if (parent is None or head is None or parent == head
                    or self._on_path(connection, parent, head)):
                head = message_id
            seq = connection.execute(
                "INSERT INTO messages (message_id, chat_id, parent_id, role, kind, content,"
                " content_fold, data, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (message_id, chat_id, parent, role, kind, content, fold(content), data_text,
                 run_id, now)).lastrowid
            new_title = title if title and not chat["title"] else chat["title"]
            connection.execute(
                "UPDATE chats SET head = ?, updated_at = ?, title = ?, title_fold = ?"
                " WHERE chat_id = ?", (head, now, new_title, fold(new_title), chat_id))
        message = MessageRow(seq=int(seq or 0), message_id=message_id, chat_id=chat_id,
                             parent_id=parent, role=role, kind=kind, content=content,
                             data=json.loads(data_text), run_id=run_id, created_at=now)
        return message, ChatRow(chat_id=chat_id, title=new_title,
                                project_id=chat["project_id"], archived=chat["archived"],
                                created_at=chat["created_at"], updated_at=now, head=head)

    def update_message(self, message_id: str, *, content: str | None = None,
                       data: dict[str, Any] | None = None) -> MessageRow:
        """Replace a message's content and/or data (None: keep).

        Raises:
            UnknownMessage: no such message.
            BadMessageData: ``data`` is not JSON-serialisable.

        """
        assignments: list[str] = []
        values: list[Any] = []
        if content is not None:
            assignments.append("content = ?, content_fold = ?")
            values += [content, fold(content)]
        if data is not None:
            assignments.append("data = ?")
            values.append(_dump(data))
        with self._connect() as connection, _write(connection):
            if assignments:
                # assignments are literals of this module; values are bound
                connection.execute(
                    f"UPDATE messages SET {', '.join(assignments)}"  # noqa: S608
                    " WHERE message_id = ?", (*values, message_id))
            return self._message_row(connection, message_id)

    def get_message(self, message_id: str) -> MessageRow:
        """One message (raises :class:`UnknownMessage`)."""
        with self._connect() as connection:
            return self._message_row(connection, message_id)

    def tree(self, chat_id: str) -> tuple[ChatRow, list[MessageRow]]:
        """A chat and all its messages in creation order, read in one snapshot.

        Raises:
            UnknownChat: no such chat.

        """
        with self._connect() as connection, _read(connection):
            chat = self._chat_row(connection, chat_id)
            rows = connection.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ?"  # noqa: S608
                " ORDER BY seq", (chat_id,)).fetchall()
        return chat, [_message(row) for row in rows]

    def messages_of_run(self, run_id: str) -> list[MessageRow]:
        """Every message naming ``run_id``, in creation order, on any branch of any chat."""
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE run_id = ?"  # noqa: S608
                " ORDER BY seq", (run_id,)).fetchall()
        return [_message(row) for row in rows]

    def siblings(self, message_id: str) -> list[str]:
        """The ids of the messages sharing this message's parent, itself included.

        Returns:
            Message ids in creation order.

        Raises:
            UnknownMessage: no such message.

        """
        with self._connect() as connection:
            row = connection.execute(
                "SELECT chat_id, parent_id FROM messages WHERE message_id = ?",
                (message_id,)).fetchone()
            if row is None:
                raise UnknownMessage(message_id)
            return [found[0] for found in connection.execute(
                "SELECT message_id FROM messages WHERE chat_id = ? AND parent_id IS ?"
                " ORDER BY seq", (row["chat_id"], row["parent_id"]))]

    # -- lookups inside a transaction -----------------------------------------------------

    @staticmethod
    def _chat_row(connection: sqlite3.Connection, chat_id: str) -> ChatRow:
        row = connection.execute(f"SELECT {_CHAT_COLUMNS} FROM chats WHERE chat_id = ?",  # noqa: S608
                                 (chat_id,)).fetchone()
        if row is None:
            raise UnknownChat(chat_id)
        return _chat(row)

    @staticmethod
    def _message_row(connection: sqlite3.Connection, message_id: str) -> MessageRow:
        row = connection.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE message_id = ?",  # noqa: S608
            (message_id,)).fetchone()
        if row is None:
            raise UnknownMessage(message_id)
        return _message(row)

    @staticmethod
    def _on_path(connection: sqlite3.Connection, message_id: str, head: str) -> bool:
        """Whether ``message_id`` is ``head`` or one of its ancestors."""
        row = connection.execute(
            "WITH RECURSIVE path(id, depth) AS ("
            " SELECT ?, 0"
            " UNION ALL SELECT messages.parent_id, path.depth + 1 FROM messages"
            " JOIN path ON messages.message_id = path.id"
            " WHERE messages.parent_id IS NOT NULL AND path.depth < 1000000)"
            " SELECT 1 FROM path WHERE id = ? LIMIT 1", (head, message_id)).fetchone()
        return row is not None

    @staticmethod
    def _require_project(connection: sqlite3.Connection, project_id: str) -> None:
        if connection.execute("SELECT 1 FROM projects WHERE project_id = ?",
                              (project_id,)).fetchone() is None:
            raise UnknownProject(project_id)

    @staticmethod
    def _require_message(connection: sqlite3.Connection, message_id: str, chat_id: str) -> None:
        if connection.execute("SELECT 1 FROM messages WHERE message_id = ? AND chat_id = ?",
                              (message_id, chat_id)).fetchone() is None:
            raise UnknownMessage(message_id)
