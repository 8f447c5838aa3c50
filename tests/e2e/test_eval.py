"""``multicoder eval`` end to end on the tasks with recorded models (issue 6, done-when).

The whole graph runs on each cassette task (safety gate, spec, plan, coder, tester, judge,
packager) in the sandbox the settings choose (Docker in CI), then the hidden acceptance tests
run against what was built; every task must pass them, and the HTML report must be written
with its plots and the per-task table.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph.evalset import load_tasks, select
from tests.conftest import ROOT, isolated_env, run_cli

pytestmark = pytest.mark.slow

CASSETTE_TASKS = [t.id for t in select(load_tasks(), "cassette")]


def test_cassette_tasks_pass_their_hidden_tests_and_the_report_is_written(tmp_path):
    assert len(CASSETTE_TASKS) >= 5
    env = isolated_env(tmp_path)
    env.pop("MULTICODER_SANDBOX__BACKEND")  # the default: Docker when it answers
    out = tmp_path / "results.json"
    done = run_cli(["eval", "--tasks", "cassette", "--model", "replay", "--jobs", "2",
                    "--output", str(out), "--label", "recorded models"], env, timeout=3000)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    results = json.loads(out.read_text())
    records = {r["id"]: r for r in results["records"]}
    assert sorted(records) == sorted(CASSETTE_TASKS)
    for task_id, record in records.items():
        assert record["outcome"] == "passed", (task_id, record)
        assert record["tests_failed"] == 0 and record["tests_passed"] >= 3, record
        assert record["judge"]["verdict"] == "accept", record
        assert record["run_status"] == "done" and record["input_tokens"] > 0
    assert sum(r["repair_rounds"] for r in records.values()) >= 2  # recorded repair rounds
    assert results["finished_at"] and results["running"] == {}
    # progress was shown while it ran, and the summary at the end
    for task_id in CASSETTE_TASKS:
        assert re.search(rf"✓ {re.escape(task_id)}: passed, tests \d+/\d+", done.stdout)
    assert f"{len(CASSETTE_TASKS)}/{len(CASSETTE_TASKS)} tasks passed" in done.stdout
    # the HTML report: plots and one row per task
    html_path = Path(re.search(r"report: (\S+\.html)", done.stdout).group(1))
    html = html_path.read_text(encoding="utf-8")
    # plots drawn: pass rate by kind and time per task (cost and failures have nothing to
    # plot when every recorded task passes at no cost, and say so)
    assert html.count("<svg") >= 2
    for heading in ("Pass rate by kind", "Wall time per task", "No task failed"):
        assert heading in html
    for task_id in CASSETTE_TASKS:
        assert task_id in html
    assert "recorded models" in html
    # the runs are ordinary runs: listed, with their sandbox
    runs = run_cli(["runs", "list"], env, timeout=120)
    assert runs.stdout.count("done") >= len(CASSETTE_TASKS)
    # a second invocation resumes: nothing left to run, the same records
    again = run_cli(["eval", "--tasks", "cassette", "--model", "replay", "--output", str(out)],
                    env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"({len(CASSETTE_TASKS)} already done)" in again.stdout
    assert json.loads(out.read_text())["records"] == results["records"]


def test_ctrl_c_keeps_the_run_under_way_and_the_same_command_continues_it(tmp_path):
    """Ctrl+C (SIGINT to the process group, as a terminal sends it) mid-task: exit 130 with a
    line saying how to resume, the task's run id kept in the results file, and the same command
    then continues that run (same id) to a pass instead of starting a new one."""
    env = isolated_env(tmp_path)
    env.pop("MULTICODER_SANDBOX__BACKEND")
    out = tmp_path / "results.json"
    task = "json2csv-ru"
    argv = [sys.executable, "-m", "ui.cli", "eval", "--tasks", task, "--model", "replay",
            "--output", str(out)]
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        running: dict[str, str] = {}
        while not running and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                running = json.loads(out.read_text())["running"]
        assert running, "the task never started"
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stdout[-3000:] + stderr[-3000:]
    assert f"interrupted: results so far are in {out}; run the same command to resume" \
        in " ".join(stderr.split())
    saved = json.loads(out.read_text())
    assert saved["running"] == running and saved["records"] == []

    again = run_cli(argv[3:], env, timeout=1200)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    results = json.loads(out.read_text())
    (record,) = results["records"]
    assert record["outcome"] == "passed", record
    assert record["run_id"] == running[task]  # continued, not restarted
    assert results["running"] == {}
    runs = run_cli(["runs", "list"], env, timeout=120)
    assert runs.stdout.count(running[task]) == 1  # one run in all
