"""Packager (G8): a one-file PyInstaller executable, itself run headless before it counts."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context, emit, services_of
from agents.paranoid_tester import check_context
from agents.state import RunState
from tools.checks.base import Finding
from tools.packaging import PackagingError


def packager(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Build the executable into the run's ``dist/``, then run it headless.

    Returns ``{"artifact": manifest, "checks_passed": True}``; a failed build or a failing
    packaged run returns findings and ``checks_passed=False`` (the coder gets them).
    """
    services = services_of(runtime)
    context = check_context(state, runtime)
    emit(runtime, "packaging_started", name=context.contract.name)
    try:
        artifact, smoke = services.package(context, services.record.dist_dir,
                                           services.limits.build_timeout_s)
    except PackagingError as exc:
        finding = Finding(check="package", severity="error", message=str(exc))
        emit(runtime, "packaging_failed", error=str(exc)[:500])
        return {"checks_passed": False, "findings": [finding.model_dump()]}
    emit(runtime, "packaging_built", path=str(artifact.path), size_bytes=artifact.size_bytes,
         sha256=artifact.sha256)
    emit(runtime, "check_result", round=state.get("round", 0), check=smoke.check,
         passed=smoke.passed, skipped=smoke.skipped, findings=len(smoke.findings),
         duration_ms=smoke.duration_ms)
    if not smoke.passed:
        findings = smoke.findings or [
            Finding(check=smoke.check, message="the packaged executable failed its run")]
        return {"checks_passed": False, "findings": [f.model_dump() for f in findings]}
    manifest = artifact.model_dump(mode="json") | {"packaged_run": smoke.model_dump(mode="json")}
    return {"artifact": manifest, "checks_passed": True, "findings": []}
