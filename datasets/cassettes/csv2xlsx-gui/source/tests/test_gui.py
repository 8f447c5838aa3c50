"""The window, headless (conftest sets QT_QPA_PLATFORM=offscreen): no pytest-qt needed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEventLoop, QMimeData, QPoint, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from csv2xlsx.gui import MainWindow
from tests.conftest import SAMPLE, read_workbook


class QuietWindow(MainWindow):
    """The real window with its dialogs replaced: errors are collected, overwrite allowed."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def show_error(self, message: str) -> None:
        self.errors.append(message)

    def confirm_overwrite(self, path: Path) -> bool:
        return True


@pytest.fixture(scope="module")
def app() -> QApplication:
    existing = QApplication.instance()
    return existing if isinstance(existing, QApplication) else QApplication([])


@pytest.fixture
def window(app: QApplication) -> Iterator[QuietWindow]:
    win = QuietWindow()
    win.show()
    yield win
    win.close()
    win.deleteLater()
    app.processEvents()


def wait_until(condition: Callable[[], bool], timeout_ms: int = 20_000) -> bool:
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    timer.start()
    deadline.start(timeout_ms)
    if not condition():
        loop.exec()
    timer.stop()
    deadline.stop()
    return condition()


def test_window_is_built(window: QuietWindow) -> None:
    assert window.objectName() == "Csv2XlsxWindow"
    assert window.acceptDrops()
    assert window.progress_bar.value() == 0
    assert not window.convert_button.isEnabled()
    assert not window.cancel_button.isEnabled()
    assert window.max_rows_spin.value() == 1_048_576
    assert window.delimiter_combo.currentData() is None
    assert window.encoding_combo.currentText() == "utf-8-sig"


def test_adding_files_suggests_an_output_and_skips_duplicates(
        window: QuietWindow, write_csv: Callable[..., Path]) -> None:
    first = write_csv("one.csv", "a\n1\n")
    second = write_csv("two.csv", "b\n2\n")
    assert window.add_files([first, second, first, first.parent / "missing.csv"]) == 2
    assert window.files() == [first.resolve(), second.resolve()]
    assert window.output_edit.text() == str(first.resolve().with_suffix(".xlsx"))
    assert window.convert_button.isEnabled()
    window.file_list.item(0).setSelected(True)
    window.remove_selected()
    assert window.files() == [second.resolve()]
    window.clear_files()
    assert window.files() == []
    assert not window.convert_button.isEnabled()


def test_dropping_a_folder_adds_its_csv_files(window: QuietWindow, tmp_path: Path,
                                              write_csv: Callable[..., Path]) -> None:
    write_csv("b.csv", "x\n1\n")
    write_csv("a.tsv", "x\n1\n")
    write_csv("notes.docx", "not csv")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path))])
    event = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert [p.name for p in window.files()] == ["a.tsv", "b.csv"]


def test_conversion_runs_in_the_background(window: QuietWindow, tmp_path: Path) -> None:
    out = tmp_path / "gui.xlsx"
    window.add_files([SAMPLE])
    window.output_edit.setText(str(out))
    assert window.start_conversion()
    assert window.is_converting()
    assert not window.convert_button.isEnabled()
    assert wait_until(lambda: not window.is_converting())
    assert window.errors == []
    assert window.progress_bar.value() == 100
    assert "1 sheet, 6 rows" in window.status_label.text()
    assert read_workbook(out)["sample"][1][1] == "Алиса Иванова"
    assert window.convert_button.isEnabled()


def test_conversion_error_is_shown_and_nothing_written(
        window: QuietWindow, write_csv: Callable[..., Path], tmp_path: Path) -> None:
    empty = write_csv("empty.csv", "")
    out = tmp_path / "never.xlsx"
    window.add_files([empty])
    window.output_edit.setText(str(out))
    assert window.start_conversion()
    assert wait_until(lambda: not window.is_converting())
    assert len(window.errors) == 1
    assert "empty" in window.errors[0]
    assert "nothing was written" in window.status_label.text()
    assert not out.exists()


def test_missing_output_or_files_is_reported(window: QuietWindow) -> None:
    assert not window.start_conversion()
    assert window.errors == ["Add at least one CSV file first."]
    window.add_files([SAMPLE])
    window.output_edit.clear()
    assert not window.start_conversion()
    assert window.errors[-1] == "Choose where to save the workbook."


def test_output_gets_the_xlsx_suffix(window: QuietWindow, tmp_path: Path) -> None:
    window.output_edit.setText(str(tmp_path / "report"))
    assert window.output_path() == tmp_path / "report.xlsx"
