"""Syntax check: every source file parses (in-process; parsing runs none of the app's code)."""

from __future__ import annotations

import ast
import time
import warnings

from tools.checks.base import CheckResult, Finding
from tools.checks.context import CheckContext, elapsed_ms, relative, result_of, source_files

NAME = "syntax"


def check_syntax(ctx: CheckContext) -> CheckResult:
    """Parse every source file with :func:`ast.parse`.

    Returns:
        A result named ``syntax`` with one error finding (file, line, message) per file that
        does not parse or cannot be read as UTF-8. An empty workspace is a failure too.

    """
    start = time.monotonic()
    files = source_files(ctx.workspace)
    findings: list[Finding] = []
    for path in files:
        name = relative(ctx.workspace, path)
        try:
            source = path.read_bytes()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escape sequences are ruff's business
                ast.parse(source, filename=name)
        except SyntaxError as exc:
            findings.append(Finding(check=NAME, file=name, line=exc.lineno,
                                    message=f"{type(exc).__name__}: {exc.msg}"))
        except (OSError, ValueError) as exc:
            findings.append(Finding(check=NAME, file=name, message=f"cannot be parsed: {exc}"))
    if not files:
        findings.append(Finding(check=NAME, message="the workspace has no Python source files"))
    output = f"parsed {len(files)} files, {len(findings)} problems"
    return result_of(NAME, findings, output, elapsed_ms(start))
