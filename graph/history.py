"""Past runs from the run index: a light API (no LangChain import) for listing and lookup.

It also opens the archive (``<data_dir>/archive.sqlite``) at start-up: checked, rebuilt from
the run folders when damaged, and caught up with lines a killed process left unarchived.
"""

from __future__ import annotations

import sqlite3

from graph.errors import InputError
from graph.settings import Settings
from memory.archive import ARCHIVE_FILE, Archive, ArchiveCheck, ArchiveSchemaError
from memory.records import RunNotFound
from memory.run_index import RunIndex, RunRow


def open_archive(settings: Settings) -> tuple[Archive | None, ArchiveCheck]:
    """Open ``<data_dir>/archive.sqlite`` checked, rebuilt if damaged, caught up.

    The archive never stops a run: when it cannot be opened, callers go on without it
    (``None``; the check says why) and the next start-up catches up from the run folders.

    Returns:
        ``(archive or None, what the start-up check found)``.

    Raises:
        InputError: the archive was written by a newer MultiCoder (it is left as it is).

    """
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    try:
        return Archive.open_checked(settings.data_dir / ARCHIVE_FILE, settings.runs_dir)
    except ArchiveSchemaError as exc:
        raise InputError(f"{exc} (update MultiCoder, or move the file away to start a new"
                         " archive)") from None
    except (sqlite3.Error, OSError, TimeoutError) as exc:
        return None, ArchiveCheck(ok=False, detail=f"{type(exc).__name__}: {exc}")


class RunHistory:
    """The run index of a data folder (``<data_dir>/runs.sqlite``).

    Args:
        settings: the settings (their ``data_dir``).
        check_archive: also open the archive with its start-up check (see
            :func:`open_archive`); the outcome is in :attr:`archive_check`.

    Raises:
        InputError: ``check_archive`` and the archive is from a newer MultiCoder.

    """

    def __init__(self, settings: Settings, *, check_archive: bool = False) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.index = RunIndex(settings.data_dir / "runs.sqlite")
        self.archive_check: ArchiveCheck | None = None
        if check_archive:
            archive, self.archive_check = open_archive(settings)
            if archive is not None:
                archive.close()

    def get(self, run_id: str) -> RunRow:
        """The index row of a run.

        Raises:
            InputError: no such run.

        """
        try:
            return self.index.get(run_id)
        except RunNotFound:
            raise InputError(f"no run '{run_id}' (see `multicoder runs list`)") from None

    def list(self, limit: int = 50) -> list[RunRow]:
        """Runs, newest first."""
        return self.index.list(limit=limit)
