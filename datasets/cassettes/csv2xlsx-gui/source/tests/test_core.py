"""Conversion, checked cell by cell with openpyxl."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from csv2xlsx.core import ConversionError, cell_value, convert, sniff_delimiter
from tests.conftest import SAMPLE, read_workbook


def test_sample_is_converted_cell_by_cell(tmp_path: Path) -> None:
    out = tmp_path / "sample.xlsx"
    stats = convert([SAMPLE], out)
    assert stats.output == out
    assert [sheet.name for sheet in stats.sheets] == ["sample"]
    assert stats.rows == 6
    assert read_workbook(out) == {"sample": [
        ["id", "name", "city", "amount", "code", "comment"],
        [1, "Алиса Иванова", "Москва, Россия", 1250.5, "007", "Привет, мир!"],
        [2, "Björn Ångström", "Malmö, Sverige", -42, "0042", "Line one\nline two"],
        [3, "山田太郎", "東京", 1000.0, "12345678901234567890", 'She said "hi"'],
        [4, "Zoë Ørsted", "Paris, France", 0, "A-17", "😀 emoji ok"],
        [5, "Mehmet Öztürk", "İstanbul", 3.14159, 0, "=SUM(1,2) stays text"],
    ]}


def test_numbers_are_numbers_and_the_rest_stays_text(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("values.csv", "h\n42\n-7\n0\n2.5\n-0.125\n6.02e23\n007\n00.5\n+42\n"
                                     "1,000\n 12\n12 \n123456789012345\n1234567890123456\n"
                                     "inf\nNaN\n1e999\n-0\n.5\n5.\n0x1F\n")
    out = tmp_path / "values.xlsx"
    convert([source], out, delimiter="\t")
    column = [row[0] for row in read_workbook(out)["values"][1:]]
    assert column == [42, -7, 0, 2.5, -0.125, 6.02e23, "007", "00.5", "+42", "1,000", " 12",
                      "12 ", 123456789012345, "1234567890123456", "inf", "NaN", "1e999", "-0",
                      ".5", "5.", "0x1F"]
    sheet = load_workbook(out)["values"]
    assert sheet["A2"].data_type == "n"
    assert sheet["A8"].data_type == "s"


@pytest.mark.parametrize(("text", "expected"), [
    ("10", 10), ("3.5", 3.5), ("1E3", 1000.0), ("0.1", 0.1), ("007", "007"),
    ("99999999999999999", "99999999999999999"), ("1.234567890123456", "1.234567890123456"),
    ("", ""), ("abc", "abc"), ("١٢", "١٢"),
])
def test_cell_value(text: str, expected: object) -> None:
    value = cell_value(text)
    assert value == expected
    assert type(value) is type(expected)


def test_formulas_stay_text(write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("f.csv", 'a,b\n"=1+2","=HYPERLINK(""http://x"")"\n')
    out = tmp_path / "f.xlsx"
    convert([source], out)
    sheet = load_workbook(out)["f"]
    assert sheet["A2"].value == "=1+2"
    assert sheet["A2"].data_type == "s"
    assert sheet["B2"].value == '=HYPERLINK("http://x")'


def test_quoted_delimiters_newlines_quotes_and_spaces_are_kept(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("q.csv", 'a,b,c\n"x, y","line 1\r\nline 2","say ""yes"""\n'
                                '"  padded  ",,"tab\there"\n')
    out = tmp_path / "q.xlsx"
    convert([source], out)
    rows = read_workbook(out)["q"]
    assert rows[1] == ["x, y", "line 1\nline 2", 'say "yes"']  # Excel's line break is LF
    assert rows[2] == ["  padded  ", None, "tab\there"]


