"""Past runs from the run index: a light API (no LangChain import) for listing and lookup."""

from __future__ import annotations

from graph.errors import InputError
from graph.settings import Settings
from memory.records import RunNotFound
from memory.run_index import RunIndex, RunRow


class RunHistory:
    """The run index of a data folder (``<data_dir>/runs.sqlite``)."""

    def __init__(self, settings: Settings) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.index = RunIndex(settings.data_dir / "runs.sqlite")

    def get(self, run_id: str) -> RunRow:
        """The index row of a run.

        Raises:
            InputError: no such run.

        """
        try:
            return self.index.get(run_id)
        except RunNotFound:
            raise InputError(f"no run '{run_id}' (see `multicoder runs list`)") from None

    def list(self, limit: int = 50) -> list[RunRow]:
        """Runs, newest first."""
        return self.index.list(limit=limit)
