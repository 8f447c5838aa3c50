"""The archive (M1): every line of every run, verbatim and in order, with full-text search.

One SQLite file, ``<data_dir>/archive.sqlite``, fed from the run folders
(``<runs_root>/<run_id>/``): every line of ``events.jsonl`` (messages, tool calls, tool results,
events, interrupts, decisions; see :mod:`memory.records`) and of ``program.log``, byte for byte,
plus one row per run made from its ``run.json``.

How lines get in, exactly once:

- For each (run, file) the archive remembers how many bytes (and lines) it has ingested. A sync
  reads what was appended since, takes the complete lines only (a torn last line, a write in
  progress or a crash's remains, waits until a newline completes it) and commits the new rows
  and the new offset in one transaction. A line therefore can never be doubled or skipped,
  whichever process syncs and wherever one is killed; a unique index on (run, file, line)
  enforces it besides. A complete line that is not a JSON object is kept verbatim as type
  ``unparsable``.
- Several processes (the CLI, the desktop app, a server) may use the file at once: it runs in
  WAL mode, writers take the lock up front (``BEGIN IMMEDIATE``) and wait up to
  :data:`BUSY_TIMEOUT_S` for each other. Within a process, an :class:`Archive` keeps one
  connection, used by one thread at a time (closing the last connection of a WAL database
  checkpoints and deletes the log, which would cost milliseconds per sync); it reconnects when
  the file was replaced (a rebuild by another process) or the process forked.
- The schema's version lives in ``PRAGMA user_version``; :data:`MIGRATIONS` brings older files
  up to date when the archive opens; a file from a newer MultiCoder is refused
  (:class:`ArchiveSchemaError`) and left as it is.
- :meth:`Archive.open_checked` is the start-up check: a damaged file is moved aside (kept, never
  deleted) and the archive is rebuilt from the run folders. ``PRAGMA quick_check`` reads the
  whole file (about 2 s for 100,000 lines from a cold disk cache, 0.3 s warm), so it runs only
  when the file changed since the last clean check (recorded beside it in
  ``archive.sqlite.checked``) or that check is a day old; otherwise a light check opens the
  file and reads its header and schema.

The archive is the long memory: when retention removes a run's folder, the run's archived
lines stay here, and retention removes a folder only once the archive holds every byte of its
events.jsonl and program.log (:meth:`Archive.unarchived`). A rebuild re-ingests the folders
that still exist, and salvages the runs whose folders are gone from a copy of the damaged file,
as far as it can still be read (:class:`ArchiveCheck` says what was salvaged and what was not).

Full-text search uses FTS5 with the ``unicode61 remove_diacritics 2`` tokenizer (case folding
for Latin, Cyrillic and the other alphabets; ``ё`` is also folded to ``е``); queries typed by
people are quoted term by term, so no query raises an FTS syntax error. There is no stemming:
a term ending in ``*`` matches as a prefix (``замет*`` finds ``заметка``, ``заметки``).

This module imports nothing heavy (sqlite3, json, pydantic; filelock when checking): the CLI
opens it at start-up.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from glob import escape as glob_escape
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from memory.records import EVENTS_JSONL, PROGRAM_LOG, RUN_ID_PATTERN
from memory.schema import Migration, migrate, move_aside
from memory.schema import write_transaction as _write

_log = logging.getLogger(__name__)

Source = Literal["event", "log"]
"""Which file of a run folder a line comes from: ``event`` (events.jsonl), ``log``
(program.log)."""

SOURCE_FILES: dict[str, str] = {"event": EVENTS_JSONL, "log": PROGRAM_LOG}
"""The file of each :data:`Source` in a run folder."""

ARCHIVE_FILE = "archive.sqlite"
"""The archive's file name in the data folder."""

BUSY_TIMEOUT_S = 30.0
"""How long a call waits for another writer's lock before ``sqlite3.OperationalError``."""

BATCH_BYTES = 4 * 1024 * 1024
"""A sync commits at most about this many bytes of one file per transaction (a longer single
line is taken whole), so other processes get the lock in between."""

MATCH_START = "«"
"""Marks the start of a match in :attr:`ArchiveHit.snippet`."""

MATCH_END = "»"
"""Marks the end of a match in :attr:`ArchiveHit.snippet`."""

UNPARSABLE = "unparsable"
"""The type of an events.jsonl line that is not a JSON object (kept verbatim)."""

LOG_TYPE = "log"
"""The type of every program.log line."""


def _create_tables(connection: sqlite3.Connection) -> None:
    """Version 1: runs, per-file offsets and the lines themselves."""
    connection.execute(
        "CREATE TABLE runs ("
        " run_id TEXT PRIMARY KEY,"
        " run_dir TEXT NOT NULL,"
        " task TEXT,"
        " created_at TEXT,"
        " config TEXT,"           # run.json, verbatim
        " config_stamp TEXT,"     # its mtime and size when read, to notice a change
        " first_ts TEXT,"
        " last_ts TEXT,"
        " archived_at TEXT NOT NULL)")
    connection.execute(
        "CREATE TABLE files ("
        " run_id TEXT NOT NULL,"
        " source TEXT NOT NULL,"
        " bytes INTEGER NOT NULL,"   # ingested so far: always just after a newline
        " lines INTEGER NOT NULL,"
        " last_ts TEXT,"             # a log line without a time stamp inherits this one
        " PRIMARY KEY (run_id, source)) WITHOUT ROWID")
    # raw has no declared type: valid UTF-8 is stored as TEXT (readable with any SQLite
    # tool), anything else as a BLOB, so every line comes back byte for byte.
    connection.execute(
        "CREATE TABLE entries ("
        " id INTEGER PRIMARY KEY,"
        " run_id TEXT NOT NULL,"
        " source TEXT NOT NULL,"
        " line INTEGER NOT NULL,"
        " offset INTEGER NOT NULL,"
        " ts TEXT,"
        " seq INTEGER,"
        " type TEXT NOT NULL,"
        " speaker TEXT,"
        " kind TEXT,"
        " node TEXT,"
        " raw NOT NULL,"
        " body TEXT NOT NULL)")
    connection.execute("CREATE UNIQUE INDEX entries_by_line ON entries (run_id, source, line)")


