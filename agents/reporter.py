"""Reporter: the run's final status and ``report.md`` / ``report.json`` in its folder.

At the very end the run teaches semantic memory (lessons, errors with their fixes, a summary
for later runs to recall); a failure there is logged and never fails the run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agents.budget import RunSpending
from agents.context import Context, emit, services_of
from agents.schemas import Plan, SafetyVerdict, Spec
from agents.spec_judge import judgement_lines
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


def _compliance_lines(judgement: dict[str, Any] | None) -> list[str]:
    """The report's "Spec compliance" section: the judge's verdict and a line per criterion."""
    if not judgement:
        return ["## Spec compliance", "",
                "(not judged: the spec judge runs once a round passes every check)", ""]
    criteria = judgement.get("criteria", [])
    counts = {status: sum(1 for c in criteria if c.get("status") == status)
              for status in ("met", "unmet", "unclear")}
    return ["## Spec compliance", "",
            f"**Verdict (round {judgement.get('round', 0)}):** {judgement.get('verdict')} —"
            f" {counts['met']} met, {counts['unmet']} unmet, {counts['unclear']} unclear", "",
            *judgement_lines(judgement), "", str(judgement.get("summary", "")).strip(), ""]


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


def _memory_lines(events: list[dict[str, Any]]) -> list[str]:
    """The report's "Memory" section: what was recalled, how the context was compressed."""
    lines = []
    for event in events:
        if event.get("type") == "recalled":
            items = "; ".join(f"{item.get('source')} (score {item.get('score')})"
                              for item in event.get("items", []))
            lines.append(f"- recalled for {event.get('node')}: {items}")
    compressions = [e for e in events if e.get("type") == "context_compressed"]
    if compressions:
        counted = ("token counts estimated: no tokenizer for the model" if any(
            e.get("estimated") for e in compressions) else
            f"tokens counted with {compressions[-1].get('counter')}")
        lines.append(
            f"- the coder's context was compressed {len(compressions)} times"
            f" ({sum(int(e.get('turns_folded', 0)) for e in compressions)} turns folded into"
            f" summaries); every prompt stayed within"
            f" {int(compressions[-1].get('budget') or 0):,} tokens of messages ({counted})")
    return ["## Memory", "", *lines, ""] if lines else []


def _learn(runtime: Runtime[Context]) -> None:
    """Store what the run teaches in semantic memory; emits ``learned`` with the count."""
    services = services_of(runtime)
    if services.memory is None:
        return
    try:
        count = services.memory.learn_from_run(services.record.run_dir)
    except Exception as exc:  # memory is a help: the run's outcome does not depend on it
        services.record.node_logger("reporter").warning(
            "learning from the run failed: %s: %s", type(exc).__name__, exc)
        emit(runtime, "learn_failed", error=f"{type(exc).__name__}: {exc}")
        return
    emit(runtime, "learned", count=count)


def reporter(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Write the report and set the final ``status``.

    The "Spec compliance" section (and ``report.json``'s ``judgement``, null when the judge
    never ran) gives the spec judge's last decided verdict, a ✓/✗/? line per acceptance
    criterion with its evidence. The report's "Spending" section gives tokens in/out, model
    calls, cost (or "unknown price" for models without one), active time, per model and per
    node, the run's budgets, and each budget the run stopped at before it was raised. The
    "Memory" section lists what was recalled for the prompts (with sources) and how often the
    context was compressed.
    Then the run is learnt from (:meth:`memory.recall.Recall.learn_from_run`).
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
    if state.get("spec"):
        lines += _compliance_lines(state.get("judgement"))
    artifact = state.get("artifact")
    if artifact:
        lines += ["## Artifact", "", f"- file: `{artifact['path']}`",
                  f"- size: {artifact['size_bytes']} bytes", f"- sha256: `{artifact['sha256']}`",
                  ""]
    lines += spending.markdown(services.limits)
    lines += _memory_lines(list(record.iter_events()))
    record.write_text("report.md", "\n".join(lines) + "\n")
    record.write_json("report.json", {
        "run_id": record.run_id, "status": status, "task": state.get("task"),
        "error": state.get("error"), "safety": state.get("safety"), "plan": state.get("plan"),
        "rounds": state.get("round", 0), "artifact": artifact,
        "usage": {model: {"calls": u.calls, "input_tokens": u.input_tokens,
                          "output_tokens": u.output_tokens}
                  for model, u in spending.by_model.items()},
        "spending": spending.to_json(), "coder_notes": state.get("coder_notes", []),
        "judgement": state.get("judgement") or None,
        "sandbox": {"backend": services.sandbox.name, "isolated": services.sandbox.isolated}})
    _learn(runtime)
    emit(runtime, "run_finished", status=status, artifact=(artifact or {}).get("path"))
    return {"status": status}
