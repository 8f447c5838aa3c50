"""Cards: the chat messages that are not prose (U1, issue 5 item 4).

A run's interrupts appear in the chat as cards with their actions; so do the person's
answers, the check results, the finished run and failures. :func:`make_card` builds the card
for a :class:`graph.chats.Message` by its ``kind``:

- ``safety`` (interrupt ``confirm_start``): level badge (green / yellow / red), the
  recommendation, the reasons, the task; Approve / Reject (optional reason) / Modify (edit the
  task);
- ``plan`` (``approve_plan``): the specification (collapsible Markdown), the numbered steps;
  Approve / Reject (feedback) / Edit (the plan as JSON);
- ``fetch`` (``approve_fetch``): what would be fetched, how large, where it goes;
  Approve / Reject;
- ``question`` (``ask_human``): the question and the open findings; a hint field,
  Continue / Stop;
- ``confirm`` and ``spec``: generic, the summary and one button per option;
- ``decision``: the person's answer as a small right-aligned pill;
- ``checks``: the check results with ✓/✗ as they come (:meth:`Card.set_message`);
- ``artifact``: the finished run: Open folder, Run, Open report;
- ``error``: a red-tinted card with the failure and, when resumable, Resume.

Every card emits ``decided(message_id, decision)``; the decision is a dict such as
``{"action": "approve"}``, ``{"action": "reject", "feedback": "..."}``,
``{"action": "edit", "content": "..."}``, ``{"action": "continue", "feedback": "..."}``,
``{"action": "stop"}`` or (error card) ``{"action": "resume"}``; the artifact card asks
the window to act with ``{"action": "launch"}`` and ``{"action": "open_folder"}``, which
answer nothing. The view answers a decision with :meth:`Card.set_answered` once it is
stored, or :meth:`Card.reopen` when it was refused. Links in a card's text go to
:func:`ui.desktop.links.open_link`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from html import escape
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QEvent, QLocale, QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontDatabase,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graph.chats import Message
from ui.desktop.chat.markdown import Code, to_segments
from ui.desktop.i18n import Retranslatable, current_language, register, tr
from ui.desktop.icons import icon
from ui.desktop.links import open_link
from ui.desktop.plain import ask, tooltip

__all__ = ["STATUS_COLOURS", "ArtifactCard", "Card", "ChecksCard", "ConfirmCard",
           "DecisionCard", "ErrorCard", "FetchCard", "PlanCard", "QuestionCard", "SafetyCard",
           "decision_text", "format_size", "make_card"]

#: The status colours (the only fixed colours of the interface): green / yellow / red.
STATUS_COLOURS: dict[str, str] = {"green": "#2e9e5b", "yellow": "#d19a00", "red": "#d64545"}

register({
    # sizes
    "{size} bytes": "{size} байт",
    "{size} KB": "{size} КБ",
    "{size} MB": "{size} МБ",
    "{size} GB": "{size} ГБ",
    # common
    "Approve": "Одобрить",
    "Reject": "Отклонить",
    "Modify": "Изменить",
    "Edit": "Изменить",
    "Continue": "Продолжить",
    "Stop": "Остановить",
    "Cancel": "Отмена",
    "Send": "Отправить",
    "Resume": "Продолжить запуск",
    "Your answer: {answer}": "Ваш ответ: {answer}",
    "Approved": "Одобрено",
    "Rejected": "Отклонено",
    "Edited": "Изменено",
    "Stopped": "Остановлено",
    "Resumed": "Запуск продолжен",
    "Rejected: {reason}": "Отклонено: {reason}",
    "Edited: {text}": "Изменено: {text}",
    "Continue: {hint}": "Продолжить: {hint}",
    "Reason (optional)": "Причина (необязательно)",
    "Reject with this reason": "Отклонить с этой причиной",
    "Close without answering": "Закрыть, не отвечая",
    # safety
    "Safety check": "Проверка безопасности",
    "Low risk": "Низкий риск",
    "Caution": "Осторожно",
    "High risk": "Высокий риск",
    "Unknown risk": "Риск не определён",
    "Recommendation: approve": "Рекомендация: одобрить",
    "Recommendation: reject": "Рекомендация: отклонить",
    "Recommendation: modify": "Рекомендация: изменить запрос",
    "Task": "Задача",
    "Only you can approve this request: automatic approval does not apply.":
        "Одобрить этот запрос можете только вы: автоматическое одобрение к нему не применяется.",
    "Start building this app": "Начать сборку этого приложения",
    "Do not build this app": "Не собирать это приложение",
    "Change the task and check it again": "Изменить задачу и проверить её снова",
    "Send the changed task": "Отправить изменённую задачу",
    "The changed task": "Изменённая задача",
    "Type the task first.": "Сначала введите задачу.",
    # plan
    "Plan": "План",
    "Specification": "Спецификация",
    "Show or hide the specification": "Показать или скрыть спецификацию",
    "Steps": "Шаги",
    "Executable: {name} ({kind})": "Исполняемый файл: {name} ({kind})",
    "window app": "оконное приложение",
    "command line": "командная строка",
    "Dependencies: {names}": "Зависимости: {names}",
    "What should change? (optional)": "Что нужно изменить? (необязательно)",
    "Build by this plan": "Собирать по этому плану",
    "Ask for a new plan": "Попросить новый план",
    "Edit the plan as JSON": "Изменить план в формате JSON",
    "Send the edited plan": "Отправить изменённый план",
    "The plan as JSON": "План в формате JSON",
    "This is not valid JSON: {problem}": "Это не корректный JSON: {problem}",
    # fetch
    "Download approval": "Разрешение на загрузку",
    "The coder wants to download a file": "Программист хочет скачать файл",
    "The coder wants to copy a repository": "Программист хочет скопировать репозиторий",
    "The coder wants to fetch a page": "Программист хочет загрузить страницу",
    "The coder wants to read from GitHub": "Программист хочет прочитать данные с GitHub",
    "The coder wants to use the web": "Программист хочет обратиться к интернету",
    "Address": "Адрес",
    "Repository": "Репозиторий",
    "Size": "Размер",
    "unknown": "неизвестно",
    "Saved to": "Куда сохраняется",
    "nothing is saved; the text goes to the coder":
        "ничего не сохраняется; текст получает программист",
    "Why you are asked": "Почему спрашиваем",
    "Allow this download": "Разрешить эту загрузку",
    "Do not download it": "Не скачивать",
    # question
    "Your decision is needed": "Нужно ваше решение",
    "Open findings ({count})": "Нерешённые замечания ({count})",
    "Show or hide the findings": "Показать или скрыть замечания",
    "Hint for the coder (optional)": "Подсказка для программиста (необязательно)",
    "Try more repair rounds": "Попробовать ещё несколько раундов исправлений",
    "Stop the run": "Остановить запуск",
    # confirm / spec
    "Confirmation": "Подтверждение",
    # checks
    "Checks": "Проверки",
    "{passed} passed, {failed} failed": "пройдено: {passed}, не пройдено: {failed}",
    "Round {round}": "Раунд {round}",
    "passed": "пройдена",
    "failed": "не пройдена",
    "skipped": "пропущена",
    # artifact
    "Your app is ready": "Приложение готово",
    "The run ended: {status}": "Запуск завершён: {status}",
    "The run was rejected": "Запуск отклонён",
    "The run was stopped": "Запуск остановлен",
    "The run failed": "Запуск завершился с ошибкой",
    "The run was cancelled": "Запуск отменён",
    "Size: {size}": "Размер: {size}",
    "SHA-256: {digest}": "SHA-256: {digest}",
    "Open folder": "Открыть папку",
    "Show the executable in its folder": "Показать исполняемый файл в его папке",
    "Run": "Запустить",
    "Start the app that was built": "Запустить собранное приложение",
    "Open report": "Открыть отчёт",
    "Open the run's report": "Открыть отчёт о запуске",
    "Run the app?": "Запустить приложение?",
    "Run {name}? It was built and checked by MultiCoder in a sandbox; running it executes it"
    " on this computer.":
        "Запустить {name}? Его собрал и проверил MultiCoder в песочнице; при запуске оно"
        " выполняется на этом компьютере.",
    "The report is no longer there.": "Отчёта больше нет.",
    # error
    "Something went wrong": "Что-то пошло не так",
    "Request refused": "Запрос отклонён как небезопасный",
    "Request rejected": "Запрос отклонён вами",
    "Run stopped": "Запуск остановлен",
    "You stopped the run.": "Вы остановили запуск.",
    "Continue the run from where it stopped": "Продолжить запуск с места остановки",
})

_HEADING = re.compile(r"<(/?)h[1-3]>")


def markdown_html(text: str) -> str:
    """``text`` (Markdown; raw HTML is shown as text) as HTML for a rich-text QLabel.

    Uses the chat's Markdown rules (:func:`ui.desktop.chat.markdown.to_segments`); code
    fences become ``<pre>`` blocks.
    """
    parts = []
    for segment in to_segments(text or ""):
        if isinstance(segment, Code):
            parts.append(f"<pre>{escape(segment.text)}</pre>")
        else:
            parts.append(segment.html)
    # a card is small: headings no larger than a bold line
    return _HEADING.sub(r"<\1h4>", "".join(parts))


def format_size(size_bytes: int) -> str:
    """A size for people: ``"512 bytes"``, ``"3.4 KB"``, ``"12.0 MB"`` (1 KB = 1024 bytes).

    The decimal separator is the interface language's.
    """
    locale = QLocale(QLocale.Language.Russian if current_language() == "ru"
                     else QLocale.Language.English)
    value = float(max(size_bytes, 0))
    if value < 1024:
        return tr("{size} bytes").format(size=int(value))
    for unit in ("{size} KB", "{size} MB"):
        value /= 1024
        if value < 1024:
            return tr(unit).format(size=locale.toString(value, "f", 1))
    return tr("{size} GB").format(size=locale.toString(value / 1024, "f", 1))


_ACTION_LABELS = {"approve": "Approve", "reject": "Reject", "edit": "Edit",
                  "continue": "Continue", "stop": "Stop", "resume": "Resume"}


def decision_text(decision: Mapping[str, Any]) -> str:
    """The person's answer in a few words (the decision pill, :meth:`Card.set_answered`).

    Args:
        decision: ``{"action": ..., "feedback": ..., "content": ...}``.

    Returns:
        E.g. "Approved", "Rejected: too risky", "Edited: <first line>", "Continue: <hint>".

    """
    action = str(decision.get("action", ""))
    feedback = str(decision.get("feedback") or "").strip()
    content = str(decision.get("content") or "").strip()
    if action == "reject" and feedback:
        return tr("Rejected: {reason}").format(reason=feedback)
    if action == "edit" and content:
        first = content.splitlines()[0]
        return tr("Edited: {text}").format(text=first if len(first) <= 80 else first[:79] + "…")
    if action == "continue" and feedback:
        return tr("Continue: {hint}").format(hint=feedback)
    plain = {"approve": "Approved", "reject": "Rejected", "edit": "Edited",
             "continue": "Continue", "stop": "Stopped", "resume": "Resumed"}
    return tr(plain[action]) if action in plain else action


# -- small building blocks -------------------------------------------------------------------


def _em(widget: QWidget, factor: float) -> int:
    """``factor`` times the widget's font height, in device-independent pixels."""
    return max(1, round(widget.fontMetrics().height() * factor))


