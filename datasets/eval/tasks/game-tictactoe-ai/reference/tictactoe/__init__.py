"""Tic-tac-toe: the rules and the computer player (:class:`Game`), a pygame window (main)."""

from tictactoe.rules import LINES, Game, line_winner

__all__ = ["LINES", "Game", "line_winner"]
