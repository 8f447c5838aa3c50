"""One message of the chat view (U1): prose, code blocks, activity, cards, and its actions.

:class:`MessageWidget` draws one :class:`graph.chats.Message`:

- ``text`` from the person: a right-aligned bubble of plain text; Edit opens an inline editor
  (Save emits ``editRequested``, which forks a new branch);
- ``text`` from MultiCoder: full-width Markdown (:class:`MarkdownBody`: rich-text prose and a
  :class:`~ui.desktop.chat.code_block.CodeBlock` per code fence), which can grow while the
  answer streams (:meth:`MessageWidget.append_text`);
- ``progress``: a compact activity line that opens the node-by-node list of events;
- ``system`` text: a muted notice;
- any other kind: the card made by :func:`ui.desktop.chat.cards.make_card`.

Under a message, an actions row (shown on hover or keyboard focus, always for the last
answer): Copy, Edit (the person's messages), Regenerate (the last answer), and the branch
switcher ``‹ n/m ›`` when the message has siblings.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QEnterEvent,
    QFocusEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.desktop.chat.code_block import COPIED_MS, CodeBlock
from ui.desktop.chat.code_block import shared_icon as _icon
from ui.desktop.chat.markdown import Code, MarkdownStream, Prose, Segment, StreamUpdate, to_segments
from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon

if TYPE_CHECKING:
    from graph.chats import BranchInfo, Message

__all__ = ["CachedVBox", "MarkdownBody", "MessageWidget", "ProseLabel", "action_inset",
           "describe_event", "em", "message_style", "prose_style"]

register({
    "Copy message": "Копировать сообщение",
    "Copied": "Скопировано",
    "Edit message": "Изменить сообщение",
    "Regenerate answer": "Ответить заново",
    "Previous version": "Предыдущая версия",
    "Next version": "Следующая версия",
    "Version {index} of {count}": "Версия {index} из {count}",
    "Save": "Сохранить",
    "Cancel": "Отмена",
    "Save the edited message and answer it again": "Сохранить изменённое сообщение и ответить"
                                                    " заново",
    "Cancel editing": "Отменить изменения",
    "Edited message": "Изменённое сообщение",
    "Show activity": "Показать ход работы",
    "Hide activity": "Скрыть ход работы",
    "Working": "Работаю",
    "Message from you": "Ваше сообщение",
    "Answer": "Ответ",
    "Notice": "Уведомление",
    "No activity yet.": "Пока ничего не произошло.",
    "waited for your answer": "ждал вашего ответа",
    "{node} started": "{node}: начало",
    "{node} finished in {seconds} s": "{node}: готово за {seconds} с",
    "{check} ({seconds} s, {findings} findings)": "{check} ({seconds} с, замечаний: {findings})",
    "{check} skipped": "{check}: пропущено",
    "round {round}": "раунд {round}",
    "repair round {round}": "раунд исправлений {round}",
    "built {path}": "собрано: {path}",
    "safety gate": "проверка безопасности",
    "confirm start": "подтверждение запуска",
    "spec expander": "уточнение задания",
    "planner": "планирование",
    "approve plan": "утверждение плана",
    "approve fetch": "разрешение на загрузку",
    "coder": "написание кода",
    "paranoid tester": "придирчивое тестирование",
    "ask human": "вопрос человеку",
    "packager": "сборка",
    "reporter": "отчёт",
})


def em(widget: QWidget) -> int:
    """The width of "M" in ``widget``'s font, in pixels (the unit for every size here)."""
    return max(1, widget.fontMetrics().horizontalAdvance("M"))


