"""The LangGraph graph and the engine that runs it: the public API of the interfaces.

``Engine`` starts, streams, resumes, cancels and lists runs; ``RunEvent`` is one item of a
run's event stream; ``RunHistory`` lists past runs without loading the engine; ``Settings``
holds the configuration; ``InputError`` is bad input.
The engine (and with it LangChain) is imported on first use, so light commands start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graph.errors import InputError
from graph.history import RunHistory
from graph.settings import Settings

if TYPE_CHECKING:
    from graph.engine import Engine, RunEvent

__all__ = ["Engine", "InputError", "RunEvent", "RunHistory", "Settings"]


def __getattr__(name: str) -> Any:
    if name in ("Engine", "RunEvent"):
        from graph import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'graph' has no attribute {name!r}")
