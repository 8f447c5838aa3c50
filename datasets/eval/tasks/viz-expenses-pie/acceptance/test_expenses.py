import re

import pytest
from matplotlib.patches import Wedge
from matplotlib.text import Text

import expenses

PNG = b"\x89PNG\r\n\x1a\n"
STATEMENT = (
    "Дата;Категория;Сумма\n"
    "01.03.2024;Еда;-1 250,50\n"
    "02.03.2024;Зарплата;+50 000,00\n"
    "03.03.2024;еда ;-250,00\n"
    "04.03.2024;Транспорт;-300\n"
    "05.03.2024; Кафе;-1\u00a0000,00\n"
    "06.03.2024;Кэшбэк;120,55\n"
)


def write(tmp_path, text, name="выписка.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def spans(figure):
    wedges = [p for p in figure.axes[0].patches if isinstance(p, Wedge)]
    return sorted(round((w.theta2 - w.theta1) % 360 or 360, 1) for w in wedges)


def texts(figure):
    figure.canvas.draw()
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def test_totals_merge_categories_and_ignore_income(tmp_path):
    totals = expenses.totals_by_category(write(tmp_path, STATEMENT))
    assert totals == {"Еда": pytest.approx(1500.5), "Кафе": pytest.approx(1000),
                      "Транспорт": pytest.approx(300)}
    assert list(totals) == ["Еда", "Кафе", "Транспорт"]


def test_wedges_are_sized_by_share_and_labelled():
    figure = expenses.pie_chart({"Еда": 500.0, "Кафе": 300.0, "Транспорт": 200.0})
    assert spans(figure) == [72.0, 108.0, 180.0]
    shown = texts(figure)
    for name in ("Еда", "Кафе", "Транспорт"):
        assert any(name in text for text in shown), shown
    for share in ("50", "30", "20"):
        assert any(f"{share},0%" in t or f"{share}.0%" in t for t in shown), shown


def test_small_categories_become_other():
    figure = expenses.pie_chart({"Еда": 900.0, "Транспорт": 55.0, "Книги": 25.0,
                                 "Кино": 20.0})
    assert spans(figure) == [16.2, 19.8, 324.0]
    shown = texts(figure)
    assert any("Прочее" in text for text in shown), shown
    assert not any("Кино" in text or "Книги" in text for text in shown), shown


def test_cli_saves_chart_and_prints_totals(run_app, tmp_path):
    result = run_app(write(tmp_path, STATEMENT), "-o", tmp_path / "март.png")
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.strip().splitlines()]
    assert lines[-4:] == ["Еда: 1500,50", "Кафе: 1000,00", "Транспорт: 300,00",
                          "Итого: 2800,50"]
    data = (tmp_path / "март.png").read_bytes()
    assert data.startswith(PNG) and len(data) > 2000


@pytest.mark.parametrize("text, line", [
    ("Дата;Категория;Сумма\n01.03.2024;Еда;-100\n02.03.2024;Еда;-1O0,00\n", "3"),
    ("Дата;Категория;Сумма\n01.03.2024;Зарплата;1000\n", None),
], ids=["bad-amount", "no-expenses"])
def test_bad_statement_is_an_error(run_app, tmp_path, text, line):
    result = run_app(write(tmp_path, text))
    assert result.returncode == 1
    assert result.stderr.strip() and "Traceback" not in result.stderr
    if line:
        assert re.search(rf"\b{line}\b", result.stderr), result.stderr
    assert not (tmp_path / "expenses.png").exists()
