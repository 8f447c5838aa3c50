"""The stock database: items and every stock movement, in one SQLite file."""

from __future__ import annotations

import sqlite3
from os import PathLike

SCHEMA = """
CREATE TABLE IF NOT EXISTS item (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    reorder_level INTEGER NOT NULL CHECK (reorder_level >= 0)
);
CREATE TABLE IF NOT EXISTS movement (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL REFERENCES item(sku),
    change INTEGER NOT NULL
);
"""

LowItem = tuple[str, str, int, int]
"""(sku, name, quantity, reorder_level)"""


def _count(value: object, what: str, *, positive: bool) -> int:
    """A whole number that is > 0 (``positive``) or >= 0; raises ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, not {value!r}")
    if value < (1 if positive else 0):
        raise ValueError(f"{what} must be {'positive' if positive else 'zero or more'}: {value}")
    return value


class Inventory:
    """Items and their stock in the SQLite file ``db_path`` (created when missing).

    Every change is committed at once; quantities are whole units.
    """

    def __init__(self, db_path: str | PathLike[str]) -> None:
        self._conn = sqlite3.connect(db_path)
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_item(self, sku: str, name: str, quantity: int = 0, reorder_level: int = 0) -> None:
        """Add a product. Raises ValueError: the SKU exists or a number is negative."""
        _count(quantity, "quantity", positive=False)
        _count(reorder_level, "reorder_level", positive=False)
        try:
            self._conn.execute("INSERT INTO item VALUES (?, ?, ?, ?)",
                               (sku, name, quantity, reorder_level))
        except sqlite3.IntegrityError:
            self._conn.rollback()
            raise ValueError(f"SKU {sku!r} already exists") from None
        if quantity:
            self._record(sku, quantity)
        self._conn.commit()

    def receive(self, sku: str, qty: int) -> int:
        """Add ``qty`` units; return the new quantity. Raises KeyError, ValueError."""
        return self._move(sku, _count(qty, "qty", positive=True))

    def ship(self, sku: str, qty: int) -> int:
        """Remove ``qty`` units; return the new quantity.

        Raises:
            KeyError: unknown SKU.
            ValueError: ``qty`` is not positive or exceeds the stock (nothing changes).

        """
        return self._move(sku, -_count(qty, "qty", positive=True))

    def quantity(self, sku: str) -> int:
        """The units in stock. Raises KeyError: unknown SKU."""
        row = self._conn.execute("SELECT quantity FROM item WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            raise KeyError(sku)
        return int(row[0])

    def history(self, sku: str) -> list[int]:
        """Signed stock changes, oldest first. Raises KeyError: unknown SKU."""
        self.quantity(sku)
        rows = self._conn.execute("SELECT change FROM movement WHERE sku = ? ORDER BY id",
                                  (sku,)).fetchall()
        return [int(change) for (change,) in rows]

    def low_stock(self) -> list[LowItem]:
        """Items at or below their reorder level, biggest shortfall first, ties by SKU."""
        rows = self._conn.execute(
            "SELECT sku, name, quantity, reorder_level FROM item"
            " WHERE quantity <= reorder_level"
            " ORDER BY reorder_level - quantity DESC, sku").fetchall()
        return [(str(s), str(n), int(q), int(r)) for s, n, q, r in rows]

    def _move(self, sku: str, change: int) -> int:
        current = self.quantity(sku)
        if current + change < 0:
            raise ValueError(f"only {current} of {sku!r} in stock, cannot ship {-change}")
        self._conn.execute("UPDATE item SET quantity = quantity + ? WHERE sku = ?",
                           (change, sku))
        self._record(sku, change)
        self._conn.commit()
        return current + change

    def _record(self, sku: str, change: int) -> None:
        self._conn.execute("INSERT INTO movement (sku, change) VALUES (?, ?)", (sku, change))
