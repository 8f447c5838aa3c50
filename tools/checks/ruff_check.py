"""Lint check: ruff's error-class rules (pyflakes, bugbear, E4/E7/E9), as JSON."""

from __future__ import annotations

import json
import time
from typing import Any

from tools.checks.base import CheckResult, Finding
from tools.checks.context import (
    CheckContext,
    ToolFailure,
    elapsed_ms,
    failed,
    relative,
    result_of,
    run_json_tool,
)

NAME = "ruff"

#: Arguments after the ruff program; the target is the workspace (``.``).
RUFF_ARGS = ("check", "--no-cache", "--output-format=json", "--select", "E4,E7,E9,F,B",
             "--exclude", ".venv,build,dist,.tmp", ".")


def check_ruff(ctx: CheckContext) -> CheckResult:
    """Run ``ruff check`` (see :data:`RUFF_ARGS`) and turn each diagnostic into a finding.

    Returns:
        A result named ``ruff``; findings carry file, line and ``"<code> <message>"``, all
        with severity error. Exit code 2 or output that is not ruff's JSON fails the check.

    """
    start = time.monotonic()
    try:
        diagnostics, output = run_json_tool(
            ctx, NAME, [ctx.environment.program("ruff"), *RUFF_ARGS], _parse)
    except ToolFailure as failure:
        return failed(NAME, failure, elapsed_ms(start))
    findings = [_finding(ctx, item) for item in diagnostics]
    return result_of(NAME, findings, output, elapsed_ms(start))


def _parse(stdout: str) -> list[dict[str, Any]] | None:
    try:
        data = json.loads(stdout or "[]")
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        return None
    return data


def _finding(ctx: CheckContext, item: dict[str, Any]) -> Finding:
    location = item.get("location") or {}
    code = item.get("code") or "syntax"
    filename = item.get("filename")
    return Finding(check=NAME, file=relative(ctx.workspace, filename) if filename else None,
                   line=location.get("row"), message=f"{code} {item.get('message', '')}".strip())
