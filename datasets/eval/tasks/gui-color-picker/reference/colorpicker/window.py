"""The picker window: three sliders, a preview, a hex code field and a contrast hint."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QApplication, QFormLayout, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QMainWindow, QPushButton, QSlider, QVBoxLayout,
                               QWidget)

from colorpicker.colors import RGB, best_text_colour, parse_hex, to_hex

TEXT_NAMES = {"black": "чёрный", "white": "белый"}


class MainWindow(QMainWindow):
    """Colour picker; widgets are reachable by object name (see the task)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Подбор цвета")
        self.sliders: list[QSlider] = []
        form = QFormLayout()
        for name, title in (("redSlider", "Красный"), ("greenSlider", "Зелёный"),
                            ("blueSlider", "Синий")):
            slider = QSlider(Qt.Orientation.Horizontal, objectName=name)
            slider.setRange(0, 255)
            slider.valueChanged.connect(self._sliders_moved)
            self.sliders.append(slider)
            form.addRow(title, slider)
        self.preview = QFrame(objectName="previewFrame")
        self.preview.setMinimumSize(160, 100)
        self.hex_edit = QLineEdit(objectName="hexEdit")
        self.hex_edit.returnPressed.connect(self._hex_entered)
        self.copy_button = QPushButton("Копировать", objectName="copyButton")
        self.copy_button.clicked.connect(self.copy_code)
        self.contrast_label = QLabel(objectName="contrastLabel")
        self.status_label = QLabel(objectName="statusLabel")

        code_row = QHBoxLayout()
        code_row.addWidget(self.hex_edit)
        code_row.addWidget(self.copy_button)
        layout = QVBoxLayout()
        layout.addLayout(form)
        layout.addWidget(self.preview, 1)
        layout.addLayout(code_row)
        layout.addWidget(self.contrast_label)
        layout.addWidget(self.status_label)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)
        self._show(self.rgb())

    def rgb(self) -> RGB:
        """The current colour as (red, green, blue), each 0–255."""
        red, green, blue = (slider.value() for slider in self.sliders)
        return red, green, blue

    def set_rgb(self, rgb: RGB) -> None:
        """Move the sliders to ``rgb`` and show it (one update, not three)."""
        for slider, value in zip(self.sliders, rgb, strict=True):
            slider.blockSignals(True)
            slider.setValue(value)
            slider.blockSignals(False)
        self._show(rgb)

    def copy_code(self) -> None:
        """Put the ``#RRGGBB`` code of the current colour on the clipboard."""
        QApplication.clipboard().setText(to_hex(self.rgb()))
        self.status_label.setText(f"Скопировано: {to_hex(self.rgb())}")

    def _sliders_moved(self) -> None:
        self.status_label.setText("")
        self._show(self.rgb())

    def _hex_entered(self) -> None:
        try:
            rgb = parse_hex(self.hex_edit.text())
        except ValueError as exc:
            self.status_label.setText(str(exc))
            return
        self.status_label.setText("")
        self.set_rgb(rgb)

    def _show(self, rgb: RGB) -> None:
        code = to_hex(rgb)
        text = best_text_colour(rgb)
        self.preview.setStyleSheet(
            f"QFrame#previewFrame {{ background-color: {code}; color: {text}; }}")
        self.hex_edit.setText(code)
        self.contrast_label.setText(f"Текст: {TEXT_NAMES[text]}")
