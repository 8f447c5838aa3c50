"""The Docker sandbox backend (G11) against a real daemon and the real sandbox image.

Skipped when no daemon answers or the image is missing, unless MULTICODER_REQUIRE_DOCKER=1
(CI), where that is a failure.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.settings import SANDBOX_IMAGE
from tools.appenv import DEFAULT_TOOLS, AppEnvironment
from tools.sandbox.base import SandboxError, SandboxLimits, SandboxUnavailable, sandbox_identity
from tools.sandbox.docker import (
    LABEL,
    LABEL_ROLE,
    DockerSandbox,
    daemon_version,
    image_present,
    unavailable_reason,
)
from tools.sandbox.image import IMAGE_DIR

REQUIRED = os.environ.get("MULTICODER_REQUIRE_DOCKER") == "1"

# Lists the processes in the container (there is no `ps` in the image).
PROCESSES = ("import os\n"
             "for p in os.listdir('/proc'):\n"
             "    if p.isdigit():\n"
             "        with open(f'/proc/{p}/cmdline', 'rb') as f:\n"
             "            print(p, f.read().replace(b'\\0', b' ').decode())\n")


def _usable() -> None:
    reason = unavailable_reason(SANDBOX_IMAGE)
    if reason is None:
        return
    if REQUIRED:
        pytest.fail(f"MULTICODER_REQUIRE_DOCKER=1 but the docker sandbox is unusable: {reason}")
    pytest.skip(f"docker sandbox unusable: {reason}")


def _open(workspace: Path, **kwargs: object) -> DockerSandbox:
    _usable()
    workspace.mkdir(parents=True, exist_ok=True)
    return DockerSandbox(workspace, image=SANDBOX_IMAGE, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[DockerSandbox]:
    """A DockerSandbox on ``tmp_path/ws`` with ``tmp_path/dist`` writable; closed after."""
    box = _open(tmp_path / "ws", writable=[tmp_path / "dist"])
    try:
        yield box
    finally:
        box.close()


def _docker() -> object:
    import docker  # type: ignore[import-untyped]

    return docker.from_env()


def _processes(box: DockerSandbox) -> str:
    result = box.run(["python3", "-c", PROCESSES])
    assert result.ok, result.stderr
    return result.stdout


def test_prewarm_list_holds_the_check_tools() -> None:
    lines = {line.strip() for line in (IMAGE_DIR / "prewarm.txt").read_text().splitlines()}
    assert set(DEFAULT_TOOLS) <= lines


def test_helpers_answer() -> None:
    _usable()
    assert daemon_version()
    assert image_present(SANDBOX_IMAGE)
    assert not image_present("multicoder-no-such-image:0")
    reason = unavailable_reason("multicoder-no-such-image:0")
    assert reason is not None and "multicoder sandbox build" in reason


def test_missing_image_is_unavailable(tmp_path: Path) -> None:
    _usable()
    with pytest.raises(SandboxUnavailable, match="multicoder sandbox build"):
        DockerSandbox(tmp_path, image="multicoder-no-such-image:0")


def test_output_exit_code_and_written_file(sandbox: DockerSandbox, tmp_path: Path) -> None:
    result = sandbox.run(["sh", "-c", "echo out; echo err >&2; printf data > made.txt; exit 7"])
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 7)
    assert not result.timed_out and not result.truncated
    made = tmp_path / "ws" / "made.txt"
    assert made.read_text() == "data"  # MultiCoder can read what the sandbox wrote
    expected_uid = sandbox_identity()[0] if os.getuid() == 0 else os.getuid()
    assert made.stat().st_uid == expected_uid
    dist = sandbox.run(["sh", "-c", f"echo x > {tmp_path / 'dist' / 'app'}"])
    assert dist.ok, dist.stderr
    assert (tmp_path / "dist" / "app").read_text() == "x\n"


def test_sandbox_writes_what_multicoder_wrote(sandbox: DockerSandbox, tmp_path: Path) -> None:
    (tmp_path / "ws" / "sub").mkdir()
    (tmp_path / "ws" / "sub" / "f.txt").write_text("a")
    result = sandbox.run(["sh", "-c", "echo b >> f.txt && cat f.txt"], cwd=Path("sub"))
    assert result.ok, result.stderr
    assert result.stdout == "ab\n"


def test_stdin_is_fed(sandbox: DockerSandbox) -> None:
    result = sandbox.run(["cat"], stdin="hello\n")
    assert result.ok and result.stdout == "hello\n"


def test_timeout_kills_and_sandbox_still_works(sandbox: DockerSandbox) -> None:
    started = time.monotonic()
    result = sandbox.run(["sh", "-c", "sleep 77 & sleep 78"], timeout_s=2)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 20
    assert sandbox.run(["true"]).ok
    assert "sleep 7" not in _processes(sandbox)


def test_child_outliving_its_parent_is_killed(sandbox: DockerSandbox) -> None:
    result = sandbox.run(["sh", "-c", "(sleep 301 >/dev/null 2>&1 &); "
                                      "(env -i sleep 302 >/dev/null 2>&1 &); echo ok"])
    assert result.ok and result.stdout == "ok\n"
    listing = _processes(sandbox)
    assert "sleep 301" not in listing and "sleep 302" not in listing


def test_orphans_with_forged_markers_are_killed(sandbox: DockerSandbox) -> None:
    result = sandbox.run(["sh", "-c",
                          "(env MULTICODER_EXEC=forged sleep 303 >/dev/null 2>&1 &); "
                          "(env -i MULTICODER_REAPER=1 sleep 304 >/dev/null 2>&1 &); echo ok"])
    assert result.ok and result.stdout == "ok\n"
    listing = _processes(sandbox)
    assert "sleep 303" not in listing and "sleep 304" not in listing


def test_a_running_commands_processes_survive_another_commands_end(
        sandbox: DockerSandbox, tmp_path: Path) -> None:
    """The clean-up after one command spares every process of a command still running."""
    results = []
    long = threading.Thread(target=lambda: results.append(sandbox.run(
        ["sh", "-c", "env -i /bin/sh -c 'sleep 3; echo child > child.txt'; echo parent"],
        timeout_s=60)))
    long.start()
    time.sleep(1)
    for _ in range(3):
        assert sandbox.run(["true"]).ok
    long.join()
    assert results[0].ok and results[0].stdout == "parent\n", results[0]
    assert (tmp_path / "ws" / "child.txt").read_text() == "child\n"


def test_closing_the_output_is_not_finishing(sandbox: DockerSandbox, tmp_path: Path) -> None:
    started = time.monotonic()
    result = sandbox.run(["python3", "-c", "import os,time; os.close(1); os.close(2);"
                          " time.sleep(2); open('done','w').write('x')"], timeout_s=30)
    assert result.exit_code == 0 and not result.timed_out, result
    assert (tmp_path / "ws" / "done").read_text() == "x"
    assert time.monotonic() - started >= 2


def test_output_is_capped(sandbox: DockerSandbox) -> None:
    result = sandbox.run(["python3", "-c", "import sys; sys.stdout.write('x' * 3_000_000);"
                                           " sys.stderr.write('y' * 10)"],
                         max_output_bytes=1000)
    assert result.ok
    assert result.stdout == "x" * 1000 and result.stderr == "y" * 10
    assert result.truncated


def test_no_network_in_run(sandbox: DockerSandbox) -> None:
    for host in ("1.1.1.1", "172.17.0.1"):
        result = sandbox.run(["python3", "-c", "import socket; socket.create_connection("
                              f"('{host}', 53), timeout=3)"], timeout_s=30)
        assert result.exit_code not in (0, None), f"{host} was reachable"


def test_non_root_and_read_only_root(sandbox: DockerSandbox) -> None:
    result = sandbox.run(["sh", "-c", "id -u; touch /etc/x || echo etc-ro;"
                                      " touch /usr/x || echo usr-ro; touch /tmp/x && echo tmp-ok"])
    lines = result.stdout.split()
    assert lines[0] != "0"
    assert lines[1:] == ["etc-ro", "usr-ro", "tmp-ok"]


def test_environment_is_scrubbed(sandbox: DockerSandbox,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret")
    monkeypatch.setenv("MULTICODER_HOST_ONLY", "host")
    result = sandbox.run(["env"], env={"GEMINI_API_KEY": "sk-extra", "APP_SETTING": "on"})
    assert result.ok
    assert "sk-host-secret" not in result.stdout and "sk-extra" not in result.stdout
    assert "MULTICODER_HOST_ONLY" not in result.stdout
    assert "APP_SETTING=on" in result.stdout
    assert f"PATH={sandbox.system_path()}" in result.stdout


def test_bad_commands_raise(sandbox: DockerSandbox, tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="not found"):
        sandbox.run(["no-such-program-here"])
    with pytest.raises(SandboxError, match="outside the workspace"):
        sandbox.run(["true"], cwd=tmp_path)
    with pytest.raises(SandboxError):
        sandbox.run([])


def test_concurrent_commands(sandbox: DockerSandbox) -> None:
    results: dict[int, str] = {}

    def one(index: int) -> None:
        results[index] = sandbox.run(["sh", "-c", f"sleep 1; echo {index}"]).stdout

    threads = [threading.Thread(target=one, args=(i,)) for i in range(5)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: f"{i}\n" for i in range(5)}
    assert time.monotonic() - started < 8


def test_install_has_network_and_trusts_the_ca_bundle(sandbox: DockerSandbox,
                                                      tmp_path: Path) -> None:
    target = tmp_path / "ws" / "pkgs"
    target.mkdir()
    result = sandbox.run([sandbox.uv_program(), "pip", "install", "--no-config", "--python",
                          sandbox.python_request("3.11"), "--target", str(target),
                          "--no-cache", "six"],
                         cwd=target, network=True, timeout_s=300)
    assert result.ok, result.stderr
    assert (target / "six.py").is_file()
    client = _docker()
    leftovers = client.containers.list(  # type: ignore[attr-defined]
        all=True, filters={"label": [f"{LABEL}=1", f"{LABEL_ROLE}=install"]})
    assert not [c for c in leftovers if str(tmp_path) in str(c.labels)]


def test_the_install_container_sees_only_its_working_directory(sandbox: DockerSandbox,
                                                               tmp_path: Path) -> None:
    workspace, dist = tmp_path / "ws", tmp_path / "dist"
    (workspace / "secret.txt").write_text("app file")
    venv = workspace / ".venv"
    venv.mkdir()
    assert sandbox.run(["python3", "-c", "import time; time.sleep(300)"], timeout_s=1).timed_out
    first = sandbox.container_id
    probe = ("import os, sys\n"
             "for path in sys.argv[1:]:\n"
             "    print(path, os.path.exists(path))\n"
             "open('written.txt', 'w').write('ok')\n")
    paths = [str(workspace / "secret.txt"), str(dist), str(venv)]
    result = sandbox.run(["python3", "-c", probe, *paths], cwd=venv, network=True,
                         env={"PYTHONSAFEPATH": "1"}, timeout_s=120)
    assert result.ok, result.stderr
    assert result.stdout.split("\n")[:3] == [f"{paths[0]} False", f"{paths[1]} False",
                                              f"{paths[2]} True"]
    assert (venv / "written.txt").read_text() == "ok"  # the same path, read-write
    assert sandbox.container_id is None and first is not None  # run container stopped first
    with pytest.raises(SandboxError, match="inside the workspace"):
        sandbox.run(["true"], network=True)
    assert sandbox.run(["true"]).ok  # a fresh run container


def test_close_removes_the_container(tmp_path: Path) -> None:
    import docker.errors  # type: ignore[import-untyped]

    box = _open(tmp_path / "ws")
    assert box.container_id is None  # nothing is created before the first command
    assert box.run(["true"]).ok
    container_id = box.container_id
    assert container_id
    box.close()
    box.close()
    with pytest.raises(docker.errors.NotFound):
        _docker().containers.get(container_id)  # type: ignore[attr-defined]
    with pytest.raises(SandboxError):
        box.run(["true"])


def test_wall_time_renews_the_container(tmp_path: Path) -> None:
    """wall_time_s is one container's lifetime: after it a fresh one runs the next command."""
    import docker.errors  # type: ignore[import-untyped]

    box = _open(tmp_path / "ws", limits=SandboxLimits(wall_time_s=5))
    try:
        assert box.run(["sh", "-c", "echo kept > kept.txt"], timeout_s=3).ok
        first = box.container_id
        assert first
        time.sleep(6)
        assert box.container_id is None  # killed at expiry
        with pytest.raises(docker.errors.NotFound):
            _docker().containers.get(first)  # type: ignore[attr-defined]
        again = box.run(["cat", "kept.txt"], timeout_s=3)
        assert again.ok and again.stdout == "kept\n", again  # the workspace persists
        assert box.container_id not in (None, first)
    finally:
        box.close()


def test_app_environment_builds_in_docker(sandbox: DockerSandbox, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "requirements.txt").write_text("openpyxl\n")
    environment = AppEnvironment(workspace, sandbox, tool_requirements=())
    ran = environment.ensure()
    assert [r.ok for r in ran] == [True, True]
    assert Path(environment.program("python")).is_symlink()
    result = sandbox.run([environment.program("python"), "-c",
                          "import openpyxl, sys; print(sys.version_info[:2])"],
                         env=environment.variables())
    assert result.ok, result.stderr
    assert result.stdout.strip() == "(3, 11)"
    assert environment.ensure() == []  # unchanged requirements: nothing runs


def test_fork_bomb_is_stopped_and_the_sandbox_recovers(sandbox: DockerSandbox) -> None:
    bomb = "import os\nwhile True:\n try:\n  os.fork()\n except OSError:\n  pass\n"
    started = time.monotonic()
    result = sandbox.run(["python3", "-c", bomb], timeout_s=3)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 60
    after = sandbox.run(["python3", "-c", "print('alive')"])
    assert after.ok and after.stdout == "alive\n"
