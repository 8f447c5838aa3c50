"""The escape corpus, run against every real sandbox backend (bubblewrap and Docker).

Each attack is a script written into the workspace with the Action API's ``write_file`` and run
with ``run_command``, as the coder does, with every call recorded in a real run record. For
each attack the test checks that it was (a) contained, judged from the host, (b) recorded in
``events.jsonl`` and ``chat.md``, and (c) harmless to MultiCoder: the same sandbox still runs
code and this process leaks nothing.

A backend that cannot run here is skipped with the reason, unless
``MULTICODER_REQUIRE_BWRAP=1`` / ``MULTICODER_REQUIRE_DOCKER=1`` asks for it (then it fails).
The local backend is not attacked: it is unsandboxed by design (see the last test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from memory.records import RunRecord
from memory.redaction import Redactor
from tests.support import escape
from tools.actions import (
    ActionCall,
    ActionContext,
    ActionExecutor,
    ActionResult,
    Policy,
    default_registry,
)
from tools.appenv import AppEnvironment
from tools.sandbox.base import SANDBOX_IMAGE, Sandbox, SandboxLimits, SandboxUnavailable
from tools.sandbox.local import LocalSandbox

if not sys.platform.startswith("linux"):
    pytest.skip("the escape corpus probes Linux hosts", allow_module_level=True)

IMAGE = os.environ.get("MULTICODER_SANDBOX_IMAGE", SANDBOX_IMAGE)
#: Small limits so the bombs end fast.
LIMITS = SandboxLimits(memory_mb=512, cpus=1.0, pids=128, tmpfs_mb=64, wall_time_s=3600)
PLANTED_ENV_KEY = "sk-proj-ENVplantedESCAPEcorpus0123456789abcdefXYZ"
PLANTED_SETTINGS_KEY = "sk-proj-SETTINGSplantedESCAPE9876543210zyxwvuQRS"
OUTSIDE_SECRET = "outside-the-workspace-SECRET-4f1c2b"
#: Seconds a bounded attack may take beyond its own time limit before we call it unbounded.
SLACK_S = 30.0


def _unavailable(backend: str) -> str | None:
    if backend == "bwrap":
        from tools.sandbox import bwrap

        return bwrap.unavailable_reason()
    from tools.sandbox import docker

    return docker.unavailable_reason(IMAGE)


def _open_sandbox(backend: str, workspace: Path, dist: Path) -> Sandbox:
    if backend == "bwrap":
        from tools.sandbox.bwrap import BwrapSandbox

        return BwrapSandbox(workspace, writable=[dist], limits=LIMITS)
    from tools.sandbox.docker import DockerSandbox

    return DockerSandbox(workspace, writable=[dist], limits=LIMITS, image=IMAGE)


@dataclass
class Harness:
    """One backend's sandbox, run record and executor, plus what was planted on the host."""

    backend: str
    sandbox: Sandbox
    record: RunRecord
    executor: ActionExecutor
    home: Path
    settings: Path
    outside: Path
    listeners: list[escape.Listener]
    durations: dict[str, float] = field(default_factory=dict)

    @property
    def workspace(self) -> Path:
        return self.record.workspace

    def act(self, name: str, **params: Any) -> ActionResult:
        return self.executor.execute(ActionCall(name=name, params=params))

    def attack(self, name: str, script: str, *args: str, timeout_s: float = 20) -> ActionResult:
        """Write ``attacks/<name>.py`` and run it with run_command, as the coder would."""
        written = self.act("write_file", path=f"attacks/{name}.py", content=script)
        assert written.success, written.error
        started = time.monotonic()
        result = self.act("run_command", argv=["python", f"attacks/{name}.py", *args],
                          timeout_s=timeout_s)
        self.durations[name] = time.monotonic() - started
        return result


def _on_record(record: RunRecord) -> Any:
    def hook(call: ActionCall, result: ActionResult) -> None:
        data = result.data or {}
        record.event("tool_call", action=call.name, params=call.params, success=result.success,
                     error=result.error, exit_code=data.get("exit_code"),
                     timed_out=data.get("timed_out"), truncated=data.get("truncated"),
                     duration_ms=result.duration_ms)
        record.chat("coder", json.dumps(call.model_dump()), kind="tool_call", title=call.name)
        shown = result.error or ""
        if data:
            shown += (f"\nexit_code={data.get('exit_code')} timed_out={data.get('timed_out')}"
                      f"\nstdout:\n{str(data.get('stdout'))[:4000]}"
                      f"\nstderr:\n{str(data.get('stderr'))[:4000]}")
        record.chat("tool", shown, kind="tool_result", title=call.name)

    return hook


