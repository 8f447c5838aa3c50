import re
from datetime import date

from matplotlib.text import Text

import activity

PNG = b"\x89PNG\r\n\x1a\n"
LOG = (
    "date,count,note\n"
    "2023-12-30,,старый год\n"
    "2024-03-01,2,\n"
    "2024-03-02,,\n"
    "2024-03-02,3,\n"
    "2024-03-03,,\n"
    "2024-03-04,0,отдых\n"
    "2024-03-05,,\n"
    "2024-12-31,1,\n"
)


def test_year_starting_on_monday():
    counts = {date(2024, 1, 1): 3, date(2024, 12, 31): 2, date(2024, 2, 29): 1,
              date(2025, 1, 1): 9}
    grid = activity.year_matrix(counts, 2024)
    assert len(grid) == 7 and all(len(row) == 53 for row in grid)
    assert grid[0][0] == 3          # Monday 1 January
    assert grid[6][0] == 0          # Sunday 7 January: no events
    assert grid[3][8] == 1          # Thursday 29 February
    assert grid[1][52] == 2         # Tuesday 31 December
    assert grid[2][52] is None      # 1 January 2025 is not part of 2024
    assert sum(cell is not None for row in grid for cell in row) == 366


def test_year_starting_on_sunday_and_other_years_ignored():
    counts = {date(2022, 12, 31): 5, date(2023, 1, 1): 4, date(2023, 1, 2): 1}
    grid = activity.year_matrix(counts, 2023)
    assert len(grid) == 7 and all(len(row) == 53 for row in grid)
    assert [grid[row][0] for row in range(7)] == [None] * 6 + [4]
    assert grid[0][1] == 1
    assert grid[6][52] == 0         # Sunday 31 December 2023
    assert sum(cell for row in grid for cell in row if cell) == 5
    leap = activity.year_matrix({}, 2012)  # Sunday 1 Jan, Monday 31 Dec: 54 weeks
    assert all(len(row) == 54 for row in leap) and leap[0][53] == 0


def test_figure_labels_months_and_weekdays():
    figure = activity.plot_year({date(2024, 5, 9): 4}, 2024)
    figure.canvas.draw()
    shown = {t.get_text() for t in figure.findobj(Text)}
    for label in ("Янв", "Фев", "Июн", "Дек", "Пн", "Ср", "Пт"):
        assert label in shown, sorted(shown)


def summary(stdout):
    match = re.search(r"Всего:\s*(\d+),\s*активных дней:\s*(\d+),\s*самая длинная серия:\s*(\d+)",
                      stdout)
    assert match, stdout
    return tuple(map(int, match.groups()))


def test_cli_sums_counts_uses_latest_year(run_app, tmp_path):
    log = tmp_path / "тренировки.csv"
    log.write_text(LOG, encoding="utf-8")
    result = run_app(log)
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout) == (9, 5, 3)
    data = (tmp_path / "activity.png").read_bytes()
    assert data.startswith(PNG) and len(data) > 2000


def test_cli_other_year_and_svg(run_app, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    result = run_app(log, "--year", "2023", "-o", tmp_path / "2023.svg")
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout) == (1, 1, 1)
    assert "<svg" in (tmp_path / "2023.svg").read_text(encoding="utf-8")


def test_bad_rows_are_reported_with_line_numbers(run_app, tmp_path):
    for text, line in (("date\n2024-01-01\n2024-13-01\n", "3"),
                       ("date,count\n2024-01-01,1\n2024-01-02,1\n2024-01-03,два\n", "4")):
        log = tmp_path / "log.csv"
        log.write_text(text, encoding="utf-8")
        result = run_app(log)
        assert result.returncode == 2, result.stdout
        assert re.search(rf"\b{line}\b", result.stderr), result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "activity.png").exists()
