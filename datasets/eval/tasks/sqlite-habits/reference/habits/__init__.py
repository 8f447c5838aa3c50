"""A habit tracker with streaks on SQLite: ``Tracker(db_path)``."""

from habits.tracker import Tracker

__all__ = ["Tracker"]
