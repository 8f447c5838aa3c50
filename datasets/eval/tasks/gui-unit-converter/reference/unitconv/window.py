"""The main window: pick a category and two units, type a value, read the result."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QFormLayout, QLabel, QLineEdit, QMainWindow,
                               QPushButton, QWidget)

from unitconv.units import CATEGORIES, ConversionError, convert, format_number, parse_number
from unitconv.units import units_of


class MainWindow(QMainWindow):
    """Converter window; widgets are reachable by object name (see the task)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Unit converter")
        self.category_combo = QComboBox(objectName="categoryCombo")
        self.category_combo.addItems(CATEGORIES)
        self.from_combo = QComboBox(objectName="fromCombo")
        self.to_combo = QComboBox(objectName="toCombo")
        self.value_edit = QLineEdit(objectName="valueEdit")
        self.value_edit.setPlaceholderText("Value")
        self.result_label = QLabel(objectName="resultLabel")
        self.swap_button = QPushButton("⇄ Swap", objectName="swapButton")

        form = QFormLayout()
        form.addRow("Category", self.category_combo)
        form.addRow("Value", self.value_edit)
        form.addRow("From", self.from_combo)
        form.addRow("To", self.to_combo)
        form.addRow("", self.swap_button)
        form.addRow("Result", self.result_label)
        central = QWidget()
        central.setLayout(form)
        self.setCentralWidget(central)

        self.category_combo.currentTextChanged.connect(self._fill_units)
        self.from_combo.currentIndexChanged.connect(self._update)
        self.to_combo.currentIndexChanged.connect(self._update)
        self.value_edit.textChanged.connect(self._update)
        self.swap_button.clicked.connect(self._swap)
        self._fill_units(self.category_combo.currentText())

    def _fill_units(self, category: str) -> None:
        units = units_of(category)
        for combo, index in ((self.from_combo, 0), (self.to_combo, 1)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(units)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)
        self._update()

    def _swap(self) -> None:
        source, target = self.from_combo.currentIndex(), self.to_combo.currentIndex()
        for combo, index in ((self.from_combo, target), (self.to_combo, source)):
            combo.blockSignals(True)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)
        self._update()

    def _update(self) -> None:
        text = self.value_edit.text()
        if not text.strip():
            self.result_label.setText("")
            return
        try:
            value = parse_number(text)
            result = convert(self.category_combo.currentText(), value,
                             self.from_combo.currentText(), self.to_combo.currentText())
        except ConversionError as exc:
            self.result_label.setText(f"⚠ {exc}")
            return
        self.result_label.setText(format_number(result))
