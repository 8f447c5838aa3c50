"""The task manager (L4): every run with status and progress; cancel, resume, retry, priority.

A non-modal dialog with one table row per :class:`graph.coordinator.TaskInfo`
(:meth:`Coordinator.tasks`). It refreshes every two seconds while visible and shortly after
each ``task_changed`` event, in the background, never two refreshes at once. Until the engine
has loaded it says "Starting…".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph.errors import InputError
from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon
from ui.desktop.plain import plain_label, tooltip

if TYPE_CHECKING:
    from graph.coordinator import TaskInfo
    from graph.engine import RunEvent
    from ui.desktop.bridge import Bridge

__all__ = ["REFRESH_MS", "STAGE_TITLES", "STATUS_TITLES", "TaskManager"]

T = TypeVar("T")

#: How often the visible task manager refreshes (milliseconds).
REFRESH_MS = 2000
#: Wait after a ``task_changed`` event before refreshing, so bursts refresh once (ms).
DEBOUNCE_MS = 150

#: Task status -> its label (English source).
STATUS_TITLES: dict[str, str] = {
    "queued": "Queued", "running": "Running", "waiting": "Waiting for you", "done": "Done",
    "failed": "Failed", "cancelled": "Cancelled", "refused": "Refused as unsafe",
    "rejected": "Rejected by you", "stopped": "Stopped",
}
#: Graph node -> its label (English source); unknown stages are shown as they are.
STAGE_TITLES: dict[str, str] = {
    "safety_gate": "Safety check", "confirm_start": "Confirmation",
    "spec_expander": "Specification", "planner": "Planning", "approve_plan": "Plan approval",
    "coder": "Coding", "paranoid_tester": "Testing", "spec_judge": "Spec check",
    "ask_human": "Question",
    "packager": "Packaging", "reporter": "Report",
}
_ACTIVE = ("queued", "running", "waiting")
_COLUMNS = ("Task", "Status", "Progress", "Stage", "Priority")

register({
    "Queued": "В очереди",
    "Running": "Выполняется",
    "Waiting for you": "Ждёт вашего решения",
    "Done": "Готово",
    "Failed": "Ошибка",
    "Cancelled": "Отменено",
    "Refused as unsafe": "Отклонено как небезопасное",
    "Rejected by you": "Отклонено вами",
    "Stopped": "Остановлено",
    "Safety check": "Проверка безопасности",
    "Confirmation": "Подтверждение",
    "Specification": "Спецификация",
    "Planning": "Планирование",
    "Plan approval": "Утверждение плана",
    "Coding": "Написание кода",
    "Testing": "Тестирование",
    "Spec check": "Проверка по спецификации",
    "Question": "Вопрос",
    "Packaging": "Упаковка",
    "Report": "Отчёт",
    "Task": "Задача",
    "Status": "Состояние",
    "Progress": "Прогресс",
    "Stage": "Этап",
    "Priority": "Приоритет",
    "Task manager": "Диспетчер задач",
    "Every run with its status and progress": "Все запуски с их состоянием и ходом работы",
    "Starting…": "Запуск…",
    "The engine did not start: {0}": "Движок не запустился: {0}",
    "No tasks yet.": "Задач пока нет.",
    "Cancel task": "Отменить задачу",
    "Cancel the selected task (it can be resumed later)":
        "Отменить выбранную задачу (её можно будет продолжить)",
    "Resume": "Продолжить запуск",
    "Continue the selected task where it stopped": "Продолжить выбранную задачу с места"
    " остановки",
    "Retry": "Повторить",
    "Try the failed task again from where it failed": "Повторить неудавшуюся задачу с места"
    " ошибки",
    "Raise priority": "Повысить приоритет",
    "Run the selected task sooner": "Выполнить выбранную задачу раньше",
    "Lower priority": "Понизить приоритет",
    "Run the selected task later": "Выполнить выбранную задачу позже",
    "Close": "Закрыть",
    "Close the task manager": "Закрыть диспетчер задач",
    "Tasks": "Задачи",
    "Run {0}": "Запуск {0}",
    "Last error: {0}": "Последняя ошибка: {0}",
    "Progress of {0}": "Прогресс: {0}",
    "Something went wrong: {0}": "Что-то пошло не так: {0}",
})


class TaskManager(Retranslatable, QDialog):
    """The task manager (see the module docstring).

    Args:
        bridge: the app's bridge; its coordinator exists once ``ready`` fired.
        parent: the main window.

    Signals:
        refreshed(): the table shows a fresh list.

    """

    refreshed = Signal()

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModal(False)
        self.bridge = bridge
        self.infos: list[TaskInfo] = []
        self._running = False
        self._again = False
        self._failed_reason = ""

        self.state = plain_label(QLabel(self))  # may hold an engine sentence
        self.state.setWordWrap(True)
        self.table = QTableWidget(0, len(_COLUMNS), self)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setCornerButtonEnabled(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.details = plain_label(QLabel(self))  # the run's last error, as it is
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.cancel_button = QPushButton(icon("x-circle"), "", self)
        self.resume_button = QPushButton(icon("play"), "", self)
        self.retry_button = QPushButton(icon("rotate-ccw"), "", self)
        self.up_button = QPushButton(icon("arrow-up"), "", self)
        self.down_button = QPushButton(icon("arrow-down"), "", self)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.resume_button.clicked.connect(self.resume_selected)
        self.retry_button.clicked.connect(self.resume_selected)
        self.up_button.clicked.connect(lambda: self.change_priority(1))
        self.down_button.clicked.connect(lambda: self.change_priority(-1))
        actions = QHBoxLayout()
        for button in (self.cancel_button, self.resume_button, self.retry_button,
                       self.up_button, self.down_button):
            actions.addWidget(button)
        actions.addStretch(1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.state)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(actions)
        layout.addWidget(self.buttons)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self.refresh)
        bridge.runEvent.connect(self._on_run_event)
        bridge.ready.connect(self.refresh)
        bridge.failed.connect(self._engine_failed)

        self.retranslate()
        self._update_buttons()
        line = self.fontMetrics().height()
        self.resize(line * 50, line * 26)
        self.refresh()

    # -- texts ------------------------------------------------------------------------------

    def retranslate(self) -> None:
        """Set every visible text."""
        self.setWindowTitle(tr("Task manager"))
        self.setAccessibleName(tr("Task manager"))
        self.table.setHorizontalHeaderLabels([tr(c) for c in _COLUMNS])
        self.table.setAccessibleName(tr("Tasks"))
        self.table.setToolTip(tr("Every run with its status and progress"))
        texts = (
            (self.cancel_button, "Cancel task",
             "Cancel the selected task (it can be resumed later)"),
            (self.resume_button, "Resume", "Continue the selected task where it stopped"),
            (self.retry_button, "Retry", "Try the failed task again from where it failed"),
            (self.up_button, "Raise priority", "Run the selected task sooner"),
            (self.down_button, "Lower priority", "Run the selected task later"),
        )
        for button, text, tip in texts:
            button.setText(tr(text))
            button.setAccessibleName(tr(text))
            button.setToolTip(tr(tip))
        close = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText(tr("Close"))
        close.setAccessibleName(tr("Close the task manager"))
        close.setToolTip(tr("Close the task manager"))
        self._fill(self.infos)

    # -- refreshing -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Fetch the task list in the background (a refresh asked for meanwhile follows)."""
        coordinator = self.bridge.coordinator
        if coordinator is None:
            self._fill_state()
            return
        if self._running:
            self._again = True
            return
        self._running = True

        def done(infos: list[TaskInfo]) -> None:
            self._running = False
            self._fill(infos)
            self.refreshed.emit()
            if self._again:
                self._again = False
                self.refresh()

        def failed(exc: Exception) -> None:
            self._running = False
            self.state.setText(str(exc))
            self.state.setVisible(True)

        self._call(coordinator.tasks, done, failed)

    def _call(self, fn: Callable[[], T], on_done: Callable[[T], None],
              on_error: Callable[[Exception], None]) -> None:
        """``fn`` on the thread pool; the callbacks are dropped once the dialog is gone."""
        def guarded_done(value: T) -> None:
            if shiboken6.isValid(self):
                on_done(value)

        def guarded_error(exc: Exception) -> None:
            if shiboken6.isValid(self):
                on_error(exc)

        self.bridge.run_async(fn, guarded_done, guarded_error)

    def _on_run_event(self, event: RunEvent) -> None:
        if event.data.get("type") == "task_changed" and self.isVisible():
            self.debounce.start()

    def _engine_failed(self, reason: str) -> None:
        self._failed_reason = reason
        self._fill_state()

    def _fill_state(self) -> None:
        if self.bridge.coordinator is None:
            text = (tr("The engine did not start: {0}").format(self._failed_reason)
                    if self._failed_reason else tr("Starting…"))
        elif not self.infos:
            text = tr("No tasks yet.")
        else:
            text = ""
        self.state.setText(text)
        self.state.setAccessibleName(text)
        self.state.setVisible(bool(text))
        self.table.setEnabled(self.bridge.coordinator is not None)

    def _fill(self, infos: list[TaskInfo]) -> None:
        selected = self.selected()
        self.infos = list(infos)
        self.table.setRowCount(len(self.infos))
        for row, info in enumerate(self.infos):
            first = (info.task.strip().splitlines() or [""])[0]
            tip = f"{info.task}\n\n{tr('Run {0}').format(info.run_id)}"
            if info.error:
                tip += "\n" + tr("Last error: {0}").format(info.error)
            self._set(row, 0, first, info.run_id, tip)
            self._set(row, 1, tr(STATUS_TITLES.get(info.status, info.status)), info.run_id)
            bar = self.table.cellWidget(row, 2)
            if not isinstance(bar, QProgressBar):
                bar = QProgressBar(self.table)
                bar.setRange(0, 100)
                self.table.setCellWidget(row, 2, bar)
            bar.setValue(round(max(0.0, min(1.0, info.progress)) * 100))
            bar.setAccessibleName(tr("Progress of {0}").format(first))
            stage = tr(STAGE_TITLES[info.stage]) if info.stage in STAGE_TITLES else info.stage
            self._set(row, 3, stage, info.run_id)
            self._set(row, 4, str(info.priority), info.run_id)
        if selected is not None:
            for row, info in enumerate(self.infos):
                if info.run_id == selected.run_id:
                    self.table.selectRow(row)
                    break
        self._fill_state()
        self._update_buttons()

    def _set(self, row: int, column: int, text: str, run_id: str, tip: str = "") -> None:
        item = self.table.item(row, column)
        if item is None:
            item = QTableWidgetItem()
            self.table.setItem(row, column, item)
        item.setText(text)
        item.setData(Qt.ItemDataRole.UserRole, run_id)
        item.setToolTip(tooltip(tip or text))  # the task is the person's text

    # -- actions ----------------------------------------------------------------------------

    def selected(self) -> TaskInfo | None:
        """The selected task, if any."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.infos):
            return None
        return self.infos[rows[0].row()]

    def select_run(self, run_id: str) -> bool:
        """Select the row of ``run_id``; False when it is not listed."""
        for row, info in enumerate(self.infos):
            if info.run_id == run_id:
                self.table.selectRow(row)
                return True
        return False

    def _update_buttons(self) -> None:
        info = self.selected()
        active = info is not None and info.status in _ACTIVE
        self.cancel_button.setEnabled(active)
        self.resume_button.setEnabled(info is not None and info.resumable
                                      and info.status in ("cancelled", "stopped"))
        self.retry_button.setEnabled(info is not None and info.resumable
                                     and info.status == "failed")
        self.up_button.setEnabled(active)
        self.down_button.setEnabled(active)
        if info is None:
            self.details.clear()
        else:
            text = tr("Run {0}").format(info.run_id)
            if info.error:
                text += " — " + tr("Last error: {0}").format(info.error)
            self.details.setText(text)

    def _act(self, action: str) -> None:
        info = self.selected()
        coordinator = self.bridge.coordinator
        if info is None or coordinator is None:
            return
        run_id, priority = info.run_id, info.priority

        def work() -> None:
            if action == "cancel":
                coordinator.cancel(run_id)
            elif action == "resume":
                coordinator.resume(run_id, priority=priority)
            elif action == "up":
                coordinator.set_priority(run_id, priority + 1)
            else:
                coordinator.set_priority(run_id, priority - 1)

        def failed(exc: Exception) -> None:
            self.details.setText(str(exc) if isinstance(exc, InputError)
                                 else tr("Something went wrong: {0}").format(exc))
            self.refresh()

        self._call(work, lambda _: self.refresh(), failed)

    def cancel_selected(self) -> None:
        """Cancel the selected task (it stays resumable)."""
        self._act("cancel")

    def resume_selected(self) -> None:
        """Resume (or retry) the selected task."""
        self._act("resume")

    def change_priority(self, step: int) -> None:
        """Raise (``step`` > 0) or lower the selected task's priority by one."""
        self._act("up" if step > 0 else "down")

    # -- live while visible -----------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        """Start the periodic refresh (and refresh now)."""
        super().showEvent(event)
        self.timer.start()
        self.refresh()

    def hideEvent(self, event: QHideEvent) -> None:
        """Stop the periodic refresh."""
        super().hideEvent(event)
        self.timer.stop()
        self.debounce.stop()
