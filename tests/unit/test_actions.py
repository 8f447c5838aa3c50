"""The Action API: registry and tool schemas, the executor's error handling, the 7 actions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from tools.actions import (
    ActionCall,
    ActionContext,
    ActionExecutor,
    ActionRegistry,
    ActionResult,
    Policy,
    default_registry,
)
from tools.sandbox.base import AppEnvironmentError, CommandEnvironment, CommandResult
from tools.sandbox.local import LocalSandbox

ACTIONS = ["read_file", "write_file", "edit_file", "list_dir", "search_text", "run_command",
           "run_tests"]


class FakeEnvironment(CommandEnvironment):
    """The test's own interpreter stands in for the application's environment."""

    def __init__(self, fail: bool = False) -> None:
        self.ensured = 0
        self.fail = fail

    def ensure(self) -> list[CommandResult]:
        self.ensured += 1
        if self.fail:
            raise AppEnvironmentError("uv sync failed: no such package 'nope'")
        return []

    def program(self, name: str) -> str:
        if name == "python":
            return sys.executable
        return str(Path(sys.executable).with_name(name))

    def variables(self) -> dict[str, str]:
        # No third-party pytest plugins in the child: keeps run_tests fast.
        return {"PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def records() -> list[tuple[ActionCall, ActionResult]]:
    return []


def make_executor(workspace: Path, records=None, environment=None, registry=None,
                  **policy) -> ActionExecutor:
    context = ActionContext(workspace=workspace, sandbox=LocalSandbox(workspace),
                            environment=environment)
    hook = None if records is None else (lambda call, result: records.append((call, result)))
    return ActionExecutor(registry or default_registry(), Policy(workspace=workspace, **policy),
                          context, on_record=hook)


@pytest.fixture
def executor(workspace, records) -> ActionExecutor:
    return make_executor(workspace, records, environment=FakeEnvironment())


def run(executor: ActionExecutor, name: str, **params) -> ActionResult:
    return executor.execute(ActionCall(name=name, params=params))


# --- registry and schemas -----------------------------------------------------------------


def test_default_registry_has_the_seven_actions():
    assert default_registry().names() == ACTIONS


def test_tool_schemas_name_every_action_with_required_params():
    schemas = {s["function"]["name"]: s for s in default_registry().tool_schemas()}
    assert sorted(schemas) == sorted(ACTIONS)
    required = {name: set(s["function"]["parameters"].get("required", []))
                for name, s in schemas.items()}
    assert required == {
        "read_file": {"path"}, "write_file": {"path", "content"},
        "edit_file": {"path", "old_text", "new_text"}, "list_dir": set(),
        "search_text": {"pattern"}, "run_command": {"argv"}, "run_tests": set(),
    }
    for schema in schemas.values():
        assert schema["type"] == "function"
        function = schema["function"]
        assert function["description"]
        assert function["parameters"]["type"] == "object"
        for prop in function["parameters"]["properties"].values():
            assert prop.get("description"), function["name"]
    argv = schemas["run_command"]["function"]["parameters"]["properties"]["argv"]
    assert argv["type"] == "array" and argv["items"] == {"type": "string"}


def test_registry_refuses_duplicates_and_bad_names():
    registry = default_registry()
    with pytest.raises(ValueError, match="already registered"):
        registry.register("read_file", BaseModel, lambda p, c, pol: ActionResult(success=True))
    with pytest.raises(ValueError, match="must match"):
        registry.register("read file", BaseModel, lambda p, c, pol: ActionResult(success=True))
    with pytest.raises(KeyError, match="unknown action"):
        registry.get("nope")


# --- the executor never raises for bad calls ----------------------------------------------


def test_unknown_action(executor, records):
    result = run(executor, "delete_everything", path=".")
    assert not result.success
    assert "unknown action 'delete_everything'" in result.error
    assert "read_file" in result.error
    assert records == [(ActionCall(name="delete_everything", params={"path": "."}), result)]


@pytest.mark.parametrize(("params", "fragment"), [
    ({}, "path: Field required"),
    ({"path": "a", "start_line": 0}, "start_line: Input should be greater than or equal to 1"),
    ({"path": "a", "max_lines": "many"}, "max_lines: Input should be a valid integer"),
    ({"path": "a", "colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"path": ["a"]}, "path: Input should be a valid string"),
])
def test_invalid_params_become_one_sentence(executor, params, fragment):
    result = run(executor, "read_file", **params)
    assert not result.success
    assert result.error.startswith("invalid parameters for read_file: ")
    assert fragment in result.error
    assert "\n" not in result.error


def test_policy_violation_becomes_a_result(executor):
    result = run(executor, "read_file", path="../secret")
    assert not result.success
    assert result.error.startswith("refused by policy: ")


def test_handler_errors_become_results(workspace, records):
    registry = ActionRegistry()

    class Params(BaseModel):
        """Blow up."""

    def explode(params, context, policy):
        raise ZeroDivisionError("boom")

    registry.register("explode", Params, explode)
    result = run(make_executor(workspace, records, registry=registry), "explode")
    assert not result.success
    assert result.error == "explode failed: ZeroDivisionError: boom"
    assert records[0][1] == result


def test_actions_that_need_approval(workspace):
    registry = ActionRegistry()

    class Params(BaseModel):
        """Do something risky."""

    registry.register("risky", Params, lambda p, c, pol: ActionResult(success=True),
                      needs_approval=True)
    context = ActionContext(workspace=workspace, sandbox=LocalSandbox(workspace))
    refused = ActionExecutor(registry, Policy(workspace=workspace), context)
    assert "needs a person's approval" in run(refused, "risky").error
    approved = ActionExecutor(registry, Policy(workspace=workspace), context,
                              approve=lambda call: call.name == "risky")
    assert run(approved, "risky").success


def test_every_call_is_recorded_with_a_duration(executor, records):
    run(executor, "write_file", path="a.txt", content="x")
    run(executor, "read_file", path="missing.txt")
    run(executor, "nope")
    assert [call.name for call, _ in records] == ["write_file", "read_file", "nope"]
    assert [result.success for _, result in records] == [True, False, False]
    assert all(result.duration_ms >= 0 for _, result in records)


# --- files --------------------------------------------------------------------------------


def test_write_then_read(executor, workspace):
    written = run(executor, "write_file", path="pkg/sub/mod.py", content="a = 'é'\nb = 2\n")
    assert written.success
    assert written.data == {"path": "pkg/sub/mod.py", "bytes_written": 15}
    assert (workspace / "pkg" / "sub" / "mod.py").read_bytes() == "a = 'é'\nb = 2\n".encode()
    result = run(executor, "read_file", path="pkg/sub/mod.py")
    assert result.success
    assert result.data == {"path": "pkg/sub/mod.py", "content": "a = 'é'\nb = 2\n",
                           "start_line": 1, "end_line": 2, "total_lines": 2,
                           "truncated": False}


def test_write_keeps_line_ends_as_given(executor, workspace):
    run(executor, "write_file", path="w.txt", content="a\r\nb\n")
    assert (workspace / "w.txt").read_bytes() == b"a\r\nb\n"


def test_read_a_window_of_lines(executor, workspace):
    (workspace / "n.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    result = run(executor, "read_file", path="n.txt", start_line=4, max_lines=3)
    assert result.data["content"] == "line 4\nline 5\nline 6\n"
    assert (result.data["start_line"], result.data["end_line"], result.data["total_lines"]) == (
        4, 6, 10)
    past = run(executor, "read_file", path="n.txt", start_line=11)
    assert not past.success and "past the end" in past.error


def test_read_empty_file(executor, workspace):
    (workspace / "empty.txt").write_text("")
    result = run(executor, "read_file", path="empty.txt")
    assert result.success
    assert result.data["content"] == "" and result.data["end_line"] == 0


def test_read_output_is_capped(workspace):
    executor = make_executor(workspace, max_output_bytes=100)
    (workspace / "big.txt").write_text("x" * 39 + "\n" + "y" * 39 + "\n" + "z" * 39 + "\n")
    result = run(executor, "read_file", path="big.txt")
    assert result.data["end_line"] == 2 and result.data["truncated"]
    (workspace / "one.txt").write_text("q" * 1000)
    one = run(executor, "read_file", path="one.txt")
    assert one.data["content"] == "q" * 100 and one.data["truncated"]


def test_read_errors(executor, workspace):
    (workspace / "dir").mkdir()
    assert "does not exist" in run(executor, "read_file", path="nope.txt").error
    assert "is not a file" in run(executor, "read_file", path="dir").error


def test_file_size_caps(workspace):
    executor = make_executor(workspace, max_file_bytes=50)
    (workspace / "big.txt").write_text("x" * 51)
    read = run(executor, "read_file", path="big.txt")
    assert not read.success and "51 bytes; the limit is 50" in read.error
    write = run(executor, "write_file", path="w.txt", content="x" * 51)
    assert not write.success and "refused by policy" in write.error
    assert not (workspace / "w.txt").exists()
    (workspace / "e.txt").write_text("abc" + "x" * 40)
    edit = run(executor, "edit_file", path="e.txt", old_text="abc", new_text="y" * 20)
    assert not edit.success and "would be 60 bytes" in edit.error
    assert (workspace / "e.txt").read_text() == "abc" + "x" * 40


def test_write_refuses_folders_and_escapes(executor, workspace):
    (workspace / "d").mkdir()
    assert "is a folder" in run(executor, "write_file", path="d", content="x").error
    assert "is a folder" in run(executor, "write_file", path=".", content="x").error
    escape = run(executor, "write_file", path="../evil.txt", content="x")
    assert not escape.success
    assert not (workspace.parent / "evil.txt").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_write_through_a_symlink_out_of_the_workspace_is_refused(executor, workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (workspace / "out").symlink_to(outside)
    result = run(executor, "write_file", path="out/pwned.txt", content="x")
    assert not result.success and "outside the workspace" in result.error
    assert not (outside / "pwned.txt").exists()


# --- edit_file ----------------------------------------------------------------------------


def test_edit_exactly_one_match(executor, workspace):
    (workspace / "m.py").write_text("def f():\n    return 1\n\nx = 2\n")
    result = run(executor, "edit_file", path="m.py", old_text="return 1", new_text="return 42")
    assert result.success
    assert result.data["line"] == 2
    assert (workspace / "m.py").read_text() == "def f():\n    return 42\n\nx = 2\n"


def test_edit_zero_matches(executor, workspace):
    (workspace / "m.py").write_text("a = 1\n")
    result = run(executor, "edit_file", path="m.py", old_text="b = 1", new_text="b = 2")
    assert not result.success
    assert result.error == "old_text not found in m.py"
    assert (workspace / "m.py").read_text() == "a = 1\n"


def test_edit_two_matches_names_the_count(executor, workspace):
    (workspace / "m.py").write_text("x = 1\ny = 1\n")
    result = run(executor, "edit_file", path="m.py", old_text=" = 1", new_text=" = 2")
    assert not result.success
    assert result.error == ("old_text matches 2 times in m.py; include more context to make it"
                            " unique")
    assert (workspace / "m.py").read_text() == "x = 1\ny = 1\n"


def test_edit_counts_overlapping_matches(executor, workspace):
    (workspace / "m.txt").write_text("aaa")
    result = run(executor, "edit_file", path="m.txt", old_text="aa", new_text="b")
    assert "matches 2 times" in result.error


def test_edit_crlf_file_with_lf_old_text(executor, workspace):
    (workspace / "w.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    result = run(executor, "edit_file", path="w.py", old_text="a = 1\nb = 2",
                 new_text="a = 10\nb = 20")
    assert result.success
    assert (workspace / "w.py").read_bytes() == b"a = 10\r\nb = 20\r\n"


def test_edit_empty_old_text_is_invalid(executor, workspace):
    (workspace / "m.py").write_text("a")
    result = run(executor, "edit_file", path="m.py", old_text="", new_text="b")
    assert "invalid parameters for edit_file: old_text" in result.error


def test_edit_non_utf8_file(executor, workspace):
    (workspace / "bin.dat").write_bytes(b"\xff\xfe\x00abc")
    result = run(executor, "edit_file", path="bin.dat", old_text="abc", new_text="x")
    assert "not UTF-8" in result.error


# --- list_dir and search_text -------------------------------------------------------------


@pytest.fixture
def project(workspace: Path) -> Path:
    for relative in ("src/app/main.py", "src/app/util.py", "src/app/deep/er/x.py",
                     "tests/test_main.py", "README.md", ".venv/lib/site.py",
                     "src/app/__pycache__/main.cpython-311.pyc", "build/out.txt",
                     "dist/app.whl", ".git/config", ".mypy_cache/x", ".ruff_cache/x",
                     ".pytest_cache/x"):
        path = workspace / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("TODO: find me\n" if relative.endswith(".py") else "TODO\n")
    return workspace


def test_list_dir_skips_tool_folders_and_respects_depth(executor, project):
    result = run(executor, "list_dir")
    assert result.success
    assert result.data["entries"] == ["README.md", "src/", "src/app/", "tests/",
                                      "tests/test_main.py"]
    deeper = run(executor, "list_dir", path="src", depth=5).data["entries"]
    assert "src/app/deep/er/x.py" in deeper
    assert not any("__pycache__" in entry for entry in deeper)
    one = run(executor, "list_dir", depth=1).data["entries"]
    assert one == ["README.md", "src/", "tests/"]


def test_list_dir_errors(executor, project):
    assert "is not a folder" in run(executor, "list_dir", path="README.md").error
    assert "refused by policy" in run(executor, "list_dir", path="..").error


def test_search_literal(executor, project):
    result = run(executor, "search_text", pattern="find me")
    assert result.success
    paths = [m["path"] for m in result.data["matches"]]
    assert paths == ["src/app/deep/er/x.py", "src/app/main.py", "src/app/util.py",
                     "tests/test_main.py"]
    assert result.data["matches"][0] == {"path": "src/app/deep/er/x.py", "line": 1,
                                         "text": "TODO: find me"}
    assert not result.data["truncated"]


def test_search_regex_path_and_limit(executor, project):
    result = run(executor, "search_text", pattern=r"^TODO:\s+\w+", regex=True, path="src")
    assert len(result.data["matches"]) == 3
    literal = run(executor, "search_text", pattern=r"^TODO:\s+\w+", path="src")
    assert literal.data["matches"] == []
    limited = run(executor, "search_text", pattern="TODO", max_matches=2)
    assert len(limited.data["matches"]) == 2 and limited.data["truncated"]
    single = run(executor, "search_text", pattern="TODO", path="README.md")
    assert single.data["matches"] == [{"path": "README.md", "line": 1, "text": "TODO"}]


def test_search_errors_and_binary_files(executor, project):
    bad = run(executor, "search_text", pattern="(", regex=True)
    assert not bad.success and "invalid regular expression" in bad.error
    (project / "blob.bin").write_bytes(b"\x00TODO")
    found = run(executor, "search_text", pattern="TODO").data["matches"]
    assert "blob.bin" not in [m["path"] for m in found]
    assert "does not exist" in run(executor, "search_text", pattern="x", path="nope").error


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_search_does_not_follow_symlinks_out(executor, project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("TODO: find me secret\n")
    (project / "out_dir").symlink_to(outside)
    (project / "out_file.py").symlink_to(outside / "secret.py")
    result = run(executor, "search_text", pattern="secret")
    assert result.data["matches"] == []


# --- commands -----------------------------------------------------------------------------


def test_run_command_success(executor, workspace):
    environment = executor.context.environment
    result = run(executor, "run_command", argv=["python", "-c", "print('hello')"])
    assert result.success, result
    assert result.data == {"exit_code": 0, "stdout": "hello\n", "stderr": "",
                           "timed_out": False, "truncated": False}
    assert environment.ensured == 1


def test_run_command_runs_in_the_workspace_with_the_environment(executor, workspace):
    code = "import os; print(os.getcwd()); print(os.environ.get('PYTHONDONTWRITEBYTECODE'))"
    result = run(executor, "run_command", argv=["python", "-c", code])
    cwd, flag = result.data["stdout"].splitlines()
    assert Path(cwd).resolve() == workspace.resolve()
    assert flag == "1"


def test_run_command_failure_is_unsuccessful_with_data(executor):
    result = run(executor, "run_command",
                 argv=["python", "-c", "import sys; print('bad', file=sys.stderr); sys.exit(3)"])
    assert not result.success
    assert result.error == "exited with code 3"
    assert result.data["exit_code"] == 3 and result.data["stderr"] == "bad\n"


def test_run_command_time_out(executor):
    result = run(executor, "run_command", argv=["python", "-c", "import time; time.sleep(30)"],
                 timeout_s=0.5)
    assert not result.success
    assert result.data["timed_out"] and result.data["exit_code"] is None
    assert "timed out" in result.error


@pytest.mark.parametrize("argv", [["bash", "-c", "echo pwned"], ["/bin/sh", "-c", "id"],
                                  ["sh"], ["cmd.exe", "/c", "dir"],
                                  ["python", "-m", "pip", "install", "requests"]])
def test_run_command_refuses_shells_and_installers(executor, argv):
    result = run(executor, "run_command", argv=argv)
    assert not result.success
    assert result.error.startswith("refused by policy: ")
    assert executor.context.environment.ensured == 0


def test_run_command_timeout_above_the_maximum(executor):
    result = run(executor, "run_command", argv=["python", "-c", "pass"], timeout_s=10_000)
    assert "refused by policy" in result.error and "900" in result.error


def test_run_command_without_environment(workspace):
    executor = make_executor(workspace, environment=None)
    for name, params in (("run_command", {"argv": ["python", "-V"]}), ("run_tests", {})):
        result = run(executor, name, **params)
        assert not result.success
        assert result.error == "the application environment is not ready"


def test_run_command_environment_that_fails_to_prepare(workspace):
    executor = make_executor(workspace, environment=FakeEnvironment(fail=True))
    result = run(executor, "run_command", argv=["python", "-V"])
    assert "could not be prepared" in result.error and "nope" in result.error


def test_run_tests(executor, workspace):
    (workspace / "test_sample.py").write_text(
        "def test_ok():\n    assert 1 + 1 == 2\n\n"
        "def test_bad():\n    assert 1 + 1 == 3\n"
    )
    passing = run(executor, "run_tests", args=["-p", "no:cacheprovider", "-k", "ok"])
    assert passing.success, passing
    assert "1 passed" in passing.data["stdout"]
    failing = run(executor, "run_tests", args=["-p", "no:cacheprovider", "test_sample.py"])
    assert not failing.success
    assert failing.data["exit_code"] == 1 and "1 failed" in failing.data["stdout"]
    refused = run(executor, "run_tests", args=["/etc"])
    assert "refused by policy" in refused.error
