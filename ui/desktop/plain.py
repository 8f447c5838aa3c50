"""Text from elsewhere shown as plain text: labels, tooltips, message boxes (U4).

Engine sentences, server replies, provider and model names, chat titles and file names may
hold ``<`` and ``&``; Qt would read such text as HTML (``Qt.TextFormat.AutoText``) and a
crafted reply could then show links, images or misleading markup. Every widget showing such
text goes through these helpers:

- :func:`plain_label` makes a :class:`QLabel` show its text as typed;
- :func:`tooltip` turns a text into a tooltip Qt shows as typed;
- :func:`ask` and :func:`tell` are message boxes whose text is plain.
"""

from __future__ import annotations

import html

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

__all__ = ["ask", "plain_label", "tell", "tooltip"]


def plain_label(label: QLabel) -> QLabel:
    """Make ``label`` show its text as plain text (never HTML); returns it."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def tooltip(text: str) -> str:
    """``text`` as a tooltip Qt shows exactly as written.

    Qt shows a tooltip as HTML when it looks like HTML (:func:`Qt.mightBeRichText`); such text
    is escaped and wrapped so it shows literally (line breaks kept). Other text is returned
    unchanged.
    """
    if not text or not QtGui.Qt.mightBeRichText(text):  # QtGui's Qt namespace has it
        return text
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


def _box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str,
         buttons: QMessageBox.StandardButton) -> QMessageBox:
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def ask(parent: QWidget | None, title: str, text: str, *,
        icon: QMessageBox.Icon = QMessageBox.Icon.Question,
        yes_text: str = "", default_yes: bool = False) -> bool:
    """Ask a yes/no question in a modal message box; True when the person chose Yes.

    Args:
        parent: the window it belongs to.
        title: the box's title (plain).
        text: the question (plain text; may hold any characters).
        icon: the box's icon.
        yes_text: a label for the Yes button ("" keeps Qt's own, translated "Yes").
        default_yes: whether Enter answers Yes (default: No, the safe answer).

    """
    yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
    box = _box(parent, icon, title, text, yes | no)
    if yes_text:
        box.button(yes).setText(yes_text)
    box.setDefaultButton(yes if default_yes else no)
    box.setEscapeButton(no)
    return bool(box.exec() == yes)


def tell(parent: QWidget | None, title: str, text: str, *,
         icon: QMessageBox.Icon = QMessageBox.Icon.Information) -> None:
    """Show ``text`` (plain) in a modal message box with an OK button."""
    _box(parent, icon, title, text, QMessageBox.StandardButton.Ok).exec()
