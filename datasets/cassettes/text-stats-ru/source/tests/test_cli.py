"""The command line: JSON and table output, --wpm, errors, the smoke command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from textstats.cli import main

PROJECT = Path(__file__).resolve().parent.parent
STORY = ("Привет, мир! Кто-то постучал в дверь?! Я открыл... Никого.\n"
         "\n"
         "Северо-запад — это направление. Ветер дул с северо-запада\n")


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / f"text-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    return path


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, write(tmp_path, STORY), "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"chars": len(STORY), "chars_no_spaces": 100, "words": 16,
                               "sentences": 6, "paragraphs": 2, "avg_sentence_words": 2.7,
                               "reading_time_min": 1}


def test_windows_1251_gives_the_same_json(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    utf8 = run(capsys, write(tmp_path, STORY), "--json")[1]
    cp1251 = run(capsys, write(tmp_path, STORY, "cp1251"), "--json")[1]
    assert json.loads(cp1251) == json.loads(utf8)


def test_wpm_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "слово " * 400)
    assert json.loads(run(capsys, path, "--json")[1])["reading_time_min"] == 3
    assert json.loads(run(capsys, path, "--json", "--wpm", "400")[1])["reading_time_min"] == 1


def test_table_in_russian(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, write(tmp_path, STORY))
    assert code == 0
    lines = out.splitlines()
    assert any(line.startswith("Слов") and line.split()[-1] == "16" for line in lines)
    assert any(line.startswith("Средняя длина") and line.endswith("2,7") for line in lines)
    assert "кодировка utf-8" in lines[0]


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, write(tmp_path, ""), "--json")
    assert code == 0
    assert set(json.loads(out).values()) == {0}


@pytest.mark.parametrize("wpm", ["0", "-5", "быстро", "1.5"])
def test_bad_wpm_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  wpm: str) -> None:
    code, out, err = run(capsys, write(tmp_path, "текст"), "--wpm", wpm)
    assert (code, out) == (2, "")
    assert "--wpm" in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, tmp_path / "нет.txt")
    assert (code, out) == (1, "")
    assert err.startswith("textstats: ошибка: файл не найден")


def test_smoke_command_as_a_subprocess() -> None:
    done = subprocess.run([sys.executable, "textstats/main.py", "samples/sample.txt"],
                          cwd=PROJECT, capture_output=True, text=True, encoding="utf-8",
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Слов" in done.stdout and "26" in done.stdout.split()
