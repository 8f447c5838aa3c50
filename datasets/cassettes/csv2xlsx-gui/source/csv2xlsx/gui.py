"""The window: pick or drop CSV files, choose the workbook, convert in the background.

The conversion runs in a worker on a :class:`QThread`, so the window stays responsive and the
progress bar moves; it can be cancelled, and a cancelled or failed conversion writes nothing.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from csv2xlsx import __version__
from csv2xlsx.cli import summary
from csv2xlsx.core import EXCEL_MAX_ROWS, ConversionError, ConversionStats, convert

WINDOW_TITLE = "CSV → XLSX"
CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
CSV_FILTER = "CSV files (*.csv *.tsv *.txt);;All files (*)"
XLSX_FILTER = "Excel workbook (*.xlsx)"
DELIMITERS: tuple[tuple[str, str | None], ...] = (
    ("Detect automatically", None),
    ("Comma  ,", ","),
    ("Semicolon  ;", ";"),
    ("Tab", "\t"),
    ("Pipe  |", "|"),
)
ENCODINGS = ("utf-8-sig", "utf-8", "cp1251", "cp1252", "koi8-r", "latin-1", "utf-16")


class ConversionCancelledError(Exception):
    """Raised inside the conversion when the person cancels it."""


class ConvertWorker(QObject):
    """Runs one conversion; lives on a worker thread and reports through signals.

    Exactly one of ``succeeded``, ``failed`` or ``cancelled`` is emitted, then ``done``.
    """

    progress = Signal(int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, files: list[Path], output: Path, *, delimiter: str | None,
                 encoding: str, max_rows: int) -> None:
        super().__init__()
        self.files = files
        self.output = output
        self.delimiter = delimiter
        self.encoding = encoding
        self.max_rows = max_rows
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the conversion to stop at its next progress step (thread-safe)."""
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        """Convert, then emit the outcome and ``done``."""
        try:
            stats = convert(self.files, self.output, delimiter=self.delimiter,
                            encoding=self.encoding, max_rows_per_sheet=self.max_rows,
                            progress=self._on_progress)
        except ConversionCancelledError:
            self.cancelled.emit()
        except (ConversionError, ValueError) as exc:
            self.failed.emit(str(exc))
        except OSError as exc:
            self.failed.emit(f"Cannot write {self.output}: {exc.strerror or exc}")
        except Exception as exc:  # a bug must not kill the thread silently
            traceback.print_exc()
            self.failed.emit(f"Unexpected error: {exc!r}")
        else:
            self.succeeded.emit(stats)
        finally:
            self.done.emit()

    def _on_progress(self, percent: int) -> None:
        if self._cancel.is_set() and percent < 100:
            raise ConversionCancelledError
        self.progress.emit(percent)