def _label(text: str = "", *, rich: bool = False, muted: bool = False,
           selectable: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction if rich
                                      else Qt.TextInteractionFlag.TextSelectableByMouse)
    if rich:  # links in model text go through the one guarded handler, never straight out
        label.setOpenExternalLinks(False)
        label.linkActivated.connect(lambda url: open_link(label.window(), url))
    if muted:
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return label


def _error_label() -> QLabel:
    label = _label()
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(STATUS_COLOURS["red"]))
    label.setPalette(palette)
    label.hide()
    return label


def _bold(label: QLabel, factor: float = 1.0) -> QLabel:
    font = QFont(label.font())
    font.setBold(True)
    if factor != 1.0:
        font.setPointSizeF(font.pointSizeF() * factor)
    label.setFont(font)
    return label


class _Dot(QWidget):
    """A filled status dot (green / yellow / red), as large as a lower-case letter."""

    def __init__(self, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colour = QColor(colour)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_colour(self, colour: str) -> None:
        """Paint in ``colour`` (a CSS colour name or ``#rrggbb``)."""
        self._colour = QColor(colour)
        self.update()

    def sizeHint(self) -> QSize:
        side = _em(self, 0.6)
        return QSize(side, side)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._colour)
        side = min(self.width(), self.height())
        painter.drawEllipse(QRectF((self.width() - side) / 2, (self.height() - side) / 2,
                                   side, side))


