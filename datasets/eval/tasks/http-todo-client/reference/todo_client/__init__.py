"""A client for the team's JSON todo API: ``TodoClient`` and ``TodoError``."""

from todo_client.client import TodoClient, TodoError

__all__ = ["TodoClient", "TodoError"]
