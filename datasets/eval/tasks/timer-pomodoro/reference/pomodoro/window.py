"""The Pomodoro window: work sessions and breaks counted down by tick()."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QApplication, QFormLayout, QHBoxLayout, QLabel, QMainWindow,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from pomodoro import worklog

WORK, SHORT_BREAK, LONG_BREAK = "Work", "Short break", "Long break"


def format_left(seconds: int) -> str:
    """``MM:SS`` (minutes may exceed 59 for long sessions)."""
    minutes, secs = divmod(max(seconds, 0), 60)
    return f"{minutes:02d}:{secs:02d}"


class MainWindow(QMainWindow):
    """Pomodoro timer; ``log_dir`` receives ``pomodoro_log.csv`` (default: home folder)."""

    def __init__(self, log_dir: str | Path | None = None) -> None:
        super().__init__()
        self.log_dir = Path(log_dir) if log_dir is not None else Path.home()
        self._phase = WORK
        self._running = False
        self._fresh = True  # the current phase has not started counting yet
        self._done = 0

        self.work_spin = self._spin("workSpin", 25)
        self.short_break_spin = self._spin("shortBreakSpin", 5)
        self.long_break_spin = self._spin("longBreakSpin", 15)
        self.rounds_spin = self._spin("roundsSpin", 4, maximum=12)
        self.start_button = QPushButton("Start", objectName="startButton")
        self.pause_button = QPushButton("Pause", objectName="pauseButton")
        self.reset_button = QPushButton("Reset", objectName="resetButton")
        self.skip_button = QPushButton("Skip", objectName="skipButton")
        self.time_label = QLabel(objectName="timeLabel")
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        big = QFont(self.time_label.font())
        big.setPointSize(40)
        self.time_label.setFont(big)
        self.phase_label = QLabel(objectName="phaseLabel")
        self.phase_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.done_label = QLabel(objectName="doneLabel")
        self.status_label = QLabel(objectName="statusLabel")
        self._layout()

        self._remaining = self._length(WORK)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.pause)
        self.reset_button.clicked.connect(self.reset)
        self.skip_button.clicked.connect(self.skip)
        for spin in (self.work_spin, self.short_break_spin, self.long_break_spin):
            spin.valueChanged.connect(self._length_changed)
        self._refresh()

    def _spin(self, name: str, value: int, maximum: int = 180) -> QSpinBox:
        spin = QSpinBox(objectName=name)
        spin.setRange(1, maximum)
        spin.setValue(value)
        return spin

    def _layout(self) -> None:
        settings = QFormLayout()
        settings.addRow("Work, min", self.work_spin)
        settings.addRow("Short break, min", self.short_break_spin)
        settings.addRow("Long break, min", self.long_break_spin)
        settings.addRow("Sessions before a long break", self.rounds_spin)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.reset_button,
                       self.skip_button):
            buttons.addWidget(button)
        done_row = QHBoxLayout()
        done_row.addWidget(QLabel("Finished today:"))
        done_row.addWidget(self.done_label)
        done_row.addStretch(1)
        layout = QVBoxLayout()
        layout.addWidget(self.phase_label)
        layout.addWidget(self.time_label)
        layout.addLayout(buttons)
        layout.addLayout(done_row)
        layout.addLayout(settings)
        layout.addWidget(self.status_label)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)

    def _length(self, phase: str) -> int:
        """The length of ``phase`` in seconds, from its spin box."""
        spin = {WORK: self.work_spin, SHORT_BREAK: self.short_break_spin,
                LONG_BREAK: self.long_break_spin}[phase]
        return spin.value() * 60

    # --- controls ------------------------------------------------------------------------

    def tick(self) -> None:
        """One second passes: count down while running, and move on at 00:00."""
        if not self._running:
            return
        self._remaining -= 1
        if self._remaining <= 0:
            self._finish_phase(skipped=False)
        self._refresh()

    def start(self) -> None:
        """Start the current phase, or resume it after a pause."""
        self._fresh = False
        self._set_running(True)
        self._refresh()

    def pause(self) -> None:
        """Freeze the countdown."""
        self._set_running(False)
        self._refresh()

    def reset(self) -> None:
        """Stop and go back to the start of a full work session (doneLabel is kept)."""
        self._enter(WORK, running=False)
        self._refresh()

    def skip(self) -> None:
        """End the current phase now; a skipped work session does not count."""
        self._finish_phase(skipped=True)
        self._refresh()

    # --- phases --------------------------------------------------------------------------

    def _finish_phase(self, skipped: bool) -> None:
        if self._phase != WORK:
            self._enter(WORK, running=False)  # wait for me to come back and press Start
        elif skipped:
            self._enter(SHORT_BREAK, running=True)
        else:
            self._done += 1
            self._log(self.work_spin.value())
            long_due = self._done % self.rounds_spin.value() == 0
            self._enter(LONG_BREAK if long_due else SHORT_BREAK, running=True)
        QApplication.beep()

    def _enter(self, phase: str, running: bool) -> None:
        self._phase = phase
        self._remaining = self._length(phase)
        self._fresh = not running
        self._set_running(running)

    def _set_running(self, running: bool) -> None:
        self._running = running
        if running:
            self._timer.start()
        else:
            self._timer.stop()

    def _length_changed(self) -> None:
        if self._fresh and not self._running:
            self._remaining = self._length(self._phase)
            self._refresh()

    def _log(self, minutes: int) -> None:
        try:
            worklog.append(self.log_dir, minutes)
        except OSError as exc:
            self.status_label.setText(f"Cannot write the log: {exc.strerror}")

    def _refresh(self) -> None:
        left = format_left(self._remaining)
        self.time_label.setText(left)
        self.phase_label.setText(self._phase)
        self.done_label.setText(str(self._done))
        self.setWindowTitle(f"{left} — {self._phase}")
