"""A plain text editor with a find and replace bar."""

from editor.window import MainWindow

__all__ = ["MainWindow"]
