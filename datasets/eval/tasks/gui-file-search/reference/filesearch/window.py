"""The search window; the search runs in a QThread so the window stays responsive."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QMainWindow, QPushButton, QVBoxLayout,
                               QWidget)

from filesearch.search import Query, parse_masks, sort_results, walk


class SearchThread(QThread):
    """Runs one search; emits ``done(paths, error)`` at the end (error is "" when fine)."""

    done = Signal(list, str)

    def __init__(self, query: Query) -> None:
        super().__init__()
        self.query = query
        self.stop_event = threading.Event()

    def run(self) -> None:
        """Walk the folder (in the worker thread)."""
        try:
            found = list(walk(self.query, self.stop_event))
        except NotADirectoryError:
            self.done.emit([], f"Папки «{self.query.folder}» нет")
            return
        except OSError as exc:
            self.done.emit([], f"Не удалось прочитать папку: {exc.strerror}")
            return
        self.done.emit(found, "")


class MainWindow(QMainWindow):
    """File search; widgets are reachable by object name (see the task)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Поиск файлов")
        self._thread: SearchThread | None = None
        self.folder_edit = QLineEdit(objectName="folderEdit")
        self.browse_button = QPushButton("…", objectName="browseButton")
        self.mask_edit = QLineEdit(objectName="maskEdit")
        self.mask_edit.setPlaceholderText("*.txt;*.md — пусто: все файлы")
        self.text_edit = QLineEdit(objectName="textEdit")
        self.text_edit.setPlaceholderText("Текст внутри файла — пусто: только по именам")
        self.case_check = QCheckBox("Учитывать регистр", objectName="caseCheck")
        self.subfolders_check = QCheckBox("В подпапках", objectName="subfoldersCheck")
        self.subfolders_check.setChecked(True)
        self.search_button = QPushButton("Искать", objectName="searchButton")
        self.stop_button = QPushButton("Стоп", objectName="stopButton")
        self.stop_button.setEnabled(False)
        self.result_list = QListWidget(objectName="resultList")
        self.status_label = QLabel(objectName="statusLabel")

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit)
        folder_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Папка", folder_row)
        form.addRow("Маски", self.mask_edit)
        form.addRow("Текст", self.text_edit)
        checks = QHBoxLayout()
        checks.addWidget(self.case_check)
        checks.addWidget(self.subfolders_check)
        checks.addStretch(1)
        checks.addWidget(self.search_button)
        checks.addWidget(self.stop_button)
        layout = QVBoxLayout()
        layout.addLayout(form)
        layout.addLayout(checks)
        layout.addWidget(self.result_list, 1)
        layout.addWidget(self.status_label)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)

        self.browse_button.clicked.connect(self._browse)
        self.search_button.clicked.connect(self.start_search)
        self.stop_button.clicked.connect(self.stop_search)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Папка", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def start_search(self) -> None:
        """Start a search with the current fields (ignored while one is running)."""
        if self._thread is not None:
            return
        folder = self.folder_edit.text().strip()
        self.result_list.clear()
        if not folder:
            self.status_label.setText("Укажите папку")
            return
        query = Query(Path(folder).expanduser(), parse_masks(self.mask_edit.text()),
                      self.text_edit.text(), self.case_check.isChecked(),
                      self.subfolders_check.isChecked())
        self._thread = SearchThread(query)
        self._thread.done.connect(self._finished)
        self.search_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status_label.setText("Ищу…")
        self._thread.start()

    def stop_search(self) -> None:
        """Ask the running search to stop; what it found so far is shown."""
        if self._thread is not None:
            self._thread.stop_event.set()

    def _finished(self, paths: list[str], error: str) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        self.result_list.clear()
        self.result_list.addItems(sort_results(paths))
        stopped = thread is not None and thread.stop_event.is_set()
        self.status_label.setText(error or f"Найдено: {len(paths)}"
                                  + (" (поиск остановлен)" if stopped else ""))
        self.search_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        """Stop a running search before the window goes away."""
        if self._thread is not None:
            self._thread.stop_event.set()
            self._thread.wait()
        super().closeEvent(event)  # type: ignore[arg-type]