class _IconLabel(QLabel):
    """An icon drawn at the text's height, re-drawn when the palette or font changes."""

    def __init__(self, name: str, colour: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._colour = colour
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self._draw()

    def set_icon(self, name: str, colour: str | None = None) -> None:
        """Show icon ``name`` in ``colour`` (None: the palette's text colour)."""
        self._name, self._colour = name, colour
        self._draw()

    def _draw(self) -> None:
        side = _em(self, 1.0)
        ratio = self.devicePixelRatioF()
        self.setPixmap(icon(self._name, self._colour).pixmap(QSize(side, side), ratio))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange,
                            QEvent.Type.FontChange):
            self._draw()
        super().changeEvent(event)


class _Collapsible(QWidget):
    """A heading button with a chevron that shows or hides ``content``."""

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.toggle = QToolButton()
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setCheckable(True)
        self.toggle.setIcon(icon("chevron-right"))
        self.toggle.toggled.connect(self._toggled)
        self.content = content
        content.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(content)

    def _toggled(self, shown: bool) -> None:
        self.toggle.setIcon(icon("chevron-down" if shown else "chevron-right"))
        self.content.setVisible(shown)


class _ReasonRow(QWidget):
    """An inline one-line answer: a field, a confirm button and Cancel.

    Signals:
        submitted(str): the text (stripped; may be empty).
        closed(): Cancel.

    """

    submitted = Signal(str)
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = QLineEdit()
        self.confirm = QPushButton()
        self.cancel = QPushButton()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.confirm)
        layout.addWidget(self.cancel)
        self.field.returnPressed.connect(self._submit)
        self.confirm.clicked.connect(self._submit)
        self.cancel.clicked.connect(self.closed.emit)
        self.hide()

    def _submit(self) -> None:
        self.submitted.emit(self.field.text().strip())

    def open(self) -> None:
        """Show the row and put the cursor in its field."""
        self.show()
        self.field.setFocus()


class _TextEditorRow(QWidget):
    """An inline multi-line editor with Send and Cancel (a task or a plan as JSON).

    Signals:
        submitted(str): the text as typed.
        closed(): Cancel.

    """

    submitted = Signal(str)
    closed = Signal()

    def __init__(self, *, monospace: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = QPlainTextEdit()
        if monospace:
            self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTabChangesFocus(True)
        lines = 14 if monospace else 5
        self.editor.setMinimumHeight(self.editor.fontMetrics().lineSpacing() * lines)
        self.problem = _error_label()
        self.confirm = QPushButton()
        self.cancel = QPushButton()
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.confirm)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        self.confirm.clicked.connect(lambda: self.submitted.emit(self.editor.toPlainText()))
        self.cancel.clicked.connect(self.closed.emit)
        self.hide()

    def open(self, text: str) -> None:
        """Show the editor holding ``text`` and focus it."""
        self.editor.setPlainText(text)
        self.problem.hide()
        self.show()
        self.editor.setFocus()

    def show_problem(self, text: str) -> None:
        """Show why the text cannot be sent (in red, under the editor)."""
        self.problem.setText(text)
        self.problem.show()


# -- the cards -------------------------------------------------------------------------------


class Card(Retranslatable, QFrame):
    """A chat card for one message (see the module docstring).

    Args:
        message: the message (``kind`` and ``data`` say what to show).
        parent: the owning widget.

    Signals:
        decided(str, object): ``(message_id, decision dict)`` when the person answers.

    Subclasses build their widgets in ``__init__`` and set every text, translated or taken
    from the message, in :meth:`retranslate` (which :meth:`set_message` calls again).

    """

    decided = Signal(str, object)

    #: The card's heading (English; translated when shown) and icon.
    TITLE = ""
    ICON = "help-circle"

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._message = message
        self._decision_buttons: list[QWidget] = []
        self._button_texts: list[tuple[QPushButton, str, str]] = []
        self._answer: str | None = None
        self._pending = False
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        outer = self._outer = QVBoxLayout(self)
        margin = _em(self, 0.8)
        outer.setContentsMargins(margin, margin, margin, margin)
        outer.setSpacing(_em(self, 0.45))
        header = QHBoxLayout()
        header.setSpacing(_em(self, 0.4))
        self._icon = _IconLabel(self.ICON, self._icon_colour())
        self._title = _bold(_label(selectable=False))
        header.addWidget(self._icon)
        header.addWidget(self._title, 1)
        outer.addLayout(header)
        #: Subclasses add their content here.
        self.body = QVBoxLayout()
        self.body.setSpacing(_em(self, 0.45))
        outer.addLayout(self.body)
        #: A refused answer (the payload's ``error``) or a failed action, in red.
        self.error_label = _error_label()
        outer.addWidget(self.error_label)
        #: Inline editors go here (between the content and the buttons).
        self.inline = QVBoxLayout()
        outer.addLayout(self.inline)
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(_em(self, 0.4))
        outer.addLayout(self.buttons)
        answer_row = QHBoxLayout()
        self._answer_icon = _IconLabel("check")
        self._answer_label = _label(muted=True)
        answer_row.addWidget(self._answer_icon)
        answer_row.addWidget(self._answer_label, 1)
        self._answer_widgets = (self._answer_icon, self._answer_label)
        for widget in self._answer_widgets:
            widget.hide()
        outer.addLayout(answer_row)

    # -- public API ----------------------------------------------------------------------

    @property
    def message(self) -> Message:
        """The message shown."""
        return self._message

    def set_message(self, message: Message) -> None:
        """Show a newer version of the same message (e.g. more check results)."""
        self._message = message
        self.retranslate()

    def set_answered(self, decision_text: str) -> None:
        """The card was answered with ``decision_text``.

        Its actions are disabled and the answer is shown under them.
        """
        self._answer = decision_text
        self._pending = False
        self._close_inline()
        for widget in self._decision_buttons:
            widget.setEnabled(False)
        self._answer_label.setText(tr("Your answer: {answer}").format(answer=decision_text))
        for widget in self._answer_widgets:
            widget.show()

    def reopen(self, error: str | None = None) -> None:
        """The answer just given was not accepted: enable the actions again.

        ``error`` (one sentence), when given, is shown in red.
        """
        self._pending = False
        if self._answer is None:
            for widget in self._decision_buttons:
                widget.setEnabled(True)
        if error:
            self.error_label.setText(error)
            self.error_label.show()

    def is_answered(self) -> bool:
        """Whether :meth:`set_answered` was called."""
        return self._answer is not None

    def retranslate(self) -> None:
        """Set the heading and the buttons' texts (subclasses add their content)."""
        self._title.setText(tr(self.TITLE) if self.TITLE else "")
        for button, text, tip in self._button_texts:
            button.setText(tr(text))
            button.setAccessibleName(tr(text))
            button.setToolTip(tr(tip or text))
        if self._answer is not None:
            self._answer_label.setText(tr("Your answer: {answer}").format(answer=self._answer))
        error = self._message.data.get("error")
        if isinstance(error, str) and error and self.error_label.isHidden():
            self.error_label.setText(error)
            self.error_label.show()

    # -- for subclasses ------------------------------------------------------------------

    def _data(self) -> dict[str, Any]:
        return self._message.data

    def _details(self) -> dict[str, Any]:
        details = self._message.data.get("details")
        return details if isinstance(details, dict) else {}

    def _options(self, default: tuple[str, ...]) -> set[str]:
        options = self._message.data.get("options")
        if isinstance(options, list) and options:
            return {str(o) for o in options}
        return set(default)

    def _icon_colour(self) -> str | None:
        return None

    def _add_button(self, text: str, tip: str, slot: Callable[[], None], *,
                    primary: bool = False, decision: bool = True) -> QPushButton:
        """A button in the actions row (``text``/``tip`` are English, translated later)."""
        button = QPushButton()
        button.clicked.connect(slot)
        if primary:
            font = QFont(button.font())
            font.setBold(True)
            button.setFont(font)
        self.buttons.addWidget(button)
        self._button_texts.append((button, text, tip))
        if decision:
            self._decision_buttons.append(button)
        return button

    def _register_texts(self, button: QPushButton, text: str, tip: str = "") -> None:
        self._button_texts.append((button, text, tip))

    def _decide(self, decision: dict[str, Any]) -> None:
        """Emit ``decided``; the actions stay disabled until the view answers.

        The view calls :meth:`set_answered` or :meth:`reopen`.
        """
        if self._answer is not None or self._pending:
            return
        self._pending = True
        self._close_inline()
        self.error_label.hide()
        for widget in self._decision_buttons:
            widget.setEnabled(False)
        self.decided.emit(self._message.message_id, decision)

    def _close_inline(self) -> None:
        for index in range(self.inline.count()):
            item = self.inline.itemAt(index)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()

    def _fill_colour(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Base)

    def _border_colour(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Mid)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the rounded outline."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self._border_colour(), 1))
        painter.setBrush(self._fill_colour())
        radius = _em(self, 0.75)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5),
                                radius, radius)


