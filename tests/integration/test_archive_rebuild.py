"""A damaged archive is detected at start-up, kept aside, and rebuilt from the run folders (M1).

"A copy of the archive with corrupted pages is detected at start-up and rebuilt from the run
folders with nothing lost": pages in the middle of a copy (and, separately, its header) are
overwritten; opening it at start-up moves it aside (the file is kept) and the rebuilt archive
holds exactly the original's entries. Then the same through the real CLI.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memory.archive import Archive
from memory.records import RunRecord
from memory.redaction import Redactor
from memory.retention import apply_retention
from memory.run_index import RunIndex
from tests.conftest import isolated_env, run_cli, run_id_of

PAGE = 4096


def make_runs(data: Path) -> Archive:
    """Three runs written through the archive, with enough text for a few hundred pages."""
    archive, _ = Archive.open_checked(data / "archive.sqlite", data / "runs")
    rng = random.Random(7)
    for number in range(3):
        record = RunRecord.create(data / "runs", f"20261121-19000{number}-abcdef", Redactor(),
                                  archive=archive)
        record.write_json("run.json", {"task": f"задача {number}", "created_at": "2026-11-21"})
        for step in range(150):
            words = " ".join(rng.choice(["заметка", "ёлка", "csv", "`code`", "🚀", "ошибка",
                                         "fix", "{\"a\": 1}"]) for _ in range(rng.randint(5, 80)))
            record.event("tool_call", action="write_file", step=step, content=words)
            record.chat("coder", f"шаг {step}: {words}", kind="message", title="ответ")
        try:
            raise RuntimeError(f"run {number} failed\nsecond line")
        except RuntimeError:
            record.logger.exception("internal error")
        record.close()
    return archive


def snapshot(archive: Archive) -> dict[str, list[object]]:
    return {run_id: archive.entries(run_id) for run_id in archive.run_ids()}


def corrupt_pages(path: Path, seed: int) -> list[int]:
    """Overwrite four pages in the middle of the file with random bytes; returns their numbers."""
    rng = random.Random(seed)
    pages = path.stat().st_size // PAGE
    chosen = sorted(rng.sample(range(pages // 3, 2 * pages // 3), 4))
    with path.open("r+b") as handle:
        for page in chosen:
            handle.seek(page * PAGE)
            handle.write(rng.randbytes(PAGE))
    return chosen


def corrupt_header(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.write(b"this is no longer SQLite " * 4)


@pytest.mark.parametrize("damage", ["pages", "header"])
def test_a_corrupted_copy_is_detected_kept_aside_and_rebuilt_with_nothing_lost(
        tmp_path: Path, damage: str) -> None:
    data = tmp_path / "data"
    archive = make_runs(data)
    original = snapshot(archive)
    hits = [(h.run_id, h.line) for h in archive.search("ёлка ошибка", limit=50)]
    archive.close()
    assert not (data / "archive.sqlite-wal").exists()  # all in the main file: a clean copy
    assert (data / "archive.sqlite").stat().st_size > 100 * PAGE

    copy = tmp_path / "copy" / "archive.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(data / "archive.sqlite", copy)
    if damage == "pages":
        corrupt_pages(copy, seed=11)
    else:
        corrupt_header(copy)
    damaged = copy.read_bytes()

    rebuilt, check = Archive.open_checked(copy, data / "runs")

    assert not check.ok and check.rebuilt, check
    assert check.detail  # what was wrong, in one line
    kept = Path(check.moved_to or "")
    assert kept.parent == copy.parent and kept.name.startswith("archive.sqlite.damaged-")
    assert kept.read_bytes() == damaged  # kept as it was, never deleted
    assert snapshot(rebuilt) == original  # every line of every run, nothing lost or added
    assert (check.runs, check.entries) == (3, sum(len(v) for v in original.values()))
    assert [(h.run_id, h.line) for h in rebuilt.search("ёлка ошибка", limit=50)] == hits
    again, second = Archive.open_checked(copy, data / "runs")  # the next start: sound
    assert second.ok and not second.rebuilt and second.added == 0
    assert snapshot(again) == original


# -- runs whose folders retention removed: salvaged from the damaged file --------------------

MARKERS = {"20261121-190000-aaaaaa": "alphamark", "20261121-190001-bbbbbb": "betamark",
           "20261121-190002-cccccc": "gammamark"}
REMOVED = "20261121-190001-bbbbbb"


def make_marked_runs(data: Path) -> Archive:
    """Three runs, one after the other, each line of a run naming its marker; then retention
    removes the middle run's folder (the archive is then its only copy)."""
    archive, _ = Archive.open_checked(data / "archive.sqlite", data / "runs")
    index = RunIndex(data / "runs.sqlite", clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    rng = random.Random(3)
    for run_id, marker in MARKERS.items():
        record = RunRecord.create(data / "runs", run_id, Redactor(), archive=archive)
        record.write_json("run.json", {"task": f"задача {marker}", "created_at": "2026-11-21"})
        for step in range(120):
            words = " ".join(rng.choice(["заметка", "ёлка", "csv", "🚀", "fix"])
                             for _ in range(rng.randint(5, 60)))
            record.event("tool_call", action="write_file", step=step, content=f"{marker} {words}")
        record.logger.info("%s finished", marker)
        record.close()
        index.add(run_id, marker, str(record.run_dir))
        index.update(run_id, status="done" if run_id == REMOVED else "waiting")
    removed = apply_retention(index, data / "runs", archive=archive, keep_days=30, keep_last=0)
    assert removed == [REMOVED] and not (data / "runs" / REMOVED).exists()
    archive.close()
    assert not (data / "archive.sqlite-wal").exists()
    return archive


def pages_with(path: Path, marker: str, *, without: tuple[str, ...], least: int = 4
               ) -> list[int]:
    """Pages holding ``marker`` at least ``least`` times (table rows, each with its raw line and
    body), and none of the ``without`` texts."""
    data = path.read_bytes()
    found = []
    for page in range(1, len(data) // PAGE):
        content = data[page * PAGE:(page + 1) * PAGE]
        if (content.count(marker.encode()) >= least
                and not any(text.encode() in content for text in without)):
            found.append(page)
    return found


def overwrite(path: Path, pages: list[int], seed: int) -> None:
    rng = random.Random(seed)
    with path.open("r+b") as handle:
        for page in pages:
            handle.seek(page * PAGE)
            handle.write(rng.randbytes(PAGE))


def test_a_run_removed_by_retention_is_salvaged_whole_from_a_corrupted_archive(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    archive = make_marked_runs(data)
    original = snapshot(archive)
    found = sorted((h.source, h.line) for h in archive.search(MARKERS[REMOVED], limit=1000))
    archive.close()
    other = next(iter(MARKERS))
    chosen = pages_with(data / "archive.sqlite", MARKERS[other],
                        without=(MARKERS[REMOVED], REMOVED))
    assert len(chosen) >= 6
    overwrite(data / "archive.sqlite", chosen[1:5], seed=5)  # another run's pages

    rebuilt, check = Archive.open_checked(data / "archive.sqlite", data / "runs")

    assert check.rebuilt and check.full and check.moved_to
    assert check.salvaged == (REMOVED,) and check.salvaged_in_part == check.lost_runs == ()
    assert snapshot(rebuilt) == original  # the removed run from the damaged file, the rest
    hits = rebuilt.search(MARKERS[REMOVED], limit=1000)  # searchable as before
    assert {h.run_id for h in hits} == {REMOVED} and len(found) > 200
    assert sorted((h.source, h.line) for h in hits) == found
    notice = check.notice() or ""
    assert "runs whose folders are gone, from the damaged file: 1 salvaged in full" in notice
    again, second = Archive.open_checked(data / "archive.sqlite", data / "runs")
    assert second.ok and not second.rebuilt and snapshot(again) == original


def test_a_removed_run_whose_own_pages_are_corrupted_is_salvaged_in_part(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    archive = make_marked_runs(data)
    everything = snapshot(archive)
    original = everything[REMOVED]
    archive.close()
    others = tuple(m for run_id, m in MARKERS.items() if run_id != REMOVED)
    chosen = pages_with(data / "archive.sqlite", MARKERS[REMOVED], without=others)
    assert len(chosen) >= 6
    overwrite(data / "archive.sqlite", chosen[2:4], seed=9)  # two pages of the removed run's
    damaged = (data / "archive.sqlite").read_bytes()

    rebuilt, check = Archive.open_checked(data / "archive.sqlite", data / "runs")

    assert check.rebuilt and check.salvaged_in_part == (REMOVED,) and check.salvaged == ()
    assert Path(check.moved_to or "").read_bytes() == damaged  # kept as it was
    salvaged = rebuilt.entries(REMOVED)
    by_line = {(e.source, e.line): e for e in original}
    assert 0 < len(salvaged) < len(original)
    assert all(by_line[(e.source, e.line)] == e for e in salvaged)  # verbatim, numbered as before
    assert check.lost_lines == len(original) - len(salvaged)
    events = [e.line for e in salvaged if e.source == "event"]
    assert events[-1] == max(e.line for e in original if e.source == "event")
    assert events != list(range(1, len(events) + 1))  # a gap, and the lines after it are read
    notice = check.notice() or ""
    assert (f"1 salvaged in part ({check.lost_lines} unreadable lines left out: {REMOVED})"
            in notice), notice
    for other in set(MARKERS) - {REMOVED}:  # the runs with folders: rebuilt from them, whole
        assert rebuilt.entries(other) == everything[other]
    again, second = Archive.open_checked(data / "archive.sqlite", data / "runs")
    assert second.ok and not second.rebuilt, second  # the gaps are known, not damage
    assert again.entries(REMOVED) == salvaged


def test_an_unreadable_file_is_rebuilt_and_says_nothing_could_be_salvaged(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_marked_runs(data)
    corrupt_header(data / "archive.sqlite")

    rebuilt, check = Archive.open_checked(data / "archive.sqlite", data / "runs")

    assert check.rebuilt and check.salvaged == check.salvaged_in_part == ()
    assert "file is not a database" in check.salvage_detail
    assert "nothing could be salvaged from the damaged file" in (check.notice() or "")
    assert sorted(rebuilt.run_ids()) == sorted(set(MARKERS) - {REMOVED})
    assert Path(check.moved_to or "").is_file()  # the only copy left: kept


def test_a_rebuild_killed_before_it_finished_is_done_again_at_the_next_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import memory.archive

    data = tmp_path / "data"
    archive = make_marked_runs(data)
    original = snapshot(archive)
    archive.close()
    overwrite(data / "archive.sqlite", pages_with(
        data / "archive.sqlite", MARKERS[next(iter(MARKERS))],
        without=(MARKERS[REMOVED], REMOVED))[1:3], seed=1)
    damaged = (data / "archive.sqlite").read_bytes()

    def killed(path: Path) -> Path:
        raise KeyboardInterrupt  # the process dies after the salvage, before the swap

    monkeypatch.setattr(memory.archive, "_move_aside", killed)
    with pytest.raises(KeyboardInterrupt):
        Archive.open_checked(data / "archive.sqlite", data / "runs")
    assert (data / "archive.sqlite").read_bytes() == damaged  # still there, as it was
    monkeypatch.undo()

    rebuilt, check = Archive.open_checked(data / "archive.sqlite", data / "runs")

    assert check.rebuilt and check.salvaged == (REMOVED,)
    assert snapshot(rebuilt) == original
    leftovers = [p.name for p in data.iterdir() if p.name.startswith((".archive-salvage-",
                                                                      "archive.sqlite.rebuilding"))]
    assert leftovers == []


# -- the full check runs when the file changed, or once a day -------------------------------------

def test_an_unchanged_archive_is_not_read_in_full_at_every_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    archive = make_runs(data)
    archive.close()
    path = data / "archive.sqlite"
    hour_ago = time.time() - 3600
    os.utime(path, (hour_ago, hour_ago))  # written a while ago, as a real one usually is

    first = Archive.open_checked(path, data / "runs")[1]
    second = Archive.open_checked(path, data / "runs")[1]
    assert (first.ok, first.full, second.ok, second.full) == (True, True, True, False)
    assert path.stat().st_mtime == hour_ago  # a start that only reads leaves the file as it was

    record = path.with_name("archive.sqlite.checked")
    stale = json.loads(record.read_text("utf-8"))
    stale["checked_at"] = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    record.write_text(json.dumps(stale), "utf-8")
    assert Archive.open_checked(path, data / "runs")[1].full  # a day old: full again
    assert not Archive.open_checked(path, data / "runs")[1].full

    overwrite(path, [path.stat().st_size // PAGE // 2], seed=2)  # damage in place: it changed
    check = Archive.open_checked(path, data / "runs")[1]
    assert check.full and check.rebuilt and "integrity check failed" in check.detail


# -- through the real CLI ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str, Path]:
    base = tmp_path_factory.mktemp("archive-cli")
    env = isolated_env(base)
    built = run_cli(["build", "--spec-file", "datasets/tasks/refused-keylogger.md", "--replay",
                     "refused-keylogger", "--auto-approve"], env, timeout=600)
    assert built.returncode == 1, built.stdout + built.stderr  # refused: no executable
    return env, run_id_of(built), Path(env["MULTICODER_DATA_DIR"])


def archived_equals_folder(data: Path, run_id: str) -> bool:
    archive = Archive(data / "archive.sqlite", data / "runs")  # no sync: as the CLI left it
    for source, name in (("event", "events.jsonl"), ("log", "program.log")):
        text = (data / "runs" / run_id / name).read_bytes()
        lines = text[:text.rfind(b"\n")].split(b"\n")
        if [e.raw for e in archive.entries(run_id, source)] != lines:
            return False
    return True


def test_the_cli_rebuilds_a_corrupted_archive_at_start_up(cli_run) -> None:
    env, run_id, data = cli_run
    assert archived_equals_folder(data, run_id)  # written through during the build
    corrupt_header(data / "archive.sqlite")
    shown = run_cli(["runs", "show", run_id], env, timeout=300)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert run_id in shown.stdout and "refused" in shown.stdout
    kept = sorted(data.glob("archive.sqlite.damaged-*"))
    assert [p.name for p in kept if not p.name.endswith(("-wal", "-shm"))] != []
    assert archived_equals_folder(data, run_id)
    events = [json.loads(line) for line in
              (data / "runs" / run_id / "events.jsonl").read_text("utf-8").splitlines()]
    assert any(e["type"] == "message" and e["kind"] == "system" for e in events)


def test_runs_list_works_with_a_corrupted_archive_and_says_it_was_rebuilt(cli_run) -> None:
    env, run_id, data = cli_run
    before = set(data.glob("archive.sqlite.damaged-*"))
    corrupt_header(data / "archive.sqlite")
    listed = run_cli(["runs", "list"], env, timeout=300)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert run_id in listed.stdout
    (kept,) = [p for p in set(data.glob("archive.sqlite.damaged-*")) - before
               if not p.name.endswith(("-wal", "-shm"))]
    said = [line for line in (listed.stdout + listed.stderr).splitlines()
            if "archive was damaged" in line]
    assert len(said) == 1 and str(kept) in said[0] and "rebuilt" in said[0], listed.stderr
    assert archived_equals_folder(data, run_id)