@pytest.mark.parametrize(("text", "delimiter"), [
    ("a;b;c\n1;2;3\n", ";"), ("a\tb\tc\n1\t2\t3\n", "\t"), ("a|b\n1|2\n", "|"),
    ("a,b\n1,2\n", ","), ("single\ncolumn\n", ","),
    ('name;note\n"Smith, J";"a, b"\nDoe;x\n', ";"),
])
def test_delimiter_is_sniffed(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_semicolon_file_is_split_on_semicolons(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("semi.csv", "Имя;Сумма\nПётр;10,5\nАнна;7\n")
    out = tmp_path / "semi.xlsx"
    convert([source], out)
    assert read_workbook(out)["semi"] == [["Имя", "Сумма"], ["Пётр", "10,5"], ["Анна", 7]]


def test_explicit_delimiter_wins(write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("d.csv", "a;b,c\n1;2,3\n")
    out = tmp_path / "d.xlsx"
    convert([source], out, delimiter=";")
    assert read_workbook(out)["d"] == [["a", "b,c"], [1, "2,3"]]


def test_encodings(write_csv: Callable[..., Path], tmp_path: Path) -> None:
    bom = write_csv("bom.csv", "\ufeffназвание,цена\nчай,5\n")
    cp1251 = write_csv("legacy.csv", "название,цена\nкофе,7\n", encoding="cp1251")
    out = tmp_path / "enc.xlsx"
    convert([bom], out)
    assert read_workbook(out)["bom"][0] == ["название", "цена"]
    convert([cp1251], out, encoding="cp1251")
    assert read_workbook(out)["legacy"] == [["название", "цена"], ["кофе", 7]]


def test_undecodable_file_is_an_error(write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("legacy.csv", "название,цена\nкофе,7\n", encoding="cp1251")
    with pytest.raises(ConversionError, match="not valid utf-8-sig text"):
        convert([source], tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_several_files_make_one_sheet_each(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    first = write_csv("clients.csv", "id,name\n1,Ann\n")
    second = write_csv("orders.csv", "id,total\n9,19.99\n10,5\n")
    out = tmp_path / "all.xlsx"
    stats = convert([first, second], out)
    assert stats.files == 2
    assert stats.rows == 5
    assert read_workbook(out) == {"clients": [["id", "name"], [1, "Ann"]],
                                  "orders": [["id", "total"], [9, 19.99], [10, 5]]}


def test_header_row_is_bold_and_frozen(tmp_path: Path) -> None:
    out = tmp_path / "s.xlsx"
    convert([SAMPLE], out)
    sheet = load_workbook(out)["sample"]
    assert sheet["A1"].font.b
    assert not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"


def test_control_characters_are_removed_and_counted(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("ctl.csv", "a,b\nbell\x07here,ok\n")
    out = tmp_path / "ctl.xlsx"
    stats = convert([source], out)
    assert stats.cleaned_cells == 1
    assert read_workbook(out)["ctl"][1] == ["bellhere", "ok"]


def test_leading_blank_lines_are_skipped(write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("blank.csv", "\n\nh1,h2\n1,2\n\n3,4\n")
    out = tmp_path / "blank.xlsx"
    convert([source], out)
    sheet = load_workbook(out)["blank"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows == [["h1", "h2"], [1, 2], [None, None], [3, 4]]  # inner blank line kept


def test_progress_is_reported_in_order_up_to_100(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("big.csv", "n,text\n" + "".join(f"{i},row {i}\n" for i in range(20_000)))
    seen: list[int] = []
    convert([source], tmp_path / "big.xlsx", progress=seen.append)
    assert seen[0] == 0
    assert seen[-1] == 100
    assert seen == sorted(set(seen))
    assert len(seen) > 3


@pytest.mark.parametrize("content", ["", "\ufeff", "\n\n  \n"])
def test_empty_file_is_an_error_and_writes_nothing(
        write_csv: Callable[..., Path], tmp_path: Path, content: str) -> None:
    source = write_csv("empty.csv", content)
    out = tmp_path / "out.xlsx"
    with pytest.raises(ConversionError, match="empty"):
        convert([source], out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="not found"):
        convert([tmp_path / "nope.csv"], tmp_path / "out.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_failed_conversion_keeps_the_previous_workbook(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    good = write_csv("good.csv", "a\n1\n")
    empty = write_csv("empty.csv", "")
    out = tmp_path / "out.xlsx"
    convert([good], out)
    before = out.read_bytes()
    with pytest.raises(ConversionError):
        convert([good, empty], out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "good.csv", "out.xlsx"]


def test_exception_in_progress_callback_aborts_cleanly(
        write_csv: Callable[..., Path], tmp_path: Path) -> None:
    source = write_csv("big.csv", "n\n" + "1\n" * 50_000)

    def stop(percent: int) -> None:
        if percent >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert([source], tmp_path / "out.xlsx", progress=stop)
    assert [p.name for p in tmp_path.iterdir()] == ["big.csv"]


def test_output_folder_is_created(tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "s.xlsx"
    convert([SAMPLE], out)
    assert out.is_file()


@pytest.mark.parametrize("kwargs", [
    {"delimiter": ",,"}, {"delimiter": '"'}, {"encoding": "klingon"},
    {"max_rows_per_sheet": 1}, {"max_rows_per_sheet": 1_048_577},
])
def test_bad_arguments_raise_value_error(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        convert([SAMPLE], tmp_path / "o.xlsx", **kwargs)
    assert not (tmp_path / "o.xlsx").exists()


def test_output_may_not_overwrite_an_input(write_csv: Callable[..., Path]) -> None:
    source = write_csv("same.csv", "a\n1\n")
    with pytest.raises(ValueError, match="overwrite"):
        convert([source], source)
