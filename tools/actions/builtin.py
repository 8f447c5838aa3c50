"""The built-in actions: read, write and edit files, list, search, run commands and tests (T1).

Handlers receive parameters already validated and checked by the policy; they still resolve
every path through :meth:`Policy.resolve_path` and use the resolved path only. File content is
written as UTF-8 bytes exactly as given (no newline translation on Windows).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from tools.actions.base import ActionResult
from tools.actions.context import ActionContext, ActionError
from tools.actions.params import (
    SKIPPED_DIRS,
    EditFileParams,
    ListDirParams,
    ReadFileParams,
    RunCommandParams,
    RunTestsParams,
    SearchTextParams,
    WriteFileParams,
)
from tools.actions.policy import Policy
from tools.actions.registry import ActionRegistry
from tools.actions.web_actions import register_web_actions
from tools.sandbox.base import AppEnvironmentError, CommandEnvironment, SandboxError

#: Most entries list_dir returns.
MAX_LIST_ENTRIES: Final = 1000
#: Characters of a matching line search_text returns.
MAX_MATCH_CHARS: Final = 300
#: Bytes inspected for a NUL to tell a binary file.
BINARY_SNIFF_BYTES: Final = 8192


def read_file(params: ReadFileParams, context: ActionContext, policy: Policy) -> ActionResult:
    """Return lines ``start_line`` .. of a file, capped at ``policy.max_output_bytes``.

    Returns:
        data ``{"path", "content", "start_line", "end_line", "total_lines", "truncated"}``:
        ``content`` is the raw text of lines ``start_line``..``end_line`` (1-based, inclusive;
        ``end_line = start_line - 1`` when nothing was returned); ``truncated`` is True when
        the byte cap cut the selection short.

    Raises:
        ActionError: missing, a folder, larger than ``max_file_bytes``, or start_line past
            the end.
        PolicyViolation: the path leaves the workspace.

    """
    target = _existing_file(policy, params.path)
    text = target.read_bytes().decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    if params.start_line > max(len(lines), 1):
        raise ActionError(
            f"start_line {params.start_line} is past the end of {params.path}"
            f" ({len(lines)} lines)"
        )
    window = lines[params.start_line - 1 : params.start_line - 1 + params.max_lines]
    selected: list[str] = []
    used = 0
    truncated = False
    for line in window:
        size = len(line.encode("utf-8"))
        if used + size > policy.max_output_bytes:
            truncated = True
            if not selected:  # one huge line: return its beginning rather than nothing
                cut = line.encode("utf-8")[: policy.max_output_bytes]
                selected.append(cut.decode("utf-8", errors="ignore"))
            break
        selected.append(line)
        used += size
    return ActionResult(success=True, data={
        "path": params.path,
        "content": "".join(selected),
        "start_line": params.start_line,
        "end_line": params.start_line + len(selected) - 1,
        "total_lines": len(lines),
        "truncated": truncated,
    })


def write_file(params: WriteFileParams, context: ActionContext, policy: Policy) -> ActionResult:
    """Create or replace a file with ``content`` (UTF-8), creating its parent folders.

    Returns:
        data ``{"path", "bytes_written"}``.

    Raises:
        ActionError: the path is the workspace itself or an existing folder.
        PolicyViolation: the path leaves the workspace.
        OSError: the file system refused the write.

    """
    target = policy.resolve_path(params.path)
    if target == policy.resolve_path(".") or target.is_dir():
        raise ActionError(f"{params.path} is a folder; give a file path")
    data = params.content.encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return ActionResult(success=True, data={"path": params.path, "bytes_written": len(data)})


def edit_file(params: EditFileParams, context: ActionContext, policy: Policy) -> ActionResult:
    """Replace the single occurrence of ``old_text`` with ``new_text`` in a UTF-8 file.

    When the file uses CRLF line ends and ``old_text`` has bare LFs, both texts are matched
    and written with CRLF, so an edit works the same on a Windows checkout.

    Returns:
        data ``{"path", "bytes_written", "line"}``; ``line`` is where the edit starts (1-based).

    Raises:
        ActionError: missing file, not UTF-8, ``old_text`` found 0 or several times (the
            message gives the count), or the result larger than ``max_file_bytes``.
        PolicyViolation: the path leaves the workspace.

    """
    target = _existing_file(policy, params.path)
    try:
        text = target.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ActionError(f"{params.path} is not UTF-8 text ({exc.reason})") from exc
    old, new = params.old_text, params.new_text
    positions = _occurrences(text, old)
    if not positions and "\r\n" in text and "\r\n" not in old and "\n" in old:
        old, new = old.replace("\n", "\r\n"), new.replace("\r\n", "\n").replace("\n", "\r\n")
        positions = _occurrences(text, old)
    if not positions:
        raise ActionError(f"old_text not found in {params.path}")
    if len(positions) > 1:
        raise ActionError(
            f"old_text matches {len(positions)} times in {params.path};"
            " include more context to make it unique"
        )
    start = positions[0]
    data = (text[:start] + new + text[start + len(old) :]).encode("utf-8")
    if len(data) > policy.max_file_bytes:
        raise ActionError(
            f"the edited {params.path} would be {len(data)} bytes; the limit is"
            f" {policy.max_file_bytes} bytes"
        )
    target.write_bytes(data)
    return ActionResult(success=True, data={
        "path": params.path, "bytes_written": len(data), "line": text.count("\n", 0, start) + 1,
    })


def list_dir(params: ListDirParams, context: ActionContext, policy: Policy) -> ActionResult:
    """List a folder's tree to ``depth`` levels, skipping :data:`SKIPPED_DIRS`.

    Symlinked folders are listed but not entered.

    Returns:
        data ``{"path", "entries", "truncated"}``: ``entries`` are workspace-relative paths
        with ``/`` separators, folders ending in ``/``, at most :data:`MAX_LIST_ENTRIES`.

    Raises:
        ActionError: the path is not a folder.
        PolicyViolation: the path leaves the workspace.

    """
    folder = policy.resolve_path(params.path)
    if not folder.is_dir():
        raise ActionError(f"{params.path} is not a folder")
    root = policy.resolve_path(".")
    entries: list[str] = []
    truncated = False
    for entry, is_dir in _walk(folder, params.depth):
        if len(entries) == MAX_LIST_ENTRIES:
            truncated = True
            break
        relative = entry.relative_to(root).as_posix()
        entries.append(relative + "/" if is_dir else relative)
    return ActionResult(success=True, data={
        "path": params.path, "entries": entries, "truncated": truncated,
    })


def search_text(
    params: SearchTextParams, context: ActionContext, policy: Policy
) -> ActionResult:
    """Find lines containing ``pattern`` (or matching it as a regular expression).

    Skips :data:`SKIPPED_DIRS`, binary files, files above ``max_file_bytes`` and symlinks
    that lead outside the workspace.

    Returns:
        data ``{"pattern", "matches", "truncated", "files_searched"}``: each match is
        ``{"path", "line", "text"}`` (workspace-relative path, 1-based line, the line cut to
        :data:`MAX_MATCH_CHARS` characters); ``truncated`` when ``max_matches`` was reached.

    Raises:
        ActionError: invalid regular expression or the path does not exist.
        PolicyViolation: the path leaves the workspace.

    """
    base = policy.resolve_path(params.path)
    root = policy.resolve_path(".")
    if not base.exists():
        raise ActionError(f"{params.path} does not exist")
    matches = _matcher(params.pattern, params.regex)
    files = [base] if base.is_file() else [p for p, is_dir in _walk(base, None) if not is_dir]
    found: list[dict[str, Any]] = []
    searched = 0
    for file in files:
        text = _searchable_text(file, root, policy.max_file_bytes)
        if text is None:
            continue
        searched += 1
        for number, line in enumerate(text.splitlines(), start=1):
            if matches(line):
                if len(found) == params.max_matches:
                    return ActionResult(success=True, data={
                        "pattern": params.pattern, "matches": found, "truncated": True,
                        "files_searched": searched,
                    })
                found.append({"path": file.relative_to(root).as_posix(), "line": number,
                              "text": line[:MAX_MATCH_CHARS]})
    return ActionResult(success=True, data={
        "pattern": params.pattern, "matches": found, "truncated": False,
        "files_searched": searched,
    })


def run_command(
    params: RunCommandParams, context: ActionContext, policy: Policy
) -> ActionResult:
    """Run ``argv`` with its program taken from the application's environment.

    Returns:
        data ``{"exit_code", "stdout", "stderr", "timed_out", "truncated"}``; success when
        the exit code is 0. ``logs`` lists environment installs that ran first.

    Raises:
        ActionError: no environment, it could not be prepared, or the sandbox could not
            start the program.
        PolicyViolation: the program is not allowed.

    """
    policy.check_command(params.argv)
    environment, logs = _ready_environment(context)
    command = [environment.program(params.argv[0]), *params.argv[1:]]
    return _run(command, params.timeout_s, environment, context, policy, logs)


def run_tests(params: RunTestsParams, context: ActionContext, policy: Policy) -> ActionResult:
    """Run ``python -m pytest -q <args>`` in the workspace with the environment's python.

    Returns:
        As :func:`run_command`; success when pytest exits with 0 (all tests passed).

    Raises:
        ActionError: as :func:`run_command`.

    """
    environment, logs = _ready_environment(context)
    command = [environment.program("python"), "-m", "pytest", "-q", *params.args]
    return _run(command, params.timeout_s, environment, context, policy, logs)


def default_registry(*, web: bool = False) -> ActionRegistry:
    """A registry with the seven built-in actions (none needs approval), plus the web ones.

    Names: read_file, write_file, edit_file, list_dir, search_text, run_command, run_tests;
    with ``web``: web_search, github_repo, fetch_page, download and clone_repo (the last two
    need approval; see :mod:`tools.actions.web_actions`).
    """
    registry = ActionRegistry()
    registry.register("read_file", ReadFileParams, read_file)
    registry.register("write_file", WriteFileParams, write_file)
    registry.register("edit_file", EditFileParams, edit_file)
    registry.register("list_dir", ListDirParams, list_dir)
    registry.register("search_text", SearchTextParams, search_text)
    registry.register("run_command", RunCommandParams, run_command)
    registry.register("run_tests", RunTestsParams, run_tests)
    if web:
        register_web_actions(registry)
    return registry


def _existing_file(policy: Policy, relative: str) -> Path:
    """Resolve ``relative`` to an existing file no larger than ``policy.max_file_bytes``."""
    target = policy.resolve_path(relative)
    if not target.exists():
        raise ActionError(f"{relative} does not exist")
    if not target.is_file():
        raise ActionError(f"{relative} is not a file")
    size = target.stat().st_size
    if size > policy.max_file_bytes:
        raise ActionError(
            f"{relative} is {size} bytes; the limit is {policy.max_file_bytes} bytes"
        )
    return target


def _occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of ``needle`` in ``text``, overlapping ones included."""
    positions: list[int] = []
    index = text.find(needle)
    while index != -1:
        positions.append(index)
        index = text.find(needle, index + 1)
    return positions


