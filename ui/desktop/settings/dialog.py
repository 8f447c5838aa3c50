"""The Settings dialog: tabs down the left, the page on the right; opens on Status (L3).

Pages (keys for :meth:`SettingsDialog.show_tab`): ``status``, ``providers``, ``models``,
``general``, ``sandbox``, ``data``. The pages talk to the engine only through
:mod:`graph.control` (and the chat store for the chat export), always in the background.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon
from ui.desktop.settings.common import ProviderChecks, em
from ui.desktop.settings.data import DataPage
from ui.desktop.settings.general import GeneralPage
from ui.desktop.settings.models import ModelsPage
from ui.desktop.settings.providers import ProvidersPage
from ui.desktop.settings.sandbox import SandboxPage
from ui.desktop.settings.status import StatusPage

if TYPE_CHECKING:
    from ui.desktop.bridge import Bridge

__all__ = ["TABS", "SettingsDialog"]

#: Tab key -> (icon, English title), in display order.
TABS: dict[str, tuple[str, str]] = {
    "status": ("activity", "Status"),
    "providers": ("key", "Providers and keys"),
    "models": ("cpu", "Models"),
    "general": ("sliders", "General"),
    "sandbox": ("shield", "Sandbox"),
    "data": ("database", "Data"),
}

register({
    "Status": "Состояние",
    "Providers and keys": "Поставщики и ключи",
    "Models": "Модели",
    "General": "Общие",
    "Sandbox": "Песочница",
    "Data": "Данные",
    "Settings": "Настройки",
    "Settings sections": "Разделы настроек",
    "Close": "Закрыть",
    "Close the settings": "Закрыть настройки",
})


class SettingsDialog(Retranslatable, QDialog):
    """The settings (see the module docstring).

    Args:
        bridge: the app's bridge (settings, engine, thread pool).
        parent: the main window.

    Attributes:
        pages: tab key -> its page widget (``status`` is a :class:`StatusPage`, ...).
        tabs: the list of sections on the left.
        checks: provider check results shared by the Providers and Models tabs.

    """

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.checks = ProviderChecks(self)
        self.tabs = QListWidget(self)
        self.tabs.setIconSize(QSize(em(self), em(self)))
        self.tabs.setStyleSheet("QListWidget::item { padding: 0.35em 0.5em; }")
        self.stack = QStackedWidget(self)
        self.status_page = StatusPage(bridge, self.stack)
        self.providers_page = ProvidersPage(bridge, self.checks, self.stack)
        self.models_page = ModelsPage(bridge, self.checks, self.stack)
        self.general_page = GeneralPage(bridge, self.stack)
        self.sandbox_page = SandboxPage(bridge, self.stack)
        self.data_page = DataPage(bridge, self.stack)
        self.pages: dict[str, QWidget] = {
            "status": self.status_page, "providers": self.providers_page,
            "models": self.models_page, "general": self.general_page,
            "sandbox": self.sandbox_page, "data": self.data_page}
        for key, (name, _title) in TABS.items():
            item = QListWidgetItem(icon(name), "", self.tabs)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.stack.addWidget(self.pages[key])
        self.tabs.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)

        body = QHBoxLayout()
        body.addWidget(self.tabs)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.buttons)
        self.setSizeGripEnabled(True)
        self.retranslate()
        self.show_tab("status")
        self.resize(em(self) * 56, em(self) * 38)

    def retranslate(self) -> None:
        """Set every visible text."""
        self.setWindowTitle(tr("Settings"))
        self.setAccessibleName(tr("Settings"))
        self.tabs.setAccessibleName(tr("Settings sections"))
        self.tabs.setToolTip(tr("Settings sections"))
        for row, (_name, title) in enumerate(TABS.values()):
            item = self.tabs.item(row)
            item.setText(tr(title))
            item.setToolTip(tr(title))
        width = max(self.tabs.sizeHintForColumn(0), em(self) * 8)
        self.tabs.setFixedWidth(width + em(self) * 2)  # follows the font and the language
        close = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText(tr("Close"))
        close.setAccessibleName(tr("Close the settings"))
        close.setToolTip(tr("Close the settings"))

    def show_tab(self, key: str) -> None:
        """Show the tab ``key`` (status, providers, models, general, sandbox, data).

        Raises:
            KeyError: unknown key.

        """
        if key not in TABS:
            raise KeyError(f"no settings tab {key!r} (tabs: {', '.join(TABS)})")
        self.tabs.setCurrentRow(list(TABS).index(key))

    def current_tab(self) -> str:
        """The key of the tab shown."""
        return list(TABS)[self.tabs.currentRow()]

    def tab_titles(self) -> list[str]:
        """The tab names as shown (in the current language)."""
        return [self.tabs.item(row).text() for row in range(self.tabs.count())]
