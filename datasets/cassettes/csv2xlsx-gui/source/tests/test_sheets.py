"""Sheet names and splitting long files over several sheets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from csv2xlsx.core import SheetNamer, convert, sanitize_sheet_name
from tests.conftest import read_workbook

HEADER = ["id", "name", "value"]


def numbered_csv(data_rows: int) -> str:
    lines = [",".join(HEADER)] + [f"{i},item {i},{i * 1.5}" for i in range(1, data_rows + 1)]
    return "\n".join(lines) + "\n"


def test_rows_beyond_the_limit_continue_on_new_sheets_with_the_header(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("data.csv", numbered_csv(2_500))
    out = tmp_path / "data.xlsx"
    stats = convert([source], out, max_rows_per_sheet=1_000)

    sheets = read_workbook(out)
    assert list(sheets) == ["data", "data (2)", "data (3)"]
    data: list[list[object]] = []
    for name, rows in sheets.items():
        assert rows[0] == HEADER, f"{name} does not start with the header row"
        assert len(rows) <= 1_000, f"{name} holds {len(rows)} rows"
        data.extend(rows[1:])
    assert [row[0] for row in data] == list(range(1, 2_501))
    assert data[-1] == [2_500, "item 2500", 3750]
    assert [(s.name, s.rows) for s in stats.sheets] == [
        ("data", 1_000), ("data (2)", 1_000), ("data (3)", 503)]
    assert stats.rows == 2_501


def test_a_file_that_exactly_fills_its_sheets_makes_no_empty_sheet(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("exact.csv", numbered_csv(8))
    out = tmp_path / "exact.xlsx"
    convert([source], out, max_rows_per_sheet=5)
    sheets = read_workbook(out)
    assert list(sheets) == ["exact", "exact (2)"]
    assert [len(rows) for rows in sheets.values()] == [5, 5]
    assert all(rows[0] == HEADER for rows in sheets.values())


def test_continuation_sheets_freeze_the_header(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("f.csv", numbered_csv(5))
    out = tmp_path / "f.xlsx"
    convert([source], out, max_rows_per_sheet=3)
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["f", "f (2)", "f (3)"]
    assert all(sheet.freeze_panes == "A2" for sheet in workbook.worksheets)


def test_header_only_file_gives_one_sheet(write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("h.csv", "a,b\n")
    out = tmp_path / "h.xlsx"
    stats = convert([source], out, max_rows_per_sheet=2)
    assert read_workbook(out) == {"h": [["a", "b"]]}
    assert stats.sheets[0].rows == 1


@pytest.mark.parametrize(("stem", "expected"), [
    ("sales", "sales"),
    ("Q1: sales/returns [draft]*?", "Q1_ sales_returns _draft___"),
    ("back\\slash", "back_slash"),
    ("x" * 40, "x" * 31),
    ("'quoted'", "quoted"),
    ("", "Sheet"),
    ("'''", "Sheet"),
    ("History", "History_"),
    ("Отчёт за январь 2024 года по филиалам", "Отчёт за январь 2024 года по фи"),
])
def test_sanitize_sheet_name(stem: str, expected: str) -> None:
    name = sanitize_sheet_name(stem)
    assert name == expected
    assert 1 <= len(name) <= 31


def test_sheet_names_are_unique_case_insensitively() -> None:
    namer = SheetNamer()
    assert namer.allocate("Data") == "Data"
    assert namer.allocate("data") == "data (2)"
    assert namer.allocate("DATA") == "DATA (3)"
    long = "L" * 31
    assert namer.allocate(long) == long
    assert namer.allocate(long) == "L" * 27 + " (2)"


def test_continuation_names_stay_within_31_characters(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("a_really_long_file_name_for_a_csv_export.csv", numbered_csv(3))
    out = tmp_path / "long.xlsx"
    convert([source], out, max_rows_per_sheet=2)
    names = list(read_workbook(out))
    assert names == ["a_really_long_file_name_for_a_c", "a_really_long_file_name_for (2)",
                     "a_really_long_file_name_for (3)"]


def test_files_with_the_same_stem_get_distinct_sheets(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    first = write_csv("report.csv", "a\n1\n")
    second = write_csv("other/report.csv", "a\n2\n")
    third = write_csv("Report.tsv", "a\n3\n")
    out = tmp_path / "r.xlsx"
    convert([first, second, third], out)
    assert read_workbook(out) == {"report": [["a"], [1]], "report (2)": [["a"], [2]],
                                  "Report (3)": [["a"], [3]]}
