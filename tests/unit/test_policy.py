"""Policy: workspace confinement (CVE-2025-53109/53110 cases), size caps, time-outs, programs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tools.actions import (
    ActionCall,
    EditFileParams,
    Policy,
    PolicyViolation,
    RunCommandParams,
    RunTestsParams,
    WriteFileParams,
)

needs_symlinks = pytest.mark.skipif(
    sys.platform == "win32", reason="creating symlinks needs privileges on Windows"
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "app.py").write_text("print('hi')\n")
    return ws


@pytest.fixture
def policy(workspace: Path) -> Policy:
    return Policy(workspace=workspace)


# --- resolve_path -------------------------------------------------------------------------


@pytest.mark.parametrize("relative", [".", "src", "src/app.py", "new/dir/file.txt",
                                      "src/../src/app.py", "./src"])
def test_paths_inside_the_workspace_are_allowed(policy, workspace, relative):
    resolved = policy.resolve_path(relative)
    assert resolved.is_relative_to(workspace.resolve())


def test_the_workspace_itself_resolves_to_itself(policy, workspace):
    assert policy.resolve_path(".") == workspace.resolve()


@pytest.mark.parametrize("relative", ["..", "../x", "src/../../x", "a/b/../../../etc/passwd"])
def test_dot_dot_escape_is_refused(policy, relative):
    with pytest.raises(PolicyViolation, match="outside the workspace"):
        policy.resolve_path(relative)


@pytest.mark.parametrize("relative", ["/etc/passwd", "/", "C:\\Windows\\win.ini", "C:foo",
                                      "c:/x", "\\\\server\\share\\x", "\\x"])
def test_absolute_paths_and_drives_are_refused(policy, relative):
    with pytest.raises(PolicyViolation, match="absolute"):
        policy.resolve_path(relative)


def test_absolute_path_into_the_workspace_is_still_refused(policy, workspace):
    with pytest.raises(PolicyViolation, match="absolute"):
        policy.resolve_path(str(workspace / "src" / "app.py"))


def test_nul_byte_is_refused(policy):
    with pytest.raises(PolicyViolation, match="NUL"):
        policy.resolve_path("src/app.py\x00.txt")


def test_sibling_with_the_workspace_name_as_prefix_is_refused(tmp_path):
    # CVE-2025-53110: '/x/ws-evil' starts with '/x/ws' as a string but is not inside it.
    base = tmp_path / "x"
    ws = base / "ws"
    evil = base / "ws-evil"
    ws.mkdir(parents=True)
    evil.mkdir()
    (evil / "secret.txt").write_text("secret")
    policy = Policy(workspace=ws)
    assert str(evil / "secret.txt").startswith(str(ws))  # the naive test would pass it
    with pytest.raises(PolicyViolation, match="outside the workspace"):
        policy.resolve_path("../ws-evil/secret.txt")


@needs_symlinks
def test_symlink_sibling_prefix_is_refused(tmp_path):
    ws = tmp_path / "x" / "ws"
    evil = tmp_path / "x" / "ws-evil"
    ws.mkdir(parents=True)
    evil.mkdir()
    (ws / "link").symlink_to(evil)
    with pytest.raises(PolicyViolation, match="outside the workspace"):
        Policy(workspace=ws).resolve_path("link/anything")


@needs_symlinks
def test_symlink_inside_pointing_outside_is_refused(policy, workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (workspace / "to_dir").symlink_to(outside)
    (workspace / "to_file").symlink_to(outside / "secret.txt")
    (workspace / "dangling").symlink_to(outside / "not-yet-there.txt")
    for relative in ("to_dir", "to_dir/secret.txt", "to_dir/new.txt", "to_file", "dangling"):
        with pytest.raises(PolicyViolation, match="outside the workspace"):
            policy.resolve_path(relative)


@needs_symlinks
def test_symlink_inside_pointing_inside_is_allowed(policy, workspace):
    (workspace / "alias").symlink_to(workspace / "src")
    (workspace / "app_link.py").symlink_to(Path("src") / "app.py")  # relative target
    assert policy.resolve_path("alias/app.py") == (workspace / "src" / "app.py").resolve()
    assert policy.resolve_path("app_link.py") == (workspace / "src" / "app.py").resolve()


@needs_symlinks
def test_workspace_reached_through_a_symlink_still_confines(tmp_path):
    real = tmp_path / "real-ws"
    real.mkdir()
    link = tmp_path / "ws-link"
    link.symlink_to(real)
    policy = Policy(workspace=link)
    assert policy.resolve_path("a.txt") == real.resolve() / "a.txt"
    with pytest.raises(PolicyViolation):
        policy.resolve_path("../real-ws-other")


@needs_symlinks
def test_symlink_loop_is_a_violation_not_allowed(policy, workspace):
    (workspace / "loop_a").symlink_to(workspace / "loop_b")
    (workspace / "loop_b").symlink_to(workspace / "loop_a")
    try:
        resolved = policy.resolve_path("loop_a/x")
    except PolicyViolation:
        return
    # Some Python versions resolve a loop without error: it must still be inside then.
    assert resolved.is_relative_to(workspace.resolve())


def test_an_error_while_resolving_is_a_violation(policy, monkeypatch):
    # CVE-2025-53109: an error in the symlink check must never end up as "allowed".
    def broken_resolve(self, strict=False):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "resolve", broken_resolve)
    with pytest.raises(PolicyViolation, match="cannot be resolved"):
        policy.resolve_path("src/app.py")


# --- check: sizes, time-outs, programs ----------------------------------------------------


def check(policy: Policy, name: str, params) -> None:
    policy.check(ActionCall(name=name, params=params.model_dump()), params)


def test_write_content_above_the_cap_is_refused(workspace):
    policy = Policy(workspace=workspace, max_file_bytes=10)
    check(policy, "write_file", WriteFileParams(path="a.txt", content="x" * 10))
    with pytest.raises(PolicyViolation, match="11 bytes; the limit is 10"):
        check(policy, "write_file", WriteFileParams(path="a.txt", content="x" * 11))
    # The cap counts UTF-8 bytes, not characters.
    with pytest.raises(PolicyViolation, match="12 bytes"):
        check(policy, "write_file", WriteFileParams(path="a.txt", content="é" * 6))


def test_edit_text_above_the_cap_is_refused(workspace):
    policy = Policy(workspace=workspace, max_file_bytes=10)
    with pytest.raises(PolicyViolation, match="new_text"):
        check(policy, "edit_file", EditFileParams(path="a.txt", old_text="a", new_text="y" * 11))


def test_write_outside_the_workspace_is_refused(policy):
    with pytest.raises(PolicyViolation):
        check(policy, "write_file", WriteFileParams(path="../evil.py", content=""))


def test_timeout_above_the_maximum_is_refused(policy):
    check(policy, "run_command", RunCommandParams(argv=["python"], timeout_s=900))
    with pytest.raises(PolicyViolation, match="above the limit of 900"):
        check(policy, "run_command", RunCommandParams(argv=["python"], timeout_s=901))
    with pytest.raises(PolicyViolation):
        check(policy, "run_tests", RunTestsParams(timeout_s=3600))


def test_timeout_for(policy):
    assert policy.timeout_for(None) == 60
    assert policy.timeout_for(5) == 5
    with pytest.raises(PolicyViolation):
        policy.timeout_for(1000)


@pytest.mark.parametrize("program", ["python", "pytest", "ruff", "mypy", "bandit"])
def test_allowed_programs(policy, program):
    policy.check_command([program, "--version"])


@pytest.mark.parametrize("argv", [["bash", "-c", "ls"], ["sh"], ["cmd", "/c", "dir"],
                                  ["powershell"], ["pwsh"], ["pip", "install", "x"],
                                  ["curl", "http://example.com"], ["uv", "pip", "install"]])
def test_programs_not_allowed_are_refused(policy, argv):
    with pytest.raises(PolicyViolation, match="not allowed"):
        policy.check_command(argv)


@pytest.mark.parametrize("program", ["/bin/sh", "/usr/bin/python", "./python",
                                     "C:\\Windows\\System32\\cmd.exe", ".venv/bin/python"])
def test_program_paths_are_refused(policy, program):
    with pytest.raises(PolicyViolation, match="is a path"):
        policy.check_command([program])


def test_empty_argv_is_refused(policy):
    with pytest.raises(PolicyViolation, match="empty"):
        policy.check_command([])


@pytest.mark.parametrize("argv", [["python", "-m", "pip", "install", "requests"],
                                  ["python", "-mpip", "install", "x"],
                                  ["python", "-I", "-m", "pip"],
                                  ["python", "-Im", "pip"],
                                  ["python", "-W", "ignore", "-m", "pip.__main__"],
                                  ["python", "-m", "ensurepip"]])
def test_python_running_an_installer_is_refused(policy, argv):
    with pytest.raises(PolicyViolation, match=r"pyproject\.toml"):
        policy.check_command(argv)


@pytest.mark.parametrize("argv", [["python", "-m", "pytest"], ["python", "app.py", "-m", "pip"],
                                  ["python", "-c", "print(1)", "-m", "pip"],
                                  ["python", "-W", "ignore", "main.py"]])
def test_python_running_code_or_other_modules_is_allowed(policy, argv):
    policy.check_command(argv)


def test_run_command_check_goes_through_policy_check(policy):
    with pytest.raises(PolicyViolation, match="is a path"):
        check(policy, "run_command", RunCommandParams(argv=["/bin/sh", "-c", "id"]))


def test_run_tests_paths_must_stay_inside(policy):
    check(policy, "run_tests", RunTestsParams(args=["tests/test_a.py::test_x", "-k", "parse",
                                                    "-x", "--tb=short"]))
    for bad in (["/etc"], ["../other/tests"], ["../x.py::test_a"]):
        with pytest.raises(PolicyViolation):
            check(policy, "run_tests", RunTestsParams(args=bad))


def test_approval(policy, workspace):
    assert not policy.needs_approval("write_file", registered=False)
    assert policy.needs_approval("write_file", registered=True)
    strict = Policy(workspace=workspace, approval_required=frozenset({"run_command"}))
    assert strict.needs_approval("run_command", registered=False)


def test_policy_is_immutable(policy):
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type
        policy.max_file_bytes = 1  # type: ignore[misc]


def test_policy_resolves_relative_workspaces(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ws").mkdir()
    policy = Policy(workspace=Path("ws"))
    assert policy.resolve_path("a") == (tmp_path / "ws").resolve() / "a"
    assert os.fspath(policy.resolve_path(".")) == os.fspath((tmp_path / "ws").resolve())