def _create_search(connection: sqlite3.Connection) -> None:
    """Version 2: the full-text index over ``entries.body``, built from the rows there.

    New rows are indexed by the sync that adds them, one statement per batch, in the same
    transaction (an insert trigger would cost four times as much).
    """
    connection.execute(
        "CREATE VIRTUAL TABLE entries_fts USING fts5(body, content='entries',"
        " content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
    connection.execute("INSERT INTO entries_fts (entries_fts) VALUES ('rebuild')")


def _add_lost_lines(connection: sqlite3.Connection) -> None:
    """Version 3: ``files.lost``, lines recorded but unreadable when a rebuild salvaged the run.

    The consistency check counts them, so a partly salvaged run is not found damaged again.
    """
    connection.execute("ALTER TABLE files ADD COLUMN lost INTEGER NOT NULL DEFAULT 0")


MIGRATIONS: tuple[Migration, ...] = (_create_tables, _create_search, _add_lost_lines)
"""``MIGRATIONS[i]`` upgrades version ``i`` to ``i + 1``; append, never edit, to change the
schema. The current version is ``len(MIGRATIONS)``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes."""


class ArchiveSchemaError(RuntimeError):
    """The archive file was written by a newer MultiCoder (its schema version is unknown).

    The file is left as it is; upgrade MultiCoder to use it.
    """


class ArchiveEntry(BaseModel):
    """One archived line.

    Attributes:
        run_id: the run's id.
        source: ``event`` (events.jsonl) or ``log`` (program.log).
        line: the 1-based line number in its file.
        offset: the byte offset of the line's start in its file.
        ts: ISO-8601 UTC time (``2026-11-21T19:00:00.123+00:00``): the event's ``ts``, or the
            log line's time; a log line without one (a traceback) has the previous line's.
        seq: the event's ``seq`` (None for log and unparsable lines).
        type: the event's type (``message``, ``tool_call`` ...), ``log``, or
            :data:`UNPARSABLE`.
        speaker: who spoke, for ``message`` events.
        kind: a message's kind (``tool_call``, ``decision`` ...), or a log line's level.
        node: the graph node named by the line, if any.
        raw: the line exactly as in the file, without its newline.

    """

    model_config = ConfigDict(frozen=True)

    run_id: str
    source: Source
    line: int
    offset: int
    ts: str | None = None
    seq: int | None = None
    type: str
    speaker: str | None = None
    kind: str | None = None
    node: str | None = None
    raw: bytes

    @property
    def text(self) -> str:
        """:attr:`raw` decoded as UTF-8 (invalid bytes replaced)."""
        return self.raw.decode("utf-8", errors="replace")


class ArchiveHit(BaseModel):
    """One full-text search result.

    Attributes:
        run_id: the run's id.
        source: ``event`` or ``log``.
        line: the 1-based line number in its file.
        ts: the line's time (ISO-8601 UTC), if known.
        type: as in :class:`ArchiveEntry`.
        speaker: who spoke, for messages.
        kind: a message's kind or a log line's level.
        snippet: the matching text around the match, each match between :data:`MATCH_START`
            and :data:`MATCH_END`; ``…`` where text was left out.
        rank: relevance, higher is better (the negated BM25 score; compare within one search).

    """

    model_config = ConfigDict(frozen=True)

    run_id: str
    source: Source
    line: int
    ts: str | None = None
    type: str
    speaker: str | None = None
    kind: str | None = None
    snippet: str
    rank: float


class ArchiveCheck(BaseModel):
    """What the start-up check found and did (:meth:`Archive.open_checked`).

    Attributes:
        ok: the file was sound (or new); False when it was damaged or could not be opened.
        rebuilt: the archive was rebuilt from the run folders.
        moved_to: where the damaged file was kept (its ``-wal``/``-shm`` beside it), if moved.
        runs: runs in the archive after the check.
        entries: lines in the archive after the check.
        added: lines ingested by the check's catch-up (and rebuild).
        detail: what was wrong, in one line (empty when ok).
        full: the full check ran (``PRAGMA quick_check`` and the consistency check); False
            when the file was unchanged since the last clean one and only its header and schema
            were read.
        salvaged: runs whose folders are gone, copied from the damaged file with every line.
        salvaged_in_part: such runs of which some lines could not be read (they are kept, with
            their line numbers, without the unreadable lines).
        lost_runs: such runs of which nothing could be read (known only by their id).
        lost_lines: lines of the salvaged runs that could not be read.
        salvage_detail: why nothing could be salvaged from the damaged file (empty otherwise).

    """

    model_config = ConfigDict(frozen=True)

    ok: bool
    rebuilt: bool = False
    moved_to: str | None = None
    runs: int = 0
    entries: int = 0
    added: int = 0
    detail: str = ""
    full: bool = True
    salvaged: tuple[str, ...] = ()
    salvaged_in_part: tuple[str, ...] = ()
    lost_runs: tuple[str, ...] = ()
    lost_lines: int = 0
    salvage_detail: str = ""

    def notice(self) -> str | None:
        """One sentence for the person when something happened, else None."""
        if self.rebuilt:
            kept = f", kept aside at {self.moved_to}" if self.moved_to else ""
            return (f"the archive was damaged ({self.detail}){kept}, and rebuilt from the run"
                    f" folders: {self.runs} runs, {self.entries} lines{self._salvage_note()}")
        if not self.ok:
            return f"the archive could not be opened ({self.detail}); runs go on without it"
        return None

    def _salvage_note(self) -> str:
        """What the rebuild took from the damaged file for runs whose folders are gone."""
        if self.salvage_detail:
            return ("; nothing could be salvaged from the damaged file for runs whose folders"
                    f" are gone, if there were any ({self.salvage_detail})")
        parts = []
        if self.salvaged:
            parts.append(f"{len(self.salvaged)} salvaged in full")
        if self.salvaged_in_part:
            parts.append(f"{len(self.salvaged_in_part)} salvaged in part ({self.lost_lines}"
                         f" unreadable lines left out: {_some(self.salvaged_in_part)})")
        if self.lost_runs:
            parts.append(f"{len(self.lost_runs)} not readable at all: {_some(self.lost_runs)}")
        if not parts:
            return ""
        return "; runs whose folders are gone, from the damaged file: " + ", ".join(parts)


SHOWN_RUN_IDS = 3
"""How many run ids :meth:`ArchiveCheck.notice` names in a list."""


def _some(run_ids: Sequence[str]) -> str:
    """The first :data:`SHOWN_RUN_IDS` ids, then how many more."""
    shown = ", ".join(run_ids[:SHOWN_RUN_IDS])
    more = len(run_ids) - SHOWN_RUN_IDS
    return shown + (f" and {more} more" if more > 0 else "")


RANKED_AT_MOST = 5_000
"""A search without filters that matches more lines than this ranks the newest this many (a
common word can match most of the archive; ranking all of it would take a person's patience)."""

# Two steps: rank every match (cheap), then make snippets for the best ``limit`` only (a
# snippet costs far more than a score; lines matching a common word can be tens of thousands).
_RANK = ("SELECT e.id AS id, bm25(entries_fts) AS score"
         " FROM entries_fts JOIN entries AS e ON e.id = entries_fts.rowid")
_SNIPPETS = ("SELECT e.id AS id, e.run_id, e.source, e.line, e.ts, e.type, e.speaker, e.kind,"
             " snippet(entries_fts, 0, ?, ?, '…', 24) AS snippet"
             " FROM entries_fts JOIN entries AS e ON e.id = entries_fts.rowid"
             " WHERE entries_fts MATCH ? AND entries_fts.rowid IN ({ids})")


class Archive:
    """The archive at ``path``, fed from the run folders under ``runs_root``.

    Opening it creates (or migrates) the file; it does not check it or catch up: use
    :meth:`open_checked` at start-up. Thread- and process-safe (see the module docstring);
    :meth:`close` releases the connection (a later call opens it again).

    Args:
        path: the database file (``<data_dir>/archive.sqlite``); its folder is created.
        runs_root: the folder holding the run folders (``<data_dir>/runs``).
        batch_bytes: how much of one file a sync commits per transaction (tests lower it).

    Raises:
        ArchiveSchemaError: the file's schema is newer than this code's.
        sqlite3.DatabaseError: the file is not a usable SQLite database.

    """

    def __init__(self, path: Path, runs_root: Path, *, batch_bytes: int = BATCH_BYTES) -> None:
        self.path = path
        self.runs_root = runs_root
        self._batch_bytes = max(1, batch_bytes)
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._identity: tuple[int, int, int] | None = None  # (pid, device, inode) connected to
        self._timeout_ms = -1
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # persistent: set once per file
            _migrate(connection, path)

    # -- start-up ---------------------------------------------------------------------------

    @classmethod
    def open_checked(cls, path: Path, runs_root: Path) -> tuple[Archive, ArchiveCheck]:
        """Open the archive at start-up: check it, rebuild it if damaged, then catch up.

        The full check is ``PRAGMA quick_check`` plus the archive's own consistency (each
        file's line count against its rows); a file that is not a database or is malformed
        fails it too. It reads the whole file, so it runs only when the file (or its ``-wal``)
        changed since the last clean full check, or that check is older than
        :data:`FULL_CHECK_INTERVAL`; otherwise the file's header and schema are read (see the
        module docstring). A damaged file (and its ``-wal`` and ``-shm``) is moved to
        ``archive.sqlite.damaged-<UTC stamp>`` beside it, never deleted, and a new archive is
        built: first what can still be read from a copy of the damaged file for runs whose
        folders are gone (salvage; the damaged file itself is never written), then every
        run folder under ``runs_root`` (:meth:`sync_all`, which also catches up a sound one).
        The copy needs as much free space as the damaged file for a while; a rebuild of
        100,000 lines, half of them salvaged, takes about 10 s. Processes starting at once
        take turns (a lock file beside it).

        Args:
            path: the database file.
            runs_root: the folder holding the run folders.

        Returns:
            The open archive, and what the check found and did.

        Raises:
            ArchiveSchemaError: the file was written by a newer MultiCoder (left as it is).
            OSError: the damaged file cannot be moved, or the folder is not writable.
            sqlite3.Error: the file cannot be opened for a reason other than damage (it is
                left as it is), or the new archive cannot be written (a full disk ...).
            TimeoutError: another process kept the start-up lock for minutes.

        """
        from filelock import FileLock  # here: the CLI imports this module at start-up

        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(os.fspath(path.with_name(path.name + ".lock")), timeout=BUSY_TIMEOUT_S * 4):
            full = not _checked_lately(path)
            problem = _problem_of(path, full=full)
            moved_to = salvage = None
            if problem:
                moved_to, salvage = _rebuild(path, runs_root)
            archive = cls(path, runs_root)
            added = archive.sync_all()
            counts = archive.counts()
            if full or problem:
                # closing the last connection folds the -wal into the file, so the stamp
                # recorded is the one the next start finds if nothing is written meanwhile
                archive.close()
                _record_clean_check(path)
        detail = " ".join((problem or "").split())  # one line: quick_check lists several
        found = salvage or _Salvage()
        return archive, ArchiveCheck(
            ok=problem is None, rebuilt=problem is not None,
            moved_to=os.fspath(moved_to) if moved_to else None, runs=counts["runs"],
            entries=counts["entries"], added=added, detail=detail[:300], full=full,
            salvaged=tuple(found.whole), salvaged_in_part=tuple(found.part),
            lost_runs=tuple(found.lost), lost_lines=found.lost_lines,
            salvage_detail=found.detail[:300])

    # -- feeding ----------------------------------------------------------------------------

    def sync_run(self, run_dir: Path, *, timeout_s: float | None = None) -> int:
        """Ingest the complete lines appended to one run folder's files since the last sync.

        Also adds the run's row (or refreshes it when ``run.json`` changed). A missing folder
        or file adds nothing. A file shorter than what was already ingested (replaced or cut
        by hand) is left alone and logged.

        Args:
            run_dir: ``<runs_root>/<run_id>``; its name is the run id.
            timeout_s: how long to wait for another writer's lock (default
                :data:`BUSY_TIMEOUT_S`); the run records pass a short one so a busy archive
                never holds a run up.

        Returns:
            The number of lines added.

        Raises:
            sqlite3.Error: the archive cannot be written (locked past the timeout, damaged,
                disk full); nothing of the failed batch is kept, and the next sync retries.

        """
        if not run_dir.is_dir():
            return 0
        run_id = run_dir.name
        with self._connect(timeout_s) as connection:
            known = _known_state(connection, run_id)
            added = 0
            if known.run_stamp != (_stamp(run_dir / "run.json") or ""):
                with _write(connection):
                    _refresh_run(connection, run_id, run_dir)
            for source, name in SOURCE_FILES.items():
                path = run_dir / name
                size = _size(path)
                done = known.bytes.get(source, 0)
                if size is None or size == done:
                    continue
                if size < done:
                    _log.warning("archive: %s is shorter (%d bytes) than what was archived"
                                 " (%d); left alone", path, size, done)
                    continue
                while True:
                    with _write(connection):
                        count, more = self._ingest_batch(connection, run_id, source, path)
                    added += count
                    if not more:
                        break
        return added

    def sync_all(self) -> int:
        """Sync every run folder under ``runs_root`` (see :meth:`sync_run`).

        Runs whose folders are gone (removed by retention) keep their archived lines.

        Returns:
            The number of lines added.

        Raises:
            sqlite3.Error: the archive cannot be written.

        """
        if not self.runs_root.is_dir():
            return 0
        added = 0
        for run_dir in sorted(self.runs_root.iterdir()):
            if run_dir.is_dir() and RUN_ID_PATTERN.fullmatch(run_dir.name):
                added += self.sync_run(run_dir)
        return added

    def unarchived(self, run_dir: Path, *, timeout_s: float | None = None) -> str | None:
        """Sync one run folder, then say what of its lines the archive still lacks.

        Retention asks this before it removes a folder, since the archive then keeps the only
        copy. The archive holds a run in full when, for both events.jsonl and program.log, the
        bytes it ingested equal the file's size (a missing file counts as empty). A last line
        without its newline (a crash's remains) is never ingested, so such a folder is never
        held in full; neither is one with a file cut shorter than what was archived.

        Args:
            run_dir: ``<runs_root>/<run_id>``.
            timeout_s: how long to wait for another writer's lock (default
                :data:`BUSY_TIMEOUT_S`).

        Returns:
            None when every byte is archived; otherwise what is missing, in one line (for
            example ``program.log: 1,200 of 1,260 bytes archived``).

        Raises:
            sqlite3.Error: the archive cannot be read or written (busy past the timeout,
                damaged, disk full).

        """
        self.sync_run(run_dir, timeout_s=timeout_s)
        with self._connect(timeout_s) as connection:
            known = _known_state(connection, run_dir.name)
        gaps = []
        for source, name in SOURCE_FILES.items():
            size = _size(run_dir / name) or 0
            done = known.bytes.get(source, 0)
            if done != size:
                gaps.append(f"{name}: {done:,} of {size:,} bytes archived")
        return "; ".join(gaps) or None

    def _ingest_batch(self, connection: sqlite3.Connection, run_id: str, source: str,
                      path: Path) -> tuple[int, bool]:
        """Ingest up to one batch of complete lines; returns (lines added, more to read).

        Runs inside the caller's write transaction, so the offset it reads is the latest.
        """
        row = connection.execute("SELECT bytes, lines, last_ts FROM files"
                                 " WHERE run_id = ? AND source = ?", (run_id, source)).fetchone()
        offset, lines, last_ts = (int(row[0]), int(row[1]), row[2]) if row else (0, 0, None)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return 0, False
        with handle:
            size = os.fstat(handle.fileno()).st_size
            if size <= offset:
                return 0, False
            handle.seek(offset)
            data = handle.read(min(size - offset, self._batch_bytes))
            end = data.rfind(b"\n")
            while end < 0 and offset + len(data) < size:  # one line longer than a batch
                data += handle.read(min(size - offset - len(data), self._batch_bytes))
                end = data.rfind(b"\n")
        if end < 0:  # only a torn line: it waits for its newline
            return 0, False
        rows = []
        position = offset
        first_ts: str | None = None
        for raw in data[:end].split(b"\n"):
            lines += 1
            parsed = _parse_event_line(raw) if source == "event" else _parse_log_line(raw)
            last_ts = parsed.ts or last_ts
            # a log line without a time of its own (a traceback) has its record's time
            ts = parsed.ts if source == "event" else last_ts
            first_ts = first_ts or ts
            rows.append((run_id, source, lines, position, ts, parsed.seq, parsed.type,
                         parsed.speaker, parsed.kind, parsed.node, _stored(raw),
                         _searchable(parsed.body)))
            position += len(raw) + 1
        connection.executemany(
            "INSERT INTO entries (run_id, source, line, offset, ts, seq, type, speaker, kind,"
            " node, raw, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        connection.execute(
            "INSERT INTO entries_fts (rowid, body) SELECT id, body FROM entries"
            " WHERE run_id = ? AND source = ? AND line > ?", (run_id, source, lines - len(rows)))
        connection.execute(
            "INSERT INTO files (run_id, source, bytes, lines, last_ts) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (run_id, source) DO UPDATE SET bytes = excluded.bytes,"
            " lines = excluded.lines, last_ts = excluded.last_ts",
            (run_id, source, position, lines, last_ts))
        connection.execute(
            "UPDATE runs SET first_ts = CASE WHEN ? < coalesce(first_ts, ?) THEN ?"
            " ELSE coalesce(first_ts, ?) END,"
            " last_ts = CASE WHEN ? > coalesce(last_ts, '') THEN ? ELSE last_ts END"
            " WHERE run_id = ?",
            (first_ts, first_ts, first_ts, first_ts, last_ts, last_ts, run_id))
        return len(rows), position < size

    # -- reading ----------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 20, run_id: str | None = None,
               types: Sequence[str] | None = None, since: str | None = None,
               until: str | None = None) -> list[ArchiveHit]:
        """Full-text search over every archived line, best matches first.

        The query is what a person typed: words (all must match, in any order, case and
        accents folded), ``"quoted phrases"``, and ``prefix*``. Punctuation is only a
        separator, so quotes, dashes, colons and the like never cause a syntax error; a query
        with no word in it finds nothing. Without filters, a query that matches more than
        :data:`RANKED_AT_MOST` lines ranks the newest that many.

        Args:
            query: the words to find.
            limit: the most hits returned (at least 1).
            run_id: only this run's lines.
            types: only lines of these types (``message``, ``tool_call``, ``log`` ...).
            since: only lines at or after this ISO-8601 time or date (naive: UTC).
            until: only lines before this ISO-8601 time; a bare date includes that whole day.

        Returns:
            The hits, highest :attr:`ArchiveHit.rank` first.

        Raises:
            ValueError: ``limit`` is below 1, or ``since``/``until`` is not an ISO-8601 date
                or time.

        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        match = fts_query(query)
        if match is None:
            return []
        conditions = ["entries_fts MATCH ?"]
        parameters: list[Any] = [match]
        if run_id is not None:
            conditions.append("e.run_id = ?")
            parameters.append(run_id)
        if types is not None:
            wanted = list(types)
            if not wanted:
                return []
            conditions.append(f"e.type IN ({', '.join('?' for _ in wanted)})")
            parameters += wanted
        if since is not None:
            conditions.append("e.ts >= ?")
            parameters.append(_time_bound(since, "since"))
        if until is not None:
            conditions.append("e.ts < ?")
            parameters.append(_time_bound(until, "until"))
        parameters.append(limit)
        with self._connect() as connection:
            if len(conditions) == 1:  # no filter: past RANKED_AT_MOST matches, rank the newest
                cut = connection.execute(
                    "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?"
                    " ORDER BY rowid DESC LIMIT 1 OFFSET ?", [match, RANKED_AT_MOST - 1]
                ).fetchone()
                if cut is not None:
                    conditions.append("entries_fts.rowid >= ?")
                    parameters.insert(1, int(cut[0]))
            # Only placeholders and fixed text are formatted into the statement.
            where = " AND ".join(conditions)
            statement = f"{_RANK} WHERE {where} ORDER BY score LIMIT ?"
            ranked = connection.execute(statement, parameters).fetchall()
            if not ranked:
                return []
            scores = {int(r["id"]): float(r["score"]) for r in ranked}
            ids = ", ".join("?" for _ in scores)
            rows = {int(r["id"]): r for r in connection.execute(
                _SNIPPETS.format(ids=ids), [MATCH_START, MATCH_END, match, *scores])}
        return [ArchiveHit(run_id=r["run_id"], source=r["source"], line=r["line"], ts=r["ts"],
                           type=r["type"], speaker=r["speaker"], kind=r["kind"],
                           snippet=r["snippet"] or "", rank=-scores[key])
                for key in scores if (r := rows.get(key)) is not None]

    def entries(self, run_id: str, source: str | None = None) -> list[ArchiveEntry]:
        """A run's archived lines in file order: events.jsonl's, then program.log's.

        Args:
            run_id: the run's id.
            source: only ``event`` or only ``log`` lines.

        Returns:
            The lines (empty for an unknown run).

        Raises:
            ValueError: an unknown ``source``.

        """
        if source is not None and source not in SOURCE_FILES:
            raise ValueError(f"unknown source {source!r}; known: {', '.join(SOURCE_FILES)}")
        query = ("SELECT run_id, source, line, offset, ts, seq, type, speaker, kind, node, raw"
                 " FROM entries WHERE run_id = ?")
        parameters: list[str] = [run_id]
        if source is not None:
            query += " AND source = ?"
            parameters.append(source)
        query += " ORDER BY source, line"
        with self._connect() as connection:
            rows = connection.execute(query, parameters).fetchall()
        return [ArchiveEntry(run_id=r["run_id"], source=r["source"], line=r["line"],
                             offset=r["offset"], ts=r["ts"], seq=r["seq"], type=r["type"],
                             speaker=r["speaker"], kind=r["kind"], node=r["node"],
                             raw=_loaded(r["raw"])) for r in rows]

    def run_ids(self) -> list[str]:
        """The ids of every archived run (also those whose folders are gone), sorted."""
        with self._connect() as connection:
            return [str(r[0]) for r in
                    connection.execute("SELECT run_id FROM runs ORDER BY run_id")]

    def counts(self) -> dict[str, int]:
        """What the archive holds.

        Returns:
            ``{"runs": n, "entries": n, "bytes": n}``: archived runs, lines, and bytes of run
            files ingested.

        """
        with self._connect() as connection:
            runs = connection.execute("SELECT count(*) FROM runs").fetchone()[0]
            entries = connection.execute("SELECT count(*) FROM entries").fetchone()[0]
            size = connection.execute("SELECT coalesce(sum(bytes), 0) FROM files").fetchone()[0]
        return {"runs": int(runs), "entries": int(entries), "bytes": int(size)}

    def close(self) -> None:
        """Close this process's connection (the archive can still be used: it reconnects).

        Safe to call more than once.
        """
        with self._lock:
            self._disconnect()

    def __repr__(self) -> str:
        return f"Archive({os.fspath(self.path)!r})"

    # -- connections ------------------------------------------------------------------------

    @contextmanager
    def _connect(self, timeout_s: float | None = None) -> Iterator[sqlite3.Connection]:
        """The process's connection, for the calling thread alone while the block runs.

        Raises:
            sqlite3.OperationalError: another thread of this process kept it past the timeout.

        """
        timeout = BUSY_TIMEOUT_S if timeout_s is None else timeout_s
        if not self._lock.acquire(timeout=timeout):
            raise sqlite3.OperationalError("the archive is busy in this process")
        try:
            connection = self._connected()
            if int(timeout * 1000) != self._timeout_ms:
                self._timeout_ms = int(timeout * 1000)
                connection.execute(f"PRAGMA busy_timeout = {self._timeout_ms:d}")
            try:
                yield connection
            except sqlite3.DatabaseError as exc:
                if not isinstance(exc, sqlite3.OperationalError):  # damaged: start afresh
                    self._disconnect()
                raise
        finally:
            self._lock.release()

    def _connected(self) -> sqlite3.Connection:
        try:
            status = self.path.stat()
            identity: tuple[int, int, int] | None = (os.getpid(), status.st_dev, status.st_ino)
        except FileNotFoundError:
            identity = None
        if self._connection is not None and identity == self._identity:
            return self._connection
        self._disconnect()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (autocommit otherwise).
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                     check_same_thread=False)
        connection.row_factory = sqlite3.Row
        # WAL + NORMAL: a commit is not fsync'd; a power cut may lose the last commits,
        # never consistency, and the run folders (fsync'd) refill them at the next sync.
        connection.execute("PRAGMA synchronous = NORMAL")
        self._connection, self._timeout_ms = connection, -1
        status = self.path.stat()
        self._identity = (os.getpid(), status.st_dev, status.st_ino)
        return connection

    def _disconnect(self) -> None:
        connection, identity = self._connection, self._identity
        self._connection = self._identity = None
        # A connection inherited through fork is dropped, not closed: closing it here could
        # checkpoint and delete the log the parent process is still writing.
        if connection is not None and (identity is None or identity[0] == os.getpid()):
            with suppress(sqlite3.Error):  # a broken handle: nothing more to release
                connection.close()


# -- schema -----------------------------------------------------------------------------------

def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    migrate(connection, MIGRATIONS, lambda version: ArchiveSchemaError(
        f"the archive {path} has schema version {version}, newer than this"
        f" MultiCoder's ({SCHEMA_VERSION}); upgrade MultiCoder (the file is left as it is)"))


# -- start-up check ---------------------------------------------------------------------------

_DAMAGE_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB (primary result codes)

CHECK_RECORD_SUFFIX = ".checked"
"""The file beside the archive (``archive.sqlite.checked``) recording its last clean full check:
the stamp (device, inode, size, modification time of the file and of its ``-wal``) and when."""

FULL_CHECK_INTERVAL = timedelta(days=1)
"""The full check runs at least this often, even on a file that did not change."""

_RACY_NS = 2_000_000_000
"""A stamp this close to the time it was taken is not trusted (file times are coarse, so a
write in the same tick would leave them as they were): the next start checks in full."""


def _database_stamp(path: Path) -> list[int] | None:
    """Device, inode, size and mtime (ns) of the file, then size and mtime of its -wal.

    A missing or empty -wal (one another process keeps open holds nothing yet) is ``-1, -1``.
    """
    try:
        status = path.stat()
    except OSError:
        return None
    stamp = [status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns]
    try:
        wal = path.with_name(path.name + "-wal").stat()
    except OSError:
        wal = None
    return stamp + ([wal.st_size, wal.st_mtime_ns] if wal and wal.st_size else [-1, -1])


def _checked_lately(path: Path) -> bool:
    """The file is unchanged since a clean full check less than a day ago (see the record)."""
    try:
        record = json.loads(path.with_name(path.name + CHECK_RECORD_SUFFIX).read_text("utf-8"))
        checked_at = datetime.fromisoformat(record["checked_at"])
        stamp = record["stamp"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    age = datetime.now(UTC) - checked_at
    return timedelta(0) <= age < FULL_CHECK_INTERVAL and stamp == _database_stamp(path)


def _record_clean_check(path: Path) -> None:
    """Record the file's stamp after a clean full check (nothing when the stamp is too fresh)."""
    record = path.with_name(path.name + CHECK_RECORD_SUFFIX)
    taken = datetime.now(UTC)
    stamp = _database_stamp(path)
    try:
        if stamp is None or max(stamp[3], stamp[5]) > taken.timestamp() * 1e9 - _RACY_NS:
            record.unlink(missing_ok=True)
            return
        partial = record.with_name(record.name + ".partial")
        partial.write_text(json.dumps({"stamp": stamp, "checked_at": taken.isoformat()}),
                           encoding="utf-8")
        partial.replace(record)
    except OSError as exc:  # only costs a full check at the next start
        _log.info("archive: could not record the clean check in %s: %s", record, exc)


