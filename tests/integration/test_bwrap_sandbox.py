"""BwrapSandbox: output and exit codes, same-path workspace, time-outs, caps, and a real venv.

Skipped when bubblewrap cannot run here, unless ``MULTICODER_REQUIRE_BWRAP=1`` (then the
unavailability is a failure).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tools.appenv import AppEnvironment
from tools.sandbox.base import SandboxError, SandboxLimits, sandbox_identity

if not sys.platform.startswith("linux"):
    pytest.skip("bubblewrap is Linux only", allow_module_level=True)

from tools.sandbox.bwrap import BwrapSandbox, unavailable_reason

REASON = unavailable_reason()
if REASON is not None:
    if os.environ.get("MULTICODER_REQUIRE_BWRAP") == "1":
        raise RuntimeError(f"MULTICODER_REQUIRE_BWRAP=1 but bubblewrap is unusable: {REASON}")
    pytest.skip(f"bubblewrap unusable: {REASON}", allow_module_level=True)

LIMITS = SandboxLimits(memory_mb=1024, pids=256, tmpfs_mb=64, wall_time_s=3600)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "run" / "workspace").mkdir(parents=True)
    return tmp_path / "run"


@pytest.fixture
def sandbox(run_dir: Path) -> BwrapSandbox:
    return BwrapSandbox(run_dir / "workspace", writable=[run_dir / "dist"], limits=LIMITS)


def python(sandbox: BwrapSandbox) -> str:
    return sandbox.python_request("3.11")


def test_describes_itself_as_isolated(sandbox: BwrapSandbox) -> None:
    assert sandbox.isolated is True
    assert sandbox.name == "bwrap"
    assert "NOT sandboxed" not in sandbox.describe()


def test_output_exit_code_and_stdin(sandbox: BwrapSandbox) -> None:
    result = sandbox.run([python(sandbox), "-c",
                          "import sys; data = sys.stdin.read(); print('out', data.upper());"
                          " print('err', file=sys.stderr); sys.exit(3)"], stdin="hello")
    assert result.exit_code == 3
    assert result.stdout == "out HELLO\n"
    assert result.stderr == "err\n"
    assert not result.timed_out and not result.truncated and not result.ok


def test_runs_as_the_sandbox_user_with_a_scrubbed_environment(
        sandbox: BwrapSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-planted-in-parent-000000000000000000")
    result = sandbox.run([python(sandbox), "-c",
                          "import os, json; print(json.dumps([os.getuid(), os.getgid(),"
                          " dict(os.environ)]))"],
                         env={"EXTRA": "yes", "MY_TOKEN": "dropped"})
    assert result.ok, result.stderr
    uid, gid, env = __import__("json").loads(result.stdout)
    assert (uid, gid) == sandbox_identity()
    assert uid != 0
    assert env["EXTRA"] == "yes" and env["HOME"] == "/tmp"
    assert "MY_TOKEN" not in env and "OPENAI_API_KEY" not in env
    assert "sk-planted" not in result.stdout


def test_writes_land_in_the_workspace_and_dist_at_the_same_paths(
        sandbox: BwrapSandbox, run_dir: Path) -> None:
    ws, dist = run_dir / "workspace", run_dir / "dist"
    (ws / "sub").mkdir()
    code = (f"import pathlib, os; pathlib.Path('made.txt').write_text(os.getcwd());"
            f" pathlib.Path({str(dist / 'artifact.bin')!r}).write_bytes(b'x' * 10)")
    result = sandbox.run([python(sandbox), "-c", code], cwd=Path("sub"))
    assert result.ok, result.stderr
    assert (ws / "sub" / "made.txt").read_text() == str(ws / "sub")
    assert (dist / "artifact.bin").read_bytes() == b"x" * 10


def test_the_host_outside_the_workspace_is_not_there(
        sandbox: BwrapSandbox, run_dir: Path) -> None:
    secret = run_dir / "outside-secret.txt"
    secret.write_text("not for the sandbox")
    code = ("import os, sys\n"
            "for p in sys.argv[1:]:\n"
            "    print(p, os.path.exists(p))\n")
    # Host home entries, except a folder on the way to the bound interpreter (~/.pyenv ...).
    home = Path.home()
    on_the_way = {p for p in Path(sys.base_prefix).parents if p.parent == home}
    home_entries = [str(p) for p in home.iterdir() if p not in on_the_way][:20]
    targets = [str(secret), "/etc/shadow", "/var/run/docker.sock", *home_entries]
    result = sandbox.run([python(sandbox), "-c", code, *targets])
    assert result.ok, result.stderr
    assert result.stdout.splitlines() == [f"{t} False" for t in targets]


def test_no_network_without_the_install_flag(sandbox: BwrapSandbox) -> None:
    code = ("import socket\n"
            "try:\n"
            "    socket.create_connection(('1.1.1.1', 53), timeout=3); print('connected')\n"
            "except OSError as exc:\n"
            "    print('blocked', type(exc).__name__)\n")
    result = sandbox.run([python(sandbox), "-c", code])
    assert result.stdout.startswith("blocked"), result.stdout + result.stderr


def test_timeout_kills_everything_and_the_sandbox_still_works(
        sandbox: BwrapSandbox, run_dir: Path) -> None:
    ws = run_dir / "workspace"
    code = ("import subprocess, sys, time\n"
            "subprocess.Popen([sys.executable, '-c', 'import time, pathlib\\n"
            "while True:\\n    pathlib.Path(\"tick\").write_text(str(time.time()));"
            " time.sleep(0.1)'])\n"
            "time.sleep(60)\n")
    started = time.monotonic()
    result = sandbox.run([python(sandbox), "-c", code], timeout_s=2)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 10
    time.sleep(0.5)
    before = (ws / "tick").read_text()
    time.sleep(1)
    assert (ws / "tick").read_text() == before, "a sandboxed process survived the time-out"
    again = sandbox.run([python(sandbox), "-c", "print('alive')"])
    assert again.ok and again.stdout == "alive\n"


def test_wall_time_caps_each_command_and_never_expires(run_dir: Path) -> None:
    box = BwrapSandbox(run_dir / "workspace", limits=LIMITS.model_copy(update={
        "wall_time_s": 2.0}))
    started = time.monotonic()
    capped = box.run([python(box), "-c", "import time; time.sleep(30)"], timeout_s=60)
    assert capped.timed_out and time.monotonic() - started < 10
    time.sleep(1)  # the sandbox object is now older than wall_time_s: no matter
    later = box.run([python(box), "-c", "print('alive')"], timeout_s=60)
    assert later.ok and later.stdout == "alive\n"


def test_output_is_capped(sandbox: BwrapSandbox) -> None:
    result = sandbox.run([python(sandbox), "-c",
                          "import sys\nfor _ in range(200): sys.stdout.write('y' * 10000)"],
                         max_output_bytes=5000)
    assert result.ok
    assert result.truncated
    assert result.stdout == "y" * 5000


def test_memory_limit_stops_a_big_allocation(run_dir: Path) -> None:
    small = BwrapSandbox(run_dir / "workspace", limits=SandboxLimits(memory_mb=256))
    result = small.run([python(small), "-c", "x = bytearray(600 * 1024 * 1024); print('got')"])
    assert result.exit_code != 0
    assert "MemoryError" in result.stderr
    assert "got" not in result.stdout


def test_program_not_found_and_bad_cwd_raise(sandbox: BwrapSandbox) -> None:
    with pytest.raises(SandboxError, match="not found"):
        sandbox.run(["definitely-not-a-program-xyz"])
    with pytest.raises(SandboxError, match="outside the workspace"):
        sandbox.run(["true"], cwd=Path("/"))


def test_the_network_step_sees_only_its_working_directory(sandbox: BwrapSandbox,
                                                         run_dir: Path) -> None:
    ws, dist = run_dir / "workspace", run_dir / "dist"
    (ws / "secret.txt").write_text("app file")
    venv = ws / ".venv"
    venv.mkdir()
    probe = ("import os, sys\n"
             "for path in sys.argv[1:]:\n"
             "    print(path, os.path.exists(path))\n"
             "print('cache', os.environ['UV_CACHE_DIR'])\n"
             "open('written.txt', 'w').write('ok')\n")
    paths = [str(ws / "secret.txt"), str(dist), str(venv)]
    result = sandbox.run([python(sandbox), "-c", probe, *paths], cwd=venv, network=True)
    assert result.ok, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"{paths[0]} False", f"{paths[1]} False", f"{paths[2]} True"]
    cache = Path(lines[3].split(" ", 1)[1])
    assert "multicoder" in cache.parts and cache.name == f"uv-sandbox-{sandbox.uid}"
    assert (venv / "written.txt").read_text() == "ok"  # the same path, read-write
    with pytest.raises(SandboxError, match="inside the workspace"):
        sandbox.run(["true"], network=True)


def test_app_environment_installs_with_network_then_runs_offline(
        sandbox: BwrapSandbox, run_dir: Path) -> None:
    ws = run_dir / "workspace"
    (ws / "pyproject.toml").write_text(
        '[project]\nname = "sheet"\nversion = "0.1.0"\ndependencies = ["openpyxl"]\n')
    env = AppEnvironment(ws, sandbox, tool_requirements=())
    ran = env.ensure()
    assert [r.argv[1:3] for r in ran] == [["venv", "--no-config"], ["pip", "install"]]
    assert (ws / ".venv" / "bin" / "python").is_symlink()
    code = ("import openpyxl, socket\n"
            "wb = openpyxl.Workbook(); wb.active['A1'] = 42; wb.save('out.xlsx')\n"
            "try:\n"
            "    socket.create_connection(('pypi.org', 443), timeout=3); print('online')\n"
            "except OSError:\n"
            "    print('offline')\n")
    result = sandbox.run([env.program("python"), "-c", code], env=env.variables())
    assert result.ok, result.stderr
    assert result.stdout == "offline\n"
    assert (ws / "out.xlsx").stat().st_size > 1000
    # The venv's files are copies, not hard links into the shared uv cache.
    init = next((ws / ".venv").rglob("openpyxl/__init__.py"))
    assert init.stat().st_nlink == 1
