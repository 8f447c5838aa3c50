"""The viewer window: open an image, zoom in steps, go through the folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader, QPixmap
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QMainWindow, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

ZOOM_STEPS = (25, 50, 100, 200, 400)
"""Zoom levels in percent; 100% is ZOOM_STEPS[ACTUAL]."""
ACTUAL = ZOOM_STEPS.index(100)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif"})


def folder_images(folder: Path) -> list[Path]:
    """The image files of ``folder`` (by extension, any case), sorted by name."""
    files = (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    return sorted(files, key=lambda p: (p.name.casefold(), p.name))


class MainWindow(QMainWindow):
    """Image viewer; widgets are reachable by object name (see the task)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Image viewer")
        self.resize(800, 600)
        self._image: QImage | None = None
        self._path: Path | None = None
        self._zoom = ACTUAL

        self.image_label = QLabel(objectName="imageLabel")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.image_label)
        scroll.setWidgetResizable(True)
        self.open_button = QPushButton("Open…", objectName="openButton")
        self.prev_button = QPushButton("◀", objectName="prevButton")
        self.next_button = QPushButton("▶", objectName="nextButton")
        self.zoom_out_button = QPushButton("−", objectName="zoomOutButton")
        self.zoom_in_button = QPushButton("+", objectName="zoomInButton")
        self.actual_size_button = QPushButton("100%", objectName="actualSizeButton")
        self.zoom_label = QLabel("100%", objectName="zoomLabel")
        self.info_label = QLabel(objectName="infoLabel")
        self.status_label = QLabel(objectName="statusLabel")

        tools = QHBoxLayout()
        for widget in (self.open_button, self.prev_button, self.next_button,
                       self.zoom_out_button, self.zoom_label, self.zoom_in_button,
                       self.actual_size_button):
            tools.addWidget(widget)
        tools.addStretch(1)
        tools.addWidget(self.info_label)
        layout = QVBoxLayout()
        layout.addLayout(tools)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status_label)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)

        self.open_button.clicked.connect(self._ask_open)
        self.prev_button.clicked.connect(lambda: self._step_image(-1))
        self.next_button.clicked.connect(lambda: self._step_image(1))
        self.zoom_in_button.clicked.connect(lambda: self._set_zoom(self._zoom + 1))
        self.zoom_out_button.clicked.connect(lambda: self._set_zoom(self._zoom - 1))
        self.actual_size_button.clicked.connect(lambda: self._set_zoom(ACTUAL))

    def open_image(self, path: str | Path) -> bool:
        """Show the image at ``path`` at 100%; on failure keep the current one and say why."""
        target = Path(path)
        reader = QImageReader(str(target))
        reader.setAutoTransform(True)
        image = reader.read()
        if image.isNull():
            self.status_label.setText(f"Cannot open {target.name}: {reader.errorString()}")
            return False
        self._image, self._path = image, target
        self.info_label.setText(f"{target.name} — {image.width()} × {image.height()}")
        self.status_label.setText("")
        self.setWindowTitle(f"{target.name} — Image viewer")
        self._set_zoom(ACTUAL)
        return True

    def _ask_open(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open image", "", "Images (*.png *.jpg *.jpeg *.bmp *.gif);;All files (*)")
        if name:
            self.open_image(name)

    def _set_zoom(self, index: int) -> None:
        self._zoom = min(max(index, 0), len(ZOOM_STEPS) - 1)
        percent = ZOOM_STEPS[self._zoom]
        self.zoom_label.setText(f"{percent}%")
        if self._image is None:
            return
        size = QSize(max(1, round(self._image.width() * percent / 100)),
                     max(1, round(self._image.height() * percent / 100)))
        scaled = self._image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                    Qt.TransformationMode.SmoothTransformation)
        self.image_label.setPixmap(QPixmap.fromImage(scaled))

    def _step_image(self, step: int) -> None:
        """Open the next (step=1) or previous (step=-1) image of the folder, wrapping."""
        if self._path is None:
            return
        try:
            images = folder_images(self._path.parent)
        except OSError as exc:
            self.status_label.setText(f"Cannot list the folder: {exc.strerror}")
            return
        if self._path in images:
            start = images.index(self._path)
        else:  # the current file was removed: continue from where it would be
            start = sum(p.name.casefold() < self._path.name.casefold() for p in images) - (
                1 if step > 0 else 0)
        for offset in range(1, len(images) + 1):
            if self.open_image(images[(start + step * offset) % len(images)]):
                return
