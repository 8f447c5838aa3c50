"""The run index: one SQLite row per run (id, task, status, times, folder, outcome).

The index answers "which runs are there, and how did they end" without opening run folders.
It is safe for several threads and processes at once: every call opens its own connection,
the database runs in WAL mode, writers take the lock up front (``BEGIN IMMEDIATE``) and wait
up to :data:`BUSY_TIMEOUT_S` for each other. The schema's version lives in
``PRAGMA user_version``; :data:`MIGRATIONS` brings older files up to date when the index opens.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

from memory.records import RunExistsError, RunNotFound
from memory.schema import Migration, migrate

RunStatus = Literal["created", "running", "waiting", "failed", "cancelled", "rejected",
                    "refused", "stopped", "done"]
"""Where a run stands. ``waiting`` waits for a person; ``refused`` (by the safety gate),
``stopped`` (by a person at a question) and the rest after ``waiting`` are final."""

RUN_STATUSES: frozenset[str] = frozenset(get_args(RunStatus))
"""Every valid :data:`RunStatus`."""

FINISHED_STATUSES: frozenset[str] = frozenset(
    {"done", "failed", "cancelled", "rejected", "refused", "stopped"})
"""Statuses of runs that are over (retention may remove them); never running or waiting."""

BUSY_TIMEOUT_S = 30.0
"""How long a call waits for another writer's lock before ``sqlite3.OperationalError``."""

UPDATABLE_COLUMNS = frozenset({"task", "status", "run_dir", "outcome", "artifact", "error"})
"""Columns :meth:`RunIndex.update` may set (``updated_at`` is set by every update)."""

_NOT_NULL_COLUMNS = frozenset({"task", "status", "run_dir"})


def _create_runs_table(connection: sqlite3.Connection) -> None:
    connection.execute(
        "CREATE TABLE IF NOT EXISTS runs ("
        " run_id TEXT PRIMARY KEY,"
        " task TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL,"
        " run_dir TEXT NOT NULL,"
        " outcome TEXT,"
        " artifact TEXT,"
        " error TEXT)")
    connection.execute("CREATE INDEX IF NOT EXISTS runs_by_created ON runs (created_at)")
    connection.execute("CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, created_at)")


MIGRATIONS: tuple[Migration, ...] = (_create_runs_table,)
"""``MIGRATIONS[i]`` upgrades version ``i`` to ``i + 1``; append, never edit, to change the
schema. The current version is ``len(MIGRATIONS)``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes."""


class IndexSchemaError(RuntimeError):
    """The index file was written by a newer MultiCoder (its schema version is unknown)."""


class RunRow(BaseModel):
    """One run in the index. Times are ISO-8601 UTC strings (``2026-11-21T19:00:00.123456+00:00``).

    Attributes:
        run_id: the run's id (its folder's name).
        task: the task as the person wrote it.
        status: see :data:`RunStatus`.
        created_at: when the run was added.
        updated_at: when the row last changed.
        run_dir: the run's folder.
        outcome: how it ended (the final status the graph reported), if it did.
        artifact: the packaged executable's path, if any.
        error: the last error, if any.

    """

    model_config = ConfigDict(frozen=True)

    run_id: str
    task: str
    status: RunStatus
    created_at: str
    updated_at: str
    run_dir: str
    outcome: str | None = None
    artifact: str | None = None
    error: str | None = None


