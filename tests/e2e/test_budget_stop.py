"""End to end: a build that hits its model-call budget stops cleanly and resumes unpaid.

A slow test (a real build: virtual environment, checks, PyInstaller).
"""

import json
from pathlib import Path

import pytest

from agents.cassette import Cassette
from tests.conftest import ROOT, isolated_env, run_cli, run_id_of
from tests.support.openai_server import CassetteServer

pytestmark = pytest.mark.slow


def test_a_run_stopped_at_its_call_budget_resumes_with_a_higher_one_and_pays_each_call_once(
        tmp_path):
    cassette = Cassette.load(ROOT / "datasets" / "cassettes" / "notes-sqlite.jsonl")
    with CassetteServer(cassette, api_key="local-key") as server:
        env = isolated_env(tmp_path) | {
            "MULTICODER_PROVIDERS__LOCAL__BASE_URL": server.base_url,
            "MULTICODER_PROVIDERS__LOCAL__API_KEY_ENV": "LOCAL_KEY", "LOCAL_KEY": "local-key"}
        models = [a for r in ("planner", "coder", "judge")
                  for a in ("--model", f"{r}=local:{server.model_ids[0]}")]
        first = run_cli(["build", "--spec-file", "datasets/tasks/notes-sqlite.md", *models,
                         "--auto-approve", "--max-calls", "5"], env, timeout=600)
        # safety gate, spec, plan, coder/0/0 and coder/0/1 fit; coder/0/2 would be the sixth
        assert first.returncode == 5, first.stdout[-3000:] + first.stderr[-3000:]
        run_id = run_id_of(first)
        assert "calls budget" in first.stderr and "5 model calls spent of 5" in first.stderr
        assert f"multicoder resume {run_id} --max-calls" in first.stderr
        assert run_id in run_cli(["runs", "list"], env).stdout
        shown = run_cli(["runs", "show", run_id], env).stdout
        assert "cancelled" in shown and "calls budget" in shown
        assert "model calls" in shown and "unknown price" in shown  # local:... has no price

        second = run_cli(["resume", run_id, "--max-calls", "200"], env)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        asked = [r.call_key for r in server.requests if r.path.endswith("/completions")]
    assert len(asked) == len(set(asked)) == len(cassette)  # no call was paid for twice

    run_dir = Path(env["MULTICODER_DATA_DIR"]) / "runs" / run_id
    recorded = [json.loads(line)["key"]
                for line in (run_dir / "cassette.jsonl").read_text().splitlines()]
    assert sorted(recorded) == sorted(cassette.order)  # each answered key recorded once
    run_json = json.loads((run_dir / "run.json").read_text())
    assert run_json["limits"]["max_model_calls"] == 200  # later resumes keep the raise
    report = (run_dir / "report.md").read_text()
    assert "**Status:** done" in report and f"- model calls: {len(cassette)}" in report
    assert "stopped at the calls budget (5 model calls spent of 5 model calls)" in report
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert [e["budget"] for e in events if e["type"] == "budget_exceeded"] == ["calls"]
    assert sum(e["type"] == "model_reused" for e in events) == 2  # coder/0/0 and coder/0/1
    assert json.loads((run_dir / "checks.json").read_text())["passed"] is True
