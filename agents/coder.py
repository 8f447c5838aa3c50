"""Coder (G5): carries out the approved plan through the Action API, one round at a time.

Round 0 builds from the plan; each later round repairs the tester's findings. A round is a
tool-calling loop: the model asks for actions, the executor runs them under the policy, the
results go back to the model, until it answers without a tool call, runs out of turns, or
repeats itself (loop detection). The workspace is snapshotted at the start of each round, so a
round interrupted by a crash restarts from the same files on resume.

A repair round's request carries what memory recalls for its findings (past errors with their
fixes, lessons). A conversation longer than ``limits.context_tokens`` is compressed before each
model call (:mod:`agents.compression`): older turns are summarised, the newest kept verbatim;
chat.md and the cassette still hold every message.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.runtime import Runtime

from agents.approvals import FetchApprovals
from agents.compression import CompressionReport, ContextCompressor
from agents.context import Context, Services, emit, services_of, stop_if_cancelled
from agents.loops import from_judge, signatures
from agents.schemas import Plan, Spec
from agents.state import RunState
from agents.structured import answer_text, call_model, prompt, recalled_section, role_counter
from tools.actions import (
    WEB_ACTIONS,
    ActionCall,
    ActionContext,
    ActionExecutor,
    ActionResult,
    PolicyViolation,
    approval_request,
    call_key,
)
from tools.checks.base import Finding

#: Folders of the workspace that are tools' state, not the project (kept out of snapshots).
TRANSIENT = (".venv", ".tmp", "build", "dist", "__pycache__", ".mypy_cache", ".ruff_cache",
             ".pytest_cache")
MAX_TOOL_RESULT_CHARS = 20_000


def repair_round(state: RunState) -> int:
    """The round this coder visit is: 0 first, then one more after each failed test pass."""
    failed = bool(state.get("findings")) and not state.get("checks_passed", False)
    return state.get("round", 0) + 1 if failed else state.get("round", 0)


def _ignore(_: str, names: list[str]) -> set[str]:
    return {n for n in names if n in TRANSIENT}


def restore_or_snapshot(workspace: Path, snapshot: Path) -> None:
    """Make the workspace equal to ``snapshot`` if it exists, else take the snapshot.

    Transient folders (virtual env, caches, build output) are neither saved nor removed.
    """
    if snapshot.is_dir():
        for child in workspace.iterdir():
            if child.name in TRANSIENT:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        shutil.copytree(snapshot, workspace, dirs_exist_ok=True, symlinks=True)
        return
    tmp = snapshot.with_name(snapshot.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(workspace, tmp, ignore=_ignore, symlinks=True)
    tmp.replace(snapshot)


def _workspace_files(workspace: Path) -> str:
    files = sorted(p.relative_to(workspace).as_posix() for p in workspace.rglob("*")
                   if p.is_file() and not set(p.relative_to(workspace).parts) & set(TRANSIENT))
    return "\n".join(f"- {f}" for f in files) or "- (empty)"


def _render_result(result: ActionResult) -> str:
    # the wall-clock time is left out: it differs each time a round re-runs, and the model's
    # recorded answers are reused only for the same conversation (agents.cassette)
    text = json.dumps(result.model_dump(exclude_none=True, exclude={"duration_ms"}),
                      ensure_ascii=False)
    if len(text) > MAX_TOOL_RESULT_CHARS:
        cut = len(text) - MAX_TOOL_RESULT_CHARS
        text = text[:MAX_TOOL_RESULT_CHARS] + f"... [truncated {cut} chars]"
    return text


def _target(call: ActionCall) -> str:
    """What a call acts on, for the progress line: a path, a command, an address, a query."""
    for name in ("path", "argv", "url", "query", "repo"):
        if call.params.get(name):
            return str(call.params[name])
    return ""


def _execute(call: ActionCall, executor: ActionExecutor, approvals: FetchApprovals,
             runtime: Runtime[Context], round_: int) -> ActionResult:
    """Run one call; a web action that needs approval first asks the person (G10).

    The question is LangGraph's ``interrupt()`` (the round pauses; on resume it runs again
    and gets the stored answer). Refused, the call is not run and its result tells the model
    why; approved, exactly that call runs once.
    """
    context = executor.context
    try:
        request = approval_request(call, executor.registry, context, executor.policy)
    except PolicyViolation as exc:
        return _refused(call, executor, f"refused by policy: {exc}")
    if request is not None and context.web is not None:
        emit(runtime, "approval_requested", round=round_, action=call.name, url=request.url,
             dest=request.dest, size_bytes=request.size_bytes, reason=request.reason)
        decision = approvals.ask(request)
        if decision.action != "approve":
            why = decision.feedback.strip() or "no reason given"
            return _refused(call, executor, f"the person refused {call.name} of {request.url}:"
                            f" {why}. It was not fetched; do not try to get it another way.")
        context.web.grant(request.key)
    result = executor.execute(call)
    if context.web is not None and context.web.cards:  # shown to the person as cards
        emit(runtime, "web_results", round=round_, action=call.name,
             cards=[card.model_dump() for card in context.web.cards])
        context.web.cards.clear()
    return result


def _refused(call: ActionCall, executor: ActionExecutor, error: str) -> ActionResult:
    result = ActionResult(success=False, error=error)
    if executor.on_record is not None:
        executor.on_record(call, result)
    return result


class LoopDetector:
    """Notices a coder going in circles, the way mature agents do.

    A loop is the same call with the same result three times, or an A-B-A-B-A-B alternation.
    """

    def __init__(self) -> None:
        self.history: list[str] = []

    def add(self, call: ActionCall, result: ActionResult) -> str | None:
        """Record one call; return a description of the loop if there is one now."""
        signature = json.dumps([call.name, call.params, result.success, result.error,
                                result.data], sort_keys=True, default=str)
        self.history.append(signature)
        if self.history.count(signature) >= 3:
            return f"the same call ({call.name}) with the same result three times"
        tail = self.history[-6:]
        if len(tail) == 6 and tail[0::2] == [tail[0]] * 3 and tail[1::2] == [tail[1]] * 3 \
                and tail[0] != tail[1]:
            return "two calls alternating without progress"
        return None


_JUDGE_NOTE = (" Findings of `judge` are acceptance criteria of the spec that the code does"
               " not meet yet: change the behaviour until it meets the criterion, and add a test"
               " that shows it.")


def _repair_source(findings: list[dict[str, Any]]) -> dict[str, str]:
    """Who sent the work back, for the repair prompt: the paranoid tester or the spec judge.

    Returns the ``source`` and ``judge_note`` placeholders of ``coder_repair.md``.
    """
    if from_judge(findings):
        return {"source": "The spec judge read the workspace against the spec's acceptance"
                          " criteria", "judge_note": _JUDGE_NOTE}
    return {"source": "The paranoid tester checked the workspace", "judge_note": ""}


def _opening(state: RunState, runtime: Runtime[Context], services: Services, round_: int
             ) -> list[BaseMessage]:
    spec = Spec.model_validate(state["spec"])
    plan = Plan.model_validate(state["plan"])
    system = prompt("coder")
    request = prompt("coder_request", spec=spec.to_markdown(), plan=plan.to_markdown())
    messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(request)]
    services.record.chat("multicoder → coder", system, kind="system", title="coder instructions")
    services.record.chat("multicoder → coder", request)
    if round_ > 0:
        findings = "\n".join(f"- {Finding.model_validate(f).render()}"
                             for f in state.get("findings", []))
        recalled = recalled_section(runtime, node="coder", revision=round_, role="coder",
                                    query=findings, collections=("errors", "lessons"))
        repair = prompt("coder_repair", round=str(round_),
                        **_repair_source(state.get("findings", [])),
                        files=_workspace_files(services.record.workspace), findings=findings,
                        recalled=recalled)
        messages.append(HumanMessage(repair))
        services.record.chat("tester → coder", repair)
    return messages


def _compressor(runtime: Runtime[Context], services: Services, round_: int,
                tools: list[dict[str, Any]]) -> ContextCompressor:
    """The round's context compressor: summaries by the coder model, written to chat.md.

    Tokens are counted with the coder's counter pinned for the run (:func:`role_counter`), so
    a resumed, replayed or forked round folds its conversation where the original did.

    Raises:
        ContextTooSmall: ``limits.context_tokens`` cannot hold the instructions and tools.

    """
    def summarise(key: str, request: list[BaseMessage], title: str) -> str:
        return answer_text(call_model(runtime, "coder", request, key=key,
                                      speaker="multicoder (context summary)", title=title))

    def compressed(report: CompressionReport) -> None:
        emit(runtime, "context_compressed", round=round_, **asdict(report))

    return ContextCompressor(role_counter(runtime, "coder"), services.limits.context_tokens,
                             summarise, tools=tools, on_compressed=compressed)


def coder(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run one coder round.

    Returns ``{"round": n, "coder_notes": [summary], "loop": {...} or {}, "repairing":
    [finding signatures], "hint": ""}`` (see :mod:`agents.loops`).
    """
    services = services_of(runtime)
    round_ = repair_round(state)
    workspace = services.record.workspace
    restore_or_snapshot(workspace, services.record.run_dir / "snapshots" / f"round-{round_}")
    emit(runtime, "coder_round", round=round_)

    def on_record(call: ActionCall, result: ActionResult) -> None:
        services.record.chat("tool", _render_result(result), kind="tool_result", title=call.name)
        emit(runtime, "tool_call", round=round_, action=call.name, success=result.success,
             target=_target(call), error=result.error, duration_ms=result.duration_ms)
        if call.name in WEB_ACTIONS:  # G10: every web action is in the run's records
            emit(runtime, "web_action", round=round_, action=call.name, target=_target(call),
                 success=result.success, error=result.error)

    # G10: a fresh web session per round (known addresses: the task's and this round's
    # result cards), so a round re-run after an approval interrupt asks the same questions
    web = services.web.session(state.get("task", "")) if services.web is not None else None

    def approved(call: ActionCall) -> bool:
        key = call_key(call, services.registry)
        return web is not None and key is not None and web.granted(key)

    executor = ActionExecutor(
        services.registry, services.policy,
        ActionContext(workspace=workspace, sandbox=services.sandbox,
                      environment=services.environment, web=web),
        on_record=on_record, approve=approved)
    approvals = FetchApprovals(runtime, visit=str(round_))
    tools = services.registry.tool_schemas()
    messages = _opening(state, runtime, services, round_)
    if state.get("hint", "").strip():  # the person's hint after a stuck round ("continue")
        hint = f"A hint from the person overseeing this build:\n{state['hint'].strip()}"
        messages.append(HumanMessage(hint))
        services.record.chat("person → coder", hint)
    compressor = _compressor(runtime, services, round_, tools)
    loops = LoopDetector()
    summary = ""
    stuck_on: str | None = None
    for turn in range(services.limits.max_coder_turns):
        stop_if_cancelled(runtime)
        key = f"coder/{round_}/{turn}"
        answer = call_model(runtime, "coder", compressor.prepare(messages, key), key=key,
                            speaker="coder", tools=tools)
        messages.append(answer)
        if not answer.tool_calls:
            summary = answer_text(answer)
            break
        loop = None
        for tool_call in answer.tool_calls:
            call = ActionCall(name=tool_call["name"], params=tool_call["args"],
                              call_id=tool_call.get("id"))
            result = _execute(call, executor, approvals, runtime, round_)
            messages.append(ToolMessage(_render_result(result),
                                        tool_call_id=tool_call.get("id") or call.name))
            loop = loop or loops.add(call, result)
        if loop:
            summary = f"round cut short: {loop}"
            stuck_on = loop
            emit(runtime, "loop_detected", round=round_, loop="tool_call", reason=loop)
            break
    else:
        summary = f"round cut short after {services.limits.max_coder_turns} turns"
        emit(runtime, "turn_limit", round=round_)
    # a loop is remembered so that a failing test pass asks the person instead of repairing
    # again; "repairing" lets the routers notice the same findings coming back (agents.loops)
    return {"round": round_, "coder_notes": [f"round {round_}: {summary.strip()}"],
            "loop": {"kind": "tool_call", "detail": stuck_on} if stuck_on else {},
            "repairing": signatures(state.get("findings", [])) if round_ > 0 else [],
            "hint": ""}
