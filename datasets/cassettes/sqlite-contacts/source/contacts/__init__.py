"""contacts: a terminal address book stored in SQLite."""

__version__ = "1.0.0"
