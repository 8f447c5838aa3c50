"""The rules of 2048 on a square board, independent of any window."""

from __future__ import annotations

import random

DIRECTIONS = ("up", "down", "left", "right")
GOAL = 2048
FOUR_CHANCE = 0.1

Grid = list[list[int]]


def merge_line(line: list[int]) -> tuple[list[int], int]:
    """Slide one line towards its start, merging equal pairs once; returns (line, points).

    ``[2, 2, 2, 0]`` -> ``([4, 2, 0, 0], 4)``; ``[4, 4, 8, 0]`` -> ``([8, 8, 0, 0], 8)``.
    """
    tiles = [value for value in line if value]
    merged: list[int] = []
    points = 0
    index = 0
    while index < len(tiles):
        if index + 1 < len(tiles) and tiles[index] == tiles[index + 1]:
            merged.append(tiles[index] * 2)
            points += tiles[index] * 2
            index += 2
        else:
            merged.append(tiles[index])
            index += 1
    return merged + [0] * (len(line) - len(merged)), points


class Game:
    """One game of 2048 on a ``size`` x ``size`` board.

    Attributes:
        grid: rows of tile values, 0 for an empty cell (may be replaced to load a position).
        score: the sum of every tile made by a merge.

    """

    def __init__(self, size: int = 4, seed: int | None = None) -> None:
        """Start a new game with two random tiles.

        Raises:
            ValueError: ``size`` is below 2.

        """
        if size < 2:
            raise ValueError(f"the board must be at least 2 x 2, not {size} x {size}")
        self.size = size
        self._random = random.Random(seed)
        self.reset()

    def reset(self) -> None:
        """An empty board with two random tiles and score 0."""
        self.grid: Grid = [[0] * self.size for _ in range(self.size)]
        self.score = 0
        self._add_tile()
        self._add_tile()

    @property
    def won(self) -> bool:
        """True once a 2048 tile is on the board."""
        return any(value >= GOAL for row in self.grid for value in row)

    def move(self, direction: str) -> bool:
        """Slide every line towards ``direction``; True (and a new tile) if anything moved.

        Raises:
            ValueError: ``direction`` is not up, down, left or right.

        """
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {direction!r}: use {', '.join(DIRECTIONS)}")
        lines = self._lines(direction)
        results = [merge_line(line) for line in lines]
        if all(new == old for (new, _), old in zip(results, lines, strict=True)):
            return False
        self._store(direction, [new for new, _ in results])
        self.score += sum(points for _, points in results)
        self._add_tile()
        return True

    def is_over(self) -> bool:
        """True when the board is full and no two neighbours are equal."""
        for r, row in enumerate(self.grid):
            for c, value in enumerate(row):
                if value == 0:
                    return False
                if c + 1 < len(row) and row[c + 1] == value:
                    return False
                if r + 1 < len(self.grid) and self.grid[r + 1][c] == value:
                    return False
        return True

    def _lines(self, direction: str) -> Grid:
        """The board's lines, each ordered from the side the tiles slide towards."""
        rows = [list(row) for row in self.grid]
        columns = [list(column) for column in zip(*rows, strict=True)]
        return {"left": rows, "right": [row[::-1] for row in rows], "up": columns,
                "down": [column[::-1] for column in columns]}[direction]

    def _store(self, direction: str, lines: Grid) -> None:
        """Write lines produced for ``direction`` back into ``grid``."""
        if direction in ("right", "down"):
            lines = [line[::-1] for line in lines]
        if direction in ("up", "down"):
            lines = [list(row) for row in zip(*lines, strict=True)]
        self.grid = lines

    def _add_tile(self) -> None:
        """Put a 2 (90 %) or a 4 (10 %) on a random empty cell, if there is one."""
        empty = [(r, c) for r, row in enumerate(self.grid) for c, value in enumerate(row)
                 if value == 0]
        if empty:
            r, c = self._random.choice(empty)
            self.grid[r][c] = 4 if self._random.random() < FOUR_CHANCE else 2
