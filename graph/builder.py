"""The graph: nodes, edges and typed routers (ARCHITECTURE.md, "The graph").

::

    START -> safety_gate -> confirm_start* -> spec_expander -> planner -> approve_plan* -> coder
          -> paranoid_tester --fail--> coder          (bounded repair rounds)
                             --stuck--> ask_human* --> coder | reporter
                               (stuck: the round limit, the coder looping, or the same
                                finding back after a repair round; see agents.loops)
                             --pass--> spec_judge --rework--> coder | ask_human*  (as a fail)
                                                  --accept--> packager -> reporter -> END
    safety_gate --red--> reporter -> END               (a refused request never reaches the coder)

The spec judge (G7) checks each acceptance criterion of the spec against the tested code; an
unmet criterion sends the work back like a failing check (same round limit, same loop
detection), with the criterion as the coder's finding.

``*`` = human-approval interrupt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, cast

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from agents.approvals import approve_plan, ask_human, confirm_start
from agents.coder import coder
from agents.context import Context, Services, emit, stop_if_cancelled
from agents.loops import stuck
from agents.packager import packager
from agents.paranoid_tester import paranoid_tester
from agents.planner import planner
from agents.reporter import reporter
from agents.safety_gate import safety_gate
from agents.spec_expander import spec_expander
from agents.spec_judge import spec_judge
from agents.state import RunState

Node = Callable[[RunState, Runtime[Context]], dict[str, Any]]
ServicesFactory = Callable[[str, RunState], Services]

NODES: dict[str, Node] = {
    "safety_gate": safety_gate,
    "confirm_start": confirm_start,
    "spec_expander": spec_expander,
    "planner": planner,
    "approve_plan": approve_plan,
    "coder": coder,
    "paranoid_tester": paranoid_tester,
    "spec_judge": spec_judge,
    "ask_human": ask_human,
    "packager": packager,
    "reporter": reporter,
}


def after_safety(state: RunState) -> Literal["confirm_start", "reporter"]:
    """A red verdict ends the run, whatever any flag says."""
    return "reporter" if state.get("safety", {}).get("level") == "red" else "confirm_start"


def after_start(state: RunState) -> Literal["spec_expander", "safety_gate", "reporter"]:
    """Approved -> work; edited -> the gate judges the new request; rejected -> report."""
    match state.get("start"):
        case "approved":
            return "spec_expander"
        case "edited":
            return "safety_gate"
        case _:
            return "reporter"


def after_plan(state: RunState) -> Literal["coder", "planner"]:
    """A rejected plan goes back to the planner with the person's feedback."""
    return "planner" if state.get("plan_status") == "rejected" else "coder"


def _after_failure(state: RunState) -> Literal["coder", "ask_human"]:
    if stuck(state) is not None:  # a loop: ask instead of paying for another round
        return "ask_human"
    if state.get("round", 0) < state.get("rounds_allowed", 3):
        return "coder"
    return "ask_human"


def after_tests(state: RunState) -> Literal["spec_judge", "coder", "ask_human"]:
    """Pass -> the spec judge; fail -> repair, until the round limit or a loop, then ask."""
    return "spec_judge" if state.get("checks_passed") else _after_failure(state)


def after_judge(state: RunState) -> Literal["packager", "coder", "ask_human"]:
    """Accept -> package; rework -> repair, exactly like a failed tester round."""
    return "packager" if state.get("checks_passed") else _after_failure(state)


def after_packaging(state: RunState) -> Literal["reporter", "coder", "ask_human"]:
    """A built and smoke-tested executable ends the work; a failed one goes back for repair."""
    return "reporter" if state.get("checks_passed") else _after_failure(state)


def after_ask(state: RunState) -> Literal["coder", "reporter"]:
    """Continue -> another set of repair rounds; stop -> report."""
    return "reporter" if state.get("status") == "stopped" else "coder"


def _wrap(name: str, node: Node, factory: ServicesFactory | None) -> Node:
    def run(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
        context = runtime.context
        if (context is None or context.services is None) and factory is not None:
            run_id = state.get("run_id") or (
                runtime.execution_info.thread_id if runtime.execution_info else None) or "studio"
            services = factory(run_id, state)
            runtime = runtime.override(context=Context(run_id=run_id, services=services))
        stop_if_cancelled(runtime)
        emit(runtime, "node_started", node=name)
        started = time.monotonic()
        update = node(state, runtime)  # an interrupt raises here: the node has not finished
        emit(runtime, "node_finished", node=name,
             duration_ms=int((time.monotonic() - started) * 1000))
        return update

    run.__name__ = name
    run.__doc__ = node.__doc__
    return run


def build_graph(services_factory: ServicesFactory | None = None
                ) -> StateGraph[RunState, Context, RunState, RunState]:
    """The uncompiled graph.

    Args:
        services_factory: builds a run's services from its id and state when the caller passed no
            services in the context (LangGraph Studio); the engine always passes them.

    """
    builder: StateGraph[RunState, Context, RunState, RunState] = StateGraph(
        RunState, context_schema=Context)
    for name, node in NODES.items():
        builder.add_node(name, cast(Any, _wrap(name, node, services_factory)))
    builder.add_edge(START, "safety_gate")
    builder.add_conditional_edges("safety_gate", after_safety)
    builder.add_conditional_edges("confirm_start", after_start)
    builder.add_edge("spec_expander", "planner")
    builder.add_edge("planner", "approve_plan")
    builder.add_conditional_edges("approve_plan", after_plan)
    builder.add_edge("coder", "paranoid_tester")
    builder.add_conditional_edges("paranoid_tester", after_tests)
    builder.add_conditional_edges("spec_judge", after_judge)
    builder.add_conditional_edges("packager", after_packaging)
    builder.add_conditional_edges("ask_human", after_ask)
    builder.add_edge("reporter", END)
    return builder
