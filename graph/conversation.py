"""Conversations: what a chat does with the person's messages and the runs' events (U1, G9).

:class:`Conversations` joins a :class:`graph.chats.ChatStore` and a
:class:`graph.coordinator.Coordinator` so an interface only shows what happens:

- :meth:`Conversations.send` stores the person's message and starts a run for it (the message
  is the task; staged attachments go with it). When the chat's run waits for an answer to a
  question (``ask_human``) or a start confirmation, free text answers it instead
  (``{"action": "continue"|"edit", "feedback"|"content": text}``).
- :meth:`Conversations.apply` turns each :class:`RunEvent` into chat messages and stores them:
  progress events are gathered into one ``progress`` message per run segment (``data["events"]``,
  capped at the last 200), ``check_result`` events also into a ``checks`` message, an interrupt
  into a card (``confirm_start`` → ``safety``, ``approve_plan`` → ``plan``, ``approve_fetch`` →
  ``fetch``, ``ask_human`` → ``question``), the end into an ``artifact`` or ``error`` message;
  a finished run's answer comes first: an assistant ``text`` message in Markdown summing the
  run up from its report.md. It returns a :class:`ChatUpdate` naming what changed, so the
  interface redraws only that.
- :meth:`Conversations.decide` stores the person's answer to a card (a ``decision`` message)
  and queues the run with it; :meth:`Conversations.resume` continues the run of an error
  card.
- :meth:`Conversations.delete_chat` stops the chat's runs, then deletes it.
- :meth:`Conversations.regenerate` re-runs the last run from its previous checkpoint as a new
  branch; :meth:`Conversations.edit` adds an edited copy of an earlier user message as a new
  branch and starts a run for it.

Every method may be called on the interface's thread; :meth:`apply` is called with events
the coordinator delivers (the interface passes them on from its own thread).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict

from graph.chats import ChatStore, Message, MessageKind
from graph.coordinator import TASK_CHANGED, Coordinator
from graph.engine import RunEvent
from graph.errors import InputError

__all__ = ["CARD_KINDS", "ChatUpdate", "Conversations"]

#: Interrupt kind -> chat message kind of its card.
CARD_KINDS: dict[str, str] = {"confirm_start": "safety", "approve_plan": "plan",
                              "approve_fetch": "fetch", "ask_human": "question"}
#: A progress message keeps this many of its run segment's latest events.
MAX_EVENTS = 200
#: The interrupts free text answers (``ask_human``: "continue" with the text as feedback;
#: ``confirm_start``: "edit" with the text as the new request).
TEXT_ANSWERS = ("ask_human", "confirm_start")
#: Most characters of report.md a finished run's summary message shows (whole sections).
SUMMARY_CHARS = 4_000

_log = logging.getLogger(__name__)
_CARDS = frozenset(CARD_KINDS.values())
#: Who is at work in each node, as the activity line names it.
_WHO = {"safety_gate": "safety gate", "confirm_start": "start", "spec_expander": "spec",
        "planner": "planner", "approve_plan": "plan", "coder": "coder",
        "paranoid_tester": "tester", "spec_judge": "judge", "ask_human": "question",
        "packager": "packager", "reporter": "reporter"}
#: What a node does, for its ``node_started`` line.
_DOING = {"safety_gate": "checking the request", "confirm_start": "waiting for your answer",
          "spec_expander": "writing the specification", "planner": "planning",
          "approve_plan": "waiting for your answer", "coder": "writing code",
          "paranoid_tester": "testing",
          "spec_judge": "checking the work against the specification",
          "ask_human": "waiting for your answer", "packager": "building the executable",
          "reporter": "writing the report"}
#: The verb of a coder's action on its target.
_VERBS = {"read_file": "reading", "write_file": "writing", "edit_file": "editing",
          "list_dir": "listing", "search_text": "searching for", "run_command": "running",
          "run_tests": "running the tests", "web_search": "searching the web for",
          "github_repo": "looking at", "fetch_page": "fetching", "download": "downloading",
          "clone_repo": "cloning"}


class ChatUpdate(BaseModel):
    """What :meth:`Conversations.apply` changed.

    Attributes:
        chat_id: the chat (None when the event's run belongs to no chat).
        message: the message added or changed (None when nothing is shown for the event).
        change: ``added`` (append a widget) or ``updated`` (redraw that message's widget).
        busy: whether the chat's run is still working after this event (the Stop button).
        before: messages the same event added before ``message``, in order (each the
            parent of the next, the last one ``message``'s parent): a finished run's summary
            (an assistant ``text`` message) before its artifact or error card. Show them
            first.

    """

    model_config = ConfigDict(frozen=True)

    chat_id: str | None
    message: Message | None = None
    change: Literal["added", "updated"] = "added"
    busy: bool = False
    before: tuple[Message, ...] = ()


class _Segment:
    """The messages gathering one run segment's events (one stream between two answers)."""

    def __init__(self) -> None:
        self.progress_id: str | None = None
        self.events: list[dict[str, Any]] = []
        self.node = ""
        self.checks_id: str | None = None
        self.checks: list[dict[str, Any]] = []


class Conversations:
    """The chats' behaviour.

    Which chat a run belongs to is known from the messages that name it (``run_id``): runs
    started here are remembered; after a restart a run's chat is found in the chats' current
    threads (:meth:`chat_of_run`). The messages of a run form one chain: each follows the
    run's previous message (so a run goes on in its own branch when the person switched to
    another one meanwhile).

    Args:
        store: the chat store.
        coordinator: drives the runs.

    """

    def __init__(self, store: ChatStore, coordinator: Coordinator) -> None:
        self._store = store
        self._coordinator = coordinator
        # re-entrant: a coordinator may deliver an event on the calling thread (task_changed)
        # while send() holds it; a worker's events wait until send() has stored its message
        self._lock = threading.RLock()
        self._chats: dict[str, str] = {}  # run -> chat
        self._tails: dict[str, str] = {}  # run -> its newest message (the next one's parent)
        self._segments: dict[str, _Segment] = {}
        self._models: dict[str, dict[str, list[str]]] = {}  # run -> the models it was sent with
        self._orphans: set[str] = set()  # runs of no chat (looked up once)

    # -- the person's actions -----------------------------------------------------------------

    def send(self, chat_id: str, text: str, *, attachments: Sequence[Path] = (),
             models: Mapping[str, Sequence[str]] | None = None) -> list[Message]:
        """Store the person's message and start (or answer) a run for it.

        When the chat's last run waits for an answer to a question (``ask_human``) or a
        start confirmation (``confirm_start``) and no file is attached, the text answers it
        (``{"action": "continue", "feedback": text}`` / ``{"action": "edit", "content":
        text}``); otherwise the text is the task of a new run (with ``attachments``, and
        ``models``: role -> model references overriding the settings).

        Returns:
            The messages added (the person's message first).

        Raises:
            InputError: no such chat, empty text without attachments, or the run cannot start
                (bad model, missing key, no sandbox ...) or be answered: the person's
                message is still stored, followed by an ``error`` message saying what to do,
                and the error is raised.

        """
        text = text.strip()
        if not text and not attachments:
            raise InputError("The message is empty: describe the application to build or"
                             " attach a file.")
        data: dict[str, Any] = {"attachments": [str(p) for p in attachments]} \
            if attachments else {}
        with self._lock:
            self._store.get_chat(chat_id)
            waiting = None if attachments else self._waiting_for_text(chat_id)
            if waiting is not None:
                run_id, kind = waiting
                decision = ({"action": "continue", "feedback": text} if kind == "ask_human"
                            else {"action": "edit", "content": text})
                parent = self._tails.get(run_id, "head")
                try:
                    self._coordinator.answer(run_id, decision)
                except InputError as exc:
                    self._refused(chat_id, text, data, exc, parent)
                    raise
                message = self._store.add_message(chat_id, "user", text, data=data,
                                                  run_id=run_id, parent_id=parent)
                self._follow(run_id, chat_id, message.message_id)
                return [message]
            names = ", ".join(p.name for p in attachments)
            task = text or f"Work with the attached files: {names}"
            try:
                run_id = self._coordinator.start(task, attachments=attachments, models=models)
            except InputError as exc:
                self._refused(chat_id, text, data, exc, "head")
                raise
            message = self._store.add_message(chat_id, "user", text, data=data, run_id=run_id)
            self._follow(run_id, chat_id, message.message_id)
            if models:
                self._models[run_id] = {role: list(refs) for role, refs in models.items()}
            return [message]

    def decide(self, message_id: str, decision: Mapping[str, Any]) -> Message:
        """Answer the card ``message_id`` with ``decision`` (see :meth:`Coordinator.answer`).

        Returns:
            The stored ``decision`` message (the person's, ``data`` = the decision).

        Raises:
            InputError: no such message, not a card, an action the card does not offer,
                the card was already answered, or its run does not wait for that answer
                any more.

        """
        card = self._store.get_message(message_id)
        if card.kind not in _CARDS or card.run_id is None:
            raise InputError("This message is not a question from a run: only cards can be"
                             " answered.")
        run_id = card.run_id
        action = decision.get("action")
        options = card.data.get("options")
        if isinstance(options, list) and action not in options:
            raise InputError(f"'{action}' does not answer this card: choose one of"
                             f" {', '.join(map(str, options))}.")
        with self._lock:
            self._locate(run_id)
            pending = self._pending_card(run_id)
            if pending is None or pending.message_id != message_id:
                raise InputError("This card was already answered: answer the latest one.")
            self._coordinator.answer(run_id, decision)
            message = self._store.add_message(
                card.chat_id, "user", _decision_line(decision), kind="decision",
                data=_jsonable(decision), run_id=run_id,
                parent_id=self._tails.get(run_id, message_id))
            self._follow(run_id, card.chat_id, message.message_id)
            return message

    def resume(self, message_id: str) -> None:
        """Continue the run of the error card ``message_id`` where it stopped.

        The run is queued (:meth:`Coordinator.resume`); its next messages follow its newest
        one. A run that waits for an answer shows its question again.

        Raises:
            InputError: no such message, not an error card of a run, the run cannot be
                resumed (it ended for good, or is working now), or the coordinator shut down.

        """
        card = self._store.get_message(message_id)
        if card.kind != "error" or card.run_id is None:
            raise InputError("Only a stopped run's message can be resumed: send the task again"
                             " to start a new run.")
        if not card.data.get("resumable", False):
            raise InputError("This run cannot be resumed: send the task again or regenerate"
                             " the answer.")
        run_id = card.run_id
        with self._lock:
            if self._locate(run_id) is None:  # its messages were in no chat's tree any more
                self._follow(run_id, card.chat_id, message_id)
            self._segments.pop(run_id, None)
            self._coordinator.resume(run_id)

    def stop(self, chat_id: str) -> None:
        """Cancel the chat's working (queued or running) runs; a no-op when none works."""
        with self._lock:
            runs = [run for run, chat in self._chats.items() if chat == chat_id]
        for run_id in runs:
            if self._working(run_id):
                try:
                    self._coordinator.cancel(run_id)
                except InputError as exc:  # it ended meanwhile
                    _log.info("stop of run %s: %s", run_id, exc)

    def delete_chat(self, chat_id: str) -> None:
        """Stop the chat's runs, then delete the chat and its messages.

        Queued and running runs are cancelled, and so are runs waiting for an answer (all
        stay resumable from the task manager; their records are kept). Events of these runs
        that arrive afterwards store nothing (:meth:`apply` gives ``chat_id`` None).

        Raises:
            InputError: no such chat.

        """
        self._store.get_chat(chat_id)
        runs = self._runs_of(chat_id)
        for run_id in runs:
            try:
                status = self._coordinator.task(run_id).status
                if status in ("queued", "running", "waiting"):
                    self._coordinator.cancel(run_id)
            except InputError as exc:  # it ended meanwhile, or its records are gone
                _log.info("stop of run %s of a deleted chat: %s", run_id, exc)
        with self._lock:
            self._store.delete_chat(chat_id)
            for run_id in runs | {r for r, c in self._chats.items() if c == chat_id}:
                self._forget(run_id)

    def regenerate(self, chat_id: str) -> str:
        """Re-run the chat's last run from its previous checkpoint, as a new branch.

        The new run (:meth:`Coordinator.regenerate`) follows the last message of the person
        (a task or an answer) that run has, so its first message is a sibling of the answer
        it replaces. Returns the new run id.

        Raises:
            InputError: no such chat, nothing to regenerate, or the run is working now.

        """
        with self._lock:
            run_id = self._store.last_run(chat_id)
            if run_id is None:
                raise InputError("There is nothing to regenerate in this chat yet.")
            if self._working(run_id):
                raise InputError("The answer is still being made: stop it first, then"
                                 " regenerate.")
            thread = self._store.thread(chat_id)
            asked = next((m for m in reversed(thread)
                          if m.role == "user" and m.run_id == run_id), None)
            if asked is None:
                raise InputError("There is nothing to regenerate in this chat yet.")
            new_id = self._coordinator.regenerate(run_id)
            self._follow(new_id, chat_id, asked.message_id)
            return new_id

    def edit(self, message_id: str, text: str) -> list[Message]:
        """Fork the chat at an earlier user message and start a run for the new text.

        ``text`` is stored as the message's sibling (a new branch, shown at once); the run
        gets the original message's attachments that still exist, and the models the
        original was sent with (when sent in this session; else the settings' models).

        Returns:
            The messages added.

        Raises:
            InputError: no such message, not a user message, empty text, or the run cannot
                start (the edited message is still stored, followed by an ``error`` message).

        """
        original = self._store.get_message(message_id)
        if original.role != "user" or original.kind != "text":
            raise InputError("Only your own messages can be edited.")
        text = text.strip()
        if not text:
            raise InputError("The edited message is empty: type the task.")
        kept = [Path(p) for p in original.data.get("attachments", []) if Path(p).is_file()]
        data: dict[str, Any] = {"attachments": [str(p) for p in kept]} if kept else {}
        with self._lock:
            models = self._models.get(original.run_id or "")
            try:
                run_id = self._coordinator.start(text, attachments=kept, models=models)
            except InputError as exc:
                self._refused(original.chat_id, text, data, exc, original.parent_id)
                raise
            message = self._store.add_message(original.chat_id, "user", text, data=data,
                                              run_id=run_id, parent_id=original.parent_id)
            self._follow(run_id, original.chat_id, message.message_id)
            if models:
                self._models[run_id] = models
            return [message]

    # -- the runs' events ------------------------------------------------------------------

    def apply(self, event: RunEvent) -> ChatUpdate:
        """Store what ``event`` shows in its run's chat (see the module docstring).

        ``task_changed`` events store nothing (``message`` None). A run that belongs to no
        chat (or whose chat was deleted) gives ``chat_id`` None.
        """
        run_id = event.run_id
        with self._lock:
            if event.kind == "progress" and event.data.get("type") == TASK_CHANGED:
                chat_id = self._chats.get(run_id)
                return ChatUpdate(chat_id=chat_id, busy=bool(chat_id) and self._working(run_id))
            chat_id = self._locate(run_id)
            if chat_id is None:
                return ChatUpdate(chat_id=None)
            before: list[Message] = []
            try:
                if event.kind == "progress":
                    message, change = self._progress(chat_id, event)
                else:
                    self._segments.pop(run_id, None)
                    if event.kind == "interrupt":
                        message, change = self._card(chat_id, event)
                    else:
                        *before, message = self._ending(chat_id, event)
                        change = "added"
            except InputError as exc:  # the chat (or the run's message) was deleted
                _log.info("event of run %s not stored: %s", run_id, exc)
                self._forget(run_id)
                return ChatUpdate(chat_id=None)
            return ChatUpdate(chat_id=chat_id, message=message, change=change,
                              busy=self._working(run_id), before=tuple(before))

    # -- reading --------------------------------------------------------------------------

    def busy(self, chat_id: str) -> bool:
        """Whether any run of the chat is queued or running."""
        with self._lock:
            runs = [run for run, chat in self._chats.items() if chat == chat_id]
        return any(self._working(run) for run in runs)

    def chat_of_run(self, run_id: str) -> str | None:
        """The chat a run belongs to (None: no chat names it on its current thread)."""
        with self._lock:
            return self._locate(run_id)

    def _runs_of(self, chat_id: str) -> set[str]:
        """The chat's runs known now.

        Those of this session, and every run the coordinator lists (recent ones) that works
        or waits and whose messages are in the chat.
        """
        with self._lock:
            runs = {run for run, chat in self._chats.items() if chat == chat_id}
        for info in self._coordinator.tasks():
            if info.run_id not in runs and info.status in ("queued", "running", "waiting"):
                with self._lock:
                    if self._locate(info.run_id) == chat_id:
                        runs.add(info.run_id)
        return runs

    # -- helpers ------------------------------------------------------------------------------

    def _follow(self, run_id: str, chat_id: str, message_id: str) -> None:
        """Lock held. The run's next messages follow ``message_id`` in a new segment."""
        self._chats[run_id] = chat_id
        self._tails[run_id] = message_id
        self._orphans.discard(run_id)
        self._segments.pop(run_id, None)

    def _forget(self, run_id: str) -> None:
        """Lock held."""
        self._chats.pop(run_id, None)
        self._tails.pop(run_id, None)
        self._segments.pop(run_id, None)
        self._orphans.add(run_id)

    def _locate(self, run_id: str) -> str | None:
        """Lock held. The run's chat; after a restart, that of its newest message (any branch)."""
        if run_id in self._chats:
            return self._chats[run_id]
        if run_id in self._orphans:
            return None
        messages = self._store.messages_of_run(run_id)
        if messages:
            newest = messages[-1]
            self._follow(run_id, newest.chat_id, newest.message_id)
            return newest.chat_id
        self._orphans.add(run_id)
        return None

    def _refused(self, chat_id: str, text: str, data: dict[str, Any], error: InputError,
                 parent: str | None) -> None:
        """Lock held. Store the person's message and the reason it could not be acted on."""
        message = self._store.add_message(chat_id, "user", text, data=data, parent_id=parent)
        reason = self._coordinator.redact(str(error))
        self._store.add_message(chat_id, "system", reason, kind="error",
                                data={"error": reason, "resumable": False},
                                parent_id=message.message_id)

    def _working(self, run_id: str) -> bool:
        try:
            return self._coordinator.task(run_id).status in ("queued", "running")
        except InputError:  # the run's records are gone
            return False

    def _run_messages(self, run_id: str) -> Iterator[Message]:
        """Lock held. The run's messages, newest first, along its chain."""
        current = self._tails.get(run_id)
        while current is not None:
            message = self._store.get_message(current)
            if message.run_id != run_id:
                return
            yield message
            current = message.parent_id

    def _pending_card(self, run_id: str) -> Message | None:
        """Lock held. The run's card no decision followed, if its last card is one."""
        for message in self._run_messages(run_id):
            if message.kind in _CARDS:
                return message
            if message.role == "user" or message.kind == "artifact":
                return None
        return None

    def _waiting_for_text(self, chat_id: str) -> tuple[str, str] | None:
        """Lock held. The chat's last run, if free text can answer it: ``(run, kind)``.

        It must wait on a question (``ask_human``) or a start confirmation.
        """
        run_id = self._store.last_run(chat_id)
        if run_id is None or self._working(run_id) or self._locate(run_id) != chat_id:
            return None
        card = self._pending_card(run_id)
        kind = str(card.data.get("kind", "")) if card is not None else ""
        return (run_id, kind) if kind in TEXT_ANSWERS else None

    def _add(self, chat_id: str, run_id: str, content: str, kind: MessageKind,
             data: dict[str, Any]) -> Message:
        """Lock held. Add an assistant message of the run after the run's previous one."""
        message = self._store.add_message(chat_id, "assistant", content, kind=kind,
                                          data=_jsonable(data), run_id=run_id,
                                          parent_id=self._tails.get(run_id, "head"))
        self._tails[run_id] = message.message_id
        return message

    def _progress(self, chat_id: str, event: RunEvent
                  ) -> tuple[Message, Literal["added", "updated"]]:
        """Lock held. Gather a progress event into the segment's progress (and checks)."""
        run_id = event.run_id
        data = _jsonable(event.data)
        segment = self._segments.setdefault(run_id, _Segment())
        if data.get("type") == "node_started":
            segment.node = str(data.get("node", ""))
        segment.events = [*segment.events, data][-MAX_EVENTS:]
        line = _activity(data, segment.node)
        stored = {"events": segment.events, "node": segment.node}
        change: Literal["added", "updated"]
        if segment.progress_id is None:
            message = self._add(chat_id, run_id, line, "progress", stored)
            segment.progress_id, change = message.message_id, "added"
        else:
            message = self._store.update_message(segment.progress_id, content=line, data=stored)
            change = "updated"
        if data.get("type") != "check_result":
            return message, change
        segment.checks = [*segment.checks, data][-MAX_EVENTS:]
        summary = _checks_line(segment.checks)
        if segment.checks_id is None:
            checks = self._add(chat_id, run_id, summary, "checks", {"results": segment.checks})
            segment.checks_id = checks.message_id
            return checks, "added"
        return self._store.update_message(segment.checks_id, content=summary,
                                          data={"results": segment.checks}), "updated"

    def _card(self, chat_id: str, event: RunEvent
              ) -> tuple[Message, Literal["added", "updated"]]:
        """Lock held. An interrupt as a card (the same question shown again: no new card)."""
        payload = _jsonable(event.data)
        pending = self._pending_card(event.run_id)
        if pending is not None and pending.data == payload:
            return pending, "updated"
        kind = cast("MessageKind", CARD_KINDS.get(str(payload.get("kind", "")), "question"))
        summary = str(payload.get("summary", ""))
        return self._add(chat_id, event.run_id, summary, kind, payload), "added"

    def _ending(self, chat_id: str, event: RunEvent) -> list[Message]:
        """Lock held. The end of a stream: the run's summary and artifact, or why it stopped.

        A finished run gets its summary (an assistant ``text`` message, see
        :func:`run_summary`) and then its ``artifact`` or ``error`` card; a stopped one
        (``failed`` event) gets the error card only.
        """
        data = _jsonable(event.data)
        if event.kind == "finished":
            summary = self._coordinator.redact(run_summary(data))
            text = self._add(chat_id, event.run_id, summary, "text",
                             {"report": data.get("report"), "status": data.get("status")})
            return [text, self._finished_card(chat_id, event.run_id, data)]
        error = str(data.get("error", ""))
        line = "Cancelled" if error == "cancelled" else error
        return [self._add(chat_id, event.run_id, line, "error",
                          data | {"error": error,
                                  "resumable": bool(data.get("resumable", True))})]

    def _finished_card(self, chat_id: str, run_id: str, data: dict[str, Any]) -> Message:
        """Lock held. A finished run's card: the artifact, or why it ended without one."""
        if data.get("status") == "done":
            path = str((data.get("artifact") or {}).get("path", ""))
            line = f"Done: {Path(path).name}" if path else "Done"
            return self._add(chat_id, run_id, line, "artifact", data)
        status = str(data.get("status", "failed"))
        reason = str(data.get("error") or _ENDINGS.get(status, f"The run ended ({status})."))
        return self._add(chat_id, run_id, reason, "error",
                         {"error": reason, "resumable": status == "failed", "status": status})


#: The line of a run that ended without an artifact and without saying why.
_ENDINGS = {"refused": "The safety gate refused this request.",
            "rejected": "You rejected the request.",
            "stopped": "You stopped the run."}


def run_summary(data: Mapping[str, Any]) -> str:
    """A finished run's answer in Markdown, from its ``finished`` event's ``data``.

    The run's report.md (``data["report"]``), without its title and the task (the person's
    own message): whole sections in order while they fit in :data:`SUMMARY_CHARS`
    characters (the first one cut at a line when it alone is longer), then a line saying
    the full report opens from the card. Without a readable report: a short summary of the
    status, the specification's title, the checks and the executable's name.
    """
    report = data.get("report")
    text = ""
    if report:
        try:
            text = Path(str(report)).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            _log.info("report %s not read: %s", report, exc)
    excerpt = _report_excerpt(text) if text.strip() else ""
    return excerpt or _composed_summary(data)


def _report_excerpt(text: str) -> str:
    """report.md's first sections (see :func:`run_summary`); "" when nothing is left."""
    sections: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append([])
        sections[-1].append(line)
    head = [line for line in sections[0] if not line.startswith("# ")]
    parts = ["\n".join(head).strip()]
    parts += ["\n".join(section).strip() for section in sections[1:]
              if section[0].strip() != "## Task"]
    parts = [part for part in parts if part]
    if not parts:
        return ""
    shown: list[str] = []
    used = 0
    for part in parts:
        if used + len(part) > SUMMARY_CHARS:
            if not shown:  # one huge section: its first lines
                cut = part[:SUMMARY_CHARS].rsplit("\n", 1)[0]
                shown.append(cut + "\n\n…")
            break
        shown.append(part)
        used += len(part) + 2
    if len(shown) < len(parts) or shown[-1].endswith("…"):
        shown.append("*The full report opens from the card below.*")
    return "\n\n".join(shown)


def _composed_summary(data: Mapping[str, Any]) -> str:
    """A short Markdown summary of a finished run without a report."""
    status = str(data.get("status") or "failed")
    title = str(data.get("title") or "").strip()
    path = str((data.get("artifact") or {}).get("path") or "")
    lines = [f"**Status:** {status}" + (f" — {title}" if title else "")]
    if status == "done":
        lines.append("All checks passed." if data.get("checks_passed")
                     else "The checks did not all pass.")
    if path:
        lines.append(f"The executable: `{Path(path).name}`.")
    error = str(data.get("error") or "").strip()
    if error and status != "done":
        lines.append(f"**Reason:** {error}")
    return "\n\n".join(lines)


def _jsonable(value: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON copy of ``value`` (paths and other objects as text)."""
    result: dict[str, Any] = json.loads(json.dumps(dict(value), default=str))
    return result


def _decision_line(decision: Mapping[str, Any]) -> str:
    """A readable line for the person's decision ("Approved", "Rejected: too big" ...)."""
    action = str(decision.get("action", ""))
    feedback = str(decision.get("feedback") or "").strip()
    content = str(decision.get("content") or "").strip()
    if action == "edit":
        first = content.splitlines()[0] if content else ""
        shown = "" if not first or first.startswith(("{", "[")) else _cut(first, 80)
        return f"Edited: {shown}" if shown else "Edited"
    label = {"approve": "Approved", "reject": "Rejected", "continue": "Continue",
             "stop": "Stopped"}.get(action, action.capitalize() or "Answered")
    return f"{label}: {_cut(feedback, 200)}" if feedback else label


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _checks_line(results: list[dict[str, Any]]) -> str:
    """``Checks: 3 passed, 1 failed, 1 skipped`` over the latest result of each check."""
    latest = {str(r.get("check")): r for r in results}
    skipped = sum(1 for r in latest.values() if r.get("skipped"))
    passed = sum(1 for r in latest.values() if r.get("passed") and not r.get("skipped"))
    failed = len(latest) - passed - skipped
    parts = [f"{passed} passed", f"{failed} failed"] + ([f"{skipped} skipped"] if skipped else [])
    return "Checks: " + ", ".join(parts)


def _activity(data: Mapping[str, Any], node: str) -> str:
    """One line saying what the run does now (``coder: writing app.py``).

    Args:
        data: the progress event (``type`` and its fields).
        node: the node the run is in (from the segment's last ``node_started``).

    """
    kind = str(data.get("type", ""))
    who = _WHO.get(node, node.replace("_", " ")) or "run"
    match kind:
        case "node_started":
            return f"{who}: {_DOING.get(node, 'started')}"
        case "node_finished":
            return f"{who}: done"
        case "tool_call":
            action = str(data.get("action", ""))
            line = f"{who}: {_VERBS.get(action, action)} {_cut(str(data.get('target', '')), 80)}"
            return line.rstrip() + ("" if data.get("success", True) else " (failed)")
        case "check_result":
            outcome = ("skipped" if data.get("skipped") else "passed" if data.get("passed")
                       else f"failed ({data.get('findings', 0)} findings)")
            return f"tester: {data.get('check', 'check')} {outcome}"
        case "coder_round":
            return f"coder: round {data.get('round', 0)}"
        case "tester_started":
            return f"tester: checking round {data.get('round', 0)}"
        case "environment_ready":
            return "tester: environment ready"
        case "packaging_started":
            return f"packager: building {data.get('name', '')}".rstrip()
        case "packaging_built":
            return f"packager: built {Path(str(data.get('path', ''))).name}"
        case "packaging_failed":
            return "packager: the build failed"
        case "safety_verdict":
            return f"safety gate: {data.get('level', '?')} verdict"
        case "judge_started":
            return f"judge: checking round {data.get('round', 0)} against the specification"
        case "judge_verdict":
            return (f"judge: {data.get('verdict', '?')} ({data.get('met', 0)} met,"
                    f" {data.get('unmet', 0)} unmet, {data.get('unclear', 0)} unclear)")
        case "model_answer":
            return f"{who}: the model answered"
        case "decision":
            return f"{who}: your answer is recorded"
        case "run_finished":
            return f"finished: {data.get('status', '')}"
        case _:
            return f"{who}: {kind.replace('_', ' ')}"
