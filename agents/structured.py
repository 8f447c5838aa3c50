"""Talking to a model from a node: prompts, recalled memory, transcript, structured answers.

:func:`call_model` sends a conversation to the role's models and writes the answer to the
run's transcript; :func:`ask_structured` parses the answer into a pydantic model and, when the
model's JSON is invalid, tells it what was wrong and asks again (bounded);
:func:`recalled_section` is what semantic memory recalls for a prompt, as its own section;
:func:`role_counter` is the token counter a role counts its prompts with in the run.
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, ValidationError

from agents.context import Context, emit, services_of
from agents.tokens import TokenCounter, run_counter
from memory.recall import Collection
from memory.records import RunRecord

T = TypeVar("T", bound=BaseModel)

RECALL_DIR = "recall"
"""Folder of the run holding what was recalled for each model call (``<node>-<revision>.json``)."""

_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)\n```", re.DOTALL)

# the roles told, per session (a run's record), that their pinned counter could not be had
_COUNTER_WARNED: weakref.WeakKeyDictionary[RunRecord, set[str]] = weakref.WeakKeyDictionary()
_COUNTER_WARNED_LOCK = threading.Lock()


class AnswerFormatError(ValueError):
    """The model's answer could not be parsed into the expected structure."""


def prompt(name: str, **values: str) -> str:
    """Load ``agents/prompts/<name>.md`` and fill its ``$placeholders``.

    Raises:
        KeyError: a placeholder has no value.

    """
    text = resources.files("agents").joinpath("prompts", f"{name}.md").read_text(encoding="utf-8")
    return Template(text).substitute(values)


def answer_text(message: AIMessage) -> str:
    """The text of a model's answer (content blocks joined; tool calls left out)."""
    return message.text


def parse_answer(message: AIMessage, schema: type[T]) -> T:
    """Parse a model's text answer into ``schema``.

    Accepts plain JSON, JSON inside a ```json fence, or prose around one JSON object.

    Raises:
        AnswerFormatError: no JSON object, or it does not validate (message says why).

    """
    text = answer_text(message)
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    last_error = "the answer holds no JSON object"
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError as exc:
            last_error = f"invalid JSON: {exc}"
            continue
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            last_error = _validation_summary(exc)
    raise AnswerFormatError(last_error)


def _validation_summary(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
             for e in exc.errors()[:8]]
    return "the JSON does not match the schema: " + "; ".join(parts)


def call_model(runtime: Runtime[Context], role: str, messages: list[BaseMessage], *,
               key: str, speaker: str,
               tools: Sequence[dict[str, Any]] | None = None,
               title: str | None = None) -> AIMessage:
    """Invoke the role's models and write the answer (text and tool calls) to chat.md.

    Args:
        runtime: the node's runtime (services, stream writer).
        role: "planner", "coder" or "judge".
        messages: the conversation so far.
        key: the call key (see :mod:`agents.cassette`).
        speaker: how the transcript names this agent ("planner", "coder" ...).
        tools: OpenAI function-tool schemas the model may call.
        title: a label for the answer's chat.md entry (what the answer is).

    Raises:
        the errors of :meth:`agents.models.ModelSelector.invoke`.

    """
    services = services_of(runtime)
    answer = services.models.invoke(role, messages, key=key, tools=tools)
    text = answer_text(answer)
    if text.strip():
        services.record.chat(speaker, text, title=title)
    for call in answer.tool_calls:
        services.record.chat(speaker, json.dumps({"tool": call["name"], "args": call["args"]},
                                                 ensure_ascii=False, indent=2),
                             kind="tool_call", title=call["name"])
    emit(runtime, "model_answer", key=key, role=role, tool_calls=len(answer.tool_calls),
         chars=len(text))
    return answer


def ask_structured(runtime: Runtime[Context], role: str, messages: list[BaseMessage],
                   schema: type[T], *, key: str, speaker: str, attempts: int = 3,
                   check: Callable[[T], list[str]] | None = None) -> T:
    """Ask for an answer shaped like ``schema``; on a bad answer, explain and ask again.

    ``check`` returns semantic problems of a parsed answer (an empty list means fine).
    Retries use the call keys ``<key>/retry1``, ``<key>/retry2`` ...

    Raises:
        AnswerFormatError: still malformed after ``attempts`` answers.

    """
    conversation = list(messages)
    error: AnswerFormatError | None = None
    for attempt in range(attempts):
        answer = call_model(runtime, role, conversation,
                            key=key if attempt == 0 else f"{key}/retry{attempt}", speaker=speaker)
        try:
            parsed = parse_answer(answer, schema)
            problems = check(parsed) if check else []
            if problems:
                raise AnswerFormatError("; ".join(problems))
            return parsed
        except AnswerFormatError as exc:
            emit(runtime, "answer_rejected", key=key, error=str(exc))
            correction = (f"Your answer could not be used ({exc}). Answer again with only the"
                          f" JSON object, following the schema exactly.")
            services_of(runtime).record.chat("multicoder", correction)
            conversation += [answer, HumanMessage(correction)]
            error = exc
    raise AnswerFormatError(f"{speaker} gave no usable answer after {attempts} tries: {error}")


