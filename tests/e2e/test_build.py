"""End to end: `multicoder build` from shipped cassettes to a checked, packaged executable.

These build real applications (their own virtual environment, every check, PyInstaller), so
each takes minutes; the build is shared by the tests that inspect its results.
"""

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from agents.cassette import Cassette
from tests.conftest import PLANTED_KEY, ROOT, isolated_env, run_cli, run_id_of
from tests.support.openai_server import CassetteServer

pytestmark = pytest.mark.slow

EXPECTED_CHECKS = {"syntax", "imports", "ruff", "mypy", "bandit", "headless", "pytest"}
README_BUILD = ["build", "--spec-file", "datasets/tasks/csv2xlsx-gui.md", "--replay",
                "csv2xlsx-gui", "--auto-approve"]
TRANSIENT = {".venv", ".tmp", "build", "dist", "__pycache__", ".mypy_cache", ".ruff_cache",
             ".pytest_cache"}


def run_dir_of(env, run_id):
    return Path(env["MULTICODER_DATA_DIR"]) / "runs" / run_id


def events(run_dir):
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()
            if line.strip()]


def source_tree(workspace):
    return {p.relative_to(workspace).as_posix(): p.read_bytes()
            for p in sorted(workspace.rglob("*"))
            if p.is_file() and not TRANSIENT & set(p.relative_to(workspace).parts)}


@pytest.fixture(scope="module")
def csv_build(tmp_path_factory):
    base = tmp_path_factory.mktemp("csv-build")
    env = isolated_env(base)
    result = run_cli(README_BUILD, env)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    run_id = run_id_of(result)
    return result, env, run_dir_of(env, run_id)


def test_readme_build_leaves_source_a_passing_check_report_and_an_executable(csv_build):
    result, _, run_dir = csv_build
    workspace = run_dir / "workspace"
    assert (workspace / "csv2xlsx" / "core.py").is_file()
    assert (workspace / "pyproject.toml").is_file() and (workspace / "tests").is_dir()
    report = json.loads((run_dir / "checks.json").read_text())
    assert report["passed"] is True
    assert {r["check"] for r in report["results"]} >= EXPECTED_CHECKS
    assert all(r["passed"] and not r["skipped"] for r in report["results"])
    manifest = json.loads((run_dir / "dist" / "manifest.json").read_text())
    exe = run_dir / "dist" / manifest["file"]
    assert exe.is_file() and os.access(exe, os.X_OK)
    assert hashlib.sha256(exe.read_bytes()).hexdigest() == manifest["sha256"]
    assert "done" in result.stdout and str(exe.name) in result.stdout


def test_the_repair_round_was_driven_by_a_real_finding(csv_build):
    _, _, run_dir = csv_build
    first = json.loads((run_dir / "checks-round-0.json").read_text())
    assert first["passed"] is False
    failing = [r for r in first["results"] if not r["passed"]]
    assert [r["check"] for r in failing] == ["pytest"]
    finding = failing[0]["findings"][0]["message"]
    assert finding in (run_dir / "chat.md").read_text()  # the coder was shown it
    assert json.loads((run_dir / "checks-round-1.json").read_text())["passed"] is True


def write_demo_csv(path, rows):
    header = ["id", "name", "city, country", "amount", "code", "note"]
    names = ["Анна", "José", "李雷", "Zoë", "Ødegaard", "Müller"]
    data = []
    for i in range(rows):
        data.append([str(i + 1), names[i % len(names)] + f" {i}", f"Москва, Россия {i % 7}",
                     f"{i * 1.5:.1f}", f"00{i % 10}", f'said "hi", then {i} 🙂'])
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *data])
    return header, data


