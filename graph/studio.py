"""The graph as LangGraph Studio (``langgraph dev``) loads it, from ``langgraph.json``.

Compiled without a checkpointer: the server brings its own and refuses graphs that carry one.
Studio passes no services in the context, so each run's services are built from the settings
(``MULTICODER_*`` variables and the settings file) the first time one of its nodes runs.
"""

from __future__ import annotations

from agents.context import Services
from agents.state import RunState
from graph.builder import ServicesFactory, build_graph
from graph.engine import Engine
from graph.settings import Settings


def studio_services() -> ServicesFactory:
    """A factory that builds (once per thread) the services of a Studio-started run."""
    engines: list[Engine] = []
    built: dict[str, Services] = {}  # per server process: one set of services per thread

    def factory(run_id: str, state: RunState) -> Services:
        if run_id not in built:
            if not engines:
                engines.append(Engine(Settings()))
            engines[0].adopt(run_id, state.get("task", ""))
            built[run_id] = engines[0].services(run_id)
        return built[run_id]

    return factory


graph = build_graph(services_factory=studio_services()).compile()
graph.name = "multicoder"
