"""Versioned SQLite schemas: ``PRAGMA user_version`` and a tuple of migrations.

Shared by the run index and the archive. ``migrations[i]`` brings a file from version ``i`` to
``i + 1``; the current version is ``len(migrations)``. Append, never edit, to change a schema.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

Migration = Callable[[sqlite3.Connection], None]
"""Brings a schema from version ``i`` to ``i + 1``; runs inside the opening transaction."""


def migrate(connection: sqlite3.Connection, migrations: Sequence[Migration],
            too_new: Callable[[int], Exception]) -> None:
    """Bring the file up to ``len(migrations)`` in one transaction (one process migrates).

    Args:
        connection: an open connection in autocommit mode (``isolation_level=None``).
        migrations: the schema's migrations, oldest first.
        too_new: builds the error for a file whose version (its argument) is newer.

    Raises:
        Exception: ``too_new(version)`` when the file is newer than the code (left as it is);
            ``sqlite3.Error`` from a migration (everything is rolled back).

    """
    current = len(migrations)
    connection.execute("BEGIN IMMEDIATE")  # one process migrates, the others then see it
    try:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version > current:
            raise too_new(version)
        for step in migrations[version:]:
            step(connection)
        if version != current:
            connection.execute(f"PRAGMA user_version = {current:d}")
        connection.execute("COMMIT")
    except BaseException:
        # an error may have rolled back already (a full disk): keep that error, not this one
        with suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise


def move_aside(path: Path) -> Path:
    """Rename a damaged ``path`` (with its -wal and -shm) to ``<name>.damaged-<UTC stamp>``.

    Nothing is deleted; a name already taken gets ``-2``, ``-3`` ... Returns the new path.

    Raises:
        OSError: it cannot be renamed.

    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.replace(target.with_name(target.name + suffix))
    path.replace(target)
    return target


@contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error (which is re-raised).

    The write lock is taken up front, so two writers wait for each other (busy timeout)
    instead of one failing at its first write.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        # an error may have rolled back already (a full disk): keep that error, not this one
        with suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise
