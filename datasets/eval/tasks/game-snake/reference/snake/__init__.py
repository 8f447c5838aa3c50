"""Snake: the game logic (:class:`Game`) and a pygame window (``snake.main``)."""

from snake.game import DIRECTIONS, Game

__all__ = ["DIRECTIONS", "Game"]
