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

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict

from graph.engine import ENDED_STATUSES, RUN_LOCK, Engine, RunEvent
from graph.errors import InputError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from memory.run_index import RunRow

__all__ = ["STAGES", "Coordinator", "TaskInfo", "TaskStatus"]

#: The graph's stages in order, with the fraction of the work done when each starts. The
#: progress of a run is the fraction of the last stage its events named.
STAGES: tuple[tuple[str, float], ...] = (
    ("safety_gate", 0.02), ("confirm_start", 0.08), ("spec_expander", 0.12),
    ("planner", 0.22), ("approve_plan", 0.32), ("coder", 0.38), ("paranoid_tester", 0.65),
    ("spec_judge", 0.68), ("ask_human", 0.7), ("packager", 0.8), ("reporter", 0.95),
)

TaskStatus = Literal["queued", "running", "waiting", "done", "failed", "cancelled",
                     "refused", "rejected", "stopped"]

#: The ``type`` of the progress event sent after a run's :class:`TaskInfo` changed.
TASK_CHANGED = "task_changed"
#: The error a cancelled run shows.
CANCELLED_ERROR = "cancelled by the person"
#: How many runs of the index :meth:`Coordinator.tasks` adds to the ones it knows.
RECENT_RUNS = 50

_log = logging.getLogger(__name__)
_FRACTIONS: dict[str, float] = dict(STAGES)
_STATUSES: frozenset[str] = frozenset(get_args(TaskStatus))
#: One piece of queued work: (-priority, submission number, run id, decision or None).
_Work = tuple[int, int, str, dict[str, Any] | None]


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
            every change of a run's :class:`TaskInfo` (queued, priority, cancel ...). An
            exception it raises is logged and otherwise ignored (the run goes on).
        max_parallel: worker threads (>= 1).

    Raises:
        InputError: ``max_parallel`` below 1.

    """

    def __init__(self, engine: Engine, on_event: Callable[[RunEvent], None], *,
                 max_parallel: int = 1) -> None:
        if max_parallel < 1:
            raise InputError(f"max_parallel must be 1 or more (got {max_parallel})")
        self._engine = engine
        self._on_event = on_event
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._queue: list[_Work] = []  # a heap: (-priority, sequence, run_id, decision)
        self._sequence = itertools.count()
        self._tasks: dict[str, TaskInfo] = {}
        self._running: set[str] = set()
        self._cancelling: set[str] = set()  # running runs the person asked to stop
        self._driving: dict[str, str] = {}  # worker thread name -> the run it drives now
        self._closed = False
        self._workers = [self._new_worker(n) for n in range(max_parallel)]
        for worker in self._workers:
            worker.start()

    def _new_worker(self, number: int) -> threading.Thread:
        return threading.Thread(target=self._work, name=f"coordinator-{number}", daemon=True)

    # -- queueing ---------------------------------------------------------------------------

    def start(self, task: str, *, attachments: Sequence[Path] = (),
              models: Mapping[str, Sequence[str]] | None = None, sandbox: str | None = None,
              priority: int = 0) -> str:
        """Create a run (:meth:`Engine.start`, validated on the caller's thread) and queue it.

        Returns:
            The run id.

        Raises:
            InputError: as :meth:`Engine.start` (nothing is created or queued), or the
                coordinator has shut down (before the run was created: nothing is created;
                while it was being created: it is kept cancelled and resumable, and the
                message says MultiCoder is shutting down).

        """
        with self._lock:
            self._check_open()
        run_id = self._engine.start(task, models=models, attachments=attachments,
                                    sandbox=sandbox)
        self._queue_new(run_id, _first_line(task), priority)
        return run_id

    def _queue_new(self, run_id: str, task: str, priority: int) -> None:
        """Queue a run just created, unless the coordinator shut down meanwhile.

        Raises:
            InputError: it shut down: the run is marked cancelled (resumable) instead.

        """
        with self._lock:
            closed = self._closed
            self._tasks[run_id] = TaskInfo(
                run_id=run_id, task=task, status="cancelled" if closed else "queued",
                priority=priority, error=CANCELLED_ERROR if closed else None, resumable=closed)
            if not closed:
                self._push(run_id, None, priority)
        if closed:
            self._cancel_quietly(run_id)
        self._changed(run_id)
        if closed:
            raise InputError("MultiCoder is shutting down: the run was kept and can be resumed"
                             " after the restart")

    def answer(self, run_id: str, decision: Mapping[str, Any], *, priority: int = 0) -> None:
        """Queue the continuation of a waiting run with the person's decision.

        ``decision`` is ``{"action": "approve"|"reject"|"edit"|"continue"|"stop", "feedback",
        "content"}`` (see :class:`agents.approvals.HumanDecision`). A cancelled run that was
        waiting still waits for its answer. ``priority`` 0 keeps the run's priority.

        Raises:
            InputError: no such run, the run does not wait for a decision, or it is already
                queued/running.

        """
        with self._lock:
            self._check_open()
            self._check_idle(run_id)
        info = self.task(run_id)
        waits = info.status == "waiting" or (
            info.status in ("cancelled", "failed") and self._has_interrupt(run_id))
        if not waits:
            raise InputError(f"run '{run_id}' does not wait for a decision ({info.status})")
        priority = priority or info.priority
        with self._lock:
            self._check_open()
            self._check_idle(run_id)
            self._tasks[run_id] = info.model_copy(update={"status": "queued",
                                                          "priority": priority, "error": None})
            self._push(run_id, dict(decision), priority)
        self._changed(run_id)

    def resume(self, run_id: str, *, priority: int = 0) -> None:
        """Queue a failed or cancelled run to continue where it stopped (also "retry").

        A waiting run shows its question again. ``priority`` 0 keeps the run's priority.

        Raises:
            InputError: no such run, it has ended for good, or it is already queued/running.

        """
        with self._lock:
            self._check_open()
            self._check_idle(run_id)
        info = self.task(run_id)
        if info.status in ENDED_STATUSES:
            raise InputError(f"run '{run_id}' has ended ({info.status}): it cannot be"
                             " resumed; regenerate it or start a new one")
        priority = priority or info.priority
        with self._lock:
            self._check_open()
            self._check_idle(run_id)
            self._tasks[run_id] = info.model_copy(update={"status": "queued",
                                                          "priority": priority, "error": None})
            self._push(run_id, None, priority)
        self._changed(run_id)

    def cancel(self, run_id: str) -> None:
        """Cancel a run; it stays resumable.

        A running run stops at its next step (:meth:`Engine.cancel`); its ``failed`` event
        with error "cancelled" follows from its worker. A queued run leaves the queue and a
        waiting one is marked cancelled; for those the same event is passed to ``on_event``
        at once, on the caller's thread (a waiting run still waits for its answer).

        Raises:
            InputError: no such run, or it has already ended.

        """
        with self._lock:
            if run_id in self._running:
                self._cancelling.add(run_id)
                where = "running"
            elif self._unqueue(run_id):
                where = "queued"
            else:
                where = "idle"
        if where == "running":
            self._cancel_quietly(run_id)  # the CANCEL flag: the run stops at its next step
            return
        if where == "idle":
            info = self.task(run_id)
            if info.status in ENDED_STATUSES:
                raise InputError(f"run '{run_id}' has already ended ({info.status})")
            self._engine.cancel(run_id)
        else:
            self._cancel_quietly(run_id)
        self._deliver(_cancelled(run_id))

    def regenerate(self, run_id: str) -> str:
        """Run again from the checkpoint before the run's last step, as a new run.

        The checkpoint is the newest one that still has a node to run and is not the run's
        latest (before the last question asked, or before the packager / reporter of a
        finished run); the new run is a fork of it (:func:`graph.replay.fork`), queued with
        the original's priority. Returns the new run's id.

        Raises:
            InputError: the run has no earlier checkpoint, is queued or running now, or the
                coordinator has shut down (as :meth:`start` says).

        """
        from graph.replay import INPUT_NODE, fork, run_history

        with self._lock:
            self._check_open()
            if run_id in self._running or self._is_queued(run_id):
                raise InputError(f"run '{run_id}' is working now: stop it or wait before"
                                 " regenerating")
        info = self.task(run_id)
        history = run_history(self._engine, run_id)
        earlier = [c for c in history[:-1]
                   if c.next and c.written_by and c.written_by != INPUT_NODE
                   and "," not in c.written_by]
        if not earlier:
            raise InputError(f"run '{run_id}' has no earlier checkpoint to run again from")
        new_id = fork(self._engine, run_id, earlier[-1].checkpoint_id)
        self._queue_new(new_id, info.task, info.priority)
        return new_id

    def set_priority(self, run_id: str, priority: int) -> None:
        """Change a run's priority (reorders the queue; a running run keeps running).

        Raises:
            InputError: no such run.

        """
        info = self.task(run_id)
        with self._lock:
            info = self._tasks.get(run_id, info)
            self._tasks[run_id] = info.model_copy(update={"priority": priority})
            self._queue = [(-priority, seq, rid, decision) if rid == run_id
                           else (rank, seq, rid, decision)
                           for rank, seq, rid, decision in self._queue]
            heapq.heapify(self._queue)
        if info.priority != priority:
            self._changed(run_id)

    # -- reading ----------------------------------------------------------------------------

    def tasks(self) -> list[TaskInfo]:
        """Every run the coordinator knows plus the recent runs of the index.

        Running runs first, then queued ones in the order they will run, then the others
        newest first. Runs of the index the coordinator does not drive are described from
        their index row (a run another process drives shows as running; one whose process
        died as failed and resumable).
        """
        rows = self._engine.list_runs(RECENT_RUNS)
        with self._lock:
            known = dict(self._tasks)
            running = set(self._running)
            order = {rid: n for n, (_, _, rid, _) in enumerate(sorted(self._queue))}
        infos = dict(known)
        for row in rows:
            if row.run_id not in infos:
                infos[row.run_id] = _from_row(row, self._engine.redactor)
        newest = sorted(infos.values(), key=lambda i: i.run_id, reverse=True)
        return sorted(newest, key=lambda i: (0, 0) if i.run_id in running
                      else (1, order[i.run_id]) if i.run_id in order else (2, 0))

    def task(self, run_id: str) -> TaskInfo:
        """One run's :class:`TaskInfo`.

        Raises:
            InputError: no such run.

        """
        with self._lock:
            info = self._tasks.get(run_id)
        return info if info is not None else _from_row(self._engine.get_run(run_id),
                                                       self._engine.redactor)

    def redact(self, text: str) -> str:
        """``text`` with every secret the engine knows (and anything key-like) redacted."""
        return self._engine.redactor(text)

    def busy(self) -> bool:
        """True while any run is queued or running."""
        with self._lock:
            return bool(self._queue or self._running)

    def restart(self) -> str:
        """Replace worker threads that have stopped; returns a sentence saying what happened.

        A worker never stops on an error of a run; should one stop all the same, its run is
        marked failed (resumable, its ``failed`` event passed on) and a new worker takes its
        place, so queued work goes on.

        Raises:
            InputError: the coordinator has shut down.

        """
        with self._lock:
            self._check_open()
            dead = [(n, w) for n, w in enumerate(self._workers) if not w.is_alive()]
            orphans = [self._driving.pop(w.name) for _, w in dead if w.name in self._driving]
            for run_id in orphans:
                self._running.discard(run_id)
                self._cancelling.discard(run_id)
            for number, _ in dead:
                self._workers[number] = self._new_worker(number)
                self._workers[number].start()
            total = len(self._workers)
        for run_id in orphans:
            self._deliver(RunEvent(run_id, "failed", {
                "error": "interrupted: the worker driving it stopped", "resumable": True}))
        if not dead:
            running = "The worker is" if total == 1 else f"All {total} workers are"
            return f"{running} running: there was nothing to restart."
        return f"{len(dead)} of {total} workers had stopped and were started again."

    def shutdown(self, *, wait: bool = True, timeout_s: float = 10.0) -> None:
        """Cancel queued work, ask running runs to stop, and (when ``wait``) join workers.

        Queued runs are marked cancelled (resumable; their ``failed`` event with error
        "cancelled" is passed on); running ones stop at their next step.
        Afterwards :meth:`start`, :meth:`answer`, :meth:`resume` and :meth:`regenerate`
        raise InputError. ``timeout_s`` bounds the whole wait (seconds).
        """
        with self._lock:
            self._closed = True
            queued = [rid for _, _, rid, _ in sorted(self._queue)]
            self._queue.clear()
            running = list(self._running)
            self._cancelling.update(running)
            self._wakeup.notify_all()
        for run_id in queued:
            self._cancel_quietly(run_id)
            self._deliver(_cancelled(run_id))
        for run_id in running:
            self._cancel_quietly(run_id)
        if wait:
            deadline = monotonic() + timeout_s
            for worker in self._workers:
                worker.join(max(0.0, deadline - monotonic()))

    # -- workers ----------------------------------------------------------------------------

    def _work(self) -> None:
        """A worker thread: drive queued work, highest priority first, until shut down."""
        while True:
            with self._wakeup:
                while not self._queue and not self._closed:
                    self._wakeup.wait()
                if self._closed:
                    return
                _, _, run_id, decision = heapq.heappop(self._queue)
                self._running.add(run_id)
                self._driving[threading.current_thread().name] = run_id
            try:
                if self._update(run_id, status="running", error=None):
                    self._changed(run_id)
                self._drive(run_id, decision)
            except Exception:  # a bug here must not end the worker
                _log.exception("driving run %s failed", run_id)
                self._release(run_id)
            with self._lock:  # not reached when the thread dies: restart() frees the run
                self._driving.pop(threading.current_thread().name, None)

    def _drive(self, run_id: str, decision: dict[str, Any] | None) -> None:
        """Stream one run until it waits or ends, passing on its events.

        The run's last event (interrupt, finished, failed) is passed on only once the stream
        is over (the run's lock released) and the run is no longer counted as running, so
        whoever sees it may answer, resume or cancel the run at once.
        """
        flagged = False
        if self._is_cancelling(run_id):  # cancelled between the queue and here
            self._finish(run_id, _cancelled(run_id))
            return
        try:
            stream = self._engine.stream(run_id, decision)
            for event in stream:
                if event.kind != "progress":
                    for extra in stream:  # nothing follows an end; this ends the stream
                        _log.warning("run %s: event after its end: %s", run_id, extra.kind)
                    self._finish(run_id, event)
                    return
                if not flagged and self._is_cancelling(run_id):
                    # the stream clears the CANCEL flag as it starts: a cancel asked just
                    # before that would be lost, so flag it again once the stream runs
                    flagged = True
                    self._cancel_quietly(run_id)
                self._deliver(event)
        except InputError as exc:  # another process drives it, or it waits for no answer
            self._finish(run_id, RunEvent(run_id, "failed", {
                "error": self._engine.redactor(str(exc)), "resumable": True}))
            return
        except Exception as exc:  # an engine bug must not lose the run: report it
            _log.exception("run %s failed", run_id)
            error = self._engine.redactor(f"internal error: {type(exc).__name__}: {exc}")
            self._finish(run_id, RunEvent(run_id, "failed", {"error": error,
                                                             "resumable": True}))
            return
        self._finish(run_id, RunEvent(run_id, "failed", {
            "error": "the run stopped without saying why", "resumable": True}))

    def _finish(self, run_id: str, last: RunEvent) -> None:
        """The stream is over: free the run, then pass on its last event.

        A cancel that came as the run reached a question (up to the moment the run is freed)
        marks it cancelled: the question still waits, and the cancelled event follows it.
        """
        changed = self._track(last)
        cancel = last.kind == "interrupt" and not self._release_unless_cancelling(run_id)
        if cancel:  # still counted as running here: nobody answers or resumes it meanwhile
            self._cancel_quietly(run_id)
            changed = self._track(_cancelled(run_id)) or changed
        self._release(run_id)
        self._emit(last)
        if cancel:
            self._emit(_cancelled(run_id))
        if changed:
            self._changed(run_id)

    def _release_unless_cancelling(self, run_id: str) -> bool:
        """Free the run unless a cancel was asked for it; True when it was freed.

        From the moment it is freed, :meth:`cancel` treats the run as idle (and delivers the
        cancelled event itself), so no cancel falls between the two.
        """
        with self._lock:
            if run_id in self._cancelling:
                return False
            self._running.discard(run_id)
            return True

    def _release(self, run_id: str) -> None:
        """The run is no longer running."""
        with self._lock:
            self._running.discard(run_id)
            self._cancelling.discard(run_id)

    def _deliver(self, event: RunEvent) -> None:
        """Update the run's TaskInfo from ``event``, then pass the event on (and the change)."""
        changed = self._track(event)
        self._emit(event)
        if changed:
            self._changed(event.run_id)

    def _track(self, event: RunEvent) -> bool:
        """Apply ``event`` to its run's :class:`TaskInfo`; True when it changed."""
        data = event.data
        update: dict[str, Any]
        if event.kind == "progress":
            update = {"status": "running"}
            node = data.get("node")
            if data.get("type") == "node_started" and node in _FRACTIONS:
                update |= {"stage": node, "progress": _FRACTIONS[str(node)]}
        elif event.kind == "interrupt":
            kind = str(data.get("kind", ""))
            update = {"status": "waiting", "stage": kind}
            if kind in _FRACTIONS:
                update["progress"] = _FRACTIONS[kind]
        elif event.kind == "finished":
            status = str(data.get("status", "failed"))
            status = status if status in _STATUSES else "failed"
            update = {"status": status, "error": None if status == "done" else data.get("error"),
                      "resumable": status in ("failed", "cancelled")}
            if status == "done":
                update["progress"] = 1.0
        else:
            error = str(data.get("error", ""))
            update = {"status": "cancelled" if error == "cancelled" else "failed",
                      "error": CANCELLED_ERROR if error == "cancelled" else error,
                      "resumable": bool(data.get("resumable", True))}
        return self._update(event.run_id, **update)

    # -- helpers (the lock is held only where said) -----------------------------------------

    def _update(self, run_id: str, **changes: Any) -> bool:
        """Change a run's TaskInfo; True when something changed. Takes the lock."""
        with self._lock:
            info = self._tasks.get(run_id)
            if info is None:
                info = TaskInfo(run_id=run_id, task="", status="running")
            new = info.model_copy(update=changes)
            if new == info and run_id in self._tasks:
                return False
            self._tasks[run_id] = new
            return True

    def _changed(self, run_id: str) -> None:
        self._emit(RunEvent(run_id, "progress", {"type": TASK_CHANGED}))

    def _emit(self, event: RunEvent) -> None:
        """Call on_event (never with the lock held); its exceptions are logged."""
        try:
            self._on_event(event)
        except Exception:
            _log.exception("on_event failed for %s event of run %s", event.kind, event.run_id)

    def _cancel_quietly(self, run_id: str) -> None:
        """:meth:`Engine.cancel`, ignoring a run that has ended meanwhile."""
        try:
            self._engine.cancel(run_id)
        except InputError as exc:
            _log.info("cancel of run %s: %s", run_id, exc)

    def _has_interrupt(self, run_id: str) -> bool:
        """Whether the run's thread holds a question (a cancelled run that was waiting)."""
        config: RunnableConfig = {"configurable": {"thread_id": run_id}}
        return bool(self._engine.graph.get_state(config).interrupts)

    def _is_cancelling(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._cancelling

    def _check_open(self) -> None:
        """Lock held. Raises InputError after :meth:`shutdown`."""
        if self._closed:
            raise InputError("the coordinator has shut down: restart the application")

    def _check_idle(self, run_id: str) -> None:
        """Lock held. Raises InputError when the run is queued or running."""
        if run_id in self._running:
            raise InputError(f"run '{run_id}' is running now: wait for it or stop it")
        if self._is_queued(run_id):
            raise InputError(f"run '{run_id}' is already queued")

    def _is_queued(self, run_id: str) -> bool:
        """Lock held."""
        return any(rid == run_id for _, _, rid, _ in self._queue)

    def _push(self, run_id: str, decision: dict[str, Any] | None, priority: int) -> None:
        """Lock held. Queue work and wake a worker."""
        heapq.heappush(self._queue, (-priority, next(self._sequence), run_id, decision))
        self._wakeup.notify()

    def _unqueue(self, run_id: str) -> bool:
        """Lock held. Remove a run's queued work; True when there was some."""
        kept = [work for work in self._queue if work[2] != run_id]
        if len(kept) == len(self._queue):
            return False
        self._queue = kept
        heapq.heapify(self._queue)
        return True


def _cancelled(run_id: str) -> RunEvent:
    """The event of a run the person cancelled (as :meth:`Engine.stream` yields it)."""
    return RunEvent(run_id, "failed", {"error": "cancelled", "resumable": True})


def _first_line(task: str) -> str:
    """The first non-empty line of a task (the task manager shows one line)."""
    return next((line.strip() for line in task.splitlines() if line.strip()), "")


def _from_row(row: RunRow, redact: Callable[[str], str] = str) -> TaskInfo:
    """A run the coordinator does not drive, as its index row describes it.

    Its error is passed through ``redact`` (the engine's redactor).
    """
    status: TaskStatus
    error = redact(row.error) if row.error else row.error
    if row.status in ("created", "running"):
        if _is_driven(Path(row.run_dir)):
            status = "running"
        else:  # nobody drives it: its process died (or it never started)
            status = "failed" if row.status == "running" else "cancelled"
            error = error or ("interrupted: the process driving it stopped"
                              if row.status == "running" else "not started")
    else:
        status = cast("TaskStatus", row.status)
    return TaskInfo(run_id=row.run_id, task=_first_line(row.task), status=status,
                    progress=1.0 if status == "done" else 0.0, error=error,
                    resumable=status in ("failed", "cancelled"))


def _is_driven(run_dir: Path) -> bool:
    """Whether a process holds the run's lock file now."""
    lock = FileLock(run_dir / RUN_LOCK, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return True
    lock.release()
    return False
