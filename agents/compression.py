"""Context compression: a long tool-calling conversation still fits the model's budget.

The coder keeps its whole conversation (every message stays in chat.md and the cassette); before
each model call :meth:`ContextCompressor.prepare` turns it into the prompt actually sent:

- the *head* (the system prompt, the opening request with spec and plan, the tester's findings,
  the person's hint) stays;
- the conversation after it is a list of *turns*: a model answer with its tool calls and the
  tool results that answer them. Turns are folded whole, oldest first: a tool call is never
  separated from its result;
- folded turns are replaced by one message holding a *running summary*, written by a model
  call (key ``<call key>/summary``; when the folded turns are too long for one summary
  request, further requests continue it under ``<call key>/summary/1``, ``/2`` ...); each
  summary folds the previous one with the newly folded turns;
- the newest turns stay verbatim; a single tool result (or tool-call argument) too large by
  itself is cut, its head and tail kept around a marker.

Compression starts when the prompt would exceed the budget (``context_tokens`` minus room for
the answer and the tool schemas) and folds down to :data:`FOLD_TARGET` of it, so it does not
happen on every turn. Every decision is a function of the conversation, the budget and the
recorded summaries, so a round re-run after a crash sends the same prompts (see
:mod:`agents.cassette`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from agents.config import ModelConfigError
from agents.structured import prompt
from agents.tokens import REPLY_PRIMING, TokenCounter

__all__ = ["FOLD_TARGET", "CompressionReport", "ContextCompressor", "ContextTooSmall",
           "Summariser", "answer_room", "cut_text", "split_turns"]

FOLD_TARGET = 0.6
"""Share of the budget a prompt is brought down to when it is compressed."""

ANSWER_TOKENS_MAX = 8_192
"""The most tokens kept free for the model's answer."""

MIN_BUDGET = 256
"""The fewest tokens a prompt's messages may be left (else the budget is too small)."""

CUT_MARKER = ("\n[… {cut} characters cut here to fit the model's context; the full text is in"
              " the run's records …]\n")

Summariser = Callable[[str, list[BaseMessage], str], str]
"""``(call key, summary request, title) -> summary text``: asks a model for a summary."""


class ContextTooSmall(ModelConfigError):
    """``limits.context_tokens`` cannot hold the coder's instructions, tools and newest turn."""


@dataclass(frozen=True)
class CompressionReport:
    """What one compression did (the ``context_compressed`` event).

    Attributes:
        key: the call key of the model call whose prompt was compressed.
        turns_folded: turns folded into the summary this time.
        turns_folded_total: turns the summary covers now.
        turns_verbatim: turns still sent verbatim.
        tokens_before: tokens of the prompt before compression.
        tokens_after: tokens of the prompt sent (within ``budget``).
        conversation_tokens: tokens of the whole conversation, every turn verbatim.
        budget: the most tokens the prompt's messages may hold.
        summary_calls: model calls made for the summary.
        items_cut: tool results or arguments cut because they were too large by themselves.
        counter: the token counter's name.
        estimated: whether the counts are estimates (no tokenizer for the model).

    """

    key: str
    turns_folded: int
    turns_folded_total: int
    turns_verbatim: int
    tokens_before: int
    tokens_after: int
    conversation_tokens: int
    budget: int
    summary_calls: int
    items_cut: int
    counter: str
    estimated: bool


