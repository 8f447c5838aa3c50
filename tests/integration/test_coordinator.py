"""The coordinator drives runs off the caller's thread: queue, priorities, cancel, regenerate.

Runs replay the notes-sqlite cassette offline (local sandbox). To hold a run "running" while
the test queues more work, ``on_event`` blocks the worker at the run's first event (the
worker is inside :meth:`Engine.stream` then, holding the run's lock).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from graph.coordinator import STAGES, Coordinator, TaskInfo
from graph.engine import Engine, RunEvent
from graph.errors import InputError

REPLAY = {role: ["replay:notes-sqlite"] for role in ("planner", "coder", "judge")}
TASK = (Path(__file__).resolve().parents[2] / "datasets" / "tasks" / "notes-sqlite.md"
        ).read_text(encoding="utf-8")
WAIT_S = 60.0


class Events:
    """Collects the coordinator's events (with the thread that delivered each); can hold a
    worker at a run's first event until released, and can raise after recording."""

    def __init__(self, *, hold_first: bool = False, raise_on: str | None = None) -> None:
        self.events: list[tuple[RunEvent, str]] = []
        self.changed = threading.Condition()
        self.hold_first = hold_first  # the first run event of all blocks its worker
        self.held = threading.Event()
        self.release = threading.Event()
        self.raise_on = raise_on

    def __call__(self, event: RunEvent) -> None:
        real = event.data.get("type") != "task_changed"
        with self.changed:
            self.events.append((event, threading.current_thread().name))
            hold = real and self.hold_first and not self.held.is_set()
            if hold:
                self.held.set()
        if hold:
            assert self.release.wait(WAIT_S)
        if self.raise_on and event.data.get("type") == self.raise_on:
            raise RuntimeError("the interface failed")

    def of(self, run_id: str) -> list[RunEvent]:
        with self.changed:
            return [e for e, _ in self.events
                    if e.run_id == run_id and e.data.get("type") != "task_changed"]

    def first_seen(self) -> list[str]:
        """Run ids in the order their first real event arrived."""
        order: list[str] = []
        with self.changed:
            for event, _ in self.events:
                if event.data.get("type") != "task_changed" and event.run_id not in order:
                    order.append(event.run_id)
        return order


@pytest.fixture
def engine(isolated_settings):
    return Engine(isolated_settings)


@pytest.fixture
def make(engine):
    made: list[Coordinator] = []

    def build(events: Events, max_parallel: int = 1) -> Coordinator:
        coordinator = Coordinator(engine, events, max_parallel=max_parallel)
        made.append(coordinator)
        return coordinator

    yield build
    for coordinator in made:
        coordinator.shutdown(timeout_s=30)


def wait_task(coordinator: Coordinator, run_id: str, *statuses: str, stage: str | None = None
              ) -> TaskInfo:
    """Wait until the run's TaskInfo has one of ``statuses`` (and ``stage``)."""
    deadline = threading.Event()
    for _ in range(int(WAIT_S * 20)):
        info = coordinator.task(run_id)
        if info.status in statuses and (stage is None or info.stage == stage):
            return info
        deadline.wait(0.05)
    raise AssertionError(f"run {run_id} never reached {statuses} {stage or ''}: {info}")


def wait_idle(coordinator: Coordinator) -> None:
    for _ in range(int(WAIT_S * 20)):
        if not coordinator.busy():
            return
        threading.Event().wait(0.05)
    raise AssertionError("the coordinator stayed busy")