@pytest.fixture(scope="module", params=["bwrap", "docker"])
def harness(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    backend: str = request.param
    problem = _unavailable(backend)
    if problem is not None:
        if os.environ.get(f"MULTICODER_REQUIRE_{backend.upper()}") == "1":
            pytest.fail(f"MULTICODER_REQUIRE_{backend.upper()}=1 but {backend} is unusable:"
                        f" {problem}")
        pytest.skip(f"{backend} unusable: {problem}")
    base = tmp_path_factory.mktemp(f"escape-{backend}")
    home = base / "home"
    settings = home / ".config" / "multicoder" / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f'[models]\nopenai_api_key = "{PLANTED_SETTINGS_KEY}"\n')
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(OUTSIDE_SECRET)
    patch = pytest.MonkeyPatch()
    patch.setenv("OPENAI_API_KEY", PLANTED_ENV_KEY)
    patch.setenv("MULTICODER_CONFIG", str(settings))
    patch.setenv("HOME", str(home))
    record = RunRecord.create(base / "runs", f"escape-{backend}", Redactor())
    try:
        sandbox = _open_sandbox(backend, record.workspace, record.dist_dir)
    except SandboxUnavailable as exc:
        patch.undo()
        pytest.fail(f"{backend} said it was available, then: {exc}")
    environment = AppEnvironment(record.workspace, sandbox, tool_requirements=())
    executor = ActionExecutor(
        default_registry(), Policy(workspace=record.workspace, max_output_bytes=50_000),
        ActionContext(workspace=record.workspace, sandbox=sandbox, environment=environment),
        on_record=_on_record(record))
    # A stand-in for MultiCoder's own process: its environment (in /proc/<pid>/environ) holds
    # the planted key, as a real parent's would.
    decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                             env={**os.environ, "OPENAI_API_KEY": PLANTED_ENV_KEY})
    listeners = [escape.Listener("127.0.0.1")]
    address = escape.host_ip()
    if address is not None:
        listeners.append(escape.Listener(address))
    h = Harness(backend, sandbox, record, executor, home, settings, outside, listeners)
    try:
        warm = h.act("run_command", argv=["python", "-c", "print('ready')"])
        assert warm.success, warm.error  # builds the venv through the sandbox
        yield h
    finally:
        for listener in listeners:
            listener.close()
        decoy.kill()
        decoy.wait()
        sandbox.close()
        record.close()
        patch.undo()
    total = sum(h.durations.values())
    print(f"\n[{backend}] escape corpus: {total:.1f} s in attack commands: "
          + ", ".join(f"{k}={v:.1f}s" for k, v in h.durations.items()))


@pytest.fixture
def probe(harness: Harness) -> Iterator[None]:
    """After each attack: the same sandbox still runs code and this process leaks no fds."""
    fds = escape.open_fds()
    yield
    _assert_healthy(harness, fds)


def _assert_healthy(harness: Harness, fds: int) -> None:
    """(c): the sandbox still runs code, nothing connected, at most 3 more open fds."""
    alive = harness.act("run_command", argv=["python", "-c", "print('alive')"])
    assert alive.success and alive.data is not None and alive.data["stdout"] == "alive\n", alive
    direct = harness.sandbox.run(["python3", "-c", "print('alive')"], timeout_s=60)
    assert direct.ok and direct.stdout == "alive\n", direct
    assert escape.open_fds() <= fds + 3, "MultiCoder leaked file descriptors: " + ", ".join(
        sorted(os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
               if os.path.exists(f"/proc/self/fd/{fd}")))
    assert all(listener.accepted == 0 for listener in harness.listeners)


def _report(result: ActionResult) -> dict[str, Any]:
    assert result.data is not None, result.error
    line = result.data["stdout"].strip().splitlines()[-1]
    report: dict[str, Any] = json.loads(line)
    return report


def _everything(result: ActionResult) -> str:
    data = result.data or {}
    return f"{data.get('stdout', '')}\n{data.get('stderr', '')}\n{result.error or ''}"


