"""A damaged archive is detected at start-up, kept aside, and rebuilt from the run folders (M1).

"A copy of the archive with corrupted pages is detected at start-up and rebuilt from the run
folders with nothing lost": pages in the middle of a copy (and, separately, its header) are
overwritten; opening it at start-up moves it aside (the file is kept) and the rebuilt archive
holds exactly the original's entries. Then the same through the real CLI.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from memory.archive import Archive
from memory.records import RunRecord
from memory.redaction import Redactor
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
