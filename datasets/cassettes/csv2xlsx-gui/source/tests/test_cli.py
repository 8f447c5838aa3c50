"""The command line, end to end through ``main()`` and through the entry script."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from csv2xlsx import cli
from csv2xlsx import main as entry
from tests.conftest import ROOT, SAMPLE, read_workbook


def test_converts_several_files(write_csv: Callable[..., Path], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    first = write_csv("a.csv", "x;y\n1;Привет\n")
    second = write_csv("b.csv", "z\n007\n")
    out = tmp_path / "out" / "both.xlsx"
    assert cli.main([str(first), str(second), "-o", str(out)]) == 0
    assert read_workbook(out) == {"a": [["x", "y"], [1, "Привет"]], "b": [["z"], ["007"]]}
    printed = capsys.readouterr()
    assert printed.err == ""
    assert "2 files, 2 sheets, 4 rows" in printed.out


def test_options(write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("legacy.csv", "a|b\n" + "1|имя\n" * 5, encoding="cp1251")
    out = tmp_path / "o.xlsx"
    code = cli.main([str(source), "-o", str(out), "--delimiter", "pipe", "--encoding", "cp1251",
                     "--max-rows", "3", "--quiet"])
    assert code == 0
    sheets = read_workbook(out)
    assert list(sheets) == ["legacy", "legacy (2)", "legacy (3)"]
    assert sheets["legacy"] == [["a", "b"], [1, "имя"], [1, "имя"]]


def test_tab_delimiter_by_name(write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("t.csv", "a,b\tc\n1,2\t3\n")
    out = tmp_path / "t.xlsx"
    assert cli.main([str(source), "-o", str(out), "-d", "\\t", "-q"]) == 0
    assert read_workbook(out)["t"] == [["a,b", "c"], ["1,2", 3]]


def test_missing_input_exits_2_without_output(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.xlsx"
    assert cli.main([str(tmp_path / "missing.csv"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("csv2xlsx: error: input file not found:")
    assert err.count("\n") == 1
    assert not out.exists()


def test_empty_input_exits_2_without_output(write_csv: Callable[..., Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    good = write_csv("good.csv", "a\n1\n")
    empty = write_csv("empty.csv", "")
    out = tmp_path / "o.xlsx"
    assert cli.main([str(good), str(empty), "-o", str(out)]) == 2
    assert "the file is empty" in capsys.readouterr().err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "good.csv"]


def test_undecodable_input_exits_2(write_csv: Callable[..., Path], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    source = write_csv("bin.csv", "a,b\n\xff\xfe,1\n", encoding="latin-1")
    out = tmp_path / "o.xlsx"
    assert cli.main([str(source), "-o", str(out)]) == 2
    assert "not valid utf-8-sig text" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("extra", [
    ["--max-rows", "1"], ["--max-rows", "lots"], ["--delimiter", "ab"],
    ["--encoding", "nope"],
])
def test_bad_options_exit_2(tmp_path: Path, extra: list[str],
                            capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([str(SAMPLE), "-o", str(tmp_path / "o.xlsx"), *extra])
    assert exit_info.value.code == 2
    assert "csv2xlsx: error:" in capsys.readouterr().err


def test_output_must_be_xlsx(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([str(SAMPLE), "-o", str(tmp_path / "o.csv")])
    assert exit_info.value.code == 2


def test_unwritable_output_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert cli.main([str(SAMPLE), "-o", str(blocker / "o.xlsx")]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_entry_main_with_arguments_runs_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "entry.xlsx"
    assert entry.main([str(SAMPLE), "-o", str(out), "-q"]) == 0
    assert "sample" in read_workbook(out)


def test_smoke_command_as_documented(tmp_path: Path) -> None:
    """``python csv2xlsx/main.py samples/sample.csv -o .tmp/smoke.xlsx`` from the project."""
    out = tmp_path / "smoke.xlsx"
    result = subprocess.run(
        [sys.executable, str(ROOT / "csv2xlsx" / "main.py"), "samples/sample.csv", "-o",
         str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "1 file, 1 sheet, 6 rows" in result.stdout
    assert read_workbook(out)["sample"][1][1] == "Алиса Иванова"
