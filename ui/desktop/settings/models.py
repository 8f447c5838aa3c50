"""The "Models" tab: for each role the preferred model and its fallbacks, and the embeddings.

Roles are those of :class:`graph.settings.RoleModels` (planner, coder, judge), each an ordered
list of ``provider:model`` references: the first is used, the rest are fallbacks. The
embeddings (``[memory] embeddings``) are one value: ``lexical``, ``chroma`` or
``provider:model``. The combos offer the models listed by the providers checked on the
Providers tab. Saving goes through :func:`graph.control.update_settings`, which validates;
its complaint appears under the form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QStringListModel, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from graph.control import update_settings
from graph.settings import RoleModels
from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon
from ui.desktop.settings.common import InlineMessage, ProviderChecks, call_async, override_note

if TYPE_CHECKING:
    from graph.settings import Settings
    from ui.desktop.bridge import Bridge

__all__ = ["EMBEDDING_CHOICES", "ROLE_TITLES", "ModelsPage", "RoleEditor"]

#: Role -> its label (English source).
ROLE_TITLES: dict[str, str] = {"planner": "Planner", "coder": "Coder", "judge": "Judge"}
#: Embeddings offered besides the providers' models.
EMBEDDING_CHOICES = ("lexical", "chroma")

register({
    "Planner": "Планировщик",
    "Coder": "Программист",
    "Judge": "Судья",
    "Embeddings": "Эмбеддинги",
    "Model of the {0} (provider:model)": "Модель роли «{0}» (поставщик:модель)",
    "Fallbacks of the {0}": "Запасные модели роли «{0}»",
    "Tried in order when the model above fails; separate them with commas":
        "Пробуются по порядку, если основная модель не отвечает; перечислите через запятую",
    "Fallbacks, comma-separated": "Запасные, через запятую",
    "lexical: offline word matching; chroma: a local semantic model (downloaded once);"
    " provider:model: a provider's embeddings":
        "lexical — сопоставление слов без сети; chroma — локальная семантическая модель"
        " (скачивается один раз); поставщик:модель — эмбеддинги поставщика",
    "How texts become vectors for semantic memory": "Как тексты превращаются в векторы для"
    " семантической памяти",
    "Save": "Сохранить",
    "Save the models": "Сохранить модели",
    "Choose a model for the {0}.": "Выберите модель для роли «{0}».",
    "Saved.": "Сохранено.",
    "Saving…": "Сохранение…",
    "The first model is used; the fallbacks are tried in order when it fails. Check a"
    " provider on the Providers tab to list its models here.":
        "Используется первая модель; если она не отвечает, по порядку пробуются запасные."
        " Проверьте поставщика на вкладке «Поставщики», чтобы его модели появились здесь.",
    "Models": "Модели",
    "Model": "Модель",
    "Fallbacks, in order": "Запасные, по порядку",
})


class _ListCompleter(QCompleter):
    """Completes the last item of a comma-separated list."""

    def splitPath(self, path: str) -> list[str]:
        """Complete only what follows the last comma."""
        return [path.rsplit(",", 1)[-1].strip()]

    def pathFromIndex(self, index: Any) -> str:
        """Replace the last item with the completion, keeping the earlier ones."""
        widget = self.widget()
        text = widget.text() if isinstance(widget, QLineEdit) else ""
        head = [part.strip() for part in text.split(",")[:-1] if part.strip()]
        return ", ".join([*head, str(super().pathFromIndex(index))])


class RoleEditor(QWidget):
    """One role: an editable combo for the model and a line of fallbacks."""

    def __init__(self, role: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.combo = QComboBox(self)
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.fallbacks = QLineEdit(self)
        self._completions = QStringListModel(self)
        completer = _ListCompleter(self._completions, self)
        self.fallbacks.setCompleter(completer)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 3)
        layout.addWidget(self.fallbacks, 4)

    def set_refs(self, refs: list[str]) -> None:
        """Show the role's references (first = model, the rest = fallbacks)."""
        self.combo.setCurrentText(refs[0] if refs else "")
        self.fallbacks.setText(", ".join(refs[1:]))

    def refs(self) -> list[str]:
        """The references as typed: model first, then the fallbacks."""
        first = self.combo.currentText().strip()
        rest = [part.strip() for part in self.fallbacks.text().split(",") if part.strip()]
        return ([first] if first else []) + [ref for ref in rest if ref != first]

    def set_choices(self, choices: list[str]) -> None:
        """Offer ``choices`` in the combo and as fallback completions (the text stays)."""
        text = self.combo.currentText()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(choices)
        self.combo.setCurrentText(text)
        self.combo.blockSignals(False)
        self._completions.setStringList(choices)


