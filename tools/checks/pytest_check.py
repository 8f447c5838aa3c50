"""Test check: the app's own pytest suite under ``tests/``, read back from JUnit XML."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from tools.checks.base import CheckResult, Finding
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

NAME = "pytest"

#: Where pytest writes its report, relative to the workspace.
JUNIT_PATH = ".tmp/junit.xml"

#: ``path.py:line: ExceptionName`` lines at the end of a pytest failure report.
LOCATION = re.compile(r"^(?P<file>[^\s:][^:\n]*\.py):(?P<line>\d+):", re.MULTILINE)

_MAX_JUNIT_BYTES = 20_000_000
_MESSAGE_CHARS = 1500


def find_test_files(workspace: Path) -> list[Path]:
    """``test_*.py`` and ``*_test.py`` files under ``<workspace>/tests`` (sorted)."""
    tests = workspace / "tests"
    if not tests.is_dir():
        return []
    return sorted(
        path for path in tests.rglob("*.py")
        if (path.name.startswith("test_") or path.name.endswith("_test.py"))
        and not EXCLUDED_DIRS.intersection(path.relative_to(tests).parts))


def pytest_argv(ctx: CheckContext) -> list[str]:
    """The pytest command line: quiet, no cache, JUnit XML (xunit1 keeps file and line).

    Each test gets half the check time-out (pytest-timeout), so one hanging test becomes a
    finding naming it instead of a killed run.
    """
    per_test = max(1, int(ctx.timeout_s / 2))
    return [ctx.environment.program("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--junitxml={JUNIT_PATH}", "-o", "junit_family=xunit1", f"--timeout={per_test}",
            "tests"]


def check_pytest(ctx: CheckContext) -> CheckResult:
    """Run the app's tests and turn each failed or errored test into a finding.

    Returns:
        A result named ``pytest``. No test files is a failure ("no tests: add pytest tests
        under tests/"); so is a run that collected nothing, crashed, or timed out. Findings
        carry the failing line inside the workspace and pytest's message.

    """
    start = time.monotonic()
    if not find_test_files(ctx.workspace):
        return result_of(NAME, [Finding(check=NAME, file="tests/",
                                        message="no tests: add pytest tests under tests/")],
                         "", elapsed_ms(start))
    junit = ctx.workspace / JUNIT_PATH
    junit.unlink(missing_ok=True)
    try:
        result = run_tool(ctx, NAME, pytest_argv(ctx))
        output = combined_output(result)
        if result.exit_code == 5:
            return result_of(NAME, [Finding(
                check=NAME, file="tests/",
                message="pytest collected no tests: add test_* functions under tests/")],
                output, elapsed_ms(start))
        if result.exit_code not in (0, 1, 2):
            raise ToolFailure(Finding(
                check=NAME, message=f"pytest could not run (exit code {result.exit_code})"),
                output)
        findings = _read_junit(ctx, junit)
        if result.exit_code != 0 and not findings:
            raise ToolFailure(Finding(
                check=NAME, message=f"pytest failed (exit code {result.exit_code}) without a"
                " readable report: " + (result.stdout.strip().splitlines() or ["?"])[-1]),
                output)
    except ToolFailure as failure:
        return failed(NAME, failure, elapsed_ms(start))
    return result_of(NAME, findings, output, elapsed_ms(start))


def _read_junit(ctx: CheckContext, junit: Path) -> list[Finding]:
    if not junit.is_file() or junit.stat().st_size > _MAX_JUNIT_BYTES:
        return []
    try:
        # The file is written by the app's test run, so it is untrusted; ElementTree resolves
        # no external entities and the bundled expat (>= 2.4.1) caps entity expansion.
        root = ET.parse(junit).getroot()  # noqa: S314
    except ET.ParseError:
        return []
    findings: list[Finding] = []
    for case in root.iter("testcase"):
        for outcome in (*case.findall("failure"), *case.findall("error")):
            findings.append(_finding(ctx, case, outcome))
    return findings


def _finding(ctx: CheckContext, case: ET.Element, outcome: ET.Element) -> Finding:
    name = case.get("name", "?")
    classname = case.get("classname", "")
    test_id = f"{classname}.{name}" if classname else name
    message = (outcome.get("message") or "").strip() or (outcome.text or "").strip()
    verb = "failed" if outcome.tag == "failure" else "errored"
    file, line = _location(ctx, outcome.text or "")
    if file is None and case.get("file"):
        file = relative(ctx.workspace, case.get("file", ""))
        line = int(case.get("line", "0")) + 1
    return Finding(check=NAME, file=file, line=line,
                   message=f"{test_id} {verb}: {message[-_MESSAGE_CHARS:]}")


def _location(ctx: CheckContext, report: str) -> tuple[str | None, int | None]:
    """The last ``file.py:line:`` of a failure report that is a workspace file."""
    for match in reversed(list(LOCATION.finditer(report))):
        file = relative(ctx.workspace, match["file"])
        if (not Path(file).is_absolute() and not file.startswith(".venv/")
                and (ctx.workspace / file).is_file()):
            return file, int(match["line"])
    return None, None