class _RejectMixin:
    """Reject with an optional reason typed in an inline row."""

    _reason: _ReasonRow

    def _setup_reason(self, card: Card, placeholder: str) -> None:
        self._reason = _ReasonRow()
        self._reason_placeholder = placeholder
        card.inline.addWidget(self._reason)
        self._reason.submitted.connect(
            lambda text: card._decide({"action": "reject", "feedback": text}))
        self._reason.closed.connect(self._reason.hide)
        card._register_texts(self._reason.confirm, "Reject", "Reject with this reason")
        card._register_texts(self._reason.cancel, "Cancel", "Close without answering")
        card._decision_buttons += [self._reason.confirm, self._reason.field]

    def _retranslate_reason(self) -> None:
        self._reason.field.setPlaceholderText(tr(self._reason_placeholder))
        self._reason.field.setAccessibleName(tr(self._reason_placeholder))
        self._reason.field.setToolTip(tr(self._reason_placeholder))

    def _ask_reason(self) -> None:
        assert isinstance(self, Card)
        self._close_inline()
        self._reason.open()


class SafetyCard(_RejectMixin, Card):
    """The safety verdict before a run starts (interrupt ``confirm_start``).

    ``data["details"]``: ``task`` (str), ``verdict`` (:class:`agents.schemas.SafetyVerdict`
    as a dict: level, recommendation, reasons ...); ``data["needs_person"]``: only a person
    may answer. Decisions: approve; reject with ``feedback``; edit with ``content`` (the task).
    """

    TITLE = "Safety check"
    ICON = "shield"
    LEVELS: ClassVar[dict[str, str]] = {"green": "Low risk", "yellow": "Caution",
                                        "red": "High risk"}

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(message, parent)
        badge = QHBoxLayout()
        badge.setSpacing(_em(self, 0.4))
        self._dot = _Dot(STATUS_COLOURS["yellow"])
        self._level = _bold(_label(selectable=False))
        self._recommendation = _label(muted=True, selectable=False)
        badge.addWidget(self._dot)
        badge.addWidget(self._level)
        badge.addWidget(self._recommendation, 1)
        self.body.addLayout(badge)
        self._reasons = _label(rich=True)
        self._task_caption = _bold(_label(selectable=False))
        self._task = _label()
        self._notice = _label()
        self._notice.setForegroundRole(QPalette.ColorRole.WindowText)
        for widget in (self._reasons, self._task_caption, self._task, self._notice):
            self.body.addWidget(widget)
        options = self._options(("approve", "reject", "edit"))
        if "approve" in options:
            self._add_button("Approve", "Start building this app",
                             lambda: self._decide({"action": "approve"}), primary=True)
        if "reject" in options:
            self._add_button("Reject", "Do not build this app", self._ask_reason)
        if "edit" in options:
            self._add_button("Modify", "Change the task and check it again", self._modify)
        self.buttons.addStretch(1)
        self._setup_reason(self, "Reason (optional)")
        self._editor = _TextEditorRow()
        self.inline.addWidget(self._editor)
        self._editor.submitted.connect(self._submit_task)
        self._editor.closed.connect(self._editor.hide)
        self._register_texts(self._editor.confirm, "Send", "Send the changed task")
        self._register_texts(self._editor.cancel, "Cancel", "Close without answering")
        self._decision_buttons += [self._editor.confirm, self._editor.editor]
        self.retranslate()

    def _verdict(self) -> dict[str, Any]:
        verdict = self._details().get("verdict")
        return verdict if isinstance(verdict, dict) else {}

    def retranslate(self) -> None:
        """Set every text: level, recommendation, reasons, task, notice, buttons."""
        super().retranslate()
        self._retranslate_reason()
        verdict = self._verdict()
        level = str(verdict.get("level", ""))
        self._dot.set_colour(STATUS_COLOURS.get(level, "#8f8f8f"))
        self._level.setText(tr(self.LEVELS.get(level, "Unknown risk")))
        recommendation = str(verdict.get("recommendation", ""))
        self._recommendation.setText(
            "· " + tr(f"Recommendation: {recommendation}")
            if recommendation in ("approve", "reject", "modify") else "")
        reasons = [str(r) for r in verdict.get("reasons", []) if str(r).strip()]
        self._reasons.setText("<ul>" + "".join(f"<li>{escape(r)}</li>" for r in reasons)
                              + "</ul>" if reasons else "")
        self._reasons.setVisible(bool(reasons))
        if not verdict:  # no structured verdict: show the summary the run wrote
            self._reasons.setText(markdown_html(str(self._data().get("summary", ""))))
            self._reasons.setVisible(True)
        self._task_caption.setText(tr("Task"))
        self._task.setText(str(self._details().get("task", "")))
        self._notice.setText(tr("Only you can approve this request: automatic approval does "
                                "not apply."))
        self._notice.setVisible(bool(self._data().get("needs_person")))
        self._editor.editor.setAccessibleName(tr("The changed task"))
        self._editor.editor.setToolTip(tr("The changed task"))

    def _modify(self) -> None:
        self._close_inline()
        self._editor.open(str(self._details().get("task", "")))

    def _submit_task(self, text: str) -> None:
        if text.strip():
            self._decide({"action": "edit", "content": text.strip()})
        else:
            self._editor.show_problem(tr("Type the task first."))


