"""Semantic memory that failed to open is tried again after a back-off (an engine lives long).

A desktop app or a server keeps one engine for days: a store that was busy at the first open
must not switch recall off for the engine's whole life. The first run started a minute or more
after the failure opens it again; runs in between go on without it, each told why once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import graph.engine
from graph import Engine, Settings
from memory.semantic import SemanticMemoryError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FlakyMemory:
    """open_recall: busy for the first ``failures`` calls, then a working memory."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0
        self.memory = object()

    def __call__(self, settings: Settings, **_: object) -> object:
        self.calls += 1
        if self.calls <= self.failures:
            raise SemanticMemoryError("semantic memory is busy (another process holds its lock)")
        return self.memory


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("MULTICODER_CONFIG", str(tmp_path / "none.toml"))
    return Engine(Settings(data_dir=tmp_path / "data", sandbox={"backend": "local"},
                           models={r: ["replay:notes-sqlite"] for r in
                                   ("planner", "coder", "judge")}))


def memory_of_a_new_run(engine: Engine) -> tuple[object, str]:
    """The memory a newly started run gets, and what its program.log says."""
    services = engine.services(engine.start("a notes manager"))
    try:
        return services.memory, services.record.program_log.read_text("utf-8")
    finally:
        services.sandbox.close()
        services.record.close()


def test_memory_busy_at_first_is_used_again_after_the_back_off(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    clock, opener = Clock(), FlakyMemory(failures=2)
    monkeypatch.setattr(graph.engine, "monotonic", clock)
    monkeypatch.setattr(graph.engine, "open_recall", opener)

    memory, log = memory_of_a_new_run(engine)
    assert memory is None and opener.calls == 1
    assert log.count("semantic memory is unavailable, the run goes on without recall:"
                     " SemanticMemoryError: semantic memory is busy") == 1

    clock.now += graph.engine.MEMORY_RETRY_S - 1  # within the back-off: not tried again
    memory, log = memory_of_a_new_run(engine)
    assert memory is None and opener.calls == 1 and "semantic memory is unavailable" in log

    clock.now += 1  # the back-off is over: tried again, still busy, so another minute
    memory, _ = memory_of_a_new_run(engine)
    assert memory is None and opener.calls == 2

    clock.now += graph.engine.MEMORY_RETRY_S
    memory, log = memory_of_a_new_run(engine)
    assert memory is opener.memory and opener.calls == 3
    assert "semantic memory is unavailable" not in log

    clock.now += 10 * graph.engine.MEMORY_RETRY_S  # once open, it is kept: no new opening
    memory, _ = memory_of_a_new_run(engine)
    assert memory is opener.memory and opener.calls == 3


def test_memory_that_opens_at_once_is_opened_once(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    opener = FlakyMemory(failures=0)
    monkeypatch.setattr(graph.engine, "open_recall", opener)
    for _ in range(3):
        memory, log = memory_of_a_new_run(engine)
        assert memory is opener.memory and "semantic memory is unavailable" not in log
    assert opener.calls == 1
