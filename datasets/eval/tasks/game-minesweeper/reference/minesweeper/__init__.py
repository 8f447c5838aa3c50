"""Сапёр: правила (:class:`Minesweeper`) и окно pygame (``minesweeper.main``)."""

from minesweeper.field import LEVELS, Minesweeper

__all__ = ["LEVELS", "Minesweeper"]
