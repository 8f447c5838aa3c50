"""`runs history`, `runs fork` and `runs replay` (M3) through the real CLI, offline.

A run of the notes-sqlite cassette is driven through the engine until it waits at plan
approval (the start was approved, the plan not yet); the CLI then lists its checkpoints,
forks it from that checkpoint with an edited plan, and replays it. The builds themselves
(coder, checks, PyInstaller) are in tests/e2e/test_replay_build.py.
"""

import json
from pathlib import Path

import pytest

from graph import Engine, Settings
from tests.conftest import isolated_env, run_cli, run_id_of

NOTES_TASK = (Path(__file__).resolve().parents[2] / "datasets" / "tasks" / "notes-sqlite.md"
              ).read_text(encoding="utf-8")
ROLES = ("planner", "coder", "judge")


def engine_for(env):
    settings = Settings(data_dir=Path(env["MULTICODER_DATA_DIR"]), sandbox={"backend": "local"},
                        models={role: ["replay:notes-sqlite"] for role in ROLES})
    return Engine(settings)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A data folder with a run waiting at plan approval and a run that never started."""
    base = tmp_path_factory.mktemp("replay")
    env = isolated_env(base)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MULTICODER_CONFIG", env["MULTICODER_CONFIG"])
        engine = engine_for(env)
        waiting = engine.start(NOTES_TASK)
        assert list(engine.stream(waiting))[-1].data["kind"] == "confirm_start"
        last = list(engine.stream(waiting, {"action": "approve"}))[-1]
        assert last.kind == "interrupt" and last.data["kind"] == "approve_plan"
        plan = engine.state(waiting)["plan"]
        approve_id = engine.graph.get_state({"configurable": {"thread_id": waiting}}).config[
            "configurable"]["checkpoint_id"]
        unstarted = engine.start("a pomodoro timer")
        engine.checkpointer.conn.close()
    return {"env": env, "waiting": waiting, "plan": plan, "unstarted": unstarted,
            "approve_id": approve_id}


@pytest.fixture(scope="module")
def api(runs):
    """The engine over the same data folder, in this process (for the graph.replay API)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MULTICODER_CONFIG", runs["env"]["MULTICODER_CONFIG"])
        engine = engine_for(runs["env"])
    yield engine
    engine.checkpointer.conn.close()


def run_dir(env, run_id):
    return Path(env["MULTICODER_DATA_DIR"]) / "runs" / run_id


def events(env, run_id):
    path = run_dir(env, run_id) / "events.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def history(env, run_id):
    result = run_cli(["runs", "history", run_id, "--json"], env, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def folders(env):
    return sorted(p.name for p in (Path(env["MULTICODER_DATA_DIR"]) / "runs").iterdir())


def test_history_lists_every_checkpoint_oldest_first_and_the_question_waiting_there(runs):
    env, run_id = runs["env"], runs["waiting"]
    rows = history(env, run_id)
    assert [r["written_by"] for r in rows] == [
        "__input__", "__start__", "safety_gate", "confirm_start", "spec_expander", "planner"]
    assert [r["next"] for r in rows] == [
        ["__start__"], ["safety_gate"], ["confirm_start"], ["spec_expander"], ["planner"],
        ["approve_plan"]]
    assert [r["step"] for r in rows] == list(range(-1, 5))
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)
    assert rows[2]["waiting"] == ["confirm_start"] and rows[2]["answered"] is True
    assert rows[-1]["waiting"] == ["approve_plan"] and rows[-1]["answered"] is False
    assert [r["parent_id"] for r in rows[1:]] == [r["checkpoint_id"] for r in rows[:-1]]
    shorts = [r["short_id"] for r in rows]
    assert len(set(shorts)) == len(rows)
    assert all(r["checkpoint_id"].startswith(r["short_id"]) for r in rows)

    table = run_cli(["runs", "history", run_id], env, timeout=300)
    assert table.returncode == 0, table.stderr
    waiting_line = next(line for line in table.stdout.splitlines() if rows[-1]["short_id"] in line)
    assert "planner" in waiting_line and "approve_plan (waiting)" in waiting_line
    assert rows[-1]["checkpoint_id"] in waiting_line  # the full id too


