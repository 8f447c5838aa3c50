"""The "Providers and keys" tab (U3): status per provider, checks, keys, custom providers.

Each provider is a :class:`ProviderRow` with a status badge (valid / error / missing /
disabled / unchecked), how many keys it has, the last check's message and the models it
listed. "Check" lists the provider's models in the background (:func:`graph.control.
check_provider`); "Add provider" and "Set key" store keys in the OS keyring through
:func:`graph.control.add_provider` — the dialog never writes a key anywhere itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graph.control import (
    ProviderStatus,
    add_provider,
    check_provider,
    provider_statuses,
    remove_provider,
    set_provider_enabled,
)
from graph.settings import default_providers, keyring_backend
from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon
from ui.desktop.plain import ask, plain_label
from ui.desktop.settings.common import InlineMessage, ProviderChecks, call_async, em
from ui.desktop.settings.status import _Dot

if TYPE_CHECKING:
    from ui.desktop.bridge import Bridge

__all__ = ["STATE_TEXTS", "AddProviderDialog", "ProviderRow", "ProvidersPage"]

#: Provider state -> its badge text (English source).
STATE_TEXTS: dict[str, str] = {
    "valid": "Valid", "error": "Error", "missing": "Key missing", "disabled": "Disabled",
    "unchecked": "Not checked",
}
_DOT_STATE = {"valid": "ok", "error": "down", "missing": "degraded"}
#: Models listed under a provider before "and N more".
SHOWN_MODELS = 12

register({
    "Valid": "Действителен",
    "Error": "Ошибка",
    "Key missing": "Нет ключа",
    "Disabled": "Отключён",
    "Not checked": "Не проверен",
    "Keys: {0}": "Ключей: {0}",
    "No key needed": "Ключ не нужен",
    "Models: {0}": "Модели: {0}",
    "… and {0} more": "… и ещё {0}",
    "Check": "Проверить",
    "Check the key of {0} by listing its models":
        "Проверить ключ {0}, запросив список моделей",
    "Enabled": "Включён",
    "Use {0} for runs": "Использовать {0} в запусках",
    "Set key": "Задать ключ",
    "Store a key for {0} in the OS keyring": "Сохранить ключ {0} в хранилище ключей ОС",
    "Remove": "Удалить",
    "Remove {0} and its keys": "Удалить {0} и его ключи",
    "Checking…": "Проверка…",
    "Add provider": "Добавить поставщика",
    "Add an OpenAI-compatible provider (name, address, keys)":
        "Добавить OpenAI-совместимого поставщика (имя, адрес, ключи)",
    "Check all": "Проверить все",
    "Check every enabled provider's key": "Проверить ключи всех включённых поставщиков",
    "No OS keyring is available, so keys cannot be stored here. Set each provider's"
    " environment variable (for example OPENAI_API_KEY) instead.":
        "Хранилище ключей ОС недоступно, поэтому ключи нельзя сохранить здесь. Задайте"
        " переменную окружения каждого поставщика (например, OPENAI_API_KEY).",
    "Keys are stored in the OS keyring ({0}), never in files.":
        "Ключи хранятся в хранилище ключей ОС ({0}), а не в файлах.",
    "Remove provider": "Удаление поставщика",
    "Remove {0} and its stored keys?": "Удалить {0} и сохранённые ключи?",
    "Providers and keys": "Поставщики и ключи",
    "Name": "Имя",
    "Base URL": "Базовый URL",
    "Keys": "Ключи",
    "Letters, digits, - and _": "Буквы, цифры, - и _",
    "The provider's name in MultiCoder (letters, digits, - and _)":
        "Имя поставщика в MultiCoder (буквы, цифры, - и _)",
    "The OpenAI-compatible address, e.g. https://example.com/v1":
        "OpenAI-совместимый адрес, например https://example.com/v1",
    "API key": "API-ключ",
    "API key {0}": "API-ключ {0}",
    "Add another key": "Добавить ещё один ключ",
    "Remove this key": "Убрать этот ключ",
    "Show keys": "Показать ключи",
    "Show the keys as you type them": "Показывать ключи при вводе",
    "Save": "Сохранить",
    "Store the provider and its keys": "Сохранить поставщика и его ключи",
    "Close without saving": "Закрыть без сохранения",
    "Stored in the OS keyring only, never in a file":
        "Хранится только в хранилище ключей ОС, никогда в файле",
    "Cancel": "Отмена",
    "Set the key of {0}": "Ключ поставщика {0}",
    "Give the provider a name.": "Укажите имя поставщика.",
    "Give the provider's address (http:// or https://).":
        "Укажите адрес поставщика (http:// или https://).",
    "Saving…": "Сохранение…",
    "{0} was added.": "Поставщик {0} добавлен.",
    "{0} was removed.": "Поставщик {0} удалён.",
    "The key of {0} was saved.": "Ключ поставщика {0} сохранён.",
    "Several keys are used in turn; each is stored in the OS keyring.":
        "Несколько ключей используются по очереди; каждый хранится в хранилище ключей ОС.",
})


class ProviderRow(Retranslatable, QFrame):
    """One provider: badge, keys, message, models and its actions.

    Signals:
        checkRequested(str), enabledToggled(str, bool), setKeyRequested(str),
        removeRequested(str): with the provider's name.

    """

    checkRequested = Signal(str)
    enabledToggled = Signal(str, bool)
    setKeyRequested = Signal(str)
    removeRequested = Signal(str)

    def __init__(self, status: ProviderStatus, *, builtin: bool, needs_key: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name = status.name
        self.status = status
        self.builtin = builtin
        self.needs_key = needs_key
        self.checking = False

        self.title = plain_label(QLabel(status.name, self))
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.url = plain_label(QLabel(self))
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dot = _Dot(self)
        self.badge = plain_label(QLabel(self))
        self.keys = plain_label(QLabel(self))
        self.message = plain_label(QLabel(self))  # the provider's own reply: never HTML
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.models = plain_label(QLabel(self))
        self.models.setWordWrap(True)
        self.models.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.models.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

        self.check_button = QPushButton(icon("plug"), "", self)
        self.check_button.clicked.connect(lambda: self.checkRequested.emit(self.name))
        self.enabled_box = QCheckBox(self)
        self.enabled_box.setChecked(status.state != "disabled")
        self.enabled_box.toggled.connect(lambda on: self.enabledToggled.emit(self.name, on))
        self.key_button = QPushButton(icon("key"), "", self)
        self.key_button.clicked.connect(lambda: self.setKeyRequested.emit(self.name))
        self.key_button.setVisible(needs_key)
        self.remove_button = QToolButton(self)
        self.remove_button.setIcon(icon("trash"))
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self.name))
        self.remove_button.setVisible(not builtin)

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.dot)
        head.addWidget(self.badge)
        head.addWidget(self.keys)
        head.addStretch(1)
        head.addWidget(self.enabled_box)
        head.addWidget(self.check_button)
        head.addWidget(self.key_button)
        head.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.url)
        layout.addWidget(self.message)
        layout.addWidget(self.models)
        self.retranslate()

    def retranslate(self) -> None:
        """Set every visible text."""
        name = self.name
        self.check_button.setText(tr("Check"))
        self.check_button.setAccessibleName(f"{tr('Check')}: {name}")
        self.check_button.setToolTip(tr("Check the key of {0} by listing its models")
                                     .format(name))
        self.enabled_box.setText(tr("Enabled"))
        self.enabled_box.setAccessibleName(f"{tr('Enabled')}: {name}")
        self.enabled_box.setToolTip(tr("Use {0} for runs").format(name))
        self.key_button.setText(tr("Set key"))
        self.key_button.setAccessibleName(f"{tr('Set key')}: {name}")
        self.key_button.setToolTip(tr("Store a key for {0} in the OS keyring").format(name))
        self.remove_button.setAccessibleName(f"{tr('Remove')}: {name}")
        self.remove_button.setToolTip(tr("Remove {0} and its keys").format(name))
        self.setAccessibleName(name)
        self._fill()

    def set_status(self, status: ProviderStatus) -> None:
        """Show a fresh status (from the offline list or a check)."""
        self.status = status
        self.checking = False
        self._fill()

    def set_checking(self) -> None:
        """Show that a check runs."""
        self.checking = True
        self._fill()

    def state_text(self) -> str:
        """The badge as shown (translated)."""
        return self.badge.text()

    def _fill(self) -> None:
        status = self.status
        self.url.setText(status.base_url)
        self.url.setVisible(bool(status.base_url))
        if self.checking:
            self.dot.set_state("")
            self.badge.setText(tr("Checking…"))
        else:
            self.dot.set_state(_DOT_STATE.get(status.state, ""))
            self.badge.setText(tr(STATE_TEXTS.get(status.state, status.state)))
        self.keys.setText(tr("Keys: {0}").format(status.keys) if self.needs_key
                          else tr("No key needed"))
        self.message.setText(status.message)
        self.message.setVisible(bool(status.message))
        shown = ", ".join(status.models[:SHOWN_MODELS])
        if len(status.models) > SHOWN_MODELS:
            shown += " " + tr("… and {0} more").format(len(status.models) - SHOWN_MODELS)
        self.models.setText(tr("Models: {0}").format(shown) if status.models else "")
        self.models.setVisible(bool(status.models))
        self.check_button.setEnabled(not self.checking and status.state != "disabled")
        self.enabled_box.blockSignals(True)
        self.enabled_box.setChecked(status.state != "disabled")
        self.enabled_box.blockSignals(False)
        self.setAccessibleDescription(f"{self.badge.text()}. {status.message}")


class AddProviderDialog(Retranslatable, QDialog):
    """Add a provider, or set the keys of one (``name`` given: the name is fixed).

    Saving calls :func:`graph.control.add_provider` in the background; errors are shown in
    the dialog, which closes (``accepted``) once the provider and its keys are stored.

    Args:
        bridge: the app's bridge.
        name: the provider whose keys are set (None: a new provider).
        base_url: its current address.

    """

    def __init__(self, bridge: Bridge, name: str | None = None, base_url: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.fixed_name = name
        self.setModal(True)
        self.name_edit = QLineEdit(name or "", self)
        self.name_edit.setReadOnly(name is not None)
        self.url_edit = QLineEdit(base_url, self)
        self.url_edit.setPlaceholderText("https://example.com/v1")
        self.keys_hint = QLabel(self)
        self.keys_hint.setWordWrap(True)
        self.key_edits: list[QLineEdit] = []
        self._key_rows: list[QWidget] = []
        self.keys_box = QVBoxLayout()
        self.add_key_button = QToolButton(self)
        self.add_key_button.setIcon(icon("plus"))
        self.add_key_button.clicked.connect(lambda: self.add_key_field(focus=True))
        self.show_keys = QCheckBox(self)
        self.show_keys.toggled.connect(self._set_echo)
        self.message = InlineMessage(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        self.name_label = QLabel(self)
        self.url_label = QLabel(self)
        self.keys_label = QLabel(self)
        form.addRow(self.name_label, self.name_edit)
        form.addRow(self.url_label, self.url_edit)
        keys_column = QVBoxLayout()
        keys_column.addLayout(self.keys_box)
        more = QHBoxLayout()
        more.addWidget(self.add_key_button)
        more.addWidget(self.show_keys)
        more.addStretch(1)
        keys_column.addLayout(more)
        keys_column.addWidget(self.keys_hint)
        form.addRow(self.keys_label, keys_column)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.add_key_field()
        self.setMinimumWidth(em(self) * 30)
        self.retranslate()
        (self.key_edits[0] if name else self.name_edit).setFocus()

    def retranslate(self) -> None:
        """Set every visible text."""
        title = (tr("Set the key of {0}").format(self.fixed_name) if self.fixed_name
                 else tr("Add provider"))
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.name_label.setText(tr("Name"))
        self.name_edit.setAccessibleName(tr("Name"))
        self.name_edit.setPlaceholderText(tr("Letters, digits, - and _"))
        self.name_edit.setToolTip(tr("The provider's name in MultiCoder (letters, digits, -"
                                     " and _)"))
        self.url_label.setText(tr("Base URL"))
        self.url_edit.setAccessibleName(tr("Base URL"))
        self.url_edit.setToolTip(tr("The OpenAI-compatible address, e.g."
                                    " https://example.com/v1"))
        self.keys_label.setText(tr("Keys"))
        self.keys_hint.setText(tr("Several keys are used in turn; each is stored in the OS"
                                  " keyring."))
        self.add_key_button.setAccessibleName(tr("Add another key"))
        self.add_key_button.setToolTip(tr("Add another key"))
        self.show_keys.setText(tr("Show keys"))
        self.show_keys.setAccessibleName(tr("Show keys"))
        self.show_keys.setToolTip(tr("Show the keys as you type them"))
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setText(tr("Save"))
        save.setAccessibleName(tr("Save"))
        save.setToolTip(tr("Store the provider and its keys"))
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText(tr("Cancel"))
        cancel.setAccessibleName(tr("Cancel"))
        cancel.setToolTip(tr("Close without saving"))
        for number, edit in enumerate(self.key_edits, start=1):
            edit.setAccessibleName(tr("API key {0}").format(number))
            edit.setPlaceholderText(tr("API key"))
            edit.setToolTip(tr("Stored in the OS keyring only, never in a file"))
        for row in self._key_rows:
            remove = row.findChild(QToolButton)
            if remove is not None:
                remove.setAccessibleName(tr("Remove this key"))
                remove.setToolTip(tr("Remove this key"))

    def add_key_field(self, *, focus: bool = False) -> QLineEdit:
        """Add one more key field (with its "−" button) and return it."""
        row = QWidget(self)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        edit = QLineEdit(row)
        edit.setEchoMode(QLineEdit.EchoMode.Normal if self.show_keys.isChecked()
                         else QLineEdit.EchoMode.Password)
        remove = QToolButton(row)
        remove.setIcon(icon("minus"))
        remove.clicked.connect(lambda: self._remove_key_field(row, edit))
        line.addWidget(edit, 1)
        line.addWidget(remove)
        self.keys_box.addWidget(row)
        self.key_edits.append(edit)
        self._key_rows.append(row)
        self.retranslate()
        if focus:
            edit.setFocus()
        return edit

    def _remove_key_field(self, row: QWidget, edit: QLineEdit) -> None:
        if len(self.key_edits) == 1:
            edit.clear()
            return
        self.key_edits.remove(edit)
        self._key_rows.remove(row)
        row.deleteLater()
        self.retranslate()

    def _set_echo(self, show: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if show else QLineEdit.EchoMode.Password
        for edit in self.key_edits:
            edit.setEchoMode(mode)

    def keys(self) -> list[str]:
        """The keys typed (blank fields left out)."""
        return [edit.text().strip() for edit in self.key_edits if edit.text().strip()]

    def save(self) -> None:
        """Store the provider and its keys in the background; close when done."""
        name, url, keys = self.name_edit.text().strip(), self.url_edit.text().strip(), self.keys()
        if not name:
            self.message.show_error(tr("Give the provider a name."))
            self.name_edit.setFocus()
            return
        if not url:
            self.message.show_error(tr("Give the provider's address (http:// or https://)."))
            self.url_edit.setFocus()
            return
        self.message.show_message(tr("Saving…"))
        self.buttons.setEnabled(False)

        def failed(exc: Exception) -> None:
            self.buttons.setEnabled(True)
            self.message.show_error(exc)

        call_async(self.bridge, self, lambda: add_provider(name, url, keys),
                   lambda _: self.accept(), failed)

    def provider_name(self) -> str:
        """The provider's name as typed."""
        return self.name_edit.text().strip()


