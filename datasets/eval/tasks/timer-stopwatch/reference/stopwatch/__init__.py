"""A stopwatch window."""

from stopwatch.window import MainWindow

__all__ = ["MainWindow"]