def _walk(folder: Path, depth: int | None) -> Iterator[tuple[Path, bool]]:
    """Yield ``(path, is_dir)`` under ``folder``, sorted by name, to ``depth`` levels.

    Skips :data:`SKIPPED_DIRS` and unreadable folders; symlinked folders are yielded but not
    entered (no loops, no leaving the workspace through them).
    """
    try:
        children = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError:
        return
    for child in children:
        is_dir = child.is_dir()
        if is_dir and child.name in SKIPPED_DIRS:
            continue
        yield child, is_dir
        if is_dir and not child.is_symlink() and (depth is None or depth > 1):
            yield from _walk(child, None if depth is None else depth - 1)


def _matcher(pattern: str, regex: bool) -> Callable[[str], bool]:
    """A predicate telling whether a line matches ``pattern``."""
    if not regex:
        return lambda line: pattern in line
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ActionError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return lambda line: compiled.search(line) is not None


def _searchable_text(file: Path, root: Path, max_bytes: int) -> str | None:
    """The file's text, or None when it is binary, too large, unreadable or leads outside."""
    try:
        if not file.resolve(strict=True).is_relative_to(root):
            return None
        if file.stat().st_size > max_bytes:
            return None
        raw = file.read_bytes()
    except (OSError, RuntimeError):
        return None
    if b"\0" in raw[:BINARY_SNIFF_BYTES]:
        return None
    return raw.decode("utf-8", errors="replace")