def answer_room(context_tokens: int) -> int:
    """Tokens kept free for the answer: an eighth of the context, at most 8,192."""
    return min(ANSWER_TOKENS_MAX, context_tokens // 8)


def split_turns(messages: Sequence[BaseMessage]
                ) -> tuple[list[BaseMessage], list[list[BaseMessage]]]:
    """``(head, turns)``: the leading instructions and requests, then the turns after them.

    The head is every message before the first model answer. A turn is a model answer with the
    tool results that follow it; any other message (a person's note) is a turn of its own.
    """
    index = next((i for i, m in enumerate(messages) if isinstance(m, AIMessage)), len(messages))
    head = list(messages[:index])
    turns: list[list[BaseMessage]] = []
    for message in messages[index:]:
        if isinstance(message, ToolMessage) and turns:
            turns[-1].append(message)
        else:
            turns.append([message])
    return head, turns


def cut_text(text: str, max_tokens: int, counter: TokenCounter) -> str:
    """``text`` cut to at most ``max_tokens``: its head and tail kept around a marker.

    Two thirds of what is kept come from the head, one third from the tail. Text that fits is
    returned unchanged; the marker alone (about 35 tokens) is the shortest result.
    """
    tokens = counter.count_text(text)
    if tokens <= max_tokens:
        return text
    keep = int(len(text) * max_tokens / tokens)
    while True:
        keep = max(0, keep - len(CUT_MARKER) - 16)
        head, tail = keep * 2 // 3, keep - keep * 2 // 3
        marker = CUT_MARKER.format(cut=len(text) - head - tail)
        result = text[:head] + marker + (text[len(text) - tail:] if tail else "")
        if counter.count_text(result) <= max_tokens or keep == 0:
            return result
        keep = int(keep * 0.85)


def _cut_message(message: BaseMessage, max_tokens: int, counter: TokenCounter) -> BaseMessage:
    """A copy of ``message`` whose content (and longest tool-call arguments) fit ``max_tokens``."""
    if counter.count_message(message) <= max_tokens:
        return message
    if isinstance(message, AIMessage) and message.tool_calls:
        calls: list[dict[str, Any]] = [dict(call) for call in message.tool_calls]
        # shrink the longest string values first (a file's content), keeping names and paths
        values = sorted(((len(value), i, name) for i, call in enumerate(calls)
                         for name, value in call["args"].items() if isinstance(value, str)),
                        reverse=True)
        text = message.content if isinstance(message.content, str) else ""
        for _, i, name in values:
            overflow = counter.count_message(message.model_copy(
                update={"tool_calls": calls, "content": text})) - max_tokens
            if overflow <= 0:
                break
            value = calls[i]["args"][name]
            # the arguments are sent as JSON, where escapes (a newline is ``\n``) take room too
            plain = max(1, counter.count_text(value))
            encoded = counter.count_text(json.dumps(value, ensure_ascii=False))
            room = int((encoded - overflow) * plain / max(1, encoded)) - 8
            calls[i] = {**calls[i], "args": {**calls[i]["args"], name: cut_text(
                value, max(16, room), counter)}}
        overflow = counter.count_message(message.model_copy(
            update={"tool_calls": calls, "content": text})) - max_tokens
        if overflow > 0:
            text = cut_text(text, max(0, counter.count_text(text) - overflow), counter)
        return message.model_copy(update={"tool_calls": calls, "content": text})
    content = message.content if isinstance(message.content, str) else json.dumps(
        message.content, ensure_ascii=False)
    room = max(16, counter.count_text(content) - (counter.count_message(message) - max_tokens))
    return message.model_copy(update={"content": cut_text(content, room, counter)})


class ContextCompressor:
    """Keeps one conversation's prompts within the model's budget (one per coder round).

    Args:
        counter: counts tokens for the model that answers.
        context_tokens: the most tokens one prompt may hold (``limits.context_tokens``).
        summarise: asks a model for a summary (see :data:`Summariser`).
        tools: the tool schemas sent with every prompt (they take room too).
        on_compressed: told what each compression did.

    Raises:
        ContextTooSmall: the budget leaves fewer than :data:`MIN_BUDGET` tokens for messages.

    """

    def __init__(self, counter: TokenCounter, context_tokens: int, summarise: Summariser, *,
                 tools: Sequence[Mapping[str, Any]] | None = None,
                 on_compressed: Callable[[CompressionReport], None] | None = None) -> None:
        self.counter = counter
        self.context_tokens = context_tokens
        self.tools_tokens = counter.count_tools(tools)
        self.prompt_tokens = context_tokens - answer_room(context_tokens)
        self.budget = self.prompt_tokens - self.tools_tokens
        if self.budget < MIN_BUDGET:
            raise ContextTooSmall(
                f"limits.context_tokens ({context_tokens:,}) leaves {self.budget:,} tokens for"
                f" the conversation after the answer's room and the tools"
                f" ({self.tools_tokens:,} tokens): raise it")
        self.item_tokens = self.budget // 4
        self.summary_tokens = max(64, self.budget // 8)
        self.summary = ""
        self.folded = 0
        self._summarise = summarise
        self._on_compressed = on_compressed
        self._counts: dict[int, tuple[BaseMessage, int]] = {}
        self._capped: dict[int, tuple[BaseMessage, BaseMessage]] = {}

    # -- counting ---------------------------------------------------------------------------

    def count(self, messages: Sequence[BaseMessage]) -> int:
        """Tokens of a prompt's messages (the tool schemas not included)."""
        total = 0
        for message in messages:
            known = self._counts.get(id(message))
            if known is None or known[0] is not message:
                known = (message, self.counter.count_message(message))
                self._counts[id(message)] = known  # the message is kept, so its id stays its own
            total += known[1]
        return total + (REPLY_PRIMING if messages else 0)

    def _capped_item(self, message: BaseMessage) -> BaseMessage:
        """``message`` with a tool result or argument too large by itself cut."""
        known = self._capped.get(id(message))
        if known is None or known[0] is not message:
            capped = message
            if isinstance(message, (ToolMessage, AIMessage)) and \
                    self.count([message]) > self.item_tokens:
                capped = _cut_message(message, self.item_tokens, self.counter)
            known = (message, capped)
            self._capped[id(message)] = known
        return known[1]

    def _forget_others(self, messages: Sequence[BaseMessage]) -> None:
        """Keep the caches for ``messages`` (and their cut copies) only.

        Each prompt makes new messages (the summary message, cut copies, summary requests);
        without this the caches would keep every one of them for the round's whole life. They
        hold at most two entries per message of the conversation, plus what one prompt makes.
        """
        capped = {id(m): known for m in messages
                  if (known := self._capped.get(id(m))) is not None and known[0] is m}
        live = {id(m): m for m in messages} | {id(c): c for _, c in capped.values()}
        self._capped = capped
        self._counts = {key: known for key, known in self._counts.items()
                        if live.get(key) is known[0]}

    # -- the prompt -------------------------------------------------------------------------

    def prepare(self, messages: Sequence[BaseMessage], key: str) -> list[BaseMessage]:
        """The prompt to send for ``messages``, within the budget; summarises when needed.

        Args:
            messages: the whole conversation (never changed).
            key: the call key of the model call this prompt is for; summary calls are
                ``<key>/summary`` (and ``<key>/summary/<n>``).

        Returns:
            The head, the summary message (once there is one) and the newest turns.

        Raises:
            ContextTooSmall: even the head and the newest turn, cut, do not fit.
            Whatever the summariser raises (model errors, budget stops).

        """
        self._forget_others(messages)
        head, turns = split_turns(messages)
        capped = [[self._capped_item(m) for m in turn] for turn in turns]
        view = self._view(head, capped)
        before = self.count(view)
        if before <= self.budget:
            return view
        target = int(self.budget * FOLD_TARGET)
        fixed = self.count(head) + self.summary_tokens + self.count(  # the summary's room
            [HumanMessage(prompt("coder_summary_message", turns="1000", summary=""))])
        newly = self.folded
        while newly < len(capped) - 1 and fixed + sum(
                self.count(t) for t in capped[newly:]) > target:
            newly += 1
        calls = 0
        if newly > self.folded:
            calls = self._fold(capped[self.folded:newly], key)
            folded_now, self.folded = newly - self.folded, newly
        else:
            folded_now = 0
        items_cut = sum(c is not m for turn, ct in zip(turns[self.folded:], capped[self.folded:],
                                                        strict=True)
                        for m, c in zip(turn, ct, strict=True))
        view = self._view(head, capped)
        view, extra_cut = self._fit(view)
        after = self.count(view)
        if after > self.budget:
            raise ContextTooSmall(
                f"limits.context_tokens ({self.context_tokens:,}) cannot hold the coder's"
                f" instructions and its newest turn ({after:,} tokens for {self.budget:,}):"
                " raise it")
        if self._on_compressed is not None:
            self._on_compressed(CompressionReport(
                key=key, turns_folded=folded_now, turns_folded_total=self.folded,
                turns_verbatim=len(turns) - self.folded, tokens_before=before,
                tokens_after=after, conversation_tokens=self.count(messages),
                budget=self.budget, summary_calls=calls, items_cut=items_cut + extra_cut,
                counter=self.counter.name, estimated=self.counter.estimated))
        return view

    def _view(self, head: list[BaseMessage], turns: list[list[BaseMessage]]
              ) -> list[BaseMessage]:
        view = list(head)
        if self.summary:
            view.append(self._summary_message())
        for turn in turns[self.folded:]:
            view.extend(turn)
        return view

    def _summary_message(self) -> HumanMessage:
        return HumanMessage(prompt("coder_summary_message", turns=str(self.folded),
                                   summary=self.summary))

    def _fit(self, view: list[BaseMessage]) -> tuple[list[BaseMessage], int]:
        """Cut the largest messages (never the system prompt) until ``view`` fits."""
        view = list(view)
        cut = 0
        for _ in range(4 * len(view)):
            overflow = self.count(view) - self.budget
            if overflow <= 0:
                break
            candidates = [(self.count([m]), i) for i, m in enumerate(view)
                          if not isinstance(m, SystemMessage)]
            size, index = max(candidates, default=(0, -1))
            if size <= 32:
                break
            view[index] = _cut_message(view[index], max(16, size - overflow - 8), self.counter)
            cut += 1
        return view, cut

    # -- summaries --------------------------------------------------------------------------

    def _fold(self, turns: list[list[BaseMessage]], key: str) -> int:
        """Fold ``turns`` into the running summary; returns the model calls made."""
        system = SystemMessage(prompt("coder_summary", words=str(self.summary_tokens * 2 // 3)))
        first = self.folded + 1
        chunks = self._chunks([_render_turn(t) for t in turns], system)
        for number, chunk in enumerate(chunks):
            last = first + len(chunk) - 1
            request = [system, HumanMessage(self._summary_request(chunk, first))]
            title = (f"summary of coder turns 1–{last} (context compression: turns {first}–{last}"
                     " folded)")
            answer = self._summarise(f"{key}/summary" + (f"/{number}" if number else ""),
                                     request, title)
            self.summary = cut_text(answer.strip() or "(no summary given)",
                                    self.summary_tokens, self.counter)
            first = last + 1
        return len(chunks)

    def _summary_request(self, rendered: list[str], first: int, summary: str | None = None
                         ) -> str:
        summary = self.summary if summary is None else summary
        return prompt("coder_summary_request", summary=summary or "(none yet)",
                      first=str(first), turns="\n\n".join(rendered))

    def _chunks(self, rendered: list[str], system: SystemMessage) -> list[list[str]]:
        """Group rendered turns into summary requests that each fit the prompt budget.

        Each request holds the previous summary (at most ``summary_tokens``) and as many whole
        turns as fit; a turn too long by itself is cut.
        """
        frame = self.count([system, HumanMessage(self._summary_request([], 1000, ""))])
        room = max(64, self.prompt_tokens - frame - self.summary_tokens - 32)
        chunks: list[list[str]] = []
        used = room + 1
        for text in rendered:
            text = cut_text(text, room, self.counter)
            size = self.counter.count_text(text) + 2
            if used + size > room:
                chunks.append([])
                used = 0
            chunks[-1].append(text)
            used += size
        return chunks


def _render_turn(turn: Sequence[BaseMessage]) -> str:
    """One turn as plain text for the summariser: the model's words, its calls, the results."""
    lines = []
    for message in turn:
        text = message.content if isinstance(message.content, str) else json.dumps(
            message.content, ensure_ascii=False)
        if isinstance(message, AIMessage):
            if text.strip():
                lines.append(f"coder: {text.strip()}")
            lines += [f"coder calls {call['name']}"
                      f" {json.dumps(call['args'], ensure_ascii=False)}"
                      for call in message.tool_calls]
        elif isinstance(message, ToolMessage):
            lines.append(f"result: {text}")
        else:
            lines.append(f"{message.type}: {text}")
    return "\n".join(lines)
