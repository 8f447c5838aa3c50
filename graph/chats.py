"""Chats and projects of the desktop app: a conversation store with branches (U1, U5, M1).

A chat is a tree of messages. Each message has a parent (None for the first); the chat's
``head`` is the message shown last, and the conversation on screen is the path from the root
to the head. Editing an earlier message adds a *sibling* of it (a new branch); ``‹ n/m ›``
switches between siblings. A regenerated answer is likewise a sibling of the answer it
replaces.

Messages are kept verbatim in SQLite (``<data_dir>/chats.sqlite``, WAL mode, schema versioned
through :mod:`memory.schema`); the runs a chat started keep their own records (run folders and
the archive): a message names its run (``run_id``).

The storage lives in :mod:`memory.chats`; this module is the engine-side API the interfaces
use (the desktop app only calls these functions).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "GROUPS",
    "BranchInfo",
    "Chat",
    "ChatStore",
    "Message",
    "MessageKind",
    "Project",
    "SearchHit",
    "group_by_recency",
    "title_from",
]

#: Sidebar groups, in display order (keys; the interface translates them).
GROUPS = ("today", "yesterday", "previous_7_days", "older")

#: What a message holds. ``text``: prose (Markdown); ``safety``/``spec``/``plan``/``fetch``/
#: ``question``/``confirm``: an interrupt card (``data`` = the interrupt payload);
#: ``decision``: the person's answer to a card (``data`` = the decision); ``progress``: the
#: run's activity (``data["events"]`` = list of progress event dicts); ``checks``: check
#: results; ``artifact``: the finished run (``data`` = the finished event's data);
#: ``error``: a failure (``data["error"]``, ``data["resumable"]``).
MessageKind = Literal["text", "safety", "spec", "plan", "fetch", "question", "confirm",
                      "decision", "progress", "checks", "artifact", "error"]


class Project(BaseModel):
    """A folder of chats. Times are ISO-8601 UTC strings."""

    model_config = ConfigDict(frozen=True)

    project_id: str
    name: str
    created_at: str


class Chat(BaseModel):
    """One chat (a conversation tree).

    Attributes:
        chat_id: unique id.
        title: shown in the sidebar; generated from the first message (:func:`title_from`)
            until renamed.
        project_id: the project folder holding it, or None.
        archived: hidden from the sidebar's main list (still searchable).
        created_at / updated_at: ISO-8601 UTC; ``updated_at`` moves with every new message.
        head: the id of the message shown last (None for an empty chat).

    """

    model_config = ConfigDict(frozen=True)

    chat_id: str
    title: str
    project_id: str | None = None
    archived: bool = False
    created_at: str
    updated_at: str
    head: str | None = None


class Message(BaseModel):
    """One message of a chat.

    Attributes:
        message_id: unique id.
        chat_id: its chat.
        parent_id: the message it answers or follows (None: the first of the chat).
        role: ``user`` (the person), ``assistant`` (MultiCoder) or ``system`` (notices).
        kind: see :data:`MessageKind`.
        content: the text (Markdown for ``text``; a one-line summary for cards).
        data: structured content of cards, decisions, progress and artifacts (JSON).
        run_id: the run this message belongs to, if any.
        created_at: ISO-8601 UTC.

    """

    model_config = ConfigDict(frozen=True)

    message_id: str
    chat_id: str
    parent_id: str | None = None
    role: Literal["user", "assistant", "system"]
    kind: MessageKind = "text"
    content: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    run_id: str | None = None
    created_at: str


class BranchInfo(BaseModel):
    """Where a message stands among its siblings (the ``‹ n/m ›`` switcher).

    ``index`` is 1-based; ``count`` is the number of siblings including the message itself;
    ``sibling_ids`` are in creation order.
    """

    index: int
    count: int
    sibling_ids: list[str]


class SearchHit(BaseModel):
    """A chat found by :meth:`ChatStore.search`: the chat, the matching message (None when
    the title matched) and a snippet of at most ~120 characters around the match.
    """

    chat: Chat
    message_id: str | None = None
    snippet: str


def title_from(text: str, limit: int = 48) -> str:
    """A chat title made from its first message.

    The first non-empty line, Markdown markers and surplus whitespace removed, cut at a word
    boundary to at most ``limit`` characters (an ellipsis marks the cut). Empty text gives
    ``""`` (the interface then shows "New chat").
    """
    raise NotImplementedError


def group_by_recency(chats: list[Chat], now: datetime | None = None
                     ) -> list[tuple[str, list[Chat]]]:
    """Split chats (newest first) into the sidebar groups of :data:`GROUPS`.

    Args:
        chats: chats ordered by ``updated_at``, newest first.
        now: the current local time (default: now); "today" and "yesterday" are calendar
            days in local time.

    Returns:
        ``[(group_key, chats), ...]`` in :data:`GROUPS` order, empty groups left out.

    """
    raise NotImplementedError


class ChatStore:
    """The chats and projects of one data folder.

    Safe for several threads (one connection per call or a lock) and several processes
    (SQLite WAL, ``BEGIN IMMEDIATE``, busy timeout).

    Args:
        path: the SQLite file (created with its folder when missing).

    Raises:
        InputError: (from every method taking an id) no such chat, project or message.

    """

    def __init__(self, path: Path) -> None:
        raise NotImplementedError

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> ChatStore:
        """The store at ``<data_dir>/chats.sqlite``."""
        return cls(data_dir / "chats.sqlite")

    def close(self) -> None:
        """Close the database."""
        raise NotImplementedError

    # -- chats ----------------------------------------------------------------------------

    def create_chat(self, title: str = "", project_id: str | None = None) -> Chat:
        """A new, empty chat."""
        raise NotImplementedError

    def get_chat(self, chat_id: str) -> Chat:
        """One chat."""
        raise NotImplementedError

    def list_chats(self, *, archived: bool = False, project_id: str | None = None,
                   limit: int = 500) -> list[Chat]:
        """Chats newest first (by ``updated_at``): the archived ones when ``archived``, else
        the others; only those of ``project_id`` when given.
        """
        raise NotImplementedError

    def rename_chat(self, chat_id: str, title: str) -> Chat:
        """Give a chat a title of the person's own (stripped; empty raises InputError)."""
        raise NotImplementedError

    def set_archived(self, chat_id: str, archived: bool) -> Chat:
        """Archive or restore a chat."""
        raise NotImplementedError

    def move_chat(self, chat_id: str, project_id: str | None) -> Chat:
        """Put a chat into a project (None: out of any project)."""
        raise NotImplementedError

    def delete_chat(self, chat_id: str) -> None:
        """Delete a chat and its messages (its runs' own records stay)."""
        raise NotImplementedError

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Chats whose title or any message text contains ``query`` (case-insensitive, any
        language; every word must match), newest first, archived ones included.
        """
        raise NotImplementedError

    # -- projects -------------------------------------------------------------------------

    def create_project(self, name: str) -> Project:
        """A new project folder (an empty or duplicate name raises InputError)."""
        raise NotImplementedError

    def list_projects(self) -> list[Project]:
        """Projects by name."""
        raise NotImplementedError

    def rename_project(self, project_id: str, name: str) -> Project:
        """Rename a project."""
        raise NotImplementedError

    def delete_project(self, project_id: str) -> None:
        """Delete a project; its chats stay, out of any project."""
        raise NotImplementedError

    # -- messages -------------------------------------------------------------------------

    def add_message(self, chat_id: str, role: Literal["user", "assistant", "system"],
                    content: str = "", *, kind: MessageKind = "text",
                    data: dict[str, Any] | None = None, run_id: str | None = None,
                    parent_id: str | None = "head") -> Message:
        """Append a message and make it the chat's head.

        Args:
            chat_id: the chat.
            role: who speaks.
            content: the text.
            kind: see :data:`MessageKind`.
            data: structured content (JSON-serialisable).
            run_id: the run it belongs to.
            parent_id: ``"head"`` (default): after the current head; ``None``: a new root
                (a sibling of the first message); an id: after that message (a new branch
                when it already has children).

        The first user message of an untitled chat gives it its title (:func:`title_from`).

        """
        raise NotImplementedError

    def update_message(self, message_id: str, *, content: str | None = None,
                       data: dict[str, Any] | None = None) -> Message:
        """Replace a message's content and/or data (a streamed answer is stored when complete;
        a progress message gains events).
        """
        raise NotImplementedError

    def get_message(self, message_id: str) -> Message:
        """One message."""
        raise NotImplementedError

    def thread(self, chat_id: str) -> list[Message]:
        """The conversation on screen: the path from the root to the head, in order."""
        raise NotImplementedError

    def branches(self, message_id: str) -> BranchInfo:
        """The message's place among its siblings."""
        raise NotImplementedError

    def switch_branch(self, message_id: str, index: int) -> Chat:
        """Show the ``index``-th sibling (1-based) of ``message_id``: the head moves to the
        newest message of that sibling's subtree. Out-of-range raises InputError.
        """
        raise NotImplementedError

    def last_run(self, chat_id: str) -> str | None:
        """The run of the newest message on the current path that has one."""
        raise NotImplementedError

    # -- export ---------------------------------------------------------------------------

    def export(self, target: Path, *, fmt: Literal["md", "json"] = "json",
               chat_ids: list[str] | None = None) -> Path:
        """Write chats (all when ``chat_ids`` is None) to ``target`` atomically.

        ``json``: ``{"chats": [{...chat, "projects": ..., "messages": [every message of the
        tree]}]}``; ``md``: each chat's current thread as Markdown. Returns ``target``.
        """
        raise NotImplementedError
