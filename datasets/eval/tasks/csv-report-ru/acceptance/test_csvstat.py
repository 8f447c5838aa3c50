import re

import pytest

HEADER = ["столбец", "количество", "минимум", "максимум", "среднее", "медиана", "пропущено"]


def write(tmp_path, text, encoding="utf-8", name="data.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def table(run_app, *args):
    result = run_app(*args)
    assert result.returncode == 0, result.stderr
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in result.stdout.splitlines() if "|" in line]
    assert rows and rows[0] == HEADER, result.stdout
    return {row[0]: row[1:] for row in rows[1:]}, [row[0] for row in rows[1:]]


def numbers(cells):
    count, *stats, skipped = cells
    for cell in stats:
        assert re.fullmatch(r"-?\d+(\.\d{1,2})?", cell), f"not rounded to 2 decimals: {cell}"
    return [int(count), *(float(cell) for cell in stats), int(skipped)]


def test_statistics_of_one_column(run_app, tmp_path):
    path = write(tmp_path, "товар,цена\nяблоко,3\nгруша,1\nслива,2\nдыня,10\n")
    found, _ = table(run_app, path, "--column", "цена")
    assert numbers(found["цена"]) == [4, 1, 10, 4, 2.5, 0]


def test_odd_count_negatives_and_rounding(run_app, tmp_path):
    path = write(tmp_path, "t\n-1\n4.5\n2\n")
    count, low, high, mean, median, skipped = numbers(table(run_app, path)[0]["t"])
    assert (count, low, high, median, skipped) == (3, -1, 4.5, 2, 0)
    assert mean == pytest.approx(1.83, abs=0.001)


def test_numeric_columns_in_file_order_or_as_given(run_app, tmp_path):
    path = write(tmp_path, "город,население,код,площадь\n"
                           "Казань,1300000,A1,614\n"
                           "Тверь,410000,B2,152\n")
    found, order = table(run_app, path)
    assert order == ["население", "площадь"]
    assert numbers(found["население"]) == [2, 410000, 1300000, 855000, 855000, 0]
    _, order = table(run_app, path, "--column", "площадь", "--column", "население")
    assert order == ["площадь", "население"]


def test_russian_excel_export(run_app, tmp_path):
    text = "сумма;комментарий\n3,5;аванс\n1 200;основной платёж\n-0,5;возврат\n"
    path = write(tmp_path, text, "utf-8-sig")
    found, order = table(run_app, path, "--delimiter", ";", "--column", "сумма")
    assert order == ["сумма"]
    assert numbers(found["сумма"]) == [3, -0.5, 1200, 401, 3.5, 0]


def test_empty_and_non_numeric_cells_are_skipped(run_app, tmp_path):
    path = write(tmp_path, "имя,балл\nАня,5\nБоря,\nВера,н/д\nГлеб,4\nДина,—\n")
    found, _ = table(run_app, path, "--column", "балл")
    assert numbers(found["балл"]) == [2, 4, 5, 4.5, 4.5, 3]


def test_errors_are_clear(run_app, tmp_path):
    path = write(tmp_path, "имя,балл\nАня,5\n")
    for args in ((tmp_path / "нет.csv",), (path, "--column", "возраст"),
                 (path, "--column", "имя")):
        result = run_app(*args)
        assert result.returncode == 1, (args, result.stdout)
        assert result.stderr.strip() and "Traceback" not in result.stderr, result.stderr
    assert "балл" in run_app(path, "--column", "возраст").stderr
