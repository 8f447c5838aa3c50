"""A unit converter window: length, mass and temperature."""

from unitconv.window import MainWindow

__all__ = ["MainWindow"]
