"""The archive (M1): every line of every run folder, verbatim, in order, exactly once; search."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from memory.archive import (
    MATCH_END,
    MATCH_START,
    MIGRATIONS,
    SCHEMA_VERSION,
    UNPARSABLE,
    Archive,
    ArchiveSchemaError,
    fts_query,
)
from memory.records import RunRecord
from memory.redaction import Redactor

FAKE_KEY = "sk-proj-FAKEFAKE" + "x7Qz" * 10


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def archive(data: Path) -> Archive:
    return Archive(data / "archive.sqlite", data / "runs")


@pytest.fixture
def redactor(monkeypatch: pytest.MonkeyPatch) -> Redactor:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    return Redactor.from_environment()


def complete_lines(path: Path) -> list[bytes]:
    """The complete lines of a file (up to its last newline), without their newlines."""
    data = path.read_bytes() if path.exists() else b""
    end = data.rfind(b"\n")
    return data[:end].split(b"\n") if end >= 0 else []


def assert_archive_matches_folder(archive: Archive, run_dir: Path) -> None:
    for source, name in (("event", "events.jsonl"), ("log", "program.log")):
        archived = archive.entries(run_dir.name, source)
        assert [e.raw for e in archived] == complete_lines(run_dir / name), (run_dir, source)
        assert [e.line for e in archived] == list(range(1, len(archived) + 1))


def write_lines(path: Path, lines: list[str], *, end: str = "\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        handle.write(("\n".join(lines) + end).encode("utf-8"))


def event_line(seq: int, type: str = "check", **fields: object) -> str:
    return json.dumps({"ts": f"2026-11-21T19:00:{seq % 60:02d}.000+00:00", "seq": seq,
                       "type": type, **fields}, ensure_ascii=False)


# -- verbatim, in order ---------------------------------------------------------------------------

def test_a_runs_events_chat_and_log_are_archived_verbatim_and_in_order(
        data: Path, archive: Archive, redactor: Redactor) -> None:
    record = RunRecord.create(data / "runs", "run-1", redactor, archive=archive)
    record.write_json("run.json", {"task": "Менеджер заметок 📝", "created_at": "2026-11-21"})
    record.event("run_created", task="Менеджер заметок 📝 with `code` and \"quotes\"")
    record.event("tool_call", action="write_file", params={"path": "app.py", "nested": [1, {
        "deep": "ёлка 🎄"}]})
    long_text = "```python\nprint('x')\n```\n" + "длинный текст " * 400 + f" key={FAKE_KEY}"
    record.chat("coder", long_text, kind="message", title="ответ")
    record.chat("coder", json.dumps({"tool": "write_file", "args": {"content": "a\tb"}}),
                kind="tool_call", title="write_file")
    try:
        raise ValueError("боль\nна двух строках")
    except ValueError:
        record.logger.exception("сбой")  # a multi-line record: each line is archived
    record.close()

    assert_archive_matches_folder(archive, record.run_dir)
    events = archive.entries("run-1", "event")
    assert [e.type for e in events] == ["run_created", "tool_call", "message", "message"]
    message = events[2]
    assert (message.speaker, message.kind) == ("coder", "message")
    journaled = json.loads(message.raw)
    assert journaled["title"] == "ответ"
    assert journaled["text"] == long_text.replace(FAKE_KEY, "[REDACTED]")  # whole, redacted
    assert FAKE_KEY not in (data / "archive.sqlite").read_bytes().decode("latin-1")
    logs = archive.entries("run-1", "log")
    assert any(e.text.endswith("ValueError: боль") for e in logs)
    continuation = next(e for e in logs if e.text == "на двух строках")
    assert continuation.ts == logs[logs.index(continuation) - 1].ts  # a traceback inherits
    short = next(e for e in logs if " message speaker=coder kind=message" in e.text)
    assert len(short.raw) < 200 and "длинный" not in short.text  # the log names it only
    assert archive.run_ids() == ["run-1"]
    assert archive.counts()["entries"] == len(events) + len(logs)


def test_chat_journals_each_entry_before_chat_md_with_its_fields(
        data: Path, redactor: Redactor) -> None:
    record = RunRecord.create(data / "runs", "run-1", redactor)
    record.chat(f"tool {FAKE_KEY}", "результат", kind="tool_result", title="read_file")
    record.close()
    (event,) = record.iter_events()
    assert {k: event[k] for k in ("type", "speaker", "kind", "title", "text")} == {
        "type": "message", "speaker": "tool [REDACTED]", "kind": "tool_result",
        "title": "read_file", "text": "результат"}
    assert "результат" in record.chat_md.read_text("utf-8")


def test_resyncing_adds_nothing_twice(data: Path, archive: Archive, redactor: Redactor) -> None:
    record = RunRecord.create(data / "runs", "run-1", redactor, archive=archive)
    for n in range(30):
        record.event("step", n=n)
    record.close()
    before = archive.counts()
    assert archive.sync_run(record.run_dir) == 0
    assert archive.sync_all() == 0
    again = Archive(data / "archive.sqlite", data / "runs")  # another process, say
    assert again.sync_all() == 0
    assert again.counts() == before
    assert_archive_matches_folder(again, record.run_dir)


def test_a_torn_last_line_waits_for_its_newline_and_junk_is_kept_verbatim(
        data: Path, archive: Archive) -> None:
    run_dir = data / "runs" / "run-1"
    events = run_dir / "events.jsonl"
    write_lines(events, [event_line(1)])
    events.open("ab").write(b'{"ts": "2026-11-21T19:00:02.000+00:00", "seq": 2, "ty')  # torn
    assert archive.sync_run(run_dir) == 1
    assert archive.sync_run(run_dir) == 0  # still torn: nothing
    events.open("ab").write(b'pe": "check"}\n' + b"not json at all\n" + b"\xff\xfe broken utf-8\n"
                            + b"[1, 2]\n")
    assert archive.sync_run(run_dir) == 4
    archived = archive.entries("run-1", "event")
    assert [e.raw for e in archived] == complete_lines(events)
    assert [e.type for e in archived] == ["check", "check", UNPARSABLE, UNPARSABLE, UNPARSABLE]
    assert archived[3].raw == b"\xff\xfe broken utf-8"  # byte for byte, not decoded
    assert archived[1].seq == 2 and archived[1].offset == len(complete_lines(events)[0]) + 1


def test_a_line_longer_than_a_batch_is_taken_whole(data: Path) -> None:
    archive = Archive(data / "archive.sqlite", data / "runs", batch_bytes=64)
    run_dir = data / "runs" / "run-1"
    lines = [event_line(n, text="ж" * (n * 50)) for n in range(1, 20)]
    write_lines(run_dir / "events.jsonl", lines)
    assert archive.sync_run(run_dir) == len(lines)
    assert [e.text for e in archive.entries("run-1")] == lines


def test_a_file_cut_shorter_than_archived_is_left_alone(data: Path, archive: Archive) -> None:
    run_dir = data / "runs" / "run-1"
    write_lines(run_dir / "events.jsonl", [event_line(1), event_line(2)])
    archive.sync_run(run_dir)
    (run_dir / "events.jsonl").write_text(event_line(9) + "\n")
    assert archive.sync_run(run_dir) == 0
    assert [e.seq for e in archive.entries("run-1")] == [1, 2]


def test_runs_removed_by_retention_keep_their_archived_lines(
        data: Path, archive: Archive, redactor: Redactor) -> None:
    record = RunRecord.create(data / "runs", "old-run", redactor, archive=archive)
    record.event("run_created", task="a timer")
    record.close()
    kept = archive.entries("old-run")
    shutil.rmtree(record.run_dir)
    assert archive.sync_all() == 0
    assert archive.entries("old-run") == kept and archive.run_ids() == ["old-run"]
    assert archive.search("timer")[0].run_id == "old-run"


# -- several writers ------------------------------------------------------------------------------

def test_threads_syncing_one_run_while_it_grows_store_each_line_once(data: Path) -> None:
    run_dir = data / "runs" / "run-1"
    run_dir.mkdir(parents=True)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for n in range(1, 1501):
                line = event_line(n, text=f"строка {n} 🚀")
                with (run_dir / "events.jsonl").open("ab") as handle:
                    handle.write(line.encode()[:10])  # torn for a moment
                    handle.flush()
                    handle.write(line.encode()[10:] + b"\n")
        finally:
            stop.set()

    def syncer() -> None:
        own = Archive(data / "archive.sqlite", data / "runs", batch_bytes=512)  # own connection
        shared = archive_shared
        try:
            while not stop.is_set():
                own.sync_run(run_dir)
                shared.sync_run(run_dir)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    archive_shared = Archive(data / "archive.sqlite", data / "runs", batch_bytes=1024)
    threads = [threading.Thread(target=syncer) for _ in range(4)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    archive_shared.sync_run(run_dir)
    archived = archive_shared.entries("run-1")
    assert len(archived) == 1500
    assert [e.raw for e in archived] == complete_lines(run_dir / "events.jsonl")
    assert [e.seq for e in archived] == list(range(1, 1501))


def _sync_in_process(path: str, runs: str, run_dir: str, rounds: int) -> int:
    archive = Archive(Path(path), Path(runs), batch_bytes=2048)
    return sum(archive.sync_run(Path(run_dir)) for _ in range(rounds))


def _append_in_process(run_dir: str, start: int, count: int) -> None:
    path = Path(run_dir) / "program.log"
    for n in range(start, start + count):
        with path.open("ab") as handle:
            handle.write(f"2026-11-21 19:00:00,{n % 1000:03d} INFO node=coder шаг {n}\n".encode())


def test_processes_syncing_one_run_at_once_store_each_line_once(data: Path) -> None:
    run_dir = data / "runs" / "run-1"
    write_lines(run_dir / "events.jsonl", [event_line(n, text="x" * (n % 300))
                                           for n in range(1, 6001)])
    Archive(data / "archive.sqlite", data / "runs")  # created once, up front
    context = multiprocessing.get_context("spawn")
    args = (str(data / "archive.sqlite"), str(data / "runs"), str(run_dir))
    with context.Pool(4) as pool:
        appending = pool.apply_async(_append_in_process, (str(run_dir), 0, 3000))
        syncing = [pool.apply_async(_sync_in_process, (*args, 40)) for _ in range(3)]
        added = [result.get(timeout=300) for result in syncing]
        appending.get(timeout=300)
    archive = Archive(data / "archive.sqlite", data / "runs")
    added.append(archive.sync_run(run_dir))
    assert sum(added) == 6000 + 3000  # every line added by exactly one of them
    assert_archive_matches_folder(archive, run_dir)
    assert len(archive.entries("run-1")) == 9000


# -- search ---------------------------------------------------------------------------------------

@pytest.fixture
def searchable(data: Path, archive: Archive) -> Archive:
    first, second = data / "runs" / "run-a", data / "runs" / "run-b"
    write_lines(first / "events.jsonl", [
        event_line(1, "message", speaker="coder", kind="message", title="план",
                   text="Менеджер ЗАМЕТОК: поиск по-русски без учёта регистра"),
        event_line(2, "tool_call", action="write_file", params={"path": "notes/db.py"}),
        event_line(3, "check_result", check="pytest", message="AssertionError: Ёлка != елка"),
    ])
    write_lines(first / "program.log", [
        "2026-11-21 19:00:01,000 INFO node=coder write_file notes/db.py",
        "2026-11-21 19:00:02,000 WARNING sqlite3.OperationalError: no such column: \"tags\"",
    ])
    write_lines(second / "events.jsonl", [
        "{" + event_line(1, "message", speaker="planner", text="CSV to XLSX converter")[1:]
        .replace("19:00:01", "18:00:01").replace("2026-11-21", "2026-11-22"),
    ])
    archive.sync_all()
    return archive


def test_search_finds_words_in_any_case_with_the_match_marked(searchable: Archive) -> None:
    hits = searchable.search("заметок")
    assert [(h.run_id, h.source, h.line, h.type) for h in hits] == [
        ("run-a", "event", 1, "message")]
    assert f"{MATCH_START}ЗАМЕТОК{MATCH_END}" in hits[0].snippet
    assert hits[0].speaker == "coder" and hits[0].ts == "2026-11-21T19:00:01.000+00:00"
    assert {h.run_id for h in searchable.search("csv XLSX")} == {"run-b"}
    assert searchable.search("ЁЛКА")[0].type == "check_result"  # ё and е are one letter
    assert searchable.search("учета")[0].line == 1
    assert searchable.search("замет*")[0].line == 1  # a prefix
    assert searchable.search("заметк") == []  # no stemming: a bare word is a whole word


def test_search_filters_by_run_type_and_time(searchable: Archive) -> None:
    assert {(h.source, h.type) for h in searchable.search("db.py")} == {
        ("event", "tool_call"), ("log", "log")}
    assert [h.source for h in searchable.search("db.py", types=["log"])] == ["log"]
    assert searchable.search("db.py", types=[]) == []
    assert searchable.search("converter", run_id="run-a") == []
    assert len(searchable.search("converter", run_id="run-b")) == 1
    assert searchable.search("converter", since="2026-11-22") != []
    assert searchable.search("converter", until="2026-11-21") == []
    assert searchable.search("converter", until="2026-11-22") != []  # a date: the whole day
    assert searchable.search("db.py", until="2026-11-21T19:00:01.500") != []
    assert searchable.search("column", until="2026-11-21T19:00:01.500") == []
    assert searchable.search("column", since="2026-11-21T21:00:00+02:00") != []  # 19:00 UTC
    with pytest.raises(ValueError, match="since 'yesterday' is not an ISO-8601"):
        searchable.search("x", since="yesterday")
    with pytest.raises(ValueError, match="limit"):
        searchable.search("x", limit=0)
    assert len(searchable.search("2026", limit=1)) <= 1


@pytest.mark.parametrize("query", [
    '"', '""', '"unbalanced', "a-b", "no such column: \"tags\"", "col:x", "NOT", "AND OR NEAR",
    "(", ")", "*", "**", "^start", "+1", "tags\"", "a:b:c d-e", "заметок -удалить", "🚀",
    "C++", "x' OR 1=1 --", "NEAR(a b)", "{a b}", "' ; DROP TABLE entries; --", "\\", "ё",
])
def test_typed_queries_never_raise(searchable: Archive, query: str) -> None:
    hits = searchable.search(query)
    assert isinstance(hits, list)
    assert searchable.counts()["entries"] == 6


def test_punctuation_in_a_query_is_only_a_separator(searchable: Archive) -> None:
    assert [h.source for h in searchable.search('no such column: "tags"')] == ["log"]
    assert [h.type for h in searchable.search("OperationalError:")] == ["log"]
    assert searchable.search("по-русски")[0].run_id == "run-a"
    assert fts_query('say "hello world" to x*') == '"say" "hello world" "to" "x"*'
    assert fts_query('a""b') == '"a" "b"'
    assert fts_query("-- : !") is None


# -- schema -------------------------------------------------------------------------------------

def test_an_archive_of_an_older_version_is_migrated_and_keeps_its_lines(data: Path) -> None:
    path = data / "archive.sqlite"
    path.parent.mkdir(parents=True)
    connection = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0](connection)  # what version 1 wrote: no full-text index yet
    connection.execute("INSERT INTO runs (run_id, run_dir, archived_at) VALUES ('old', 'x', 't')")
    connection.execute("INSERT INTO files VALUES ('old', 'event', 24, 1, NULL)")
    connection.execute("INSERT INTO entries (run_id, source, line, offset, type, raw, body)"
                       " VALUES ('old', 'event', 1, 0, 'message', ?, 'давняя заметка')",
                       ('{"text": "давняя заметка"}',))
    connection.execute("PRAGMA user_version = 1")
    connection.close()

    archive = Archive(path, data / "runs")
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert [(h.run_id, h.line) for h in archive.search("заметка")] == [("old", 1)]
    assert archive.entries("old")[0].raw == '{"text": "давняя заметка"}'.encode()


def test_an_archive_from_a_newer_multicoder_is_refused_and_left_alone(data: Path) -> None:
    path = data / "archive.sqlite"
    Archive(path, data / "runs")
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 99")
    before = path.read_bytes()
    with pytest.raises(ArchiveSchemaError, match=r"schema version 99, newer .* upgrade MultiCoder"):
        Archive(path, data / "runs")
    with pytest.raises(ArchiveSchemaError):
        Archive.open_checked(path, data / "runs")
    assert path.read_bytes() == before
    assert list(data.glob("archive.sqlite.damaged-*")) == []


# -- start-up check -----------------------------------------------------------------------------

def test_start_up_catches_up_and_reports_a_sound_archive(data: Path, redactor: Redactor) -> None:
    record = RunRecord.create(data / "runs", "run-1", redactor)  # no archive while it ran
    record.event("run_created", task="t")
    record.close()
    archive, check = Archive.open_checked(data / "archive.sqlite", data / "runs")
    assert (check.ok, check.rebuilt, check.moved_to, check.runs) == (True, False, None, 1)
    assert check.added == check.entries == 2 and check.notice() is None
    assert_archive_matches_folder(archive, record.run_dir)


def test_rows_missing_behind_the_offsets_are_found_and_rebuilt(
        data: Path, redactor: Redactor) -> None:
    archive, _ = Archive.open_checked(data / "archive.sqlite", data / "runs")
    record = RunRecord.create(data / "runs", "run-1", redactor, archive=archive)
    for n in range(10):
        record.event("step", n=n)
    record.close()
    archive.close()
    with sqlite3.connect(data / "archive.sqlite") as connection:
        connection.execute("DELETE FROM entries WHERE line = 5")  # lost rows, sound pages
    reopened, check = Archive.open_checked(data / "archive.sqlite", data / "runs")
    assert not check.ok and check.rebuilt
    assert "run run-1 events.jsonl: 10 lines recorded, 9 rows found" in check.detail
    assert check.moved_to is not None and Path(check.moved_to).is_file()
    assert_archive_matches_folder(reopened, record.run_dir)
    notice = check.notice()
    assert notice is not None and f"kept aside at {check.moved_to}" in notice
    assert "rebuilt from the run folders" in notice


def test_runs_whose_folders_are_gone_are_salvaged_or_named_when_rebuilt(
        data: Path, redactor: Redactor) -> None:
    archive, _ = Archive.open_checked(data / "archive.sqlite", data / "runs")
    for run_id in ("gone-1", "gone-2", "gone-3", "gone-4", "gapped", "whole", "kept"):
        record = RunRecord.create(data / "runs", run_id, redactor, archive=archive)
        record.write_json("run.json", {"task": f"task of {run_id}"})
        for n in range(3):
            record.event("step", n=n, note=f"шаг {n} of {run_id}")
        record.close()
        if run_id != "kept":  # removed by retention: the archive is the only copy
            shutil.rmtree(record.run_dir)
    whole, gapped = archive.entries("whole"), archive.entries("gapped")
    archive.close()
    with sqlite3.connect(data / "archive.sqlite") as connection:  # rows lost, pages sound
        connection.execute("DELETE FROM entries WHERE run_id LIKE 'gone-%'")
        connection.execute("DELETE FROM runs WHERE run_id LIKE 'gone-%'")
        connection.execute("DELETE FROM entries WHERE run_id = 'gapped' AND line = 2"
                           " AND source = 'event'")

    reopened, check = Archive.open_checked(data / "archive.sqlite", data / "runs")

    assert check.rebuilt and check.salvaged == ("whole",)
    assert check.salvaged_in_part == ("gapped",) and check.lost_lines == 1
    assert check.lost_runs == ("gone-1", "gone-2", "gone-3", "gone-4")
    assert reopened.entries("whole") == whole
    assert reopened.entries("gapped") == [e for e in gapped
                                          if (e.source, e.line) != ("event", 2)]
    assert reopened.run_ids() == ["gapped", "kept", "whole"]
    assert len(reopened.search("шаг whole", types=["step"])) == 3  # searchable again
    notice = check.notice() or ""
    assert ("runs whose folders are gone, from the damaged file: 1 salvaged in full, 1 salvaged"
            " in part (1 unreadable lines left out: gapped), 4 not readable at all: gone-1,"
            " gone-2, gone-3 and 1 more") in notice, notice
    again, second = Archive.open_checked(data / "archive.sqlite", data / "runs")
    assert second.ok and not second.rebuilt  # a known gap is not damage
    assert again.entries("gapped") == reopened.entries("gapped")


# -- write-through never holds a run up ------------------------------------------------------

class BrokenArchive(Archive):
    def __init__(self, path: Path, runs_root: Path) -> None:
        super().__init__(path, runs_root)
        self.broken = True

    def sync_run(self, run_dir: Path, *, timeout_s: float | None = None) -> int:
        if self.broken:
            raise sqlite3.OperationalError("database is locked")
        return super().sync_run(run_dir, timeout_s=timeout_s)


def test_an_archive_failure_is_logged_once_and_the_run_goes_on(
        data: Path, redactor: Redactor) -> None:
    archive = BrokenArchive(data / "archive.sqlite", data / "runs")
    record = RunRecord.create(data / "runs", "run-1", redactor, archive=archive)
    for n in range(5):
        record.event("step", n=n)
        record.chat("coder", f"answer {n}")
    assert len(list(record.iter_events())) == 10  # nothing lost, nothing blocked
    log = record.program_log.read_text("utf-8")
    assert log.count("archive: could not store this run's new lines"
                     " (OperationalError: database is locked)") == 1
    archive.broken = False
    record.event("step", n=5)  # the next sync catches up with everything
    record.close()
    assert_archive_matches_folder(archive, record.run_dir)


def test_the_doctor_row_says_a_damaged_archive_is_rebuilt_at_the_next_start(
        data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph.diagnostics import _archive_row
    from graph.settings import Settings

    monkeypatch.setenv("MULTICODER_CONFIG", str(data / "none.toml"))
    settings = Settings(data_dir=data)
    assert _archive_row(settings).state == "ok"
    data.mkdir(parents=True, exist_ok=True)
    (data / "archive.sqlite").write_bytes(b"this is not a database" * 100)
    row = _archive_row(settings)
    assert row.state == "down" and "rebuilds the archive from the run folders" in \
        row.recommendation


def test_a_run_waits_for_a_locked_archive_two_seconds_at_most_then_goes_on(
        data: Path, archive: Archive, redactor: Redactor) -> None:
    import time

    record = RunRecord.create(data / "runs", "run-1", redactor, archive=archive)
    other = sqlite3.connect(data / "archive.sqlite", isolation_level=None)  # another process
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    started = time.monotonic()
    record.event("step", n=1)
    assert time.monotonic() - started < 5
    assert [e["n"] for e in record.iter_events()] == [1]
    assert "database is locked" in record.program_log.read_text("utf-8")
    other.execute("ROLLBACK")
    other.close()
    record.event("step", n=2)
    record.close()
    assert_archive_matches_folder(archive, record.run_dir)


def test_an_archive_that_cannot_be_opened_is_left_alone_and_runs_go_on_without_it(
        data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph import Engine, Settings

    (data / "archive.sqlite").mkdir(parents=True)  # not damage: nothing to move aside
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        Archive.open_checked(data / "archive.sqlite", data / "runs")
    monkeypatch.setenv("MULTICODER_CONFIG", str(data / "none.toml"))
    engine = Engine(Settings(data_dir=data, sandbox={"backend": "local"},
                             models={r: ["replay:notes-sqlite"] for r in
                                     ("planner", "coder", "judge")}))
    assert engine.archive is None and not engine.archive_check.ok
    notice = engine.archive_check.notice()
    assert notice is not None and "unable to open" in notice and "without it" in notice
    run_id = engine.start("a notes manager")
    assert [e["type"] for e in engine.services(run_id).record.iter_events()][:1] == ["run_created"]
    assert (data / "archive.sqlite").is_dir() and list(data.glob("archive.sqlite.damaged-*")) == []


def test_a_word_in_more_lines_than_are_ranked_finds_the_newest_and_filters_reach_older(
        archive: Archive, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import memory.archive as archive_module

    monkeypatch.setattr(archive_module, "RANKED_AT_MOST", 3)
    old, new = data / "runs" / "run-old", data / "runs" / "run-new"
    # the old run's lines say "converter" three times: they would rank first if all were ranked
    write_lines(old / "events.jsonl", [event_line(n, "message", text="converter converter"
                                                  " converter") for n in range(1, 6)])
    write_lines(new / "events.jsonl", [event_line(n, "message", text=f"converter step {n}")
                                       for n in range(1, 6)])
    archive.sync_run(old)
    archive.sync_run(new)

    hits = archive.search("converter", limit=10)
    assert [(h.run_id, h.line) for h in hits] and {h.run_id for h in hits} == {"run-new"}
    assert sorted(h.line for h in hits) == [3, 4, 5]  # the newest three matches
    older = archive.search("converter", limit=10, run_id="run-old")
    assert sorted(h.line for h in older) == [1, 2, 3, 4, 5]
    assert all("«converter»" in h.snippet for h in older)