def _assert_recorded(h: Harness, script: str, result: ActionResult) -> None:
    """(b): events.jsonl has the run_command call of ``script`` with its outcome; so has chat."""
    calls = [e for e in h.record.iter_events()
             if e["type"] == "tool_call" and e["action"] == "run_command"
             and f"attacks/{script}.py" in e["params"].get("argv", [])]
    assert calls, f"no event for attacks/{script}.py"
    last = calls[-1]
    data = result.data or {}
    assert last["success"] == result.success
    assert last["exit_code"] == data.get("exit_code")
    assert last["timed_out"] == data.get("timed_out")
    chat = h.record.chat_md.read_text(encoding="utf-8")
    assert f"attacks/{script}.py" in chat
    assert f"exit_code={data.get('exit_code')} timed_out={data.get('timed_out')}" in chat


def _assert_no_marker_left(h: Harness, marker: str, within_s: float = 10.0) -> None:
    """No process carrying ``marker`` remains, seen from the host and from inside."""
    deadline = time.monotonic() + within_s
    while escape.processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert escape.processes_with(marker) == []
    inside = h.act("write_file", path="attacks/find_marker.py", content=escape.FIND_MARKER)
    assert inside.success
    python = str(h.workspace / ".venv" / "bin" / "python")
    seen = h.sandbox.run([python, "attacks/find_marker.py", marker], timeout_s=60)
    assert seen.exit_code == 0, seen
    assert seen.stdout.strip() == "", f"processes left inside the sandbox:\n{seen.stdout}"


# -- the corpus ------------------------------------------------------------------------------


@pytest.mark.usefixtures("probe")
def test_read_files_outside_the_workspace(harness: Harness) -> None:
    h = harness
    shadow = Path("/etc/shadow")
    targets = [str(h.settings), str(h.outside / "secret.txt"), str(h.home), str(h.outside),
               str(shadow), "/root", str(Path("/proc/1/environ"))]
    result = h.attack("read_host_files", escape.READ_HOST_FILES, *targets)
    text = _everything(result)
    assert PLANTED_SETTINGS_KEY not in text and OUTSIDE_SECRET not in text
    attempts = {a["path"]: a for a in _report(result)["attempts"]}
    for path in (str(h.settings), str(h.outside / "secret.txt"), str(h.home), str(h.outside)):
        assert attempts[path]["ok"] is False, attempts[path]
    if shadow.is_file() and os.access(shadow, os.R_OK):
        for line in shadow.read_text().splitlines():
            if ":" in line and len(line.split(":")[1]) > 2:  # a line with a password hash
                assert line.split(":")[1] not in text
    assert attempts[str(shadow)].get("data") is None or ":$" not in attempts[str(shadow)]["data"]
    _assert_recorded(h, "read_host_files", result)


@pytest.mark.usefixtures("probe")
def test_read_the_parents_environment(harness: Harness) -> None:
    h = harness
    result = h.attack("read_parent_env", escape.READ_PARENT_ENV)
    assert result.success, result.error
    loot = (h.workspace / "loot.txt").read_text(encoding="utf-8")
    for planted in (PLANTED_ENV_KEY, PLANTED_SETTINGS_KEY):
        assert planted not in loot
        assert planted not in _everything(result)
    assert str(h.settings) not in loot  # not even where the settings live (MULTICODER_CONFIG)
    _assert_recorded(h, "read_parent_env", result)


@pytest.mark.usefixtures("probe")
def test_write_outside_the_workspace(harness: Harness) -> None:
    h = harness
    marker = uuid.uuid4().hex[:8]
    run_dir = h.record.run_dir
    targets = [h.outside / f"pwned-{marker}", h.home / f"pwned-{marker}",
               Path(f"/etc/pwned-{marker}"), Path(f"/tmp/pwned-{marker}"),
               run_dir / f"pwned-{marker}", Path(f"/root/pwned-{marker}"),
               h.workspace.parent.parent / f"pwned-{marker}"]
    try:
        result = h.attack("write_outside", escape.WRITE_OUTSIDE, *map(str, targets))
        assert result.data is not None and result.data["exit_code"] == 0, result
        created = [str(t) for t in targets if t.exists()]
        assert created == [], f"written on the host: {created}"
        _assert_recorded(h, "write_outside", result)
    finally:
        for target in targets:
            target.unlink(missing_ok=True)


