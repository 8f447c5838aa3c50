"""`langgraph dev` (LangGraph Studio's in-memory server) loads the graph from langgraph.json;
the langgraph-sdk client drives a run to its first interrupt and resumes it."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_sync_client

ROOT = Path(__file__).resolve().parents[2]
VERDICT = {"level": "yellow", "recommendation": "modify", "reasons": ["say which CSV dialects"]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, cli_env):
    cassette = tmp_path / "studio.jsonl"
    cassette.write_text(json.dumps({"key": "safety_gate/0", "role": "judge", "response": {
        "content": json.dumps(VERDICT)}}) + "\n")
    env = cli_env | {f"MULTICODER_MODELS__{role}": f"replay:{cassette}"
                     for role in ("PLANNER", "CODER", "JUDGE")} | {"LANGSMITH_TRACING": "false"}
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("langgraph")), "dev",
                             "--no-browser", "--no-reload", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            time.sleep(0.5)
        else:
            pytest.fail("langgraph dev did not start: " + (tmp_path / "server.log").read_text())
        yield url, Path(env["MULTICODER_DATA_DIR"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_studio_runs_to_the_start_confirmation_and_resumes(server):
    url, data_dir = server
    client = get_sync_client(url=url)
    assert [a["graph_id"] for a in client.assistants.search()] == ["multicoder"]
    thread = client.threads.create()
    client.runs.wait(thread["thread_id"], "multicoder",
                     input={"task": "a CSV to XLSX converter with a GUI"})
    state = client.threads.get_state(thread["thread_id"])
    assert state["next"] == ["confirm_start"]
    payload = state["tasks"][0]["interrupts"][0]["value"]
    assert payload["kind"] == "confirm_start"
    assert payload["details"]["verdict"]["level"] == "yellow"

    client.runs.wait(thread["thread_id"], "multicoder",
                     command={"resume": {"action": "reject", "feedback": "not today"}})
    state = client.threads.get_state(thread["thread_id"])
    assert state["next"] == []
    assert state["values"]["status"] == "rejected"
    run_dir = data_dir / "runs" / thread["thread_id"]
    assert "not today" in (run_dir / "chat.md").read_text()
    assert "**Status:** rejected" in (run_dir / "report.md").read_text()