class RunIndex:
    """The SQLite index of runs at ``path`` (created, and migrated, when opened).

    Args:
        path: the database file; its folder is created when missing.
        clock: returns "now" as an aware datetime (tests pass a fixed one); UTC by default.

    Raises:
        IndexSchemaError: the file's schema is newer than this code's.
        sqlite3.DatabaseError: the file is not a usable SQLite database.

    """

    def __init__(self, path: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self._clock = clock or (lambda: datetime.now(UTC))
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # persistent: set once per file
            self._migrate(connection)

    @staticmethod
    def _migrate(connection: sqlite3.Connection) -> None:
        migrate(connection, MIGRATIONS, lambda version: IndexSchemaError(
            f"run index schema {version} is newer than this MultiCoder's ({SCHEMA_VERSION});"
            " upgrade MultiCoder"))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (autocommit otherwise).
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000):d}")
            yield connection
        finally:
            connection.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def _now(self) -> str:
        now = self._clock()
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        # Fixed width, so text order is time order.
        return now.astimezone(UTC).isoformat(timespec="microseconds")

    def add(self, run_id: str, task: str, run_dir: str, status: RunStatus = "created") -> RunRow:
        """Add a run.

        Args:
            run_id: the run's id.
            task: the task text.
            run_dir: the run's folder (as a string).
            status: the initial status.

        Returns:
            The new row.

        Raises:
            ValueError: ``status`` is not a :data:`RunStatus`.
            RunExistsError: the index has a run with this id already.

        """
        _check_status(status)
        now = self._now()
        try:
            with self._write() as connection:
                connection.execute(
                    "INSERT INTO runs (run_id, task, status, created_at, updated_at, run_dir)"
                    " VALUES (?, ?, ?, ?, ?, ?)", (run_id, task, status, now, now, run_dir))
        except sqlite3.IntegrityError:
            raise RunExistsError(run_id) from None
        return RunRow(run_id=run_id, task=task, status=status, created_at=now, updated_at=now,
                      run_dir=run_dir)

    def update(self, run_id: str, **fields: str | None) -> None:
        """Set some columns of a run and its ``updated_at``.

        Args:
            run_id: the run's id.
            **fields: columns from :data:`UPDATABLE_COLUMNS` with their new values
                (``outcome``, ``artifact`` and ``error`` may be ``None``).

        Raises:
            ValueError: an unknown column, a ``None`` for task/status/run_dir, or an unknown
                status.
            TypeError: a value that is neither ``str`` nor ``None``.
            RunNotFound: no such run.

        """
        unknown = sorted(set(fields) - UPDATABLE_COLUMNS)
        if unknown:
            raise ValueError(f"unknown run index field(s): {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(UPDATABLE_COLUMNS))}")
        for column, value in fields.items():
            if value is None and column in _NOT_NULL_COLUMNS:
                raise ValueError(f"run index field {column!r} cannot be empty")
            if value is not None and not isinstance(value, str):
                raise TypeError(f"run index field {column!r} must be a string, "
                                f"not {type(value).__name__}")
        if "status" in fields:
            _check_status(fields["status"])
        columns = sorted(fields)
        # Column names come from UPDATABLE_COLUMNS only (checked above); values are bound.
        assignments = ", ".join([f"{column} = ?" for column in columns] + ["updated_at = ?"])
        values = [fields[column] for column in columns] + [self._now(), run_id]
        with self._write() as connection:
            cursor = connection.execute(
                f"UPDATE runs SET {assignments} WHERE run_id = ?", values)  # noqa: S608
            if cursor.rowcount == 0:
                raise RunNotFound(run_id)

    def get(self, run_id: str) -> RunRow:
        """The row of one run.

        Args:
            run_id: the run's id.

        Raises:
            RunNotFound: no such run.

        """
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFound(run_id)
        return RunRow.model_validate(dict(row))

    def delete(self, run_id: str) -> bool:
        """Remove a run's row (its folder is left alone).

        Args:
            run_id: the run's id.

        Returns:
            ``True`` if a row was removed, ``False`` if there was none.

        """
        with self._write() as connection:
            cursor = connection.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            return cursor.rowcount > 0

    def list(self, limit: int | None = 50, status: RunStatus | Sequence[RunStatus] | None = None
             ) -> builtins.list[RunRow]:
        """Runs, newest first (by ``created_at``, then by insertion order).

        Args:
            limit: the most rows returned; ``None`` for all.
            status: only runs with this status (or one of these statuses).

        Raises:
            ValueError: ``limit`` is below 1, or a status is unknown.

        """
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        statuses = [status] if isinstance(status, str) else list(status or ())
        for value in statuses:
            _check_status(value)
        query = "SELECT * FROM runs"
        parameters: list[str | int] = []
        if status is not None:
            query += f" WHERE status IN ({', '.join('?' for _ in statuses) or 'NULL'})"
            parameters += statuses
        query += " ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            query += " LIMIT ?"
            parameters.append(limit)
        with self._connect() as connection:
            rows = connection.execute(query, parameters).fetchall()
        return [RunRow.model_validate(dict(row)) for row in rows]


def _check_status(status: object) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}; known: {', '.join(sorted(RUN_STATUSES))}")
