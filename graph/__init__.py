"""The LangGraph graph and the engine that runs it: the public API of the interfaces.

``Engine`` starts, streams, resumes, cancels and lists runs; ``RunEvent`` is one item of a
run's event stream; ``Settings`` holds the configuration.
"""

from graph.engine import Engine, InputError, RunEvent
from graph.settings import Settings

__all__ = ["Engine", "InputError", "RunEvent", "Settings"]
