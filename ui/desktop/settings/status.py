"""The "Status" tab (L3): every subsystem green / yellow / red, live.

One :class:`SubsystemRow` per :data:`graph.control.SUBSYSTEMS` key shows the state as a
coloured dot, the reason and the recommendation; "Details" unfolds the diagnose rows it was
made from and its recent events, with per-component actions (check again, restart the
components that can be restarted — :data:`RESTARTABLE`, through :meth:`Bridge.restart
<ui.desktop.bridge.Bridge.restart>` — and clear the log). The panel refreshes every few
seconds while it is visible and whenever the coordinator reports a task change, always in
the background and never two refreshes at once.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graph.control import SUBSYSTEMS, Subsystem, clear_log, system_status, update_settings
from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon
from ui.desktop.plain import plain_label
from ui.desktop.settings.common import STATE_COLORS, InlineMessage, call_async, em, state_icon

if TYPE_CHECKING:
    from graph.engine import RunEvent
    from graph.settings import Settings
    from ui.desktop.bridge import Bridge

__all__ = ["REFRESH_MS", "RESTARTABLE", "TITLES", "StatusPage", "SubsystemRow"]

#: How often the visible panel refreshes itself (milliseconds).
REFRESH_MS = 5000

#: The subsystems with something to restart (the engine's semantic memory and web tools, the
#: coordinator's workers); the others only have "Check again".
RESTARTABLE = frozenset({"memory", "web", "coordinator"})

#: Subsystem key -> its title (English source; shown through tr()).
TITLES: dict[str, str] = {
    "providers": "Model providers",
    "sandbox": "Sandbox",
    "build": "Build",
    "memory": "Memory",
    "uploads": "File uploads",
    "web": "Web search",
    "tester": "Paranoid tester",
    "coordinator": "Task coordinator",
}

_STATE_NAMES = {"ok": "Working normally", "degraded": "Warning", "down": "Not working"}

register({
    "Model providers": "Поставщики моделей",
    "Sandbox": "Песочница",
    "Build": "Сборка",
    "Memory": "Память",
    "File uploads": "Загрузка файлов",
    "Web search": "Веб-поиск",
    "Paranoid tester": "Параноидальный тестировщик",
    "Task coordinator": "Координатор задач",
    "Working normally": "Работает нормально",
    "Warning": "Предупреждение",
    "Not working": "Не работает",
    "Checking…": "Проверка…",
    "All systems stable": "Все системы работают стабильно",
    "Warnings": "Есть предупреждения",
    "Critical error": "Критическая ошибка",
    "Details": "Подробности",
    "Show or hide the checks and recent events of {0}":
        "Показать или скрыть проверки и последние события: {0}",
    "Check again": "Проверить снова",
    "Check {0} again": "Проверить снова: {0}",
    "Check the providers again, contacting each one to test its key":
        "Проверить поставщиков снова, обратившись к каждому, чтобы проверить ключ",
    "Restart": "Перезапустить",
    "Restart {0} (runs that are working keep going)":
        "Перезапустить компонент «{0}» (выполняющиеся запуски продолжат работу)",
    "Restarting…": "Перезапуск…",
    "The engine is still starting: restart it in a moment.":
        "Движок ещё запускается: перезапустите компонент чуть позже.",
    "Clear log": "Очистить журнал",
    "Forget the recent events of {0} (run records are kept)":
        "Забыть последние события: {0} (записи запусков сохраняются)",
    "Checks": "Проверки",
    "Recent events": "Последние события",
    "No recent events.": "Недавних событий нет.",
    "What to do: {0}": "Что сделать: {0}",
    "Check every subsystem again": "Проверить все подсистемы снова",
    "Paranoid mode": "Параноидальный режим",
    "The tester's warnings also send the work back for rework, not only its errors":
        "Доработку вызывают не только ошибки тестировщика, но и его предупреждения",
    "Updated at {0}": "Обновлено в {0}",
    "Cleared {0} events.": "Очищено событий: {0}.",
    "Paranoid mode is on.": "Параноидальный режим включён.",
    "Paranoid mode is off.": "Параноидальный режим выключен.",
    "Status of all systems": "Состояние всех систем",
    "Overall state": "Общее состояние",
})


def overall_text(states: Sequence[str]) -> tuple[str, str]:
    """(state, English headline) for the worst of ``states``."""
    if "down" in states:
        return "down", "Critical error"
    if "degraded" in states:
        return "degraded", "Warnings"
    return "ok", "All systems stable"


class _Dot(QLabel):
    """A coloured status dot sized to the font (the one place colours are fixed)."""

    def __init__(self, parent: QWidget | None = None, scale: float = 1.0) -> None:
        super().__init__(parent)
        self._scale = scale
        self._state = ""
        self.set_state("")

    def set_state(self, state: str) -> None:
        """Paint the dot for ``state`` (ok / degraded / down; "" = unknown yet)."""
        self._state = state
        side = max(8, int(self.fontMetrics().height() * self._scale))
        self.setPixmap(state_icon(state).pixmap(QSize(side, side), self.devicePixelRatioF()))
        self.setAccessibleName(tr(_STATE_NAMES.get(state, "Checking…")))

    def changeEvent(self, event: QEvent) -> None:
        """Repaint when the font, palette or screen changes."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self.set_state(self._state)