class ProvidersPage(Retranslatable, QWidget):
    """The providers list (see the module docstring).

    Args:
        bridge: the app's bridge.
        checks: the check results shared with the Models tab.

    Signals:
        refreshed(): the list shows the current settings.

    """

    refreshed = Signal()

    def __init__(self, bridge: Bridge, checks: ProviderChecks,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.checks = checks
        self.rows: dict[str, ProviderRow] = {}
        self.add_dialog: AddProviderDialog | None = None
        self._loading = False
        self._again = False
        self._backend_name: str | None = ""  # "" until known; None: no keyring
        self._builtin = set(default_providers())

        self.keyring_note = InlineMessage(self)
        self.message = InlineMessage(self)
        self.add_button = QPushButton(icon("plus"), "", self)
        self.add_button.clicked.connect(lambda: self.open_add_dialog())
        self.check_all_button = QPushButton(icon("refresh"), "", self)
        self.check_all_button.clicked.connect(self.check_all)
        self.list_holder = QWidget(self)
        self.list_layout = QVBoxLayout(self.list_holder)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.list_holder)

        top = QHBoxLayout()
        top.addWidget(self.add_button)
        top.addWidget(self.check_all_button)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.message)
        layout.addWidget(scroll, 1)
        self.checks.changed.connect(self._on_check)
        bridge.settingsChanged.connect(self.refresh)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        """Set every visible text."""
        self.setAccessibleName(tr("Providers and keys"))
        self.add_button.setText(tr("Add provider"))
        self.add_button.setAccessibleName(tr("Add provider"))
        self.add_button.setToolTip(tr("Add an OpenAI-compatible provider (name, address,"
                                      " keys)"))
        self.check_all_button.setText(tr("Check all"))
        self.check_all_button.setAccessibleName(tr("Check all"))
        self.check_all_button.setToolTip(tr("Check every enabled provider's key"))
        self._fill_keyring_note(self._backend_name)

    def _fill_keyring_note(self, keyring_backend_name: str | None) -> None:
        if keyring_backend_name is None:
            self.keyring_note.show_message(tr(
                "No OS keyring is available, so keys cannot be stored here. Set each"
                " provider's environment variable (for example OPENAI_API_KEY) instead."),
                "warning")
        elif keyring_backend_name:
            self.keyring_note.show_message(tr(
                "Keys are stored in the OS keyring ({0}), never in files.").format(
                    keyring_backend_name.rsplit(".", 1)[0]))

    # -- the list ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload every provider's offline status (no network) in the background.

        Asked for while a reload runs, another follows it (the settings may have changed).
        """
        if self._loading:
            self._again = True
            return
        self._loading = True
        settings = self.bridge.settings

        def work() -> tuple[list[ProviderStatus], str | None]:
            return provider_statuses(settings), keyring_backend()

        def failed(exc: Exception) -> None:
            self._loading = False
            self._again = False
            self.message.show_error(exc)

        call_async(self.bridge, self, work, self._show, failed)

    def _show(self, result: tuple[list[ProviderStatus], str | None]) -> None:
        self._loading = False
        if self._again:  # stale: show the next one instead
            self._again = False
            self.refresh()
            return
        statuses, backend = result
        self._backend_name = backend
        self._fill_keyring_note(backend)
        settings = self.bridge.settings
        names = [status.name for status in statuses]
        for name in list(self.rows):
            if name not in names:
                self.rows.pop(name).deleteLater()
        for index, status in enumerate(statuses):
            checked = self.checks.get(status.name)
            if checked is not None and status.state not in ("disabled", "missing"):
                status = checked.model_copy(update={"keys": status.keys})
            row = self.rows.get(status.name)
            if row is None:
                config = settings.providers.get(status.name)
                row = ProviderRow(status, builtin=status.name in self._builtin,
                                  needs_key=bool(config and config.needs_key
                                                 and config.kind != "replay"),
                                  parent=self.list_holder)
                row.checkRequested.connect(self.check)
                row.enabledToggled.connect(self._set_enabled)
                row.setKeyRequested.connect(self._set_key)
                row.removeRequested.connect(self._remove)
                self.rows[status.name] = row
                self.list_layout.insertWidget(index, row)
            elif not row.checking:
                row.set_status(status)
        self.refreshed.emit()

    def check(self, name: str) -> None:
        """Check one provider in the background (its badge says "Checking…" meanwhile)."""
        row = self.rows.get(name)
        if row is None or row.checking:
            return
        row.set_checking()
        settings = self.bridge.settings

        def failed(exc: Exception) -> None:
            row.set_status(row.status)
            self.message.show_error(exc)

        call_async(self.bridge, self, lambda: check_provider(settings, name),
                   self.checks.put, failed)

    def check_all(self) -> None:
        """Check every enabled provider."""
        for name, row in self.rows.items():
            if row.status.state != "disabled":
                self.check(name)

    def _on_check(self, name: str) -> None:
        row = self.rows.get(name)
        status = self.checks.get(name)
        if row is not None and status is not None:
            row.set_status(status.model_copy(update={"keys": row.status.keys}))

    # -- actions ----------------------------------------------------------------------------

    def open_add_dialog(self, name: str | None = None) -> AddProviderDialog:
        """Open the "Add provider" dialog (or "Set key" of ``name``); returns it."""
        base_url = ""
        if name is not None and name in self.bridge.settings.providers:
            base_url = self.bridge.settings.providers[name].base_url or ""
        dialog = AddProviderDialog(self.bridge, name, base_url, self)
        dialog.accepted.connect(lambda: self._added(dialog.provider_name(), name is None))
        dialog.finished.connect(dialog.deleteLater)
        self.add_dialog = dialog
        dialog.open()
        return dialog

    def _added(self, name: str, new: bool) -> None:
        self.add_dialog = None
        self.checks.forget(name)
        self.message.show_message(tr("{0} was added.").format(name) if new
                                  else tr("The key of {0} was saved.").format(name))

        def then_check() -> None:  # once the list shows the new settings
            self.refreshed.disconnect(then_check)
            self.check(name)

        self.refreshed.connect(then_check)
        self.bridge.reload_settings()  # settingsChanged refreshes the list

    def _set_key(self, name: str) -> None:
        self.open_add_dialog(name)

    def _set_enabled(self, name: str, enabled: bool) -> None:
        def failed(exc: Exception) -> None:
            self.message.show_error(exc)
            self.refresh()

        def done(_: object) -> None:
            self.bridge.reload_settings()  # settingsChanged refreshes the list

        call_async(self.bridge, self, lambda: set_provider_enabled(name, enabled), done,
                   failed)

    def _remove(self, name: str) -> None:
        if not ask(self, tr("Remove provider"), tr("Remove {0} and its stored keys?").format(name),
                   icon=QMessageBox.Icon.Warning):
            return

        def done(_: object) -> None:
            self.checks.forget(name)
            self.bridge.reload_settings()
            self.message.show_message(tr("{0} was removed.").format(name))

        call_async(self.bridge, self, lambda: remove_provider(name), done,
                   self.message.show_error)

    def showEvent(self, event: QShowEvent) -> None:
        """Reload the statuses when the tab is shown."""
        super().showEvent(event)
        self.refresh()
