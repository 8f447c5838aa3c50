"""The rules of Minesweeper, independent of any window. x is the column, y the row."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

Cell = tuple[int, int]
LEVELS = {"beginner": (9, 9, 10), "intermediate": (16, 16, 40), "expert": (30, 16, 99)}


class Minesweeper:
    """One game on a ``width`` x ``height`` field with ``mines`` mines.

    Random mines are laid on the first :meth:`reveal`, away from that cell and, when the
    field allows, its neighbours. :meth:`from_layout` makes a field with known mines.

    Attributes:
        state: "playing", "won" or "lost".

    """

    def __init__(self, width: int, height: int, mines: int, seed: int | None = None) -> None:
        """A new field, mines not laid yet.

        Raises:
            ValueError: the size is not positive, or the mines do not leave one free cell.

        """
        if width < 1 or height < 1:
            raise ValueError(f"the field must be at least 1 x 1, not {width} x {height}")
        if not 0 <= mines < width * height:
            raise ValueError(f"{mines} mines do not fit a {width} x {height} field "
                             "with one free cell")
        self.width, self.height, self.mines = width, height, mines
        self._random = random.Random(seed)
        self._mines: set[Cell] | None = None
        self._opened: set[Cell] = set()
        self._flags: set[Cell] = set()
        self.state = "playing"

    @classmethod
    def from_layout(cls, rows: Sequence[str]) -> Minesweeper:
        """A field whose mines are given: '*' a mine, '.' empty; no first-click guard.

        Raises:
            ValueError: the rows are empty, of different lengths or hold other characters.

        """
        if not rows or not rows[0] or any(len(row) != len(rows[0]) for row in rows):
            raise ValueError("the layout needs rows of the same, non-zero length")
        if any(ch not in "*." for row in rows for ch in row):
            raise ValueError("the layout may only hold '*' (mine) and '.' (empty)")
        mines = {(x, y) for y, row in enumerate(rows) for x, ch in enumerate(row) if ch == "*"}
        game = cls(len(rows[0]), len(rows), 0)
        game.mines = len(mines)
        game._mines = mines
        return game

    @property
    def mines_left(self) -> int:
        """Mines minus flags placed (negative when there are too many flags)."""
        return self.mines - len(self._flags)

    def neighbours(self, cell: Cell) -> Iterator[Cell]:
        """The up to eight cells around ``cell`` inside the field."""
        x, y = cell
        for ny in range(max(0, y - 1), min(self.height, y + 2)):
            for nx in range(max(0, x - 1), min(self.width, x + 2)):
                if (nx, ny) != cell:
                    yield nx, ny

    def count(self, cell: Cell) -> int:
        """Mines among the neighbours of ``cell``."""
        mines = self._mines or set()
        return sum(1 for n in self.neighbours(cell) if n in mines)

    def reveal(self, x: int, y: int) -> None:
        """Open a cell (nothing happens on a flag, an opened cell or after the game ended).

        Raises:
            ValueError: the cell is outside the field.

        """
        cell = self._check(x, y)
        if self.state != "playing" or cell in self._flags or cell in self._opened:
            return
        if self._mines is None:
            self._lay_mines(cell)
        self._open(cell)
        self._finish_if_won()

    def toggle_flag(self, x: int, y: int) -> None:
        """Put or take away a flag on a closed cell while the game goes on.

        Raises:
            ValueError: the cell is outside the field.

        """
        cell = self._check(x, y)
        if self.state != "playing" or cell in self._opened:
            return
        self._flags.symmetric_difference_update({cell})

    def chord(self, x: int, y: int) -> None:
        """On an opened number with exactly that many flags around, open the other neighbours.

        Raises:
            ValueError: the cell is outside the field.

        """
        cell = self._check(x, y)
        if self.state != "playing" or cell not in self._opened:
            return
        around = list(self.neighbours(cell))
        if sum(1 for n in around if n in self._flags) != self.count(cell):
            return
        for neighbour in around:
            if neighbour not in self._flags and neighbour not in self._opened:
                self._open(neighbour)
                if self.state == "lost":
                    return
        self._finish_if_won()

    def view(self) -> list[str]:
        """What the player sees, one string per row: # closed, F flag, . empty, 1-8, * mine."""
        mines = self._mines or set()
        rows = []
        for y in range(self.height):
            row = []
            for x in range(self.width):
                cell = (x, y)
                if cell in self._flags:
                    row.append("F")
                elif cell in mines and (self.state == "lost" or cell in self._opened):
                    row.append("*")
                elif cell in self._opened:
                    row.append(str(self.count(cell) or "."))
                else:
                    row.append("#")
            rows.append("".join(row))
        return rows

    def _check(self, x: int, y: int) -> Cell:
        if not (0 <= x < self.width and 0 <= y < self.height):
            raise ValueError(f"({x}, {y}) is outside the {self.width} x {self.height} field")
        return x, y

    def _lay_mines(self, first: Cell) -> None:
        """Lay the mines away from ``first`` and, if there is room, its neighbours."""
        cells = [(x, y) for y in range(self.height) for x in range(self.width)]
        guarded = {first, *self.neighbours(first)}
        if len(cells) - len(guarded) < self.mines:
            guarded = {first}
        self._mines = set(self._random.sample([c for c in cells if c not in guarded],
                                              self.mines))

    def _open(self, start: Cell) -> None:
        """Open ``start``; a zero opens its neighbours in a chain; a mine loses."""
        if start in (self._mines or set()):
            self._opened.add(start)
            self.state = "lost"
            return
        queue = [start]
        while queue:
            cell = queue.pop()
            if cell in self._opened or cell in self._flags:
                continue
            self._opened.add(cell)
            if self.count(cell) == 0:
                queue.extend(n for n in self.neighbours(cell) if n not in self._opened)

    def _finish_if_won(self) -> None:
        mines = self._mines or set()
        if self.state == "playing" and len(self._opened) == self.width * self.height - len(mines):
            self.state = "won"
            self._flags = set(mines)
