"""Paranoid tester (G7): prepare the app's environment, run every check, report findings.

It never trusts "seems to work": a check that could not run counts as failed.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context, emit, services_of
from agents.schemas import Plan
from agents.state import RunState
from tools.checks import CheckContext
from tools.checks.base import CheckReport, CheckResult, Finding
from tools.sandbox.base import AppEnvironmentError


def check_context(state: RunState, runtime: Runtime[Context]) -> CheckContext:
    """The tester's view of the run: workspace, app contract, sandbox, environment."""
    services = services_of(runtime)
    contract = Plan.model_validate(state["plan"]).app
    contract = contract.model_copy(update={"gui_stay_up_s": services.limits.gui_stay_up_s})
    return CheckContext(workspace=services.record.workspace, contract=contract,
                        sandbox=services.sandbox, environment=services.environment,
                        timeout_s=services.limits.check_timeout_s)


def paranoid_tester(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the checks; write ``checks.json`` (and ``checks-round-N.json``).

    The round passes when every check passed; in paranoid mode (``limits.paranoid``) a
    warning fails it as well, so the work goes back for rework.

    Returns ``{"findings": [...], "checks_passed": bool}``.
    """
    services = services_of(runtime)
    round_ = state.get("round", 0)
    emit(runtime, "tester_started", round=round_)
    try:
        installs = services.environment.ensure()
        for result in installs:
            services.record.logger.info("environment: %s -> exit %s", " ".join(result.argv),
                                        result.exit_code)
        emit(runtime, "environment_ready", installs=len(installs))
        report = services.checks(check_context(state, runtime), lambda r: emit(
            runtime, "check_result", round=round_, check=r.check, passed=r.passed,
            skipped=r.skipped, findings=len(r.findings), duration_ms=r.duration_ms,
            problems=[f.render()[:200] for f in r.findings if f.severity == "error"][:3]))
    except AppEnvironmentError as exc:
        report = CheckReport(results=[CheckResult(check="environment", passed=False, findings=[
            Finding(check="environment", file="pyproject.toml",
                    message=f"installing the declared dependencies failed: {exc}")])])
    findings = report.findings
    if not report.passed and not any(f.severity == "error" for f in findings):
        findings.append(Finding(check="tester", message="a check did not run to completion"))
    # paranoid mode (the default): warnings send the work back too, not only errors
    blocking = ("error", "warning") if services.limits.paranoid else ("error",)
    passed = report.passed and not any(f.severity in blocking for f in findings)
    data = report.model_dump(mode="json") | {"passed": passed, "round": round_,
                                             "paranoid": services.limits.paranoid}
    services.record.write_json(f"checks-round-{round_}.json", data)
    services.record.write_json("checks.json", data)
    warned = "" if passed or not report.passed else (
        "\n- FAIL paranoid mode: warnings count as failures")
    services.record.chat("tester", "\n".join(
        f"- {'PASS' if r.passed else 'SKIP' if r.skipped else 'FAIL'} {r.check}"
        f" ({len(r.findings)} findings)" for r in report.results) + warned,
        title=f"round {round_}")
    errors = [f.model_dump() for f in findings if f.severity in blocking] or [
        f.model_dump() for f in findings]
    return {"findings": [] if passed else errors, "checks_passed": passed}
