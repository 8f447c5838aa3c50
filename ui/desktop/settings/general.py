"""The "General" tab: theme and language (both apply at once), data folder, log retention.

Each change is saved to the settings file through :func:`graph.control.update_settings` in
the background; the theme is applied with :func:`ui.desktop.theme.apply_theme` and the
language with :func:`ui.desktop.i18n.set_language` before the save, so the person sees the
change immediately.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from graph.control import update_settings
from ui.desktop.i18n import (
    LANGUAGES,
    Retranslatable,
    register,
    resolve_language,
    set_language,
    tr,
)
from ui.desktop.icons import icon
from ui.desktop.plain import ask
from ui.desktop.settings.common import InlineMessage, call_async, override_note

if TYPE_CHECKING:
    from graph.settings import Settings
    from ui.desktop.bridge import Bridge

__all__ = ["THEMES", "GeneralPage", "apply_theme_now"]

#: Theme setting -> its label (English source).
THEMES: dict[str, str] = {"system": "System", "light": "Light", "dark": "Dark"}

register({
    "System": "Как в системе",
    "Light": "Светлая",
    "Dark": "Тёмная",
    "Same as the system": "Как в системе",
    "Theme": "Тема",
    "Colours of the app; System follows the OS as it changes":
        "Цвета приложения; «Как в системе» следует за настройкой ОС",
    "Language": "Язык",
    "The language of the app; switches at once": "Язык приложения; меняется сразу",
    "Data folder": "Папка данных",
    "Where runs, chats and checkpoints are kept": "Где хранятся запуски, чаты и контрольные"
    " точки",
    "Open": "Открыть",
    "Open the data folder": "Открыть папку данных",
    "Change…": "Изменить…",
    "Choose another data folder (used after a restart)":
        "Выбрать другую папку данных (используется после перезапуска)",
    "Choose the data folder": "Выберите папку данных",
    "Saved. After a restart MultiCoder starts with an empty history in {new}; your chats"
    " and runs stay in {old} (move them yourself with MultiCoder closed to keep them).":
        "Сохранено. После перезапуска MultiCoder начнёт с пустой историей в {new}; ваши"
        " чаты и запуски останутся в {old} (чтобы сохранить их, перенесите файлы сами,"
        " закрыв MultiCoder).",
    "Change the data folder?": "Сменить папку данных?",
    "MultiCoder does not move your data. Your chats, runs and checkpoints stay in\n{old}\n"
    "and will not be shown after the switch: after a restart MultiCoder starts with an"
    " empty history in\n{new}\n\nTo keep them, close MultiCoder and move the contents of"
    " the old folder into the new one yourself.\n\nUse the new folder?":
        "MultiCoder не переносит ваши данные. Чаты, запуски и контрольные точки останутся в"
        "\n{old}\nи не будут видны после смены папки: после перезапуска MultiCoder начнёт"
        " с пустой историей в\n{new}\n\nЧтобы сохранить их, закройте MultiCoder и"
        " перенесите содержимое старой папки в новую сами.\n\nИспользовать новую папку?",
    "Use the new folder": "Использовать новую папку",
    "That is already the data folder.": "Это и есть текущая папка данных.",
    "Keep finished runs for": "Хранить завершённые запуски",
    " days": " дн.",
    "Finished runs older than this are removed": "Более старые завершённые запуски удаляются",
    "Always keep the newest": "Всегда хранить последние",
    " runs": " запусков",
    "The newest runs are kept whatever their age": "Последние запуски хранятся независимо"
    " от возраста",
    "Save retention": "Сохранить срок хранения",
    "Save": "Сохранить",
    "Saved.": "Сохранено.",
    "Appearance": "Внешний вид",
    "General": "Общие",
})


def apply_theme_now(theme: str) -> bool:
    """Apply ``theme`` (system / light / dark) to the running app.

    Returns False when the theme module is not available (the setting is still saved).
    """
    try:
        from ui.desktop.theme import apply_theme
    except ImportError:
        return False
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return False
    apply_theme(app, theme)
    return True


class GeneralPage(Retranslatable, QWidget):
    """Theme, language, data folder and retention (see the module docstring)."""

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        settings = bridge.settings

        self.theme = QComboBox(self)
        for key in THEMES:
            self.theme.addItem("", key)
        self.theme.currentIndexChanged.connect(self._theme_changed)

        self.language = QComboBox(self)
        self.language.addItem("", "auto")
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.currentIndexChanged.connect(self._language_changed)

        self.data_dir = QLineEdit(self)
        self.data_dir.setReadOnly(True)
        self.open_button = QPushButton(icon("folder-open"), "", self)
        self.open_button.clicked.connect(self._open_data_dir)
        self.change_button = QPushButton(icon("folder-edit"), "", self)
        self.change_button.clicked.connect(self._change_data_dir)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(self.open_button)
        data_row.addWidget(self.change_button)

        self.retention_days = QSpinBox(self)
        self.retention_days.setRange(1, 36500)
        self.keep_last = QSpinBox(self)
        self.keep_last.setRange(0, 100000)
        self.retention_button = QPushButton(icon("download"), "", self)
        self.retention_button.clicked.connect(self._save_retention)
        retention_row = QHBoxLayout()
        retention_row.addWidget(self.retention_days)
        retention_row.addStretch(1)

        self.labels = {name: QLabel(self) for name in
                       ("theme", "language", "data", "days", "keep")}
        form = QFormLayout()
        form.addRow(self.labels["theme"], self.theme)
        form.addRow(self.labels["language"], self.language)
        form.addRow(self.labels["data"], data_row)
        form.addRow(self.labels["days"], self.retention_days)
        form.addRow(self.labels["keep"], self.keep_last)
        self.labels["theme"].setBuddy(self.theme)
        self.labels["language"].setBuddy(self.language)
        self.labels["data"].setBuddy(self.data_dir)
        self.labels["days"].setBuddy(self.retention_days)
        self.labels["keep"].setBuddy(self.keep_last)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.retention_button)
        self.override = InlineMessage(self)
        self.message = InlineMessage(self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.override)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.load(settings)
        bridge.settingsChanged.connect(lambda: self.load(self.bridge.settings))
        self.retranslate()

    def load(self, settings: Settings) -> None:
        """Show the values of ``settings`` (nothing is applied or saved)."""
        for combo, value in ((self.theme, settings.ui.theme),
                             (self.language, settings.ui.language)):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            combo.blockSignals(False)
        self.data_dir.setText(str(settings.data_dir))
        self.retention_days.setValue(settings.retention_days or self.retention_days.maximum())
        self.keep_last.setValue(settings.retention_keep_last)

    def retranslate(self) -> None:
        """Set every visible text."""
        self.setAccessibleName(tr("General"))
        for index in range(self.theme.count()):
            self.theme.setItemText(index, tr(THEMES[str(self.theme.itemData(index))]))
        self.language.setItemText(0, tr("Same as the system"))
        texts = {"theme": tr("Theme"), "language": tr("Language"), "data": tr("Data folder"),
                 "days": tr("Keep finished runs for"), "keep": tr("Always keep the newest")}
        for name, text in texts.items():
            self.labels[name].setText(text)
        self.theme.setAccessibleName(tr("Theme"))
        self.theme.setToolTip(tr("Colours of the app; System follows the OS as it changes"))
        self.language.setAccessibleName(tr("Language"))
        self.language.setToolTip(tr("The language of the app; switches at once"))
        self.data_dir.setAccessibleName(tr("Data folder"))
        self.data_dir.setToolTip(tr("Where runs, chats and checkpoints are kept"))
        self.open_button.setText(tr("Open"))
        self.open_button.setAccessibleName(tr("Open the data folder"))
        self.open_button.setToolTip(tr("Open the data folder"))
        self.change_button.setText(tr("Change…"))
        self.change_button.setAccessibleName(tr("Choose the data folder"))
        self.change_button.setToolTip(tr("Choose another data folder (used after a restart)"))
        self.retention_days.setSuffix(tr(" days"))
        self.retention_days.setAccessibleName(tr("Keep finished runs for"))
        self.retention_days.setToolTip(tr("Finished runs older than this are removed"))
        self.keep_last.setSuffix(tr(" runs"))
        self.keep_last.setAccessibleName(tr("Always keep the newest"))
        self.keep_last.setToolTip(tr("The newest runs are kept whatever their age"))
        self.retention_button.setText(tr("Save"))
        self.retention_button.setAccessibleName(tr("Save retention"))
        self.retention_button.setToolTip(tr("Save retention"))
        notes = [override_note(*path) for path in
                 (("ui", "theme"), ("ui", "language"), ("data_dir",), ("retention_days",),
                  ("retention_keep_last",))]
        self.override.show_message(" ".join(n for n in notes if n), "warning")

    # -- saving -----------------------------------------------------------------------------

    def _save(self, changes: dict[str, Any], message: str = "",
              kind: Literal["info", "warning"] = "info") -> None:
        def done(_: Settings) -> None:
            self.bridge.reload_settings()
            if message:
                self.message.show_message(message, kind)

        call_async(self.bridge, self, lambda: update_settings(changes), done,
                   self.message.show_error)

    def _theme_changed(self, index: int) -> None:
        theme = str(self.theme.itemData(index))
        apply_theme_now(theme)
        self._save({"ui": {"theme": theme}})

    def _language_changed(self, index: int) -> None:
        setting = str(self.language.itemData(index))
        set_language(resolve_language(setting))
        self._save({"ui": {"language": setting}})

    def _open_data_dir(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.bridge.settings.data_dir)))

    def _change_data_dir(self) -> None:
        old = self.bridge.settings.data_dir
        folder = QFileDialog.getExistingDirectory(self, tr("Choose the data folder"), str(old))
        if not folder:
            return
        new = Path(folder)
        if new == old:
            self.message.show_message(tr("That is already the data folder."))
            return
        # the data stays where it is: say so before anything is saved
        if not ask(self, tr("Change the data folder?"),
                   tr("MultiCoder does not move your data. Your chats, runs and checkpoints stay"
                      " in\n{old}\nand will not be shown after the switch: after a restart"
                      " MultiCoder starts with an empty history in\n{new}\n\nTo keep them,"
                      " close MultiCoder and move the contents of the old folder into the new"
                      " one yourself.\n\nUse the new folder?").format(old=old, new=new),
                   icon=QMessageBox.Icon.Warning, yes_text=tr("Use the new folder")):
            return
        self.data_dir.setText(str(new))
        self._save({"data_dir": str(new)},
                   tr("Saved. After a restart MultiCoder starts with an empty history in {new};"
                      " your chats and runs stay in {old} (move them yourself with MultiCoder"
                      " closed to keep them).").format(new=new, old=old), kind="warning")

    def _save_retention(self) -> None:
        self._save({"retention_days": self.retention_days.value(),
                    "retention_keep_last": self.keep_last.value()}, tr("Saved."))