class PlanCard(_RejectMixin, Card):
    """The plan to approve (interrupt ``approve_plan``).

    ``data["details"]``: ``plan`` (:class:`agents.schemas.Plan` as a dict: summary, app
    {name, entry, gui}, dependencies, steps [{id, tool, params, description}]) and
    ``spec_markdown``; ``data["error"]``: why an edited plan was refused. Decisions: approve;
    reject with ``feedback``; edit with ``content`` (the plan as JSON).
    """

    TITLE = "Plan"
    ICON = "list-checks"

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(message, parent)
        self._summary = _bold(_label())
        self._app = _label(muted=True)
        self._dependencies = _label(muted=True)
        self._spec = _label(rich=True)
        self._spec_section = _Collapsible(self._spec)
        self._steps_caption = _bold(_label(selectable=False))
        self._steps = _label(rich=True)
        for widget in (self._summary, self._app, self._dependencies, self._spec_section,
                       self._steps_caption, self._steps):
            self.body.addWidget(widget)
        options = self._options(("approve", "reject", "edit"))
        if "approve" in options:
            self._add_button("Approve", "Build by this plan",
                             lambda: self._decide({"action": "approve"}), primary=True)
        if "reject" in options:
            self._add_button("Reject", "Ask for a new plan", self._ask_reason)
        if "edit" in options:
            self._add_button("Edit", "Edit the plan as JSON", self._edit)
        self.buttons.addStretch(1)
        self._setup_reason(self, "What should change? (optional)")
        self._editor = _TextEditorRow(monospace=True)
        self.inline.addWidget(self._editor)
        self._editor.submitted.connect(self._submit_plan)
        self._editor.closed.connect(self._editor.hide)
        self._register_texts(self._editor.confirm, "Send", "Send the edited plan")
        self._register_texts(self._editor.cancel, "Cancel", "Close without answering")
        self._decision_buttons += [self._editor.confirm, self._editor.editor]
        self.retranslate()

    def _plan(self) -> dict[str, Any]:
        plan = self._details().get("plan")
        return plan if isinstance(plan, dict) else {}

    def retranslate(self) -> None:
        """Set every text: summary, executable, spec, steps, buttons."""
        super().retranslate()
        self._retranslate_reason()
        plan = self._plan()
        self._summary.setText(str(plan.get("summary", "")))
        self._summary.setVisible(bool(plan.get("summary")))
        app = plan.get("app") if isinstance(plan.get("app"), dict) else {}
        assert isinstance(app, dict)
        if app.get("name"):
            kind = tr("window app") if app.get("gui") else tr("command line")
            self._app.setText(tr("Executable: {name} ({kind})").format(name=app["name"],
                                                                       kind=kind))
        self._app.setVisible(bool(app.get("name")))
        dependencies = [str(d) for d in plan.get("dependencies", []) or []]
        self._dependencies.setText(tr("Dependencies: {names}").format(
            names=", ".join(dependencies)))
        self._dependencies.setVisible(bool(dependencies))
        spec = str(self._details().get("spec_markdown", ""))
        self._spec.setText(markdown_html(spec))
        self._spec_section.setVisible(bool(spec))
        self._spec_section.toggle.setText(tr("Specification"))
        self._spec_section.toggle.setAccessibleName(tr("Specification"))
        self._spec_section.toggle.setToolTip(tr("Show or hide the specification"))
        steps = [s for s in plan.get("steps", []) or [] if isinstance(s, dict)]
        self._steps_caption.setText(tr("Steps"))
        self._steps_caption.setVisible(bool(steps))
        self._steps.setText(self._steps_html(steps) if steps
                            else markdown_html(str(self._data().get("summary", ""))))
        self._editor.editor.setAccessibleName(tr("The plan as JSON"))
        self._editor.editor.setToolTip(tr("The plan as JSON"))

    @staticmethod
    def _steps_html(steps: list[dict[str, Any]]) -> str:
        items = []
        for step in steps:
            params = step.get("params") if isinstance(step.get("params"), dict) else {}
            assert isinstance(params, dict)
            target = params.get("path") or params.get("argv") or ""
            if isinstance(target, list):
                target = " ".join(map(str, target))
            shown = f" <code>{escape(str(target))}</code>" if target else ""
            items.append(f"<li><code>{escape(str(step.get('tool', '')))}</code>{shown} — "
                         f"{escape(str(step.get('description', '')))}</li>")
        return "<ol>" + "".join(items) + "</ol>"

    def _edit(self) -> None:
        self._close_inline()
        self._editor.open(json.dumps(self._plan(), indent=2, ensure_ascii=False))

    def _submit_plan(self, text: str) -> None:
        try:
            json.loads(text)
        except ValueError as exc:
            self._editor.show_problem(tr("This is not valid JSON: {problem}").format(
                problem=str(exc)))
            return
        self._decide({"action": "edit", "content": text})


