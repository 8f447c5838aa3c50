import matplotlib.dates as mdates
from datetime import date

import pytest

import linechart

PNG = b"\x89PNG\r\n\x1a\n"


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def only_axes(figure):
    assert len(figure.axes) >= 1
    return figure.axes[0]


def data_lines(axes):
    return [line for line in axes.get_lines() if not line.get_label().startswith("_")]


def test_each_y_column_is_a_labelled_line(tmp_path):
    path = write(tmp_path, "month,sales,costs\n1,10,7\n2,12,8\n3,9,9\n")
    axes = only_axes(linechart.line_chart(path, "month", ["sales", "costs"]))
    lines = {line.get_label(): line for line in data_lines(axes)}
    assert set(lines) == {"sales", "costs"}
    assert list(map(float, lines["sales"].get_ydata())) == [10, 12, 9]
    assert list(map(float, lines["costs"].get_ydata())) == [7, 8, 9]
    legend = axes.get_legend()
    assert legend is not None
    assert {text.get_text() for text in legend.get_texts()} == {"sales", "costs"}
    assert axes.get_xlabel() == "month"


def test_points_sorted_by_x_and_empty_cells_skipped(tmp_path):
    path = write(tmp_path, "t,a,b\n3,30,300\n1,10,\n2,,200\n-1.5,5,50\n")
    axes = only_axes(linechart.line_chart(path, "t", ["a", "b"], title="Readings"))
    lines = {line.get_label(): line for line in data_lines(axes)}
    assert list(map(float, lines["a"].get_xdata())) == [-1.5, 1, 3]
    assert list(map(float, lines["a"].get_ydata())) == [5, 10, 30]
    assert list(map(float, lines["b"].get_xdata())) == [-1.5, 2, 3]
    assert list(map(float, lines["b"].get_ydata())) == [50, 200, 300]
    assert axes.get_title() == "Readings"


def test_iso_dates_on_x_are_real_dates(tmp_path):
    path = write(tmp_path, "day,temp\n2024-03-01,4.5\n2024-02-28,1\n2024-02-29,-2\n")
    figure = linechart.line_chart(path, "day", ["temp"])
    figure.canvas.draw()
    (line,) = data_lines(only_axes(figure))
    days = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    assert list(line.get_xdata(orig=False)) == pytest.approx(list(mdates.date2num(days)))
    assert list(map(float, line.get_ydata())) == [1, -2, 4.5]


def test_cli_saves_png_and_svg_with_the_title(run_app, tmp_path):
    path = write(tmp_path, "year,Café sales\n2022,5\n2023,7\n2024,6\n")
    default = run_app(path, "--x", "year", "--y", "Café sales")
    assert default.returncode == 0, default.stderr
    data = (tmp_path / "chart.png").read_bytes()
    assert data.startswith(PNG) and len(data) > 2000
    svg = run_app(path, "--x", "year", "--y", "Café sales", "--title", "Café sales 2022–2024",
                  "-o", tmp_path / "out.svg")
    assert svg.returncode == 0, svg.stderr
    text = (tmp_path / "out.svg").read_text(encoding="utf-8")
    assert "<svg" in text and "Café sales 2022–2024" in text


@pytest.mark.parametrize("content, args, output", [
    ("a,b\n1,2\n", ["--x", "a", "--y", "missing"], "out.png"),
    ("a,b\n1,2\n2,lots\n", ["--x", "a", "--y", "b"], "out.png"),
    ("a,b\n1,2\n2,3\n", ["--x", "a", "--y", "b"], "out.jpg"),
], ids=["missing-column", "not-a-number", "jpg-extension"])
def test_bad_input_is_a_clear_error_and_writes_nothing(run_app, tmp_path, content, args,
                                                       output):
    path = write(tmp_path, content)
    result = run_app(path, *args, "-o", tmp_path / output)
    assert result.returncode == 2
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert not (tmp_path / output).exists()
