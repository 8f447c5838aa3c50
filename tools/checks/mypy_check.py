"""Type check: mypy over the app's top-level packages and modules."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tools.checks.base import CheckResult, Finding, Severity
from tools.checks.context import (
    EXCLUDED_DIRS,
    CheckContext,
    ToolFailure,
    combined_output,
    elapsed_ms,
    failed,
    relative,
    result_of,
    run_tool,
)

NAME = "mypy"

#: Arguments before the targets. The cache goes to ``.tmp`` so the workspace stays clean.
MYPY_ARGS = ("--ignore-missing-imports", "--no-error-summary", "--show-error-codes",
             "--cache-dir", ".tmp/.mypy_cache",
             "--exclude", r"(^|/)(\.venv|build|dist|\.tmp)/")

#: ``file:line[:col]: error|warning|note: message  [code]``
MESSAGE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?:\d+:)?\s(?P<kind>error|warning|note):\s(?P<text>.*?)"
    r"(?:\s+\[(?P<code>[\w-]+)\])?\s*$")

_SEVERITY: dict[str, Severity] = {"error": "error", "warning": "warning", "note": "info"}


def targets(workspace: Path) -> list[str]:
    """Top-level modules (``*.py``) and directories holding Python files, sorted by name.

    Hidden directories and :data:`~tools.checks.context.EXCLUDED_DIRS` are skipped.
    """
    found: list[str] = []
    for entry in sorted(workspace.iterdir()):
        if entry.name.startswith(".") or entry.name in EXCLUDED_DIRS:
            continue
        module = entry.is_file() and entry.suffix == ".py"
        package = entry.is_dir() and next(entry.rglob("*.py"), None) is not None
        if module or package:
            found.append(entry.name)
    return found


def parse_mypy(workspace: Path, text: str) -> list[Finding]:
    """Findings from mypy's output: ``error`` -> error, ``note`` -> info; other lines ignored."""
    findings: list[Finding] = []
    for line in text.splitlines():
        match = MESSAGE.match(line)
        if not match:
            continue
        message = match["text"] + (f" [{match['code']}]" if match["code"] else "")
        findings.append(Finding(check=NAME, file=relative(workspace, match["file"]),
                                line=int(match["line"]), severity=_SEVERITY[match["kind"]],
                                message=message))
    return findings


def check_mypy(ctx: CheckContext) -> CheckResult:
    """Run ``mypy`` (see :data:`MYPY_ARGS`) on :func:`targets`.

    Returns:
        A result named ``mypy``. Exit code 2 (mypy could not check: duplicate module names,
        bad configuration) or exit code 1 without any parsable error fails the check with a
        finding holding mypy's first line.

    """
    start = time.monotonic()
    names = targets(ctx.workspace)
    if not names:
        return result_of(NAME, [Finding(check=NAME, message="nothing to type-check")], "",
                         elapsed_ms(start))
    try:
        result = run_tool(ctx, NAME, [ctx.environment.program("mypy"), *MYPY_ARGS, *names])
        output = combined_output(result)
        findings = parse_mypy(ctx.workspace, result.stdout)
        has_error = any(f.severity == "error" for f in findings)
        if result.exit_code not in (0, 1) or (result.exit_code == 1 and not has_error):
            first = (result.stdout.strip() or result.stderr.strip() or "no output").splitlines()
            raise ToolFailure(Finding(
                check=NAME, message=f"mypy could not check the project: {first[0]}"), output)
    except ToolFailure as failure:
        return failed(NAME, failure, elapsed_ms(start))
    return result_of(NAME, findings, output, elapsed_ms(start))
