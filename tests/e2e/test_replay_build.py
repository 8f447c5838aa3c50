"""End to end: replay a finished build from its own cassette, and fork it with an edited plan.

The reference run is `multicoder build` of the notes-sqlite cassette (the fastest packaging
cassette: a repair round, every check, PyInstaller). `runs replay` re-runs it offline from the
run's own cassette.jsonl and recorded decisions; `runs fork` continues it from its
plan-approval checkpoint with an edited plan.

Measured (PyInstaller 6 one-file, this machine): two builds of the same sources differ
byte for byte (and by a few hundred bytes in size) because Python's hash randomisation
reorders data PyInstaller writes; with PYTHONHASHSEED fixed for the PyInstaller process (the
packager does, tools/packaging/pyinstaller.py), the executables of two different run folders
are identical.
"""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import isolated_env, run_cli, run_id_of

pytestmark = pytest.mark.slow

TRANSIENT = {".venv", ".tmp", "build", "dist", "__pycache__", ".mypy_cache", ".ruff_cache",
             ".pytest_cache"}
ROLES = ("planner", "coder", "judge")


def run_dir_of(env, run_id):
    return Path(env["MULTICODER_DATA_DIR"]) / "runs" / run_id


def events(run_dir):
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def source_tree(workspace):
    return {p.relative_to(workspace).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(workspace.rglob("*"))
            if p.is_file() and not TRANSIENT & set(p.relative_to(workspace).parts)}


def check_report(run_dir, name="checks.json"):
    """Per check: passed, skipped and findings (the run's own folder masked); no durations
    or command output (which names the run's folder)."""
    text = (run_dir / name).read_text().replace(str(run_dir), "<run>")
    return {r["check"]: (r["passed"], r.get("skipped", False), r.get("findings", []))
            for r in json.loads(text)["results"]}


def executable(run_dir):
    manifest = json.loads((run_dir / "dist" / "manifest.json").read_text())
    return run_dir / "dist" / manifest["file"]


def recall_files(run_dir):
    """What memory recalled for each model call, and the token counters pinned per role
    (the run's own folder masked: the coder's recall query holds the tester's findings)."""
    return {p.relative_to(run_dir).as_posix(): p.read_text().replace(str(run_dir), "<run>")
            for p in [*(run_dir / "recall").glob("*.json"), run_dir / "tokens.json"]}


def request_hashes(run_dir):
    """Call key -> the fingerprint of the conversation the model was sent."""
    lines = (run_dir / "cassette.jsonl").read_text().splitlines()
    return {json.loads(line)["key"]: json.loads(line)["request_hash"] for line in lines}


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    env = isolated_env(tmp_path_factory.mktemp("replay-build"))
    result = run_cli(["build", "--spec-file", "datasets/tasks/notes-sqlite.md", "--replay",
                      "notes-sqlite", "--auto-approve"], env)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return env, run_id_of(result)


