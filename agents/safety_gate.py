"""Safety gate (G2): the judge model's verdict on the request, before any work starts."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from agents.context import Context, emit, services_of
from agents.schemas import SafetyVerdict
from agents.state import RunState
from agents.structured import ask_structured, prompt, schema_text


def safety_gate(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the judge for a :class:`SafetyVerdict` on ``state["task"]``.

    Returns ``{"safety": verdict}``; a red verdict also sets ``status="refused"``, and the
    graph then goes straight to the reporter: no code is ever written for it.
    """
    record = services_of(runtime).record
    system = prompt("safety_gate", schema=schema_text(SafetyVerdict))
    request = prompt("safety_gate_request", task=state["task"])
    record.chat("multicoder → judge", system, kind="system", title="safety gate instructions")
    record.chat("multicoder → judge", request)
    verdict = ask_structured(runtime, "judge", [SystemMessage(system), HumanMessage(request)],
                             SafetyVerdict, key=f"safety_gate/{state.get('task_revision', 0)}",
                             speaker="judge")
    emit(runtime, "safety_verdict", **verdict.model_dump())
    update: dict[str, Any] = {"safety": verdict.model_dump()}
    if verdict.level == "red":
        update |= {"status": "refused",
                   "error": "refused by the safety gate: " + "; ".join(verdict.reasons)}
    return update
