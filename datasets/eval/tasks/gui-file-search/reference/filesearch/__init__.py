"""File search by name masks and content, with a background search."""

from filesearch.window import MainWindow

__all__ = ["MainWindow"]
