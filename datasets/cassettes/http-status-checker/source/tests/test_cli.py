"""The command line: output lines in order, exit codes, errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from statuscheck.cli import main

PROJECT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"(?P<url>.+) (?P<status>\d{3}|TIMEOUT|ERROR) (?P<ms>\d+)ms")


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, lines: list[str],
        *options: str) -> tuple[int, list[tuple[str, str]], str]:
    path = tmp_path / "urls.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    try:
        code = main([str(path), *options])
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    rows = []
    for line in out.splitlines():
        match = LINE.fullmatch(line)
        assert match, f"bad output line: {line!r}"
        rows.append((match["url"], match["status"]))
    return code, rows, err


def test_all_good_exits_0(server: str, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, err = run(capsys, tmp_path, [f"{server}/health", f"{server}/moved"])
    assert code == 0
    assert rows == [(f"{server}/health", "200"), (f"{server}/moved", "200")]
    assert "2 checked, 2 ok, 0 failed" in err


def test_failures_keep_order_and_exit_1(server: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["# comment", f"{server}/gone", "", "not a url", f"  {server}/boom  ",
             f"{server}/health"]
    code, rows, _ = run(capsys, tmp_path, lines)
    assert code == 1
    assert rows == [(f"{server}/gone", "410"), ("not a url", "ERROR"),
                    (f"{server}/boom", "503"), (f"{server}/health", "200")]


def test_timeout_option(server: str, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, _ = run(capsys, tmp_path, [f"{server}/hang", f"{server}/health"],
                        "--timeout", "0.3")
    assert code == 1
    assert rows == [(f"{server}/hang", "TIMEOUT"), (f"{server}/health", "200")]


@pytest.mark.parametrize("timeout", ["0", "-1", "soon", "nan", "inf"])
def test_bad_timeout_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      timeout: str) -> None:
    code, rows, err = run(capsys, tmp_path, ["http://127.0.0.1:9/"], "--timeout", timeout)
    assert (code, rows) == (2, [])
    assert "--timeout" in err


def test_missing_or_empty_file_exits_2(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.txt")]) == 2
    assert "statuscheck: error: no such file" in capsys.readouterr().err
    code, rows, err = run(capsys, tmp_path, ["# nothing yet", ""])
    assert (code, rows) == (2, [])
    assert "contains no URLs" in err


def test_smoke_command_as_a_subprocess() -> None:
    done = subprocess.run([sys.executable, "statuscheck/main.py", "--version"], cwd=PROJECT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "statuscheck 1.0.0"