def prose_style(palette: QPalette, unit: int) -> str:
    """The CSS for rendered prose, from the palette's roles and ``unit`` (1 em in px)."""
    R = QPalette.ColorRole  # noqa: N806
    code_bg = palette.color(R.Midlight).name()
    border = palette.color(R.Mid).name()
    muted = palette.color(R.PlaceholderText).name()
    gap = max(2, unit // 2)
    return (
        f"p {{ margin-top: {gap}px; margin-bottom: {gap}px; }}"
        f" ul, ol {{ margin-top: {gap}px; margin-bottom: {gap}px; }}"
        f" li {{ margin-bottom: {gap // 3}px; }}"
        f" h1, h2, h3, h4 {{ margin-top: {unit}px; margin-bottom: {gap}px; }}"
        f" code {{ background-color: {code_bg}; font-family: monospace; }}"
        f" pre {{ background-color: {code_bg}; font-family: monospace; }}"
        f" blockquote {{ color: {muted}; margin-left: {unit}px; }}"
        f" th {{ background-color: {code_bg}; }}"
        f" hr {{ color: {border}; }}"
    )


def _table_html(html_text: str, palette: QPalette, unit: int) -> str:
    border = palette.color(QPalette.ColorRole.Mid).name()
    return html_text.replace(
        "<table>", f'<table border="1" cellspacing="0" cellpadding="{max(2, unit // 3)}"'
        f' style="border-collapse: collapse; border-color: {border};">')


def message_style(palette: QPalette, unit: int) -> str:
    """The style sheet rules for messages, coloured from ``palette`` (``unit``: 1 em in px).

    The chat view sets them once for all its messages.
    """
    R = QPalette.ColorRole  # noqa: N806
    radius = int(unit * 1.1)
    muted = palette.color(R.PlaceholderText).name()
    return (
        f"QLabel#userBubble {{ background: {palette.color(R.Button).name()};"
        f" color: {palette.color(R.Text).name()}; border-radius: {radius}px; }}"
        f" QLabel#notice, QLabel#branchLabel, QLabel#activityDetails {{ color: {muted}; }}"
        f" QToolButton#activityToggle {{ color: {muted}; }}"
    )


class ProseLabel(QLabel):
    """Rendered Markdown prose: selectable rich text whose links emit ``linkActivated``."""

    #: The width :meth:`sizeHint` asks for before the label is placed, in em.
    HINT_EM = 30

    def __init__(self, html_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._html = ""
        self._placed = False
        self._heights: dict[int, int] = {}
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setOpenExternalLinks(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.set_html(html_text)

    def html(self) -> str:
        """The HTML given (without the style sheet)."""
        return self._html

    def set_html(self, html_text: str, *, force: bool = False) -> None:
        """Show ``html_text`` with the palette's prose style (no-op when unchanged)."""
        if html_text == self._html and not force:
            return
        self._html = html_text
        self._heights.clear()
        palette = QApplication.palette()
        unit = em(self)
        self.setText(f"<html><head><style>{prose_style(palette, unit)}</style></head><body>"
                     f"{_table_html(html_text, palette, unit)}</body></html>")

    def sizeHint(self) -> QSize:
        """The label's width (:data:`HINT_EM` em before it has one), the text's height there.

        QLabel's own hint lays rich text out three times (unwrapped, widest, narrowest:
        ~30 ms for a long table, at every change of a streamed block); the column gives
        prose its whole width anyway, so the width it has and the remembered
        :meth:`heightForWidth` say the same for much less (and the layouts above ask for
        the height at that same width, which is remembered).
        """
        unit = em(self)
        width = self.width() if self._placed and self.width() > 4 * unit \
            else self.HINT_EM * unit
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        """A few em wide and one line high (the height comes from :meth:`heightForWidth`)."""
        return QSize(4 * em(self), self.fontMetrics().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """From now on :meth:`sizeHint` uses the width the layout gave."""
        self._placed = True
        super().resizeEvent(event)

    def heightForWidth(self, width: int) -> int:
        """QLabel's answer, remembered per width (layouts ask many times while settling)."""
        height = self._heights.get(width)
        if height is None:
            if len(self._heights) > 8:
                self._heights.clear()
            height = self._heights[width] = super().heightForWidth(width)
        return height

    def changeEvent(self, event: QEvent) -> None:
        """Forget the remembered heights when the font or style changes."""
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._heights.clear()
        super().changeEvent(event)


class CachedVBox(QVBoxLayout):
    """A vertical layout that remembers its height for several widths until invalidated.

    Qt asks a layout's height for its sizeHint width and for its real width in turn; a
    QBoxLayout remembers only the last width, so every pass walked a long answer's blocks
    again. This cache keeps both, and any change inside (``invalidate``) clears it.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._heights: dict[int, int] = {}

    def heightForWidth(self, width: int) -> int:
        """The layout's height at ``width`` (remembered)."""
        height = self._heights.get(width)
        if height is None:
            if len(self._heights) > 8:
                self._heights.clear()
            height = self._heights[width] = super().heightForWidth(width)
        return height

    def invalidate(self) -> None:
        """Forget the remembered heights (something inside changed)."""
        self._heights.clear()
        super().invalidate()


class MarkdownBody(QWidget):
    """Markdown as a column of widgets.

    A :class:`ProseLabel` per prose run and a :class:`CodeBlock` per code fence. While
    streaming, :meth:`append` re-renders only the open (last) block; finished blocks keep
    their widgets untouched. Widgets are grouped in chunks of :data:`CHUNK` so that adding
    one to a long answer re-lays out one chunk, not every block of the answer.

    Signals:
        linkActivated(str url): a link in the prose was clicked.

    """

    linkActivated = Signal(str)

    #: Segment widgets per chunk.
    CHUNK = 12

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._stream: MarkdownStream | None = None
        self._widgets: list[QWidget] = []
        self._frozen = 0  # widgets[:frozen] never change again
        self._chunks: list[QWidget] = []
        self._made = 0
        self._spacing = max(2, em(self) // 2)
        self._layout = CachedVBox(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(self._spacing)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def text(self) -> str:
        """The Markdown shown (including streamed text)."""
        return self._text

    def code_blocks(self) -> list[CodeBlock]:
        """The code block widgets, in order."""
        return [w for w in self._widgets if isinstance(w, CodeBlock)]

    def segment_widgets(self) -> list[QWidget]:
        """Every segment widget, in order."""
        return list(self._widgets)

    def widgets_made(self) -> int:
        """How many segment widgets were made so far (a streaming flush limits new ones)."""
        return self._made

    def set_markdown(self, text: str) -> None:
        """Render ``text`` from scratch (no-op when it is what is shown)."""
        if text == self._text and self._stream is None:
            return
        self._text = text
        self._stream = None
        self._clear()
        for segment in to_segments(text):
            self._widgets.append(self._make(segment))
        self._frozen = len(self._widgets)

    def append(self, delta: str) -> None:
        """Add streamed text; only the still-open block's widget is re-rendered."""
        if not delta:
            return
        if self._stream is None:
            self._stream = MarkdownStream()
            self._clear()
            update = self._stream.feed(self._text + delta)
        else:
            update = self._stream.feed(delta)
        self._text = self._stream.text
        self._apply(update)

    def restyle(self) -> None:
        """Re-render the prose with the current palette's colours."""
        for widget in self._widgets:
            if isinstance(widget, ProseLabel):
                widget.set_html(widget.html(), force=True)

    def _clear(self) -> None:
        for chunk in self._chunks:
            chunk.hide()
            chunk.deleteLater()
        self._chunks = []
        self._widgets = []
        self._frozen = 0

    def _chunk(self) -> QWidget:
        """The chunk new widgets go into (a new one when the last is full)."""
        last = self._chunks[-1] if self._chunks else None
        layout = last.layout() if last is not None else None
        if last is not None and layout is not None and layout.count() < self.CHUNK:
            return last
        chunk = QWidget(self)
        box = CachedVBox(chunk)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(self._spacing)
        self._layout.addWidget(chunk)
        self._chunks.append(chunk)
        return chunk

    def _make(self, segment: Segment) -> QWidget:
        self._made += 1
        chunk = self._chunk()
        widget: QWidget
        if isinstance(segment, Code):
            widget = CodeBlock(segment.language, segment.text, chunk)
        else:
            label = ProseLabel(segment.html, chunk)
            label.linkActivated.connect(self.linkActivated)
            widget = label
        layout = chunk.layout()
        if layout is not None:
            layout.addWidget(widget)
        return widget

    @staticmethod
    def _drop(widget: QWidget) -> None:
        widget.hide()  # a hidden widget takes no room until it is deleted
        widget.deleteLater()

    def _apply(self, update: StreamUpdate) -> None:
        segments = [*update.finished, *update.open]
        open_widgets = self._widgets[self._frozen:]
        kept: list[QWidget] = []
        for index, segment in enumerate(segments):
            widget = open_widgets[index] if index < len(open_widgets) else None
            if isinstance(segment, Code) and isinstance(widget, CodeBlock):
                widget.set_language(segment.language)
                widget.set_code(segment.text)
                kept.append(widget)
            elif isinstance(segment, Prose) and isinstance(widget, ProseLabel):
                widget.set_html(segment.html)
                kept.append(widget)
            else:
                for stale in open_widgets[index:]:
                    self._drop(stale)
                open_widgets = open_widgets[:index]
                kept.append(self._make(segment))
        for stale in open_widgets[len(segments):]:
            self._drop(stale)
        self._widgets = self._widgets[:self._frozen] + kept
        self._frozen += len(update.finished)


#: How the engine's activity line ends while a run waits for the person (graph.conversation).
WAITING = "waiting for your answer"


def _node(name: object) -> str:
    return tr(str(name or "").replace("_", " "))


def _seconds(value: object) -> str:
    try:
        return f"{float(str(value)) / 1000:.1f}"
    except ValueError:
        return "?"


def describe_event(event: Mapping[str, Any]) -> str | None:
    """One line for a progress event (``None``: not shown in the activity list).

    Shown: ``node_started``, ``node_finished`` (with its duration), ``tool_call`` and
    ``web_action`` (✓/✗, action, target, error), ``check_result`` (✓/✗/–, seconds,
    findings), ``coder_round`` and ``packaging_built``.
    """
    kind = event.get("type")
    if kind == "node_started":
        return "▸ " + tr("{node} started").format(node=_node(event.get("node")))
    if kind == "node_finished":
        return "✓ " + tr("{node} finished in {seconds} s").format(
            node=_node(event.get("node")), seconds=_seconds(event.get("duration_ms") or 0))
    if kind in ("tool_call", "web_action"):
        mark = "✓" if event.get("success", True) else "✗"
        target = str(event.get("target") or event.get("url") or "")[:100]
        line = f"    {mark} {event.get('action') or ''} {target}".rstrip()
        if not event.get("success", True) and event.get("error"):
            line += f" — {str(event.get('error')).splitlines()[0][:160]}"
        return line
    if kind == "check_result":
        if event.get("skipped"):
            return "    – " + tr("{check} skipped").format(check=event.get("check"))
        mark = "✓" if event.get("passed") else "✗"
        return f"    {mark} " + tr("{check} ({seconds} s, {findings} findings)").format(
            check=event.get("check"), seconds=_seconds(event.get("duration_ms") or 0),
            findings=event.get("findings", 0))
    if kind == "coder_round":
        number = event.get("round") or 0
        text = tr("repair round {round}") if number else tr("round {round}")
        return "    " + text.format(round=number)
    if kind == "packaging_built":
        return "    ✓ " + tr("built {path}").format(path=event.get("path"))
    return None


class _ProgressView(QWidget):
    """A compact activity line that opens the node-by-node list of events."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._events: list[Mapping[str, Any]] = []
        self.toggle = QToolButton(self)
        self.toggle.setObjectName("activityToggle")
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setIcon(icon("chevron-right"))
        self.toggle.setCheckable(True)
        self.toggle.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.toggle.toggled.connect(self._toggled)
        self.details = QLabel(self)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setObjectName("activityDetails")
        self.details.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(max(1, em(self) // 4))
        layout.addWidget(self.toggle)
        layout.addWidget(self.details)
        self._summary = ""
        self._answered = False

    def set_progress(self, summary: str, events: list[Mapping[str, Any]]) -> None:
        self._summary = summary
        self._events = events
        self.retranslate()

    def set_answered(self, answered: bool) -> None:
        if answered != self._answered:
            self._answered = answered
            self.retranslate()

    def summary(self) -> str:
        """The line shown: a wait already answered is told in the past tense."""
        summary = self._summary
        if self._answered and summary.endswith(WAITING):
            summary = summary[:-len(WAITING)] + tr("waited for your answer")
        return summary

    def lines(self) -> list[str]:
        """The activity list's lines."""
        return [line for line in map(describe_event, self._events) if line]

    def retranslate(self) -> None:
        expanded = self.toggle.isChecked()
        self.toggle.setText(self.summary() or tr("Working"))
        tip = tr("Hide activity") if expanded else tr("Show activity")
        self.toggle.setToolTip(tip)
        self.toggle.setAccessibleName(tip)
        if expanded:
            self.details.setText("\n".join(self.lines()) or tr("No activity yet."))

    def _toggled(self, expanded: bool) -> None:
        self.toggle.setIcon(icon("chevron-down" if expanded else "chevron-right"))
        self.details.setVisible(expanded)
        self.retranslate()


class _Bubble(QLabel):
    """The person's message: plain text in a bubble no wider than its text needs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("userBubble")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        """The unwrapped text's width (capped by the maximum width), height to fit."""
        margins = self.contentsMargins()
        extra = margins.left() + margins.right()
        lines = self.text().split("\n") or [""]
        natural = max(self.fontMetrics().horizontalAdvance(line) for line in lines) + extra + 2
        width = min(natural, self.maximumWidth())
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        """Small enough to let the column narrow (the text wraps)."""
        return QSize(min(self.sizeHint().width(), 4 * em(self)), super().minimumSizeHint()
                     .height())


class _Editor(QWidget):
    """Inline editing of the person's message: the text, Cancel and Save."""

    saved = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QPlainTextEdit(self)
        self.edit.setObjectName("messageEditor")
        self.edit.setTabChangesFocus(True)
        self.cancel_button = QPushButton(self)
        self.save_button = QPushButton(self)
        self.save_button.setDefault(True)
        self.cancel_button.clicked.connect(self.cancelled)
        self.save_button.clicked.connect(self._save)
        self.edit.textChanged.connect(self._changed)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addLayout(buttons)
        self.edit.installEventFilter(self)  # Esc cancels, Ctrl+Enter saves

    def start(self, text: str) -> None:
        self.edit.setPlainText(text)
        lines = max(2, min(12, text.count("\n") + 2))
        self.edit.setFixedHeight(lines * self.edit.fontMetrics().lineSpacing()
                                 + 2 * int(self.edit.document().documentMargin())
                                 + 2 * self.edit.frameWidth())
        self.edit.moveCursor(self.edit.textCursor().MoveOperation.End)
        self.edit.setFocus()

    def _changed(self) -> None:
        self.save_button.setEnabled(bool(self.edit.toPlainText().strip()))

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        """Esc cancels and Ctrl+Enter saves while typing in the editor."""
        if watched is self.edit and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent):
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.cancelled.emit()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                    and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self._save()
                return True
        return False

    def _save(self) -> None:
        text = self.edit.toPlainText()
        if text.strip():
            self.saved.emit(text)

    def retranslate(self) -> None:
        self.cancel_button.setText(tr("Cancel"))
        self.cancel_button.setToolTip(tr("Cancel editing"))
        self.cancel_button.setAccessibleName(tr("Cancel editing"))
        self.save_button.setText(tr("Save"))
        self.save_button.setToolTip(tr("Save the edited message and answer it again"))
        self.save_button.setAccessibleName(tr("Save the edited message and answer it again"))
        self.edit.setAccessibleName(tr("Edited message"))


def _tool_button(parent: QWidget, name: str, *, retain: bool = False) -> QToolButton:
    button = QToolButton(parent)
    button.setIcon(_icon(name))
    button.setAutoRaise(True)
    button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    if retain:
        policy = button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        button.setSizePolicy(policy)
    return button


@cache
def _button_size(font_key: str) -> tuple[int, int, int]:
    """(width, height, icon width) of an action button in a font, from a probe button."""
    probe = QToolButton()
    probe.setIcon(_icon("copy"))
    probe.setAutoRaise(True)
    hint = probe.sizeHint()
    size = (hint.width(), hint.height(), probe.iconSize().width())
    probe.deleteLater()
    return size


def _row_height(font_key: str) -> int:
    """The height of an actions row in a font (reserved before the row is built)."""
    return _button_size(font_key)[1]


def action_inset(widget: QWidget) -> int:
    """Pixels between an action button's edge and its icon, at most 1 em.

    The row under an answer starts this much left of the prose, so that the first icon
    lines up with the text; a message's content is indented by it (the chat view's column
    margin is that much smaller).
    """
    width, _height, icon_width = _button_size(widget.font().key())
    return max(0, min(em(widget), (width - icon_width) // 2))


class _Actions(QWidget):
    """The actions row's buttons (built the first time they are needed).

    The person's messages: ``[copy][edit][‹ n/m ›]`` at the right; answers: ``[‹ n/m ›]
    [copy][regenerate]`` at the left. Copy and Edit show on hover but keep their room when
    hidden, so the switcher never jumps.
    """

    def __init__(self, owner: MessageWidget, parent: QWidget, user: bool, text: bool) -> None:
        super().__init__(parent)
        self.setObjectName("messageActions")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(max(1, em(self) // 6))
        self.copy_button = _tool_button(self, "copy", retain=text)
        self.edit_button = _tool_button(self, "pencil", retain=user)
        self.regenerate_button = _tool_button(self, "refresh")
        self.branch_prev = _tool_button(self, "chevron-left")
        self.branch_label = QLabel(self)
        self.branch_label.setObjectName("branchLabel")
        self.branch_next = _tool_button(self, "chevron-right")
        switcher: list[QWidget] = [self.branch_prev, self.branch_label, self.branch_next]
        if user:
            order = [self.copy_button, self.edit_button, *switcher]
            row.addStretch(1)
        else:
            order = [*switcher, self.copy_button, self.regenerate_button]
        for widget in order:
            row.addWidget(widget)
        if not user:
            row.addStretch(1)
            self.edit_button.hide()
        else:
            self.regenerate_button.hide()
        self.buttons = (self.branch_prev, self.branch_next, self.copy_button,
                        self.edit_button, self.regenerate_button)
        for button in self.buttons:
            button.installEventFilter(owner)


class MessageWidget(Retranslatable, QFrame):
    """One message of the chat view (see the module docstring).

    Args:
        message: the message (:class:`graph.chats.Message`).
        branch: where it stands among its siblings (None or ``count == 1``: no switcher).
        parent: the parent widget.

    Signals:
        editRequested(str message_id, str text): the person saved an edited message.
        branchRequested(str message_id, int index): show sibling ``index`` (1-based, as
            :attr:`graph.chats.BranchInfo.index`) instead of this message.
        regenerateRequested(): answer the last message again.
        linkActivated(str url): a link in the message was clicked.
        decisionRequested(str message_id, object decision): a card was answered.

    Attributes:
        body: the content widget (bubble, Markdown, activity, notice or card).
        actions_row: the row under the message holding the actions (its buttons are made
            the first time they are needed: hover, keyboard focus, last answer, branches;
            the properties below make them on access).

    """

    editRequested = Signal(str, str)
    branchRequested = Signal(str, int)
    regenerateRequested = Signal()
    linkActivated = Signal(str)
    decisionRequested = Signal(str, object)

    def __init__(self, message: Message, branch: BranchInfo | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._message = message
        self._branch = branch
        self._last_answer = False
        self._busy = False
        self._copied = False
        self._editing = False
        self._pending = ""
        self.setObjectName("message")
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)

        self._inset = action_inset(self)
        self._layout = CachedVBox(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(max(1, em(self) // 4))
        # the content (and the inline editor) indented by the inset; the row under an
        # answer is not, so that its first icon lines up with the prose
        self._body_box = QVBoxLayout()
        self._body_box.setContentsMargins(self._inset, 0, 0, 0)
        self._body_box.setSpacing(self._layout.spacing())
        self._layout.addLayout(self._body_box)
        self.body: QWidget = QWidget(self)
        self._bubble: _Bubble | None = None
        self._markdown: MarkdownBody | None = None
        self._progress: _ProgressView | None = None
        self._notice: QLabel | None = None
        self._editor: _Editor | None = None
        self._build_body()
        self.actions_row = QWidget(self)
        self._row_layout = QVBoxLayout(self.actions_row)
        self._row_layout.setContentsMargins(0, 0, 0, 0)
        self._actions: _Actions | None = None
        self._place_actions_row()
        self._render()
        self.retranslate()

    # -- building --------------------------------------------------------------------------

    def _build_body(self, index: int = -1) -> None:
        message = self._message
        if message.kind == "text" and message.role == "user":
            self.body = QWidget(self)
            row = QHBoxLayout(self.body)
            row.setContentsMargins(0, 0, 0, 0)
            row.addStretch(1)
            self._bubble = _Bubble(self.body)
            unit = em(self)
            self._bubble.setContentsMargins(unit, unit // 2, unit, unit // 2)
            row.addWidget(self._bubble)
        elif message.kind == "text" and message.role == "system":
            self._notice = QLabel(self)
            self._notice.setObjectName("notice")
            self._notice.setWordWrap(True)
            self._notice.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            self._notice.setTextFormat(Qt.TextFormat.PlainText)
            self.body = self._notice
        elif message.kind == "text":
            self._markdown = MarkdownBody(self)
            self._markdown.linkActivated.connect(self.linkActivated)
            self.body = self._markdown
        elif message.kind == "progress":
            self._progress = _ProgressView(self)
            self.body = self._progress
        else:
            self.body = self._make_card()
        self._body_box.insertWidget(index, self.body)

    def _place_actions_row(self) -> None:
        """Put the actions row where it belongs.

        The person's messages: left of the bubble (on its last line), so that it takes no
        height; other messages: under the content.
        """
        if self._bubble is not None:
            row = self.body.layout()
            if isinstance(row, QHBoxLayout):
                row.insertWidget(1, self.actions_row, 0, Qt.AlignmentFlag.AlignBottom)
        elif self._layout.indexOf(self.actions_row) < 0:
            self._layout.addWidget(self.actions_row)

    def _make_card(self) -> QWidget:
        from ui.desktop.chat.cards import make_card

        card = make_card(self._message, self)
        decided = getattr(card, "decided", None)
        if decided is not None:
            decided.connect(self.decisionRequested)
        return card

    def _ensure_actions(self) -> _Actions:
        if self._actions is None:
            actions = _Actions(self, self.actions_row, self._message.role == "user",
                               self._message.kind == "text")
            actions.copy_button.clicked.connect(self.copy)
            actions.edit_button.clicked.connect(self.start_edit)
            actions.regenerate_button.clicked.connect(self.regenerateRequested)
            actions.branch_prev.clicked.connect(lambda: self._switch(-1))
            actions.branch_next.clicked.connect(lambda: self._switch(1))
            self._row_layout.addWidget(actions)
            actions.show()  # now, not at the next event loop turn: Tab may come first
            self._actions = actions
            self._chain_focus(actions)
            self.retranslate()
            self._update_actions()
        return self._actions

    def _chain_focus(self, actions: _Actions) -> None:
        """Put the new buttons in the Tab order right after the message's own content.

        Made later than the rest, they would otherwise come after everything in the window.
        """
        last: QWidget = self
        following = self.nextInFocusChain()
        while following is not None and following is not self \
                and self.isAncestorOf(following) and not actions.isAncestorOf(following):
            if following.focusPolicy() & Qt.FocusPolicy.TabFocus:
                last = following  # Qt orders only widgets that take Tab focus
            following = following.nextInFocusChain()
        layout = actions.layout()
        if layout is None:
            return
        for index in range(layout.count()):
            item = layout.itemAt(index)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QToolButton):
                QWidget.setTabOrder(last, widget)
                last = widget

    @property
    def copy_button(self) -> QToolButton:
        """Copy the message."""
        return self._ensure_actions().copy_button

    @property
    def edit_button(self) -> QToolButton:
        """Edit the person's message."""
        return self._ensure_actions().edit_button

    @property
    def regenerate_button(self) -> QToolButton:
        """Answer again (shown on the last answer only)."""
        return self._ensure_actions().regenerate_button

    @property
    def branch_prev(self) -> QToolButton:
        """The switcher's ‹."""
        return self._ensure_actions().branch_prev

    @property
    def branch_next(self) -> QToolButton:
        """The switcher's ›."""
        return self._ensure_actions().branch_next

    @property
    def branch_label(self) -> QLabel:
        """The switcher's ``n/m``."""
        return self._ensure_actions().branch_label

    # -- state -----------------------------------------------------------------------------

    @property
    def message_id(self) -> str:
        """The message's id."""
        return self._message.message_id

    def message(self) -> Message:
        """The message as last given (streamed text is in :meth:`text`)."""
        return self._message

    def text(self) -> str:
        """The message's text as shown (including streamed text)."""
        if self._markdown is not None:
            return self._markdown.text()
        return self._message.content

    def code_blocks(self) -> list[CodeBlock]:
        """The message's code blocks, in order (none for the person's messages)."""
        return self._markdown.code_blocks() if self._markdown is not None else []

    def markdown(self) -> MarkdownBody | None:
        """The Markdown body of an answer (None for other messages)."""
        return self._markdown

    def is_editing(self) -> bool:
        """Whether the inline editor is open."""
        return self._editing

    def set_message(self, message: Message, *, pending: str = "") -> None:
        """Redraw for a changed message (same id).

        Text and progress are re-rendered in place (an unchanged text costs nothing); a card
        is given the new message when it can take it (``set_message``), else made again.
        ``pending``: streamed text not yet appended; when the text shown plus ``pending`` is
        the new content, nothing is re-rendered (the caller appends ``pending`` later).
        """
        self._pending = pending
        same_kind = (message.kind, message.role) == (self._message.kind, self._message.role)
        self._message = message
        is_card = message.kind not in ("text", "progress")
        updater = getattr(self.body, "set_message", None) if is_card else None
        if same_kind and is_card and callable(updater):
            updater(message)
        elif not same_kind or is_card:
            index = self._body_box.indexOf(self.body)
            if self._bubble is not None:  # the row sits in the bubble's line: keep it
                self.body.layout().removeWidget(self.actions_row)  # type: ignore[union-attr]
                self.actions_row.setParent(self)
            self._body_box.removeWidget(self.body)
            self.body.deleteLater()
            self._bubble = self._markdown = self._progress = self._notice = None
            self._build_body(index)
            self._place_actions_row()
            if self._actions is not None and not same_kind:
                self._row_layout.removeWidget(self._actions)
                self._actions.deleteLater()
                self._actions = None
        self._render()
        self.retranslate()

    def set_branch(self, branch: BranchInfo | None) -> None:
        """Show (``count > 1``) or hide the ``‹ n/m ›`` switcher."""
        self._branch = branch
        self._update_actions()

    def set_last_answer(self, last: bool) -> None:
        """Mark the last answer of the chat (Regenerate, actions always shown)."""
        if last != self._last_answer:
            self._last_answer = last
            self._update_actions()

    def is_last_answer(self) -> bool:
        """Whether this is the chat's last answer."""
        return self._last_answer

    def set_answered(self, answered: bool) -> None:
        """Tell an activity line that the person answered after it (a later message).

        "waiting for your answer" becomes "waited for your answer". Ignored for other
        kinds.
        """
        if self._progress is not None:
            self._progress.set_answered(answered)

    def summary(self) -> str:
        """An activity line's summary as shown (``""`` for other kinds)."""
        return self._progress.summary() if self._progress is not None else ""

    def set_busy(self, busy: bool) -> None:
        """While the chat's run works, Regenerate is not offered."""
        if busy != self._busy:
            self._busy = busy
            self._update_actions()

    def append_text(self, delta: str) -> None:
        """Append streamed Markdown to an answer (ignored for other kinds)."""
        if self._markdown is not None:
            self._pending = self._pending[len(delta):] if self._pending.startswith(delta) \
                else ""
            self._markdown.append(delta)
            if self._actions is None and self._wants_row():
                self._update_actions()

    def _render(self) -> None:
        message = self._message
        if self._bubble is not None:
            self._bubble.setText(message.content)
        elif self._notice is not None:
            self._notice.setText(message.content)
        elif self._markdown is not None:
            if message.content != self._markdown.text() + self._pending:
                self._markdown.set_markdown(message.content)
        elif self._progress is not None:
            events = message.data.get("events") if isinstance(message.data, dict) else None
            self._progress.set_progress(message.content, [
                e for e in (events or []) if isinstance(e, Mapping)])
        self._update_actions()

    # -- actions ---------------------------------------------------------------------------

    def copy(self) -> None:
        """Put the message's text (its Markdown) on the clipboard."""
        QGuiApplication.clipboard().setText(self.text())
        self._copied = True
        self.copy_button.setIcon(_icon("check"))
        self.retranslate()
        QTimer.singleShot(COPIED_MS, self._uncopy)

    def _uncopy(self) -> None:
        self._copied = False
        if self._actions is not None:
            self._actions.copy_button.setIcon(_icon("copy"))
        self.retranslate()

    def start_edit(self) -> None:
        """Open the inline editor on the person's message."""
        if not self._can_edit() or self._bubble is None:
            return
        if self._editor is None:
            self._editor = _Editor(self)
            self._editor.saved.connect(self._edit_saved)
            self._editor.cancelled.connect(self.cancel_edit)
            self._editor.retranslate()
            self._body_box.insertWidget(self._body_box.indexOf(self.body) + 1, self._editor)
        self._editing = True
        self.body.hide()
        self._editor.show()
        self._editor.start(self._message.content)
        self._update_actions()

    def cancel_edit(self) -> None:
        """Close the inline editor without changes."""
        if self._editor is not None:
            self._editor.hide()
        self._editing = False
        self.body.show()
        self._update_actions()
        self.setFocus()

    def editor(self) -> QPlainTextEdit | None:
        """The inline editor's text field (None until Edit was used)."""
        return self._editor.edit if self._editor is not None else None

    def save_edit(self) -> None:
        """Save the inline editor's text (as its Save button does)."""
        if self._editor is not None:
            self._editor.save_button.click()

    def _edit_saved(self, text: str) -> None:
        self.cancel_edit()
        if text != self._message.content:
            self.editRequested.emit(self._message.message_id, text)

    def _switch(self, step: int) -> None:
        branch = self._branch
        if branch is None:
            return
        index = branch.index + step
        if 1 <= index <= branch.count:
            self.branchRequested.emit(self._message.message_id, index)

    def _can_edit(self) -> bool:
        return self._message.role == "user" and self._message.kind == "text"

    def _has_text(self) -> bool:
        return self._message.kind == "text" and self._message.role != "system" \
            and bool(self.text().strip())

    def _switcher(self) -> bool:
        return self._branch is not None and self._branch.count > 1

    def _regenerable(self) -> bool:
        return self._last_answer and not self._busy and self._message.role == "assistant" \
            and self._message.kind == "text"

    def _any_action(self) -> bool:
        return self._has_text() or self._switcher() or self._regenerable()

    def _hovered(self) -> bool:
        focus = QApplication.focusWidget()
        inside = focus is not None and (focus is self or self.isAncestorOf(focus))
        return self.underMouse() or inside

    def _wants_row(self) -> bool:
        return self._any_action() and (self._last_answer or self._switcher()
                                       or self._hovered())

    def _update_actions(self) -> None:
        if self._editing or not self._any_action():
            self.actions_row.setMinimumHeight(0)
            self.actions_row.hide()
            if self._actions is not None:
                self._actions.regenerate_button.setVisible(self._regenerable())
            return
        self.actions_row.show()
        self.actions_row.setMinimumHeight(0 if self._bubble is not None
                                          else _row_height(self.font().key()))
        if self._actions is None and not self._wants_row():
            return
        actions = self._ensure_actions()
        hover = self._last_answer or self._hovered()
        actions.copy_button.setVisible(self._has_text() and hover)
        actions.edit_button.setVisible(self._can_edit() and hover)
        actions.regenerate_button.setVisible(self._regenerable())
        switcher = self._switcher()
        for widget in (actions.branch_prev, actions.branch_label, actions.branch_next):
            widget.setVisible(switcher)
        branch = self._branch
        if branch is not None and switcher:
            actions.branch_label.setText(f"{branch.index}/{branch.count}")
            actions.branch_prev.setEnabled(branch.index > 1)
            actions.branch_next.setEnabled(branch.index < branch.count)
            actions.branch_label.setAccessibleName(tr("Version {index} of {count}").format(
                index=branch.index, count=branch.count))

    # -- Qt --------------------------------------------------------------------------------

    def retranslate(self) -> None:
        """Set the visible texts in the current language."""
        role = {"user": tr("Message from you"), "assistant": tr("Answer"),
                "system": tr("Notice")}[self._message.role]
        self.setAccessibleName(role)
        if self._progress is not None:
            self._progress.retranslate()
        if self._editor is not None:
            self._editor.retranslate()
        actions = self._actions
        if actions is None:
            return
        copy = tr("Copied") if self._copied else tr("Copy message")
        for button, text in ((actions.copy_button, copy),
                             (actions.edit_button, tr("Edit message")),
                             (actions.regenerate_button, tr("Regenerate answer")),
                             (actions.branch_prev, tr("Previous version")),
                             (actions.branch_next, tr("Next version"))):
            button.setToolTip(text)
            button.setAccessibleName(text)
        if self._branch is not None:
            actions.branch_label.setAccessibleName(tr("Version {index} of {count}").format(
                index=self._branch.index, count=self._branch.count))

    def enterEvent(self, event: QEnterEvent) -> None:
        """Show the actions on hover."""
        super().enterEvent(event)
        self._update_actions()

    def leaveEvent(self, event: QEvent) -> None:
        """Hide the hover actions when the pointer leaves (unless focus is inside)."""
        super().leaveEvent(event)
        self._update_actions()

    def focusInEvent(self, event: QFocusEvent) -> None:
        """Keyboard focus on the message shows its actions (Tab reaches them next)."""
        super().focusInEvent(event)
        self._update_actions()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        """Hide the hover actions when focus leaves the message."""
        super().focusOutEvent(event)
        QTimer.singleShot(0, self._update_actions)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ctrl+C on a focused message copies it."""
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            return
        super().keyPressEvent(event)

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        """Keep the actions visible while one of them has focus."""
        if event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            QTimer.singleShot(0, self._update_actions)
        return False

    def changeEvent(self, event: QEvent) -> None:
        """Re-render the prose in the new palette's colours."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.ApplicationPaletteChange and self._markdown is not None:
            self._markdown.restyle()

    def minimumSizeHint(self) -> QSize:
        """Never higher than the message is at its width.

        A card's layout may ask for more height at its narrowest width than it needs at its
        real one; the scroll area would then make the chat that much taller than its
        content, a blank space under the last message.
        """
        hint = super().minimumSizeHint()
        if self.width() > 0 and self.hasHeightForWidth():
            hint.setHeight(min(hint.height(), self.heightForWidth(self.width())))
        return hint

    def resizeEvent(self, event: Any) -> None:
        """Keep the person's bubble at most about 70 % of the column."""
        super().resizeEvent(event)
        if self._bubble is not None:
            width = max(4 * em(self), int(self.width() * 0.72))
            if self._bubble.maximumWidth() != width:
                self._bubble.setMaximumWidth(width)
                self._bubble.updateGeometry()
