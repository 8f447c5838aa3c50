"""The rules of Snake on a grid, independent of any window."""

from __future__ import annotations

import random

Cell = tuple[int, int]
DIRECTIONS: dict[str, Cell] = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
OPPOSITE = {"up": "down", "down": "up", "left": "right", "right": "left"}


class Game:
    """One game of Snake on a ``width`` x ``height`` grid; (0, 0) is the top-left cell.

    Attributes:
        snake: the cells of the snake, head first.
        direction: where the next step goes ("up", "down", "left", "right").
        food: the food's cell (None only when the snake fills the board).
        score: the food eaten.
        game_over: True once the snake has hit a wall or itself.

    """

    def __init__(self, width: int = 20, height: int = 15, seed: int | None = None) -> None:
        """Start a new game.

        Raises:
            ValueError: the board is too small for the starting snake (width < 4).

        """
        if width < 4 or height < 1:
            raise ValueError(f"the board must be at least 4 x 1 cells, not {width} x {height}")
        self.width = width
        self.height = height
        self._random = random.Random(seed)
        self.reset()

    def reset(self) -> None:
        """A fresh snake of length 3 in the middle, moving right, score 0."""
        head_x, head_y = self.width // 2, self.height // 2
        self.snake: list[Cell] = [(head_x - i, head_y) for i in range(3)]
        self.direction = "right"
        self._last_moved = "right"
        self.score = 0
        self.game_over = False
        self.food: Cell | None = self._free_cell()

    def turn(self, direction: str) -> None:
        """Head ``direction`` on the next step, unless that reverses onto the neck.

        Raises:
            ValueError: ``direction`` is not one of up, down, left, right.

        """
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {direction!r}: use {', '.join(DIRECTIONS)}")
        if direction != OPPOSITE[self._last_moved]:
            self.direction = direction

    def step(self) -> bool:
        """Move one cell; returns False when the game is (or just became) over."""
        if self.game_over:
            return False
        dx, dy = DIRECTIONS[self.direction]
        head = (self.snake[0][0] + dx, self.snake[0][1] + dy)
        eating = head == self.food
        body = self.snake if eating else self.snake[:-1]  # the tail moves away this step
        inside = 0 <= head[0] < self.width and 0 <= head[1] < self.height
        if not inside or head in body:
            self.game_over = True
            return False
        self.snake.insert(0, head)
        self._last_moved = self.direction
        if eating:
            self.score += 1
            self.food = self._free_cell()
        else:
            self.snake.pop()
        return True

    def _free_cell(self) -> Cell | None:
        """A random cell not on the snake, or None when there is none."""
        taken = set(self.snake)
        free = [(x, y) for y in range(self.height) for x in range(self.width)
                if (x, y) not in taken]
        return self._random.choice(free) if free else None
