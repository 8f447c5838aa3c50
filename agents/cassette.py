"""Cassettes: recorded model answers, one JSON object per line, looked up by call key.

A call key names one model call of a run deterministically, so a replay (or a resume after a
crash) asks for the same answer at the same point:

- ``safety_gate/<task revision>``, ``spec_expander/<task revision>``
- ``planner/<plan revision>`` (the revision grows when a person rejects a plan)
- ``coder/<repair round>/<turn>`` (round 0 is the first build)
- a retry after an unparsable answer appends ``/retry<n>``

Each line (an :class:`Interaction`)::

    {"key": "coder/0/3", "role": "coder", "model": "openai:gpt-4.1",
     "request": [{"type": "human", "content": "..."}],          # optional, for people
     "response": {"content": "...", "tool_calls": [{"id": "call_1", "name": "write_file",
                  "args": {"path": "app/main.py", "content": "..."}}]},
     "usage": {"input_tokens": 1200, "output_tokens": 800}}

Secrets never enter a cassette: the recorder runs every line through a redactor first.

A run's own ``cassette.jsonl`` is also its memory of answers already paid for: when a node runs
again (a resume after a crash, a cancel or a budget stop, or a node re-run after its
``interrupt()``), :meth:`CassetteRecorder.get` hands back the recorded answer for the same key
and the provider is not asked again — provided the conversation is the same (its
``request_hash``, see :func:`request_fingerprint`). Replay cassettes (``datasets/cassettes``)
are played by key alone. Keys must therefore name a call *and its content*: a call
asked again with different content (a re-plan after the person's feedback) gets a new key.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage, messages_to_dict
from pydantic import BaseModel, Field

HEADER_CALL_KEY = "X-MultiCoder-Call"
"""HTTP header carrying the call key, so a cassette server can answer by key."""


class CassetteError(LookupError):
    """The cassette is unreadable or holds no answer for a call key."""


class ToolCallRecord(BaseModel):
    """One tool call inside a recorded answer."""

    id: str
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ResponseRecord(BaseModel):
    """A recorded model answer: text and/or tool calls."""

    content: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)

    def to_message(self, usage: dict[str, int] | None = None) -> AIMessage:
        """Build the :class:`AIMessage` a live model would have returned."""
        message = AIMessage(
            content=self.content,
            tool_calls=[{"id": c.id, "name": c.name, "args": c.args, "type": "tool_call"}
                        for c in self.tool_calls],
        )
        if usage:
            inp, out = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
            message.usage_metadata = {"input_tokens": inp, "output_tokens": out,
                                      "total_tokens": inp + out}
        return message

    @classmethod
    def from_message(cls, message: AIMessage) -> ResponseRecord:
        """Capture an answer from a live model."""
        content = message.content if isinstance(message.content, str) else json.dumps(
            message.content, ensure_ascii=False)
        return cls(content=content, tool_calls=[
            ToolCallRecord(id=c.get("id") or f"call_{i}", name=c["name"], args=c["args"])
            for i, c in enumerate(message.tool_calls)])


class Interaction(BaseModel):
    """One line of a cassette.

    ``request_hash`` (see :func:`request_fingerprint`) is written by a run's own recorder so a
    recorded answer is reused only for the same conversation; older lines have none.
    """

    key: str
    role: str
    model: str = ""
    request: list[dict[str, Any]] | None = None
    request_hash: str | None = None
    response: ResponseRecord
    usage: dict[str, int] = Field(default_factory=dict)


#: Volatile parts of tool results (timings, object addresses) masked before hashing, so a
#: round re-run after an interrupt still matches the answers it recorded.
_VOLATILE = (
    (re.compile(r"\b\d+(?:\.\d+)?\s*(?:s|ms|sec|seconds)\b"), "… s"),
    (re.compile(r"0x[0-9a-fA-F]+"), "0x…"),
)


def request_fingerprint(messages: Sequence[BaseMessage],
                        redact: Callable[[str], str] = lambda text: text) -> str:
    """A stable hash of a conversation: sha256 of canonical JSON of each message.

    Each message contributes its role (``type``), its content and, for model answers, its tool
    calls (name and arguments; call ids are left out). The JSON has sorted keys and fixed
    separators, and goes through ``redact`` first, so the hash is the same in every process
    and reveals nothing about secrets. Timings and object addresses in tool results are
    masked (they change each time a tool runs).

    Args:
        messages: the conversation sent to the model.
        redact: the run's redactor (the same one that writes the cassette).

    Returns:
        64 hex digits.

    """
    canonical = []
    for message in messages:
        content = message.content if isinstance(message.content, str) else json.dumps(
            message.content, ensure_ascii=False)  # as ResponseRecord.from_message keeps it
        if isinstance(message, ToolMessage):
            for pattern, mask in _VOLATILE:
                content = pattern.sub(mask, content)
        calls = [{"name": c["name"], "args": c["args"]}
                 for c in getattr(message, "tool_calls", None) or []]
        canonical.append({"role": message.type, "content": content, "tool_calls": calls})
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(redact(text).encode("utf-8")).hexdigest()


class Cassette:
    """Recorded answers by call key, read from a JSON-lines file.

    Raises:
        CassetteError: the file is missing or a line is not a valid interaction
            (the message names the file and line).

    """

    def __init__(self, interactions: Iterable[Interaction], source: str = "<memory>") -> None:
        self.source = source
        self._by_key: dict[str, Interaction] = {}
        self.order: list[str] = []
        for item in interactions:
            self._by_key[item.key] = item
            self.order.append(item.key)

    @classmethod
    def load(cls, path: Path) -> Cassette:
        """Read a cassette file (UTF-8 JSON lines; blank lines ignored)."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CassetteError(f"cannot read cassette {path}: {exc.strerror}") from exc
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append(Interaction.model_validate_json(line))
            except ValueError as exc:
                raise CassetteError(f"{path}:{number}: not a cassette line ({exc})") from exc
        return cls(items, source=str(path))

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, key: str) -> Interaction:
        """The interaction recorded for ``key``.

        Raises:
            CassetteError: nothing was recorded under that key.

        """
        try:
            return self._by_key[key]
        except KeyError:
            raise CassetteError(
                f"cassette {self.source} has no answer for model call '{key}'") from None


