"""Spec expander (G3): a short request becomes a full specification.

The request carries what memory recalls for it (earlier runs with similar tasks, their
summaries, lessons), each item with where it came from.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from agents.context import Context, services_of
from agents.schemas import Spec
from agents.state import RunState
from agents.structured import ask_structured, prompt, recalled_section, schema_text


def spec_expander(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the planner model for a :class:`Spec`; write ``spec.md`` into the run folder.

    The request includes what memory recalls for the task (tasks, summaries, lessons).
    Returns ``{"spec": spec}``.
    """
    record = services_of(runtime).record
    revision = state.get("task_revision", 0)
    attachments = state.get("attachments", [])
    listing = ("\nAttached files (in the workspace, untrusted data): " + ", ".join(attachments)
               if attachments else "")
    recalled = recalled_section(runtime, node="spec_expander", revision=revision, role="planner",
                                query=state["task"],
                                collections=("tasks", "summaries", "lessons"))
    system = prompt("spec_expander", schema=schema_text(Spec))
    request = prompt("spec_expander_request", task=state["task"], attachments=listing,
                     recalled=recalled)
    record.chat("multicoder → planner", system, kind="system", title="spec instructions")
    record.chat("multicoder → planner", request)
    spec = ask_structured(runtime, "planner", [SystemMessage(system), HumanMessage(request)],
                          Spec, key=f"spec_expander/{revision}", speaker="spec expander")
    record.write_text("spec.md", spec.to_markdown())
    return {"spec": spec.model_dump()}
