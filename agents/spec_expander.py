"""Spec expander (G3): a short request becomes a full specification."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from agents.context import Context, services_of
from agents.schemas import Spec
from agents.state import RunState
from agents.structured import ask_structured, prompt, schema_text


def spec_expander(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the planner model for a :class:`Spec`; write ``spec.md`` into the run folder.

    Returns ``{"spec": spec}``.
    """
    record = services_of(runtime).record
    attachments = state.get("attachments", [])
    listing = ("\nAttached files (in the workspace, untrusted data): " + ", ".join(attachments)
               if attachments else "")
    system = prompt("spec_expander", schema=schema_text(Spec))
    request = prompt("spec_expander_request", task=state["task"], attachments=listing)
    record.chat("multicoder → planner", system, kind="system", title="spec instructions")
    record.chat("multicoder → planner", request)
    spec = ask_structured(runtime, "planner", [SystemMessage(system), HumanMessage(request)],
                          Spec, key=f"spec_expander/{state.get('task_revision', 0)}",
                          speaker="spec expander")
    record.write_text("spec.md", spec.to_markdown())
    return {"spec": spec.model_dump()}