def test_a_replay_reproduces_the_source_tree_and_check_report_offline(reference):
    env, original = reference
    original_dir = run_dir_of(env, original)
    original_events = (original_dir / "events.jsonl").read_bytes()

    result = run_cli(["runs", "replay", original], env)  # no --auto-approve: recorded answers

    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    replay_id = run_id_of(result)
    replay_dir = run_dir_of(env, replay_id)
    config = json.loads((replay_dir / "run.json").read_text())
    cassette = original_dir.resolve() / "cassette.jsonl"
    assert config["replay_of"] == original
    assert config["models"] == {role: [f"replay:{cassette}"] for role in ROLES}
    given = [(e["interrupt"], e["decision"]["action"])
             for e in events(replay_dir) if e["type"] == "decision_replayed"]
    assert given == [("confirm_start", "approve"), ("approve_plan", "approve")]
    assert "Approve the plan?" not in result.stdout  # answered from the record, not asked

    tree = source_tree(original_dir / "workspace")
    assert len(tree) >= 10
    assert source_tree(replay_dir / "workspace") == tree
    assert check_report(replay_dir) == check_report(original_dir)
    # the repair round happened again, driven by the same failing check
    first = json.loads((replay_dir / "checks-round-0.json").read_text())
    assert first["passed"] is False
    assert check_report(replay_dir, "checks-round-0.json") == check_report(
        original_dir, "checks-round-0.json")

    original_exe, replay_exe = executable(original_dir), executable(replay_dir)
    report = json.loads((replay_dir / "replay.json").read_text())
    assert report["reproduced"] is True
    assert report["differing_files"] == report["only_in_original"] == []
    assert report["differing_checks"] == [] and report["only_in_replay"] == []
    assert report["original_artifact"]["sha256"] == sha256(original_exe)
    assert report["replay_artifact"]["sha256"] == sha256(replay_exe)
    assert report["replay_artifact"]["size_bytes"] == replay_exe.stat().st_size
    identical = sha256(original_exe) == sha256(replay_exe)
    assert report["artifact_identical"] is identical
    assert identical, ("the packager fixes PYTHONHASHSEED, so the replayed executable must be"
                       f" identical: {original_exe.stat().st_size} vs"
                       f" {replay_exe.stat().st_size} bytes")
    print(f"\nreplay artifact identical: {identical}; sizes {original_exe.stat().st_size} /"
          f" {replay_exe.stat().st_size} bytes")
    assert ("identical byte for byte" if identical else "not byte-reproducible") in result.stdout

    # the replay was sent the original's prompts where they hold what memory recalled (memory
    # holds the original itself by now): the recalled sections and pinned token counters of
    # the original were reused
    recalled = recall_files(original_dir)
    assert {"recall/spec_expander-0.json", "recall/planner-0.json", "recall/coder-1.json",
            "tokens.json"} <= recalled.keys()
    assert recall_files(replay_dir) == recalled
    original_requests, replay_requests = request_hashes(original_dir), request_hashes(replay_dir)
    for key in ("spec_expander/0", "planner/0"):  # the coder's name the run folder
        assert replay_requests[key] == original_requests[key], key

    # the replayed executable works, and the original's records were only read
    done = subprocess.run([str(replay_exe), "--db", str(replay_dir / "t.db"), "add", "Привет",
                           "--body", "мир"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (original_dir / "events.jsonl").read_bytes() == original_events


def test_a_fork_from_plan_approval_with_an_edited_plan_builds_from_the_edited_plan(
        reference, tmp_path):
    env, original = reference
    rows = json.loads(run_cli(["runs", "history", original, "--json"], env).stdout)
    checkpoint = next(r for r in rows if r["next"] == ["approve_plan"])
    assert checkpoint["answered"] is True and checkpoint["written_by"] == "planner"
    plan_md = (run_dir_of(env, original) / "plan.md").read_text()
    plan = json.loads((run_dir_of(env, original) / "report.json").read_text())["plan"]
    plan["summary"] = "FORKED-PLAN-4410 " + plan["summary"]
    plan["app"]["name"] = "notes-forked"  # the executable's name comes from the plan
    edited = tmp_path / "plan.json"
    edited.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")

    result = run_cli(["runs", "fork", original, "--from", checkpoint["short_id"], "--set",
                      f"plan=@{edited}", "--auto-approve"], env)

    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    fork_id = run_id_of(result)
    fork_dir = run_dir_of(env, fork_id)
    assert "FORKED-PLAN-4410" in result.stdout  # the question showed the edited plan
    asked = [e for e in events(fork_dir) if e["type"] == "interrupt"]
    assert [e["interrupt"] for e in asked] == ["approve_plan"]
    assert "FORKED-PLAN-4410" in asked[0]["summary"]
    exe = executable(fork_dir)
    assert exe.name == "notes-forked" and exe.is_file()
    assert "FORKED-PLAN-4410" in (fork_dir / "report.md").read_text()
    # the original keeps its plan and its executable
    assert (run_dir_of(env, original) / "plan.md").read_text() == plan_md
    assert executable(run_dir_of(env, original)).name == "notes"
