"""The stopwatch: one start/pause button, a reset button and the time as MM:SS.t."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QPushButton, QVBoxLayout, QWidget

REFRESH_MS = 50
"""How often the display refreshes; the time itself comes from a monotonic clock."""


def format_elapsed(milliseconds: int) -> str:
    """``MM:SS.t`` (tenths truncated); minutes keep counting past 59."""
    tenths = milliseconds // 100
    minutes, tenths = divmod(tenths, 600)
    return f"{minutes:02d}:{tenths // 10:02d}.{tenths % 10}"


class MainWindow(QMainWindow):
    """Stopwatch; widgets are reachable by object name (see the task)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Секундомер")
        self._clock = QElapsedTimer()
        self._banked_ms = 0  # time counted before the last pause
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh)

        self.time_label = QLabel(format_elapsed(0), objectName="timeLabel")
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = QFont(self.time_label.font())
        font.setPointSize(36)
        self.time_label.setFont(font)
        self.start_button = QPushButton("Старт", objectName="startButton")
        self.reset_button = QPushButton("Сброс", objectName="resetButton")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.reset_button)
        layout = QVBoxLayout()
        layout.addWidget(self.time_label)
        layout.addLayout(buttons)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)

        self.start_button.clicked.connect(self.toggle)
        self.reset_button.clicked.connect(self.reset)

    @property
    def running(self) -> bool:
        """True while the stopwatch counts."""
        return self._timer.isActive()

    def elapsed_ms(self) -> int:
        """Milliseconds counted so far."""
        return self._banked_ms + (self._clock.elapsed() if self.running else 0)

    def toggle(self) -> None:
        """Start, or pause when running."""
        if self.running:
            self._banked_ms = self.elapsed_ms()
            self._timer.stop()
            self.start_button.setText("Старт")
        else:
            self._clock.start()
            self._timer.start()
            self.start_button.setText("Пауза")
        self._refresh()

    def reset(self) -> None:
        """Stop and go back to zero."""
        self._timer.stop()
        self._banked_ms = 0
        self.start_button.setText("Старт")
        self._refresh()

    def _refresh(self) -> None:
        self.time_label.setText(format_elapsed(self.elapsed_ms()))
