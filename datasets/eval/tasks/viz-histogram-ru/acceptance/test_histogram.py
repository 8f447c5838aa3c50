import re

import pytest
from matplotlib.patches import Rectangle

import histogram

PNG = b"\x89PNG\r\n\x1a\n"


def bar_heights(figure):
    axes = figure.axes[0]
    return [patch.get_height() for patch in axes.patches if isinstance(patch, Rectangle)]


def test_bars_count_values_and_axes_are_labelled():
    figure = histogram.build_histogram(list(range(100)), bins=5, label="Рост, см")
    assert bar_heights(figure) == [20, 20, 20, 20, 20]
    axes = figure.axes[0]
    assert axes.get_xlabel() == "Рост, см"
    assert axes.get_ylabel() == "Количество"


def test_ten_bins_by_default():
    heights = bar_heights(histogram.build_histogram([v / 7 for v in range(1, 51)]))
    assert len(heights) == 10
    assert sum(heights) == 50


def has_number(title, value):
    return f"{value:.2f}" in title or f"{value:.2f}".replace(".", ",") in title


def test_title_shows_mean_and_median():
    title = histogram.build_histogram([1, 2, 4, 10, 100, 3], bins=4).axes[0].get_title()
    assert has_number(title, 20.0), title
    assert has_number(title, 3.5), title


def test_empty_values_raise_value_error():
    with pytest.raises(ValueError):
        histogram.build_histogram([])


def test_excel_csv_with_semicolons_and_decimal_commas(run_app, tmp_path):
    data = tmp_path / "вес.csv"
    data.write_text("\ufeffДата;Вес;Комментарий\n01.03.2024;72,5;\n02.03.2024;;забыл\n"
                    "03.03.2024;н/д;весы сломались\n04.03.2024;71,9;\n05.03.2024;73;\n",
                    encoding="utf-8")
    result = run_app(data, "Вес")
    assert result.returncode == 0, result.stderr
    assert re.search(r"учтено:\s*3,\s*пропущено:\s*2", result.stdout), result.stdout
    assert (tmp_path / "вес.png").read_bytes().startswith(PNG)


def test_comma_csv_to_svg_with_bins(run_app, tmp_path):
    data = tmp_path / "people.csv"
    data.write_text("имя,рост\nАня,165.5\nБоря,180\nВика,172.25\nГена,\n", encoding="utf-8")
    result = run_app(data, "рост", "--bins", "3", "-o", tmp_path / "рост.svg")
    assert result.returncode == 0, result.stderr
    assert re.search(r"учтено:\s*3,\s*пропущено:\s*1", result.stdout), result.stdout
    assert "<svg" in (tmp_path / "рост.svg").read_text(encoding="utf-8")


@pytest.mark.parametrize("content, column", [
    ("a;b\n1;2\n", "c"),
    ("a;b\n1;x\n2;\n", "b"),
], ids=["missing-column", "no-numbers"])
def test_bad_column_is_an_error_and_no_picture(run_app, tmp_path, content, column):
    data = tmp_path / "data.csv"
    data.write_text(content, encoding="utf-8")
    result = run_app(data, column)
    assert result.returncode == 2
    assert result.stderr.strip() and "Traceback" not in result.stderr
    assert not (tmp_path / "data.png").exists()
