"""The coordinator: runs the graph for an interactive interface, off its thread (U4, L4).

The desktop app (and any long-lived interface) hands work to a :class:`Coordinator`: start a
run, answer an interrupt, cancel, retry, regenerate, change priority. Work waits in a priority
queue and is driven by worker threads (``max_parallel``, default 1: weak PCs) through
:meth:`Engine.stream`; every :class:`RunEvent` is passed to the ``on_event`` callback *on the
worker thread* (a Qt interface re-emits it through a queued signal). Each run also has a
:class:`TaskInfo` for the task manager, with a progress fraction derived from the node the run
is in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from graph.engine import Engine, RunEvent

__all__ = ["STAGES", "Coordinator", "TaskInfo", "TaskStatus"]

#: The graph's stages in order, with the fraction of the work done when each starts. The
#: progress of a run is the fraction of the last stage its events named.
STAGES: tuple[tuple[str, float], ...] = (
    ("safety_gate", 0.02), ("confirm_start", 0.08), ("spec_expander", 0.12),
    ("planner", 0.22), ("approve_plan", 0.32), ("coder", 0.38), ("paranoid_tester", 0.65),
    ("ask_human", 0.7), ("packager", 0.8), ("reporter", 0.95),
)

TaskStatus = Literal["queued", "running", "waiting", "done", "failed", "cancelled",
                     "refused", "rejected", "stopped"]


class TaskInfo(BaseModel):
    """One run as the task manager shows it.

    Attributes:
        run_id: the run.
        task: its task (first line).
        status: queued (waits for a worker), running, waiting (for a person's decision),
            or how it ended (done, failed, cancelled, refused, rejected, stopped).
        progress: 0.0–1.0 (see :data:`STAGES`; 1.0 when done).
        stage: the node or interrupt it is at ("" before the first event).
        priority: higher runs first among queued work; ties in submission order.
        error: the last error, if any.
        resumable: a failed or cancelled run can be resumed or retried.

    """

    model_config = ConfigDict(frozen=True)

    run_id: str
    task: str
    status: TaskStatus
    progress: float = 0.0
    stage: str = ""
    priority: int = 0
    error: str | None = None
    resumable: bool = False


class Coordinator:
    """Drives runs on worker threads and reports their events.

    Args:
        engine: the engine (shared; its methods are called from worker threads).
        on_event: called with every :class:`RunEvent` on the worker thread that produced it;
            also called with ``RunEvent(run_id, "progress", {"type": "task_changed"})`` after
            every change of a run's :class:`TaskInfo` (queued, priority, cancel ...).
        max_parallel: worker threads (>= 1).

    """

    def __init__(self, engine: Engine, on_event: Callable[[RunEvent], None], *,
                 max_parallel: int = 1) -> None:
        raise NotImplementedError

    def start(self, task: str, *, attachments: Sequence[Path] = (),
              models: Mapping[str, Sequence[str]] | None = None, sandbox: str | None = None,
              priority: int = 0) -> str:
        """Create a run (:meth:`Engine.start`, validated on the caller's thread) and queue it.

        Returns:
            The run id.

        Raises:
            InputError: as :meth:`Engine.start` (nothing is created or queued).

        """
        raise NotImplementedError

    def answer(self, run_id: str, decision: Mapping[str, Any], *, priority: int = 0) -> None:
        """Queue the continuation of a waiting run with the person's decision
        (``{"action": "approve"|"reject"|"edit"|"continue"|"stop", "feedback", "content"}``).

        Raises:
            InputError: the run does not wait for a decision, or is already queued/running.

        """
        raise NotImplementedError

    def resume(self, run_id: str, *, priority: int = 0) -> None:
        """Queue a failed or cancelled run to continue where it stopped (also "retry").

        Raises:
            InputError: no such run, it has ended for good, or it is already queued/running.

        """
        raise NotImplementedError

    def cancel(self, run_id: str) -> None:
        """Cancel: a queued run leaves the queue, a running one stops at its next step
        (:meth:`Engine.cancel`), a waiting one is marked cancelled. Stays resumable.

        Raises:
            InputError: no such run, or it has already ended.

        """
        raise NotImplementedError

    def regenerate(self, run_id: str) -> str:
        """Run again from the checkpoint before the run's last step, as a new run (a fork,
        :func:`graph.replay.fork`) and queue it. Returns the new run's id.

        Raises:
            InputError: the run has no earlier checkpoint, or is running now.

        """
        raise NotImplementedError

    def set_priority(self, run_id: str, priority: int) -> None:
        """Change a run's priority (reorders the queue; a running run keeps running)."""
        raise NotImplementedError

    def tasks(self) -> list[TaskInfo]:
        """Every run the coordinator knows plus the recent runs of the index, running and
        queued first, then newest first.
        """
        raise NotImplementedError

    def task(self, run_id: str) -> TaskInfo:
        """One run's :class:`TaskInfo`.

        Raises:
            InputError: no such run.

        """
        raise NotImplementedError

    def busy(self) -> bool:
        """True while any run is queued or running."""
        raise NotImplementedError

    def shutdown(self, *, wait: bool = True, timeout_s: float = 10.0) -> None:
        """Cancel queued work, ask running runs to stop, and (when ``wait``) join workers."""
        raise NotImplementedError
