import re
import sys
import time

PY = sys.executable


def stamps(path):
    return [float(value) for value in path.read_text(encoding="utf-8").split()]


def test_runs_count_times_and_passes_output_through(run_app):
    result = run_app("0.1", "--count", "3", "--", PY, "-c", "print('tick ✓')")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "tick ✓\n" * 3
    weird = "a b; echo $HOME *"
    result = run_app("100ms", "--count", "2", "--", PY, "-c", "import sys; print(sys.argv[1:])",
                     weird, "--count")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [repr([weird, "--count"])] * 2
    began = time.monotonic()
    result = run_app("1h", "--count", "1", "--", PY, "-c", "print('once')")
    assert (result.returncode, result.stdout) == (0, "once\n"), result.stderr
    assert time.monotonic() - began < 20, "no waiting after the last run"


def test_runs_start_every_interval_from_start_to_start(run_app, tmp_path):
    log = tmp_path / "starts.txt"
    code = (f"import time; open({str(log)!r}, 'a').write(repr(time.time()) + ' ');"
            " time.sleep(0.6)")
    launched = time.time()
    result = run_app("1", "--count", "3", "--", PY, "-c", code)
    assert result.returncode == 0, result.stderr
    starts = stamps(log)
    assert len(starts) == 3
    assert starts[0] - launched < 0.8, "the first run must start right away"
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    assert all(0.85 <= gap <= 1.35 for gap in gaps), f"gaps between starts: {gaps}"


def test_slow_runs_never_overlap(run_app, tmp_path):
    log = tmp_path / "runs.txt"
    code = (f"import time; f = open({str(log)!r}, 'a'); f.write(repr(time.time()) + ' ');"
            " f.flush(); time.sleep(0.5); f.write(repr(time.time()) + ' '); f.close()")
    began = time.monotonic()
    result = run_app("200ms", "--count", "3", "--", PY, "-c", code)
    assert result.returncode == 0, result.stderr
    values = stamps(log)
    assert len(values) == 6, values
    runs = list(zip(values[::2], values[1::2]))
    for (_, end), (start, _) in zip(runs, runs[1:]):
        assert start >= end - 0.01, f"a run started before the previous one ended: {runs}"
    assert time.monotonic() - began < 15


def test_failures_are_reported_and_set_the_exit_code(run_app, tmp_path):
    code = ("import pathlib, sys; p = pathlib.Path('n.txt');"
            " n = int(p.read_text()) + 1 if p.exists() else 1; p.write_text(str(n));"
            " print('run', n); sys.exit(3 if n == 2 else 0)")
    result = run_app("0.1", "--count", "3", "--", PY, "-c", code)
    assert result.stdout.splitlines() == ["run 1", "run 2", "run 3"]
    assert result.returncode == 1
    assert re.search(r"\b3\b", result.stderr), f"no failing code: {result.stderr!r}"
    (tmp_path / "n.txt").unlink()
    result = run_app("0.1", "--count", "5", "--stop-on-error", "--", PY, "-c", code)
    assert result.stdout.splitlines() == ["run 1", "run 2"]
    assert result.returncode == 3


def test_bad_arguments_and_unknown_command(run_app):
    for args in (["0", "--", PY, "-V"], ["-1", "--", PY, "-V"], ["abc", "--", PY, "-V"],
                 ["5x", "--", PY, "-V"], ["1", "--count", "0", "--", PY, "-V"],
                 ["1", "--count", "abc", "--", PY, "-V"], ["1"], ["1", "--"]):
        result = run_app(*args, timeout=20)
        assert result.returncode == 2, (args, result.returncode, result.stderr)
        assert result.stderr.strip() and "Traceback" not in result.stderr, args
        assert result.stdout == "", args
    began = time.monotonic()
    result = run_app("0.1", "--count", "3", "--", "no-such-command-xyz-42", timeout=20)
    assert result.returncode == 127
    assert result.stderr.strip() and "Traceback" not in result.stderr
    assert time.monotonic() - began < 10