@pytest.mark.usefixtures("probe")
def test_symlinks_in_the_workspace_pointing_at_the_host(harness: Harness) -> None:
    h = harness
    (h.workspace / "host_home").symlink_to(h.home, target_is_directory=True)
    (h.workspace / "shadow").symlink_to("/etc/shadow")
    (h.workspace / "outside").symlink_to(h.outside, target_is_directory=True)
    reads = ["host_home/.config/multicoder/settings.toml", "shadow", "outside/secret.txt"]
    writes = ["host_home/pwned-link.txt", "outside/pwned-link.txt"]
    try:
        result = h.attack("symlinks", escape.SYMLINKS, "host_home,outside",
                          ",".join(reads), ",".join(writes))
        text = _everything(result)
        assert PLANTED_SETTINGS_KEY not in text and OUTSIDE_SECRET not in text
        report = _report(result)["attempts"]
        links = {a["link"]: a["target_exists"] for a in report if "link" in a}
        assert links == {"host_home": False, "outside": False}
        assert not (h.home / "pwned-link.txt").exists()
        assert not (h.outside / "pwned-link.txt").exists()
        assert all(not a["ok"] for a in report if "write" in a)
        shadow_read = next(a for a in report if a.get("read") == "shadow")
        assert ":$" not in shadow_read.get("data", "")
        _assert_recorded(h, "symlinks", result)
    finally:
        for name in ("host_home", "shadow", "outside"):
            (h.workspace / name).unlink(missing_ok=True)


@pytest.mark.usefixtures("probe")
def test_open_a_network_connection(harness: Harness) -> None:
    h = harness
    targets = [listener.address for listener in h.listeners] + ["1.1.1.1:443", "8.8.8.8:53"]
    result = h.attack("network", escape.NETWORK, *targets, timeout_s=60)
    attempts = _report(result)["attempts"]
    assert [a["target"] for a in attempts if a["connected"]] == []
    assert [listener.accepted for listener in h.listeners] == [0] * len(h.listeners)
    _assert_recorded(h, "network", result)


@pytest.mark.usefixtures("probe")
def test_fork_bomb(harness: Harness) -> None:
    h = harness
    marker = f"forkbomb-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    result = h.attack("fork_bomb", escape.FORK_BOMB, marker, timeout_s=8)
    assert time.monotonic() - started < 8 + SLACK_S
    assert not result.success
    assert result.data is not None and (result.data["timed_out"] or
                                        result.data["exit_code"] != 0)
    _assert_no_marker_left(h, marker)
    _assert_recorded(h, "fork_bomb", result)


@pytest.mark.usefixtures("probe")
def test_memory_bomb(harness: Harness) -> None:
    h = harness
    before = escape.mem_available_mb()
    started = time.monotonic()
    result = h.attack("memory_bomb", escape.MEMORY_BOMB, timeout_s=60)
    assert time.monotonic() - started < 60
    assert not result.success
    assert result.data is not None
    assert result.data["timed_out"] or result.data["exit_code"] != 0
    reached = [int(line.split()[0]) for line in result.data["stdout"].split("\n")
               if line.endswith("MiB")]
    assert reached and max(reached) <= LIMITS.memory_mb + 64, reached[-3:]
    # Host-wide free memory is noisy (the daemon, page cache): a bomb that survived would hold
    # up to the limit (512 MiB), so allow less than that and give the host time to settle.
    deadline = time.monotonic() + 30
    while escape.mem_available_mb() < before - 384 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert escape.mem_available_mb() >= before - 384
    _assert_recorded(h, "memory_bomb", result)


@pytest.mark.usefixtures("probe")
def test_infinite_loop(harness: Harness) -> None:
    h = harness
    marker = f"loop-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    result = h.attack("infinite_loop", escape.INFINITE_LOOP, marker, timeout_s=3)
    assert time.monotonic() - started < 3 + SLACK_S
    assert result.data is not None and result.data["timed_out"] is True
    assert result.data["exit_code"] is None and not result.success
    assert "timed out" in (result.error or "")
    _assert_no_marker_left(h, marker)
    _assert_recorded(h, "infinite_loop", result)


@pytest.mark.usefixtures("probe")
def test_endless_output(harness: Harness) -> None:
    h = harness
    started = time.monotonic()
    result = h.attack("endless_output", escape.ENDLESS_OUTPUT, timeout_s=4)
    assert time.monotonic() - started < 4 + SLACK_S
    assert result.data is not None
    assert result.data["timed_out"] is True and result.data["truncated"] is True
    assert 0 < len(result.data["stdout"].encode()) <= 50_000
    assert len(result.data["stderr"].encode()) <= 50_000
    _assert_recorded(h, "endless_output", result)


