from datetime import date

import pytest

from habits import Tracker


def d(text):
    return date.fromisoformat(text)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "habits.db"


def test_consecutive_days_count_once_in_any_order(db):
    tracker = Tracker(db)
    tracker.add("бег")
    for day in ("2024-03-03", "2024-03-01", "2024-03-02", "2024-03-02", "2024-03-03"):
        tracker.done("бег", d(day))
    assert tracker.streak("бег", d("2024-03-03")) == 3


def test_a_missed_day_breaks_the_streak(db):
    tracker = Tracker(db)
    tracker.add("чтение")
    for day in ("2024-03-01", "2024-03-02", "2024-03-04", "2024-03-05"):
        tracker.done("чтение", d(day))
    assert tracker.streak("чтение", d("2024-03-05")) == 2
    tracker.done("чтение", d("2024-03-03"))
    assert tracker.streak("чтение", d("2024-03-05")) == 5


def test_an_abandoned_or_new_habit_has_no_streak(db):
    tracker = Tracker(db)
    tracker.add("зарядка")
    tracker.add("медитация")
    for day in ("2024-03-01", "2024-03-02", "2024-03-03"):
        tracker.done("зарядка", d(day))
    assert tracker.streak("зарядка", d("2024-03-10")) == 0
    assert tracker.streak("медитация", d("2024-03-10")) == 0


@pytest.mark.parametrize("days, today, expected", [
    (("2024-12-30", "2024-12-31", "2025-01-01"), "2025-01-01", 3),
    (("2023-02-27", "2023-02-28", "2023-03-01"), "2023-03-01", 3),
    (("2024-02-28", "2024-03-01"), "2024-03-01", 1),
    (("2024-01-31", "2024-02-01"), "2024-02-01", 2),
])
def test_streaks_cross_month_and_year_boundaries(db, days, today, expected):
    tracker = Tracker(db)
    tracker.add("вода")
    for day in days:
        tracker.done("вода", d(day))
    assert tracker.streak("вода", d(today)) == expected


def test_habits_are_independent_and_saved(db):
    first = Tracker(db)
    first.add("английский")
    first.add("Spanish")
    for day in ("2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"):
        first.done("английский", d(day))
    first.done("Spanish", d("2024-05-04"))
    second = Tracker(db)
    assert second.streak("английский", d("2024-05-04")) == 4
    assert second.streak("Spanish", d("2024-05-04")) == 1
    second.done("Spanish", d("2024-05-05"))
    assert Tracker(db).streak("Spanish", d("2024-05-05")) == 2
