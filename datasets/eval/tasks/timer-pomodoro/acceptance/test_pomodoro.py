import csv
import re
from datetime import date, timedelta

import pytest
from PySide6.QtWidgets import QAbstractSpinBox, QLabel, QPushButton


@pytest.fixture
def make(qapp, tmp_path):
    import pomodoro

    windows = []

    def build(log_dir=None, work=None, short=None, long=None, rounds=None):
        window = pomodoro.MainWindow(log_dir=str(log_dir or tmp_path / "log"))
        window.show()
        for name, value in (("workSpin", work), ("shortBreakSpin", short),
                            ("longBreakSpin", long), ("roundsSpin", rounds)):
            if value is not None:
                child(window, QAbstractSpinBox, name).setValue(value)
        qapp.processEvents()
        windows.append(window)
        return window

    yield build
    for window in windows:
        window.close()


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name!r}"
    return found


def press(window, qapp, name):
    child(window, QPushButton, name).click()
    qapp.processEvents()


def ticks(window, qapp, count):
    for _ in range(count):
        window.tick()
    qapp.processEvents()


def state(window):
    """(timeLabel, phaseLabel, doneLabel) as shown."""
    text = {name: child(window, QLabel, name).text().strip()
            for name in ("timeLabel", "phaseLabel", "doneLabel")}
    return text["timeLabel"], text["phaseLabel"].lower(), text["doneLabel"]


def test_opens_ready_with_defaults_and_follows_length_changes(make, qapp):
    window = make()
    assert [child(window, QAbstractSpinBox, name).value()
            for name in ("workSpin", "shortBreakSpin", "longBreakSpin", "roundsSpin")] == [
        25, 5, 15, 4]
    assert state(window) == ("25:00", "work", "0")
    ticks(window, qapp, 3)
    assert state(window) == ("25:00", "work", "0"), "tick() must do nothing before Start"
    child(window, QAbstractSpinBox, "workSpin").setValue(1)
    qapp.processEvents()
    assert state(window) == ("01:00", "work", "0")
    child(window, QAbstractSpinBox, "workSpin").setValue(50)
    qapp.processEvents()
    assert state(window)[0] == "50:00"


def test_counts_down_pauses_and_resumes(make, qapp):
    window = make(work=1, short=2)
    press(window, qapp, "startButton")
    ticks(window, qapp, 1)
    assert state(window) == ("00:59", "work", "0")
    press(window, qapp, "pauseButton")
    ticks(window, qapp, 5)
    assert state(window) == ("00:59", "work", "0"), "tick() must do nothing while paused"
    press(window, qapp, "startButton")
    ticks(window, qapp, 58)
    assert state(window) == ("00:01", "work", "0")
    child(window, QAbstractSpinBox, "workSpin").setValue(7)  # only from the next work phase
    qapp.processEvents()
    assert state(window) == ("00:01", "work", "0")
    ticks(window, qapp, 1)
    assert state(window) == ("02:00", "short break", "1")
    ticks(window, qapp, 1)
    assert state(window) == ("01:59", "short break", "1"), "a break starts by itself"


def test_long_break_after_n_sessions_and_work_waits_for_start(make, qapp):
    window = make(work=1, short=2, long=3, rounds=2)
    press(window, qapp, "startButton")
    ticks(window, qapp, 60)
    assert state(window) == ("02:00", "short break", "1")
    ticks(window, qapp, 120)
    assert state(window) == ("01:00", "work", "1")
    ticks(window, qapp, 3)
    assert state(window) == ("01:00", "work", "1"), "after a break work waits for Start"
    press(window, qapp, "startButton")
    ticks(window, qapp, 60)
    assert state(window) == ("03:00", "long break", "2")
    ticks(window, qapp, 180)
    assert state(window) == ("01:00", "work", "2")
    press(window, qapp, "startButton")
    ticks(window, qapp, 60)
    assert state(window) == ("02:00", "short break", "3")


def test_skip_and_reset(make, qapp):
    window = make(work=1, short=2, long=3, rounds=1)
    press(window, qapp, "startButton")
    ticks(window, qapp, 5)
    press(window, qapp, "skipButton")
    assert state(window) == ("02:00", "short break", "0"), "a skipped session is not finished"
    ticks(window, qapp, 1)
    assert state(window) == ("01:59", "short break", "0")
    press(window, qapp, "skipButton")
    ticks(window, qapp, 2)
    assert state(window) == ("01:00", "work", "0")
    press(window, qapp, "startButton")
    ticks(window, qapp, 60)
    assert state(window) == ("03:00", "long break", "1")
    press(window, qapp, "skipButton")
    press(window, qapp, "startButton")
    press(window, qapp, "skipButton")
    assert state(window) == ("02:00", "short break", "1"), "skipped work → a short break"
    press(window, qapp, "resetButton")
    assert state(window) == ("01:00", "work", "1")
    ticks(window, qapp, 3)
    assert state(window) == ("01:00", "work", "1"), "Reset stops the timer"
    press(window, qapp, "startButton")
    ticks(window, qapp, 10)
    press(window, qapp, "resetButton")
    assert state(window) == ("01:00", "work", "1")


def test_finished_sessions_are_logged(make, qapp, tmp_path):
    log_dir = tmp_path / "new" / "logs"
    window = make(log_dir=log_dir, work=1, short=1)
    press(window, qapp, "startButton")
    ticks(window, qapp, 60)
    press(window, qapp, "skipButton")
    press(window, qapp, "startButton")
    press(window, qapp, "skipButton")  # skipped work: not logged
    press(window, qapp, "skipButton")
    child(window, QAbstractSpinBox, "workSpin").setValue(2)
    press(window, qapp, "startButton")
    ticks(window, qapp, 120)
    assert state(window)[2] == "2"
    with (log_dir / "pomodoro_log.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["date", "time", "minutes"]
    assert len(rows) == 3, rows
    today = date.today()
    for row, minutes in zip(rows[1:], ("1", "2")):
        assert row[0] in (today.isoformat(), (today - timedelta(days=1)).isoformat()), row
        assert re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", row[1]), row
        assert row[2] == minutes, row
