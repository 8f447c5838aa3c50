"""The "Data" tab: export and import the settings, export the chats.

An export holds the settings file and, only when the person ticks "Include API keys", the
keys encrypted with a passphrase typed twice (:func:`graph.control.export_settings`). An
import asks for the passphrase when the file carries keys, and lists the risky changes it
would make (:func:`graph.control.import_risks`: a stored key sent to another address, the
unsandboxed local backend, another data folder) for the person to accept or decline;
declined, nothing is imported. Chats are exported as JSON or
Markdown by :meth:`graph.chats.ChatStore.export`. All of it runs in the background.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from graph.control import export_settings, import_settings
from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon
from ui.desktop.plain import ask
from ui.desktop.settings.common import InlineMessage, call_async

if TYPE_CHECKING:
    from ui.desktop.bridge import Bridge

__all__ = ["MIN_PASSPHRASE", "DataPage"]

#: The shortest passphrase (the engine refuses shorter ones too).
MIN_PASSPHRASE = 8

register({
    "Settings": "Настройки",
    "Export settings…": "Экспорт настроек…",
    "Save the settings to a file": "Сохранить настройки в файл",
    "Import settings…": "Импорт настроек…",
    "Replace the settings with those of an exported file (the current ones are kept as"
    " settings.toml.bak)":
        "Заменить настройки настройками из файла экспорта (текущие сохраняются как"
        " settings.toml.bak)",
    "Include API keys (encrypted)": "Включить API-ключи (в зашифрованном виде)",
    "The keys are encrypted with a passphrase you choose; without it nobody can read them":
        "Ключи шифруются выбранной вами парольной фразой; без неё их никто не прочитает",
    "Chats": "Чаты",
    "Export chats…": "Экспорт чатов…",
    "Save every chat as JSON (complete) or Markdown (readable)":
        "Сохранить все чаты в JSON (полностью) или Markdown (для чтения)",
    "Export settings": "Экспорт настроек",
    "Import settings": "Импорт настроек",
    "Export chats": "Экспорт чатов",
    "Settings export (*.json)": "Экспорт настроек (*.json)",
    "JSON (*.json)": "JSON (*.json)",
    "Markdown (*.md)": "Markdown (*.md)",
    "Passphrase (at least {0} characters):": "Парольная фраза (не короче {0} символов):",
    "The same passphrase again:": "Та же парольная фраза ещё раз:",
    "The passphrase that protects the keys in this file (leave empty to import the settings"
    " without the keys):":
        "Парольная фраза, которой защищены ключи в этом файле (оставьте пустой, чтобы"
        " импортировать настройки без ключей):",
    "The passphrase is shorter than {0} characters.": "Парольная фраза короче {0} символов.",
    "The two passphrases differ.": "Парольные фразы не совпадают.",
    "Exporting…": "Экспорт…",
    "Importing…": "Импорт…",
    "Settings exported to {0}.": "Настройки экспортированы в {0}.",
    "Settings and encrypted keys exported to {0}.":
        "Настройки и зашифрованные ключи экспортированы в {0}.",
    "Import these settings?": "Импортировать эти настройки?",
    "This file would make risky changes:\n\n{0}\n\nImport it only if you trust where it"
    " came from.":
        "Этот файл внесёт рискованные изменения:\n\n{0}\n\nИмпортируйте его, только если"
        " доверяете его источнику.",
    "Import anyway": "Всё равно импортировать",
    "Nothing was imported.": "Ничего не импортировано.",
    "Settings imported from {0}. Some changes apply after a restart.":
        "Настройки импортированы из {0}. Часть изменений вступит в силу после перезапуска.",
    "Chats exported to {0}.": "Чаты экспортированы в {0}.",
    "Data": "Данные",
})


def _has_keys(source: Path) -> bool:
    from graph.control import export_has_keys

    return export_has_keys(source)


def _risks(source: Path) -> list[str]:
    from graph.control import import_risks

    return import_risks(source)


class DataPage(Retranslatable, QWidget):
    """Export / import settings and export chats (see the module docstring).

    The file and passphrase prompts are methods (:meth:`ask_save_path`,
    :meth:`ask_open_path`, :meth:`ask_passphrase`) so tests can answer them.
    """

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.settings_box = QGroupBox(self)
        self.include_keys = QCheckBox(self.settings_box)
        self.export_button = QPushButton(icon("upload"), "", self.settings_box)
        self.export_button.clicked.connect(self.export_settings)
        self.import_button = QPushButton(icon("download"), "", self.settings_box)
        self.import_button.clicked.connect(self.import_settings)
        settings_layout = QVBoxLayout(self.settings_box)
        row = QHBoxLayout()
        row.addWidget(self.export_button)
        row.addWidget(self.import_button)
        row.addStretch(1)
        settings_layout.addWidget(self.include_keys)
        settings_layout.addLayout(row)

        self.chats_box = QGroupBox(self)
        self.chats_button = QPushButton(icon("upload"), "", self.chats_box)
        self.chats_button.clicked.connect(self.export_chats)
        self.chats_hint = QLabel(self.chats_box)
        self.chats_hint.setWordWrap(True)
        chats_layout = QVBoxLayout(self.chats_box)
        chats_row = QHBoxLayout()
        chats_row.addWidget(self.chats_button)
        chats_row.addStretch(1)
        chats_layout.addWidget(self.chats_hint)
        chats_layout.addLayout(chats_row)

        self.message = InlineMessage(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.settings_box)
        layout.addWidget(self.chats_box)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.retranslate()

    def retranslate(self) -> None:
        """Set every visible text."""
        self.setAccessibleName(tr("Data"))
        self.settings_box.setTitle(tr("Settings"))
        self.include_keys.setText(tr("Include API keys (encrypted)"))
        self.include_keys.setAccessibleName(tr("Include API keys (encrypted)"))
        self.include_keys.setToolTip(tr("The keys are encrypted with a passphrase you choose;"
                                        " without it nobody can read them"))
        self.export_button.setText(tr("Export settings…"))
        self.export_button.setAccessibleName(tr("Export settings"))
        self.export_button.setToolTip(tr("Save the settings to a file"))
        self.import_button.setText(tr("Import settings…"))
        self.import_button.setAccessibleName(tr("Import settings"))
        self.import_button.setToolTip(tr("Replace the settings with those of an exported file"
                                         " (the current ones are kept as settings.toml.bak)"))
        self.chats_box.setTitle(tr("Chats"))
        self.chats_hint.setText(tr("Save every chat as JSON (complete) or Markdown"
                                   " (readable)"))
        self.chats_button.setText(tr("Export chats…"))
        self.chats_button.setAccessibleName(tr("Export chats"))
        self.chats_button.setToolTip(tr("Save every chat as JSON (complete) or Markdown"
                                        " (readable)"))

    # -- prompts (tests replace these) ------------------------------------------------------

    def ask_save_path(self, title: str, suggested: str, filters: str) -> Path | None:
        """A file to write, chosen by the person (None: cancelled)."""
        start = str(Path.home() / suggested)
        name, _ = QFileDialog.getSaveFileName(self, title, start, filters)
        return Path(name) if name else None

    def ask_open_path(self, title: str, filters: str) -> Path | None:
        """A file to read, chosen by the person (None: cancelled)."""
        name, _ = QFileDialog.getOpenFileName(self, title, str(Path.home()), filters)
        return Path(name) if name else None

    def ask_passphrase(self, title: str, label: str) -> str | None:
        """A passphrase typed hidden (None: cancelled)."""
        text, ok = QInputDialog.getText(self, title, label, QLineEdit.EchoMode.Password)
        return text if ok else None

    # -- actions ----------------------------------------------------------------------------

    def _busy(self, busy: bool) -> None:
        for button in (self.export_button, self.import_button, self.chats_button):
            button.setEnabled(not busy)

    def _failed(self, exc: Exception) -> None:
        self._busy(False)
        self.message.show_error(exc)

    def export_settings(self) -> None:
        """Ask where (and, with keys, a passphrase twice), then export in the background."""
        self.message.clear()
        title = tr("Export settings")
        target = self.ask_save_path(title, "multicoder-settings.json",
                                    tr("Settings export (*.json)"))
        if target is None:
            return
        if target.suffix == "":
            target = target.with_suffix(".json")
        include = self.include_keys.isChecked()
        passphrase: str | None = None
        if include:
            passphrase = self.ask_passphrase(
                title, tr("Passphrase (at least {0} characters):").format(MIN_PASSPHRASE))
            if passphrase is None:
                return
            if len(passphrase) < MIN_PASSPHRASE:
                self.message.show_error(
                    tr("The passphrase is shorter than {0} characters.").format(MIN_PASSPHRASE))
                return
            again = self.ask_passphrase(title, tr("The same passphrase again:"))
            if again is None:
                return
            if again != passphrase:
                self.message.show_error(tr("The two passphrases differ."))
                return
        self._busy(True)
        self.message.show_message(tr("Exporting…"))

        def done(path: Path) -> None:
            self._busy(False)
            self.message.show_message(
                (tr("Settings and encrypted keys exported to {0}.") if include
                 else tr("Settings exported to {0}.")).format(path))

        call_async(self.bridge, self,
                   lambda: export_settings(target, include_keys=include, passphrase=passphrase),
                   done, self._failed)

    def import_settings(self) -> None:
        """Ask for the file (and its passphrase when it has keys), then import."""
        self.message.clear()
        title = tr("Import settings")
        source = self.ask_open_path(title, tr("Settings export (*.json)"))
        if source is None:
            return
        self._busy(True)

        def with_keys(has_keys: bool) -> None:
            passphrase: str | None = None
            if has_keys:
                passphrase = self.ask_passphrase(title, tr(
                    "The passphrase that protects the keys in this file (leave empty to import"
                    " the settings without the keys):"))
                if passphrase is None:
                    self._busy(False)
                    return
            call_async(self.bridge, self, lambda: _risks(source),
                       lambda risks: checked(risks, passphrase), self._failed)

        def checked(risks: list[str], passphrase: str | None) -> None:
            if risks and not self.confirm_risks(risks):
                self._busy(False)
                self.message.show_message(tr("Nothing was imported."))
                return
            self.message.show_message(tr("Importing…"))
            call_async(self.bridge, self,
                       lambda: import_settings(source, passphrase=passphrase or None,
                                               accept_risks=bool(risks)),
                       lambda _: self._imported(source), self._failed)

        call_async(self.bridge, self, lambda: _has_keys(source), with_keys, self._failed)

    def confirm_risks(self, risks: list[str]) -> bool:
        """Ask whether to import a file making the risky changes ``risks`` (one sentence each).

        True when the person accepts them.
        """
        listed = "\n".join(f"• {risk}" for risk in risks)
        return ask(self, tr("Import these settings?"),
                   tr("This file would make risky changes:\n\n{0}\n\nImport it only if you"
                      " trust where it came from.").format(listed),
                   icon=QMessageBox.Icon.Warning, yes_text=tr("Import anyway"))

    def _imported(self, source: Path) -> None:
        self._busy(False)
        self.bridge.reload_settings()
        self.message.show_message(
            tr("Settings imported from {0}. Some changes apply after a restart.")
            .format(source.name))

    def export_chats(self) -> None:
        """Ask where (.json or .md), then export every chat in the background."""
        self.message.clear()
        filters = f"{tr('JSON (*.json)')};;{tr('Markdown (*.md)')}"
        target = self.ask_save_path(tr("Export chats"), "multicoder-chats.json", filters)
        if target is None:
            return
        if target.suffix.lower() not in (".json", ".md"):
            target = target.with_suffix(".json")
        fmt: Literal["md", "json"] = "md" if target.suffix.lower() == ".md" else "json"
        store = self.bridge.store
        self._busy(True)
        self.message.show_message(tr("Exporting…"))

        def done(path: Path) -> None:
            self._busy(False)
            self.message.show_message(tr("Chats exported to {0}.").format(path))

        call_async(self.bridge, self, lambda: store.export(target, fmt=fmt), done,
                   self._failed)
