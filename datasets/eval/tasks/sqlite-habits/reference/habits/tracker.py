"""Habits and the days they were done, in one SQLite file; streaks are counted from it."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from os import PathLike

ONE_DAY = timedelta(days=1)
SCHEMA = """
CREATE TABLE IF NOT EXISTS habit (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS checkin (
    id INTEGER PRIMARY KEY,
    habit_id INTEGER NOT NULL REFERENCES habit(id),
    day TEXT NOT NULL                      -- ISO date YYYY-MM-DD: sorts like a date
);
"""


class Tracker:
    """Habits stored in the SQLite file ``db_path`` (created when missing).

    Every call commits at once, so a new Tracker on the same file sees the same data.
    """

    def __init__(self, db_path: str | PathLike[str]) -> None:
        self._conn = sqlite3.connect(db_path)
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def add(self, name: str) -> None:
        """Start tracking a habit. Raises ValueError: the name is empty or already taken."""
        if not name.strip():
            raise ValueError("a habit needs a name")
        try:
            with self._conn:
                self._conn.execute("INSERT INTO habit (name) VALUES (?)", (name,))
        except sqlite3.IntegrityError:
            raise ValueError(f"habit {name!r} already exists") from None

    def habits(self) -> list[str]:
        """The habit names, alphabetically."""
        return [name for (name,) in self._conn.execute("SELECT name FROM habit ORDER BY name")]

    def done(self, name: str, day: date) -> None:
        """Mark the habit done on ``day`` (marking a day twice is harmless).

        Raises:
            KeyError: no such habit.

        """
        habit_id = self._id(name)
        with self._conn:
            self._conn.execute("INSERT INTO checkin (habit_id, day) VALUES (?, ?)",
                               (habit_id, day.isoformat()))

    def streak(self, name: str, today: date) -> int:
        """Days in a row the habit was done, ending today (or yesterday, when today is
        not marked yet: the streak is still alive); 0 when the run is broken.

        Raises:
            KeyError: no such habit.

        """
        rows = self._conn.execute(
            "SELECT DISTINCT day FROM checkin WHERE habit_id = ? AND day <= ? ORDER BY day DESC",
            (self._id(name), today.isoformat())).fetchall()
        count = 0
        expected = today
        for (text,) in rows:
            day = date.fromisoformat(text)
            if count == 0 and day == today - ONE_DAY:
                expected = day
            if day == expected:
                count += 1
                expected = day - ONE_DAY
            else:
                break
        return count

    def _id(self, name: str) -> int:
        row = self._conn.execute("SELECT id FROM habit WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise KeyError(name)
        return int(row[0])
