"""The command line: the table, Russian Excel files, errors, the smoke command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from csvstat.cli import main

PROJECT = Path(__file__).resolve().parent.parent
HEADER = ["столбец", "количество", "минимум", "максимум", "среднее", "медиана", "пропущено"]


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def table(out: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")] for line in out.splitlines()
            if "|" in line]


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_table_of_one_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "товар,цена\nяблоко,3\nгруша,1\nслива,2\nдыня,10\n")
    code, out, err = run(capsys, path, "--column", "цена")
    assert (code, err) == (0, "")
    assert table(out) == [HEADER, ["цена", "4", "1.00", "10.00", "4.00", "2.50", "0"]]


def test_every_numeric_column_when_none_given(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "город,население,площадь\nКазань,1300000,614\nТверь,410000,152\n")
    rows = table(run(capsys, path)[1])
    assert [row[0] for row in rows[1:]] == ["население", "площадь"]
    assert rows[1] == ["население", "2", "410000.00", "1300000.00", "855000.00", "855000.00",
                       "0"]


def test_russian_excel_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "сумма;комментарий\n3,5;аванс\n1 200;платёж\n-0,5;возврат\n",
                 "utf-8-sig")
    code, out, err = run(capsys, path, "--delimiter", ";", "--column", "сумма")
    assert (code, err) == (0, "")
    assert table(out)[1] == ["сумма", "3", "-0.50", "1200.00", "401.00", "3.50", "0"]


def test_rounding_to_two_decimals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "t\n-1\n4.5\n2\n")
    assert table(run(capsys, path)[1])[1] == ["t", "3", "-1.00", "4.50", "1.83", "2.00", "0"]


def test_sample_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, PROJECT / "samples" / "sales.csv", "--delimiter", ";")
    assert code == 0
    assert [row[0] for row in table(out)] == ["столбец", "количество", "цена", "сумма"]


@pytest.mark.parametrize(("args", "message"), [
    (("--column", "возраст"), "нет столбца «возраст»; есть: «имя», «балл»"),
    (("--column", "имя"), "в столбце «имя» нет ни одного числа"),
])
def test_column_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              args: tuple[str, ...], message: str) -> None:
    code, out, err = run(capsys, write(tmp_path, "имя,балл\nАня,5\n"), *args)
    assert (code, out) == (1, "")
    assert err == f"csvstat: ошибка: {message}\n"


def test_missing_and_empty_files_exit_1(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, tmp_path / "нет.csv")
    assert code == 1 and "файл не найден" in err
    code, _, err = run(capsys, write(tmp_path, ""))
    assert code == 1 and "файл пуст" in err


def test_bad_delimiter_is_a_usage_error(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, write(tmp_path, "a\n1\n"), "--delimiter", ";;")
    assert code == 2 and "разделитель" in err


def test_smoke_command_as_a_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "csvstat/main.py", "samples/sales.csv", "--delimiter", ";"],
        cwd=PROJECT, capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "медиана" in done.stdout
