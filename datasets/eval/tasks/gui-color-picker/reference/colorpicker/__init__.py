"""An RGB colour picker with a hex code field and a text-contrast hint."""

from colorpicker.window import MainWindow

__all__ = ["MainWindow"]