class FetchCard(_RejectMixin, Card):
    """A web action to approve (interrupt ``approve_fetch``).

    ``data["details"]``: a :class:`tools.actions.web_actions.FetchRequest` as a dict
    (action, url, repo, dest, dest_absolute, size_bytes, size_note, reason; ``title`` when
    the interface knows one). Decisions: approve; reject with ``feedback``.
    """

    TITLE = "Download approval"
    ICON = "download"
    VERBS: ClassVar[dict[str, str]] = {
        "download": "The coder wants to download a file",
        "clone_repo": "The coder wants to copy a repository",
        "fetch_page": "The coder wants to fetch a page",
        "github_repo": "The coder wants to read from GitHub"}
    ROWS = (("url", "Address"), ("repo", "Repository"), ("size", "Size"),
            ("dest", "Saved to"), ("reason", "Why you are asked"))

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(message, parent)
        self._what = _label()
        self._summary = _label(rich=True)
        self.body.addWidget(self._what)
        self.body.addWidget(self._summary)
        grid = QGridLayout()
        grid.setHorizontalSpacing(_em(self, 0.8))
        self._rows: dict[str, tuple[QLabel, QLabel]] = {}
        for row, (key, _text) in enumerate(self.ROWS):
            caption, value = _label(muted=True, selectable=False), _label()
            grid.addWidget(caption, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, 1)
            self._rows[key] = (caption, value)
        grid.setColumnStretch(1, 1)
        self.body.addLayout(grid)
        options = self._options(("approve", "reject"))
        if "approve" in options:
            self._add_button("Approve", "Allow this download",
                             lambda: self._decide({"action": "approve"}), primary=True)
        if "reject" in options:
            self._add_button("Reject", "Do not download it", self._ask_reason)
        self.buttons.addStretch(1)
        self._setup_reason(self, "Reason (optional)")
        self.retranslate()

    def retranslate(self) -> None:
        """Set every text: what is fetched, address, size, destination, reason."""
        super().retranslate()
        self._retranslate_reason()
        details = self._details()
        structured = bool(details.get("url"))
        title = details.get("title")
        verb = tr(self.VERBS.get(str(details.get("action")), "The coder wants to use the web"))
        self._what.setText(f"{title} — {verb}" if title else verb)
        self._what.setVisible(structured)
        self._summary.setText(markdown_html(str(self._data().get("summary", ""))))
        self._summary.setVisible(not structured)
        size = details.get("size_bytes")
        size_text = format_size(int(size)) if isinstance(size, int) else tr("unknown")
        if details.get("size_note"):
            size_text += f" ({details['size_note']})"
        dest = details.get("dest")
        values = {
            "url": str(details.get("url") or ""),
            "repo": str(details.get("repo") or ""),
            "size": size_text,
            "dest": (f"{dest} ({details.get('dest_absolute') or ''})".replace(" ()", "")
                     if dest else tr("nothing is saved; the text goes to the coder")),
            "reason": str(details.get("reason") or ""),
        }
        for key, text in self.ROWS:
            caption, value = self._rows[key]
            caption.setText(tr(text))
            value.setText(values[key])
            visible = structured and bool(values[key])
            caption.setVisible(visible)
            value.setVisible(visible)


class QuestionCard(Card):
    """The repairs are not converging (interrupt ``ask_human``).

    ``data["summary"]``: the question (Markdown); ``data["details"]``: ``findings`` (list of
    finding dicts: check, file, line, message) and ``loop`` (dict or None). Decisions:
    ``{"action": "continue", "feedback": hint}`` or ``{"action": "stop"}``.
    """

    TITLE = "Your decision is needed"
    ICON = "help-circle"

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(message, parent)
        self._question = _label(rich=True)
        self._findings = _label()
        self._findings_section = _Collapsible(self._findings)
        self.hint = QLineEdit()
        self.hint.returnPressed.connect(self._continue)
        for widget in (self._question, self._findings_section, self.hint):
            self.body.addWidget(widget)
        self._decision_buttons.append(self.hint)
        options = self._options(("continue", "stop"))
        if "continue" in options:
            self._add_button("Continue", "Try more repair rounds", self._continue, primary=True)
        if "stop" in options:
            self._add_button("Stop", "Stop the run", lambda: self._decide({"action": "stop"}))
        self.buttons.addStretch(1)
        self.retranslate()

    def retranslate(self) -> None:
        """Set every text: the question, the findings, the hint field, the buttons."""
        super().retranslate()
        self._question.setText(markdown_html(str(self._data().get("summary", ""))))
        findings = [f for f in self._details().get("findings", []) or [] if isinstance(f, dict)]
        lines = []
        for finding in findings[:50]:
            where = ":".join(str(finding[k]) for k in ("file", "line") if finding.get(k))
            lines.append(" ".join(p for p in (f"[{finding.get('check', '')}]", where,
                                              str(finding.get("message", ""))) if p))
        self._findings.setText("\n".join(lines))
        self._findings_section.setVisible(bool(findings))
        self._findings_section.toggle.setText(tr("Open findings ({count})").format(
            count=len(findings)))
        self._findings_section.toggle.setAccessibleName(
            tr("Open findings ({count})").format(count=len(findings)))
        self._findings_section.toggle.setToolTip(tr("Show or hide the findings"))
        self.hint.setPlaceholderText(tr("Hint for the coder (optional)"))
        self.hint.setAccessibleName(tr("Hint for the coder (optional)"))
        self.hint.setToolTip(tr("Hint for the coder (optional)"))

    def _continue(self) -> None:
        self._decide({"action": "continue", "feedback": self.hint.text().strip()})


class ConfirmCard(Card):
    """A generic question: the summary (Markdown) and one button per option.

    Used for ``confirm`` and ``spec`` messages (and any kind without a card of its own).
    Decision: ``{"action": option}``.
    """

    TITLE = "Confirmation"
    ICON = "help-circle"

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(message, parent)
        if message.kind == "spec":
            self.TITLE, self.ICON = "Specification", "file-text"
            self._icon.set_icon("file-text")
        self._summary = _label(rich=True)
        self.body.addWidget(self._summary)
        options = message.data.get("options")
        for n, option in enumerate(options if isinstance(options, list) else []):
            text = _ACTION_LABELS.get(str(option), str(option))
            self._add_button(text, text, self._answer_with(str(option)), primary=n == 0)
        self.buttons.addStretch(1)
        self.retranslate()

    def _answer_with(self, option: str) -> Callable[[], None]:
        return lambda: self._decide({"action": option})

    def retranslate(self) -> None:
        """Set every text: the summary (or the spec) and the buttons."""
        super().retranslate()
        text = str(self._details().get("spec_markdown") or self._data().get("summary")
                   or self._message.content)
        self._summary.setText(markdown_html(text))