class SubsystemRow(Retranslatable, QFrame):
    """One subsystem: dot, title, reason and recommendation; "Details" unfolds the rest.

    Signals:
        checkRequested(str): check this subsystem again (the key).
        restartRequested(str): restart it (only offered for :data:`RESTARTABLE` keys).
        clearRequested(str): clear its recent events.

    """

    checkRequested = Signal(str)
    restartRequested = Signal(str)
    clearRequested = Signal(str)

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.subsystem: Subsystem | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName(f"subsystem-{key}")

        self.dot = _Dot(self)
        self.title = plain_label(QLabel(self))
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.reason = plain_label(QLabel(self))  # the engine's sentences: never HTML
        self.reason.setWordWrap(True)
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.recommendation = plain_label(QLabel(self))
        self.recommendation.setWordWrap(True)
        self.recommendation.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QToolButton(self)
        self.details_button.setCheckable(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setIcon(icon("chevron-right"))
        self.details_button.toggled.connect(self.set_expanded)

        self.details = QWidget(self)
        self.rows_label = QLabel(self.details)
        self.rows_label.setWordWrap(True)
        self.rows_label.setTextFormat(Qt.TextFormat.RichText)
        self.rows_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.events_label = plain_label(QLabel(self.details))
        self.events_label.setWordWrap(True)
        self.events_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_button = QPushButton(icon("refresh"), "", self.details)
        self.restart_button = QPushButton(icon("power"), "", self.details)
        self.restart_button.setVisible(key in RESTARTABLE)
        self.clear_button = QPushButton(icon("eraser"), "", self.details)
        self.check_button.clicked.connect(lambda: self.checkRequested.emit(self.key))
        self.restart_button.clicked.connect(lambda: self.restartRequested.emit(self.key))
        self.clear_button.clicked.connect(lambda: self.clearRequested.emit(self.key))

        head = QHBoxLayout()
        head.addWidget(self.dot, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(max(1, em(self) // 6))
        text.addWidget(self.title)
        text.addWidget(self.reason)
        text.addWidget(self.recommendation)
        head.addLayout(text, 1)
        head.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        actions = QHBoxLayout()
        actions.addWidget(self.check_button)
        actions.addWidget(self.restart_button)
        actions.addWidget(self.clear_button)
        actions.addStretch(1)
        inner = QVBoxLayout(self.details)
        inner.setContentsMargins(em(self) * 2, 0, 0, 0)
        inner.addWidget(self.rows_label)
        inner.addWidget(self.events_label)
        inner.addLayout(actions)
        self.details.setVisible(False)

        outer = QVBoxLayout(self)
        outer.addLayout(head)
        outer.addWidget(self.details)
        self.retranslate()

    @property
    def state(self) -> str:
        """ok, degraded, down, or "" before the first check."""
        return self.subsystem.state if self.subsystem is not None else ""

    def retranslate(self) -> None:
        """Set every visible text."""
        title = tr(TITLES.get(self.key, self.key))
        self.title.setText(title)
        self.details_button.setText(tr("Details"))
        self.details_button.setAccessibleName(f"{tr('Details')}: {title}")
        self.details_button.setToolTip(
            tr("Show or hide the checks and recent events of {0}").format(title))
        self.check_button.setText(tr("Check again"))
        self.check_button.setAccessibleName(tr("Check {0} again").format(title))
        self.check_button.setToolTip(
            tr("Check the providers again, contacting each one to test its key")
            if self.key == "providers" else tr("Check {0} again").format(title))
        self.restart_button.setText(tr("Restart"))
        self.restart_button.setAccessibleName(f"{tr('Restart')}: {title}")
        self.restart_button.setToolTip(
            tr("Restart {0} (runs that are working keep going)").format(title))
        self.clear_button.setText(tr("Clear log"))
        self.clear_button.setAccessibleName(f"{tr('Clear log')}: {title}")
        self.clear_button.setToolTip(
            tr("Forget the recent events of {0} (run records are kept)").format(title))
        self.setAccessibleName(title)
        self._fill()

    def set_subsystem(self, subsystem: Subsystem) -> None:
        """Show ``subsystem`` (a fresh result of :func:`graph.control.system_status`)."""
        self.subsystem = subsystem
        self._fill()

    def set_expanded(self, expanded: bool) -> None:
        """Unfold or fold the details."""
        if self.details_button.isChecked() != expanded:
            self.details_button.setChecked(expanded)  # comes back here through toggled
            return
        self.details.setVisible(expanded)
        self.details_button.setIcon(icon("chevron-down" if expanded else "chevron-right"))

    def _fill(self) -> None:
        sub = self.subsystem
        if sub is None:
            self.dot.set_state("")
            self.reason.setText(tr("Checking…"))
            self.recommendation.setVisible(False)
            self.rows_label.clear()
            self.events_label.setText(tr("No recent events."))
            return
        self.dot.set_state(sub.state)
        self.dot.setToolTip(tr(_STATE_NAMES[sub.state]))
        self.reason.setText(sub.reason)
        self.recommendation.setText(tr("What to do: {0}").format(sub.recommendation))
        self.recommendation.setVisible(bool(sub.recommendation))
        rows = "".join(
            f"<tr><td style='color:{STATE_COLORS[row.state]}'>●</td>"
            f"<td><b>{html.escape(row.component)}</b></td><td>{html.escape(row.reason)}"
            + (f"<br><i>{html.escape(row.recommendation)}</i>" if row.recommendation else "")
            + "</td></tr>" for row in sub.rows)
        self.rows_label.setText(f"<b>{html.escape(tr('Checks'))}</b>"
                                f"<table cellspacing='4'>{rows}</table>")
        events = "\n".join(f"• {line}" for line in sub.events) or tr("No recent events.")
        self.events_label.setText(f"{tr('Recent events')}:\n{events}")
        self.setAccessibleDescription(f"{tr(_STATE_NAMES[sub.state])}: {sub.reason}")


class StatusPage(Retranslatable, QWidget):
    """The status panel (see the module docstring).

    Args:
        bridge: the app's bridge (settings, coordinator, thread pool).

    Signals:
        refreshed(): a refresh finished and the rows show its result.

    """

    refreshed = Signal()

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self._running = False
        self._queued: tuple[bool, str | None] | None = None
        self._online_providers: Subsystem | None = None
        self._updated_at = ""

        self.overall_dot = _Dot(self, scale=1.4)
        self.overall = plain_label(QLabel(self))
        font = QFont(self.overall.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.overall.setFont(font)
        self.updated = plain_label(QLabel(self))
        self.check_all = QPushButton(icon("refresh"), "", self)
        self.check_all.clicked.connect(lambda: self.refresh())
        self.paranoid = QCheckBox(self)
        self.paranoid.setChecked(bridge.settings.paranoid)
        self.paranoid.toggled.connect(self._set_paranoid)
        self.message = InlineMessage(self)

        self.rows: dict[str, SubsystemRow] = {}
        holder = QWidget(self)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        for key in SUBSYSTEMS:
            row = SubsystemRow(key, holder)
            row.checkRequested.connect(self._check_one)
            row.restartRequested.connect(self.restart)
            row.clearRequested.connect(self._clear)
            self.rows[key] = row
            column.addWidget(row)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(holder)

        top = QHBoxLayout()
        top.addWidget(self.overall_dot)
        headline = QVBoxLayout()
        headline.addWidget(self.overall)
        headline.addWidget(self.updated)
        top.addLayout(headline, 1)
        top.addWidget(self.check_all, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.paranoid)
        layout.addWidget(self.message)
        layout.addWidget(scroll, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(lambda: self.refresh())
        bridge.runEvent.connect(self._on_run_event)
        bridge.settingsChanged.connect(self._on_settings_changed)
        self.retranslate()
        self.refresh()

    # -- texts ------------------------------------------------------------------------------

    def retranslate(self) -> None:
        """Set every visible text."""
        self.setAccessibleName(tr("Status of all systems"))
        self.check_all.setText(tr("Check again"))
        self.check_all.setAccessibleName(tr("Check every subsystem again"))
        self.check_all.setToolTip(tr("Check every subsystem again"))
        self.paranoid.setText(tr("Paranoid mode"))
        self.paranoid.setAccessibleName(tr("Paranoid mode"))
        self.paranoid.setToolTip(
            tr("The tester's warnings also send the work back for rework, not only its errors"))
        self._fill_overall()

    def _fill_overall(self) -> None:
        states = [row.state for row in self.rows.values()]
        if "" in states:
            self.overall_dot.set_state("")
            self.overall.setText(tr("Checking…"))
        else:
            state, text = overall_text(states)
            self.overall_dot.set_state(state)
            self.overall.setText(tr(text))
        self.overall.setAccessibleName(f"{tr('Overall state')}: {self.overall.text()}")
        self.updated.setText(tr("Updated at {0}").format(self._updated_at)
                             if self._updated_at else "")

    def overall_state(self) -> str:
        """The worst state shown (ok / degraded / down; "" before the first result)."""
        states = [row.state for row in self.rows.values()]
        return "" if "" in states else overall_text(states)[0]

    # -- refreshing -------------------------------------------------------------------------

    def is_refreshing(self) -> bool:
        """Whether a refresh runs in the background now."""
        return self._running

    def refresh(self, *, offline: bool = True, focus: str | None = None) -> None:
        """Recompute every row in the background.

        Args:
            offline: do not contact providers (the periodic refresh); False tests each key.
            focus: the subsystem the person asked about (its row unfolds when not ok).

        A refresh asked for while one runs is skipped, except one the person asked for
        (``focus`` or ``offline=False``), which runs right after.

        """
        if self._running:
            if focus is not None or not offline:
                self._queued = (offline, focus)
            return
        self._running = True
        self.check_all.setEnabled(False)
        settings = self.bridge.settings
        coordinator = self.bridge.coordinator
        busy = coordinator.busy() if coordinator is not None else None

        def work() -> list[Subsystem]:
            return system_status(settings, offline=offline, coordinator_busy=busy)

        call_async(self.bridge, self, work,
                   lambda result: self._show(result, offline, focus),
                   self._failed)

    def _show(self, result: list[Subsystem], offline: bool, focus: str | None) -> None:
        if not offline:
            self._online_providers = next((s for s in result if s.key == "providers"), None)
        for sub in result:
            if sub.key == "providers" and offline and self._online_providers is not None:
                sub = self._online_providers  # keep what contacting the providers found
            row = self.rows.get(sub.key)
            if row is not None:
                row.set_subsystem(sub)
        if focus in self.rows and self.rows[focus].state != "ok":
            self.rows[focus].set_expanded(True)
        self._updated_at = time.strftime("%H:%M:%S")
        self._done()

    def _failed(self, exc: Exception) -> None:
        self.message.show_error(exc)
        self._done()

    def _done(self) -> None:
        self._running = False
        self.check_all.setEnabled(True)
        self._fill_overall()
        self.refreshed.emit()
        if self._queued is not None:
            offline, focus = self._queued
            self._queued = None
            self.refresh(offline=offline, focus=focus)

    def _check_one(self, key: str) -> None:
        self.message.clear()
        self.refresh(offline=key != "providers", focus=key)

    def _on_run_event(self, event: RunEvent) -> None:
        if event.data.get("type") == "task_changed" and self.isVisible():
            self.refresh()

    def _on_settings_changed(self) -> None:
        self._online_providers = None
        settings: Settings = self.bridge.settings
        if self.paranoid.isChecked() != settings.paranoid:
            self.paranoid.blockSignals(True)
            self.paranoid.setChecked(settings.paranoid)
            self.paranoid.blockSignals(False)

    # -- actions ----------------------------------------------------------------------------

    def _clear(self, key: str) -> None:
        settings = self.bridge.settings

        def done(count: int) -> None:
            self.message.show_message(tr("Cleared {0} events.").format(count))
            self.refresh(focus=key)

        call_async(self.bridge, self, lambda: clear_log(settings, key), done,
                   self.message.show_error)

    def restart(self, key: str) -> None:
        """Restart the component ``key`` (see :data:`RESTARTABLE`) and show what happened.

        The engine's sentence (or why it could not restart) appears above the rows; the
        component is checked again afterwards.
        """
        row = self.rows.get(key)
        if key not in RESTARTABLE or row is None:
            return
        if not self.bridge.is_ready():
            self.message.show_error(tr("The engine is still starting: restart it in a moment."))
            return
        row.restart_button.setEnabled(False)
        self.message.show_message(tr("Restarting…"))

        def finish() -> bool:
            if not shiboken6.isValid(self):
                return False
            row.restart_button.setEnabled(True)
            return True

        def done(sentence: object) -> None:
            if finish():
                self.message.show_message(str(sentence))
                self.refresh(focus=key)

        def failed(exc: Exception) -> None:
            if finish():
                self.message.show_error(exc)
                self.refresh(focus=key)

        self.bridge.restart(key, done, failed)

    def _set_paranoid(self, on: bool) -> None:
        self.paranoid.setEnabled(False)

        def done(_: object) -> None:
            self.paranoid.setEnabled(True)
            self.bridge.reload_settings()
            self.message.show_message(tr("Paranoid mode is on.") if on
                                      else tr("Paranoid mode is off."))
            self.refresh(focus="tester")

        def failed(exc: Exception) -> None:
            self.paranoid.setEnabled(True)
            self.paranoid.blockSignals(True)
            self.paranoid.setChecked(not on)
            self.paranoid.blockSignals(False)
            self.message.show_error(exc)

        call_async(self.bridge, self, lambda: update_settings({"paranoid": on}), done, failed)

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
