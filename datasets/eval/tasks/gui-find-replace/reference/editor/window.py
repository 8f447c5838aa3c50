"""The editor window: a text area, a find/replace bar, open and save."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QAction, QKeySequence, QTextCursor, QTextDocument
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QGridLayout, QLabel, QLineEdit,
                               QMainWindow, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)


class MainWindow(QMainWindow):
    """Text editor; the find bar's widgets are reachable by object name (see the task)."""

    def __init__(self) -> None:
        super().__init__()
        self.path: Path | None = None
        self.text_edit = QPlainTextEdit(objectName="textEdit")
        self.find_edit = QLineEdit(objectName="findEdit")
        self.find_edit.setPlaceholderText("Find")
        self.replace_edit = QLineEdit(objectName="replaceEdit")
        self.replace_edit.setPlaceholderText("Replace with")
        self.case_check = QCheckBox("Match case", objectName="caseCheck")
        self.words_check = QCheckBox("Whole words", objectName="wordsCheck")
        self.find_next_button = QPushButton("Find Next", objectName="findNextButton")
        self.replace_button = QPushButton("Replace", objectName="replaceButton")
        self.replace_all_button = QPushButton("Replace All", objectName="replaceAllButton")
        self.status_label = QLabel(objectName="statusLabel")

        bar = QGridLayout()
        bar.addWidget(self.find_edit, 0, 0)
        bar.addWidget(self.find_next_button, 0, 1)
        bar.addWidget(self.case_check, 0, 2)
        bar.addWidget(self.replace_edit, 1, 0)
        bar.addWidget(self.replace_button, 1, 1)
        bar.addWidget(self.replace_all_button, 1, 2)
        bar.addWidget(self.words_check, 0, 3)
        bar.addWidget(self.status_label, 1, 3)
        layout = QVBoxLayout()
        layout.addWidget(self.text_edit)
        layout.addLayout(bar)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)
        self._build_menu()

        self.find_next_button.clicked.connect(self.find_next)
        self.find_edit.returnPressed.connect(self.find_next)
        self.replace_button.clicked.connect(self.replace)
        self.replace_all_button.clicked.connect(self.replace_all)
        self.text_edit.modificationChanged.connect(lambda _: self._update_title())
        self._update_title()

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        for title, shortcut, slot in (("&Open…", QKeySequence.StandardKey.Open, self._ask_open),
                                      ("&Save", QKeySequence.StandardKey.Save, self._save),
                                      ("Save &As…", QKeySequence.StandardKey.SaveAs,
                                       self._ask_save)):
            action = QAction(title, self)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            menu.addAction(action)

    # --- files ---------------------------------------------------------------------------

    def open_file(self, path: str | Path) -> bool:
        """Load a UTF-8 text file; on failure keep the text and say why in statusLabel."""
        target = Path(path)
        try:
            text = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            self.status_label.setText(f"Cannot open {target.name}: {reason}")
            return False
        self.text_edit.setPlainText(text)
        self.path = target
        self.status_label.setText(f"Opened {target.name}")
        self._update_title()
        return True

    def save_file(self, path: str | Path) -> bool:
        """Write the text as UTF-8; on failure say why in statusLabel."""
        target = Path(path)
        try:
            target.write_text(self.text_edit.toPlainText(), encoding="utf-8")
        except OSError as exc:
            self.status_label.setText(f"Cannot save {target.name}: {exc.strerror}")
            return False
        self.path = target
        self.text_edit.document().setModified(False)
        self.status_label.setText(f"Saved {target.name}")
        self._update_title()
        return True

    def _ask_open(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open")
        if name:
            self.open_file(name)

    def _save(self) -> None:
        if self.path is None:
            self._ask_save()
        else:
            self.save_file(self.path)

    def _ask_save(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save As")
        if name:
            self.save_file(name)

    def _update_title(self) -> None:
        name = self.path.name if self.path else "Untitled"
        star = "*" if self.text_edit.document().isModified() else ""
        self.setWindowTitle(f"{name}{star} — Editor")

    # --- find and replace ----------------------------------------------------------------

    def _pattern(self) -> QRegularExpression | None:
        """The search text as a literal pattern, or None when the search box is empty."""
        text = self.find_edit.text()
        if not text:
            return None
        pattern = QRegularExpression.escape(text)
        if self.words_check.isChecked():
            pattern = rf"(?<!\w){pattern}(?!\w)"
        return QRegularExpression(pattern,
                                  QRegularExpression.PatternOption.UseUnicodePropertiesOption)

    def _flags(self) -> QTextDocument.FindFlag:
        # QTextDocument.find decides case sensitivity from these flags, not the pattern.
        if self.case_check.isChecked():
            return QTextDocument.FindFlag.FindCaseSensitively
        return QTextDocument.FindFlag(0)

    def find_next(self) -> bool:
        """Select the next match after the cursor, wrapping to the top; False if none."""
        pattern = self._pattern()
        if pattern is None:
            return False
        document = self.text_edit.document()
        found = document.find(pattern, self.text_edit.textCursor(), self._flags())
        if found.isNull():
            found = document.find(pattern, 0, self._flags())
        if found.isNull():
            self.status_label.setText("Not found")
            return False
        self.text_edit.setTextCursor(found)
        self.status_label.setText("")
        return True

    def _selection_is_match(self, pattern: QRegularExpression) -> bool:
        cursor = self.text_edit.textCursor()
        if not cursor.hasSelection():
            return False
        found = self.text_edit.document().find(pattern, cursor.selectionStart(),
                                               self._flags())
        return (not found.isNull() and found.selectionStart() == cursor.selectionStart()
                and found.selectionEnd() == cursor.selectionEnd())

    def replace(self) -> None:
        """Replace the selected match (if it is one), then select the next match."""
        pattern = self._pattern()
        if pattern is None:
            return
        if self._selection_is_match(pattern):
            self.text_edit.textCursor().insertText(self.replace_edit.text())
        self.find_next()

    def replace_all(self) -> int:
        """Replace every match as one undoable step; returns how many were replaced."""
        pattern = self._pattern()
        if pattern is None:
            return 0
        document = self.text_edit.document()
        replacement = self.replace_edit.text()
        editor = QTextCursor(document)
        editor.beginEditBlock()
        count = 0
        position = 0
        while True:
            found = document.find(pattern, position, self._flags())
            if found.isNull():
                break
            found.insertText(replacement)
            position = found.position()
            count += 1
        editor.endEditBlock()
        self.status_label.setText(f"Replaced {count}" if count else "Not found")
        return count
