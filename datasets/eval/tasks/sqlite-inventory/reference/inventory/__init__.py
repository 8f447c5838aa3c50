"""Stock tracking on SQLite: ``Inventory(db_path)`` and a low-stock CSV report."""

from inventory.store import Inventory

__all__ = ["Inventory"]
