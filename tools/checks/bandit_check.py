"""Security check: bandit over the app's code (tests excluded), as JSON."""

from __future__ import annotations

import json
import time
from typing import Any

from tools.checks.base import CheckResult, Finding, Severity
from tools.checks.context import (
    CheckContext,
    ToolFailure,
    elapsed_ms,
    failed,
    relative,
    result_of,
    run_json_tool,
)

NAME = "bandit"

#: Arguments after the bandit program; the target is the workspace (``.``).
BANDIT_ARGS = ("-r", "-f", "json", "-x", "./.venv,./build,./dist,./.tmp,./tests", ".")

#: bandit severity -> finding severity; LOW is reported but does not fail the check.
SEVERITY: dict[str, Severity] = {"HIGH": "error", "MEDIUM": "error", "LOW": "info"}


def check_bandit(ctx: CheckContext) -> CheckResult:
    """Run ``bandit`` (see :data:`BANDIT_ARGS`) and turn each issue into a finding.

    Returns:
        A result named ``bandit``: MEDIUM and HIGH issues are errors, LOW issues are info;
        messages read ``"<test id> <text> (severity S, confidence C)"``. A file bandit could
        not scan is an error finding; output that is not bandit's JSON fails the check.

    """
    start = time.monotonic()
    try:
        report, output = run_json_tool(
            ctx, NAME, [ctx.environment.program("bandit"), *BANDIT_ARGS], _parse)
    except ToolFailure as failure:
        return failed(NAME, failure, elapsed_ms(start))
    findings = [_issue(ctx, item) for item in report.get("results", [])]
    findings += [
        Finding(check=NAME, file=relative(ctx.workspace, str(item.get("filename", ""))),
                message=f"bandit could not scan this file: {item.get('reason', 'unknown')}")
        for item in report.get("errors", [])]
    return result_of(NAME, findings, output, elapsed_ms(start))


def _parse(stdout: str) -> dict[str, Any] | None:
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("results", []), list):
        return None
    return data


def _issue(ctx: CheckContext, item: dict[str, Any]) -> Finding:
    severity = str(item.get("issue_severity", "HIGH")).upper()
    confidence = str(item.get("issue_confidence", "")).upper()
    return Finding(
        check=NAME, file=relative(ctx.workspace, str(item.get("filename", ""))),
        line=item.get("line_number"), severity=SEVERITY.get(severity, "error"),
        message=f"{item.get('test_id', '')} {item.get('issue_text', '')}"
                f" (severity {severity}, confidence {confidence})".strip())