def _problem_of(path: Path, *, full: bool = True) -> str | None:
    """What is wrong with the file at ``path`` in one line, or None (also when missing).

    Only damage counts: a file that cannot be opened now (permissions, a lock, I/O) is not
    moved aside, since the archive may hold runs whose folders are gone. Without ``full``, only
    the header and the schema are read (not ``quick_check`` nor the consistency check).

    Raises:
        ArchiveSchemaError: a sound file from a newer MultiCoder.
        sqlite3.Error: the file cannot be opened or read, for a reason other than damage.

    """
    if not path.exists():
        return None
    try:
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000):d}")
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise ArchiveSchemaError(
                    f"the archive {path} has schema version {version}, newer than this"
                    f" MultiCoder's ({SCHEMA_VERSION}); upgrade MultiCoder (the file is left"
                    " as it is)")
            if not full:
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return None
            found = [str(r[0]) for r in connection.execute("PRAGMA quick_check(3)")]
            if found != ["ok"]:
                return "integrity check failed: " + "; ".join(found)
            if version >= 1:
                return _inconsistency(connection, version)
            return None
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed" ...
        if _is_damage(exc):
            return str(exc)
        raise


def _is_damage(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in _DAMAGE_CODES


_INCONSISTENT = (
    "SELECT f.run_id, f.source, f.lines, count(e.line), coalesce(max(e.line), 0)"
    " FROM files AS f LEFT JOIN entries AS e ON e.run_id = f.run_id AND e.source = f.source"
    " GROUP BY f.run_id, f.source"
    " HAVING count(e.line) != f.lines - f.lost OR coalesce(max(e.line), 0) > f.lines"
    " OR (f.lost = 0 AND coalesce(max(e.line), 0) != f.lines)"
    " LIMIT 1")
_INCONSISTENT_BEFORE_3 = (  # no files.lost yet
    "SELECT f.run_id, f.source, f.lines, count(e.line), coalesce(max(e.line), 0)"
    " FROM files AS f LEFT JOIN entries AS e ON e.run_id = f.run_id AND e.source = f.source"
    " GROUP BY f.run_id, f.source"
    " HAVING count(e.line) != f.lines OR coalesce(max(e.line), 0) != f.lines"
    " LIMIT 1")


def _inconsistency(connection: sqlite3.Connection, version: int) -> str | None:
    """A (run, file) whose recorded line count disagrees with its rows, or None.

    From version 3 on, lines a rebuild could not salvage (``files.lost``) are not expected.
    """
    row = connection.execute(_INCONSISTENT if version >= 3 else _INCONSISTENT_BEFORE_3
                             ).fetchone()
    if row is None:
        return None
    return (f"run {row[0]} {SOURCE_FILES.get(row[1], row[1])}: {row[2]} lines recorded,"
            f" {row[3]} rows found")


def _move_aside(path: Path) -> Path:
    """Keep a damaged archive aside (:func:`memory.schema.move_aside`) and say so in the log."""
    target = move_aside(path)
    _log.info("archive: %s was damaged; kept aside as %s and rebuilt", path, target)
    return target


# -- rebuild and salvage ----------------------------------------------------------------------

REBUILDING_SUFFIX = ".rebuilding"
"""The new archive is built as ``archive.sqlite.rebuilding`` and renamed when complete."""

SALVAGE_PREFIX = ".archive-salvage-"
"""The scratch folder (beside the archive) holding the copy of a damaged file being read."""

_SALVAGE_BATCH = 500


def _rebuild(path: Path, runs_root: Path) -> tuple[Path, _Salvage]:
    """Replace the damaged file at ``path`` by a new archive holding what can be salvaged.

    The new file is built beside it with what a copy of the damaged file still holds of runs
    whose folders are gone (:func:`_salvage_into`), then the damaged file is moved aside and the
    new one takes its place; the run folders are ingested afterwards (:meth:`Archive.sync_all`).
    A process killed before the swap leaves the damaged file in place, so the next start
    salvages it again; its scratch files are removed then.

    Returns:
        Where the damaged file was kept, and what was salvaged.

    Raises:
        OSError: the files cannot be moved.
        sqlite3.Error: the new archive cannot be written (a full disk ...).

    """
    fresh = path.with_name(path.name + REBUILDING_SUFFIX)
    for leftover in path.parent.glob(glob_escape(SALVAGE_PREFIX) + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        fresh.with_name(fresh.name + suffix).unlink(missing_ok=True)
    target = Archive(fresh, runs_root)
    try:
        salvage = _salvage_into(target, path, runs_root)
        with target._connect() as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        target.close()
    for suffix in ("-wal", "-shm"):  # empty once checkpointed (and usually gone with the close)
        fresh.with_name(fresh.name + suffix).unlink(missing_ok=True)
    moved_to = _move_aside(path)
    path.with_name(path.name + CHECK_RECORD_SUFFIX).unlink(missing_ok=True)
    fresh.replace(path)
    return moved_to, salvage


@dataclass
class _Salvage:
    """What a rebuild took from the damaged file (see :class:`ArchiveCheck`)."""

    whole: list[str] = field(default_factory=list)
    part: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    lost_lines: int = 0
    detail: str = ""


def _salvage_into(target: Archive, damaged: Path, runs_root: Path) -> _Salvage:
    """Copy into ``target`` what the damaged file still holds of runs whose folders are gone.

    The damaged file (with its ``-wal``) is copied to a scratch folder beside it and the copy
    is read: the damaged file itself is never opened. Unreadable parts are stepped over.

    Raises:
        sqlite3.Error: ``target`` cannot be written.

    """
    scratch = Path(tempfile.mkdtemp(prefix=SALVAGE_PREFIX, dir=damaged.parent))
    try:
        copy = scratch / damaged.name
        try:
            shutil.copyfile(damaged, copy)
            wal = damaged.with_name(damaged.name + "-wal")
            if wal.exists():
                shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        except OSError as exc:
            return _Salvage(detail=f"it could not be copied to be read: {exc}")
        try:
            source = sqlite3.connect(copy, isolation_level=None)
        except sqlite3.Error as exc:
            return _Salvage(detail=f"it could not be opened: {exc}")
        try:
            with suppress(sqlite3.Error):  # look harder at each page read: fewer silent errors
                source.execute("PRAGMA cell_size_check = ON")
            with target._connect() as connection:
                return _Salvager(source, connection, runs_root).run()
        finally:
            source.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


_RUNS_BY_ROWID = ("SELECT rowid, run_id, run_dir, task, created_at, config, config_stamp,"
                  " first_ts, last_ts, archived_at FROM runs"
                  " WHERE rowid >= ? ORDER BY rowid LIMIT ?")
_RUN_BY_ID = ("SELECT run_id, run_dir, task, created_at, config, config_stamp, first_ts, last_ts,"
              " archived_at FROM runs WHERE run_id = ?")
_ADD_RUN = ("INSERT INTO runs (run_id, run_dir, task, created_at, config, config_stamp, first_ts,"
            " last_ts, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_RUN_ARCHIVED_AT = 8  # the index of archived_at in a runs row
_ENTRIES_BY_ID = ("SELECT id, run_id, source, line, offset, ts, seq, type, speaker, kind, node,"
                  " raw FROM entries WHERE id >= ? ORDER BY id LIMIT ?")
_NEXT_RUN_ID = {
    "files": "SELECT run_id FROM files WHERE run_id > ? ORDER BY run_id LIMIT 1",
    "entries": "SELECT run_id FROM entries WHERE run_id > ? ORDER BY run_id LIMIT 1"}


class _Salvager:
    """Reads a damaged archive (``source``) into a new one (``target``), run by run.

    Only runs whose folders are gone are taken (the others are ingested from their folders).
    Every read of ``source`` tolerates damage: a scan steps over unreadable pages (see
    :meth:`_scan`), a lookup that fails is skipped; a row whose values do not fit the schema is
    left out like an unreadable one. Writes to ``target`` raise.
    """

    def __init__(self, source: sqlite3.Connection, target: sqlite3.Connection,
                 runs_root: Path) -> None:
        self.source, self.target, self.runs_root = source, target, runs_root
        self.folders: dict[str, bool] = {}
        self.run_rows: dict[str, tuple[Any, ...]] = {}
        self.file_rows: dict[tuple[str, str], tuple[int, int, str | None]] = {}
        self.first_error: str | None = None
        self.read_any = False

    def run(self) -> _Salvage:
        """Salvage every run without a folder; returns what was and was not."""
        for row in self._scan(_RUNS_BY_ROWID):
            if isinstance(row[1], str):
                self.run_rows.setdefault(row[1], tuple(row[1:]))
        for row in self._read("SELECT run_id, source, bytes, lines, last_ts FROM files"):
            self._keep_file_row(row)
        run_ids = set(self.run_rows) | {key[0] for key in self.file_rows}
        run_ids |= self._walk_run_ids("files") | self._walk_run_ids("entries")
        run_ids |= self._copy_entries()
        result = _Salvage()
        for run_id in sorted(run_ids):
            if not self._has_folder(run_id):
                self._finish_run(run_id, result)
        with _write(self.target):
            self.target.execute("INSERT INTO entries_fts (entries_fts) VALUES ('rebuild')")
        if not self.read_any:
            result.detail = f"nothing in it could be read: {self.first_error}"
        return result

    # -- reading the damaged copy ---------------------------------------------------------------

    def _failed(self, exc: sqlite3.Error) -> None:
        self.first_error = self.first_error or f"{type(exc).__name__}: {exc}"

    def _read(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of ``statement`` read before the first error (all of them, if none)."""
        rows: list[tuple[Any, ...]] = []
        try:
            for row in self.source.execute(statement, parameters):
                rows.append(tuple(row))
            self.read_any = True
        except sqlite3.DatabaseError as exc:
            self._failed(exc)
            self.read_any = self.read_any or bool(rows)
        return rows

    def _scan(self, statement: str) -> Iterator[tuple[Any, ...]]:
        """The rows of a rowid-ordered ``statement``, stepping over unreadable parts.

        ``statement`` selects the rowid first and takes two parameters, the least rowid and a
        row limit (``... WHERE rowid >= ? ORDER BY rowid LIMIT ?``). After an error, seeks
        further on (doubling the step) find the next place a read succeeds, and a bisection
        narrows the unreadable stretch down, so the rows after a damaged page are still read.
        """
        start = -(2 ** 63)
        while True:
            count = 0
            try:
                for row in self.source.execute(statement, (start, _SALVAGE_BATCH)):
                    count += 1
                    start = int(row[0]) + 1
                    self.read_any = True
                    yield tuple(row)
            except sqlite3.DatabaseError as exc:
                self._failed(exc)
                resumed = self._next_readable(statement, start)
                if resumed is None:
                    return
                start = resumed
                continue
            if count < _SALVAGE_BATCH:
                return

    def _next_readable(self, statement: str, failed: int) -> int | None:
        """The least rowid above ``failed`` from which a read succeeds (None: none found)."""
        bad, step = failed, 1
        good = None
        while good is None:
            if bad + step >= 2 ** 63:
                return None
            if self._readable_from(statement, bad + step):
                good = bad + step
            else:
                bad, step = bad + step, step * 2
        while good - bad > 1:
            middle = (bad + good) // 2
            if self._readable_from(statement, middle):
                good = middle
            else:
                bad = middle
        return good

    def _readable_from(self, statement: str, start: int) -> bool:
        try:
            self.source.execute(statement, (start, 1)).fetchall()
        except sqlite3.DatabaseError:
            return False
        return True

    def _walk_run_ids(self, table: str) -> set[str]:
        """Run ids found by seeking along ``table``'s index by run id, up to an error."""
        found: set[str] = set()
        last = ""
        while True:
            rows = self._read(_NEXT_RUN_ID[table], (last,))
            if not rows or not isinstance(rows[0][0], str):
                return found
            last = rows[0][0]
            found.add(last)

    def _keep_file_row(self, row: Sequence[Any]) -> None:
        run_id, source, size, lines, last_ts = row
        if (isinstance(run_id, str) and source in SOURCE_FILES and _count(size)
                and _count(lines)):
            self.file_rows[(run_id, source)] = (size, lines, _text_or_none(last_ts))

    def _has_folder(self, run_id: str) -> bool:
        if run_id not in self.folders:
            self.folders[run_id] = bool(RUN_ID_PATTERN.fullmatch(run_id)) and (
                self.runs_root / run_id).is_dir()
        return self.folders[run_id]

    # -- writing the new archive ----------------------------------------------------------------

    def _copy_entries(self) -> set[str]:
        """Copy the readable lines of runs without a folder; returns every run id seen."""
        seen: set[str] = set()
        batch: list[tuple[Any, ...]] = []
        for row in self._scan(_ENTRIES_BY_ID):
            run_id = row[1]
            if not isinstance(run_id, str):
                continue
            seen.add(run_id)
            entry = None if self._has_folder(run_id) else _entry_values(row[1:])
            if entry is not None:
                batch.append(entry)
            if len(batch) >= _SALVAGE_BATCH:
                self._insert_entries(batch)
                batch = []
        self._insert_entries(batch)
        return seen

    def _insert_entries(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            with _write(self.target):  # a duplicate line number is damage: the first is kept
                self.target.executemany(
                    "INSERT OR IGNORE INTO entries (run_id, source, line, offset, ts, seq, type,"
                    " speaker, kind, node, raw, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows)

    def _finish_run(self, run_id: str, result: _Salvage) -> None:
        """Add the run's row and file rows; count it as salvaged (in whole or part) or lost."""
        files = []
        read = missing = 0
        for source in SOURCE_FILES:
            count, last_line = self.target.execute(
                "SELECT count(*), coalesce(max(line), 0) FROM entries"
                " WHERE run_id = ? AND source = ?", (run_id, source)).fetchone()
            recorded = self._file_row(run_id, source)
            if recorded is None and not count:
                continue
            size, lines, last_ts = recorded or (0, 0, None)
            if lines < last_line:  # the recorded offset is short of what was read
                offset, raw, last_ts = self.target.execute(
                    "SELECT offset, raw, ts FROM entries WHERE run_id = ? AND source = ?"
                    " ORDER BY line DESC LIMIT 1", (run_id, source)).fetchone()
                size, lines = int(offset) + len(_loaded(raw)) + 1, last_line
            files.append((run_id, source, size, lines, last_ts, lines - count))
            read, missing = read + count, missing + lines - count
        run_row = self.run_rows.get(run_id) or self._run_row(run_id)
        if run_row is None and not read:
            result.lost.append(run_id)
            return
        with _write(self.target):
            self.target.executemany(
                "INSERT INTO files (run_id, source, bytes, lines, last_ts, lost)"
                " VALUES (?, ?, ?, ?, ?, ?)", files)
            self.target.execute(_ADD_RUN, _run_values(run_id, run_row, self.runs_root))
            self.target.execute(
                "UPDATE runs SET first_ts = coalesce(first_ts, (SELECT min(ts) FROM entries"
                " WHERE run_id = ?1)), last_ts = coalesce(last_ts, (SELECT max(ts) FROM entries"
                " WHERE run_id = ?1)) WHERE run_id = ?1", (run_id,))
        if missing:
            result.part.append(run_id)
            result.lost_lines += missing
        else:
            result.whole.append(run_id)

    def _file_row(self, run_id: str, source: str) -> tuple[int, int, str | None] | None:
        if (run_id, source) not in self.file_rows:  # not reached by the scan: look it up
            for row in self._read("SELECT run_id, source, bytes, lines, last_ts FROM files"
                                  " WHERE run_id = ? AND source = ?", (run_id, source)):
                self._keep_file_row(row)
        return self.file_rows.get((run_id, source))

    def _run_row(self, run_id: str) -> tuple[Any, ...] | None:
        rows = self._read(_RUN_BY_ID, (run_id,))
        return rows[0] if rows else None


def _count(value: object) -> bool:
    """A non-negative integer (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _entry_values(row: Sequence[Any]) -> tuple[Any, ...] | None:
    """An entries row read from a damaged file, checked, or None when a value does not fit.

    Its body is made again from ``raw``, so a search matches the line as a sync would.
    """
    run_id, source, line, offset, ts, seq, type_, speaker, kind, node, raw = row
    if (source not in SOURCE_FILES or not _count(line) or not line or not _count(offset)
            or not isinstance(type_, str) or not isinstance(raw, str | bytes)):
        return None
    parsed = (_parse_event_line if source == "event" else _parse_log_line)(_loaded(raw))
    return (run_id, source, line, offset, _text_or_none(ts),
            seq if isinstance(seq, int) and not isinstance(seq, bool) else None, type_,
            _text_or_none(speaker), _text_or_none(kind), _text_or_none(node), raw,
            _searchable(parsed.body))


def _run_values(run_id: str, row: Sequence[Any] | None, runs_root: Path) -> tuple[Any, ...]:
    """A runs row read from a damaged file, checked; made from the id alone when unreadable."""
    values = [value if isinstance(value, str) else None
              for value in (row or [None] * (_RUN_ARCHIVED_AT + 1))]
    values[0] = run_id
    values[1] = values[1] or os.fspath(runs_root / run_id)
    values[_RUN_ARCHIVED_AT] = (values[_RUN_ARCHIVED_AT]
                                or datetime.now(UTC).isoformat(timespec="milliseconds"))
    return tuple(values)


# -- run rows ---------------------------------------------------------------------------------

class _KnownState:
    """What the archive holds of one run: its run.json stamp and bytes ingested per source."""

    def __init__(self, run_stamp: str | None, ingested: dict[str, int]) -> None:
        self.run_stamp = run_stamp
        self.bytes = ingested


def _known_state(connection: sqlite3.Connection, run_id: str) -> _KnownState:
    row = connection.execute("SELECT config_stamp FROM runs WHERE run_id = ?",
                             (run_id,)).fetchone()
    ingested = {str(r[0]): int(r[1]) for r in connection.execute(
        "SELECT source, bytes FROM files WHERE run_id = ?", (run_id,))}
    # A run not archived yet gets a stamp no file has, so its row is added.
    return _KnownState(str(row[0]) if row else "<new>", ingested)


def _stamp(path: Path) -> str | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return f"{status.st_mtime_ns}:{status.st_size}"


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _refresh_run(connection: sqlite3.Connection, run_id: str, run_dir: Path) -> None:
    """Add the run's row, or update it from a changed run.json (read verbatim)."""
    config_path = run_dir / "run.json"
    stamp = _stamp(config_path)
    try:
        config: str | None = config_path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        config = None
    task = created = None
    if config:
        try:
            value = json.loads(config)
        except ValueError:
            value = None
        if isinstance(value, dict):
            task = value.get("task") if isinstance(value.get("task"), str) else None
            created = value.get("created_at") if isinstance(value.get("created_at"), str) else None
    connection.execute(
        "INSERT INTO runs (run_id, run_dir, task, created_at, config, config_stamp, archived_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET"
        " run_dir = excluded.run_dir, task = coalesce(excluded.task, task),"
        " created_at = coalesce(excluded.created_at, created_at),"
        " config = coalesce(excluded.config, config), config_stamp = excluded.config_stamp",
        (run_id, os.fspath(run_dir), task, created, config, stamp or "",
         datetime.now(UTC).isoformat(timespec="milliseconds")))


# -- lines ------------------------------------------------------------------------------------

class _Parsed:
    """The columns read from one line."""

    __slots__ = ("body", "kind", "node", "seq", "speaker", "ts", "type")

    def __init__(self, type: str, body: str, *, ts: str | None = None, seq: int | None = None,
                 speaker: str | None = None, kind: str | None = None,
                 node: str | None = None) -> None:
        self.type, self.body, self.ts, self.seq = type, body, ts, seq
        self.speaker, self.kind, self.node = speaker, kind, node


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _parse_event_line(raw: bytes) -> _Parsed:
    """An events.jsonl line: a JSON object with ts/seq/type, or :data:`UNPARSABLE`."""
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        return _Parsed(UNPARSABLE, raw.decode("utf-8", errors="replace"))
    event_type = value.get("type")
    event_type = event_type if isinstance(event_type, str) and event_type else "event"
    seq = value.get("seq")
    if event_type == "message":
        parts = [value.get("speaker"), value.get("title"), value.get("text")]
        body = "\n".join(p for p in parts if isinstance(p, str) and p)
    else:
        body = " ".join([event_type, *_words_of(
            {k: v for k, v in value.items() if k not in ("ts", "seq", "type")})])
    return _Parsed(event_type, body, ts=_text_or_none(value.get("ts")),
                   seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
                   speaker=_text_or_none(value.get("speaker")),
                   kind=_text_or_none(value.get("kind")), node=_text_or_none(value.get("node")))


def _words_of(value: object) -> Iterator[str]:
    """The searchable text of a JSON value: its strings and numbers, depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _words_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from _words_of(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


_LOG_LINE = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) ([A-Z]+) "
                       r"(?:node=(\S+) )?(.*)", re.S)


def _parse_log_line(raw: bytes) -> _Parsed:
    """A program.log line (see :data:`memory.records.LOG_FORMAT`).

    Other lines (a traceback's) keep their text and get no time of their own.
    """
    text = raw.decode("utf-8", errors="replace")
    match = _LOG_LINE.fullmatch(text)
    if match is None:
        return _Parsed(LOG_TYPE, text)
    day, clock, millis, level, node, message = match.groups()
    return _Parsed(LOG_TYPE, message, ts=f"{day}T{clock}.{millis}+00:00", kind=level, node=node)


def _stored(raw: bytes) -> str | bytes:
    """Valid UTF-8 as text, anything else as bytes (a BLOB): both come back byte for byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _loaded(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _searchable(text: str) -> str:
    """``text`` with ``ё`` folded to ``е`` (unicode61 leaves it as it is)."""
    return text.replace("ё", "е").replace("Ё", "Е")


# -- queries ----------------------------------------------------------------------------------

_QUERY_PART = re.compile(r'"([^"]*)"?|([^\s"]+)')


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for a query typed by a person, or None if it has no word.

    Each bare word and each ``"quoted phrase"`` becomes a quoted FTS5 string (inner quotes
    doubled), so operators and punctuation are never parsed; all of them must match. A bare
    word ending in ``*`` is a prefix. Parts without a letter or digit are dropped.

    Args:
        text: the query as typed (any characters, unbalanced quotes included).

    Returns:
        For example ``"csv" "to xlsx" "замет"*``.

    """
    terms = []
    for match in _QUERY_PART.finditer(_searchable(text)):
        phrase, word = match.groups()
        part = phrase if phrase is not None else word
        prefix = word is not None and word.endswith("*")
        part = part.rstrip("*") if prefix else part
        if not any(character.isalnum() for character in part):
            continue
        terms.append('"' + part.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms) if terms else None


def _time_bound(text: str, name: str) -> str:
    """``since``/``until`` as a UTC time stamp comparable with the archive's ``ts``."""
    value = text.strip()
    try:
        if len(value) == 10:  # a bare date: from its start, or (until) through its end
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=name == "until"), time(), UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} {text!r} is not an ISO-8601 date or time"
                         " (e.g. 2026-11-21 or 2026-11-21T19:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
