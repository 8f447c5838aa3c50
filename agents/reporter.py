"""Reporter: the run's final status and ``report.md`` / ``report.json`` in its folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agents.budget import RunSpending
from agents.context import Context, emit, services_of
from agents.schemas import Plan, SafetyVerdict, Spec
from agents.state import RunState


def final_status(state: RunState) -> str:
    """``done`` with an artifact; otherwise the status set earlier, or ``failed``."""
    if state.get("status") in ("refused", "rejected", "stopped", "cancelled"):
        return state["status"]
    return "done" if state.get("artifact") and state.get("checks_passed") else "failed"


def _checks_table(run_dir: Path) -> list[str]:
    path = run_dir / "checks.json"
    if not path.is_file():
        return ["(no checks ran)"]
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = ["| check | result | findings |", "|---|---|---|"]
    for result in data.get("results", []):
        verdict = "skipped" if result.get("skipped") else (
            "passed" if result.get("passed") else "FAILED")
        rows.append(f"| {result['check']} | {verdict} | {len(result.get('findings', []))} |")
    return rows


def _sandbox_line(name: str, isolated: bool, description: str) -> str:
    if isolated:
        return f"Generated code ran in the **{name}** sandbox ({description})."
    return (f"**NOT SANDBOXED:** generated code ran on this machine with the {name} backend"
            " (chosen by the person), with access to its files and network.")


def _safety_layers(safety: dict[str, Any]) -> list[str]:
    """One line per layer of the safety gate: the classifier, then the judge."""
    layers = safety.get("layers") or {}
    lines = []
    classifier = layers.get("classifier")
    if isinstance(classifier, dict):
        lines.append(f"- classifier: {classifier.get('label')} (harmful probability"
                     f" {float(classifier.get('harmful_probability', 0)):.2f},"
                     f" threshold {classifier.get('threshold')})")
    judge = layers.get("judge")
    if isinstance(judge, dict):
        lines.append(f"- judge: {judge.get('level')} / {judge.get('recommendation')}: "
                     + "; ".join(map(str, judge.get("reasons", []))))
    if safety.get("escalated"):
        lines.append("- raised to yellow because the classifier flagged the request")
    return lines


def reporter(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Write the report and set the final ``status``.

    The report's "Spending" section gives tokens in/out, model calls, cost (or "unknown
    price" for models without one), active time, per model and per node, the run's budgets,
    and each budget the run stopped at before it was raised.
    """
    services = services_of(runtime)
    record = services.record
    status = final_status(state)
    spending = RunSpending.read(record.run_dir, services.models.providers)
    lines = [f"# MultiCoder run {state.get('run_id', record.run_id)}", "",
             f"**Status:** {status}", "", "## Task", "", state.get("task", ""), ""]
    if state.get("error") and status != "done":
        lines += [f"**Reason:** {state['error']}", ""]
    lines += ["## Sandbox", "", _sandbox_line(services.sandbox.name, services.sandbox.isolated,
                                              services.sandbox.describe()), ""]
    if state.get("safety"):
        verdict = SafetyVerdict.model_validate(state["safety"])
        lines += ["## Safety verdict", "", f"{verdict.level} / {verdict.recommendation}: "
                  + "; ".join(verdict.reasons), "", *_safety_layers(state["safety"]), ""]
    if state.get("spec"):
        lines += ["## Specification", "", Spec.model_validate(state["spec"]).to_markdown(), ""]
    if state.get("plan"):
        lines += ["## Plan", "", Plan.model_validate(state["plan"]).to_markdown(), ""]
    if state.get("coder_notes"):
        lines += ["## Coder rounds", ""] + [f"- {n}" for n in state["coder_notes"]] + [""]
    lines += ["## Checks (last pass)", "", *_checks_table(record.run_dir), ""]
    artifact = state.get("artifact")
    if artifact:
        lines += ["## Artifact", "", f"- file: `{artifact['path']}`",
                  f"- size: {artifact['size_bytes']} bytes", f"- sha256: `{artifact['sha256']}`",
                  ""]
    lines += spending.markdown(services.limits)
    record.write_text("report.md", "\n".join(lines) + "\n")
    record.write_json("report.json", {
        "run_id": record.run_id, "status": status, "task": state.get("task"),
        "error": state.get("error"), "safety": state.get("safety"), "plan": state.get("plan"),
        "rounds": state.get("round", 0), "artifact": artifact,
        "usage": {model: {"calls": u.calls, "input_tokens": u.input_tokens,
                          "output_tokens": u.output_tokens}
                  for model, u in spending.by_model.items()},
        "spending": spending.to_json(), "coder_notes": state.get("coder_notes", []),
        "sandbox": {"backend": services.sandbox.name, "isolated": services.sandbox.isolated}})
    emit(runtime, "run_finished", status=status, artifact=(artifact or {}).get("path"))
    return {"status": status}
