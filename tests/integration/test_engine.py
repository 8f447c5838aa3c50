"""The engine's API as the interfaces use it: start with attachments, validation first."""

import json
from pathlib import Path

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


# -- settings changed while the engine runs (the desktop's Settings dialog) --------------------

def run_json(engine, run_id):
    import json
    from pathlib import Path

    return json.loads((Path(engine.get_run(run_id).run_dir) / "run.json").read_text("utf-8"))


def test_changed_settings_reach_the_runs_started_next(isolated_settings, monkeypatch):
    import graph.sandboxes
    from graph.control import update_settings
    from graph.engine import RunConfig

    monkeypatch.delenv("MULTICODER_SANDBOX__BACKEND")  # the settings file decides
    settings = update_settings({"sandbox": {"backend": "local"}, "models": {
        role: ["replay:notes-sqlite"] for role in ("planner", "coder", "judge")}})
    engine = Engine(settings)
    first = engine.start("a notes manager")
    config = run_json(engine, first)
    assert config["sandbox"] == "local" and config["models"]["coder"] == ["replay:notes-sqlite"]
    assert engine.run_limits(RunConfig.model_validate(config)).paranoid is True

    monkeypatch.setattr(graph.sandboxes, "_docker_problem", lambda sandbox: None)  # Docker works
    changed = update_settings({"sandbox": {"backend": "docker", "memory_mb": 1024},
                               "models": {"coder": ["replay:csv2xlsx-gui"]},
                               "paranoid": False, "limits": {"max_tokens": 12345}})
    engine.apply_settings(changed)
    second = engine.start("a notes manager")
    config = run_json(engine, second)
    assert config["sandbox"] == "docker"
    assert config["models"]["coder"] == ["replay:csv2xlsx-gui"]
    assert config["models"]["planner"] == ["replay:notes-sqlite"]
    limits = engine.run_limits(RunConfig.model_validate(config))
    assert limits.paranoid is False and limits.max_tokens == 12345
    assert engine.settings.sandbox.memory_mb == 1024
    assert run_json(engine, first)["sandbox"] == "local"  # a run keeps its own backend

    moved = changed.model_copy(update={"data_dir": isolated_settings.data_dir / "elsewhere",
                                       "retention_keep_last": 3})
    with pytest.raises(InputError, match="the data folder changes when MultiCoder restarts"):
        engine.apply_settings(moved)
    assert engine.settings.retention_keep_last != 3  # nothing applied


class FakeSemantic:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


class FakeRecall:
    def __init__(self) -> None:
        self.semantic = FakeSemantic()


class Opener:
    """open_recall: a new fake recall each time, remembering the settings it was given."""

    def __init__(self) -> None:
        self.opened: list[tuple[FakeRecall, str]] = []

    def __call__(self, settings, **_):
        recall = FakeRecall()
        self.opened.append((recall, settings.memory.embeddings))
        return recall


def test_changed_memory_settings_reopen_memory_once_the_streaming_run_ends(engine, monkeypatch):
    import graph.engine

    opener = Opener()
    monkeypatch.setattr(graph.engine, "open_recall", opener)
    first = engine.start("a notes manager")
    stream = engine.stream(first)
    next(stream)  # the run streams now, with the memory it opened
    (old, embeddings), = opener.opened
    assert embeddings == "lexical"

    engine.apply_settings(engine.settings)  # nothing of [memory] changed: kept
    assert engine.services(engine.start("a notes manager")).memory is old
    engine.apply_settings(engine.settings.model_copy(update={
        "memory": engine.settings.memory.model_copy(update={"embeddings": "chroma"})}))
    new = engine.services(engine.start("a notes manager")).memory
    assert new is not old and opener.opened[-1] == (new, "chroma")
    assert old.semantic.closed == 0  # the streaming run still uses it

    assert list(stream)[-1].kind == "interrupt"  # the run goes on to its question
    assert old.semantic.closed == 1  # closed once that run ended
    assert new.semantic.closed == 0


