"""The graph's state schema (declared in :mod:`agents.state`, where the nodes can see it)."""

from agents.state import Decision, RunState, RunStatus

__all__ = ["Decision", "RunState", "RunStatus"]
