"""The run index (SQLite, several processes) and the retention policy."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memory.archive import Archive
from memory.records import RunExistsError, RunNotFound, RunRecord
from memory.redaction import Redactor
from memory.retention import apply_retention
from memory.run_index import SCHEMA_VERSION, IndexSchemaError, RunIndex, RunRow

T0 = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def index(tmp_path: Path, clock: FakeClock) -> RunIndex:
    return RunIndex(tmp_path / "data" / "runs.sqlite", clock=clock)


def test_add_get_update(index: RunIndex, clock: FakeClock) -> None:
    added = index.add("run-1", "a CSV to XLSX converter", "/runs/run-1")
    assert added == index.get("run-1")
    assert added.status == "created"
    assert added.created_at == added.updated_at == "2026-11-21T19:00:00.000000+00:00"
    clock.advance(minutes=5)
    index.update("run-1", status="done", outcome="done", artifact="/runs/run-1/dist/app")
    row = index.get("run-1")
    assert isinstance(row, RunRow)
    assert (row.status, row.outcome, row.artifact, row.error) == (
        "done", "done", "/runs/run-1/dist/app", None)
    assert row.created_at == added.created_at
    assert row.updated_at == "2026-11-21T19:05:00.000000+00:00"
    index.update("run-1", artifact=None, error="gone")
    assert (index.get("run-1").artifact, index.get("run-1").error) == (None, "gone")


def test_wal_mode_and_schema_version(index: RunIndex) -> None:
    connection = sqlite3.connect(index.path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        connection.close()
    RunIndex(index.path)  # reopening an up-to-date file is a no-op


def test_newer_schema_is_refused(index: RunIndex) -> None:
    connection = sqlite3.connect(index.path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(IndexSchemaError, match="newer"):
        RunIndex(index.path)


def test_unknown_fields_statuses_and_runs(index: RunIndex) -> None:
    index.add("run-1", "task", "/runs/run-1")
    with pytest.raises(ValueError, match="unknown run index field"):
        index.update("run-1", colour="blue")
    with pytest.raises(ValueError, match="unknown run index field"):
        index.update("run-1", created_at="2000-01-01")
    with pytest.raises(ValueError, match="unknown run status"):
        index.update("run-1", status="exploded")
    with pytest.raises(ValueError, match="cannot be empty"):
        index.update("run-1", task=None)
    with pytest.raises(TypeError):
        index.update("run-1", error=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown run status"):
        index.add("run-2", "task", "/runs/run-2", status="paused")  # type: ignore[arg-type]
    with pytest.raises(RunNotFound):
        index.get("nope")
    with pytest.raises(RunNotFound):
        index.update("nope", status="done")
    with pytest.raises(RunExistsError):
        index.add("run-1", "again", "/runs/run-1")
    assert index.get("run-1").task == "task"  # the failed calls changed nothing


def test_list_newest_first_with_limit_and_status(index: RunIndex, clock: FakeClock) -> None:
    for n in range(5):
        index.add(f"run-{n}", f"task {n}", f"/runs/run-{n}")
        clock.advance(minutes=1)
    index.add("run-5-same-time", "t", "/r")  # same created_at as the next: insertion order
    index.add("run-6-same-time", "t", "/r")
    index.update("run-1", status="done")
    index.update("run-3", status="waiting")
    assert [r.run_id for r in index.list()] == [
        "run-6-same-time", "run-5-same-time", "run-4", "run-3", "run-2", "run-1", "run-0"]
    assert [r.run_id for r in index.list(limit=2)] == ["run-6-same-time", "run-5-same-time"]
    assert [r.run_id for r in index.list(status="done")] == ["run-1"]
    assert [r.run_id for r in index.list(status=["done", "waiting"])] == ["run-3", "run-1"]
    assert len(index.list(limit=None)) == 7
    with pytest.raises(ValueError):
        index.list(limit=0)


def test_delete(index: RunIndex) -> None:
    index.add("run-1", "task", "/runs/run-1")
    assert index.delete("run-1") is True
    assert index.delete("run-1") is False
    with pytest.raises(RunNotFound):
        index.get("run-1")


def _hammer(path: str, worker: int, count: int) -> None:
    index = RunIndex(Path(path))
    for n in range(count):
        run_id = f"w{worker}-{n}"
        index.add(run_id, f"task {n}", f"/runs/{run_id}")
        index.update(run_id, status="running")
        index.update("shared", error=f"worker {worker} step {n}")
        index.update(run_id, status="done", outcome="done")


def test_two_processes_update_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    RunIndex(path).add("shared", "both touch this row", "/runs/shared")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_hammer, args=(str(path), w, 40)) for w in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [p.exitcode for p in workers] == [0, 0]
    rows = RunIndex(path).list(limit=None)
    assert len(rows) == 81
    assert {r.status for r in rows if r.run_id != "shared"} == {"done"}
    assert RunIndex(path).get("shared").error in {"worker 0 step 39", "worker 1 step 39"}


# -- retention --------------------------------------------------------------------------------

@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive.sqlite", tmp_path / "runs")


def _make_run(index: RunIndex, runs: Path, clock: FakeClock, run_id: str, status: str,
              age_days: float) -> None:
    clock.now = T0 - timedelta(days=age_days)
    record = RunRecord.create(runs, run_id, Redactor())
    (record.workspace / "main.py").write_text("print('hi')\n")
    record.event("run_created")
    record.close()
    index.add(run_id, "task", str(record.run_dir))
    if status != "created":
        index.update(run_id, status=status)


def test_retention_removes_only_old_finished_runs(tmp_path: Path, index: RunIndex,
                                                  clock: FakeClock, archive: Archive) -> None:
    runs = tmp_path / "runs"
    plan = [  # oldest first
        ("old-done", "done", 100), ("old-failed", "failed", 95), ("old-cancelled", "cancelled", 94),
        ("old-rejected", "rejected", 93), ("old-running", "running", 92),
        ("old-waiting", "waiting", 91), ("old-created", "created", 90.5),
        ("old-kept-by-count", "done", 40), ("new-done", "done", 1),
    ]
    for run_id, status, age in plan:
        _make_run(index, runs, clock, run_id, status, age)
    (runs / "stray-folder").mkdir()  # not in the index: left alone

    deleted = apply_retention(index, runs, archive=archive, keep_days=30, keep_last=2, now=T0)

    assert deleted == ["old-rejected", "old-cancelled", "old-failed", "old-done"]
    remaining = {r.run_id for r in index.list(limit=None)}
    assert remaining == {"old-running", "old-waiting", "old-created", "old-kept-by-count",
                         "new-done"}
    assert sorted(p.name for p in runs.iterdir()) == sorted([*remaining, "stray-folder"])


def test_retention_keep_last_protects_newest(tmp_path: Path, index: RunIndex,
                                            clock: FakeClock, archive: Archive) -> None:
    runs = tmp_path / "runs"
    for n in range(6):
        _make_run(index, runs, clock, f"run-{n}", "done", age_days=100 - n)
    deleted = apply_retention(index, runs, archive=archive, keep_days=30, keep_last=4, now=T0)
    assert deleted == ["run-1", "run-0"]
    assert [r.run_id for r in index.list()] == ["run-5", "run-4", "run-3", "run-2"]
    assert apply_retention(index, runs, archive=archive, keep_days=30, keep_last=4, now=T0) == []
    assert apply_retention(index, runs, archive=archive, keep_days=None, keep_last=0, now=T0) == []
    assert len(index.list()) == 4
    assert apply_retention(index, runs, archive=archive, keep_days=30, keep_last=None, now=T0) == [
        "run-5", "run-4", "run-3", "run-2"]
    assert list(runs.iterdir()) == []


def test_retention_counts_age_from_the_last_change(tmp_path: Path, index: RunIndex,
                                                   clock: FakeClock, archive: Archive) -> None:
    runs = tmp_path / "runs"
    _make_run(index, runs, clock, "resumed-lately", "running", age_days=100)
    clock.now = T0 - timedelta(days=2)
    index.update("resumed-lately", status="done")
    assert apply_retention(index, runs, archive=archive, keep_days=30, keep_last=0, now=T0) == []


def test_retention_row_without_folder_and_bad_arguments(tmp_path: Path, index: RunIndex,
                                                        clock: FakeClock, archive: Archive) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    clock.now = T0 - timedelta(days=50)
    index.add("no-folder", "task", str(runs / "no-folder"))
    index.update("no-folder", status="failed")
    assert apply_retention(index, runs, archive=archive, keep_days=30, keep_last=0,
                           now=T0) == ["no-folder"]
    with pytest.raises(ValueError):
        apply_retention(index, runs, archive=archive, keep_days=-1, keep_last=0)
    with pytest.raises(ValueError):
        apply_retention(index, runs, archive=archive, keep_days=1, keep_last=-1)
