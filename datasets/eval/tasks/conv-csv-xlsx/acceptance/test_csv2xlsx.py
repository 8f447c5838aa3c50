import datetime as dt

from openpyxl import load_workbook


def write(folder, name, text, bom=False):
    path = folder / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def convert(run_app, tmp_path, *paths, extra=()):
    out = tmp_path / "out.xlsx"
    result = run_app(*paths, "-o", out, *extra)
    assert result.returncode == 0, result.stderr
    return load_workbook(out)


def column(sheet, letter):
    return [cell.value for cell in sheet[letter][1:]]


def test_numbers_become_numbers_but_codes_stay_text(run_app, tmp_path):
    rows = ["42", "-7", "3.75", "0", "0.5", "007", "0123", "+79161234567",
            "123456789012345", "4276123412341234", "12 apples"]
    path = write(tmp_path, "values.csv", "value\n" + "\n".join(rows) + "\n")
    values = column(convert(run_app, tmp_path, path)["values"], "A")
    assert values == [42, -7, 3.75, 0, 0.5, "007", "0123", "+79161234567",
                      123456789012345, "4276123412341234", "12 apples"]
    assert [type(v) for v in values[:5]] == [int, int, float, int, float]


def test_iso_dates_become_real_dates(run_app, tmp_path):
    path = write(tmp_path, "dates.csv", "when,what\n2024-03-15,paid\n2024-02-30,typo\n")
    sheet = convert(run_app, tmp_path, path)["dates"]
    assert sheet["A2"].is_date
    assert sheet["A2"].value.date() == dt.date(2024, 3, 15)
    assert sheet["A3"].value == "2024-02-30"
    assert sheet["B3"].value == "typo"


def test_one_sheet_per_file_in_order_with_bold_frozen_header(run_app, tmp_path):
    long_stem = "quarterly_report_for_the_board_2024_final"
    first = write(tmp_path, "zeta.csv", "id,name\n1,a\n")
    second = write(tmp_path, f"{long_stem}.csv", "id,name\n2,b\n3,c\n")
    book = convert(run_app, tmp_path, first, second)
    assert book.sheetnames == ["zeta", long_stem[:31]]
    for sheet in book.worksheets:
        assert sheet["A1"].value == "id" and sheet["B1"].value == "name"
        assert sheet["A1"].font.bold and sheet["B1"].font.bold
        assert not sheet["A2"].font.bold
        assert sheet.freeze_panes == "A2"
    assert column(book[long_stem[:31]], "A") == [2, 3]


def test_quotes_line_breaks_unicode_and_bom(run_app, tmp_path):
    text = ('город,описание\n'
            'Москва,"большой, шумный ""город""\nвторая строка"\n'
            'Αθήνα,Καλημέρα 🌞\n')
    path = write(tmp_path, "cities.csv", text, bom=True)
    sheet = convert(run_app, tmp_path, path)["cities"]
    assert sheet["A1"].value == "город"
    assert sheet["B2"].value == 'большой, шумный "город"\nвторая строка'
    assert [sheet["A3"].value, sheet["B3"].value] == ["Αθήνα", "Καλημέρα 🌞"]
    assert sheet.max_row == 3


def test_delimiter_detected_from_header_or_given(run_app, tmp_path):
    semi = write(tmp_path, "bank.csv", "date;amount;note\n2024-01-05;-12.5;coffee, large\n")
    tabs = write(tmp_path, "logger.csv", "sensor\ttemp\nroof,north\t21.5\n")
    pipes = write(tmp_path, "pipes.csv", "a|b;c\n1|x;y\n")
    book = convert(run_app, tmp_path, semi, tabs)
    bank = book["bank"]
    assert bank["A2"].value.date() == dt.date(2024, 1, 5)
    assert [bank["B2"].value, bank["C2"].value] == [-12.5, "coffee, large"]
    assert [c.value for c in book["logger"][2]] == ["roof,north", 21.5]
    given = convert(run_app, tmp_path, pipes, extra=("--delimiter", "|"))["pipes"]
    assert [c.value for c in given[1]] == ["a", "b;c"]
    assert [c.value for c in given[2]] == [1, "x;y"]


def test_columns_fit_their_content_but_not_beyond_60(run_app, tmp_path):
    medium = "m" * 40
    path = write(tmp_path, "wide.csv", f"id,text,essay\n1,{medium},{'w' * 300}\n")
    sheet = convert(run_app, tmp_path, path)["wide"]
    assert 40 <= sheet.column_dimensions["B"].width <= 55
    assert 50 <= sheet.column_dimensions["C"].width <= 62


def test_missing_input_is_an_error_and_nothing_is_written(run_app, tmp_path):
    good = write(tmp_path, "good.csv", "a\n1\n")
    out = tmp_path / "out.xlsx"
    result = run_app(good, tmp_path / "missing.csv", "-o", out)
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert not out.exists()