def _ready_environment(context: ActionContext) -> tuple[CommandEnvironment, str]:
    """The prepared application environment, and a log line per install that ran."""
    environment = context.environment
    if environment is None:
        raise ActionError("the application environment is not ready")
    try:
        installs = environment.ensure()
    except AppEnvironmentError as exc:
        raise ActionError(f"the application environment could not be prepared: {exc}") from exc
    logs = "".join(
        f"environment: {' '.join(done.argv)} -> exit {done.exit_code}\n" for done in installs
    )
    return environment, logs


def _run(
    command: Sequence[str],
    timeout_s: float,
    environment: CommandEnvironment,
    context: ActionContext,
    policy: Policy,
    logs: str,
) -> ActionResult:
    """Run ``command`` in the workspace through the sandbox and shape the result."""
    try:
        result = context.sandbox.run(
            command, cwd=context.workspace, env=environment.variables(),
            timeout_s=policy.timeout_for(timeout_s), max_output_bytes=policy.max_output_bytes,
        )
    except SandboxError as exc:
        raise ActionError(f"the command could not be started: {exc}") from exc
    success = result.exit_code == 0 and not result.timed_out
    error = None
    if result.timed_out:
        error = f"timed out after {timeout_s:g} s and was killed"
    elif not success:
        error = f"exited with code {result.exit_code}"
    return ActionResult(
        success=success,
        error=error,
        logs=logs,
        data={
            "exit_code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
            "timed_out": result.timed_out, "truncated": result.truncated,
        },
    )
