"""The run engine: the one API every interface (CLI, desktop, server) uses.

Start a run, stream its events, answer its interrupts, resume it after a crash, cancel it,
list past runs. Each run is a checkpointer thread (``thread_id`` = run id) in a SQLite
checkpointer, so a run killed at any point resumes from its last finished node.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic
from typing import IO, Any, Literal

import openai
from filelock import FileLock, Timeout
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command, Interrupt, StateSnapshot
from pydantic import BaseModel, Field

from agents.budget import RunBudget, RunSpending
from agents.cassette import CassetteError, CassetteRecorder
from agents.config import BudgetExceeded, Limits
from agents.context import Context, RunCancelled, Services
from agents.models import (
    ModelConfigError,
    ModelRef,
    ModelSelector,
    ProviderAuthError,
    ProviderUnavailable,
    list_models,
)
from agents.state import RunState
from agents.structured import AnswerFormatError
from graph.builder import build_graph
from graph.diagnostics import Health, diagnose
from graph.errors import InputError
from graph.history import RunHistory, open_archive
from graph.memory import open_recall
from graph.sandboxes import BackendChoice, choose_backend, open_sandbox
from graph.settings import Settings, lookup_key
from memory.recall import Recall
from memory.records import RunNotFound, RunRecord
from memory.redaction import Redactor
from memory.retention import apply_retention
from memory.run_index import RunRow
from tools.actions import Policy, default_registry
from tools.appenv import AppEnvironment
from tools.web import WebClient, WebError

_log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
#: Seconds after a failure to open semantic memory before a new run tries again.
MEMORY_RETRY_S = 60.0
RUN_LOCK = ".lock"
CANCEL_FLAG = "CANCEL"
#: A run in one of these has ended for good; failed and cancelled runs can still be resumed.
ENDED_STATUSES = ("done", "refused", "rejected", "stopped")
#: The event written when the engine resumes a run with an answer (naming the interrupt's id).
ANSWERED_EVENT = "interrupt_answered"


def _kind_of(value: Any) -> str | None:
    """The ``kind`` of an interrupt payload (None when the payload is not a mapping)."""
    return str(value.get("kind")) if isinstance(value, Mapping) else None


@dataclass(frozen=True)
class RunEvent:
    """One item of a run's event stream.

    ``kind``: "progress" (node started, tool call, check result ...), "interrupt" (the run
    waits for a decision; ``data`` is the interrupt payload), "finished" (``data["status"]``,
    ``"artifact"``, ``"error"``, ``"run_dir"`` and ``"report"``: report.md's path or None),
    or "failed" (``data["error"]``; the run is saved and resumable; a run stopped at a budget
    also has ``data["budget"]``, ``data["limit"]`` and ``data["spent"]``).
    """

    run_id: str
    kind: Literal["progress", "interrupt", "finished", "failed"]
    data: dict[str, Any] = field(default_factory=dict)


class RunConfig(BaseModel):
    """What a run was started with; saved as ``run.json`` so it resumes the same way."""

    task: str
    models: dict[str, list[str]]
    attachments: list[str] = Field(default_factory=list)
    sandbox: str = Field(default="local", description="Sandbox backend: docker, bwrap, local")
    sandbox_reason: str = ""
    created_at: str
    limits: dict[str, float | None] = Field(
        default_factory=dict, description="Budget overrides of this run (see LIMIT_OPTIONS);"
        " None: no limit")
    forked_from: dict[str, str] | None = Field(
        default=None, description="A fork's origin (`runs fork`, graph.replay): run_id,"
        " checkpoint_id and the node that wrote that checkpoint")
    replay_of: str | None = Field(
        default=None, description="The run this one replays from its cassette (`runs replay`)")


#: The run budgets a person may set per run (``build``/``resume`` options), by field of
#: :class:`agents.config.Limits`.
LIMIT_OPTIONS = ("max_tokens", "max_cost_usd", "max_model_calls", "max_wall_time_s")


def new_run_id() -> str:
    """A sortable, unique run id: ``20261121-190000-a1b2c3``."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class Engine:
    """Runs the graph for the interfaces.

    Args:
        settings: the validated settings (data dir, providers, models, limits).

    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.runs_dir.mkdir(parents=True, exist_ok=True)
        self.history = RunHistory(settings)
        self.index = self.history.index
        self.redactor = Redactor.from_environment()
        self.archive, self.archive_check = open_archive(settings)
        connection = sqlite3.connect(settings.data_dir / "checkpoints.sqlite",
                                     check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        self.checkpointer = SqliteSaver(connection)
        self.graph = build_graph().compile(checkpointer=self.checkpointer)
        self._log_records: list[RunRecord] = []
        # semantic memory (recall and learning): opened on first use; after a failure, tried
        # again once MEMORY_RETRY_S have passed (see _memory)
        self._recall: Recall | None = None
        self._recall_error: str | None = None
        self._recall_opened = False
        self._recall_failed_at: float | None = None  # time.monotonic() of the last failure
        self._recall_lock = threading.Lock()
        self._recall_warned: set[str] = set()

    # -- starting ---------------------------------------------------------------------------

    def model_roles(self, overrides: Mapping[str, Sequence[str]] | None = None
                    ) -> dict[str, list[ModelRef]]:
        """The settings' models per role, with ``overrides`` (role -> references) applied.

        Raises:
            InputError: an unknown role or a malformed reference.

        """
        roles = self.settings.models.refs()
        for role, refs in (overrides or {}).items():
            if role not in roles:
                raise InputError(f"unknown role '{role}' (roles: planner, coder, judge)")
            try:
                roles[role] = [ModelRef.parse(r) for r in refs]
            except ModelConfigError as exc:
                raise InputError(str(exc)) from None
        return roles

    def check_models(self, roles: Mapping[str, Sequence[ModelRef]], *, remote: bool = True
                     ) -> None:
        """Check providers, models and keys, and (``remote``) that each provider accepts its key.

        Raises:
            InputError: the one-line reason (unknown provider or model, missing key naming the
                variable to set, key refused).

        """
        selector = ModelSelector(roles=roles, providers=self.settings.providers,
                                 key_lookup=lookup_key)
        try:
            selector.validate()
            if remote:
                selector.preflight()
        except (ModelConfigError, ProviderAuthError, CassetteError) as exc:
            raise InputError(str(exc)) from None

    def start(self, task: str, *, models: Mapping[str, Sequence[str]] | None = None,
              attachments: Sequence[Path] = (), sandbox: str | None = None,
              limits: Mapping[str, float | None] | None = None) -> str:
        """Validate everything, then create the run (folder, index row, ``run.json``).

        Nothing is written when validation fails. The run does not execute until
        :meth:`stream` is called.

        Raises:
            InputError: empty task, bad model reference, missing key, refused key, missing or
                too large attachment, no usable sandbox (``sandbox`` names a backend for this
                run: docker, bwrap or local; the settings decide when None), a bad
                budget in ``limits`` (see :meth:`set_limits`).

        """
        task = task.strip()
        overrides = self._check_limits(limits or {})
        if not task:
            raise InputError("the task is empty: describe the application to build")
        roles = self.model_roles(models)
        for path in attachments:
            if not path.is_file():
                raise InputError(f"attachment not found: {path}")
            if path.stat().st_size > MAX_ATTACHMENT_BYTES:
                raise InputError(f"attachment {path.name} is larger than 50 MB")
        choice = choose_backend(self.settings.sandbox, sandbox)
        self.check_models(roles)
        self._apply_retention()
        run_id = new_run_id()
        self._create_run(run_id, task, roles, attachments, choice, overrides)
        return run_id

    @staticmethod
    def _check_limits(limits: Mapping[str, float | None]) -> dict[str, float | None]:
        checked: dict[str, float | None] = {}
        for name, value in limits.items():
            if name not in LIMIT_OPTIONS:
                raise InputError(f"unknown budget '{name}' (budgets: {', '.join(LIMIT_OPTIONS)})")
            if value is not None and value < 0:
                raise InputError(f"the budget {name} cannot be negative ({value})")
            checked[name] = None if not value else (
                int(value) if name in ("max_tokens", "max_model_calls") else float(value))
        return checked

    def run_limits(self, config: RunConfig) -> Limits:
        """The limits of a run: the settings' limits with the run's own overrides applied."""
        return replace(self.settings.limits.to_limits(), **config.limits)  # type: ignore[arg-type]

    def set_limits(self, run_id: str, limits: Mapping[str, float | None]) -> Limits:
        """Change a run's budgets (``resume --max-tokens N`` ...); kept in its ``run.json``.

        Args:
            run_id: the run.
            limits: field of :data:`LIMIT_OPTIONS` -> new limit (tokens, USD, calls, seconds);
                0 or None means no limit. Budgets not named keep their value.

        Returns:
            The run's limits from now on.

        Raises:
            InputError: no such run, an unknown budget or a negative value.

        """
        overrides = self._check_limits(limits)
        record = self._open_record(run_id)
        try:
            config = self._run_config(record)
            if overrides:
                config = config.model_copy(update={"limits": config.limits | overrides})
                record.write_json("run.json", config.model_dump())
                record.event("limits_changed", **overrides)
            return self.run_limits(config)
        finally:
            record.close()

    def spending(self, run_id: str) -> RunSpending:
        """What a run has spent so far (tokens, calls, cost, active time, budget stops).

        Raises:
            InputError: no such run.

        """
        run = self.get_run(run_id)
        return RunSpending.read(Path(run.run_dir), self.settings.providers)

    def _create_run(self, run_id: str, task: str, roles: Mapping[str, Sequence[ModelRef]],
                    attachments: Sequence[Path] = (), choice: BackendChoice | None = None,
                    limits: Mapping[str, float | None] | None = None,
                    origin: Mapping[str, Any] | None = None) -> None:
        """Create the run folder, copy the attachments, write ``run.json``, add the index row.

        ``origin`` sets more :class:`RunConfig` fields (a fork's ``forked_from`` and
        ``attachments``, a replay's ``replay_of``: see :mod:`graph.replay`).
        """
        record = RunRecord.create(self.settings.runs_dir, run_id, self.redactor,
                                  archive=self.archive)
        names = []
        for path in attachments:
            target = record.workspace / "inputs" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            names.append(f"inputs/{path.name}")
        models = {role: [str(m) for m in refs] for role, refs in roles.items()}
        choice = choice or choose_backend(self.settings.sandbox)
        config = RunConfig(task=task, models=models, attachments=names,
                           created_at=datetime.now(UTC).isoformat(), sandbox=choice.name,
                           sandbox_reason=choice.reason, limits=dict(limits or {}))
        if origin:
            config = RunConfig.model_validate(config.model_dump() | dict(origin))
        record.write_json("run.json", config.model_dump())
        record.event("run_created", task=task, models=config.models)
        record.event("sandbox_chosen", backend=choice.name, isolated=choice.isolated,
                     reason=choice.reason)
        record.close()
        self.index.add(run_id, task, str(record.run_dir), status="created")

    def adopt(self, run_id: str, task: str) -> None:
        """Create the records of a run whose thread was started elsewhere (LangGraph Studio).

        Does nothing when the run exists. Models come from the settings.
        """
        if not (self.settings.runs_dir / run_id).exists():
            self._create_run(run_id, task, self.model_roles())

    def _open_record(self, run_id: str) -> RunRecord:
        try:
            return RunRecord.open(self.settings.runs_dir, run_id, self.redactor,
                                  archive=self.archive)
        except RunNotFound:
            raise InputError(f"no run '{run_id}' (see `multicoder runs list`)") from None

    def _run_config(self, record: RunRecord) -> RunConfig:
        return RunConfig.model_validate_json((record.run_dir / "run.json").read_text("utf-8"))

    def sandbox_of(self, run_id: str) -> tuple[str, bool, str]:
        """``(backend, isolated, reason)`` of a run: where its generated code runs and why.

        Raises:
            InputError: no such run.

        """
        record = self._open_record(run_id)
        try:
            config = self._run_config(record)
        finally:
            record.close()
        return config.sandbox, config.sandbox != "local", config.sandbox_reason

    def health(self, *, offline: bool = False) -> list[Health]:
        """The health of every component (see :func:`graph.diagnostics.diagnose`).

        The same rows ``multicoder doctor`` prints; the desktop's status panel shows them.
        """
        return diagnose(self.settings, offline=offline)

    def attach_log(self, run_id: str, stream: IO[str]) -> None:
        """Copy the run's program.log lines to ``stream`` as well (the CLI's ``--verbose``).

        Raises:
            InputError: no such run.

        """
        record = self._open_record(run_id)
        record.attach_stream(stream)
        self._log_records.append(record)  # the copy lasts as long as this record stays open

    # -- running ----------------------------------------------------------------------------

    def services(self, run_id: str) -> Services:
        """Build a run's services from its folder and ``run.json``.

        Raises:
            InputError: no such run.

        """
        record = self._open_record(run_id)
        config = self._run_config(record)
        roles = self.model_roles(config.models)
        for refs in roles.values():
            for ref in refs:
                provider = self.settings.providers.get(ref.provider)
                key = lookup_key(ref.provider, provider) if provider else None
                if key:
                    self.redactor.add(key)

        def on_model_event(event: dict[str, Any]) -> None:
            data = dict(event)
            record.event(str(data.pop("type", "model")), **data)

        limits = self.run_limits(config)
        models = ModelSelector(
            roles=roles, providers=self.settings.providers, key_lookup=lookup_key,
            recorder=CassetteRecorder(record.run_dir / "cassette.jsonl", self.redactor),
            on_event=on_model_event,
            budget=RunBudget.restore(record.run_dir, limits, self.settings.providers, run_id))
        sandbox = open_sandbox(config.sandbox, self.settings.sandbox, record.workspace,
                               writable=[record.dist_dir])
        cancel_flag = record.run_dir / CANCEL_FLAG
        return Services(
            record=record, models=models, sandbox=sandbox,
            environment=AppEnvironment(record.workspace, sandbox),
            registry=default_registry(web=self.settings.web.enabled),
            policy=Policy(workspace=record.workspace),
            limits=limits, cancelled=cancel_flag.exists,
            # a replay is offline: no live web, whichever engine drives it (graph.replay)
            web=None if config.replay_of else self._web_client(),
            memory=self._memory(record))

    def warm_up(self) -> None:
        """Open semantic memory now, so an interactive app's first run does not wait for it.

        Importing its libraries takes several seconds on a weak PC. Never raises: a failure is
        kept and reported by the first run, as when a run opens it.
        """
        with self._recall_lock:
            if self._recall_opened:
                return
            self._recall_opened = True
            try:
                self._recall = open_recall(self.settings, redactor=self.redactor)
            except Exception as exc:  # memory is a help, never a reason to fail
                self._recall_error = f"{type(exc).__name__}: {exc}"
                self._recall_failed_at = monotonic()

    def _memory(self, record: RunRecord) -> Recall | None:
        """Semantic memory for the run's recall and learning (None: off or unavailable).

        Opened on first use and then kept for the engine's life. A failure to open it (a
        damaged or busy store, a malformed ``memory.embeddings``) does not stop the run: the
        reason goes to the run's program.log and the run goes on without recall; the first run
        started (or resumed) :data:`MEMORY_RETRY_S` seconds or more after the failure tries
        again, so a lock that was busy at start-up does not switch memory off for good.
        """
        with self._recall_lock:
            retry = (self._recall_failed_at is not None
                     and monotonic() - self._recall_failed_at >= MEMORY_RETRY_S)
            if not self._recall_opened or retry:
                self._recall_opened = True
                try:
                    self._recall = open_recall(self.settings, redactor=self.redactor)
                    self._recall_error = self._recall_failed_at = None
                except Exception as exc:  # memory is a help, never a reason to fail a run
                    self._recall_error = f"{type(exc).__name__}: {exc}"
                    self._recall_failed_at = monotonic()
            if self._recall_error is not None and record.run_id not in self._recall_warned:
                self._recall_warned.add(record.run_id)
                record.logger.warning("semantic memory is unavailable, the run goes on without"
                                      " recall: %s", self._recall_error)
        return self._recall

    def _web_client(self) -> WebClient | None:
        """The coder's web client from ``[web]`` (None when off); the token is redacted.

        Raises:
            InputError: a ``[web]`` address is not http(s).

        """
        web = self.settings.web
        if not web.enabled:
            return None
        token = os.environ.get(web.github_token_env) or None
        if token:
            self.redactor.add(token)
        try:
            return web.client(self.settings.data_dir, token)
        except WebError as exc:
            raise InputError(f"invalid [web] setting: {exc}") from None

    def stream(self, run_id: str, decision: Mapping[str, Any] | None = None
               ) -> Iterator[RunEvent]:
        """Run (or continue) a run until it waits for a person or ends, yielding its events.

        One process at a time drives a run: a lock file in the run folder is held while this
        generator runs.

        Args:
            run_id: the run.
            decision: the answer to the pending interrupt, if the run waits for one. It is
                sent naming that interrupt's id, so it answers that question only.

        Raises:
            InputError: no such run, another process is running it now, or a ``decision``
                was given while the run waits for none.

        """
        services = self.services(run_id)
        record = services.record
        lock = FileLock(record.run_dir / RUN_LOCK, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            record.close()
            raise InputError(f"run '{run_id}' is being run by another process right now"
                             " (`multicoder cancel` stops it)") from None
        try:
            yield from self._stream_locked(run_id, services, decision)
        finally:
            services.sandbox.close()
            if services.web is not None:
                services.web.close()
            record.close()  # this also syncs the run's last lines into the archive
            lock.release()

    def _stream_locked(self, run_id: str, services: Services,
                       decision: Mapping[str, Any] | None) -> Iterator[RunEvent]:
        record = services.record
        (record.run_dir / CANCEL_FLAG).unlink(missing_ok=True)
        record.event("session_started")  # the run's active time is summed per session (budgets)
        config: RunnableConfig = {"configurable": {"thread_id": run_id}}
        snapshot = self.graph.get_state(config)
        pending = self._pending_interrupt(snapshot, record)
        payload: Any
        if decision is not None:
            if pending is None:
                raise InputError(f"run '{run_id}' is not waiting for a decision")
            # the answer names its interrupt, so it answers that question only: when the node
            # stops later (a budget, a cancel, an error) and is resumed without an answer, a
            # new question is asked, never answered with this one (langgraph would hand an
            # unnamed answer to the next new interrupt)
            record.event(ANSWERED_EVENT, interrupt_id=pending.id,
                         interrupt=_kind_of(pending.value))
            payload = Command(resume={pending.id: dict(decision)})
        elif snapshot.created_at is None:
            run_config = self._run_config(record)
            initial: RunState = {"run_id": run_id, "task": run_config.task, "task_revision": 0,
                                 "attachments": run_config.attachments, "round": 0,
                                 "rounds_allowed": self.settings.limits.max_repair_rounds,
                                 "plan_revision": 0, "status": "running"}
            payload = initial
        elif pending is not None:
            yield self._interrupt_event(run_id, pending, record)
            return
        elif snapshot.next or snapshot.tasks:
            # tasks without next: a node finished but the process died before the checkpoint
            payload = None
            record.event("run_resumed", next=list(snapshot.next))
        else:
            yield self._finished_event(run_id, snapshot.values)
            return
        self.index.update(run_id, status="running", error=None)
        try:
            for mode, chunk in self.graph.stream(
                    payload, config, context=Context(run_id=run_id, services=services),
                    stream_mode=["updates", "custom"], durability="sync"):
                if mode == "custom" and isinstance(chunk, Mapping):
                    yield RunEvent(run_id, "progress", dict(chunk))
                elif isinstance(chunk, dict) and "__interrupt__" in chunk:
                    yield self._interrupt_event(run_id, chunk["__interrupt__"][0], record)
                    return
        except KeyboardInterrupt:
            self.index.update(run_id, status="cancelled", error="interrupted (Ctrl+C)")
            record.event("run_cancelled", reason="keyboard interrupt")
            raise
        except RunCancelled:
            self.index.update(run_id, status="cancelled", error="cancelled by the person")
            record.event("run_cancelled")
            yield RunEvent(run_id, "failed", {"error": "cancelled", "resumable": True})
            return
        except BudgetExceeded as exc:
            # the node that asked has not finished: its checkpoint is intact and it runs again
            # (from its snapshot, replaying the answers already recorded) once raised
            self.index.update(run_id, status="cancelled", error=str(exc))
            record.event("budget_exceeded", budget=exc.budget, limit=exc.limit,
                         spent=exc.spent, error=str(exc))
            yield RunEvent(run_id, "failed", {"error": str(exc), "resumable": True,
                                              "budget": exc.budget, "limit": exc.limit,
                                              "spent": exc.spent})
            return
        except (ProviderAuthError, ProviderUnavailable, CassetteError, AnswerFormatError,
                ModelConfigError) as exc:
            yield self._failed(run_id, record, str(exc))
            return
        except Exception as exc:  # a bug must not lose the run: record it, keep it resumable
            record.logger.exception("internal error")
            yield self._failed(run_id, record, f"internal error: {type(exc).__name__}: {exc}")
            return
        yield self._finished_event(run_id, self.graph.get_state(config).values)

    def _failed(self, run_id: str, record: RunRecord, error: str) -> RunEvent:
        self.index.update(run_id, status="failed", error=error)
        record.event("run_failed", error=error, resumable=True)
        return RunEvent(run_id, "failed", {"error": error, "resumable": True})

    @staticmethod
    def _pending_interrupt(snapshot: StateSnapshot, record: RunRecord) -> Interrupt | None:
        """The interrupt that waits for the person's answer, or None.

        LangGraph still lists an interrupt whose answer its node consumed when the node then
        stopped (a budget, a cancel, an error): it is the last question that task asked. Such an
        interrupt is not shown again: the run's events say it was answered (``interrupt_answered``
        after the last ``interrupt`` event naming its id), and resuming re-runs the node with the
        stored answer. An answer the node never reached is lost with the stop; the node then
        asks the same question again (same id), and that ``interrupt`` event makes it pending.
        """
        if not snapshot.interrupts:
            return None
        last: dict[str, str] = {}
        for event in record.iter_events():
            if event.get("type") in ("interrupt", ANSWERED_EVENT) and event.get("interrupt_id"):
                last[str(event["interrupt_id"])] = str(event["type"])
        for interrupt in snapshot.interrupts:
            if last.get(interrupt.id) != ANSWERED_EVENT:
                return interrupt
        return None

    def _interrupt_event(self, run_id: str, interrupt: Interrupt, record: RunRecord) -> RunEvent:
        value = interrupt.value
        payload = dict(value) if isinstance(value, Mapping) else {"summary": str(value)}
        record.event("interrupt", interrupt=payload.get("kind"), summary=payload.get("summary"),
                     interrupt_id=interrupt.id)
        record.chat("multicoder → person", str(payload.get("summary", "")), kind="interrupt",
                    title=str(payload.get("kind", "question")))
        self.index.update(run_id, status="waiting")
        return RunEvent(run_id, "interrupt", payload)

    def _finished_event(self, run_id: str, values: Mapping[str, Any]) -> RunEvent:
        status = str(values.get("status", "failed"))
        artifact = values.get("artifact") or {}
        self.index.update(run_id, status=status, artifact=str(artifact.get("path", "")) or None,
                          outcome=status, error=values.get("error") if status != "done" else None)
        run_dir = Path(self.get_run(run_id).run_dir)
        report = run_dir / "report.md"
        return RunEvent(run_id, "finished", {"status": status, "artifact": artifact,
                                             "error": values.get("error"),
                                             "run_dir": str(run_dir),
                                             "report": str(report) if report.is_file() else None})

    # -- control and history ----------------------------------------------------------------

    def cancel(self, run_id: str) -> None:
        """Stop a run: a running one at its next step, a paused or failed one at once.

        Either way it stays resumable.

        Raises:
            InputError: no such run, or it has already ended.

        """
        run = self.get_run(run_id)
        if run.status in ENDED_STATUSES:
            raise InputError(f"run '{run_id}' has already ended ({run.status})")
        run_dir = Path(run.run_dir)
        lock = FileLock(run_dir / RUN_LOCK, timeout=0)
        try:
            lock.acquire()
        except Timeout:  # a process is running it: it stops at its next step
            (run_dir / CANCEL_FLAG).touch()
            return
        try:
            self.index.update(run_id, status="cancelled", error="cancelled by the person")
        finally:
            lock.release()

    def get_run(self, run_id: str) -> RunRow:
        """The index row of a run (see :meth:`RunHistory.get`).

        Raises:
            InputError: no such run.

        """
        return self.history.get(run_id)

    def list_runs(self, limit: int = 50) -> list[RunRow]:
        """Runs, newest first."""
        return self.history.list(limit)

    def state(self, run_id: str) -> dict[str, Any]:
        """The run's latest graph state values (empty before it started)."""
        self.get_run(run_id)
        config: RunnableConfig = {"configurable": {"thread_id": run_id}}
        return dict(self.graph.get_state(config).values)

    def export_artifact(self, run_id: str, out_dir: Path) -> Path:
        """Copy a finished run's executable into ``out_dir``; returns the copy's path.

        Raises:
            InputError: the run has no artifact.

        """
        artifact = self.state(run_id).get("artifact") or {}
        source = Path(str(artifact.get("path", "")))
        if not artifact or not source.is_file():
            raise InputError(f"run '{run_id}' has no executable")
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / source.name
        shutil.copy2(source, target)
        return target

    def provider_models(self, provider: str) -> list[str]:
        """The models an OpenAI-compatible provider offers (this also proves its key works).

        Raises:
            InputError: unknown provider, no key, key refused, or the provider cannot answer.

        """
        config = self.settings.providers.get(provider)
        if config is None or config.kind != "openai":
            known = ", ".join(n for n, p in sorted(self.settings.providers.items())
                              if p.kind == "openai")
            raise InputError(f"unknown OpenAI-compatible provider '{provider}' (known: {known})")
        key = lookup_key(provider, config)
        if config.needs_key and not key:
            raise InputError(f"no API key for {provider}: set {config.api_key_env}")
        try:
            return list_models(provider, config, key)
        except (ProviderAuthError, ProviderUnavailable) as exc:
            raise InputError(str(exc)) from None
        except openai.NotFoundError:
            raise InputError(f"provider '{provider}' does not list its models") from None

    def _apply_retention(self) -> None:
        """Remove old finished runs (:func:`memory.retention.apply_retention`).

        Nothing is removed while the archive is not open: a folder goes only once the archive
        holds every line of it.
        """
        if self.archive is None:
            # the start-up notice already told the person why the archive is not open
            _log.info("retention skipped: the archive is not open (%s)",
                      self.archive_check.detail)
            return
        removed = apply_retention(self.index, self.settings.runs_dir, archive=self.archive,
                                  keep_days=self.settings.retention_days,
                                  keep_last=self.settings.retention_keep_last)
        for run_id in removed:  # their checkpoints go too, so the database stays small
            self.checkpointer.delete_thread(run_id)