class ModelsPage(Retranslatable, QWidget):
    """The models per role (see the module docstring).

    Signals:
        saved(): the settings were saved and reloaded.

    """

    saved = Signal()

    def __init__(self, bridge: Bridge, checks: ProviderChecks,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.checks = checks
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.editors: dict[str, RoleEditor] = {}
        self.labels: dict[str, QLabel] = {}
        form = QFormLayout()
        self.model_header = QLabel(self)
        self.fallback_header = QLabel(self)
        header = QHBoxLayout()
        header.addWidget(self.model_header, 3)
        header.addWidget(self.fallback_header, 4)
        form.addRow("", header)
        for role in RoleModels.model_fields:
            editor = RoleEditor(role, self)
            label = QLabel(self)
            label.setBuddy(editor.combo)
            self.editors[role] = editor
            self.labels[role] = label
            form.addRow(label, editor)
        self.embeddings = QComboBox(self)
        self.embeddings.setEditable(True)
        self.embeddings.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.embeddings_label = QLabel(self)
        self.embeddings_label.setBuddy(self.embeddings)
        form.addRow(self.embeddings_label, self.embeddings)
        self.override = InlineMessage(self)
        self.message = InlineMessage(self)
        self.save_button = QPushButton(icon("download"), "", self)
        self.save_button.clicked.connect(self.save)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.override)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.load(bridge.settings)
        checks.changed.connect(lambda _name: self._fill_choices())
        bridge.settingsChanged.connect(lambda: self.load(self.bridge.settings))
        self.retranslate()

    def retranslate(self) -> None:
        """Set every visible text."""
        self.setAccessibleName(tr("Models"))
        self.intro.setText(tr("The first model is used; the fallbacks are tried in order when"
                              " it fails. Check a provider on the Providers tab to list its"
                              " models here."))
        for role, editor in self.editors.items():
            title = tr(ROLE_TITLES.get(role, role.capitalize()))
            self.labels[role].setText(title)
            editor.combo.setAccessibleName(tr("Model of the {0} (provider:model)")
                                           .format(title))
            editor.combo.setToolTip(tr("Model of the {0} (provider:model)").format(title))
            editor.fallbacks.setAccessibleName(tr("Fallbacks of the {0}").format(title))
            editor.fallbacks.setToolTip(tr("Tried in order when the model above fails;"
                                           " separate them with commas"))
            editor.fallbacks.setPlaceholderText(tr("Fallbacks, comma-separated"))
        self.model_header.setText(tr("Model"))
        self.fallback_header.setText(tr("Fallbacks, in order"))
        self.embeddings_label.setText(tr("Embeddings"))
        self.embeddings.setAccessibleName(tr("Embeddings"))
        self.embeddings.setToolTip(tr(
            "lexical: offline word matching; chroma: a local semantic model (downloaded"
            " once); provider:model: a provider's embeddings"))
        self.save_button.setText(tr("Save"))
        self.save_button.setAccessibleName(tr("Save the models"))
        self.save_button.setToolTip(tr("Save the models"))
        self._fill_override()

    def load(self, settings: Settings) -> None:
        """Show the models of ``settings``."""
        for role, editor in self.editors.items():
            editor.set_refs(list(getattr(settings.models, role)))
        self.embeddings.setCurrentText(settings.memory.embeddings)
        self._fill_choices()

    def _fill_choices(self) -> None:
        refs = self.checks.model_refs()
        for editor in self.editors.values():
            editor.set_choices(refs)
        text = self.embeddings.currentText()
        self.embeddings.clear()
        self.embeddings.addItems([*EMBEDDING_CHOICES, *refs])
        self.embeddings.setCurrentText(text)

    def _fill_override(self) -> None:
        notes = [override_note("models", role) for role in self.editors]
        notes.append(override_note("memory", "embeddings"))
        self.override.show_message(" ".join(note for note in notes if note), "warning")

    def changes(self) -> dict[str, Any]:
        """The change :func:`graph.control.update_settings` gets.

        Raises:
            ValueError: a role has no model (the message names it).

        """
        models: dict[str, list[str]] = {}
        for role, editor in self.editors.items():
            refs = editor.refs()
            if not refs:
                title = tr(ROLE_TITLES.get(role, role))
                raise ValueError(tr("Choose a model for the {0}.").format(title))
            models[role] = refs
        embeddings = self.embeddings.currentText().strip() or EMBEDDING_CHOICES[0]
        return {"models": models, "memory": {"embeddings": embeddings}}

    def save(self) -> None:
        """Validate and save in the background; an error appears under the form."""
        try:
            changes = self.changes()
        except ValueError as exc:
            self.message.show_error(str(exc))
            return
        self.message.show_message(tr("Saving…"))
        self.save_button.setEnabled(False)

        def done(_: object) -> None:
            self.save_button.setEnabled(True)
            self.bridge.reload_settings()  # settingsChanged shows the values in effect
            self.message.show_message(tr("Saved."))
            self.saved.emit()

        def failed(exc: Exception) -> None:
            self.save_button.setEnabled(True)
            self.message.show_error(exc)

        call_async(self.bridge, self, lambda: update_settings(changes), done, failed)
