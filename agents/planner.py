"""Planner (G4): the spec becomes validated steps, each a structured tool call.

The request carries what memory recalls for the task and spec (earlier plans, lessons such as
a person's reasons for rejecting a plan), each item with where it came from.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from agents.context import Context, services_of
from agents.schemas import Plan, Spec
from agents.state import RunState
from agents.structured import ask_structured, prompt, recalled_section, schema_text
from tools.actions import ActionRegistry


def check_plan(plan: Plan, registry: ActionRegistry) -> list[str]:
    """Problems of a plan: unknown tools, unknown parameters, duplicate step ids.

    Parameters are checked by name only: a step knows a path, not the file's content.
    """
    problems: list[str] = []
    seen: set[str] = set()
    for step in plan.steps:
        if step.id in seen:
            problems.append(f"step id '{step.id}' is used twice")
        seen.add(step.id)
        if step.tool not in registry.names():
            problems.append(f"step {step.id}: unknown tool '{step.tool}'"
                            f" (tools: {', '.join(registry.names())})")
            continue
        fields = registry.get(step.tool).params_model.model_fields
        unknown = sorted(set(step.params) - set(fields))
        if unknown:
            problems.append(f"step {step.id}: {step.tool} has no parameter(s) {', '.join(unknown)}")
    if not plan.app.entry.endswith(".py"):
        problems.append(f"app.entry '{plan.app.entry}' is not a Python file")
    return problems


def _actions_text(registry: ActionRegistry) -> str:
    lines = []
    for name in registry.names():
        spec = registry.get(name)
        params = ", ".join(spec.params_model.model_fields)
        doc = (spec.params_model.__doc__ or "").strip().splitlines()[0]
        lines.append(f"- {name}({params}): {doc}")
    return "\n".join(lines)


def planner(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the planner model for a :class:`Plan`; re-plan with the person's feedback.

    An invalid plan (unknown tool or parameter) is sent back to the model with the problems.
    The request includes what memory recalls for the task and spec (plans, lessons).
    Writes ``plan.md`` into the run folder. Returns ``{"plan": plan, "plan_status": "proposed"}``.
    """
    services = services_of(runtime)
    registry = services.registry
    revision = state.get("plan_revision", 0)
    spec = Spec.model_validate(state["spec"])
    feedback = state.get("plan_feedback", "") if state.get("plan_status") == "rejected" else ""
    recalled = recalled_section(runtime, node="planner", revision=revision, role="planner",
                                query=f"{state.get('task', '')}\n\n{spec.to_markdown()}",
                                collections=("plans", "lessons"))
    system = prompt("planner", schema=schema_text(Plan), actions=_actions_text(registry))
    request = prompt("planner_request", spec=spec.to_markdown(), feedback=(
        f"\nThe person rejected the previous plan. Their feedback:\n{feedback}\n"
        if feedback else ""), recalled=recalled)
    services.record.chat("multicoder → planner", system, kind="system", title="plan instructions")
    services.record.chat("multicoder → planner", request)
    plan = ask_structured(runtime, "planner", [SystemMessage(system), HumanMessage(request)], Plan,
                          key=f"planner/{revision}", speaker="planner",
                          check=lambda p: check_plan(p, registry))
    services.record.write_text("plan.md", plan.to_markdown())
    return {"plan": plan.model_dump(), "plan_status": "proposed"}
