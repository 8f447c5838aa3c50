"""The conversation area (U1): messages in a centred column that follows the newest one.

:class:`ChatView` shows a chat's messages (one :class:`~ui.desktop.chat.message.MessageWidget`
each) in a scroll area:

- opening a chat creates widgets for the newest :data:`PAGE` messages only; scrolling to the
  top (or "Load earlier messages") adds the previous page and keeps what was on screen in
  place, so a 1,000-message chat opens as fast as a 40-message one;
- it keeps to the bottom while new content arrives (a jump per change: an animation would
  repaint the whole view every frame of a stream), unless the person scrolled up; a
  floating button then brings them back;
- streamed text (:meth:`ChatView.append_stream`) is collected and flushed every
  :data:`FLUSH_MS` milliseconds by a single-shot timer; a flush re-renders only the last,
  still-open Markdown block of each streaming message (finished blocks keep their widgets,
  an open code fence grows its code block line by line). A flush works for at most about
  :data:`FLUSH_BUDGET_MS` ms and makes at most :data:`MAX_NEW_WIDGETS` new blocks; a stream
  faster than that (a benchmark, not a model) is caught up by the next flushes, so the window
  stays responsive however long the answer or however fast it arrives;
- :meth:`ChatView.set_busy` shows the "thinking" line with a typing indicator;
- the first time the view is shown it starts the code highlighting's idle warm-up
  (:func:`~ui.desktop.chat.code_block.warm_up_highlighting`), which streaming and opening a
  chat keep postponed.

Measuring the longest event-loop stall while an answer streams (what ``benchmarks/gui.py``
does): drive :meth:`ChatView.append_stream` from a ``QTimer`` (as the engine's events arrive
on the GUI thread) and watch a heartbeat timer's lateness. Add the answer's message and let
the window paint once first and the highlighting warm up
(:func:`~ui.desktop.chat.code_block.highlighting_warm`), so imports, the first paint and the
lexers' compilation are not counted; on a busy machine, ``time.thread_time()`` beside
``time.perf_counter()`` separates our own work from waiting for a CPU::

    view = ChatView(); view.resize(1280, 800); view.show()
    view.add_message(Message(message_id="a", chat_id="c", role="assistant",
                             created_at="2025-01-01T00:00:00Z"))
    app.processEvents()
    tokens = [...]                       # 20,000 small strings of Markdown
    stall = [0.0]; last = [time.perf_counter()]

    def beat():                          # a 5 ms heartbeat; lateness = a stall
        now = time.perf_counter()
        stall[0] = max(stall[0], now - last[0] - 0.005); last[0] = now

    def feed():                          # 20 tokens per tick, as fast as the loop runs
        for _ in range(20):
            if tokens:
                view.append_stream("a", tokens.pop(0))
        if not tokens:
            feeder.stop()

    heart = QTimer(interval=5, timeout=beat); feeder = QTimer(interval=0, timeout=feed)
    heart.start(); feeder.start()
    while feeder.isActive() or view.pending_stream():
        app.processEvents(QEventLoop.AllEvents, 50)
    print(f"longest stall {stall[0] * 1000:.0f} ms, longest flush {view.max_flush_ms:.0f} ms")

``tests/unit/test_desktop_chat_view.py`` has the same loop as ``measure_stream_stall``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEasingCurve, QEvent, QPropertyAnimation, Qt, QTimer, Signal
from PySide6.QtGui import QFontInfo, QPalette, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGraphicsDropShadowEffect,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.desktop.chat.code_block import code_block_style, postpone_warm_up, warm_up_highlighting
from ui.desktop.chat.markdown import Code, to_segments
from ui.desktop.chat.message import MessageWidget, action_inset, em, message_style
from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon

if TYPE_CHECKING:
    from graph.chats import BranchInfo, Message

__all__ = ["CATCH_UP_MS", "FLUSH_BUDGET_MS", "FLUSH_MS", "MAX_NEW_WIDGETS", "PAGE",
           "READABLE_WIDTH_EM", "SLICE_CHARS", "ChatView"]

#: Messages created at a time (the newest page first, earlier ones on scrolling up).
PAGE = 40
#: Streamed text is flushed to the widgets at most this often (milliseconds).
FLUSH_MS = 50
#: A flush stops after about this long (milliseconds) and leaves the rest for the next one.
FLUSH_BUDGET_MS = 6
#: Streamed text is fed to the Markdown renderer in slices of at most this many characters.
SLICE_CHARS = 240
#: A flush stops after making this many new block widgets (their first layout and paint
#: come after the flush, so they count as well).
MAX_NEW_WIDGETS = 3
#: The next flush, when text is left over, comes this soon (milliseconds).
CATCH_UP_MS = 16
#: The column's maximum width, in multiples of the font's pixel size.
READABLE_WIDTH_EM = 52
#: After loading earlier messages, the view keeps its place while the layout settles: until
#: this long after the last change of the scroll range (milliseconds)...
ANCHOR_SETTLE_MS = 250
#: ...or this long when the range does not change at all.
ANCHOR_WAIT_MS = 2000
#: The typing indicator's step (milliseconds).
DOTS_MS = 400
#: The code highlighting's warm-up starts this long after the view is first shown (ms).
WARM_UP_DELAY_MS = 800

register({
    "Thinking": "Думаю",
    "MultiCoder is working": "MultiCoder работает",
    "Load earlier messages": "Показать более ранние сообщения",
    "Show the earlier messages of this chat": "Показать более ранние сообщения этого чата",
    "Scroll to the newest message": "Прокрутить к последнему сообщению",
    "Conversation": "Переписка",
})


def _scroll_bar_style(palette: QPalette) -> str:
    """Thin scroll bars for the chat and its code blocks, coloured from ``palette``.

    Also much cheaper to paint than the style's own (a few hundredths of a millisecond
    instead of several milliseconds, at every step of a streamed answer).
    """
    R = QPalette.ColorRole  # noqa: N806
    handle = palette.color(R.Mid).name()
    hover = palette.color(R.Dark if palette.color(R.Window).lightness() >= 128
                          else R.Light).name()
    back = palette.color(R.Window).name()
    return (
        f"QScrollBar:vertical {{ background: {back}; width: 0.75em; margin: 0; }}"
        f" QScrollBar:horizontal {{ background: {back}; height: 0.75em; margin: 0; }}"
        f" QScrollBar::handle {{ background: {handle}; border-radius: 0.25em;"
        " margin: 0.125em; }"
        " QScrollBar::handle:vertical { min-height: 2em; }"
        " QScrollBar::handle:horizontal { min-width: 2em; }"
        f" QScrollBar::handle:hover, QScrollBar::handle:pressed {{ background: {hover}; }}"
        " QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; border: none; }"
        " QScrollBar::add-page, QScrollBar::sub-page { background: none; }"
    )


class ChatView(Retranslatable, QWidget):
    """The messages of one chat (see the module docstring).

    Signals:
        regenerateRequested(): the person asked to answer the last message again.
        editRequested(str message_id, str text): an earlier message of the person's was
            edited (the caller forks a new branch).
        branchRequested(str message_id, int index): show the sibling ``index`` (1-based,
            as :attr:`graph.chats.BranchInfo.index`) of ``message_id``.
        decisionRequested(str message_id, object decision): a card was answered
            (``decision`` is the card's decision dict).
        linkActivated(str url): a link in a message was clicked.

    Attributes:
        flush_count: streamed-text flushes so far; max_flush_ms / last_flush_ms: the
            longest and the latest flush's duration in milliseconds (for benchmarks).
        scroll_area, scroll_button (the floating "scroll to bottom"), thinking (the busy
        line), load_earlier_button.

    """

    regenerateRequested = Signal()
    editRequested = Signal(str, str)
    branchRequested = Signal(str, int)
    decisionRequested = Signal(str, object)
    linkActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._messages: list[Message] = []
        self._widgets: dict[str, MessageWidget] = {}
        self._loaded_from = 0
        self._branch_info: Callable[[str], BranchInfo] | None = None
        self._pending: dict[str, list[str]] = {}
        self._busy = False
        self._stick = True
        self._anchor: int | None = None
        self._dots = 0
        self._sheet = ""
        self.flush_count = 0
        self.max_flush_ms = 0.0
        self.last_flush_ms = 0.0

        self.scroll_area = QScrollArea(self)
        self.scroll_area.setObjectName("chatScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._canvas = QWidget()
        self._canvas.setObjectName("chatCanvas")
        self._canvas.setAutoFillBackground(True)  # opaque: scrolling can move pixels
        self._column = QWidget(self._canvas)
        self._column.setObjectName("chatColumn")
        self._column.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        centre = QHBoxLayout(self._canvas)
        centre.setContentsMargins(0, 0, 0, 0)
        centre.addStretch(1)
        centre.addWidget(self._column, 100)
        centre.addStretch(1)

        self.load_earlier_button = QPushButton(self._column)
        self.load_earlier_button.clicked.connect(self.load_earlier)
        self.load_earlier_button.hide()
        self._list = QVBoxLayout()
        self._list.setContentsMargins(0, 0, 0, 0)
        self.thinking = QWidget(self._column)
        self.thinking.setObjectName("thinking")
        self._thinking_label = QLabel(self.thinking)
        self._thinking_label.setObjectName("thinkingLabel")
        self._dots_label = QLabel(self.thinking)
        self._dots_label.setObjectName("thinkingLabel")
        thinking = QHBoxLayout(self.thinking)
        thinking.setContentsMargins(0, 0, 0, 0)
        thinking.setSpacing(0)
        thinking.addWidget(self._thinking_label)
        thinking.addWidget(self._dots_label)
        thinking.addStretch(1)
        self.thinking.hide()
        self._dots_timer = QTimer(self)
        self._dots_timer.setInterval(DOTS_MS)
        self._dots_timer.timeout.connect(self._next_dots)

        column = QVBoxLayout(self._column)
        column.addWidget(self.load_earlier_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addLayout(self._list)
        column.addWidget(self.thinking)
        column.addStretch(1)
        self._column_layout = column
        self.scroll_area.setWidget(self._canvas)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll_area)

        self.scroll_button = QToolButton(self)
        self.scroll_button.setObjectName("scrollToBottom")
        self.scroll_button.setIcon(icon("arrow-down"))
        self.scroll_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.scroll_button.clicked.connect(lambda: self.scroll_to_bottom())
        self._shadow = QGraphicsDropShadowEffect(self.scroll_button)
        self.scroll_button.setGraphicsEffect(self._shadow)
        self.scroll_button.hide()

        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self.flush)
        self._anchor_timer = QTimer(self)
        self._anchor_timer.setSingleShot(True)
        self._anchor_timer.timeout.connect(self._drop_anchor)

        bar = self.scroll_area.verticalScrollBar()
        self._animation = QPropertyAnimation(bar, b"value", self)
        self._animation.setDuration(140)
        self._animation.setEasingCurve(QEasingCurve.Type.OutCubic)
        self._setting = False
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)

        self._apply_sizes()
        self._restyle()
        self.retranslate()

    # -- content ---------------------------------------------------------------------------

    def set_messages(self, messages: list[Message],
                     branch_info: Callable[[str], BranchInfo]) -> None:
        """Show a chat: ``messages`` in order (root to head).

        ``branch_info(message_id)`` gives a message's :class:`graph.chats.BranchInfo`; it is
        asked only for the messages shown. Widgets are made for the newest :data:`PAGE`
        messages; older ones follow when the person scrolls up.
        """
        self.clear()
        postpone_warm_up()
        self._messages = list(messages)
        self._branch_info = branch_info
        self._loaded_from = max(0, len(self._messages) - PAGE)
        self._canvas.setUpdatesEnabled(False)
        try:
            for index, message in enumerate(self._messages[self._loaded_from:]):
                self._insert(self._loaded_from + index, message)
        finally:
            self._canvas.setUpdatesEnabled(True)
        self._update_last_answer()
        self._update_load_earlier()
        self._stick = True
        self.scroll_to_bottom(animate=False)

    def add_message(self, message: Message, branch: BranchInfo | None = None) -> None:
        """Append a message at the end (an existing id is updated instead)."""
        if self._find(message.message_id) >= 0:
            self.update_message(message)
            return
        self._messages.append(message)
        widget = self._insert(len(self._messages) - 1, message, branch, ask=False)
        if branch is None and self._branch_info is not None:
            widget.set_branch(self._safe_branch(message.message_id))
        if message.role == "user":
            self._stick = True
        self._update_last_answer()

    def update_message(self, message: Message) -> None:
        """Redraw one message.

        A streamed answer whose new content is what was streamed (shown plus still pending)
        keeps streaming its pending text; other content replaces the streamed text.
        """
        index = self._find(message.message_id)
        if index < 0:
            return
        self._messages[index] = message
        widget = self._widgets.get(message.message_id)
        if widget is None:
            self._pending.pop(message.message_id, None)
            return
        pending = "".join(self._pending.get(message.message_id, []))
        if pending and message.content != widget.text() + pending:
            del self._pending[message.message_id]
            pending = ""
        widget.set_message(message, pending=pending)
        self._update_last_answer()

    def append_stream(self, message_id: str, delta: str) -> None:
        """Add streamed text to a message's answer; shown at the next flush (~50 ms).

        An unknown ``message_id`` starts a new answer at the end of the chat.
        """
        if not delta:
            return
        if message_id not in self._widgets and self._find(message_id) < 0:
            from graph.chats import Message

            chat_id = self._messages[-1].chat_id if self._messages else ""
            self.add_message(Message(message_id=message_id, chat_id=chat_id,
                                     role="assistant", kind="text", content="",
                                     created_at=""))
        self._pending.setdefault(message_id, []).append(delta)
        if not self._flush_timer.isActive():
            self._flush_timer.start(FLUSH_MS)

    def pending_stream(self) -> bool:
        """Whether streamed text waits for the next flush."""
        return bool(self._pending)

    def flush(self) -> None:
        """Show streamed text collected so far (the timer calls this).

        One flush works for about :data:`FLUSH_BUDGET_MS` milliseconds, in slices of
        :data:`SLICE_CHARS` characters; text left over (a stream faster than the screen) is
        shown by the next flush, :data:`CATCH_UP_MS` later, so the window never stalls.
        """
        self._flush_timer.stop()
        if not self._pending:
            return
        postpone_warm_up()
        started = time.perf_counter()
        budget = FLUSH_BUDGET_MS / 1000
        for message_id in list(self._pending):
            text = "".join(self._pending.pop(message_id))
            widget = self._widgets.get(message_id)
            if widget is None:
                index = self._find(message_id)
                if index >= 0:
                    old = self._messages[index]
                    self._messages[index] = old.model_copy(
                        update={"content": old.content + text})
                continue
            body = widget.markdown()
            made = body.widgets_made() if body is not None else 0
            done = 0
            while done < len(text) and (done == 0 or (
                    time.perf_counter() - started < budget
                    and (body is None or body.widgets_made() - made < MAX_NEW_WIDGETS))):
                widget.append_text(text[done:done + SLICE_CHARS])
                done += SLICE_CHARS
            if done < len(text):
                self._pending[message_id] = [text[done:]]
        self.flush_count += 1
        self.last_flush_ms = (time.perf_counter() - started) * 1000
        self.max_flush_ms = max(self.max_flush_ms, self.last_flush_ms)
        if self._pending:
            self._flush_timer.start(CATCH_UP_MS)

    def set_busy(self, busy: bool) -> None:
        """Show or hide the "thinking" line (while busy, Regenerate is not offered)."""
        self._busy = busy
        self.thinking.setVisible(busy)
        if busy:
            self._dots = 0
            self._next_dots()
            self._dots_timer.start()
        else:
            self._dots_timer.stop()
        for widget in self._widgets.values():
            widget.set_busy(busy)

    def is_busy(self) -> bool:
        """Whether the thinking line is shown."""
        return self._busy

    def clear(self) -> None:
        """Remove every message (streamed text not yet shown is dropped)."""
        self._pending.clear()
        self._flush_timer.stop()
        for widget in self._widgets.values():
            self._list.removeWidget(widget)
            widget.deleteLater()
        self._widgets.clear()
        self._messages = []
        self._loaded_from = 0
        self._branch_info = None
        self._update_load_earlier()

    def messages(self) -> list[Message]:
        """Every message of the chat, loaded or not, as last given."""
        return list(self._messages)

    def message_widgets(self) -> list[MessageWidget]:
        """The widgets made so far, top to bottom."""
        return [self._widgets[m.message_id] for m in self._messages[self._loaded_from:]
                if m.message_id in self._widgets]

    def widget_for(self, message_id: str) -> MessageWidget | None:
        """The widget of a message (None when not loaded or unknown)."""
        return self._widgets.get(message_id)

    def card_for(self, message_id: str) -> QWidget | None:
        """The card widget of a card message, to call ``set_answered``/``reopen`` on.

        None for text and progress messages, and for messages not loaded.
        """
        widget = self._widgets.get(message_id)
        if widget is None or widget.message().kind in ("text", "progress"):
            return None
        return widget.body

    def last_answer_text(self) -> str:
        """The text of the last answer (Markdown, including streamed text; ``""``: none)."""
        for message in reversed(self._messages):
            if message.role == "assistant" and message.kind == "text":
                widget = self._widgets.get(message.message_id)
                text = widget.text() if widget is not None else message.content
                if text.strip():
                    return text
        return ""

    def last_code_block(self) -> str:
        """The code of the last code block in the chat (``""``: none)."""
        for message in reversed(self._messages):
            if message.kind != "text" or message.role == "system":
                continue
            widget = self._widgets.get(message.message_id)
            if widget is not None and widget.markdown() is not None:
                blocks = widget.code_blocks()
                if blocks:
                    return blocks[-1].text()
                continue
            codes = [s for s in to_segments(message.content) if isinstance(s, Code)]
            if codes:
                return codes[-1].text
        return ""

    def load_earlier(self) -> None:
        """Add the previous :data:`PAGE` messages at the top, keeping the view in place."""
        if self._loaded_from == 0:
            return
        bar = self.scroll_area.verticalScrollBar()
        self._anchor = bar.maximum() - bar.value()
        start = max(0, self._loaded_from - PAGE)
        for offset, message in enumerate(self._messages[start:self._loaded_from]):
            self._insert(start + offset, message, position=offset)
        self._loaded_from = start
        self._update_load_earlier()
        self._update_last_answer()
        # kept while the new page settles: dropped a moment after the last range change it
        # caused (or, if none comes, after a longer wait)
        self._anchor_timer.start(ANCHOR_WAIT_MS)

    # -- scrolling -------------------------------------------------------------------------

    def scroll_to_bottom(self, animate: bool = True) -> None:
        """Scroll to the newest message and follow it again."""
        self._stick = True
        bar = self.scroll_area.verticalScrollBar()
        target = bar.maximum()
        self._animation.stop()
        viewport = self.scroll_area.viewport().height()
        if animate and self.isVisible() and 0 < target - bar.value() < viewport // 2:
            self._animation.setStartValue(bar.value())
            self._animation.setEndValue(target)
            self._animation.start()
        else:
            self._set_value(target)
        self._update_scroll_button()

    def at_bottom(self) -> bool:
        """Whether the view shows the end of the chat."""
        bar = self.scroll_area.verticalScrollBar()
        return bar.value() >= bar.maximum() - em(self)

    def _set_value(self, value: int) -> None:
        self._setting = True
        try:
            self.scroll_area.verticalScrollBar().setValue(value)
        finally:
            self._setting = False

    def _scrolled(self, value: int) -> None:
        running = self._animation.state() == QPropertyAnimation.State.Running
        if running and value != self._animation.currentValue():
            self._animation.stop()  # the person scrolled during the animation
            running = False
        if not self._setting and not running:
            self._stick = self.at_bottom()
            if self._anchor is not None and value != self.scroll_area.verticalScrollBar() \
                    .maximum() - self._anchor:
                self._drop_anchor()
            if value == 0 and self._loaded_from > 0 and self._anchor is None \
                    and self.scroll_area.verticalScrollBar().maximum() > 0:
                QTimer.singleShot(0, self.load_earlier)
        self._update_scroll_button()

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        if self._anchor is not None:
            self._set_value(max(0, maximum - self._anchor))
            self._anchor_timer.start(ANCHOR_SETTLE_MS)
        elif self._stick:
            self.scroll_to_bottom(animate=False)
        self._update_scroll_button()

    def _drop_anchor(self) -> None:
        self._anchor = None
        self._anchor_timer.stop()

    def _update_scroll_button(self) -> None:
        bar = self.scroll_area.verticalScrollBar()
        show = bar.maximum() - bar.value() > 2 * em(self) and not self._stick
        if show != self.scroll_button.isVisible():
            self.scroll_button.setVisible(show)
            if show:
                self._place_scroll_button()
                self.scroll_button.raise_()

    def _place_scroll_button(self) -> None:
        size = self.scroll_button.sizeHint()
        viewport = self.scroll_area.viewport().geometry()
        x = viewport.x() + (viewport.width() - size.width()) // 2
        y = viewport.y() + viewport.height() - size.height() - em(self)
        self.scroll_button.setGeometry(x, y, size.width(), size.height())

    # -- internals -------------------------------------------------------------------------

    def _find(self, message_id: str) -> int:
        for index in range(len(self._messages) - 1, -1, -1):
            if self._messages[index].message_id == message_id:
                return index
        return -1

    def _safe_branch(self, message_id: str) -> BranchInfo | None:
        if self._branch_info is None:
            return None
        try:
            return self._branch_info(message_id)
        except Exception:  # a missing branch record must not break the chat
            return None

    def _insert(self, index: int, message: Message, branch: BranchInfo | None = None, *,
                ask: bool = True, position: int | None = None) -> MessageWidget:
        if ask and branch is None:
            branch = self._safe_branch(message.message_id)
        widget = MessageWidget(message, branch, self._column)
        widget.set_busy(self._busy)
        widget.editRequested.connect(self.editRequested)
        widget.branchRequested.connect(self.branchRequested)
        widget.regenerateRequested.connect(self.regenerateRequested)
        widget.linkActivated.connect(self.linkActivated)
        widget.decisionRequested.connect(self.decisionRequested)
        self._widgets[message.message_id] = widget
        if position is None:
            self._list.addWidget(widget)
        else:
            self._list.insertWidget(position, widget)
        return widget

    def _update_last_answer(self) -> None:
        """Mark the last answer (Regenerate) and the activity lines answered since.

        The last answer is the chat's last message when it is MultiCoder's text: never a
        card (one waiting for the person, or a run's result). An activity line followed by
        a message of the person's (a card's decision, an answer) shows its wait as past.
        """
        last = next((m for m in reversed(self._messages) if m.role != "system"), None)
        last_id = last.message_id if last is not None and last.role == "assistant" \
            and last.kind == "text" else None
        last_user = next((index for index in range(len(self._messages) - 1, -1, -1)
                          if self._messages[index].role == "user"), -1)
        for index in range(self._loaded_from, len(self._messages)):
            message = self._messages[index]
            widget = self._widgets.get(message.message_id)
            if widget is not None:
                widget.set_last_answer(message.message_id == last_id)
                if message.kind == "progress":
                    widget.set_answered(index < last_user)

    def _update_load_earlier(self) -> None:
        self.load_earlier_button.setVisible(self._loaded_from > 0)

    def _next_dots(self) -> None:
        self._dots = self._dots % 3 + 1
        self._dots_label.setText(" " + "·" * self._dots)

    def _apply_sizes(self) -> None:
        unit = em(self)
        pixel = QFontInfo(self.font()).pixelSize()
        self._column.setMaximumWidth(READABLE_WIDTH_EM * pixel)
        # messages indent their content by the inset (their action rows start left of it)
        inset = action_inset(self)
        self._column_layout.setContentsMargins(unit - inset, unit, unit, 2 * unit)
        thinking = self.thinking.layout()
        if thinking is not None:
            thinking.setContentsMargins(inset, 0, 0, 0)
        self._column_layout.setSpacing(unit)
        self._list.setSpacing(int(unit * 1.8))
        side = int(unit * 3)
        self.scroll_button.setIconSize(self.scroll_button.iconSize().scaled(
            side // 2, side // 2, Qt.AspectRatioMode.KeepAspectRatio))
        self.scroll_button.setFixedSize(side, side)
        self._shadow.setBlurRadius(int(unit * 1.2))
        self._shadow.setOffset(0, max(1, unit // 8))

    def retranslate(self) -> None:
        """Set the visible texts in the current language."""
        self._thinking_label.setText(tr("Thinking"))
        self.thinking.setAccessibleName(tr("MultiCoder is working"))
        self.thinking.setToolTip(tr("MultiCoder is working"))
        self.load_earlier_button.setText(tr("Load earlier messages"))
        self.load_earlier_button.setToolTip(tr("Show the earlier messages of this chat"))
        self.load_earlier_button.setAccessibleName(tr("Load earlier messages"))
        self.scroll_button.setToolTip(tr("Scroll to the newest message"))
        self.scroll_button.setAccessibleName(tr("Scroll to the newest message"))
        self.scroll_area.setAccessibleName(tr("Conversation"))

    def showEvent(self, event: QShowEvent) -> None:
        """The first time: prepare the code highlighting once the window is idle."""
        super().showEvent(event)
        warm_up_highlighting(WARM_UP_DELAY_MS)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the floating button centred above the bottom edge."""
        super().resizeEvent(event)
        self._place_scroll_button()

    def changeEvent(self, event: QEvent) -> None:
        """Restyle on palette changes; resize on font changes."""
        super().changeEvent(event)
        kind = event.type()
        if kind in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._restyle()
        elif kind == QEvent.Type.FontChange:
            self._apply_sizes()

    def _restyle(self) -> None:
        palette = QApplication.palette()
        R = QPalette.ColorRole  # noqa: N806
        radius = self.scroll_button.width() // 2
        sheet = (
            f"QWidget#chatCanvas {{ background: {palette.color(R.Window).name()}; }}"
            f" QLabel#thinkingLabel {{ color: {palette.color(R.PlaceholderText).name()}; }}"
            f" QToolButton#scrollToBottom {{ background: {palette.color(R.Base).name()};"
            f" border: 1px solid {palette.color(R.Mid).name()}; border-radius: {radius}px;"
            " padding: 0; }"
            f" QToolButton#scrollToBottom:hover {{"
            f" background: {palette.color(R.Midlight).name()}; }}"
            f" {_scroll_bar_style(palette)}"
            f" {message_style(palette, em(self))} {code_block_style(palette)}"
        )
        shadow = palette.color(R.Shadow)
        shadow.setAlpha(120)
        self._shadow.setColor(shadow)
        if sheet != self._sheet:
            self._sheet = sheet
            self.setStyleSheet(sheet)
