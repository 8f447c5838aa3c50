"""An image viewer with zoom steps and folder browsing."""

from viewer.window import MainWindow

__all__ = ["MainWindow"]
