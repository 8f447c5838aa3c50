"""Retention never removes a run folder whose lines are not all in the archive (L1, M1).

Once retention removes a folder, the archive keeps the only copy of its lines; so a folder goes
only after the archive has synced it and holds every byte of events.jsonl and program.log, and
nothing goes while the archive is not open.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from memory import retention
from memory.archive import Archive
from memory.records import RunRecord
from memory.redaction import Redactor
from memory.retention import apply_retention
from memory.run_index import RunIndex

if TYPE_CHECKING:
    from graph import Engine

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return tmp_path / "data" / "runs"


@pytest.fixture
def index(tmp_path: Path) -> RunIndex:
    return RunIndex(tmp_path / "data" / "runs.sqlite", clock=lambda: LONG_AGO)


@pytest.fixture
def archive(tmp_path: Path, runs: Path) -> Archive:
    return Archive(tmp_path / "data" / "archive.sqlite", runs)


def finished_run(index: RunIndex, runs: Path, run_id: str, *, archive: Archive | None = None,
                 steps: int = 3) -> RunRecord:
    """A run finished long ago, written with or without the archive attached."""
    record = RunRecord.create(runs, run_id, Redactor(), archive=archive)
    for step in range(steps):
        record.event("tool_call", action="write_file", step=step, content=f"строка {step} ёлка")
        record.logger.info("step %d done", step)
    record.close()
    index.add(run_id, "a timer", str(record.run_dir))
    index.update(run_id, status="done")
    return record


def lines_of(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return data[:data.rfind(b"\n")].split(b"\n")


def archived(archive: Archive, run_id: str, source: str) -> list[bytes]:
    return [entry.raw for entry in archive.entries(run_id, source)]


def test_a_folder_whose_lines_never_reached_the_archive_is_synced_before_it_goes(
        index: RunIndex, runs: Path, archive: Archive) -> None:
    record = finished_run(index, runs, "never-synced")  # no archive while it ran (a crash)
    events, log = lines_of(record.events_path), lines_of(record.program_log)
    assert archive.entries("never-synced") == []

    assert apply_retention(index, runs, archive=archive, keep_days=30, keep_last=0) == [
        "never-synced"]

    assert not record.run_dir.exists()
    assert archived(archive, "never-synced", "event") == events
    assert archived(archive, "never-synced", "log") == log
    assert archive.search("ёлка")[0].run_id == "never-synced"


def test_a_folder_with_a_line_the_archive_cannot_take_yet_is_kept(
        index: RunIndex, runs: Path, archive: Archive, caplog: pytest.LogCaptureFixture) -> None:
    record = finished_run(index, runs, "torn", archive=archive)
    with record.events_path.open("ab") as handle:  # a crash's remains: no newline yet
        handle.write(b'{"ts": "2026-11-21T19:00:00.000+00:00", "seq": 99, "type": "ch')

    with caplog.at_level(logging.WARNING, logger="memory.retention"):
        assert apply_retention(index, runs, archive=archive, keep_days=30, keep_last=0) == []
    assert record.run_dir.is_dir() and index.get("torn").status == "done"
    said = [r.getMessage() for r in caplog.records if "kept run torn" in r.getMessage()]
    assert len(said) == 1 and "events.jsonl" in said[0] and "bytes archived" in said[0]

    with record.events_path.open("ab") as handle:  # the line completed: now it can go
        handle.write(b'eck"}\n')
    events = lines_of(record.events_path)
    assert apply_retention(index, runs, archive=archive, keep_days=30, keep_last=0) == ["torn"]
    assert not record.run_dir.exists()
    assert archived(archive, "torn", "event") == events


def test_nothing_is_removed_without_an_open_archive(
        index: RunIndex, runs: Path, caplog: pytest.LogCaptureFixture) -> None:
    record = finished_run(index, runs, "old-run")
    with caplog.at_level(logging.WARNING, logger="memory.retention"):
        assert apply_retention(index, runs, archive=None, keep_days=30, keep_last=0) == []
    assert record.run_dir.is_dir() and index.get("old-run").status == "done"
    assert any("archive is not open" in r.getMessage() for r in caplog.records)


def test_a_busy_archive_stops_retention_and_removes_nothing(
        index: RunIndex, runs: Path, archive: Archive, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(retention, "ARCHIVE_TIMEOUT_S", 0.2)
    first = finished_run(index, runs, "first")
    second = finished_run(index, runs, "second")
    other = sqlite3.connect(archive.path, isolation_level=None)  # another process writing
    other.execute("BEGIN IMMEDIATE")
    try:
        with caplog.at_level(logging.WARNING, logger="memory.retention"):
            assert apply_retention(index, runs, archive=archive, keep_days=30, keep_last=0) == []
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert first.run_dir.is_dir() and second.run_dir.is_dir()
    stopped = [r.getMessage() for r in caplog.records if "retention stopped" in r.getMessage()]
    assert len(stopped) == 1 and "database is locked" in stopped[0]  # one wait, not one per run
    assert sorted(apply_retention(index, runs, archive=archive, keep_days=30,
                                  keep_last=0)) == ["first", "second"]


# -- through the engine ---------------------------------------------------------------------------

def engine_with_an_old_run(data: Path, monkeypatch: pytest.MonkeyPatch
                           ) -> tuple[Engine, Path]:
    from graph import Engine, Settings

    index = RunIndex(data / "runs.sqlite", clock=lambda: LONG_AGO)
    record = finished_run(index, data / "runs", "20200101-000000-abcdef")
    monkeypatch.setenv("MULTICODER_CONFIG", str(data / "none.toml"))
    engine = Engine(Settings(data_dir=data, sandbox={"backend": "local"},
                             retention_days=30, retention_keep_last=0,
                             models={r: ["replay:notes-sqlite"] for r in
                                     ("planner", "coder", "judge")}))
    return engine, record.run_dir


def test_an_engine_whose_archive_cannot_be_opened_removes_no_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    (data / "archive.sqlite").mkdir(parents=True)  # cannot be opened: the start-up sync fails
    engine, old = engine_with_an_old_run(data, monkeypatch)
    assert engine.archive is None

    engine.start("a notes manager")

    assert old.is_dir() and (old / "events.jsonl").stat().st_size > 0
    assert engine.get_run(old.name).status == "done"


def test_an_engine_removes_an_old_run_once_its_lines_are_archived(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    engine, old = engine_with_an_old_run(data, monkeypatch)
    events = lines_of(old / "events.jsonl")

    engine.start("a notes manager")

    assert not old.exists()
    kept = engine.archive
    assert [e.raw for e in kept.entries(old.name, "event")] == events
