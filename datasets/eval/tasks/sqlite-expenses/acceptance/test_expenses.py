from datetime import date

import pytest


@pytest.fixture
def app(run_app, tmp_path):
    db = tmp_path / "money.db"

    def run(*args):
        return run_app("--db", db, *args)

    return run


def add(app, amount, category, day=None):
    extra = ["--date", day] if day else []
    result = app("add", amount, category, *extra)
    assert result.returncode == 0, result.stderr
    return result


def report(app, *args):
    result = app(*args)
    assert result.returncode == 0, result.stderr
    return [tuple(line.rsplit(None, 1)) for line in result.stdout.strip().splitlines()]


def test_month_totals_by_category_largest_first(app):
    add(app, "350", "кафе", "2024-03-02")
    add(app, "1200", "продукты", "2024-03-05")
    add(app, "800", "транспорт", "2024-03-31")
    add(app, "450", "кафе", "2024-03-20")
    add(app, "999", "продукты", "2024-04-01")
    add(app, "5000", "отпуск", "2024-02-29")
    assert report(app, "month", "2024-03") == [
        ("продукты", "1200.00"), ("кафе", "800.00"), ("транспорт", "800.00"),
        ("ИТОГО", "2800.00")]


def test_kopecks_are_exact_with_dot_or_comma(app):
    add(app, "0.29", "кофе", "2024-05-01")
    add(app, "0,57", "кофе", "2024-05-02")
    add(app, "199,90", "кофе", "2024-05-03")
    add(app, "1000000.01", "машина", "2024-05-04")
    assert report(app, "month", "2024-05") == [
        ("машина", "1000000.01"), ("кофе", "200.76"), ("ИТОГО", "1000200.77")]


def test_categories_ignore_case_and_date_defaults_to_today(app):
    add(app, "100", "Еда")
    add(app, "20.5", "ЕДА")
    add(app, "3", "еда")
    this_month = date.today().strftime("%Y-%m")
    assert report(app, "month", this_month) == [("еда", "123.50"), ("ИТОГО", "123.50")]


def test_same_month_of_another_year_is_not_mixed_in_and_year_report(app):
    add(app, "100", "книги", "2023-03-10")
    add(app, "40", "книги", "2024-03-10")
    add(app, "60.10", "связь", "2024-01-31")
    add(app, "7", "связь", "2024-12-01")
    assert report(app, "month", "2024-03") == [("книги", "40.00"), ("ИТОГО", "40.00")]
    assert report(app, "year", "2024") == [
        ("2024-01", "60.10"), ("2024-03", "40.00"), ("2024-12", "7.00"), ("ИТОГО", "107.10")]
    assert report(app, "month", "2022-03") == [("ИТОГО", "0.00")]


@pytest.mark.parametrize("args", [
    ("add", "abc", "еда", "--date", "2024-06-01"),
    ("add", "0", "еда", "--date", "2024-06-01"),
    ("add", "-15", "еда", "--date", "2024-06-01"),
    ("add", "15", "еда", "--date", "2024-02-30"),
    ("month", "2024-13"),
])
def test_bad_input_exits_2_and_writes_nothing(app, args):
    result = app(*args)
    assert result.returncode == 2
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert report(app, "year", "2024") == [("ИТОГО", "0.00")]
