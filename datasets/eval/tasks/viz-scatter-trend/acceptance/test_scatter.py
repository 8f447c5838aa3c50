import re
import statistics

import pytest
from matplotlib.collections import PathCollection

import scatter


def approx(value):
    return pytest.approx(value, rel=1e-9, abs=1e-9)


def test_exact_lines_with_positive_and_negative_slope():
    assert scatter.fit_line([0, 1, 2, 3], [1, 3.5, 6, 8.5]) == (approx(2.5), approx(1),
                                                               approx(1))
    assert scatter.fit_line([0, 1, 2, 3], [7, 5, 3, 1]) == (approx(-2), approx(7), approx(1))


def test_noisy_fit_matches_least_squares():
    xs = [1, 2, 3, 4, 5, 6, 7, 8]
    ys = [9.1, 8.3, 8.8, 6.2, 5.9, 6.4, 3.1, 2.2]
    slope, intercept = statistics.linear_regression(xs, ys)
    r2 = statistics.correlation(xs, ys) ** 2
    assert scatter.fit_line(xs, ys) == (approx(slope), approx(intercept), approx(r2))


@pytest.mark.parametrize("xs, ys", [([1], [2]), ([3, 3, 3], [1, 2, 3]), ([1, 2, 3], [1, 2])],
                         ids=["one-point", "equal-x", "different-lengths"])
def test_degenerate_input_raises_value_error(xs, ys):
    with pytest.raises(ValueError):
        scatter.fit_line(xs, ys)
    with pytest.raises(ValueError):
        scatter.scatter_plot(xs, ys)


def test_plot_has_points_trend_line_and_equation():
    xs = [4, 1, 3, 2, 6]
    ys = [2.2, -0.2, 1.5, 0.5, 3.8]
    figure = scatter.scatter_plot(xs, ys, title="Test")
    axes = figure.axes[0]
    # the points: a scatter collection, or a line drawn with markers only
    points = [c.get_offsets().tolist() for c in axes.collections
              if isinstance(c, PathCollection)]
    points += [list(zip(line.get_xdata(), line.get_ydata())) for line in axes.get_lines()
               if line.get_linestyle() in ("None", "", " ")]
    assert len(points) == 1
    assert sorted(tuple(map(float, p)) for p in points[0]) == sorted(zip(xs, ys))
    slope, intercept, _ = scatter.fit_line(xs, ys)
    lines = [line for line in axes.get_lines()
             if line.get_linestyle() not in ("None", "", " ") and len(line.get_xdata()) >= 2]
    assert lines, "no trend line"
    line = lines[0]
    line_x = [float(v) for v in line.get_xdata()]
    assert min(line_x) == pytest.approx(1) and max(line_x) == pytest.approx(6)
    for x, y in zip(line_x, line.get_ydata()):
        assert float(y) == pytest.approx(slope * x + intercept)
    legend = " | ".join(t.get_text() for t in axes.get_legend().get_texts())
    assert f"y = {slope:.2f}x - {abs(intercept):.2f}" in legend, legend


def numbers(stdout):
    found = dict(re.findall(r"(slope|intercept|r2)=(-?\d+\.\d{4})\b", stdout))
    assert set(found) == {"slope", "intercept", "r2"}, stdout
    return {key: float(value) for key, value in found.items()}


def test_cli_skips_empty_rows_prints_fit_and_saves(run_app, tmp_path):
    data = tmp_path / "sleep.csv"
    data.write_text("hours,reaction ms,note\n5,320,\n6,,ill\n,280,\n7,300,\n8,260,ok\n9,250,\n",
                    encoding="utf-8")
    result = run_app(data, "hours", "reaction ms", "-o", tmp_path / "plot.svg")
    assert result.returncode == 0, result.stderr
    xs, ys = [5, 7, 8, 9], [320, 300, 260, 250]
    slope, intercept = statistics.linear_regression(xs, ys)
    r2 = statistics.correlation(xs, ys) ** 2
    assert numbers(result.stdout) == {"slope": pytest.approx(slope, abs=1e-4),
                                      "intercept": pytest.approx(intercept, abs=1e-4),
                                      "r2": pytest.approx(r2, abs=1e-4)}
    assert "<svg" in (tmp_path / "plot.svg").read_text(encoding="utf-8")


@pytest.mark.parametrize("content, columns", [
    ("a,b\n1,2\n2,x\n3,4\n", ["a", "b"]),
    ("a,b\n1,2\n2,3\n", ["a", "c"]),
    ("a,b\n1,2\n", ["a", "b"]),
], ids=["not-a-number", "missing-column", "one-point"])
def test_cli_bad_input_is_an_error(run_app, tmp_path, content, columns):
    data = tmp_path / "in.csv"
    data.write_text(content, encoding="utf-8")
    result = run_app(data, *columns, "-o", tmp_path / "out.png")
    assert result.returncode == 1
    assert result.stderr.strip() and "Traceback" not in result.stderr
