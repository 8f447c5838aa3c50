"""Run the paranoid tester's checks: syntax first, then the rest concurrently."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from types import MappingProxyType

from tools.checks.bandit_check import check_bandit
from tools.checks.base import CheckReport, CheckResult, Finding
from tools.checks.context import OUTPUT_CAP, Check, CheckContext, cap_output, elapsed_ms
from tools.checks.headless import check_headless
from tools.checks.imports import check_imports
from tools.checks.mypy_check import check_mypy
from tools.checks.pytest_check import check_pytest
from tools.checks.ruff_check import check_ruff
from tools.checks.syntax import check_syntax

#: Every check by name, in report order. ``syntax`` gates the others.
ALL: Mapping[str, Check] = MappingProxyType({
    "syntax": check_syntax,
    "imports": check_imports,
    "ruff": check_ruff,
    "mypy": check_mypy,
    "bandit": check_bandit,
    "headless": check_headless,
    "pytest": check_pytest,
})

#: The check that must pass before any other runs.
GATE = "syntax"


def run_checks(
    ctx: CheckContext,
    *,
    checks: Mapping[str, Check] = ALL,
    jobs: int = 4,
    on_result: Callable[[CheckResult], None] | None = None,
) -> CheckReport:
    """Run ``checks`` against ``ctx`` and collect one report.

    ``syntax`` (when present) runs first; if it fails, every other check is reported as
    ``skipped=True`` (and not passed) with a finding saying why, without running. The others
    run concurrently on ``jobs`` threads. A check that raises becomes a failed result whose
    finding names the exception: nothing that did not run is ever a pass. The environment is
    expected to be ready (``ctx.environment.ensure()`` has been called).

    Args:
        ctx: workspace, contract, sandbox, environment, time-out.
        checks: name -> check function, in report order (default :data:`ALL`).
        jobs: worker threads for the concurrent phase (at least 1).
        on_result: called in the caller's thread with each result as soon as it is known
            (completion order); exceptions it raises propagate.

    Returns:
        The report, with results in the order of ``checks`` whatever the completion order;
        each result's ``output`` is capped at :data:`~tools.checks.context.OUTPUT_CAP`.

    """
    results: dict[str, CheckResult] = {}

    def record(result: CheckResult) -> None:
        results[result.check] = result
        if on_result is not None:
            on_result(result)

    remaining = dict(checks)
    gate = remaining.pop(GATE, None)
    if gate is not None:
        record(_run_one(GATE, gate, ctx))
        if not results[GATE].passed:
            for name in remaining:
                record(_skipped(name, f"not run: the {GATE} check failed; fix it first"))
            return _report(checks, results)
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="check") as pool:
        futures: dict[Future[CheckResult], str] = {
            pool.submit(_run_one, name, check, ctx): name for name, check in remaining.items()}
        for future in as_completed(futures):
            record(future.result())
    return _report(checks, results)


def _run_one(name: str, check: Check, ctx: CheckContext) -> CheckResult:
    """Run one check; exceptions become a failed result; the name and output cap are enforced."""
    start = time.monotonic()
    try:
        result = check(ctx)
    except Exception as exc:  # any crash of a check is a failed check, never a pass
        return CheckResult(check=name, passed=False, duration_ms=elapsed_ms(start), findings=[
            Finding(check=name, message=f"the check crashed: {type(exc).__name__}: {exc}")])
    return result.model_copy(update={"check": name, "output": cap_output(result.output,
                                                                        OUTPUT_CAP)})


def _skipped(name: str, reason: str) -> CheckResult:
    return CheckResult(check=name, passed=False, skipped=True,
                       findings=[Finding(check=name, severity="info", message=reason)])


def _report(checks: Mapping[str, Check], results: dict[str, CheckResult]) -> CheckReport:
    return CheckReport(results=[results[name] for name in checks if name in results])
