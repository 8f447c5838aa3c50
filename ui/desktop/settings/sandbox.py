"""The "Sandbox" tab: where generated code runs, and the limits of one sandbox.

The fields are those of :class:`graph.settings.SandboxSettings`; choosing ``local`` shows a
warning that the code then runs unsandboxed. Saving goes through
:func:`graph.control.update_settings` (validated; the complaint appears under the form).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from graph.control import update_settings
from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon
from ui.desktop.settings.common import InlineMessage, call_async, override_note

if TYPE_CHECKING:
    from graph.settings import Settings
    from ui.desktop.bridge import Bridge

__all__ = ["BACKENDS", "SandboxPage"]

#: Backend setting -> its label (English source).
BACKENDS: dict[str, str] = {
    "auto": "Automatic (Docker, else bubblewrap)",
    "docker": "Docker",
    "bwrap": "Bubblewrap (Linux)",
    "local": "Local — NOT SANDBOXED",
}

register({
    "Automatic (Docker, else bubblewrap)": "Автоматически (Docker, иначе bubblewrap)",
    "Docker": "Docker",
    "Bubblewrap (Linux)": "Bubblewrap (Linux)",
    "Local — NOT SANDBOXED": "Локально — БЕЗ ПЕСОЧНИЦЫ",
    "Backend": "Способ изоляции",
    "Where generated code runs": "Где запускается сгенерированный код",
    "NOT SANDBOXED: generated code runs as you, with your files and your network. Use it"
    " only for code you trust.":
        "БЕЗ ПЕСОЧНИЦЫ: сгенерированный код запускается от вашего имени, с доступом к вашим"
        " файлам и сети. Используйте только для кода, которому доверяете.",
    "Docker image": "Образ Docker",
    "The image sandboxes start from": "Образ, из которого запускаются песочницы",
    "Memory": "Память",
    " MB": " МБ",
    "Most memory one sandbox may use": "Максимум памяти для одной песочницы",
    "CPUs": "Процессоры",
    "How many CPU cores one sandbox may use": "Сколько ядер процессора может занять песочница",
    "Processes": "Процессы",
    "Most processes at once in one sandbox": "Максимум одновременных процессов в песочнице",
    "Temporary space": "Временное место",
    "Size of the sandbox's in-memory /tmp": "Размер /tmp песочницы в памяти",
    "Lifetime": "Время жизни",
    " s": " с",
    "Docker: how long one container lives; bubblewrap: cap on each command's time-out":
        "Docker — сколько живёт один контейнер; bubblewrap — предел тайм-аута каждой команды",
    "Save": "Сохранить",
    "Save the sandbox settings": "Сохранить настройки песочницы",
    "Saved.": "Сохранено.",
    "Sandbox": "Песочница",
})


class SandboxPage(Retranslatable, QWidget):
    """Backend and limits (see the module docstring)."""

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.backend = QComboBox(self)
        for key in BACKENDS:
            self.backend.addItem("", key)
        self.backend.currentIndexChanged.connect(self._backend_changed)
        self.warning = InlineMessage(self)
        self.image = QLineEdit(self)
        self.memory_mb = QSpinBox(self)
        self.memory_mb.setRange(128, 1024 * 1024)
        self.memory_mb.setSingleStep(256)
        self.cpus = QDoubleSpinBox(self)
        self.cpus.setRange(0.1, 1024.0)
        self.cpus.setDecimals(1)
        self.cpus.setSingleStep(0.5)
        self.pids = QSpinBox(self)
        self.pids.setRange(16, 1_000_000)
        self.tmpfs_mb = QSpinBox(self)
        self.tmpfs_mb.setRange(16, 1024 * 1024)
        self.tmpfs_mb.setSingleStep(128)
        self.wall_time_s = QSpinBox(self)
        self.wall_time_s.setRange(1, 7 * 24 * 3600)
        self.wall_time_s.setSingleStep(60)

        self.fields: dict[str, QWidget] = {
            "backend": self.backend, "image": self.image, "memory_mb": self.memory_mb,
            "cpus": self.cpus, "pids": self.pids, "tmpfs_mb": self.tmpfs_mb,
            "wall_time_s": self.wall_time_s}
        self.labels = {name: QLabel(self) for name in self.fields}
        form = QFormLayout()
        for name, widget in self.fields.items():
            self.labels[name].setBuddy(widget)
            form.addRow(self.labels[name], widget)
            if name == "backend":
                form.addRow(self.warning)
        self.override = InlineMessage(self)
        self.message = InlineMessage(self)
        self.save_button = QPushButton(icon("download"), "", self)
        self.save_button.clicked.connect(self.save)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.override)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.load(bridge.settings)
        bridge.settingsChanged.connect(lambda: self.load(self.bridge.settings))
        self.retranslate()

    def retranslate(self) -> None:
        """Set every visible text."""
        self.setAccessibleName(tr("Sandbox"))
        for index in range(self.backend.count()):
            self.backend.setItemText(index, tr(BACKENDS[str(self.backend.itemData(index))]))
        texts = {
            "backend": ("Backend", "Where generated code runs"),
            "image": ("Docker image", "The image sandboxes start from"),
            "memory_mb": ("Memory", "Most memory one sandbox may use"),
            "cpus": ("CPUs", "How many CPU cores one sandbox may use"),
            "pids": ("Processes", "Most processes at once in one sandbox"),
            "tmpfs_mb": ("Temporary space", "Size of the sandbox's in-memory /tmp"),
            "wall_time_s": ("Lifetime", "Docker: how long one container lives; bubblewrap:"
                            " cap on each command's time-out"),
        }
        for name, (label, tip) in texts.items():
            self.labels[name].setText(tr(label))
            self.fields[name].setAccessibleName(tr(label))
            self.fields[name].setToolTip(tr(tip))
        self.memory_mb.setSuffix(tr(" MB"))
        self.tmpfs_mb.setSuffix(tr(" MB"))
        self.wall_time_s.setSuffix(tr(" s"))
        self.save_button.setText(tr("Save"))
        self.save_button.setAccessibleName(tr("Save the sandbox settings"))
        self.save_button.setToolTip(tr("Save the sandbox settings"))
        self._backend_changed()
        notes = [override_note("sandbox", name) for name in self.fields]
        self.override.show_message(" ".join(n for n in notes if n), "warning")

    def load(self, settings: Settings) -> None:
        """Show the sandbox settings of ``settings``."""
        sandbox = settings.sandbox
        self.backend.setCurrentIndex(max(0, self.backend.findData(sandbox.backend)))
        self.image.setText(sandbox.image)
        self.memory_mb.setValue(sandbox.memory_mb)
        self.cpus.setValue(sandbox.cpus)
        self.pids.setValue(sandbox.pids)
        self.tmpfs_mb.setValue(sandbox.tmpfs_mb)
        self.wall_time_s.setValue(int(sandbox.wall_time_s))
        self._backend_changed()

    def selected_backend(self) -> str:
        """auto, docker, bwrap or local."""
        return str(self.backend.currentData())

    def _backend_changed(self, _index: int = 0) -> None:
        if self.selected_backend() == "local":
            self.warning.show_message(tr(
                "NOT SANDBOXED: generated code runs as you, with your files and your network."
                " Use it only for code you trust."), "error")
        else:
            self.warning.clear()

    def changes(self) -> dict[str, Any]:
        """The change :func:`graph.control.update_settings` gets."""
        return {"sandbox": {
            "backend": self.selected_backend(), "image": self.image.text().strip() or None,
            "memory_mb": self.memory_mb.value(), "cpus": self.cpus.value(),
            "pids": self.pids.value(), "tmpfs_mb": self.tmpfs_mb.value(),
            "wall_time_s": float(self.wall_time_s.value())}}

    def save(self) -> None:
        """Save in the background; the error (if any) appears under the form."""
        changes = self.changes()
        self.save_button.setEnabled(False)

        def done(_: object) -> None:
            self.save_button.setEnabled(True)
            self.bridge.reload_settings()  # settingsChanged shows the values in effect
            self.message.show_message(tr("Saved."))

        def failed(exc: Exception) -> None:
            self.save_button.setEnabled(True)
            self.message.show_error(exc)

        call_async(self.bridge, self, lambda: update_settings(changes), done, failed)
