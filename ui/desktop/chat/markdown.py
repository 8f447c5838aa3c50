"""Markdown to display segments, whole or while it streams (U1).

A message's Markdown becomes a list of segments: :class:`Prose` (HTML for a rich-text label)
and :class:`Code` (a top-level code fence, shown by its own widget with a language label and
highlighting). Both are tuples, so ``Prose("prose", html) == ("prose", html)`` and
``Code("code", language, text) == ("code", language, text)``.

Parsing uses markdown-it-py's CommonMark preset with tables and strikethrough; raw HTML is
off (a ``<b>`` in a message is shown as text), links are not auto-detected, and images become
plain links (a message never makes the app load a file or a URL by itself).

While an answer streams, :class:`MarkdownStream` keeps the text it has seen and splits it into
*finished* blocks (which never change again: their widgets are frozen) and the *open* block,
the last one, which is re-rendered on each flush. An unclosed code fence is an open
:class:`Code` segment that grows; it is tracked line by line without re-parsing its text, so a
long streamed code block costs the same per flush as a short one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["Code", "MarkdownStream", "Prose", "Segment", "StreamUpdate", "split_open",
           "to_segments"]


class Prose(NamedTuple):
    """Rendered prose: ``("prose", html)`` (HTML of one or more Markdown blocks)."""

    kind: Literal["prose"]
    html: str


class Code(NamedTuple):
    """A code fence: ``("code", language, text)``.

    ``language`` may be ``""``; ``text`` has no final newline.
    """

    kind: Literal["code"]
    language: str
    text: str


Segment = Prose | Code


def _image_as_link(_renderer: Any, tokens: Sequence[Token], idx: int, options: Any,
                   env: Any) -> str:
    token = tokens[idx]
    src = html.escape(str(token.attrGet("src") or ""), quote=True)
    alt = html.escape(token.content or src)
    return f'<a href="{src}">{alt}</a>'


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_as_link)
    return md


_MD = _parser()

#: An opening code fence line: indent, fence, info string.
_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")


def _language(info: str) -> str:
    return info.strip().split(maxsplit=1)[0] if info.strip() else ""


def _render(tokens: list[Token]) -> str:
    return str(_MD.renderer.render(tokens, _MD.options, {})).strip()


def to_segments(text: str) -> list[Segment]:
    """The display segments of Markdown ``text``, in order.

    Top-level code fences (and indented code blocks) become :class:`Code` segments; every run
    of other blocks becomes one :class:`Prose` segment of HTML. Fences nested in lists or
    quotes stay in the prose as ``<pre>``. Empty or blank text gives ``[]``. Never raises on
    any input (Markdown has no syntax errors).
    """
    tokens = _MD.parse(text.replace("\r\n", "\n").replace("\r", "\n"))
    segments: list[Segment] = []
    pending: list[Token] = []
    for token in tokens:
        if token.level == 0 and token.type in ("fence", "code_block"):
            if pending:
                segments.append(Prose("prose", _render(pending)))
                pending = []
            code = token.content[:-1] if token.content.endswith("\n") else token.content
            segments.append(Code("code", _language(token.info), code))
        else:
            pending.append(token)
    if pending:
        prose = _render(pending)
        if prose:
            segments.append(Prose("prose", prose))
    return segments


def _line_starts(text: str) -> list[int]:
    starts = [0]
    start = text.find("\n")
    while start != -1:
        starts.append(start + 1)
        start = text.find("\n", start + 1)
    return starts


def split_open(text: str) -> tuple[str, str]:
    """Split streamed Markdown into ``(finished, open)``, ``finished + open == text``.

    ``finished`` holds the complete top-level blocks: a block is complete once a later block
    has started, so nothing that arrives later can change how it renders. ``open`` is the
    last block (possibly cut mid-line), which may still change. Only complete lines decide
    where blocks start (a cut line belongs to ``open``), and ``finished`` always ends at a
    line boundary. Text with fewer than two blocks is all ``open``.
    """
    complete = text[:text.rfind("\n") + 1]
    starts = [token.map[0] for token in _MD.parse(complete)
              if token.level == 0 and token.nesting >= 0 and token.map is not None]
    if len(starts) < 2:
        return "", text
    offset = _line_starts(text)[starts[-1]]
    return text[:offset], text[offset:]


@dataclass
class _Fence:
    """An open code fence of the stream: where it starts and how it must close."""

    start: int  # offset of the opening line
    indent: int
    char: str
    length: int
    content_start: int  # offset after the opening line's newline (-1: line not complete yet)
    language: str
    scan: int  # offset of the first line not yet checked for a closing fence


@dataclass
class StreamUpdate:
    """What one :meth:`MarkdownStream.feed` changed.

    Attributes:
        finished: segments completed by this feed, in order; they never change again. The
            first ones may complete segments that were open before.
        open: the segments after them that may still change (usually one, the last block;
            two when a cut last line starts a new block; none for an empty tail). A display
            keeps one widget per segment of ``finished + open`` and re-renders only those.

    """

    finished: list[Segment]
    open: list[Segment]


class MarkdownStream:
    """Incremental Markdown for a streamed answer (pure: no Qt).

    ``feed(delta)`` adds text and returns a :class:`StreamUpdate`. The work per feed is
    proportional to the open block, not to the whole answer: finished blocks are never
    parsed again, and an unclosed code fence is scanned only on its new lines.
    """

    def __init__(self) -> None:
        self.text = ""
        #: ``text[:frozen]`` is covered by finished segments.
        self.frozen = 0
        self._fence: _Fence | None = None

    def feed(self, delta: str) -> StreamUpdate:
        """Append ``delta`` (any size, may cut lines or words) and split again."""
        self.text += delta.replace("\r", "")
        finished: list[Segment] = []
        while True:
            if self._fence is not None:
                fence = self._fence
                closed = self._advance_fence(fence)
                if closed is not None:
                    finished.append(closed)
                    continue
                if self._fence is fence:
                    return StreamUpdate(finished, [self._fence_segment(fence, None)])
            tail = self.text[self.frozen:]
            done, open_part = split_open(tail)
            if done:
                finished.extend(to_segments(done))
                self.frozen += len(done)
            opened = self._open_fence(self.frozen)
            if opened is not None:
                self._fence = opened
                continue
            return StreamUpdate(finished, to_segments(open_part))

    def _open_fence(self, start: int) -> _Fence | None:
        end = self.text.find("\n", start)
        line = self.text[start:] if end == -1 else self.text[start:end]
        match = _FENCE_OPEN.match(line)
        if match is None:
            return None
        indent, fence, info = match.groups()
        if fence[0] == "`" and "`" in info:
            return None  # not a fence: inline code
        content_start = -1 if end == -1 else end + 1
        return _Fence(start, len(indent), fence[0], len(fence), content_start,
                      _language(info), content_start)

    def _advance_fence(self, fence: _Fence) -> Code | None:
        """Look for the closing line in new complete lines; the finished segment or None."""
        if fence.content_start == -1:
            update = self._open_fence(fence.start)
            if update is None:  # "``" then "x": was not a fence after all
                self._fence = None
                return None
            if update.content_start == -1:
                fence.language = update.language
                return None
            fence.content_start = fence.scan = update.content_start
            fence.language = update.language
        closing = re.compile(r" {0,3}" + re.escape(fence.char) + "{" + str(fence.length)
                             + r",}[ \t]*")
        while True:
            end = self.text.find("\n", fence.scan)
            if end == -1:
                return None
            if closing.fullmatch(self.text, fence.scan, end):
                segment = self._fence_segment(fence, fence.scan)
                self.frozen = end + 1
                self._fence = None
                return segment
            fence.scan = end + 1

    def _fence_segment(self, fence: _Fence, close: int | None) -> Code:
        """The code so far (``close``: offset of the closing line, or None while open)."""
        if fence.content_start == -1:
            return Code("code", fence.language, "")
        if close is None:
            body = self.text[fence.content_start:]
            last = body.rfind("\n") + 1
            partial = body[last:]
            # hold back a partial last line that may become the closing fence
            if partial and re.fullmatch(r" {0,3}" + re.escape(fence.char) + "*", partial):
                body = body[:last]
        else:
            body = self.text[fence.content_start:close]
        if body.endswith("\n"):
            body = body[:-1]
        if fence.indent:
            pattern = re.compile(rf"^ {{1,{fence.indent}}}", re.MULTILINE)
            body = pattern.sub("", body)
        return Code("code", fence.language, body)
