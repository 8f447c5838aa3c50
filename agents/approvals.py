"""The human-approval interrupts: start, plan, stuck repair loop (G9), web fetches (G10).

Each node pauses the graph with LangGraph's ``interrupt()`` carrying a typed payload
(kind, summary, options, details) and resumes with a decision dict (see
:data:`agents.state.Decision`). Code before ``interrupt()`` runs again on resume, so these
nodes only read state before it; :class:`_Asker` records each decision once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError

from agents.context import Context, emit, services_of
from agents.loops import from_judge, stuck
from agents.planner import check_plan
from agents.schemas import Plan, SafetyVerdict, Spec
from agents.state import RunState
from tools.actions import FetchRequest

InterruptKind = Literal["confirm_start", "approve_plan", "ask_human", "approve_fetch"]


class InterruptPayload(BaseModel):
    """What a paused run shows the person."""

    kind: InterruptKind
    summary: str
    options: list[str]
    details: dict[str, Any] = Field(default_factory=dict)
    error: str | None = Field(default=None, description="Why the previous answer was refused")
    needs_person: bool = Field(
        default=False, description="Only a person may answer: auto-approval must not (a request"
        " the safety classifier flagged, or whose verdict does not recommend approving it)")


class HumanDecision(BaseModel):
    """The person's answer to an interrupt."""

    action: Literal["approve", "reject", "edit", "continue", "stop"]
    feedback: str = ""
    content: str = ""


class _Asker:
    """Asks the person through ``interrupt()`` and records each answer exactly once.

    A resumed node runs again from the top and earlier ``interrupt()`` calls return their
    stored answers; each answer is keyed by ``<kind>/<visit>/<n>`` (n counts the questions of
    one node execution), so a replayed answer is not recorded twice — whichever interface
    (CLI, Studio, server) answered.
    """

    def __init__(self, runtime: Runtime[Context], visit: str) -> None:
        self.runtime = runtime
        self.visit = visit
        self.asked = 0
        record = services_of(runtime).record
        self.recorded = {e.get("key") for e in record.iter_events() if e.get("type") == "decision"}

    def __call__(self, payload: InterruptPayload) -> HumanDecision:
        while True:
            raw = interrupt(payload.model_dump())
            self._record(payload.kind, raw)
            try:
                decision = HumanDecision.model_validate(raw)
            except ValidationError as exc:
                problem = exc.errors()[0]["msg"]
                payload = payload.model_copy(update={"error": f"not a decision: {problem}"})
                continue
            if decision.action not in payload.options:
                payload = payload.model_copy(
                    update={"error": f"'{decision.action}' is not one of {payload.options}"})
                continue
            return decision

    def _record(self, kind: str, raw: Any) -> None:
        key = f"{kind}/{self.visit}/{self.asked}"
        self.asked += 1
        if key in self.recorded:
            return
        self.recorded.add(key)
        text = json.dumps(raw, ensure_ascii=False, default=str)
        services_of(self.runtime).record.chat("person", text, kind="decision", title=kind)
        emit(self.runtime, "decision", key=key, interrupt=kind, decision=raw)


class FetchApprovals(_Asker):
    """Asks the person before a web action that needs approval, inside a coder round (G10).

    The payload (kind ``approve_fetch``) shows exactly what will be fetched and where it will
    go; options are approve and reject (with feedback). A resumed round runs again from its
    start and reaches its questions in the same order, so LangGraph hands back the stored
    answers; each answer is recorded once, under ``approve_fetch/<round>/<n>``, together with
    a fingerprint of the request it answered. Should a re-run round ever ask something else
    at that position, the stored answer is not applied: the call is refused instead.
    """

    def __init__(self, runtime: Runtime[Context], visit: str) -> None:
        super().__init__(runtime, visit)
        record = services_of(runtime).record
        self.answered: dict[str, str] = {
            str(e.get("key")): str(e.get("request"))
            for e in record.iter_events()
            if e.get("type") == "decision" and e.get("interrupt") == "approve_fetch"}
        self._fingerprint = ""
        self._mismatch = False

    def ask(self, request: FetchRequest) -> HumanDecision:
        """Show ``request`` and return the decision ("approve" or "reject")."""
        self._fingerprint = hashlib.sha256(request.key.encode()).hexdigest()[:16]
        self._mismatch = False
        decision = self(InterruptPayload(
            kind="approve_fetch", summary=request.summary(), options=["approve", "reject"],
            details=request.model_dump(exclude={"key"})))
        if self._mismatch:
            return HumanDecision(action="reject", feedback="the stored answer was given for a"
                                 " different request; nothing was fetched")
        return decision

    def _record(self, kind: str, raw: Any) -> None:
        key = f"{kind}/{self.visit}/{self.asked}"
        self.asked += 1
        if key in self.answered:
            self._mismatch = self._mismatch or self.answered[key] != self._fingerprint
            return
        self.answered[key] = self._fingerprint
        text = json.dumps(raw, ensure_ascii=False, default=str)
        services_of(self.runtime).record.chat("person", text, kind="decision", title=kind)
        emit(self.runtime, "decision", key=key, interrupt=kind, decision=raw,
             request=self._fingerprint)


