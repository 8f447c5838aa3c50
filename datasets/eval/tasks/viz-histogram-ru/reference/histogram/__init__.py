"""Гистограмма одного столбца CSV."""

from histogram.plot import build_histogram
from histogram.reader import ColumnError, read_column

__all__ = ["ColumnError", "build_histogram", "read_column"]
