"""Keyboard shortcuts: the table, their installation on a window, and the Ctrl+/ dialog.

The keys follow the familiar chat app's: Ctrl+Shift+O new chat, Ctrl+K search, Ctrl+Shift+S
the sidebar, Shift+Esc the message box, Ctrl+Shift+C copy the last answer, Ctrl+Shift+; copy
the last code block, Ctrl+Shift+Backspace delete the chat, Ctrl+/ this list.

Text fields claim some keys for editing (``ShortcutOverride``; Ctrl+K deletes to the line's
end under X11 key bindings): :class:`ShortcutGuard` makes the window's shortcuts win over
them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ui.desktop.i18n import Retranslatable, register, tr

__all__ = ["SHORTCUTS", "Shortcut", "ShortcutGuard", "ShortcutsDialog", "install",
           "sequences"]

register({
    "New chat": "Новый чат",
    "Search chats": "Поиск по чатам",
    "Show or hide the sidebar": "Показать или скрыть боковую панель",
    "Focus the message box": "Перейти к полю сообщения",
    "Copy the last answer": "Скопировать последний ответ",
    "Copy the last code block": "Скопировать последний блок кода",
    "Delete the chat": "Удалить чат",
    "Show keyboard shortcuts": "Показать сочетания клавиш",
    "Keyboard shortcuts": "Сочетания клавиш",
    "Close": "Закрыть",
    "Close this list": "Закрыть этот список",
})


@dataclass(frozen=True)
class Shortcut:
    """One shortcut.

    Attributes:
        action: its key in the window's handler table.
        keys: key sequences in :class:`QKeySequence` portable text (the first is shown; the
            rest are alternatives for keyboard layouts that report the key differently).
        description: what it does (English source text; shown through :func:`tr`).

    """

    action: str
    keys: tuple[str, ...]
    description: str


#: Every shortcut of the main window, in the order the dialog lists them.
SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("new_chat", ("Ctrl+Shift+O",), "New chat"),
    Shortcut("search", ("Ctrl+K",), "Search chats"),
    Shortcut("toggle_sidebar", ("Ctrl+Shift+S",), "Show or hide the sidebar"),
    Shortcut("focus_composer", ("Shift+Esc",), "Focus the message box"),
    Shortcut("copy_answer", ("Ctrl+Shift+C",), "Copy the last answer"),
    # Shift+; types ":" on many layouts, and Qt may then report Ctrl+Shift+:
    Shortcut("copy_code", ("Ctrl+Shift+;", "Ctrl+Shift+:"), "Copy the last code block"),
    Shortcut("delete_chat", ("Ctrl+Shift+Backspace",), "Delete the chat"),
    Shortcut("shortcuts", ("Ctrl+/",), "Show keyboard shortcuts"),
)


def sequences(action: str) -> list[QKeySequence]:
    """The key sequences of ``action``.

    Raises:
        KeyError: no such action in :data:`SHORTCUTS`.

    """
    for shortcut in SHORTCUTS:
        if shortcut.action == action:
            return [QKeySequence(k) for k in shortcut.keys]
    raise KeyError(action)


def install(window: QWidget, handlers: Mapping[str, Callable[[], object]]) -> dict[str,
                                                                                   QShortcut]:
    """Create a window-wide :class:`QShortcut` for every action in ``handlers``.

    Returns:
        action -> its shortcut (children of ``window``).

    Raises:
        KeyError: a handler for an action not in :data:`SHORTCUTS`.

    """
    made: dict[str, QShortcut] = {}
    for action, handler in handlers.items():
        shortcut = QShortcut(window)
        shortcut.setKeys(sequences(action))
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(handler)
        made[action] = shortcut
    return made


def _first_key(keys: str) -> int:
    """The combined key code (key | modifiers) of the first key of ``keys``."""
    return QKeySequence(keys)[0].toCombined()  # type: ignore[index, no-any-return]


class ShortcutGuard(QObject):
    """An application event filter: our shortcuts win over a text field's editing keys.

    A focused text field may accept the ``ShortcutOverride`` of, say, Ctrl+K; this filter
    swallows that event for the keys in :data:`SHORTCUTS` (within ``window``), so the
    window's shortcut fires instead.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._keys = {_first_key(k) for s in SHORTCUTS for k in s.keys}

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Swallow the override of our keys for widgets inside the window."""
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and isinstance(watched, QWidget) and watched.window() is self._window:
            combined = event.keyCombination().toCombined()
            if combined in self._keys:
                event.ignore()
                return True
        return False


class ShortcutsDialog(Retranslatable, QDialog):
    """The list of keyboard shortcuts (Ctrl+/): what each does and its keys."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout()
        em = self.fontMetrics().height()
        self._grid.setHorizontalSpacing(em * 2)
        self._grid.setVerticalSpacing(em // 2)
        self._labels: list[tuple[QLabel, Shortcut]] = []
        for row, shortcut in enumerate(SHORTCUTS):
            what = QLabel(self)
            keys = QLabel(QKeySequence(shortcut.keys[0]).toString(
                QKeySequence.SequenceFormat.NativeText), self)
            keys.setStyleSheet("QLabel { border: 1px solid palette(mid); border-radius: 0.3em;"
                               " padding: 0.1em 0.4em; background: palette(alternate-base); }")
            keys.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._grid.addWidget(what, row, 0)
            self._grid.addWidget(keys, row, 1, Qt.AlignmentFlag.AlignRight)
            self._labels.append((what, shortcut))
        self._buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self._buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(em, em, em, em)
        layout.addLayout(self._grid)
        layout.addWidget(self._buttons)
        self.retranslate()

    def retranslate(self) -> None:
        """Set every visible text in the current language."""
        self.setWindowTitle(tr("Keyboard shortcuts"))
        self.setAccessibleName(tr("Keyboard shortcuts"))
        for label, shortcut in self._labels:
            label.setText(tr(shortcut.description))
        close = self._buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText(tr("Close"))
        close.setToolTip(tr("Close this list"))
        close.setAccessibleName(tr("Close"))

    def descriptions(self) -> list[tuple[str, str]]:
        """What the dialog lists: ``(description, keys)`` per row, as shown."""
        rows = []
        for row in range(self._grid.rowCount()):
            what = self._grid.itemAtPosition(row, 0)
            keys = self._grid.itemAtPosition(row, 1)
            if what is not None and keys is not None:
                what_label, keys_label = what.widget(), keys.widget()
                if isinstance(what_label, QLabel) and isinstance(keys_label, QLabel):
                    rows.append((what_label.text(), keys_label.text()))
        return rows