def test_a_run_waits_at_each_question_and_an_answer_moves_it_on(make, engine):
    events = Events(raise_on="node_started")  # a failing interface does not stop the run
    coordinator = make(events)
    run_id = coordinator.start(TASK, models=REPLAY)

    info = wait_task(coordinator, run_id, "waiting")
    assert info.stage == "confirm_start" and info.progress == dict(STAGES)["confirm_start"] > 0
    assert info.task.startswith("Менеджер заметок") and not info.resumable
    delivered = [(e, thread) for e, thread in events.events if e.run_id == run_id]
    assert all(thread.startswith("coordinator-") for e, thread in delivered
               if e.data.get("type") != "task_changed")  # on a worker, not the caller
    kinds = [e.kind for e in events.of(run_id)]
    assert kinds[0] == "progress" and kinds[-1] == "interrupt"
    assert events.of(run_id)[-1].data["kind"] == "confirm_start"
    assert any(e.data.get("type") == "task_changed" for e, _ in delivered)
    assert engine.get_run(run_id).status == "waiting"

    wait_task(coordinator, run_id, "waiting", stage="confirm_start")
    coordinator.answer(run_id, {"action": "approve"})
    info = wait_task(coordinator, run_id, "waiting", stage="approve_plan")
    assert info.progress == dict(STAGES)["approve_plan"]
    assert events.of(run_id)[-1].data["kind"] == "approve_plan"
    assert run_id in [t.run_id for t in coordinator.tasks()]

    coordinator.answer(run_id, {"action": "edit", "content": "not json"})
    with pytest.raises(InputError, match=r"already queued|running now"):
        coordinator.answer(run_id, {"action": "approve"})  # the first is queued or running
    wait_task(coordinator, run_id, "waiting", stage="approve_plan")
    wait_idle(coordinator)
    assert "not valid" in events.of(run_id)[-1].data["error"]  # asked again
    unstarted = engine.start("a notes manager", models=REPLAY)  # never streamed
    with pytest.raises(InputError, match="does not wait"):
        coordinator.answer(unstarted, {"action": "approve"})
    with pytest.raises(InputError, match="no run"):
        coordinator.answer("20990101-000000-000000", {"action": "approve"})


def test_higher_priority_runs_first_and_a_queued_run_can_be_cancelled(make, engine):
    events = Events(hold_first=True)
    coordinator = make(events, max_parallel=1)
    first = coordinator.start("notes manager one", models=REPLAY)
    assert events.held.wait(WAIT_S)  # the worker is inside the first run's stream
    assert coordinator.task(first).status == "running"
    low = coordinator.start("notes manager low", models=REPLAY, priority=0)
    high = coordinator.start("notes manager high", models=REPLAY, priority=5)
    middle = coordinator.start("notes manager middle", models=REPLAY, priority=1)
    dropped = coordinator.start("notes manager dropped", models=REPLAY, priority=9)
    coordinator.set_priority(low, 3)  # moves ahead of middle
    coordinator.cancel(dropped)

    assert coordinator.task(dropped).status == "cancelled"
    assert coordinator.task(dropped).resumable
    assert engine.get_run(dropped).status == "cancelled"
    queued = [t.run_id for t in coordinator.tasks() if t.status == "queued"]
    assert queued == [high, low, middle]
    assert coordinator.busy()

    events.release.set()
    for run_id in (first, high, low, middle):
        wait_task(coordinator, run_id, "waiting", stage="confirm_start")
    wait_idle(coordinator)
    assert [r for r in events.first_seen() if r != dropped] == [first, high, low, middle]
    assert [e.kind for e in events.of(dropped)] == ["failed"]  # it never ran
    assert events.of(dropped)[0].data["error"] == "cancelled"
    assert coordinator.task(low).priority == 3

    coordinator.resume(dropped)  # still resumable: it starts now
    wait_task(coordinator, dropped, "waiting", stage="confirm_start")


def test_cancelling_a_running_run_stops_it_and_resume_goes_on(make, engine):
    events = Events(hold_first=True)
    coordinator = make(events)
    run_id = coordinator.start("a notes manager", models=REPLAY)
    assert events.held.wait(WAIT_S)
    assert coordinator.task(run_id).status == "running"
    coordinator.cancel(run_id)  # the worker is inside the stream: the CANCEL flag
    assert coordinator.task(run_id).status == "running"  # until it stops at its next step
    events.release.set()

    info = wait_task(coordinator, run_id, "cancelled")
    assert info.resumable and info.error
    assert engine.get_run(run_id).status == "cancelled"
    wait_idle(coordinator)

    coordinator.resume(run_id)
    info = wait_task(coordinator, run_id, "waiting", stage="confirm_start")
    assert info.error is None
    coordinator.cancel(run_id)  # a waiting run is marked cancelled at once
    assert coordinator.task(run_id).status == "cancelled"
    assert engine.get_run(run_id).status == "cancelled"
    coordinator.answer(run_id, {"action": "approve"})  # its question still waits
    wait_task(coordinator, run_id, "waiting", stage="approve_plan")


