"""Retention: remove the folders and index rows of old, finished runs (L1).

A finished run (status in :data:`~memory.run_index.FINISHED_STATUSES`) is removed when both
hold: its last change (``updated_at``) is more than ``keep_days`` days ago, and it is not among
the newest ``keep_last`` runs of the index. Running, waiting and created runs are never touched.

Every line matters: once a folder is gone, the archive keeps the only copy of its lines. So a
folder is removed only after the archive has synced it and holds every byte of its
events.jsonl and program.log (:meth:`memory.archive.Archive.unarchived`); without an open
archive nothing is removed.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import stat
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from memory.archive import Archive
from memory.records import RUN_ID_PATTERN
from memory.run_index import FINISHED_STATUSES, RunIndex

_log = logging.getLogger(__name__)

ARCHIVE_TIMEOUT_S = 5.0
"""How long retention waits for another process's archive lock before it stops for this time."""


def apply_retention(index: RunIndex, runs_root: Path, *, archive: Archive | None,
                    keep_days: int | None, keep_last: int | None,
                    now: datetime | None = None) -> list[str]:
    """Delete old finished runs: their folders (``<runs_root>/<run_id>``) and index rows.

    Args:
        index: the run index.
        runs_root: the folder holding all run folders; nothing outside it is deleted.
        archive: the archive fed from ``runs_root``; a folder is removed only when it holds
            every line of it (see the module docstring). ``None`` (the archive could not be
            opened) removes nothing.
        keep_days: finished runs last changed at most this many days ago are kept; ``None``
            keeps every run (no age limit, so nothing is deleted).
        keep_last: the newest this many runs (by creation, any status) are always kept;
            ``None`` or 0 protects none.
        now: the current time (aware; a naive value is taken as UTC); defaults to now.

    Returns:
        The ids of the deleted runs, newest first. A run whose folder could not be removed
        (a file in use, a symlink in its place, lines the archive does not hold) is logged and
        kept, row and all, for next time. When the archive cannot be read or written (busy,
        damaged), that is logged and the pass stops there.

    Raises:
        ValueError: ``keep_days`` or ``keep_last`` is negative.

    """
    if keep_days is not None and keep_days < 0:
        raise ValueError(f"keep_days must not be negative, not {keep_days}")
    if keep_last is not None and keep_last < 0:
        raise ValueError(f"keep_last must not be negative, not {keep_last}")
    if keep_days is None:
        return []
    if archive is None:
        _log.warning("retention skipped: the archive is not open, and a run folder is removed"
                     " only once the archive holds all its lines")
        return []
    current = now or datetime.now(UTC)
    if current.tzinfo is None:
        current = current.replace(tzinfo=UTC)
    cutoff = current - timedelta(days=keep_days)
    rows = index.list(limit=None)  # newest first
    deleted: list[str] = []
    for row in rows[keep_last or 0:]:
        if row.status not in FINISHED_STATUSES or _parse_time(row.updated_at) >= cutoff:
            continue
        try:
            removed = _remove_run_folder(runs_root, row.run_id, archive)
        except sqlite3.Error as exc:
            _log.warning("retention stopped: the archive cannot make sure it holds run %s"
                         " (%s: %s)", row.run_id, type(exc).__name__, exc)
            break
        if removed:
            index.delete(row.run_id)
            deleted.append(row.run_id)
    if deleted:
        _log.info("retention removed %d run(s): %s", len(deleted), ", ".join(deleted))
    return deleted


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _remove_run_folder(runs_root: Path, run_id: str, archive: Archive) -> bool:
    """Remove ``runs_root / run_id`` once archived; ``True`` when it is gone (or never existed).

    Raises:
        sqlite3.Error: the archive cannot be read or written.

    """
    if not RUN_ID_PATTERN.fullmatch(run_id) or run_id in {".", ".."}:
        _log.warning("retention skipped run %r: not a plain folder name", run_id)
        return False
    folder = runs_root / run_id
    if folder.is_symlink():
        _log.warning("retention skipped run %s: its folder is a symlink", run_id)
        return False
    if not folder.exists():
        return True
    missing = archive.unarchived(folder, timeout_s=ARCHIVE_TIMEOUT_S)
    if missing is not None:
        _log.warning("retention kept run %s: the archive does not hold all its lines yet (%s)",
                     run_id, missing)
        return False
    try:
        _rmtree(folder)
    except OSError as exc:
        _log.warning("retention could not remove %s: %s", folder, exc)
        return False
    return True


def _retry_writable(function: Callable[..., object], path: str, _exc: object) -> None:
    """Error hook of rmtree: make a read-only entry writable and try once more (Windows)."""
    if not Path(path).exists():
        return  # removed meanwhile (another process applying retention)
    Path(path).chmod(stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
    function(path)


def _rmtree(folder: Path) -> None:
    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=_retry_writable)
    else:
        shutil.rmtree(folder, onerror=_retry_writable)
    if folder.exists():  # pragma: no cover - an error hook that swallowed a failure
        raise OSError(f"{os.fspath(folder)} still exists")
