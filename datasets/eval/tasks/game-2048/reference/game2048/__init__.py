"""2048: the rules (:class:`Game`) and a pygame window (``game2048.main``)."""

from game2048.board import DIRECTIONS, Game, merge_line

__all__ = ["DIRECTIONS", "Game", "merge_line"]
