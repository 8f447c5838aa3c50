"""notes: a command-line notes manager on SQLite."""

__version__ = "1.0.0"
