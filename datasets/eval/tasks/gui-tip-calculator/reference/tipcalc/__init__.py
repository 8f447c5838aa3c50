"""A tip calculator that splits the bill."""

from tipcalc.window import MainWindow

__all__ = ["MainWindow"]