class _Pill(QLabel):
    """A label on a rounded, softly filled background (the person's answer)."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.palette().color(QPalette.ColorRole.Midlight))
        radius = min(self.height() / 2, _em(self, 0.9))
        painter.drawRoundedRect(QRectF(self.rect()), radius, radius)
        painter.end()
        super().paintEvent(event)


class DecisionCard(Card):
    """The person's answer to a card: a small right-aligned pill (role ``user``).

    Shows ``message.content`` or, when empty, :func:`decision_text` of ``message.data``.
    """

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(message, parent)
        self._title.hide()
        self._icon.hide()
        self._outer.setContentsMargins(0, 0, 0, 0)
        self.pill = _Pill()
        self.pill.setWordWrap(True)
        self.pill.setTextFormat(Qt.TextFormat.PlainText)
        self.pill.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        pad_v, pad_h = _em(self, 0.35), _em(self, 0.8)
        self.pill.setContentsMargins(pad_h, pad_v, pad_h, pad_v)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.pill, 0, Qt.AlignmentFlag.AlignRight)
        self.body.addLayout(row)
        self.retranslate()

    def retranslate(self) -> None:
        """Set the answer's text."""
        super().retranslate()
        self.error_label.hide()
        text = self._message.content.strip() or decision_text(self._data())
        self.pill.setWordWrap(len(text) > 60)  # short answers stay on one line
        self.pill.setText(text)
        self.pill.setAccessibleName(self.pill.text())

    def set_answered(self, decision_text: str) -> None:
        """Nothing to answer on an answer."""

    def paintEvent(self, event: QPaintEvent) -> None:
        """No frame: only the pill is drawn."""