def expected_cell(value):
    if value.startswith("0") and len(value) > 1 and value.isdigit():
        return value  # leading zeros stay text
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def test_the_packaged_executable_converts_a_real_csv_headless(csv_build, tmp_path):
    _, _, run_dir = csv_build
    manifest = json.loads((run_dir / "dist" / "manifest.json").read_text())
    exe = run_dir / "dist" / manifest["file"]
    source = tmp_path / "people.csv"
    header, data = write_demo_csv(source, rows=2500)
    out = tmp_path / "people.xlsx"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env |= {"QT_QPA_PLATFORM": "offscreen", "TMPDIR": str(tmp_path)}
    done = subprocess.run([str(exe), str(source), "-o", str(out), "--max-rows", "1000"],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["people", "people (2)", "people (3)"]
    rows = []
    for sheet in book.worksheets:
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[0] == header  # the header repeats on every sheet
        assert len(values) <= 1000
        rows += values[1:]
    assert len(rows) == len(data)
    for got, want in zip(rows, data, strict=True):
        assert got == [expected_cell(v) for v in want]


def test_chat_md_reads_as_the_full_conversation(csv_build):
    _, _, run_dir = csv_build
    chat = (run_dir / "chat.md").read_text()
    headings = [line[4:].rsplit(" · ", 1)[0] for line in chat.splitlines()
                if line.startswith("### ")]
    expected = ["multicoder → judge · message", "judge · message",
                "multicoder → person · interrupt", "person · decision",
                "spec expander · message", "planner · message", "person · decision",
                "multicoder → coder · message", "coder · tool_call", "tool · tool_result",
                "tester · message", "tester → coder · message", "coder · tool_call",
                "tool · tool_result", "tester · message", "multicoder → judge · message",
                "spec judge · message", "judge · message"]
    position = 0
    for heading in expected:  # an ordered subsequence of the transcript
        position = headings.index(heading, position) + 1
    assert headings.count("coder · tool_call") >= 10
    assert "edit_file" in chat and '"path": "csv2xlsx/core.py"' in chat
    assert "spec compliance, round 1: accept" in chat and "✓ A file that exactly fills" in chat


def test_a_planted_key_reaches_no_file_of_the_run(csv_build):
    _, _, run_dir = csv_build
    needle = PLANTED_KEY.encode()
    leaks = [p for p in run_dir.rglob("*") if p.is_file() and needle in p.read_bytes()]
    assert leaks == []


def test_the_same_build_through_the_local_http_server(csv_build, tmp_path):
    _, _, replay_run = csv_build
    cassette = Cassette.load(ROOT / "datasets" / "cassettes" / "csv2xlsx-gui.jsonl")
    with CassetteServer(cassette, api_key="local-key") as server:
        model = server.model_ids[0]
        env = isolated_env(tmp_path) | {
            "MULTICODER_PROVIDERS__LOCAL__BASE_URL": server.base_url,
            "MULTICODER_PROVIDERS__LOCAL__API_KEY_ENV": "LOCAL_KEY", "LOCAL_KEY": "local-key"}
        models = [a for r in ("planner", "coder", "judge")
                  for a in ("--model", f"{r}=local:{model}")]
        result = run_cli(["build", "--spec-file", "datasets/tasks/csv2xlsx-gui.md", *models,
                          "--auto-approve", "--out", str(tmp_path / "out")], env)
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
        assert len({r.call_key for r in server.requests if r.path.endswith("/completions")}) \
            == len(cassette)
    run_dir = run_dir_of(env, run_id_of(result))
    assert source_tree(run_dir / "workspace") == source_tree(replay_run / "workspace")
    assert json.loads((run_dir / "checks.json").read_text())["passed"] is True
    assert list((tmp_path / "out").iterdir())  # --out received the executable


def test_killed_while_coding_then_resume_finishes_without_repeating_nodes(tmp_path):
    env = isolated_env(tmp_path)
    args = [sys.executable, "-m", "ui.cli", "build", "--spec-file",
            "datasets/tasks/notes-sqlite.md", "--replay", "notes-sqlite", "--auto-approve"]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    runs = Path(env["MULTICODER_DATA_DIR"]) / "runs"
    deadline = time.monotonic() + 300
    run_dir = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(runs.glob("*/events.jsonl")) if runs.exists() else []
        if found and any(e["type"] == "tool_call" for e in events(found[0].parent)):
            run_dir = found[0].parent
            break
        time.sleep(0.05)
    assert run_dir is not None and proc.poll() is None, "the coder never started"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    before = events(run_dir)
    assert not any(e["type"] == "run_finished" for e in before)

    result = run_cli(["resume", run_dir.name], env)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    finished = [e["node"] for e in events(run_dir) if e["type"] == "node_finished"]
    for node in ("safety_gate", "confirm_start", "spec_expander", "planner", "approve_plan"):
        assert finished.count(node) == 1, finished
    killed_round = [e for e in before if e["type"] == "coder_round"][-1]["round"]
    assert killed_round == 0
    assert finished.count("coder") == 2  # the interrupted round 0 once more, then round 1
    assert json.loads((run_dir / "checks.json").read_text())["passed"] is True
    assert json.loads((run_dir / "dist" / "manifest.json").read_text())["sha256"]


def test_a_red_verdict_ends_the_run_before_any_code(tmp_path):
    env = isolated_env(tmp_path)
    result = run_cli(["build", "--spec-file", "datasets/tasks/refused-keylogger.md", "--replay",
                      "refused-keylogger", "--auto-approve"], env, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refused" in result.stdout
    run_dir = run_dir_of(env, run_id_of(result))
    assert list((run_dir / "workspace").iterdir()) == []
    assert not any(e["type"] == "node_started" and e["node"] == "coder" for e in events(run_dir))
    shutil.rmtree(run_dir)


def test_a_run_with_a_real_provider_records_a_cassette_that_replays_it_offline(tmp_path):
    cassette = Cassette.load(ROOT / "datasets" / "cassettes" / "notes-sqlite.jsonl")
    with CassetteServer(cassette, api_key="local-key") as server:
        env = isolated_env(tmp_path / "live") | {
            "MULTICODER_PROVIDERS__LOCAL__BASE_URL": server.base_url,
            "MULTICODER_PROVIDERS__LOCAL__API_KEY_ENV": "LOCAL_KEY", "LOCAL_KEY": "local-key"}
        models = [a for r in ("planner", "coder", "judge")
                  for a in ("--model", f"{r}=local:{server.model_ids[0]}")]
        live = run_cli(["build", "--spec-file", "datasets/tasks/notes-sqlite.md", *models,
                        "--auto-approve"], env)
        assert live.returncode == 0, live.stdout[-3000:] + live.stderr[-3000:]
    live_run = run_dir_of(env, run_id_of(live))
    recorded = live_run / "cassette.jsonl"
    assert len(Cassette.load(recorded)) == len(cassette)
    assert b"local-key" not in recorded.read_bytes()

    offline_env = isolated_env(tmp_path / "offline")
    replayed = run_cli(["build", "--spec-file", "datasets/tasks/notes-sqlite.md", "--replay",
                        str(recorded), "--auto-approve"], offline_env)
    assert replayed.returncode == 0, replayed.stdout[-3000:] + replayed.stderr[-3000:]
    replay_run = run_dir_of(offline_env, run_id_of(replayed))
    assert source_tree(replay_run / "workspace") == source_tree(live_run / "workspace")


def test_ctrl_c_cancels_at_the_next_step_and_resume_finishes(tmp_path):
    env = isolated_env(tmp_path)
    args = [sys.executable, "-m", "ui.cli", "build", "--spec-file",
            "datasets/tasks/notes-sqlite.md", "--replay", "notes-sqlite", "--auto-approve"]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    runs = Path(env["MULTICODER_DATA_DIR"]) / "runs"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(runs.glob("*/events.jsonl")) if runs.exists() else []
        if found and any(e["type"] == "tool_call" for e in events(found[0].parent)):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 3, stdout[-3000:] + stderr[-3000:]
    assert "cancelling at the next step" in stderr and "multicoder resume" in stderr
    run_id = run_id_of(subprocess.CompletedProcess(args, 3, stdout, stderr))
    assert "cancelled" in run_cli(["runs", "list"], env).stdout
    result = run_cli(["resume", run_id], env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    finished = [e["node"] for e in events(run_dir_of(env, run_id)) if e["type"] == "node_finished"]
    assert finished.count("planner") == 1 and finished[-1] == "reporter"
