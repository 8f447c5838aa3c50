"""What every check receives, and the helpers the checks share.

A check is a function ``(ctx: CheckContext) -> CheckResult``. Tools run inside the
application's own environment (``ctx.environment``) through the run's sandbox, always with
the workspace as working directory and argument lists, never shell strings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tools.checks.base import AppContract, CheckResult, Finding
from tools.sandbox.base import CommandEnvironment, CommandResult, Sandbox, SandboxError

#: Directory names never treated as application source (at any depth).
T = TypeVar("T")

EXCLUDED_DIRS = frozenset({".venv", "build", "dist", ".tmp", "__pycache__"})

#: Cap, in characters, of :attr:`CheckResult.output`.
OUTPUT_CAP = 20_000

#: Cap, in bytes, for each of stdout/stderr of a tool whose output is parsed (JSON reports).
PARSED_OUTPUT_BYTES = 5_000_000


@dataclass(frozen=True)
class CheckContext:
    """The tester's view of a run.

    Attributes:
        workspace: the generated project's root (absolute).
        contract: how the application is started (entry, GUI, smoke arguments).
        sandbox: runs every command.
        environment: the application's own environment (tools and dependencies).
        timeout_s: wall-clock limit, in seconds, for one tool invocation.

    """

    workspace: Path
    contract: AppContract
    sandbox: Sandbox
    environment: CommandEnvironment
    timeout_s: float = 300.0


#: The signature of a check.
Check = Callable[[CheckContext], CheckResult]


class ToolFailure(Exception):
    """A tool could not run to completion (not startable, timed out, unreadable output).

    Carries the finding that reports it and the output seen so far; a check turns it into a
    failed :class:`CheckResult`, never into a pass.
    """

    def __init__(self, finding: Finding, output: str = "") -> None:
        super().__init__(finding.message)
        self.finding = finding
        self.output = output


def source_files(workspace: Path) -> list[Path]:
    """Every ``*.py`` file under ``workspace``, sorted, skipping :data:`EXCLUDED_DIRS`.

    Returns absolute paths. Directories are pruned while walking, so a large ``.venv`` costs
    nothing. Only regular files count: a FIFO (which would block MultiCoder's own reader) is
    left out, and so is a symbolic link unless it leads to a regular file inside the
    workspace (sandboxed code may plant ``x.py -> /etc/shadow``; the checks read on the host).
    """
    root_dir = workspace.resolve()
    found: list[Path] = []
    for root, dirs, files in os.walk(workspace):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS)
        found.extend(Path(root) / name for name in files
                     if name.endswith(".py") and _regular_inside(Path(root) / name, root_dir))
    return sorted(found)


def _regular_inside(path: Path, root: Path) -> bool:
    """True for a regular file, or a link to a regular file inside ``root``."""
    try:
        if path.is_symlink() and not path.resolve(strict=True).is_relative_to(root):
            return False
        return path.is_file()
    except (OSError, RuntimeError):
        return False


def relative(workspace: Path, path: str | Path) -> str:
    """``path`` relative to ``workspace`` with forward slashes (unchanged when outside).

    Relative input is taken as relative to the workspace; a leading ``./`` is dropped.
    """
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = workspace / candidate
    try:
        return candidate.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def cap_output(text: str, limit: int = OUTPUT_CAP) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and its tail."""
    if len(text) <= limit:
        return text
    half = limit // 2
    cut = len(text) - 2 * half
    return f"{text[:half]}\n... [{cut} characters cut] ...\n{text[-half:]}"


def combined_output(result: CommandResult) -> str:
    """The command line, stdout and stderr of ``result`` as one text for a report."""
    parts = [f"$ {' '.join(result.argv)}"]
    if result.stdout.strip():
        parts.append(result.stdout.rstrip())
    if result.stderr.strip():
        parts.append(result.stderr.rstrip())
    if result.timed_out:
        parts.append("(killed at the time-out)")
    else:
        parts.append(f"(exit code {result.exit_code})")
    return "\n".join(parts)


def run_tool(
    ctx: CheckContext,
    check: str,
    argv: Sequence[str],
    *,
    timeout_s: float | None = None,
    env: Mapping[str, str] | None = None,
    max_output_bytes: int = PARSED_OUTPUT_BYTES,
    allow_timeout: bool = False,
) -> CommandResult:
    """Run ``argv`` in the workspace with the environment's variables.

    Args:
        ctx: the check context (sandbox, environment, default time-out).
        check: the check's name, used in a failure finding.
        argv: program (absolute path) and arguments.
        timeout_s: wall-clock limit in seconds (``ctx.timeout_s`` when None).
        env: variables to use instead of ``ctx.environment.variables()``.
        max_output_bytes: cap for each of stdout and stderr.
        allow_timeout: return a timed-out result instead of raising (the GUI stay-up test).

    Raises:
        ToolFailure: the command could not start, or it hit the time-out while
            ``allow_timeout`` is False.

    """
    limit = ctx.timeout_s if timeout_s is None else timeout_s
    variables = ctx.environment.variables() if env is None else dict(env)
    program = Path(argv[0]).name
    try:
        result = ctx.sandbox.run(list(argv), cwd=ctx.workspace, env=variables,
                                 timeout_s=limit, max_output_bytes=max_output_bytes)
    except SandboxError as exc:
        raise ToolFailure(Finding(
            check=check, message=f"{program} could not be started ({exc}); is it installed in"
            " the application environment?")) from exc
    if result.timed_out and not allow_timeout:
        raise ToolFailure(Finding(
            check=check, message=f"{program} did not finish within {limit:g} s"),
            combined_output(result))
    return result


def run_json_tool(ctx: CheckContext, check: str, argv: Sequence[str],
                  parse: Callable[[str], T | None]) -> tuple[T, str]:
    """Run a linter that reports JSON on stdout and exits 0 (clean) or 1 (issues found).

    Returns:
        ``(parsed report, combined output for the check result)``.

    Raises:
        ToolFailure: the tool could not start, timed out, exited otherwise, or its stdout is
            not the JSON ``parse`` expects (``parse`` returns None).

    """
    result = run_tool(ctx, check, argv)
    output = combined_output(result)
    parsed = parse(result.stdout) if result.exit_code in (0, 1) else None
    if parsed is None:
        raise ToolFailure(Finding(check=check, message=f"{check} did not run to completion"),
                          output)
    return parsed, output


def elapsed_ms(start: float) -> int:
    """Milliseconds since ``start`` (a :func:`time.monotonic` reading)."""
    return int((time.monotonic() - start) * 1000)


def failed(check: str, failure: ToolFailure, duration_ms: int) -> CheckResult:
    """The failed result of a check whose tool could not run to completion."""
    return CheckResult(check=check, passed=False, findings=[failure.finding],
                       duration_ms=duration_ms, output=cap_output(failure.output))


def result_of(check: str, findings: list[Finding], output: str, duration_ms: int) -> CheckResult:
    """A result that passes exactly when no finding has severity ``error``."""
    return CheckResult(check=check, passed=not any(f.severity == "error" for f in findings),
                       findings=findings, duration_ms=duration_ms, output=cap_output(output))