def confirm_start(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Two-sided confirmation: the person approves, rejects, or edits the request.

    A request the safety classifier flagged, or whose verdict does not recommend approving it
    (``state["safety"]["needs_person"]``, see :func:`agents.safety_gate.combine`), is asked with
    ``needs_person=True``: interfaces must not answer it automatically.

    Returns ``{"start": "approved"}``, ``{"start": "rejected", "status": "rejected"}``, or
    ``{"start": "edited", "task": ..., "task_revision": n + 1}`` (the gate runs again).
    """
    verdict = SafetyVerdict.model_validate(state["safety"])
    summary = (f"Safety verdict: {verdict.level.upper()} — recommendation: "
               f"{verdict.recommendation}. " + " ".join(verdict.reasons))
    needs_person = bool(state["safety"].get("needs_person"))
    if needs_person:
        summary += " Only you can approve this request: automatic approval does not apply."
    ask = _Asker(runtime, visit=str(state.get("task_revision", 0)))
    decision = ask(InterruptPayload(
        kind="confirm_start", summary=summary, options=["approve", "reject", "edit"],
        details={"task": state["task"], "verdict": verdict.model_dump(),
                 "layers": state["safety"].get("layers", {})},
        needs_person=needs_person))
    if decision.action == "approve":
        return {"start": "approved"}
    if decision.action == "edit" and decision.content.strip():
        return {"start": "edited", "task": decision.content.strip(),
                "task_revision": state.get("task_revision", 0) + 1}
    return {"start": "rejected", "status": "rejected",
            "error": "rejected at start" + (f": {decision.feedback}" if decision.feedback else "")}


def approve_plan(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Plan approval: approve; reject with feedback (the planner re-plans); or edit.

    An edited plan is JSON of :class:`Plan`; an invalid one is refused and asked again.
    """
    plan = Plan.model_validate(state["plan"])
    spec = Spec.model_validate(state["spec"])
    payload = InterruptPayload(
        kind="approve_plan", summary=plan.to_markdown(), options=["approve", "reject", "edit"],
        details={"plan": plan.model_dump(), "spec_markdown": spec.to_markdown()})
    registry = services_of(runtime).registry
    ask = _Asker(runtime, visit=str(state.get("plan_revision", 0)))
    while True:
        decision = ask(payload)
        if decision.action == "approve":
            return {"plan_status": "approved"}
        if decision.action == "reject":
            return {"plan_status": "rejected",
                    "plan_feedback": decision.feedback or "The person rejected the plan.",
                    "plan_revision": state.get("plan_revision", 0) + 1}
        try:
            edited = Plan.model_validate(json.loads(decision.content))
        except (ValueError, ValidationError) as exc:
            payload = payload.model_copy(update={"error": f"the edited plan is not valid: {exc}"})
            continue
        problems = check_plan(edited, registry)
        if problems:
            payload = payload.model_copy(update={"error": "; ".join(problems)})
            continue
        return {"plan": edited.model_dump(), "plan_status": "edited"}


def ask_human(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Repairs are not converging: the round limit was reached or a loop was detected.

    The payload's ``details["loop"]`` names the loop (see :func:`agents.loops.stuck`:
    ``{"kind": "tool_call" | "finding", "round", "detail", "findings"}``) or is None after
    the plain round limit. "continue" allows another set of rounds; its ``feedback`` is passed
    to the next coder round as a hint. "stop" ends the run (status "stopped").
    """
    findings = state.get("findings", [])
    lines = [f"- {f.get('check')} {f.get('file') or ''}:{f.get('line') or ''} {f.get('message')}"
             for f in findings[:10]]
    loop = stuck(state)
    reason = (f"**Loop detected — {loop['detail']}.** Stopped instead of spending more model"
              " calls; continue (optionally with a hint for the coder) or stop.\n\n"
              if loop else "")
    outcome = ("meet every acceptance criterion of the spec (the spec judge's verdict)"
               if from_judge(findings) else "make every check pass")
    summary = (f"{reason}{state.get('round', 0)} repair rounds did not {outcome}. "
               f"Open findings ({len(findings)}):\n" + "\n".join(lines))
    ask = _Asker(runtime, visit=str(state.get("round", 0)))
    decision = ask(InterruptPayload(
        kind="ask_human", summary=summary, options=["continue", "stop"],
        details={"findings": findings, "loop": loop}))
    if decision.action == "continue":
        extra = services_of(runtime).limits.max_repair_rounds
        return {"rounds_allowed": state.get("round", 0) + max(extra, 1),
                "hint": decision.feedback.strip()}
    why = f" ({loop['detail']})" if loop else ""
    return {"status": "stopped", "error": f"stopped by the person after repeated failures{why}"}
