import os
import select
import signal
import subprocess
import sys
import time

import pytest


def lines(result):
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def start(app_dir, tmp_path, *args):
    """Start the program in the background with a normal Ctrl+C (SIGINT) behaviour."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(app_dir / "src"), str(app_dir), os.environ.get("PYTHONPATH", "")])}
    env.pop("PYTHONUNBUFFERED", None)  # as in a user's shell: the program must flush itself
    return subprocess.Popen(
        [sys.executable, str(app_dir / os.environ["EVAL_ENTRY"]), *args], cwd=tmp_path,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def read_line(process, timeout=10.0):
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        process.kill()
        pytest.fail(f"no output line within {timeout} s (is the output flushed line by line?)")
    return process.stdout.readline()


def test_counts_down_each_second_then_says_time_is_up(run_app):
    result = run_app("3", "--tick", "0.01")
    assert result.returncode == 0, result.stderr
    assert lines(result) == ["00:03", "00:02", "00:01", "Время вышло!"]


def test_duration_formats_and_hours(run_app):
    for duration, first, count in [
            ("90", "01:30", 90), ("1:30", "01:30", 90), ("2m", "02:00", 120),
            ("45s", "00:45", 45), ("2м", "02:00", 120), ("45с", "00:45", 45),
            ("1ч30м", "1:30:00", 5400), ("1h2m3s", "1:02:03", 3723),
            ("1:02:03", "1:02:03", 3723)]:
        result = run_app(duration, "--tick", "0")
        assert result.returncode == 0, (duration, result.stderr)
        shown = lines(result)
        assert shown[0] == first, duration
        assert len(shown) == count + 1, f"{duration}: one line per second, then the message"
        assert shown[-2:] == ["00:01", "Время вышло!"], duration
        if count > 3600:
            hour = shown.index("1:00:00")
            assert shown[hour + 1] == "59:59", duration


def test_custom_message(run_app):
    result = run_app("2", "--tick", "0.01", "--message", "Чай готов 🍵")
    assert result.returncode == 0, result.stderr
    assert lines(result) == ["00:02", "00:01", "Чай готов 🍵"]


def test_tick_really_waits_and_lines_come_as_they_happen(app_dir, tmp_path):
    began = time.monotonic()
    process = start(app_dir, tmp_path, "5", "--tick", "0.25")
    arrivals = []
    while True:
        line = read_line(process)
        if not line:
            break
        if line.strip():
            arrivals.append((time.monotonic(), line.strip()))
    process.wait(timeout=10)
    assert process.returncode == 0
    assert [text for _, text in arrivals] == ["00:05", "00:04", "00:03", "00:02", "00:01",
                                             "Время вышло!"]
    assert arrivals[-1][0] - arrivals[0][0] >= 0.9, "the lines must appear one tick apart"
    assert arrivals[-1][0] - began >= 1.2, "5 timer seconds of 0.25 s must take 1.25 s"
    assert arrivals[-1][0] - began <= 8


def test_bad_durations_are_rejected(run_app):
    for bad in ("abc", "0", "-5", "1:75", "10x", "", "0m0s"):
        result = run_app(bad, "--tick", "0")
        assert result.returncode == 2, (bad, result.returncode, result.stdout[-200:])
        assert result.stderr.strip(), bad
        assert "Traceback" not in result.stderr, bad
        assert "Время вышло" not in result.stdout, bad


def test_ctrl_c_cancels_cleanly(app_dir, tmp_path):
    process = start(app_dir, tmp_path, "100", "--tick", "0.05")
    assert read_line(process).strip() == "01:40"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 130
    assert "Отменено" in out + err
    assert "Traceback" not in err
    assert "Время вышло" not in out
