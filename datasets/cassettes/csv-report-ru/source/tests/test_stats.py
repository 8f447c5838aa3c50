"""Column summaries and the choice of columns."""

from __future__ import annotations

import pytest

from csvstat.stats import ColumnSummary, ReportError, median, report, summarise


@pytest.mark.parametrize(("values", "middle"), [
    ([5.0], 5.0), ([3.0, 1.0, 2.0], 2.0), ([3.0, 1.0, 2.0, 10.0], 2.5), ([4.0, 4.0], 4.0),
    ([-1.0, 4.5, 2.0], 2.0), ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3.5),
])
def test_median(values: list[float], middle: float) -> None:
    assert median(values) == middle


def test_median_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        median([])


def test_summary_of_one_column() -> None:
    assert summarise("цена", ["3", "1", "2", "10"]) == ColumnSummary(
        name="цена", count=4, minimum=1, maximum=10, mean=4, median=2.5, skipped=0)


def test_skipped_cells_are_empty_or_not_numbers() -> None:
    summary = summarise("балл", ["5", "", "н/д", "4", "—"])
    assert summary is not None
    assert (summary.count, summary.mean, summary.median, summary.skipped) == (2, 4.5, 4.5, 3)


def test_column_without_numbers_has_no_summary() -> None:
    assert summarise("имя", ["Аня", ""]) is None


HEADER = ["город", "население", "код", "площадь"]
ROWS = [["Казань", "1300000", "A1", "614"], ["Тверь", "410000", "B2", "152"], ["Орёл"]]


def test_every_numeric_column_in_file_order() -> None:
    assert [s.name for s in report(HEADER, ROWS)] == ["население", "площадь"]


def test_short_rows_count_as_skipped() -> None:
    population = report(HEADER, ROWS, ["население"])[0]
    assert (population.count, population.skipped, population.median) == (2, 1, 855000)


def test_wanted_columns_in_the_given_order() -> None:
    assert [s.name for s in report(HEADER, ROWS, ["площадь", "население"])] == [
        "площадь", "население"]


def test_unknown_column_lists_the_columns() -> None:
    with pytest.raises(ReportError, match="нет столбца «возраст»; есть: «город», «население»"):
        report(HEADER, ROWS, ["возраст"])


def test_wanted_column_without_numbers() -> None:
    with pytest.raises(ReportError, match="в столбце «город» нет ни одного числа"):
        report(HEADER, ROWS, ["город"])


def test_file_without_numeric_columns() -> None:
    with pytest.raises(ReportError, match="нет ни одного числового столбца"):
        report(["имя"], [["Аня"]])
