"""Календарь активности за год (как на GitHub) из CSV с датами событий."""

from activity.grid import longest_streak, year_matrix
from activity.log import LogError, read_counts
from activity.plot import plot_year

__all__ = ["LogError", "longest_streak", "plot_year", "read_counts", "year_matrix"]