def test_regenerate_runs_again_from_the_checkpoint_before_the_last_step(make, engine):
    events = Events()
    coordinator = make(events)
    run_id = coordinator.start("a notes manager", models=REPLAY, priority=2)
    wait_task(coordinator, run_id, "waiting", stage="confirm_start")
    coordinator.answer(run_id, {"action": "approve"})
    wait_task(coordinator, run_id, "waiting", stage="approve_plan")

    new_id = coordinator.regenerate(run_id)
    assert new_id != run_id and coordinator.task(new_id).priority == 2
    info = wait_task(coordinator, new_id, "waiting", stage="approve_plan")
    assert info.task == coordinator.task(run_id).task
    started = [e.data["node"] for e in events.of(new_id) if e.data.get("type") == "node_started"]
    assert started == ["planner", "approve_plan"]  # the planner ran again, nothing before it
    config = (Path(engine.get_run(new_id).run_dir) / "run.json").read_text(encoding="utf-8")
    assert run_id in config  # forked_from names the original
    assert engine.get_run(run_id).status == "waiting"  # the original is untouched

    fresh = coordinator.start("another notes manager", models=REPLAY)
    wait_task(coordinator, fresh, "waiting", stage="confirm_start")
    again = coordinator.regenerate(fresh)  # before the safety gate: it judges again
    wait_task(coordinator, again, "waiting", stage="confirm_start")


def test_shutdown_cancels_queued_work_and_joins_the_workers(make, engine):
    events = Events()
    coordinator = make(events, max_parallel=2)
    workers = list(coordinator._workers)
    assert len(workers) == 2 and all(t.is_alive() for t in workers)
    first = coordinator.start("notes manager one", models=REPLAY)
    wait_task(coordinator, first, "waiting")
    coordinator.shutdown(wait=True, timeout_s=30)

    assert not any(t.is_alive() for t in workers)
    assert not coordinator.busy()
    with pytest.raises(InputError, match="shut down"):
        coordinator.start("a notes manager", models=REPLAY)
    assert engine.get_run(first).status == "waiting"  # a waiting run is left as it is


def test_shutdown_while_a_run_works_stops_it_resumably(make, engine):
    events = Events(hold_first=True)
    coordinator = make(events, max_parallel=1)
    running = coordinator.start("notes manager one", models=REPLAY)
    assert events.held.wait(WAIT_S)
    queued = coordinator.start("notes manager two", models=REPLAY)
    coordinator.shutdown(wait=False)
    assert coordinator.task(queued).status == "cancelled"
    assert engine.get_run(queued).status == "cancelled"
    events.release.set()
    coordinator.shutdown(wait=True, timeout_s=30)
    assert not coordinator.busy()
    assert coordinator.task(running).status == "cancelled"
    assert coordinator.task(running).resumable


def test_bad_input_creates_and_queues_nothing(make, engine):
    coordinator = make(Events())
    with pytest.raises(InputError, match="empty"):
        coordinator.start("   ", models=REPLAY)
    with pytest.raises(InputError):
        coordinator.start("a notes manager", models={"coder": ["nowhere:model"]})
    assert engine.list_runs() == [] and not coordinator.busy()
    with pytest.raises(InputError, match="no run"):
        coordinator.task("20990101-000000-000000")
    with pytest.raises(InputError, match="no run"):
        coordinator.cancel("20990101-000000-000000")
    with pytest.raises(InputError):
        Coordinator(engine, Events(), max_parallel=0)


def test_a_cancel_as_the_run_reaches_its_question_leaves_it_cancelled(make, engine,
                                                                    monkeypatch):
    events = Events()
    coordinator = make(events)
    track = coordinator._track
    cancelled: list[str] = []

    def track_then_cancel(event: RunEvent) -> bool:
        changed = track(event)
        if event.kind == "interrupt" and not cancelled:  # the run is not freed yet
            cancelled.append(event.run_id)
            coordinator.cancel(event.run_id)
        return changed

    monkeypatch.setattr(coordinator, "_track", track_then_cancel)
    run_id = coordinator.start("a notes manager", models=REPLAY)
    info = wait_task(coordinator, run_id, "cancelled")
    wait_idle(coordinator)
    assert cancelled == [run_id] and info.resumable and info.error
    assert [e.kind for e in events.of(run_id)][-2:] == ["interrupt", "failed"]
    assert events.of(run_id)[-1].data["error"] == "cancelled"
    assert engine.get_run(run_id).status == "cancelled"
    coordinator.answer(run_id, {"action": "approve"})  # its question still waits
    wait_task(coordinator, run_id, "waiting", stage="approve_plan")


