"""Recall (M2, M4): what past runs teach, found for the prompt in front of a node.

CONTRACT (being implemented): the agents layer uses exactly this API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

Collection = Literal["tasks", "plans", "lessons", "errors", "summaries"]
"""Semantic memory's collections: tasks with their specs, plans, lessons (fixes and the
person's rejections), errors with their fixes, summaries of finished runs."""

COLLECTIONS: tuple[Collection, ...] = ("tasks", "plans", "lessons", "errors", "summaries")


class RecalledItem(BaseModel):
    """One item recalled for a prompt.

    Attributes:
        collection: where it was found.
        item_id: its id in the collection (lessons: the id `multicoder memory lessons` shows).
        text: the item itself (a lesson, a fix, a past spec ...).
        source: where it came from, for the prompt and the person, e.g.
            ``lesson L3f2a from run 20261120-101500-ab12cd (a rejected plan, 2026-11-20)``.
        run_id: the run it came from (None for a lesson a person wrote).
        score: similarity to the query, 0..1 (higher is closer).

    """

    model_config = ConfigDict(frozen=True)

    collection: Collection
    item_id: str
    text: str
    source: str
    run_id: str | None = None
    score: float = 0.0


class Recall:
    """The facade nodes use: recall within a token budget, and learning after a run."""

    def recall(self, query: str, collections: Sequence[Collection], *, budget_tokens: int,
               exclude_run: str | None = None, limit: int = 8,
               count_tokens: Callable[[str], int] | None = None) -> list[RecalledItem]:
        """The items closest to ``query``, best first, whose rendering fits ``budget_tokens``."""
        raise NotImplementedError

    @staticmethod
    def render(items: Sequence[RecalledItem]) -> str:
        """The prompt block for ``items`` ("" when there are none), each with its source."""
        raise NotImplementedError

    def learn_from_run(self, run_dir: Path) -> int:
        """Store what a finished run teaches; idempotent per run. Returns items stored."""
        raise NotImplementedError