def test_fork_from_plan_approval_with_an_edited_plan_asks_about_the_edited_plan(runs, tmp_path):
    env, original = runs["env"], runs["waiting"]
    rows = history(env, original)
    checkpoint = next(r for r in rows if r["next"] == ["approve_plan"])
    edited = json.loads(json.dumps(runs["plan"]))
    edited["summary"] = "EDITED-PLAN-7731 " + edited["summary"]
    edited["steps"][0]["description"] = "EDITED-STEP-7731"
    plan_file = tmp_path / "edited.json"
    plan_file.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    original_dir = run_dir(env, original)
    before = {name: (original_dir / name).read_bytes()
              for name in ("events.jsonl", "run.json", "chat.md", "cassette.jsonl")}

    result = run_cli(["runs", "fork", original, "--from", checkpoint["short_id"],
                      "--set", f"plan=@{plan_file}"], env, timeout=300)

    assert result.returncode == 4, result.stdout + result.stderr  # waits for the approval
    fork_id = run_id_of(result)
    assert fork_id != original
    assert f"forked from {original} at checkpoint {checkpoint['short_id']}" in result.stdout
    assert "EDITED-PLAN-7731" in result.stdout and "EDITED-STEP-7731" in result.stdout
    fork_dir = run_dir(env, fork_id)
    config = json.loads((fork_dir / "run.json").read_text(encoding="utf-8"))
    assert config["forked_from"] == {"run_id": original, "checkpoint_id":
                                     checkpoint["checkpoint_id"], "node": "planner"}
    assert config["models"] == {role: ["replay:notes-sqlite"] for role in ROLES}
    kinds = [e["type"] for e in events(env, fork_id)]
    assert "run_forked" in kinds and "interrupt" in kinds
    asked = [e for e in events(env, fork_id) if e["type"] == "interrupt"]
    assert [e["interrupt"] for e in asked] == ["approve_plan"]
    assert "EDITED-PLAN-7731" in asked[0]["summary"]
    assert "EDITED-PLAN-7731" in (fork_dir / "plan.md").read_text(encoding="utf-8")
    # the fork's thread starts at the checkpoint, written as the planner, and waits
    fork_rows = history(env, fork_id)
    assert fork_rows[0]["written_by"] == "planner" and fork_rows[0]["next"] == ["approve_plan"]
    assert fork_rows[-1]["waiting"] == ["approve_plan"] and not fork_rows[-1]["answered"]
    listed = run_cli(["runs", "list"], env, timeout=300)
    assert fork_id in listed.stdout and original in listed.stdout
    # the original is untouched: its records, its checkpoints, its question
    assert {name: (original_dir / name).read_bytes() for name in before} == before
    assert history(env, original) == rows
    shown = run_cli(["runs", "show", original], env, timeout=300)
    assert "waiting" in shown.stdout