def test_restart_reopens_memory_and_checks_the_web_tools(engine, monkeypatch):
    import graph.engine

    opener = Opener()
    monkeypatch.setattr(graph.engine, "open_recall", opener)
    engine.warm_up()
    (old, _), = opener.opened
    assert engine.restart("memory") == "Semantic memory was closed and opened again."
    assert old.semantic.closed == 1 and len(opener.opened) == 2
    assert engine.services(engine.start("a notes manager")).memory is opener.opened[-1][0]

    def broken(settings, **_):
        raise RuntimeError("the store is damaged")

    monkeypatch.setattr(graph.engine, "open_recall", broken)
    assert "could not be opened again: RuntimeError: the store is damaged" in engine.restart(
        "memory")

    assert "ready" in engine.restart("web")
    engine.apply_settings(engine.settings.model_copy(update={
        "web": engine.settings.web.model_copy(update={"enabled": False})}))
    assert "off" in engine.restart("web")
    with pytest.raises(InputError, match="cannot be restarted"):
        engine.restart("sandbox")


def test_secrets_never_leave_the_engine_in_errors(engine, monkeypatch):
    import graph.engine

    secret = "plainKEYvalue-7f3a9c2e1b"  # no key-like shape: hidden because the engine knows it
    monkeypatch.setattr(graph.engine, "lookup_key", lambda name, config: secret)
    monkeypatch.setattr(graph.engine, "lookup_keys", lambda name, config: [secret])
    run_id = engine.start("a notes manager")

    def leaking(*args, **kwargs):
        raise RuntimeError(f"the provider echoed the key {secret}")
        yield  # a generator, as graph.stream is

    monkeypatch.setattr(engine.graph, "stream", leaking)
    last = list(engine.stream(run_id))[-1]
    assert last.kind == "failed" and secret not in str(last.data)
    assert "[REDACTED]" in last.data["error"] and "internal error" in last.data["error"]
    assert secret not in (engine.get_run(run_id).error or "")


def test_the_desktop_bridge_hands_reloaded_settings_to_the_engine(isolated_settings, qtbot,
                                                                  monkeypatch, tmp_path):
    from graph.control import update_settings
    from ui.desktop.bridge import Bridge

    monkeypatch.delenv("MULTICODER_DATA_DIR")  # the settings file decides
    settings = update_settings({"data_dir": str(isolated_settings.data_dir)})
    bridge = Bridge(settings)
    try:
        with qtbot.waitSignal(bridge.ready, timeout=60_000):
            bridge.load()
        engine = bridge.engine
        assert engine is not None and engine.settings.paranoid is True
        notices: list[str] = []
        bridge.notice.connect(notices.append)

        elsewhere = tmp_path / "elsewhere"
        update_settings({"paranoid": False, "data_dir": str(elsewhere)})
        assert bridge.reload_settings().data_dir == elsewhere  # used after a restart
        assert engine.settings.paranoid is False  # the rest applies now
        assert engine.settings.data_dir == isolated_settings.data_dir
        assert notices == []

        def refuse(settings):
            raise InputError("the engine cannot take these settings")

        monkeypatch.setattr(engine, "apply_settings", refuse)
        bridge.reload_settings()
        assert notices == ["the engine cannot take these settings"]

        outcomes: list[object] = []
        for key in ("coordinator", "web", "sandbox"):
            bridge.restart(key, outcomes.append, outcomes.append)
        qtbot.waitUntil(lambda: len(outcomes) == 3, timeout=30_000)
        texts = sorted(str(o) for o in outcomes)
        assert any("there was nothing to restart" in t for t in texts)  # the workers live
        assert any(t.startswith("The web tools") for t in texts)
        assert "this component has nothing to restart: check again instead" in texts
    finally:
        bridge.shutdown()


def test_two_attachments_of_the_same_name_both_reach_the_run(engine, tmp_path):
    first, second = tmp_path / "a" / "data.csv", tmp_path / "b" / "data.csv"
    for path, text in ((first, "x\n1\n"), (second, "y\n2\n")):
        path.parent.mkdir()
        path.write_text(text)
    run_id = engine.start("merge my CSVs", attachments=[first, second])
    inputs = Path(engine.get_run(run_id).run_dir) / "workspace" / "inputs"
    assert (inputs / "data.csv").read_text() == "x\n1\n"
    assert (inputs / "data-2.csv").read_text() == "y\n2\n"
    config = json.loads((Path(engine.get_run(run_id).run_dir) / "run.json").read_text())
    assert config["attachments"] == ["inputs/data.csv", "inputs/data-2.csv"]
