"""Tic-tac-toe rules and a minimax computer player that never loses."""

from __future__ import annotations

from functools import cache

Board = tuple[str | None, ...]
LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8),
         (2, 4, 6))
PREFERENCE = (4, 0, 2, 6, 8, 1, 3, 5, 7)  # among equally good moves: centre, corners, edges


def with_mark(board: Board, cell: int, mark: str) -> Board:
    """A copy of ``board`` with ``mark`` on ``cell``."""
    return (*board[:cell], mark, *board[cell + 1:])


def line_winner(board: Board) -> str | None:
    """"X" or "O" if that mark fills a line, "draw" on a full board, else None."""
    for a, b, c in LINES:
        if board[a] is not None and board[a] == board[b] == board[c]:
            return board[a]
    return "draw" if all(board) else None


@cache
def _score(board: Board, to_move: str) -> int:
    """The value of ``board`` for O with ``to_move`` next: +10/-10 for a win/loss, 0 draw.

    Quicker wins and slower losses score further from zero (depth adjusted).
    """
    result = line_winner(board)
    if result is not None:
        empty = board.count(None)
        return 0 if result == "draw" else (1 + empty) * (1 if result == "O" else -1)
    other = "X" if to_move == "O" else "O"
    scores = [_score(with_mark(board, i, to_move), other)
              for i in range(9) if board[i] is None]
    return max(scores) if to_move == "O" else min(scores)


def best_move(board: Board) -> int:
    """The cell where O should play: the best minimax score, ties by PREFERENCE."""
    moves = [i for i in PREFERENCE if board[i] is None]
    return max(moves, key=lambda i: _score(with_mark(board, i, "O"), "X"))


class Game:
    """One game: the player is X and moves first, the computer is O.

    Attributes:
        board: 9 cells row by row, each "X", "O" or None (may be replaced to load a position).

    """

    def __init__(self) -> None:
        """An empty board, X to move."""
        self.board: list[str | None] = [None] * 9

    @property
    def winner(self) -> str | None:
        """"X", "O", "draw" or None while the game goes on."""
        return line_winner(tuple(self.board))

    def play(self, cell: int) -> None:
        """Put X on ``cell`` (0-8, row by row).

        Raises:
            ValueError: the game is over, it is O's turn, or the cell is taken or invalid.

        """
        self._check_turn("X")
        self._check_cell(cell)
        self.board[cell] = "X"

    def ai_move(self) -> int:
        """Play O's best move and return its cell.

        Raises:
            ValueError: the game is over or it is X's turn.

        """
        self._check_turn("O")
        cell = best_move(tuple(self.board))
        self.board[cell] = "O"
        return cell

    def _check_turn(self, mark: str) -> None:
        if self.winner is not None:
            raise ValueError(f"the game is over ({self.winner})")
        xs, os = self.board.count("X"), self.board.count("O")
        turn = "X" if xs == os else "O"
        if mark != turn:
            raise ValueError(f"it is {turn}'s turn")

    def _check_cell(self, cell: int) -> None:
        if not isinstance(cell, int) or not 0 <= cell < 9:
            raise ValueError(f"cell must be 0-8, not {cell!r}")
        if self.board[cell] is not None:
            raise ValueError(f"cell {cell} is taken")