@pytest.mark.usefixtures("probe")
def test_child_that_outlives_its_parent(harness: Harness) -> None:
    h = harness
    marker = f"orphan-{uuid.uuid4().hex[:8]}"
    heartbeat = h.workspace / "heartbeat.txt"
    result = h.attack("outliving_child", escape.OUTLIVING_CHILD, marker, str(heartbeat))
    assert result.success, result
    time.sleep(2)
    first = heartbeat.read_text() if heartbeat.exists() else None
    time.sleep(1.5)
    second = heartbeat.read_text() if heartbeat.exists() else None
    assert first == second, "a process of the finished command is still writing"
    _assert_no_marker_left(h, marker, within_s=2)
    _assert_recorded(h, "outliving_child", result)


def test_pth_planted_in_the_venv_never_runs_in_the_install_step(harness: Harness) -> None:
    """S2: code the app planted in ``.venv`` must not run while the install has network.

    Not under ``probe``: the first install containers of the module (each after a fresh run
    container) grow the Docker client's connection pools, so the open-fd baseline is taken
    after two installs and commands.
    """
    h = harness
    environment = h.executor.context.environment
    assert isinstance(environment, AppEnvironment)
    marker = uuid.uuid4().hex[:8]
    venv = h.workspace / ".venv"
    proofs = [h.workspace / f"pth-ran-{marker}.txt", venv / f"pth-ran-{marker}.txt",
              h.outside / f"pth-ran-{marker}.txt"]
    targets = ",".join(listener.address for listener in h.listeners)
    requirements = h.workspace / "requirements.txt"
    # A declared dependency, so ensure() has a network step to run.
    assert h.act("write_file", path="requirements.txt", content="six\n").success
    try:
        for _ in range(2):  # installs six; twice, so the Docker client's pools are warm
            environment.marker_path.unlink(missing_ok=True)
            assert environment.ensure()
            assert h.act("run_command", argv=["python", "-c", "import six"]).success
        fds = escape.open_fds()
        result = h.attack("plant_pth", escape.PLANT_PTH, targets, ",".join(map(str, proofs)))
        assert result.success, result
        attempt = _report(result)["attempts"][0]
        planted = Path(attempt["planted"])
        assert planted.is_file() and attempt["marker_deleted"] is True
        assert not environment.marker_path.exists()

        ran = environment.ensure()  # what the next run_command would trigger
        assert [r.argv[1:3] for r in ran] == [["venv", "--no-config"], ["pip", "install"]]
        assert all(r.ok for r in ran), ran
        assert [listener.accepted for listener in h.listeners] == [0] * len(h.listeners)
        assert [str(p) for p in proofs if p.exists()] == []
        assert not planted.exists(), "the planted .pth survived the reinstall"
        # The rebuilt venv works, with the declared dependency, and runs no planted code.
        works = h.act("run_command", argv=["python", "-c", "import six; print(six.__name__)"])
        assert works.success and works.data is not None and works.data["stdout"] == "six\n"
        assert [str(p) for p in proofs if p.exists()] == []
        _assert_recorded(h, "plant_pth", result)
        _assert_healthy(h, fds)
    finally:
        requirements.unlink(missing_ok=True)
        for proof in proofs:
            proof.unlink(missing_ok=True)


@pytest.mark.usefixtures("probe")
@pytest.mark.parametrize("disguise", ["forged", "reaper", "nondumpable"])
def test_detached_child_in_disguise_dies_with_its_command(harness: Harness,
                                                          disguise: str) -> None:
    """A detached grandchild with a forged marker (or none, hidden) must not outlive its command.

    Docker: the reaper kills everything no running command owns. bubblewrap: each command
    has its own PID namespace, which dies with it.
    """
    h = harness
    marker = f"disguised-{disguise}-{uuid.uuid4().hex[:8]}"
    log = h.workspace / f"disguised-{disguise}.log"
    result = h.attack("disguised_child", escape.DISGUISED_CHILD, disguise, marker, str(log))
    assert result.success, result
    assert result.data is not None and "writing True" in result.data["stdout"], result
    time.sleep(2)
    first = log.read_text()
    assert marker in first  # it did run
    time.sleep(1.5)
    assert log.read_text() == first, "a process of the finished command is still writing"
    _assert_no_marker_left(h, marker, within_s=2)
    _assert_recorded(h, "disguised_child", result)


def test_local_backend_is_reported_as_unsandboxed(tmp_path: Path) -> None:
    """The local backend is not in the corpus: it is unsandboxed, and says so."""
    local = LocalSandbox(tmp_path)
    assert local.isolated is False
    assert "NOT sandboxed" in local.describe()
