"""Versioned SQLite schemas: ``PRAGMA user_version`` and a tuple of migrations.

Shared by the run index and the archive. ``migrations[i]`` brings a file from version ``i`` to
``i + 1``; the current version is ``len(migrations)``. Append, never edit, to change a schema.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import suppress

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