def fails_cleanly(env, args, message):
    before = folders(env)
    result = run_cli(args, env, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert message in lines[0], lines[0]
    assert folders(env) == before  # nothing was created
    return lines[0]


def test_bad_inputs_are_one_line_exit_2_and_create_nothing(runs, tmp_path):
    env, run_id = runs["env"], runs["waiting"]
    rows = history(env, run_id)
    approve = next(r for r in rows if r["next"] == ["approve_plan"])["short_id"]
    ids = [r["checkpoint_id"] for r in rows]
    common = ids[0]
    while not all(i.startswith(common) for i in ids):
        common = common[:-1]
    assert common  # a prefix every checkpoint id starts with
    bad_plan = json.loads(json.dumps(runs["plan"]))
    bad_plan["steps"][0]["tool"] = "launch_rockets"
    (tmp_path / "bad.json").write_text(json.dumps(bad_plan), encoding="utf-8")
    fork = ["runs", "fork", run_id, "--from", approve]

    fails_cleanly(env, ["runs", "history", "no-such-run"], "no run 'no-such-run'")
    fails_cleanly(env, ["runs", "fork", run_id, "--from", "ffffffff"], "no checkpoint 'ffffffff'")
    fails_cleanly(env, ["runs", "fork", run_id, "--from", common], "is ambiguous")
    fails_cleanly(env, [*fork, "--set", "colour=blue"], "'colour' is not a state field")
    fails_cleanly(env, [*fork, "--set", f"plan=@{tmp_path / 'bad.json'}"],
                  "unknown tool 'launch_rockets'")
    fails_cleanly(env, ["runs", "replay", runs["unstarted"]], "no recorded cassette")


@pytest.mark.parametrize(("assignments", "message"), [
    (['plan={"summary": "x"}'], "not a valid plan"),
    (['spec={"title": "t"}'], "not a valid spec"),
    (["status=finished"], "not a valid status"),
    (['run_id="other"'], "cannot be set"),
    (["colour=blue"], "is not a state field"),
])
def test_a_bad_change_is_refused_before_anything_is_created(runs, api, assignments, message):
    from graph import InputError
    from graph.replay import fork, parse_changes

    before = folders(runs["env"])
    with pytest.raises(InputError, match=message):
        parse_changes(api, assignments)
    with pytest.raises(InputError, match=message):  # the API checks changes itself too
        fork(api, runs["waiting"], runs["approve_id"], dict([a.partition("=")[::2]
                                                             for a in assignments]))
    assert folders(runs["env"]) == before


@pytest.mark.parametrize(("assignments", "message"), [
    (["plan"], "is not FIELD=VALUE"),
    (["=3"], "is not FIELD=VALUE"),
    (["plan=@/no/such/plan.json"], "cannot read"),
    (["plan=[1, 2]"], "not a valid plan"),
    (["rounds_allowed=three"], "not JSON"),
    (['rounds_allowed="3"'], "rounds_allowed"),
    (["hint=a", "hint=b"], "given twice"),
])
def test_a_malformed_assignment_is_refused(api, assignments, message):
    from graph import InputError
    from graph.replay import parse_changes

    with pytest.raises(InputError, match=message):
        parse_changes(api, assignments)


def test_text_fields_take_text_and_json_fields_take_json(runs, api, tmp_path):
    from graph.replay import parse_changes

    feedback = tmp_path / "feedback.txt"
    feedback.write_text("use pathlib\n", encoding="utf-8")
    assert parse_changes(api, ["hint=keep it small", "rounds_allowed=5",
                               f"plan_feedback=@{feedback}", "task=\"quoted\""]) == {
        "hint": "keep it small", "rounds_allowed": 5, "plan_feedback": "use pathlib",
        "task": "quoted"}
    assert parse_changes(api, [f"plan={json.dumps(runs['plan'])}"]) == {"plan": runs["plan"]}


def test_a_refused_run_replays_to_the_same_outcome_and_cannot_be_forked_past_its_end(runs):
    env = runs["env"]
    built = run_cli(["build", "--spec-file", "datasets/tasks/refused-keylogger.md", "--replay",
                     "refused-keylogger"], env, timeout=600)
    assert built.returncode == 1, built.stdout + built.stderr
    original = run_id_of(built)
    end = history(env, original)[-1]
    assert end["next"] == [] and end["written_by"] == "reporter"
    fails_cleanly(env, ["runs", "fork", original, "--from", end["short_id"]], "end of run")

    result = run_cli(["runs", "replay", original], env, timeout=600)

    assert result.returncode == 0, result.stdout + result.stderr
    replay_id = run_id_of(result)
    assert replay_id != original
    report = json.loads((run_dir(env, replay_id) / "replay.json").read_text(encoding="utf-8"))
    assert report["original_status"] == report["replay_status"] == "refused"
    assert report["reproduced"] is True and report["artifact_identical"] is None
    config = json.loads((run_dir(env, replay_id) / "run.json").read_text(encoding="utf-8"))
    assert config["replay_of"] == original
    cassette = run_dir(env, original).resolve() / "cassette.jsonl"
    assert config["models"] == {role: [f"replay:{cassette}"] for role in ROLES}
    # the same model answers were played, by key, in the same order
    keys = [json.loads(line)["key"] for line in cassette.read_text().splitlines()]
    replayed = run_dir(env, replay_id) / "cassette.jsonl"
    assert [json.loads(line)["key"] for line in replayed.read_text().splitlines()] == keys
    assert "reproduced" in result.stdout


def test_a_replay_gives_the_recorded_decisions_and_waits_where_the_original_waits(runs):
    env, original = runs["env"], runs["waiting"]

    result = run_cli(["runs", "replay", original], env, timeout=600)

    replay_id = run_id_of(result)
    assert "Start?" not in result.stdout  # answered from the record, not asked
    assert f"waits for a decision: multicoder resume {replay_id}" in result.stderr
    given = [e for e in events(env, replay_id) if e["type"] == "decision_replayed"]
    assert [(e["interrupt"], e["decision"]["action"]) for e in given] == [
        ("confirm_start", "approve")]
    asked = [e["interrupt"] for e in events(env, replay_id) if e["type"] == "interrupt"]
    assert asked == ["confirm_start", "approve_plan"]
    assert history(env, replay_id)[-1]["waiting"] == ["approve_plan"]
    report = json.loads((run_dir(env, replay_id) / "replay.json").read_text(encoding="utf-8"))
    assert report["original_status"] == report["replay_status"] == "waiting"
    assert report["reproduced"] is True and result.returncode == 0