def schema_text(schema: type[BaseModel]) -> str:
    """The JSON schema of ``schema``, compact, to show a model what to answer."""
    return json.dumps(schema.model_json_schema(), ensure_ascii=False)


def recalled_section(runtime: Runtime[Context], *, node: str, revision: int | str, role: str,
                     query: str, collections: Sequence[Collection]) -> str:
    """What semantic memory recalls for one model call, as a prompt section ("" for none).

    The items closest to ``query`` in ``collections``, never the run's own, within
    ``limits.recall_tokens`` (counted with the ``role``'s token counter), rendered with their
    sources inside the ``recalled`` prompt section. What was recalled is kept in the run folder
    (``recall/<node>-<revision>.json``) and reused when the node runs again with the same query
    (a resume, an interrupt re-run), so the call's prompt, and with it its recorded answer,
    stays the same even when memory has learnt more since.
    Emits ``recalled`` (node, items with collection, id, source, score) when something was.

    Recall never fails a node: without memory, with recall off (``recall_tokens`` 0) or when
    recall fails (logged, ``recall_failed`` event), the section is empty. An empty section is
    kept too (with ``skipped`` saying why, when memory was not asked), so a node run again
    sends the prompt it sent first whether memory has become available or gone meanwhile.

    Raises:
        OSError: the run folder cannot be written.

    """
    services = services_of(runtime)
    memory, budget, record = services.memory, services.limits.recall_tokens, services.record
    name = f"{RECALL_DIR}/{node}-{revision}.json"
    # what this call was sent before comes first, memory or not: a resume sends the same prompt
    stored = _stored_recall(record.run_dir / name, record.redactor(query))  # kept redacted
    if stored is not None:
        return stored
    if memory is None or budget <= 0:
        record.write_json(name, {"node": node, "revision": revision, "query": query,
                                 "collections": list(collections), "budget_tokens": budget,
                                 "counter": None, "estimated": None, "items": [],
                                 "error": None, "section": "",
                                 "skipped": "no memory" if memory is None else "recall off"})
        return ""
    counter = role_counter(runtime, role)
    frame = counter.count_text(prompt("recalled", items=""))
    error = None
    try:
        items = memory.recall(query, collections, budget_tokens=max(0, budget - frame),
                              exclude_run=record.run_id, count_tokens=counter.count_text)
        block = memory.render(items).strip() if items else ""
    except Exception as exc:  # memory is a help: a broken store must not stop the run
        record.node_logger(node).warning("recall failed, continuing without: %s: %s",
                                         type(exc).__name__, exc)
        emit(runtime, "recall_failed", node=node, error=f"{type(exc).__name__}: {exc}")
        items, block, error = [], "", f"{type(exc).__name__}: {exc}"
    section = prompt("recalled", items=block).rstrip("\n") if block else ""
    found = [{"collection": i.collection, "id": i.item_id, "source": i.source,
              "run_id": i.run_id, "score": round(i.score, 4)} for i in items]
    record.write_json(name, {"node": node, "revision": revision, "query": query,
                             "collections": list(collections), "budget_tokens": budget,
                             "counter": counter.name, "estimated": counter.estimated,
                             "items": found, "error": error, "section": section})
    if items:
        emit(runtime, "recalled", node=node, items=found, tokens=counter.count_text(section),
             counter=counter.name, estimated=counter.estimated)
    return section


def role_counter(runtime: Runtime[Context], role: str) -> TokenCounter:
    """The token counter ``role`` counts with in this run, pinned for the run's whole life.

    See :func:`agents.tokens.run_counter`: the first choice is written to the run folder
    (``tokens.json``); a resume, replay or fork counts with the same counter. When the pinned
    counter cannot be had here (a tiktoken encoding that does not load offline), the estimate
    is used, and once per role and session a ``token_counter_differs`` event (role, pinned,
    counter, message) and a program.log warning say that the counts differ from the run's
    own, so compression may fold the conversation at other points.

    Raises:
        OSError: the run folder cannot be written.

    """
    services = services_of(runtime)
    chosen = run_counter(services.record, services.models, role)
    if chosen.differs:
        with _COUNTER_WARNED_LOCK:
            told = _COUNTER_WARNED.setdefault(services.record, set())
            first = role not in told
            told.add(role)
        if first:
            message = (f"the {role}'s tokens were counted with {chosen.pinned} when this run"
                       f" started, which cannot be loaded here (tiktoken's files need the"
                       f" internet the first time); counting with the {chosen.counter.name}"
                       " instead, so the counts differ from the original run's and context"
                       " compression may fold the conversation at other points (a replay may"
                       " then miss recorded summaries)")
            services.record.logger.warning("%s", message)
            emit(runtime, "token_counter_differs", role=role, pinned=chosen.pinned,
                 counter=chosen.counter.name, message=message)
    return chosen.counter


def _stored_recall(path: Path, query: str) -> str | None:
    """The section recalled earlier for this call and query, or None (not yet, or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("query") != query:
        return None
    section = data.get("section")
    return section if isinstance(section, str) else None
