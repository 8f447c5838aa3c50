"""LocalSandbox: exit codes, output caps, time-outs that kill the whole tree, no secrets."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tools.sandbox import LocalSandbox, SandboxError

PY = sys.executable
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="checks POSIX process state")

# Starts a grandchild that sleeps, prints its pid, then (optionally) sleeps itself.
SPAWN = textwrap.dedent("""
    import subprocess, sys, time
    out = subprocess.DEVNULL if "--quiet" in sys.argv else None
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                             stdout=out, stderr=out)
    print(child.pid, flush=True)
    if "--linger" in sys.argv:
        time.sleep(60)
""")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def sandbox(workspace: Path) -> LocalSandbox:
    return LocalSandbox(workspace)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def wait_gone(pid: int, within_s: float = 3.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return False


def test_backend_identity(sandbox, workspace):
    assert sandbox.name == "local"
    assert sandbox.isolated is False
    assert sandbox.workspace == workspace.resolve()


def test_exit_code_and_output(sandbox):
    result = sandbox.run([PY, "-c", "import sys; print('out'); print('err', file=sys.stderr);"
                                    " sys.exit(7)"])
    assert result.exit_code == 7
    assert result.stdout.strip() == "out"
    assert result.stderr.strip() == "err"
    assert not result.timed_out and not result.truncated and not result.ok
    assert result.duration_ms >= 0
    assert result.argv[0] == PY


def test_success_is_ok(sandbox):
    result = sandbox.run([PY, "-c", "print('hé ✓')"])
    assert result.ok
    assert result.stdout.strip() == "hé ✓"


def test_invalid_utf8_is_replaced(sandbox):
    result = sandbox.run([PY, "-c", "import sys; sys.stdout.buffer.write(b'a\\xffb')"])
    assert result.stdout == "a\ufffdb"


def test_stdin_text_and_closed_stdin(sandbox):
    assert sandbox.run([PY, "-c", "print(input().upper())"], stdin="abc").stdout == "ABC\n"
    closed = sandbox.run([PY, "-c", "import sys; print(repr(sys.stdin.read()))"])
    assert closed.stdout.strip() == "''"


def test_output_cap_on_ten_megabytes(sandbox):
    code = ("import sys; sys.stdout.write('x' * 10_000_000); sys.stdout.flush();"
            " sys.stderr.write('e' * 3_000_000)")
    started = time.monotonic()
    result = sandbox.run([PY, "-c", code], max_output_bytes=1000)
    assert result.exit_code == 0  # the child was never blocked on a full pipe
    assert result.truncated
    assert result.stdout == "x" * 1000
    assert result.stderr == "e" * 1000
    assert time.monotonic() - started < 10


def test_output_exactly_at_the_cap_is_not_truncated(sandbox):
    result = sandbox.run([PY, "-c", "import sys; sys.stdout.write('y' * 500)"],
                         max_output_bytes=500)
    assert result.stdout == "y" * 500 and not result.truncated


@posix_only
def test_timeout_kills_child_and_grandchild(sandbox):
    started = time.monotonic()
    result = sandbox.run([PY, "-c", SPAWN, "--linger"], timeout_s=1.0)
    assert time.monotonic() - started < 5
    assert result.timed_out
    assert result.exit_code is None
    assert not result.ok
    grandchild = int(result.stdout.split()[0])
    assert wait_gone(grandchild), f"grandchild {grandchild} survived the time-out"


def test_timeout_kills_a_sleeping_child(sandbox):
    started = time.monotonic()
    result = sandbox.run([PY, "-c", "import time; time.sleep(30)"], timeout_s=0.5)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 5
    assert 400 <= result.duration_ms < 5000


@posix_only
def test_child_that_outlives_its_parent_does_not_hang_run(sandbox):
    started = time.monotonic()
    result = sandbox.run([PY, "-c", SPAWN], timeout_s=30)
    assert time.monotonic() - started < 5
    assert result.exit_code == 0 and not result.timed_out
    grandchild = int(result.stdout.split()[0])
    assert wait_gone(grandchild), f"orphan {grandchild} holding the pipes was not killed"


@posix_only
def test_orphans_without_pipes_are_killed_too(sandbox):
    result = sandbox.run([PY, "-c", SPAWN, "--quiet"], timeout_s=30)
    assert result.exit_code == 0
    assert wait_gone(int(result.stdout.split()[0]))


def test_secrets_never_reach_the_child(sandbox, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-xyz")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test")
    monkeypatch.setenv("SOME_RANDOM_SETTING", "not inherited either")
    result = sandbox.run([PY, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
                         env={"MY_SECRET": "hidden", "DB_PASSWORD": "pw",
                              "QT_QPA_PLATFORM": "offscreen"})
    env = json.loads(result.stdout)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "MY_SECRET",
                 "DB_PASSWORD", "SOME_RANDOM_SETTING"):
        assert name not in env
    assert "sk-test" not in result.stdout and "sk-ant" not in result.stdout
    assert env["QT_QPA_PLATFORM"] == "offscreen"


def test_cwd_default_relative_and_nested(sandbox, workspace):
    (workspace / "sub" / "deeper").mkdir(parents=True)
    code = "import os; print(os.getcwd())"
    assert Path(sandbox.run([PY, "-c", code]).stdout.strip()) == workspace.resolve()
    nested = sandbox.run([PY, "-c", code], cwd=Path("sub/deeper"))
    assert Path(nested.stdout.strip()) == (workspace / "sub" / "deeper").resolve()
    absolute = sandbox.run([PY, "-c", code], cwd=workspace / "sub")
    assert Path(absolute.stdout.strip()) == (workspace / "sub").resolve()


def test_cwd_outside_the_workspace_is_refused(sandbox, workspace, tmp_path):
    sibling = tmp_path / "ws-evil"
    sibling.mkdir()
    for cwd in (tmp_path, Path(".."), Path("/"), sibling, Path("../ws-evil")):
        with pytest.raises(SandboxError, match="outside the workspace"):
            sandbox.run([PY, "-c", "pass"], cwd=cwd)


def test_cwd_that_is_missing_or_a_file_is_refused(sandbox, workspace):
    (workspace / "file.txt").write_text("x")
    for cwd in (Path("missing"), Path("file.txt")):
        with pytest.raises(SandboxError, match="not a directory"):
            sandbox.run([PY, "-c", "pass"], cwd=cwd)


@posix_only
def test_cwd_symlink_out_of_the_workspace_is_refused(sandbox, workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (workspace / "link").symlink_to(outside)
    with pytest.raises(SandboxError, match="outside the workspace"):
        sandbox.run([PY, "-c", "pass"], cwd=Path("link"))


def test_missing_program(sandbox):
    with pytest.raises(SandboxError, match="program 'no-such-program-xyz' not found on the"
                                           " sandbox PATH"):
        sandbox.run(["no-such-program-xyz"])


def test_empty_argv_and_bad_limits(sandbox):
    with pytest.raises(SandboxError, match="empty"):
        sandbox.run([])
    with pytest.raises(SandboxError, match="invalid limits"):
        sandbox.run([PY, "-c", "pass"], timeout_s=0)


@posix_only
def test_program_is_found_on_the_childs_path(sandbox, workspace):
    bindir = workspace / "bin"
    bindir.mkdir()
    tool = bindir / "hello-tool"
    tool.write_text(f"#!{PY}\nprint('hello from the tool')\n")
    tool.chmod(0o755)
    with pytest.raises(SandboxError, match="not found"):
        sandbox.run(["hello-tool"])
    path = str(bindir) + os.pathsep + os.environ.get("PATH", "")
    result = sandbox.run(["hello-tool"], env={"PATH": path})
    assert result.stdout == "hello from the tool\n"
    relative = sandbox.run(["./hello-tool"], cwd=Path("bin"))
    assert relative.stdout == "hello from the tool\n"
