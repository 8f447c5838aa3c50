"""The engine's API as the interfaces use it: start with attachments, validation first."""

import pytest

from graph import Engine, InputError, Settings


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv("MULTICODER_CONFIG", str(tmp_path / "none.toml"))
    settings = Settings(data_dir=tmp_path / "data", sandbox={"backend": "local"},
                        models={r: ["replay:notes-sqlite"] for r in ("planner", "coder", "judge")})
    return Engine(settings)


def test_attachments_are_copied_into_the_workspace_as_inputs(engine, tmp_path):
    data = tmp_path / "people.csv"
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    run_id = engine.start("convert my CSV", attachments=[data])
    workspace = engine.services(run_id).record.workspace
    assert (workspace / "inputs" / "people.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"
    assert engine.get_run(run_id).status == "created"


def test_an_attachment_over_50_mb_is_refused_before_anything_is_written(engine, tmp_path):
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)
    with pytest.raises(InputError, match="larger than 50 MB"):
        engine.start("convert", attachments=[big])
    with pytest.raises(InputError, match="attachment not found"):
        engine.start("convert", attachments=[tmp_path / "missing.csv"])
    assert engine.list_runs() == []
    assert list((tmp_path / "data" / "runs").iterdir()) == []


def test_an_unknown_role_in_overrides_is_refused(engine):
    with pytest.raises(InputError, match="unknown role 'tester'"):
        engine.start("a timer", models={"tester": ["replay:notes-sqlite"]})


def events_of(engine, run_id):
    import json

    path = engine.services(run_id).record.events_path
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_decision_is_recorded_once_and_a_waiting_run_can_be_cancelled(engine):
    run_id = engine.start("a notes manager")
    kinds = [e.kind for e in engine.stream(run_id)]
    assert kinds[-1] == "interrupt"
    last = list(engine.stream(run_id, {"action": "approve"}))[-1]
    assert last.kind == "interrupt" and last.data["kind"] == "approve_plan"
    for _ in range(2):  # two invalid edits: refused and asked again each time
        last = list(engine.stream(run_id, {"action": "edit", "content": "not json"}))[-1]
        assert last.data["kind"] == "approve_plan" and "not valid" in last.data["error"]
    decisions = [e for e in events_of(engine, run_id) if e["type"] == "decision"]
    assert [d["decision"]["action"] for d in decisions] == ["approve", "edit", "edit"]
    chat = engine.services(run_id).record.chat_md.read_text(encoding="utf-8")
    assert chat.count("### person · decision") == 3

    engine.cancel(run_id)
    assert engine.get_run(run_id).status == "cancelled"
    resumed = list(engine.stream(run_id))  # still resumable: it asks the same question again
    assert resumed[-1].kind == "interrupt" and resumed[-1].data["kind"] == "approve_plan"


def test_a_run_is_driven_by_one_process_at_a_time(engine):
    from filelock import FileLock

    run_id = engine.start("a notes manager")
    run_dir = engine.services(run_id).record.run_dir
    with FileLock(run_dir / ".lock"), pytest.raises(InputError, match="another process"):
        list(engine.stream(run_id))
    assert list(engine.stream(run_id))[-1].kind == "interrupt"  # free again afterwards
