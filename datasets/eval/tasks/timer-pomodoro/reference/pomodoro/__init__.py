"""A Pomodoro timer window with a CSV log of finished work sessions."""

from pomodoro.window import MainWindow

__all__ = ["MainWindow"]