def test_a_run_created_as_the_coordinator_shuts_down_is_kept_cancelled(make, engine,
                                                                      monkeypatch):
    events = Events()
    coordinator = make(events)
    created: list[str] = []
    start = engine.start

    def start_then_shutdown(*args, **kwargs) -> str:
        run_id = start(*args, **kwargs)
        created.append(run_id)
        coordinator.shutdown(wait=False)  # the window closed meanwhile
        return run_id

    monkeypatch.setattr(engine, "start", start_then_shutdown)
    with pytest.raises(InputError, match="shutting down"):
        coordinator.start("a notes manager", models=REPLAY)
    (run_id,) = created
    info = coordinator.task(run_id)
    assert info.status == "cancelled" and info.resumable
    assert engine.get_run(run_id).status == "cancelled"
    assert not coordinator.busy()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_restart_replaces_a_worker_that_stopped_and_its_run_can_be_resumed(make, engine):
    class Dying(Events):
        """The first event a worker delivers ends that worker (as an uncaught SystemExit
        does), as it takes its first run."""

        def __call__(self, event: RunEvent) -> None:
            super().__call__(event)
            worker = threading.current_thread().name.startswith("coordinator-")
            if worker and not self.held.is_set():
                self.held.set()
                raise SystemExit

    events = Dying()
    coordinator = make(events)
    assert coordinator.restart() == "The worker is running: there was nothing to restart."
    run_id = coordinator.start("a notes manager", models=REPLAY)
    assert events.held.wait(WAIT_S)
    worker = coordinator._workers[0]
    worker.join(WAIT_S)
    assert not worker.is_alive()
    assert coordinator.busy()  # its run is still counted as running

    assert coordinator.restart() == "1 of 1 workers had stopped and were started again."
    info = coordinator.task(run_id)
    assert info.status == "failed" and info.resumable and "worker" in (info.error or "")
    assert events.of(run_id)[-1].kind == "failed"
    assert not coordinator.busy()
    coordinator.resume(run_id)  # the new worker drives it
    wait_task(coordinator, run_id, "waiting", stage="confirm_start")


def test_an_internal_error_reaches_on_event_without_the_secrets_in_it(make, engine,
                                                                      monkeypatch):
    secret = "plainKEYvalue-7f3a9c2e1b"
    engine.redactor.add(secret)
    events = Events()
    coordinator = make(events)

    def broken(run_id, decision=None):
        raise RuntimeError(f"the provider echoed the key {secret}")

    run_id = engine.start("a notes manager", models=REPLAY)
    monkeypatch.setattr(engine, "stream", broken)
    coordinator.resume(run_id)
    info = wait_task(coordinator, run_id, "failed")
    assert "internal error" in (info.error or "") and secret not in (info.error or "")
    assert all(secret not in str(e.data) for e, _ in events.events)
    assert "[REDACTED]" in events.of(run_id)[-1].data["error"]


@pytest.mark.slow
def test_a_run_answered_twice_builds_its_executable(make, engine):
    events = Events()
    coordinator = make(events)
    run_id = coordinator.start(TASK, models=REPLAY)
    wait_task(coordinator, run_id, "waiting", stage="confirm_start")
    coordinator.answer(run_id, {"action": "approve"})
    wait_task(coordinator, run_id, "waiting", stage="approve_plan")
    coordinator.answer(run_id, {"action": "approve"})
    for _ in range(600 * 10):
        info = coordinator.task(run_id)
        if info.status not in ("queued", "running"):
            break
        threading.Event().wait(0.1)
    assert info.status == "done", info
    assert info.progress == 1.0 and not info.resumable
    finished = events.of(run_id)[-1]
    assert finished.kind == "finished" and Path(finished.data["artifact"]["path"]).is_file()
    stages = [e.data["node"] for e in events.of(run_id) if e.data.get("type") == "node_started"]
    assert {"coder", "paranoid_tester", "packager", "reporter"} <= set(stages)
    with pytest.raises(InputError, match="already ended"):
        coordinator.cancel(run_id)
    with pytest.raises(InputError, match="has ended"):
        coordinator.resume(run_id)