class ChecksCard(Card):
    """Check results as they come: ✓ passed, ✗ failed, – skipped, with the first finding.

    ``data["checks"]`` or ``data["events"]``: dicts with ``check`` (or ``name``), ``passed``,
    ``skipped``, ``round`` and the findings as ``problems`` (list of str), ``first_finding``
    (str) or ``findings`` (list of finding dicts; a count is ignored). Events of other types
    are skipped. Call :meth:`set_message` with the updated message to add results.
    """

    TITLE = "Checks"
    ICON = "list-checks"

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(message, parent)
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(_em(self, 0.5))
        self._grid.setColumnStretch(2, 1)
        self.body.addLayout(self._grid)
        self._rows: list[tuple[_IconLabel, QLabel, QLabel]] = []
        self._rounds: list[QLabel] = []
        self.retranslate()

    @staticmethod
    def results(data: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The check results in ``data``: ``[{name, passed, skipped, round, finding}]``."""
        raw = data.get("checks") or data.get("events") or []
        out: list[dict[str, Any]] = []
        for entry in raw if isinstance(raw, list) else []:
            if not isinstance(entry, dict) or entry.get("type", "check_result") != "check_result":
                continue
            finding = ""
            problems = entry.get("problems")
            findings = entry.get("findings")
            if isinstance(problems, list) and problems:
                finding = str(problems[0])
            elif entry.get("first_finding"):
                finding = str(entry["first_finding"])
            elif isinstance(findings, list) and findings:
                first = findings[0]
                if isinstance(first, dict):
                    where = ":".join(str(first[k]) for k in ("file", "line") if first.get(k))
                    finding = f"{where} {first.get('message', '')}".strip()
                else:
                    finding = str(first)
            out.append({"name": str(entry.get("check") or entry.get("name") or "?"),
                        "passed": bool(entry.get("passed")),
                        "skipped": bool(entry.get("skipped")),
                        "round": entry.get("round"), "finding": finding})
        return out

    def retranslate(self) -> None:
        """Set the heading with the counts and one row per result."""
        super().retranslate()
        results = self.results(self._data())
        passed = sum(r["passed"] and not r["skipped"] for r in results)
        failed = sum(not r["passed"] and not r["skipped"] for r in results)
        self._title.setText(tr("Checks") + " — " + tr("{passed} passed, {failed} failed").format(
            passed=passed, failed=failed))
        self._rebuild(results)

    def _rebuild(self, results: list[dict[str, Any]]) -> None:
        for widgets in self._rows:
            for widget in widgets:
                widget.deleteLater()
        for label in self._rounds:
            label.deleteLater()
        self._rows, self._rounds = [], []
        rounds = {r["round"] for r in results}
        show_rounds = len(rounds) > 1
        row, last_round = 0, object()
        for result in results:
            if show_rounds and result["round"] != last_round:
                last_round = result["round"]
                caption = _bold(_label(tr("Round {round}").format(round=last_round),
                                       selectable=False))
                self._grid.addWidget(caption, row, 0, 1, 3)
                self._rounds.append(caption)
                row += 1
            if result["skipped"]:
                mark, colour, state = "minus", None, tr("skipped")
            elif result["passed"]:
                mark, colour, state = "check", STATUS_COLOURS["green"], tr("passed")
            else:
                mark, colour, state = "x", STATUS_COLOURS["red"], tr("failed")
            glyph = _IconLabel(mark, colour)
            glyph.setAccessibleName(state)
            glyph.setToolTip(state)
            name = _label(result["name"])
            finding = result["finding"]
            detail = _label(finding if len(finding) <= 200 else finding[:199] + "…", muted=True)
            self._grid.addWidget(glyph, row, 0, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(name, row, 1, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(detail, row, 2)
            self._rows.append((glyph, name, detail))
            row += 1

    def row_texts(self) -> list[tuple[str, str, str]]:
        """``(state, name, first finding)`` per row, in order (for tests and accessibility)."""
        return [(g.accessibleName(), n.text(), d.text()) for g, n, d in self._rows]


class ArtifactCard(Card):
    """The finished run (``data`` = the engine's ``finished`` event).

    ``data["status"]`` (done, rejected, stopped ...), ``data["artifact"]``: ``path`` (the
    executable), ``size_bytes`` (or ``size``), ``sha256``; ``data["error"]``;
    ``data["report"]``: the run's report file and ``data["run_dir"]``: its folder (both set by
    the engine's ``finished`` event).

    The card only shows the run and asks: "Run" first confirms, then emits ``decided`` with
    ``{"action": "launch"}`` and "Open folder" with ``{"action": "open_folder"}``; the
    window starts the executable (:func:`graph.control.launch_artifact`, which checks it
    against the run's manifest) or finds its folder (:func:`graph.control.artifact_folder`)
    and answers with :meth:`show_error` when that fails. Neither answers the card: its
    buttons stay usable. "Open report" opens ``data["report"]`` (an ``.html`` or ``.md``
    file) with the system's viewer.
    """

    TITLE = "Your app is ready"
    ICON = "package"
    STATUSES: ClassVar[dict[str, str]] = {
        "rejected": "The run was rejected", "stopped": "The run was stopped",
        "failed": "The run failed", "cancelled": "The run was cancelled"}
    #: The report files "Open report" opens (nothing that could run).
    REPORT_SUFFIXES = frozenset({".html", ".htm", ".md"})

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(message, parent)
        self._name = _bold(_label())
        self._size = _label(muted=True)
        self._digest = _label(muted=True)
        for widget in (self._name, self._size, self._digest):
            self.body.addWidget(widget)
        self.open_folder = self._add_button("Open folder", "Show the executable in its folder",
                                            self._open_folder, decision=False)
        self.run = self._add_button("Run", "Start the app that was built", self._run,
                                    primary=True, decision=False)
        self.open_report = self._add_button("Open report", "Open the run's report",
                                            self._open_report, decision=False)
        self.open_folder.setIcon(icon("folder-open"))
        self.run.setIcon(icon("play"))
        self.open_report.setIcon(icon("file-text"))
        self.buttons.addStretch(1)
        self.retranslate()

    def _artifact(self) -> dict[str, Any]:
        artifact = self._data().get("artifact")
        return artifact if isinstance(artifact, dict) else {}

    def executable(self) -> Path | None:
        """The built executable's path as the run reported it (None when it built nothing)."""
        path = self._artifact().get("path")
        return Path(str(path)) if path else None

    def report_path(self) -> Path | None:
        """The run's report (``data["report"]``) when it is there (None otherwise)."""
        report = self._data().get("report")
        if not report:
            return None
        path = Path(str(report))
        return path if path.suffix.lower() in self.REPORT_SUFFIXES and path.is_file() else None

    def retranslate(self) -> None:
        """Set every text: the heading by status, the executable, size and digest."""
        super().retranslate()
        status = str(self._data().get("status", "done"))
        if status != "done":
            self._title.setText(tr(self.STATUSES[status]) if status in self.STATUSES
                                else tr("The run ended: {status}").format(status=status))
            self._icon.set_icon("alert-triangle")
        else:
            self._icon.set_icon("check-circle", STATUS_COLOURS["green"])
        artifact = self._artifact()
        executable = self.executable()
        self._name.setText(executable.name if executable else "")
        self._name.setToolTip(tooltip(str(executable)) if executable else "")
        self._name.setVisible(executable is not None)
        size = artifact.get("size_bytes", artifact.get("size"))
        self._size.setText(tr("Size: {size}").format(size=format_size(int(size)))
                           if isinstance(size, int) else "")
        self._size.setVisible(isinstance(size, int))
        digest = str(artifact.get("sha256") or "")
        self._digest.setText(tr("SHA-256: {digest}").format(digest=digest[:16] + "…")
                             if digest else "")
        self._digest.setToolTip(tooltip(digest))
        self._digest.setVisible(bool(digest))
        usable = executable is not None and self._message.run_id is not None
        self.open_folder.setEnabled(usable)
        self.run.setEnabled(usable)
        self.open_report.setEnabled(self.report_path() is not None)

    def show_error(self, text: str) -> None:
        """Show why an action failed (in red, under the card's content)."""
        self.error_label.setText(text)
        self.error_label.show()

    def _open_folder(self) -> None:
        self.error_label.hide()
        self.decided.emit(self._message.message_id, {"action": "open_folder"})

    def _run(self) -> None:
        executable = self.executable()
        if executable is None:
            return
        self.error_label.hide()
        if ask(self.window(), tr("Run the app?"),
               tr("Run {name}? It was built and checked by MultiCoder in a sandbox; running it"
                  " executes it on this computer.").format(name=executable.name),
               icon=QMessageBox.Icon.Warning, yes_text=tr("Run")):
            self.decided.emit(self._message.message_id, {"action": "launch"})

    def _open_report(self) -> None:
        report = self.report_path()
        if report is None:
            self.show_error(tr("The report is no longer there."))
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(report)))


class ErrorCard(Card):
    """A failure: red-tinted, with the message and, when ``data["resumable"]``, Resume.

    ``data["error"]``: the failure (one sentence; ``"cancelled"`` when the person stopped
    the run). Decision: ``{"action": "resume"}``.
    """

    TITLE = "Something went wrong"
    ICON = "alert-triangle"

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(message, parent)
        self._text = _label()
        self.body.addWidget(self._text)
        self.resume: QPushButton | None = None
        if message.data.get("resumable"):
            self.resume = self._add_button("Resume", "Continue the run from where it stopped",
                                           lambda: self._decide({"action": "resume"}),
                                           primary=True)
            self.resume.setIcon(icon("rotate-ccw"))
        self.buttons.addStretch(1)
        self.retranslate()

    def _icon_colour(self) -> str | None:
        return STATUS_COLOURS["red"]

    #: The heading by how the run ended (a failure's is :attr:`TITLE`).
    TITLES: ClassVar[dict[str, str]] = {"refused": "Request refused",
                                        "rejected": "Request rejected",
                                        "stopped": "Run stopped"}

    def retranslate(self) -> None:
        """Set the heading, the failure and the button."""
        super().retranslate()
        status = str(self._data().get("status") or "")
        if status in self.TITLES:
            self._title.setText(tr(self.TITLES[status]))
        self.error_label.hide()  # the failure is the card's content
        error = str(self._data().get("error") or self._message.content or "")
        self._text.setText(tr("You stopped the run.") if error == "cancelled" else error)

    def _fill_colour(self) -> QColor:
        base = self.palette().color(QPalette.ColorRole.Base)
        red = QColor(STATUS_COLOURS["red"])
        mix = 0.12
        return QColor(round(base.red() * (1 - mix) + red.red() * mix),
                      round(base.green() * (1 - mix) + red.green() * mix),
                      round(base.blue() * (1 - mix) + red.blue() * mix))

    def _border_colour(self) -> QColor:
        red = QColor(STATUS_COLOURS["red"])
        red.setAlpha(140)
        return red


_CARDS: dict[str, type[Card]] = {
    "safety": SafetyCard, "plan": PlanCard, "fetch": FetchCard, "question": QuestionCard,
    "confirm": ConfirmCard, "spec": ConfirmCard, "decision": DecisionCard,
    "checks": ChecksCard, "artifact": ArtifactCard, "error": ErrorCard,
}
#: Interrupt kind -> card, for a ``confirm`` message that carries a known interrupt.
_BY_INTERRUPT: dict[str, type[Card]] = {
    "confirm_start": SafetyCard, "approve_plan": PlanCard, "approve_fetch": FetchCard,
    "ask_human": QuestionCard,
}


def make_card(message: Message, parent: QWidget | None = None) -> Card:
    """The card for ``message``, chosen by ``message.kind``.

    An unknown kind gets the generic :class:`ConfirmCard`. Never raises on odd data: missing
    fields are left out.
    """
    cls = _CARDS.get(message.kind, ConfirmCard)
    if cls is ConfirmCard and message.kind == "confirm":
        cls = _BY_INTERRUPT.get(str(message.data.get("kind")), ConfirmCard)
    return cls(message, parent)
