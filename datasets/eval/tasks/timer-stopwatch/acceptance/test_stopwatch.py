import re
import time

import pytest
from PySide6.QtWidgets import QLabel, QPushButton

FORMAT = re.compile(r"(\d{2,}):([0-5]\d)\.(\d)")


@pytest.fixture
def win(qapp):
    import stopwatch

    window = stopwatch.MainWindow()
    window.show()
    qapp.processEvents()
    yield window
    window.close()


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name!r}"
    return found


def label(window):
    return child(window, QLabel, "timeLabel").text().strip()


def seconds(window):
    text = label(window)
    match = FORMAT.fullmatch(text)
    assert match, f"timeLabel is not MM:SS.t: {text!r}"
    minutes, secs, tenths = (int(part) for part in match.groups())
    return minutes * 60 + secs + tenths / 10


def press(window, qapp, name):
    child(window, QPushButton, name).click()
    qapp.processEvents()
    return time.monotonic()


def run_until(window, wait_until, value):
    wait_until(lambda: seconds(window) >= value, timeout_s=5)
    return seconds(window)


def test_starts_at_zero_and_follows_real_time(win, qapp, qwait, wait_until):
    assert label(win) == "00:00.0"
    qwait(200)
    assert label(win) == "00:00.0", "the stopwatch must not run before Start"
    started = press(win, qapp, "startButton")
    shown = run_until(win, wait_until, 0.6)
    real = time.monotonic() - started
    assert shown <= real + 0.1, f"shows {shown} s after {real:.2f} s of real time"
    qwait(300)
    shown, real = seconds(win), time.monotonic() - started
    assert real - 0.35 <= shown <= real + 0.1, f"shows {shown} s after {real:.2f} s"


def test_pause_freezes_and_resume_continues(win, qapp, qwait, wait_until):
    press(win, qapp, "startButton")
    run_until(win, wait_until, 0.5)
    press(win, qapp, "startButton")
    paused = seconds(win)
    qwait(400)
    assert seconds(win) == paused, "the time must stand still while paused"
    resumed = press(win, qapp, "startButton")
    qwait(300)
    shown, real = seconds(win), time.monotonic() - resumed
    assert paused + real - 0.35 <= shown <= paused + real + 0.1, (
        f"paused at {paused} s, {real:.2f} s after resuming it shows {shown} s")


def test_reset_goes_to_zero_and_next_start_counts_from_zero(win, qapp, qwait, wait_until):
    press(win, qapp, "startButton")
    run_until(win, wait_until, 0.8)
    press(win, qapp, "startButton")
    press(win, qapp, "resetButton")
    assert label(win) == "00:00.0"
    qwait(300)
    assert label(win) == "00:00.0"
    started = press(win, qapp, "startButton")
    qwait(300)
    shown, real = seconds(win), time.monotonic() - started
    assert shown <= real + 0.1, f"{real:.2f} s after a reset and start it shows {shown} s"
    assert shown > 0, "the stopwatch does not run after a reset"
