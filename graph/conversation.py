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
  ``fetch``, ``ask_human`` → ``question``), the end into an ``artifact`` or ``error`` message.
  It returns a :class:`ChatUpdate` naming what changed, so the interface redraws only that.
- :meth:`Conversations.decide` stores the person's answer to a card (a ``decision`` message)
  and queues the run with it.
- :meth:`Conversations.regenerate` re-runs the last run from its previous checkpoint as a new
  branch; :meth:`Conversations.edit` adds an edited copy of an earlier user message as a new
  branch and starts a run for it.

Every method may be called on the interface's thread; :meth:`apply` is called with events
the coordinator delivers (the interface passes them on from its own thread).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from graph.chats import ChatStore, Message
from graph.coordinator import Coordinator
from graph.engine import RunEvent

__all__ = ["CARD_KINDS", "ChatUpdate", "Conversations"]

#: Interrupt kind -> chat message kind of its card.
CARD_KINDS: dict[str, str] = {"confirm_start": "safety", "approve_plan": "plan",
                              "approve_fetch": "fetch", "ask_human": "question"}


class ChatUpdate(BaseModel):
    """What :meth:`Conversations.apply` changed.

    Attributes:
        chat_id: the chat (None when the event's run belongs to no chat).
        message: the message added or changed (None when nothing is shown for the event).
        change: ``added`` (append a widget) or ``updated`` (redraw that message's widget).
        busy: whether the chat's run is still working after this event (the Stop button).

    """

    model_config = ConfigDict(frozen=True)

    chat_id: str | None
    message: Message | None = None
    change: Literal["added", "updated"] = "added"
    busy: bool = False


class Conversations:
    """The chats' behaviour.

    Args:
        store: the chat store.
        coordinator: drives the runs.

    """

    def __init__(self, store: ChatStore, coordinator: Coordinator) -> None:
        raise NotImplementedError

    def send(self, chat_id: str, text: str, *, attachments: Sequence[Path] = (),
             models: Mapping[str, Sequence[str]] | None = None) -> list[Message]:
        """Store the person's message and start (or answer) a run for it.

        Returns:
            The messages added (the person's message first).

        Raises:
            InputError: empty text without attachments, or the run cannot start (bad model,
                missing key, no sandbox ...): the person's message is still stored, followed
                by an ``error`` message saying what to do, and the error is raised.

        """
        raise NotImplementedError

    def apply(self, event: RunEvent) -> ChatUpdate:
        """Store what ``event`` shows in its run's chat (see the module docstring)."""
        raise NotImplementedError

    def decide(self, message_id: str, decision: Mapping[str, Any]) -> Message:
        """Answer the card ``message_id`` with ``decision`` (see
        :meth:`Coordinator.answer`); returns the stored ``decision`` message.

        Raises:
            InputError: not a card, the card was already answered, or its run does not
                wait for that answer any more.

        """
        raise NotImplementedError

    def stop(self, chat_id: str) -> None:
        """Cancel the chat's working run (no-op when none works)."""
        raise NotImplementedError

    def regenerate(self, chat_id: str) -> str:
        """Re-run the chat's last run from its previous checkpoint, as a new branch: the
        answer messages after the last user message get a sibling. Returns the new run id.

        Raises:
            InputError: nothing to regenerate, or the run is working now.

        """
        raise NotImplementedError

    def edit(self, message_id: str, text: str) -> list[Message]:
        """Fork the chat at an earlier user message: store ``text`` as its sibling (a new
        branch, shown at once) and start a run for it. Returns the messages added.

        Raises:
            InputError: not a user message, empty text, or the run cannot start.

        """
        raise NotImplementedError

    def busy(self, chat_id: str) -> bool:
        """Whether the chat's run is queued or running."""
        raise NotImplementedError

    def chat_of_run(self, run_id: str) -> str | None:
        """The chat a run belongs to."""
        raise NotImplementedError