class CassetteRecorder:
    """Appends interactions to a cassette file as they happen (thread-safe).

    Args:
        path: the run's ``cassette.jsonl``; created on first write.
        redact: applied to every serialised line before it is written (strips secrets).

    """

    def __init__(self, path: Path, redact: Callable[[str], str]) -> None:
        self.path = path
        self._redact = redact
        self._lock = threading.Lock()
        self._recorded: dict[str, Interaction] | None = None

    def get(self, key: str) -> Interaction | None:
        """The answer this run already recorded under ``key`` (the last one), or None.

        The file is read once, then kept up to date by :meth:`record`; a line torn by a crash
        is ignored (that call is simply asked again).
        """
        with self._lock:
            if self._recorded is None:
                self._recorded = {}
                if self.path.is_file():
                    for line in self.path.read_text(encoding="utf-8").splitlines():
                        try:
                            item = Interaction.model_validate_json(line)
                        except ValueError:
                            continue
                        self._recorded[item.key] = item
            return self._recorded.get(key)

    def fingerprint(self, messages: Sequence[BaseMessage]) -> str:
        """:func:`request_fingerprint` of ``messages`` with this recorder's redactor."""
        return request_fingerprint(messages, self._redact)

    def record(self, key: str, role: str, model: str, request: list[BaseMessage],
               response: AIMessage) -> None:
        """Write one interaction (the request is kept for people; replay uses the key).

        The request's :meth:`fingerprint` is stored with it: the run reuses this answer
        only for a conversation with the same fingerprint.
        """
        meta = response.usage_metadata
        usage = {"input_tokens": meta["input_tokens"], "output_tokens": meta["output_tokens"]} \
            if meta else {}
        item = Interaction(
            key=key, role=role, model=model, request=messages_to_dict(request),
            request_hash=self.fingerprint(request),
            response=ResponseRecord.from_message(response),
            usage=usage,
        )
        line = self._redact(item.model_dump_json(exclude_none=True))
        with self._lock, self.path.open("a+b") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell():  # a line torn by a crash is closed, so this one stays whole
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")
            handle.write(line.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            if self._recorded is not None:
                self._recorded[key] = Interaction.model_validate_json(line)
