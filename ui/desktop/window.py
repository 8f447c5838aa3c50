"""The main window: the sidebar beside the chat (header, messages, composer) (U1, U4).

The window is a shell: the :class:`~ui.desktop.sidebar.Sidebar`, the
:class:`~ui.desktop.chat.view.ChatView` and the :class:`~ui.desktop.chat.composer.Composer`
do the showing; what they ask for goes to the engine's API through the
:class:`~ui.desktop.bridge.Bridge` (:class:`graph.conversation.Conversations` for sending,
deciding, stopping, regenerating and editing; :class:`graph.chats.ChatStore` for the chats).
Run events arrive as ``bridge.runEvent`` on the GUI thread; :meth:`Conversations.apply
<graph.conversation.Conversations.apply>` stores them and names the message to add or redraw.

Nothing slow runs on the GUI thread: sending, editing, regenerating, answering a card,
stopping and deleting a chat go through :meth:`Bridge.run_async
<ui.desktop.bridge.Bridge.run_async>` (the composer says "Starting…" while a run starts), and
their results are shown back on the GUI thread.

The window is usable while the engine loads: the chat list shows and a message sent before
``bridge.ready`` waits (shown at once, marked "Starting…") and is sent when the engine is up.
Links in the chat open only through :func:`ui.desktop.links.open_link`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import shiboken6
from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QDesktopServices,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graph.chats import Chat, Message
from graph.errors import InputError
from ui.desktop.chat.cards import decision_text
from ui.desktop.chat.composer import Composer
from ui.desktop.chat.view import ChatView
from ui.desktop.i18n import (
    Retranslatable,
    current_language,
    register,
    resolve_language,
    set_language,
    tr,
)
from ui.desktop.icons import icon
from ui.desktop.links import open_link
from ui.desktop.plain import plain_label, tooltip
from ui.desktop.shortcuts import ShortcutGuard, ShortcutsDialog, install
from ui.desktop.sidebar import Sidebar
from ui.desktop.theme import apply_theme

if TYPE_CHECKING:
    from graph.conversation import ChatUpdate
    from graph.engine import RunEvent
    from ui.desktop.bridge import Bridge

__all__ = ["EXAMPLE_TASKS", "EmptyState", "MainWindow", "StatusIndicator"]

_log = logging.getLogger(__name__)
T = TypeVar("T")

register({
    "MultiCoder": "MultiCoder",
    "New chat": "Новый чат",
    "What should I build?": "Что будем создавать?",
    "Pick an example or describe your application below.":
        "Выберите пример или опишите своё приложение ниже.",
    "CSV to XLSX converter with a GUI": "Конвертер CSV в XLSX с окном",
    "Notes app with SQLite search": "Заметки с поиском на SQLite",
    "Duplicate file finder (command line)": "Поиск дубликатов файлов (консоль)",
    "Pomodoro timer in the system tray": "Таймер «помидор» в трее",
    "Use this example": "Использовать этот пример",
    "Starting…": "Запуск…",
    "Ready": "Готово",
    "Working…": "Работаю…",
    "Engine failed": "Движок не запустился",
    "The engine is loading; your message is sent when it is ready.":
        "Движок загружается; сообщение уйдёт, как только он будет готов.",
    "The engine is ready.": "Движок готов.",
    "The run is working.": "Запуск выполняется.",
    "Models: {models}": "Модели: {models}",
    "Show the sidebar (Ctrl+Shift+S)": "Показать боковую панель (Ctrl+Shift+S)",
    "Show the sidebar": "Показать боковую панель",
    "Start a new chat (Ctrl+Shift+O)": "Начать новый чат (Ctrl+Shift+O)",
    "Chat title": "Название чата",
    "Engine status": "Состояние движка",
    "Answer copied": "Ответ скопирован",
    "Code copied": "Код скопирован",
    "No answer to copy yet": "Пока нечего копировать: ответа нет",
    "No code block to copy yet": "Пока нечего копировать: блоков кода нет",
    "The engine did not start, so the message was not sent: {reason}":
        "Движок не запустился, поэтому сообщение не отправлено: {reason}",
    "Something went wrong: {error}": "Что-то пошло не так: {error}",
    "The engine is still starting: answer again in a moment.":
        "Движок ещё запускается: ответьте ещё раз через мгновение.",
    "The run stops as soon as it has started.": "Запуск остановится, как только начнётся.",
    "{name} was started.": "{name} запущено.",
    "The folder could not be opened: {path}": "Не удалось открыть папку: {path}",
    "This app belongs to no run, so MultiCoder cannot check it: build it again.":
        "Это приложение не связано ни с одним запуском, поэтому MultiCoder не может его"
        " проверить: соберите его заново.",
    "New chat in {project}": "Новый чат в проекте «{project}»",
    "Chat history restored": "История чатов восстановлена",
    "Your chat history could not be read, so MultiCoder started a new, empty one. The damaged"
    " file was kept as:\n{path}":
        "Историю чатов не удалось прочитать, поэтому MultiCoder начал новую, пустую."
        " Повреждённый файл сохранён как:\n{path}",
    "The chat history could not be read: a new one was started.":
        "Историю чатов не удалось прочитать: начата новая.",
})

#: Example tasks of the empty chat (English source; shown and sent in the current language).
EXAMPLE_TASKS: tuple[str, ...] = (
    "CSV to XLSX converter with a GUI",
    "Notes app with SQLite search",
    "Duplicate file finder (command line)",
    "Pomodoro timer in the system tray",
)

#: Status dot colours (the only hard-coded colours: green / yellow / red).
_DOT = {"ready": "#22a55b", "working": "#22a55b", "starting": "#e0a800", "failed": "#d93f3f"}


#: Message kinds shown as cards that wait for the person's answer.
_CARD_KINDS = frozenset({"safety", "spec", "plan", "fetch", "question", "confirm"})


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _is_local(message: Message) -> bool:
    """Whether a message is only on screen (a waiting message or a notice), not stored."""
    return message.message_id.startswith(("pending-", "notice-"))


class _Dot(QWidget):
    """A small filled circle in a status colour (size from the font)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._color = QColor(_DOT["starting"])
        side = max(6, self.fontMetrics().height() // 2)
        self.setFixedSize(QSize(side, side))

    def set_color(self, color: str) -> None:
        """Paint in ``color`` (``#rrggbb``)."""
        self._color = QColor(color)
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        """Draw the circle."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._color)
        painter.drawEllipse(self.rect().adjusted(1, 1, -1, -1))
        painter.end()


class StatusIndicator(Retranslatable, QWidget):
    """The header's engine state: a coloured dot and a word.

    The word is Starting…, Ready, Working… or Engine failed; a short notice (e.g. "Answer
    copied") replaces it for a moment.
    """

    _TEXTS: ClassVar[dict[str, str]] = {
        "starting": "Starting…", "ready": "Ready", "working": "Working…",
        "failed": "Engine failed"}
    _TIPS: ClassVar[dict[str, str]] = {
        "starting": "The engine is loading; your message is sent when it is ready.",
        "ready": "The engine is ready.", "working": "The run is working."}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = "starting"
        self.reason = ""
        self._notice = ""
        self.dot = _Dot(self)
        self.label = plain_label(QLabel(self))  # a notice may be an engine sentence
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(self.fontMetrics().horizontalAdvance(" "))
        layout.addWidget(self.dot)
        layout.addWidget(self.label)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._end_notice)
        self.retranslate()

    def set_state(self, state: str, reason: str = "") -> None:
        """``starting``, ``ready``, ``working`` or ``failed`` (with its reason)."""
        self.state, self.reason = state, reason
        self.dot.set_color(_DOT.get(state, _DOT["starting"]))
        self.retranslate()

    def notice(self, text: str, msecs: int = 3000) -> None:
        """Show ``text`` instead of the state for ``msecs`` milliseconds."""
        self._notice = text
        self._timer.start(msecs)
        self.retranslate()

    def _end_notice(self) -> None:
        self._notice = ""
        self.retranslate()

    def text(self) -> str:
        """What the indicator says now."""
        return self.label.text()

    def retranslate(self) -> None:
        """Set every visible text in the current language.

        A long notice is shortened to about 30 characters' width; the tooltip holds it all.
        """
        full = self._notice or tr(self._TEXTS.get(self.state, self.state))
        width = self.fontMetrics().averageCharWidth() * 40
        self.label.setText(self.fontMetrics().elidedText(full, Qt.TextElideMode.ElideRight,
                                                         width))
        tip = self.reason if self.state == "failed" else tr(self._TIPS.get(self.state, ""))
        if self._notice and self.label.text() != self._notice:
            tip = self._notice
        self.setToolTip(tooltip(tip))
        self.setAccessibleName(tr("Engine status"))
        self.setAccessibleDescription(full)


class EmptyState(Retranslatable, QWidget):
    """What a new chat shows: the question and example tasks as clickable chips.

    Signals:
        exampleChosen(str): the chip's task text (in the current language).

    """

    exampleChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = plain_label(QLabel(self))
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setWeight(font.Weight.DemiBold)
        self.heading.setFont(font)
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle = plain_label(QLabel(self))
        self.subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.chips: list[QPushButton] = []
        grid = QGridLayout()
        em = self.fontMetrics().height()
        grid.setSpacing(em // 2)
        for n, task in enumerate(EXAMPLE_TASKS):
            chip = QPushButton(self)
            chip.setProperty("task", task)
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            chip.clicked.connect(lambda _checked=False, t=task: self.exampleChosen.emit(tr(t)))
            grid.addWidget(chip, n // 2, n % 2)
            self.chips.append(chip)
        inner = QWidget(self)
        inner.setMaximumWidth(em * 44)
        column = QVBoxLayout(inner)
        column.setSpacing(em)
        column.addWidget(self.heading)
        column.addWidget(self.subtitle)
        column.addLayout(grid)
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        outer.addWidget(inner, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(3)
        self.retranslate()

    def retranslate(self) -> None:
        """Set every visible text in the current language."""
        self.heading.setText(tr("What should I build?"))
        self.subtitle.setText(tr("Pick an example or describe your application below."))
        for chip in self.chips:
            text = tr(str(chip.property("task")))
            chip.setText(text)
            chip.setToolTip(tr("Use this example"))
            chip.setAccessibleName(text)


class MainWindow(Retranslatable, QMainWindow):
    """The app's window.

    Args:
        bridge: the engine side (its store is usable at once; the conversations after
            ``bridge.ready``).

    Attributes:
        sidebar, chat_view, composer: the three parts.
        status: the header's :class:`StatusIndicator`.
        empty_state: what a new chat shows.
        models: role -> model references for new runs (None: the settings' models).

    """

    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        self.bridge = bridge
        self.store = bridge.store
        self.models: Mapping[str, list[str]] | None = None
        self._chat_id: str | None = None
        self._new_chat_project: str | None = None  # where the next new chat is created
        self._pending: list[tuple[str, str, list[Path]]] = []  # chat, text, attachments
        self._starting: dict[int, tuple[str, str]] = {}  # token -> chat, text (run starting)
        self._stop_after: set[str] = set()  # chats whose starting run is stopped once started
        self._follow_runs: set[str] = set()  # regenerated runs: their branch is shown
        self._inflight = 0  # engine calls on the thread pool
        self._held: list[RunEvent] = []  # run events waiting for those calls
        self.recovery_notice: QMessageBox | None = None
        self._notes = 0
        self._dialogs: dict[str, QWidget] = {}
        self._closed = False
        self.setObjectName("mainWindow")

        self.sidebar = Sidebar(self.store, self)
        self.chat_view = ChatView(self)
        self.composer = Composer(bridge.staging_dir, self)
        self.empty_state = EmptyState(self)
        self.status = StatusIndicator(self)

        self.show_sidebar_button = QToolButton(self)
        self.show_sidebar_button.setIcon(icon("sidebar"))
        self.show_sidebar_button.clicked.connect(self.toggle_sidebar)
        self.header_new_chat = QToolButton(self)
        self.header_new_chat.setIcon(icon("new-chat"))
        self.header_new_chat.clicked.connect(self.new_chat)
        self.title_label = plain_label(QLabel(self))  # the chat's title, as typed
        title_font = self.title_label.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.1)
        title_font.setWeight(title_font.Weight.DemiBold)
        self.title_label.setFont(title_font)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.model_label = plain_label(QLabel(self))
        self.model_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        em = self.fontMetrics().height()
        header = QWidget(self)
        header_row = QHBoxLayout(header)
        header_row.setContentsMargins(em // 2, em // 3, em, em // 3)
        header_row.addWidget(self.show_sidebar_button)
        header_row.addWidget(self.header_new_chat)
        header_row.addWidget(self.title_label, 1)
        header_row.addWidget(self.model_label)
        header_row.addSpacing(em)
        header_row.addWidget(self.status)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.chat_view)

        composer_row = QHBoxLayout()
        composer_row.setContentsMargins(em, 0, em, em // 2)
        composer_row.addStretch(1)
        self.composer.setMaximumWidth(em * 48)
        self.composer.setSizePolicy(QSizePolicy.Policy.Expanding,
                                    self.composer.sizePolicy().verticalPolicy())
        composer_row.addWidget(self.composer, 100)
        composer_row.addStretch(1)

        chat_area = QWidget(self)
        chat_area.setObjectName("chatArea")
        column = QVBoxLayout(chat_area)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(header)
        column.addWidget(self.stack, 1)
        column.addLayout(composer_row)
        self.composer.watch_drops(chat_area)  # files dropped anywhere on the chat attach

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(chat_area)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setHandleWidth(1)
        self.splitter.setSizes([em * 16, em * 48])
        self.setCentralWidget(self.splitter)
        self.resize(em * 72, em * 46)

        self._wire()
        self._shortcuts = install(self, {
            "new_chat": self.new_chat,
            "search": self.focus_search,
            "toggle_sidebar": self.toggle_sidebar,
            "focus_composer": self.composer.focus_input,
            "copy_answer": self.copy_last_answer,
            "copy_code": self.copy_last_code_block,
            "delete_chat": self.delete_current_chat,
            "shortcuts": self.show_shortcuts,
        })
        self._guard = ShortcutGuard(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._guard)
        # keyboard order: sidebar -> chat -> composer
        QWidget.setTabOrder(self.sidebar.tasks_button, self.chat_view)
        QWidget.setTabOrder(self.chat_view, self.composer)

        self._restore_geometry()
        self.sidebar.setVisible(bridge.settings.ui.sidebar_visible)
        self._sidebar_shown_changed()
        if bridge.is_ready():
            self._ready()
        self.new_chat()
        self.retranslate()
        recovered = getattr(self.store, "recovered_from", None)
        if recovered is not None:
            QTimer.singleShot(0, self, lambda: self._show_recovery(Path(recovered)))

    def _show_recovery(self, moved_to: Path) -> None:
        """Say once that a damaged chat history was moved aside and a new one started."""
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Chat history restored"),
                          tr("Your chat history could not be read, so MultiCoder started a"
                             " new, empty one. The damaged file was kept as:\n{path}").format(
                                 path=moved_to),
                          QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setWindowModality(Qt.WindowModality.NonModal)  # the window stays usable
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.recovery_notice = box
        self.status.notice(tr("The chat history could not be read: a new one was started."),
                           15000)

    # -- wiring ------------------------------------------------------------------------------

    def _wire(self) -> None:
        bridge = self.bridge
        bridge.ready.connect(self._ready)
        bridge.failed.connect(self._failed)
        bridge.runEvent.connect(self.apply_event)
        bridge.settingsChanged.connect(self._settings_changed)
        notice = getattr(bridge, "notice", None)  # a settings change that could not apply
        if notice is not None:
            notice.connect(lambda text: self.status.notice(str(text), 10000))
        self.sidebar.delete_handler = self._delete_chat

        self.sidebar.chatSelected.connect(self.open_chat)
        self.sidebar.newChatRequested.connect(self.new_chat)
        self.sidebar.chatDeleted.connect(self._chat_deleted)
        self.sidebar.chatsChanged.connect(self._update_title)
        self.sidebar.settingsRequested.connect(lambda: self.open_settings())
        self.sidebar.taskManagerRequested.connect(self.open_task_manager)
        self.sidebar.collapseRequested.connect(self.toggle_sidebar)
        self.sidebar.errorOccurred.connect(self.status.notice)

        self.composer.sendRequested.connect(self.send)
        # typing means a run is coming: semantic memory opens now, not at start-up
        self.composer.editor.textChanged.connect(self.bridge.prepare_for_run)
        self.composer.stopRequested.connect(self.stop)
        self.empty_state.exampleChosen.connect(self._example_chosen)

        view = self.chat_view
        view.regenerateRequested.connect(self.regenerate)
        view.editRequested.connect(self.edit)
        view.branchRequested.connect(self.switch_branch)
        view.decisionRequested.connect(self.decide)
        view.linkActivated.connect(lambda url: open_link(self, str(url)))

    # -- texts -------------------------------------------------------------------------------

    def retranslate(self) -> None:
        """Set every visible text in the current language."""
        self.show_sidebar_button.setToolTip(tr("Show the sidebar (Ctrl+Shift+S)"))
        self.show_sidebar_button.setAccessibleName(tr("Show the sidebar"))
        self.header_new_chat.setToolTip(tr("Start a new chat (Ctrl+Shift+O)"))
        self.header_new_chat.setAccessibleName(tr("New chat"))
        self.title_label.setAccessibleName(tr("Chat title"))
        models = self.bridge.settings.models
        shown = ", ".join(f"{role}: {refs[0]}" for role, refs in
                          (("planner", models.planner), ("coder", models.coder),
                           ("judge", models.judge)) if refs)
        self.model_label.setText(models.coder[0].split(":", 1)[-1] if models.coder else "")
        tip = tr("Models: {models}").format(models=shown)
        self.model_label.setToolTip(tooltip(tip))
        self.model_label.setAccessibleName(tip)
        self._update_title()

    def _update_title(self) -> None:
        title = ""
        if self._chat_id is not None:
            try:
                title = self.store.get_chat(self._chat_id).title
            except InputError:
                title = ""
        shown = title or self._new_chat_title()
        self.title_label.setText(shown)
        self.title_label.setToolTip(tooltip(shown))
        # Qt appends the application's display name ("— MultiCoder") itself
        self.setWindowTitle(title or tr("MultiCoder"))

    # -- the engine's state ------------------------------------------------------------------

    def _ready(self) -> None:
        self.status.set_state("working" if self._current_busy() else "ready")
        pending, self._pending = self._pending, []
        for chat_id, text, attachments in pending:
            self._send_now(chat_id, text, attachments)
        if pending and self._chat_id is not None:
            self._reload_thread()

    def _new_chat_title(self) -> str:
        if self._chat_id is None and self._new_chat_project is not None:
            names = {p.project_id: p.name for p in self.store.list_projects()}
            if self._new_chat_project in names:
                return tr("New chat in {project}").format(
                    project=names[self._new_chat_project])
        return tr("New chat")

    def _failed(self, reason: str) -> None:
        self.status.set_state("failed", reason)
        pending, self._pending = self._pending, []
        if pending:
            self._set_busy(False)
            self.show_error(tr("The engine did not start, so the message was not sent:"
                               " {reason}").format(reason=reason))

    def _settings_changed(self) -> None:
        settings = self.bridge.settings
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, settings.ui.theme)
        language = resolve_language(settings.ui.language)
        if language != current_language():
            set_language(language)
        self.retranslate()

    def _current_busy(self) -> bool:
        """Whether the open chat's run works (or starts); asked again after engine calls."""
        conversations = self.bridge.conversations
        if self._chat_id is None:
            return False
        if self._is_starting(self._chat_id):
            return True
        if conversations is None:
            return any(chat == self._chat_id for chat, _t, _a in self._pending)
        if self._inflight:  # the conversations are busy with a call: keep what is shown
            return self.composer.is_busy()
        return conversations.busy(self._chat_id)

    def _set_busy(self, busy: bool) -> None:
        starting = self._is_starting(self._chat_id)
        busy = busy or starting
        self.chat_view.set_busy(busy)
        self.composer.set_busy(busy)
        if starting != self.composer.is_starting():
            self.composer.set_starting(starting)
        if self.status.state in ("ready", "working"):
            self.status.set_state("working" if busy else "ready")

    # -- chats -------------------------------------------------------------------------------

    def current_chat_id(self) -> str | None:
        """The chat shown (None: a new chat, not stored until the first message)."""
        return self._chat_id

    def new_chat(self) -> None:
        """Show an empty chat (stored when the first message is sent); focus the composer.

        While a project (or a chat in one) is selected in the sidebar, the chat is created
        in that project.
        """
        self._new_chat_project = self.sidebar.current_project()
        self._chat_id = None
        self.sidebar.set_current(None)
        self.chat_view.clear()
        self.stack.setCurrentWidget(self.empty_state)
        self._set_busy(False)
        self._update_title()
        self.composer.focus_input()

    def open_chat(self, chat_id: str) -> None:
        """Show the chat ``chat_id`` (its current branch)."""
        try:
            self.store.get_chat(chat_id)
        except InputError as exc:
            self.status.notice(str(exc))
            self.sidebar.refresh()
            self.new_chat()
            return
        self._chat_id = chat_id
        self.sidebar.set_current(chat_id)
        self._reload_thread()
        self._set_busy(self._current_busy())
        self._update_title()

    def _reload_thread(self) -> None:
        if self._chat_id is None:
            return
        messages = self.store.thread(self._chat_id)
        pending = [self._provisional(self._chat_id, text)
                   for chat, text, _a in self._pending if chat == self._chat_id]
        pending += [self._provisional(self._chat_id, text)
                    for chat, text in self._starting.values() if chat == self._chat_id]
        self.chat_view.clear()
        self.chat_view.set_messages(messages + pending, self.store.branches)
        self._mark_answered(messages)
        self.stack.setCurrentWidget(self.chat_view if messages or pending else self.empty_state)

    def _provisional(self, chat_id: str, text: str) -> Message:
        self._notes += 1
        return Message(message_id=f"pending-{self._notes}", chat_id=chat_id, role="user",
                       content=text, created_at=_now())

    def _chat_deleted(self, chat_id: str) -> None:
        if chat_id == self._chat_id:
            self.new_chat()

    def _delete_chat(self, chat_id: str) -> None:
        """Delete a chat the person confirmed (the sidebar's :attr:`delete_handler`).

        With the engine loaded its runs are stopped first
        (:meth:`graph.conversation.Conversations.delete_chat`, on the thread pool); before
        that only the store holds it.
        """
        self._pending = [p for p in self._pending if p[0] != chat_id]
        conversations = self.bridge.conversations
        if conversations is None:
            try:
                self.store.delete_chat(chat_id)
            except InputError as exc:
                self.status.notice(str(exc))
                self.sidebar.refresh()
                return
            self.sidebar.chat_removed(chat_id)
            return

        def failed(exc: Exception) -> None:
            self.status.notice(self._error_text(exc))
            self.sidebar.refresh()

        self._engine_call(lambda: conversations.delete_chat(chat_id),
                          lambda _none: self.sidebar.chat_removed(chat_id), failed)

    def delete_current_chat(self) -> None:
        """Delete the open chat after confirming (Ctrl+Shift+Backspace)."""
        if self._chat_id is not None:
            self.sidebar.delete_chat(self._chat_id)

    # -- engine calls off the GUI thread ------------------------------------------------------

    def _engine_call(self, fn: Callable[[], T], on_done: Callable[[T], None],
                     on_error: Callable[[Exception], None]) -> None:
        """Run ``fn`` (a :class:`graph.conversation.Conversations` call) on the bridge's pool.

        ``on_done(result)`` / ``on_error(exception)`` run on the GUI thread (skipped once the
        window has closed). Run events arriving meanwhile are held and applied after the last
        call in flight has finished: the conversations serialise their calls, so applying an
        event meanwhile would make the GUI thread wait for a run to start.
        """
        self._inflight += 1

        def finish() -> None:
            self._inflight -= 1
            if self._inflight == 0:
                self._flush_events()

        def done(value: T) -> None:
            if self._gone():
                return
            try:
                on_done(value)
            except Exception:  # a bug in showing the result must not stop the window
                _log.exception("showing an engine call's result failed")
            finally:
                finish()

        def failed(exc: Exception) -> None:
            if self._gone():
                return
            try:
                on_error(exc)
            except Exception:
                _log.exception("showing an engine call's failure failed")
            finally:
                finish()

        self.bridge.run_async(fn, done, failed)

    def _gone(self) -> bool:
        return self._closed or not shiboken6.isValid(self)

    def _flush_events(self) -> None:
        held, self._held = self._held, []
        for event in held:
            self._apply(event)
        self._set_busy(self._current_busy())

    def _error_text(self, exc: Exception) -> str:
        if isinstance(exc, InputError):
            return str(exc)
        _log.error("engine call failed", exc_info=exc)
        return tr("Something went wrong: {error}").format(error=exc)

    # -- sending and the runs' events --------------------------------------------------------

    def send(self, text: str, paths: list[Any]) -> None:
        """Send the composer's message (``sendRequested``).

        A new chat is stored first (in the project the person is in, if any). The message is
        shown at once; its run starts on the thread pool ("Starting…" meanwhile). Before the
        engine is ready the message waits and is sent on ``bridge.ready``.
        """
        attachments = [Path(p) for p in paths]
        if not text.strip() and not attachments:
            return
        if self._chat_id is None:
            chat = self._create_chat()
            self._chat_id = chat.chat_id
            self.sidebar.set_current(chat.chat_id)
        chat_id = self._chat_id
        if not self.bridge.is_ready():
            if self.status.state == "failed":
                self.show_error(tr("The engine did not start, so the message was not sent:"
                                   " {reason}").format(reason=self.status.reason))
                return
            self._pending.append((chat_id, text, attachments))
            self.stack.setCurrentWidget(self.chat_view)
            self.chat_view.add_message(self._provisional(chat_id, text))
            self._set_busy(True)
            self.sidebar.refresh()
            return
        self._send_now(chat_id, text, attachments)

    def _create_chat(self) -> Chat:
        project = self._new_chat_project
        if project is not None:
            try:
                return self.store.create_chat(project_id=project)
            except InputError:  # the project was deleted meanwhile
                self._new_chat_project = None
        return self.store.create_chat()

    def _send_now(self, chat_id: str, text: str, attachments: list[Path]) -> None:
        conversations = self.bridge.conversations
        assert conversations is not None
        self._notes += 1
        token = self._notes
        self._starting[token] = (chat_id, text)
        if chat_id == self._chat_id:
            self.stack.setCurrentWidget(self.chat_view)
            self.chat_view.add_message(self._provisional(chat_id, text))
            self.chat_view.scroll_to_bottom()
        self._set_busy(True)
        self.sidebar.refresh()
        models = self.models
        self._engine_call(
            lambda: conversations.send(chat_id, text, attachments=attachments, models=models),
            lambda _added: self._started(token, chat_id),
            lambda exc: self._start_failed(token, chat_id, exc))

    def _started(self, token: int, chat_id: str) -> None:
        """A sent message is stored and its run queued: show the stored thread."""
        self._starting.pop(token, None)
        self.sidebar.refresh()
        self._update_title()
        if chat_id == self._chat_id:
            self._reload_thread()
        if chat_id in self._stop_after and not self._is_starting(chat_id):
            self._stop_after.discard(chat_id)
            self._stop_chat(chat_id)

    def _start_failed(self, token: int, chat_id: str, exc: Exception) -> None:
        """The run did not start: the stored message and its error (or a notice) show why."""
        self._starting.pop(token, None)
        self._stop_after.discard(chat_id)
        self.sidebar.refresh()
        self._update_title()
        if chat_id == self._chat_id:
            self._reload_thread()
            self._show_unless_shown(self._error_text(exc))

    def _show_unless_shown(self, error: str) -> None:
        """Show ``error`` in the chat unless its last message already says it."""
        shown = self.chat_view.messages()
        last = shown[-1] if shown else None
        if last is None or last.kind != "error" or error not in (
                last.content, str(last.data.get("error", ""))):
            self.show_error(error)

    def _is_starting(self, chat_id: str | None) -> bool:
        return chat_id is not None and any(c == chat_id for c, _t in self._starting.values())

    def apply_event(self, event: RunEvent) -> None:
        """Store a run event in its chat and show what changed (``bridge.runEvent``).

        Held while an engine call is in flight (see :meth:`_engine_call`).
        """
        if self._inflight:
            self._held.append(event)
            return
        self._apply(event)

    def _apply(self, event: RunEvent) -> None:
        conversations = self.bridge.conversations
        if conversations is None:
            return
        try:
            update = conversations.apply(event)
        except Exception:  # one bad event must not stop the others
            _log.exception("run event not applied")
            return
        self.show_update(update)

    def show_update(self, update: ChatUpdate) -> None:
        """Show a :class:`graph.conversation.ChatUpdate` if it concerns the open chat."""
        if update.chat_id is None or update.chat_id != self._chat_id:
            return
        message = update.message
        if message is not None:
            if self.stack.currentWidget() is not self.chat_view:
                self.stack.setCurrentWidget(self.chat_view)
            if update.change == "updated":
                self.chat_view.update_message(message)
            else:  # a finished run's summary comes before its card
                for added in (*update.before, message):
                    self._show_added(added)
        self._set_busy(update.busy or self._is_starting(self._chat_id))

    def _show_added(self, message: Message) -> None:
        """Show a message just stored in the open chat where it belongs.

        After the last message shown it is appended; a new branch of a message shown (a
        regenerated answer, an edit) reloads the thread instead, so the new version shows
        as ‹ n/m › in place of the old one; the first message of a run the person asked to
        regenerate switches the chat to its branch. A message of a branch not shown now is
        left for when the person switches to it.
        """
        if message.run_id in self._follow_runs and message.parent_id is not None:
            self._follow_runs.discard(message.run_id)
            self._switch_to(message.message_id)
            self._reload_thread()
            return
        shown = [m for m in self.chat_view.messages() if not _is_local(m)]
        ids = {m.message_id for m in shown}
        if not shown or (message.parent_id is not None
                         and message.parent_id == shown[-1].message_id):
            branch = self.store.branches(message.message_id) if message.parent_id else None
            self.chat_view.add_message(message, branch if branch and branch.count > 1
                                       else None)
        elif message.parent_id is None or message.parent_id in ids:
            self._reload_thread()
        # else: the run goes on in a branch not shown now

    def _switch_to(self, message_id: str) -> None:
        """Make the chat show the branch holding ``message_id``."""
        try:
            self.store.switch_branch(message_id, self.store.branches(message_id).index)
        except InputError:
            _log.info("branch of %s not shown", message_id)

    def stop(self) -> None:
        """Cancel the open chat's run (Stop); a run still starting stops once it has."""
        if self._chat_id is None:
            return
        chat_id = self._chat_id
        if self.bridge.conversations is None:  # still starting: drop the waiting messages
            self._pending = [p for p in self._pending if p[0] != chat_id]
            self._reload_thread()
            self._set_busy(False)
            return
        if self._is_starting(chat_id):
            self._stop_after.add(chat_id)
            self.status.notice(tr("The run stops as soon as it has started."))
            return
        self._stop_chat(chat_id)

    def _stop_chat(self, chat_id: str) -> None:
        conversations = self.bridge.conversations
        if conversations is None:
            return
        self._engine_call(lambda: conversations.stop(chat_id), lambda _none: None,
                          lambda exc: self.show_error(self._error_text(exc)))

    def decide(self, message_id: str, decision: object) -> None:
        """Answer a card; an error card's "resume" continues its run.

        The answer is stored on the thread pool; the card then shows it, or opens again with
        the reason when it was refused. The artifact card's ``launch`` and ``open_folder``
        start the built app or open its folder (:meth:`artifact_action`).
        """
        if not isinstance(decision, dict):
            return
        action = decision.get("action")
        if action in ("launch", "open_folder"):
            self.artifact_action(message_id, str(action))
            return
        conversations = self.bridge.conversations
        if conversations is None:
            self._reopen(message_id,
                         tr("The engine is still starting: answer again in a moment."))
            return
        answer = dict(decision)
        if action in ("resume", "retry"):
            def work() -> object:
                conversations.resume(message_id)
                return None
        else:
            def work() -> object:
                return conversations.decide(message_id, answer)
        self._engine_call(work, lambda answered: self._decided(message_id, answer, answered),
                          lambda exc: self._reopen(message_id, self._error_text(exc)))

    def _decided(self, message_id: str, decision: dict[str, Any], answered: object) -> None:
        card = self.chat_view.card_for(message_id)
        set_answered = getattr(card, "set_answered", None)
        if callable(set_answered):
            set_answered(decision_text(decision))
        if isinstance(answered, Message) and answered.chat_id == self._chat_id:
            self._show_added(answered)
        self._set_busy(True)

    def _reopen(self, message_id: str, error: str) -> None:
        reopen = getattr(self.chat_view.card_for(message_id), "reopen", None)
        if callable(reopen):
            reopen(error)
        else:
            self.show_error(error)

    def artifact_action(self, message_id: str, action: str) -> None:
        """Start the app a run built (``launch``) or open its folder (``open_folder``).

        The engine finds the executable from the run itself and checks it against the run's
        manifest (:func:`graph.control.launch_artifact`, :func:`graph.control.artifact_folder`)
        on the thread pool; a failure is shown on the artifact card.
        """
        card = self.chat_view.card_for(message_id)

        def fail(text: str) -> None:
            show = getattr(self.chat_view.card_for(message_id), "show_error", None)
            if callable(show):
                show(text)
            else:
                self.show_error(text)

        try:
            run_id = self.store.get_message(message_id).run_id
        except InputError as exc:
            fail(str(exc))
            return
        if run_id is None or card is None:
            fail(tr("This app belongs to no run, so MultiCoder cannot check it: build it"
                    " again."))
            return
        settings = self.bridge.settings

        def work() -> Path:
            from graph.control import artifact_folder, launch_artifact

            if action == "launch":
                return launch_artifact(settings, run_id)
            return artifact_folder(settings, run_id)

        def done(path: Path) -> None:
            if self._gone():
                return
            if action == "launch":
                self.status.notice(tr("{name} was started.").format(name=path.name))
            elif not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
                fail(tr("The folder could not be opened: {path}").format(path=path))

        def failed(exc: Exception) -> None:
            if not self._gone():
                fail(self._error_text(exc))

        self.bridge.run_async(work, done, failed)

    def _mark_answered(self, messages: list[Message]) -> None:
        """Cards of the thread that a later decision answered show that answer."""
        cards: dict[str, str] = {}  # run -> its latest card
        for message in messages:
            if message.run_id is None:
                continue
            if message.kind in _CARD_KINDS:
                cards[message.run_id] = message.message_id
            elif message.kind == "decision" and message.run_id in cards:
                card = self.chat_view.card_for(cards.pop(message.run_id))
                set_answered = getattr(card, "set_answered", None)
                if callable(set_answered):
                    set_answered(decision_text(message.data))

    def regenerate(self) -> None:
        """Make the last answer again, as a new branch shown in place of the old one."""
        conversations = self.bridge.conversations
        if conversations is None or self._chat_id is None:
            return
        chat_id = self._chat_id
        self._set_busy(True)

        def done(run_id: str) -> None:
            self._follow_runs.add(run_id)  # its first message switches the chat to it

        self._engine_call(lambda: conversations.regenerate(chat_id), done,
                          lambda exc: self.show_error(self._error_text(exc)))

    def edit(self, message_id: str, text: str) -> None:
        """Fork the chat at an earlier message of the person's with new text.

        The edited copy is shown as the new version (‹ n/m ›) and its run starts.
        """
        conversations = self.bridge.conversations
        if conversations is None:
            return
        self._set_busy(True)

        def done(added: list[Message]) -> None:
            if added:
                self._switch_to(added[0].message_id)
            self._reload_thread()

        def failed(exc: Exception) -> None:
            self._reload_thread()
            self._show_unless_shown(self._error_text(exc))

        self._engine_call(lambda: conversations.edit(message_id, text), done, failed)

    def switch_branch(self, message_id: str, index: int) -> None:
        """Show another version (‹ n/m ›) of a message."""
        try:
            self.store.switch_branch(message_id, index)
        except InputError as exc:
            self.show_error(str(exc))
            return
        self._reload_thread()
        self._set_busy(self._current_busy())

    def show_error(self, text: str) -> None:
        """Show ``text`` as an error message at the end of the chat (not stored)."""
        self._notes += 1
        message = Message(message_id=f"notice-{self._notes}", chat_id=self._chat_id or "",
                          role="system", kind="error", content=text,
                          data={"error": text, "resumable": False}, created_at=_now())
        self.stack.setCurrentWidget(self.chat_view)
        self.chat_view.add_message(message)
        self.chat_view.scroll_to_bottom()

    # -- small actions -----------------------------------------------------------------------

    def _example_chosen(self, text: str) -> None:
        self.composer.set_text(text)
        self.composer.focus_input()

    def focus_search(self) -> None:
        """Show the sidebar and put the cursor in its search field (Ctrl+K)."""
        if not self.sidebar.isVisible():
            self.toggle_sidebar()
        self.sidebar.focus_search()

    def toggle_sidebar(self) -> None:
        """Hide or show the sidebar (Ctrl+Shift+S); the choice is kept in the settings."""
        visible = not self.sidebar.isVisible()
        self.sidebar.setVisible(visible)
        self._sidebar_shown_changed()
        focus = QApplication.focusWidget()
        if not visible and focus is not None and self.sidebar.isAncestorOf(focus):
            self.composer.focus_input()

        def save() -> None:
            from graph.control import update_settings

            update_settings({"ui": {"sidebar_visible": visible}})

        self.bridge.run_async(save, None, lambda exc: _log.info("sidebar state: %s", exc))

    def _sidebar_shown_changed(self) -> None:
        hidden = self.sidebar.isHidden()
        self.show_sidebar_button.setVisible(hidden)
        self.header_new_chat.setVisible(hidden)

    def copy_last_answer(self) -> None:
        """Copy the last answer's text to the clipboard (Ctrl+Shift+C)."""
        text = self.chat_view.last_answer_text()
        if text:
            QGuiApplication.clipboard().setText(text)
        self.status.notice(tr("Answer copied") if text else tr("No answer to copy yet"))

    def copy_last_code_block(self) -> None:
        """Copy the last code block to the clipboard (Ctrl+Shift+;)."""
        code = self.chat_view.last_code_block()
        if code:
            QGuiApplication.clipboard().setText(code)
        self.status.notice(tr("Code copied") if code else tr("No code block to copy yet"))

    def show_shortcuts(self) -> None:
        """Open the list of keyboard shortcuts (Ctrl+/)."""
        self._show_dialog("shortcuts", lambda: ShortcutsDialog(self))

    def open_settings(self, tab: str = "status") -> None:
        """Open the Settings dialog on ``tab``.

        Tabs: status, providers, models, general, sandbox, data.
        """
        def make() -> QWidget:
            from ui.desktop.settings.dialog import SettingsDialog

            return SettingsDialog(self.bridge, self)

        dialog = self._show_dialog("settings", make)
        show_tab = getattr(dialog, "show_tab", None)
        if callable(show_tab):
            show_tab(tab)

    def open_task_manager(self) -> None:
        """Open the task manager (every run with status and progress)."""
        def make() -> QWidget:
            from ui.desktop.tasks import TaskManager

            return TaskManager(self.bridge, self)

        self._show_dialog("tasks", make)

    def _show_dialog(self, key: str, make: Callable[[], QWidget]) -> QWidget:
        dialog = self._dialogs.get(key)
        if dialog is None:
            dialog = make()
            self._dialogs[key] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def dialog(self, key: str) -> QWidget | None:
        """An open dialog: ``settings``, ``tasks`` or ``shortcuts`` (None when never opened)."""
        return self._dialogs.get(key)

    # -- window state ------------------------------------------------------------------------

    def _window_settings(self) -> QSettings:
        path = self.bridge.settings.data_dir / "window.ini"
        return QSettings(str(path), QSettings.Format.IniFormat)

    def _restore_geometry(self) -> None:
        state = self._window_settings()
        geometry = state.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = state.value("splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Keep the window's geometry; stop the engine's workers (runs stay resumable)."""
        try:
            state = self._window_settings()
            state.setValue("geometry", self.saveGeometry())
            state.setValue("splitter", self.splitter.saveState())
            state.sync()
        except OSError:
            _log.info("window state not saved", exc_info=True)
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._guard)
        for dialog in self._dialogs.values():
            dialog.close()
        if not self._closed:
            self._closed = True  # results of calls still in flight are dropped
            self.bridge.shutdown()
        super().closeEvent(event)