class MainWindow(QMainWindow):
    """The converter's main window (object name ``Csv2XlsxWindow``)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("Csv2XlsxWindow")
        self.setWindowTitle(WINDOW_TITLE)
        self.setAcceptDrops(True)
        self.resize(720, 520)
        self._thread: QThread | None = None
        self._worker: ConvertWorker | None = None
        self._last_dir = Path.home()

        self.file_list = QListWidget()
        self.file_list.setObjectName("fileList")
        self.file_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.file_list.setToolTip("CSV files to convert, one sheet each, in this order."
                                  " Drop files or folders here.")
        self.add_button = QPushButton("&Add files…")
        self.add_button.setObjectName("addButton")
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setObjectName("removeButton")
        self.clear_button = QPushButton("C&lear")
        self.clear_button.setObjectName("clearButton")

        self.output_edit = QLineEdit()
        self.output_edit.setObjectName("outputEdit")
        self.output_edit.setPlaceholderText("Where to save the workbook (.xlsx)")
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.setObjectName("browseButton")

        self.delimiter_combo = QComboBox()
        self.delimiter_combo.setObjectName("delimiterCombo")
        for label, value in DELIMITERS:
            self.delimiter_combo.addItem(label, value)
        self.encoding_combo = QComboBox()
        self.encoding_combo.setObjectName("encodingCombo")
        self.encoding_combo.setEditable(True)
        self.encoding_combo.addItems(list(ENCODINGS))
        self.max_rows_spin = QSpinBox()
        self.max_rows_spin.setObjectName("maxRowsSpin")
        self.max_rows_spin.setRange(2, EXCEL_MAX_ROWS)
        self.max_rows_spin.setValue(EXCEL_MAX_ROWS)
        self.max_rows_spin.setGroupSeparatorShown(True)
        self.max_rows_spin.setToolTip("Rows per sheet including the header; longer files"
                                      " continue on sheets named \"<name> (2)\" ...")

        self.convert_button = QPushButton("&Convert")
        self.convert_button.setObjectName("convertButton")
        self.convert_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(0)
        self.status_label = QLabel("Add CSV files (button, Ctrl+O or drag and drop).")
        self.status_label.setObjectName("statusLabel")
        self.status_label.setWordWrap(True)

        self._build_layout()
        self._build_menu()
        self._connect()
        self._update_buttons()

    # ----------------------------------------------------------------- construction
    def _build_layout(self) -> None:
        files_box = QGroupBox("CSV files")
        file_buttons = QVBoxLayout()
        for button in (self.add_button, self.remove_button, self.clear_button):
            file_buttons.addWidget(button)
        file_buttons.addStretch(1)
        files_row = QHBoxLayout(files_box)
        files_row.addWidget(self.file_list, 1)
        files_row.addLayout(file_buttons)

        output_row = QHBoxLayout()
        output_row.addWidget(self.output_edit, 1)
        output_row.addWidget(self.browse_button)
        options = QFormLayout()
        options.addRow("&Workbook:", output_row)
        options.addRow("&Delimiter:", self.delimiter_combo)
        options.addRow("&Encoding:", self.encoding_combo)
        options.addRow("Rows per &sheet:", self.max_rows_spin)
        options_box = QGroupBox("Output")
        options_box.setLayout(options)

        actions = QHBoxLayout()
        actions.addWidget(self.progress_bar, 1)
        actions.addWidget(self.convert_button)
        actions.addWidget(self.cancel_button)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(files_box, 1)
        layout.addWidget(options_box)
        layout.addLayout(actions)
        layout.addWidget(self.status_label)
        self.setCentralWidget(central)

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        add_action = QAction("&Add files…", self)
        add_action.setShortcut(QKeySequence.StandardKey.Open)
        add_action.triggered.connect(self.pick_files)
        convert_action = QAction("&Convert", self)
        convert_action.setShortcut(QKeySequence("Ctrl+Return"))
        convert_action.triggered.connect(self.start_conversion)
        remove_action = QAction("&Remove selected", self)
        remove_action.setShortcut(QKeySequence.StandardKey.Delete)
        remove_action.triggered.connect(self.remove_selected)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (add_action, convert_action, remove_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about_action = QAction("&About", self)
        about_action.triggered.connect(self._about)
        help_menu.addAction(about_action)

    def _connect(self) -> None:
        self.add_button.clicked.connect(self.pick_files)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear_files)
        self.browse_button.clicked.connect(self.pick_output)
        self.convert_button.clicked.connect(self.start_conversion)
        self.cancel_button.clicked.connect(self.cancel_conversion)
        self.file_list.itemSelectionChanged.connect(self._update_buttons)
        self.output_edit.textChanged.connect(self._update_buttons)

    # ----------------------------------------------------------------- files
    def files(self) -> list[Path]:
        """The CSV files in the list, in order."""
        return [Path(self.file_list.item(row).text()) for row in range(self.file_list.count())]

    def add_files(self, paths: Iterable[Path]) -> int:
        """Add existing files (folders add the CSV files inside); returns how many were new.

        Files already in the list are skipped; the output defaults to the first file's name
        with ``.xlsx`` when none is chosen yet.
        """
        present = {path.resolve() for path in self.files()}
        added = 0
        for path in _expand(paths):
            resolved = path.resolve()
            if resolved in present or not resolved.is_file():
                continue
            present.add(resolved)
            self.file_list.addItem(str(resolved))
            added += 1
        files = self.files()
        if files and not self.output_edit.text().strip():
            self.output_edit.setText(str(files[0].with_suffix(".xlsx")))
        if added:
            self._last_dir = files[-1].parent
            self._set_status(f"{len(files)} file{'s' * (len(files) != 1)} to convert.")
        self._update_buttons()
        return added

    @Slot()
    def pick_files(self) -> None:
        """Ask for CSV files with the file picker and add them."""
        names, _ = QFileDialog.getOpenFileNames(self, "Add CSV files", str(self._last_dir),
                                                CSV_FILTER)
        self.add_files(Path(name) for name in names)

    @Slot()
    def remove_selected(self) -> None:
        """Remove the selected files from the list."""
        for item in self.file_list.selectedItems():
            self.file_list.takeItem(self.file_list.row(item))
        self._update_buttons()

    @Slot()
    def clear_files(self) -> None:
        """Empty the list."""
        self.file_list.clear()
        self._update_buttons()

    @Slot()
    def pick_output(self) -> None:
        """Ask where to save the workbook."""
        start = self.output_edit.text().strip() or str(self._last_dir / "converted.xlsx")
        name, _ = QFileDialog.getSaveFileName(self, "Save workbook as", start, XLSX_FILTER)
        if name:
            self.output_edit.setText(str(_with_xlsx_suffix(Path(name))))

    # ----------------------------------------------------------------- drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        """Accept drags that carry local files or folders."""
        if self._busy():
            event.ignore()
            return
        urls = event.mimeData().urls()
        if urls and any(url.isLocalFile() for url in urls):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        """Add the dropped files (and the CSV files of dropped folders)."""
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        added = self.add_files(paths)
        if not added:
            self._set_status("Nothing added: the dropped items are no new CSV files.")
        event.acceptProposedAction()

    # ----------------------------------------------------------------- conversion
    def output_path(self) -> Path | None:
        """The chosen workbook path (``.xlsx`` appended when missing), or None."""
        text = self.output_edit.text().strip()
        return _with_xlsx_suffix(Path(text).expanduser()) if text else None

    @Slot()
    def start_conversion(self) -> bool:
        """Validate the form and start the worker; returns whether a conversion started."""
        if self._busy():
            return False
        files = self.files()
        output = self.output_path()
        if not files:
            self.show_error("Add at least one CSV file first.")
            return False
        if output is None:
            self.show_error("Choose where to save the workbook.")
            return False
        encoding = self.encoding_combo.currentText().strip() or "utf-8-sig"
        if output.exists() and not self.confirm_overwrite(output):
            return False
        self.output_edit.setText(str(output))
        worker = ConvertWorker(files, output, delimiter=self.delimiter_combo.currentData(),
                               encoding=encoding, max_rows=self.max_rows_spin.value())
        thread = QThread(self)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress_bar.setValue)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.done.connect(thread.quit)
        thread.finished.connect(self._on_finished)
        self._worker, self._thread = worker, thread
        self.progress_bar.setValue(0)
        self._set_status(f"Converting {len(files)} file{'s' * (len(files) != 1)}…")
        self._update_buttons()
        thread.start()
        return True

    @Slot()
    def cancel_conversion(self) -> None:
        """Stop the running conversion; nothing is written."""
        if self._worker is not None:
            self._worker.cancel()
            self._set_status("Cancelling…")

    def is_converting(self) -> bool:
        """True while a conversion runs."""
        return self._busy()

    @Slot(object)
    def _on_succeeded(self, stats: ConversionStats) -> None:
        self.progress_bar.setValue(100)
        text = summary(stats)
        self._set_status(text[:1].upper() + text[1:])

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.progress_bar.setValue(0)
        self._set_status("Conversion failed; nothing was written.")
        self.show_error(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self.progress_bar.setValue(0)
        self._set_status("Cancelled; nothing was written.")

    @Slot()
    def _on_finished(self) -> None:
        if self._worker is not None:
            self._worker.deleteLater()
        if self._thread is not None:
            self._thread.deleteLater()
        self._worker = self._thread = None
        self._update_buttons()

    # ----------------------------------------------------------------- dialogs (overridable)
    def show_error(self, message: str) -> None:
        """Show an error in a message box."""
        QMessageBox.critical(self, "CSV → XLSX", message)

    def confirm_overwrite(self, path: Path) -> bool:
        """Ask whether to replace an existing workbook."""
        answer = QMessageBox.question(self, "Replace workbook?",
                                      f"{path.name} already exists. Replace it?")
        return answer == QMessageBox.StandardButton.Yes

    # ----------------------------------------------------------------- helpers
    def _busy(self) -> bool:
        return self._thread is not None

    def _set_status(self, text: str) -> None:
        self.status_label.setText(text)

    @Slot()
    def _update_buttons(self) -> None:
        busy = self._busy()
        has_files = self.file_list.count() > 0
        for widget in (self.add_button, self.clear_button, self.browse_button,
                       self.output_edit, self.delimiter_combo, self.encoding_combo,
                       self.max_rows_spin, self.file_list):
            widget.setEnabled(not busy)
        self.clear_button.setEnabled(not busy and has_files)
        self.remove_button.setEnabled(not busy and bool(self.file_list.selectedItems()))
        self.convert_button.setEnabled(not busy and has_files
                                       and bool(self.output_edit.text().strip()))
        self.cancel_button.setEnabled(busy)

    def _about(self) -> None:
        QMessageBox.about(self, "About CSV → XLSX",
                          f"CSV → XLSX {__version__}\nOne Excel sheet per CSV file.")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Cancel a running conversion and wait for it before closing."""
        if self._worker is not None and self._thread is not None:
            self._worker.cancel()
            self._thread.quit()
            self._thread.wait(10_000)
        event.accept()


def _expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders replaced by the CSV files they hold (sorted by name)."""
    result: list[Path] = []
    for path in paths:
        if path.is_dir():
            result.extend(sorted(child for child in path.iterdir()
                                 if child.is_file() and child.suffix.lower() in CSV_SUFFIXES))
        else:
            result.append(path)
    return result


def _with_xlsx_suffix(path: Path) -> Path:
    return path if path.suffix.lower() == ".xlsx" else path.with_name(path.name + ".xlsx")


def run_gui(argv: list[str] | None = None) -> int:
    """Open the window and run the Qt event loop; returns its exit code."""
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    window = MainWindow()
    window.show()
    return app.exec()
