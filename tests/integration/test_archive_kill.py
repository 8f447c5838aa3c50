"""Killing the process at random points during 20 runs loses no line (M1).

Twenty real ``multicoder build --replay CASSETTE --auto-approve`` processes, two at a time on one
data folder (so two processes write the archive at once), are killed with SIGKILL at seeded
random points: most when their run folder has grown past a random number of bytes (so the kill
lands while lines are being written and archived), the others at a random time. Some killed runs
are resumed and killed again. Then a CLI command opens the engine (start-up: check and catch
up), and for every run every complete line of events.jsonl and program.log must be in the
archive exactly once, in order, byte for byte, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from memory.archive import Archive
from memory.run_index import RunIndex
from tests.conftest import ROOT, isolated_env, run_cli

SEED = 20261122
RUNS = 20
RESUMED = 4
PARALLEL = 2
#: Bytes of events.jsonl + program.log a notes-sqlite run writes before it packages (about
#: 220 kB in all); a threshold in this range lands in the writing, not in PyInstaller.
WRITING_BYTES = 180_000
CASSETTES = ("notes-sqlite",) * 4 + ("refused-keylogger",)
RUN_LINE = re.compile(r"^run (\S+) — ", re.M)


@dataclass
class Attempt:
    """One process: what was run, and how it ended."""

    args: list[str]
    mode: str          # "bytes" or "time"
    threshold: float   # bytes of the run folder's files, or seconds after the folder appeared
    run_id: str | None = None
    killed: bool = False
    folder_bytes_at_kill: int = 0
    returncode: int | None = None


def logged_bytes(run_dir: Path) -> int:
    total = 0
    for name in ("events.jsonl", "program.log"):
        with contextlib.suppress(FileNotFoundError):
            total += (run_dir / name).stat().st_size
    return total


def drive(attempt: Attempt, env: dict[str, str], out: Path, base_bytes: int = 0) -> Attempt:
    """Run one CLI process and SIGKILL it (with its children) at the attempt's point."""
    runs = Path(env["MULTICODER_DATA_DIR"]) / "runs"
    with out.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "ui.cli", *attempt.args], env=env,
                                   cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    appeared: float | None = None
    deadline = time.monotonic() + 240
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if attempt.run_id is None:
                found = RUN_LINE.search(out.read_text(errors="replace"))
                attempt.run_id = found.group(1) if found else None
            run_dir = runs / attempt.run_id if attempt.run_id else None
            if run_dir is not None and appeared is None:
                appeared = time.monotonic()
            if run_dir is not None:
                written = logged_bytes(run_dir)
                due = (written - base_bytes >= attempt.threshold if attempt.mode == "bytes"
                       else time.monotonic() - (appeared or 0) >= attempt.threshold)
                if due:
                    os.killpg(process.pid, signal.SIGKILL)
                    attempt.killed, attempt.folder_bytes_at_kill = True, written
                    break
            time.sleep(0.002)
        else:
            if process.poll() is None:  # a hung run: still killed, and the test says so below
                os.killpg(process.pid, signal.SIGKILL)
                attempt.killed = True
    finally:
        attempt.returncode = process.wait(timeout=60)
        # children (checks, PyInstaller) go with their killed parent, as in a crash
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return attempt


def complete_lines(path: Path) -> list[bytes]:
    data = path.read_bytes() if path.exists() else b""
    end = data.rfind(b"\n")
    return data[:end].split(b"\n") if end >= 0 else []


def test_killing_runs_at_random_points_loses_no_line(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    env = isolated_env(tmp_path) | {"PYTHONUNBUFFERED": "1"}
    data = Path(env["MULTICODER_DATA_DIR"])
    started = time.monotonic()

    attempts = []
    for n in range(RUNS):
        cassette = CASSETTES[n % len(CASSETTES)]
        mode = "bytes" if n % 4 else "time"
        threshold = (rng.randint(1, WRITING_BYTES) if mode == "bytes"
                     else rng.uniform(0.0, 12.0))
        attempts.append(Attempt(["build", "--spec-file", f"datasets/tasks/{cassette}.md",
                                 "--replay", cassette, "--auto-approve"], mode, threshold))
    with ThreadPoolExecutor(PARALLEL) as pool:
        builds = list(pool.map(lambda item: drive(item[1], env, tmp_path / f"build-{item[0]}"),
                               enumerate(attempts)))

    runs = data / "runs"
    killed = [a for a in builds if a.killed and a.run_id and (runs / a.run_id).is_dir()]
    # past the safety gate, a resumed run writes at once (no classifier to train first)
    judged = [a for a in killed
              if b'"safety_verdict"' in (runs / (a.run_id or "") / "events.jsonl").read_bytes()]
    chosen = rng.sample(judged, min(RESUMED, len(judged)))
    resumes = [Attempt(["resume", a.run_id or "", "--auto-approve"], "bytes",
                       rng.randint(1, 60_000), run_id=a.run_id) for a in chosen]
    with ThreadPoolExecutor(PARALLEL) as pool:
        resumed = list(pool.map(
            lambda item: drive(item[1], env, tmp_path / f"resume-{item[0]}",
                               base_bytes=logged_bytes(runs / (item[1].run_id or ""))),
            enumerate(resumes)))

    folders = sorted(p for p in runs.iterdir() if p.is_dir())
    behind = sum(len(complete_lines(f / "events.jsonl")) + len(complete_lines(f / "program.log"))
                 for f in folders) - Archive(data / "archive.sqlite", runs).counts()["entries"]

    # start-up through the real CLI: the engine opens the archive, checks it and catches up
    (newest,) = RunIndex(data / "runs.sqlite").list(limit=1)
    shown = run_cli(["runs", "show", newest.run_id], env, timeout=300)
    assert shown.returncode == 0, shown.stdout + shown.stderr

    archive = Archive(data / "archive.sqlite", runs)  # no sync: what the start-up left
    for folder in folders:
        for source, name in (("event", "events.jsonl"), ("log", "program.log")):
            archived = archive.entries(folder.name, source)
            assert [e.raw for e in archived] == complete_lines(folder / name), (folder, source)
            assert [e.line for e in archived] == list(range(1, len(archived) + 1))
    assert archive.run_ids() == [f.name for f in folders]  # nothing else
    total = sum(len(complete_lines(f / n)) for f in folders for n in ("events.jsonl",
                                                                       "program.log"))
    assert archive.counts()["entries"] == total
    _, check = Archive.open_checked(data / "archive.sqlite", runs)
    assert check.ok and check.added == 0, check

    # the kills were real and landed while runs were writing
    killed_builds = [a for a in builds if a.killed]
    assert len(killed_builds) >= RUNS - 4, [(a.mode, a.threshold, a.returncode) for a in builds]
    assert sum(a.killed and a.folder_bytes_at_kill > 0 for a in builds + resumed) >= RUNS // 2
    assert len(resumed) == RESUMED and any(a.killed for a in resumed)
    assert len(folders) >= RUNS - 2
    print(f"\n{len(folders)} runs, {len(killed_builds)} builds and"
          f" {sum(a.killed for a in resumed)} resumes killed, {total} lines;"
          f" {behind} lines were not archived yet at the kills and were caught up at start-up;"
          f" {time.monotonic() - started:.0f} s")
