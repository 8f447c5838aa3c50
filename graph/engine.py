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
from graph.settings import Settings, lookup_key, lookup_keys
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
#: Seconds :meth:`Engine.stream` waits for a run's lock: others hold it only for a moment to
#: see whether the run is driven (:meth:`Engine.cancel`, the task manager), unless a process
#: drives the run.
RUN_LOCK_WAIT_S = 2.0
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
    ``"artifact"``, ``"error"``, ``"run_dir"``, ``"report"``: report.md's path or None,
    ``"title"``: the specification's title or None, ``"checks_passed"``: whether the last
    check round passed), or "failed" (``data["error"]``; the run is saved and resumable; a
    run stopped at a budget also has ``data["budget"]``, ``data["limit"]`` and
    ``data["spent"]``).

    Every event the engine yields has passed through its redactor (:attr:`Engine.redactor`):
    no key it knows, nor anything that looks like one, is in ``data``.
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


def _free_name(target: Path) -> Path:
    """``target``, or ``stem-2.suffix``, ``stem-3.suffix`` ... when that name is taken.

    Two attachments of the same name both reach the run.
    """
    candidate, number = target, 1
    while candidate.exists():
        number += 1
        candidate = target.with_name(f"{target.stem}-{number}{target.suffix}")
    return candidate


def new_run_id() -> str:
    """A sortable, unique run id: ``20261121-190000-a1b2c3``."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class Engine:
    """Runs the graph for the interfaces.

    Args:
        settings: the validated settings (data dir, providers, models, limits). An
            interactive app hands in changed settings with :meth:`apply_settings`.

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
        # id(recall) -> (recall, streaming runs using it): a recall replaced meanwhile
        # (apply_settings, restart) is closed once the last of them ends
        self._recall_users: dict[int, tuple[Recall, int]] = {}
        self._recall_stale = False  # the settings of semantic memory changed: reopen it

    # -- settings -----------------------------------------------------------------------------

    def apply_settings(self, settings: Settings) -> None:
        """Use ``settings`` for every run started or resumed from now on.

        The sandbox backend and its limits, providers, models per role, budgets, paranoid
        mode, web access and retention take effect at the next :meth:`start` or
        :meth:`stream`; a run streaming now keeps the services it started with. When
        ``[memory]`` changed (or the provider of ``PROVIDER:MODEL`` embeddings did),
        semantic memory is closed and reopened at its next use with the new settings.
        Keys the new providers read from the environment are added to :attr:`redactor`
        (keys from the keyring are added when a run uses them).

        Args:
            settings: the validated settings, as :class:`graph.settings.Settings` loads them.

        Raises:
            InputError: ``settings.data_dir`` is not this engine's data folder (nothing is
                applied: the data folder changes when MultiCoder restarts).

        """
        if not _same_path(settings.data_dir, self.settings.data_dir):
            raise InputError("the data folder changes when MultiCoder restarts")
        old, new = self.settings, settings.model_copy(update={"data_dir": self.settings.data_dir})
        for provider in new.providers.values():
            if provider.api_key_env:
                self.redactor.add(os.environ.get(provider.api_key_env))
        if new.web.github_token_env:
            self.redactor.add(os.environ.get(new.web.github_token_env))
        self.settings = new
        if _memory_changed(old, new):
            # without waiting for the memory lock (an opening may take seconds): the next use
            # of semantic memory closes it and opens it with these settings
            self._recall_stale = True

    def restart(self, component: str) -> str:
        """Restart one of the engine's components; returns a sentence saying what happened.

        Args:
            component: ``"memory"``: semantic memory is closed and opened again now (a run
                streaming meanwhile finishes with the one it has); ``"web"``: the web tools
                are checked against the current ``[web]`` settings (each run opens its own
                web client, so nothing stays open between runs).

        Raises:
            InputError: another component (the coordinator restarts its own workers:
                :meth:`graph.coordinator.Coordinator.restart`), or invalid ``[web]`` settings.

        """
        if component == "memory":
            with self._recall_lock:
                self._reset_recall()
                if not self.settings.memory.semantic:
                    self._recall_opened = True
                    return "Semantic memory is off in the settings: there is nothing to open."
                self._open_recall()
                error = self._recall_error
            if error is not None:
                return self.redactor(f"Semantic memory could not be opened again: {error}")
            return "Semantic memory was closed and opened again."
        if component == "web":
            settings = self.settings
            if not settings.web.enabled:
                return "The web tools are off in the settings: there is nothing to restart."
            client = self._web_client(settings)
            if client is not None:
                client.close()
            return ("The web tools are ready: each run opens its own connection with the"
                    " current settings.")
        raise InputError(f"'{component}' cannot be restarted here (components: memory, web)")

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
        settings = self.settings
        self._add_keys(roles, settings)
        selector = ModelSelector(roles=roles, providers=settings.providers,
                                 key_lookup=lookup_key)
        try:
            selector.validate()
            if remote:
                selector.preflight()
        except (ModelConfigError, ProviderAuthError, CassetteError) as exc:
            raise InputError(self.redactor(str(exc))) from None

    def _add_keys(self, roles: Mapping[str, Sequence[ModelRef]], settings: Settings) -> None:
        """Hide the keys of the providers ``roles`` use (environment or keyring)."""
        for name in {ref.provider for refs in roles.values() for ref in refs}:
            provider = settings.providers.get(name)
            for key in lookup_keys(name, provider) if provider else []:
                self.redactor.add(key)  # every key: a refused one rotates to the next

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

    def run_limits(self, config: RunConfig, settings: Settings | None = None) -> Limits:
        """The limits of a run: the settings' limits with the run's own overrides applied.

        ``settings``: the settings to read (default: the engine's current ones).
        """
        limits = (settings or self.settings).limits.to_limits()
        return replace(limits, **config.limits)  # type: ignore[arg-type]

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
            target = _free_name(record.workspace / "inputs" / path.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            names.append(f"inputs/{target.name}")
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
        settings = self.settings  # one version throughout, whatever apply_settings does
        record = self._open_record(run_id)
        config = self._run_config(record)
        roles = self.model_roles(config.models)
        self._add_keys(roles, settings)

        def on_model_event(event: dict[str, Any]) -> None:
            data = dict(event)
            record.event(str(data.pop("type", "model")), **data)

        limits = self.run_limits(config, settings)
        models = ModelSelector(
            roles=roles, providers=settings.providers, key_lookup=lookup_key,
            recorder=CassetteRecorder(record.run_dir / "cassette.jsonl", self.redactor),
            on_event=on_model_event,
            budget=RunBudget.restore(record.run_dir, limits, settings.providers, run_id))
        sandbox = open_sandbox(config.sandbox, settings.sandbox, record.workspace,
                               writable=[record.dist_dir])
        cancel_flag = record.run_dir / CANCEL_FLAG
        return Services(
            record=record, models=models, sandbox=sandbox,
            environment=AppEnvironment(record.workspace, sandbox),
            registry=default_registry(web=settings.web.enabled),
            policy=Policy(workspace=record.workspace),
            limits=limits, cancelled=cancel_flag.exists,
            # a replay is offline: no live web, whichever engine drives it (graph.replay)
            web=None if config.replay_of else self._web_client(settings),
            memory=self._memory(record))

    def warm_up(self) -> None:
        """Open semantic memory now, so an interactive app's first run does not wait for it.

        Importing its libraries takes several seconds on a weak PC. Never raises: a failure is
        kept and reported by the first run, as when a run opens it.
        """
        with self._recall_lock:
            self._refresh_recall()
            if not self._recall_opened:
                self._open_recall()

    def _memory(self, record: RunRecord) -> Recall | None:
        """Semantic memory for the run's recall and learning (None: off or unavailable).

        Opened on first use and then kept for the engine's life. A failure to open it (a
        damaged or busy store, a malformed ``memory.embeddings``) does not stop the run: the
        reason goes to the run's program.log and the run goes on without recall; the first run
        started (or resumed) :data:`MEMORY_RETRY_S` seconds or more after the failure tries
        again, so a lock that was busy at start-up does not switch memory off for good.
        """
        with self._recall_lock:
            self._refresh_recall()
            retry = (self._recall_failed_at is not None
                     and monotonic() - self._recall_failed_at >= MEMORY_RETRY_S)
            if not self._recall_opened or retry:
                self._open_recall()
            if self._recall_error is not None and record.run_id not in self._recall_warned:
                self._recall_warned.add(record.run_id)
                record.logger.warning("semantic memory is unavailable, the run goes on without"
                                      " recall: %s", self._recall_error)
        return self._recall

    def _open_recall(self) -> None:
        """``_recall_lock`` held. Open semantic memory now; a failure is kept, never raised."""
        self._recall_opened = True
        try:
            self._recall = open_recall(self.settings, redactor=self.redactor)
            self._recall_error = self._recall_failed_at = None
        except Exception as exc:  # memory is a help, never a reason to fail a run
            self._recall = None
            self._recall_error = self.redactor(f"{type(exc).__name__}: {exc}")
            self._recall_failed_at = monotonic()

    def _refresh_recall(self) -> None:
        """``_recall_lock`` held. Forget semantic memory when its settings changed."""
        if self._recall_stale:
            self._recall_stale = False
            self._reset_recall()

    def _reset_recall(self) -> None:
        """``_recall_lock`` held. Forget semantic memory: the next use opens it again.

        The recall it had is closed now, or (a streaming run uses it) when that run ends.
        """
        old = self._recall
        self._recall, self._recall_error, self._recall_failed_at = None, None, None
        self._recall_opened = self._recall_stale = False
        self._recall_warned.clear()
        if old is not None and old is not self._recall and id(old) not in self._recall_users:
            _close_recall(old)

    def _hold_recall(self, recall: Recall | None) -> None:
        """A streaming run uses ``recall`` (see :meth:`_release_recall`)."""
        if recall is None:
            return
        with self._recall_lock:
            _, users = self._recall_users.get(id(recall), (recall, 0))
            self._recall_users[id(recall)] = (recall, users + 1)

    def _release_recall(self, recall: Recall | None) -> None:
        """The run using ``recall`` ended; a replaced recall no run uses any more is closed."""
        if recall is None:
            return
        with self._recall_lock:
            _, users = self._recall_users.get(id(recall), (recall, 1))
            if users > 1:
                self._recall_users[id(recall)] = (recall, users - 1)
                return
            self._recall_users.pop(id(recall), None)
            if recall is not self._recall:
                _close_recall(recall)

    def _web_client(self, settings: Settings | None = None) -> WebClient | None:
        """The coder's web client from ``[web]`` (None when off); the token is redacted.

        ``settings``: the settings to read (default: the engine's current ones).

        Raises:
            InputError: a ``[web]`` address is not http(s).

        """
        settings = settings or self.settings
        web = settings.web
        if not web.enabled:
            return None
        token = os.environ.get(web.github_token_env) or None
        if token:
            self.redactor.add(token)
        try:
            return web.client(settings.data_dir, token)
        except WebError as exc:
            raise InputError(self.redactor(f"invalid [web] setting: {exc}")) from None

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
        lock = FileLock(record.run_dir / RUN_LOCK, timeout=RUN_LOCK_WAIT_S)
        try:
            lock.acquire()
        except Timeout:
            services.sandbox.close()
            if services.web is not None:
                services.web.close()
            record.close()
            raise InputError(f"run '{run_id}' is being run by another process right now"
                             " (`multicoder cancel` stops it)") from None
        self._hold_recall(services.memory)
        try:
            yield from self._stream_locked(run_id, services, decision)
        finally:
            services.sandbox.close()
            if services.web is not None:
                services.web.close()
            record.close()  # this also syncs the run's last lines into the archive
            lock.release()
            self._release_recall(services.memory)

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
                                 "rounds_allowed": services.limits.max_repair_rounds,
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
                    yield RunEvent(run_id, "progress", self._clean(chunk))
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
            error = self.redactor(str(exc))
            self.index.update(run_id, status="cancelled", error=error)
            record.event("budget_exceeded", budget=exc.budget, limit=exc.limit,
                         spent=exc.spent, error=error)
            yield RunEvent(run_id, "failed", self._clean({
                "error": error, "resumable": True, "budget": exc.budget, "limit": exc.limit,
                "spent": exc.spent}))
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
        error = self.redactor(error)
        self.index.update(run_id, status="failed", error=error)
        record.event("run_failed", error=error, resumable=True)
        return RunEvent(run_id, "failed", {"error": error, "resumable": True})

    def _clean(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` as an event may carry it out of the engine: every secret redacted."""
        cleaned: dict[str, Any] = self.redactor.redact_obj(dict(data))
        return cleaned

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
        payload = self._clean(value if isinstance(value, Mapping) else {"summary": str(value)})
        record.event("interrupt", interrupt=payload.get("kind"), summary=payload.get("summary"),
                     interrupt_id=interrupt.id)
        record.chat("multicoder → person", str(payload.get("summary", "")), kind="interrupt",
                    title=str(payload.get("kind", "question")))
        self.index.update(run_id, status="waiting")
        return RunEvent(run_id, "interrupt", payload)

    def _finished_event(self, run_id: str, values: Mapping[str, Any]) -> RunEvent:
        status = str(values.get("status", "failed"))
        artifact = values.get("artifact") or {}
        error = self.redactor(str(values["error"])) if values.get("error") else None
        self.index.update(run_id, status=status, artifact=str(artifact.get("path", "")) or None,
                          outcome=status, error=error if status != "done" else None)
        run_dir = Path(self.get_run(run_id).run_dir)
        report = run_dir / "report.md"
        spec = values.get("spec")
        title = spec.get("title") if isinstance(spec, Mapping) else None
        return RunEvent(run_id, "finished", self._clean({
            "status": status, "artifact": dict(artifact), "error": error,
            "run_dir": str(run_dir), "report": str(report) if report.is_file() else None,
            "title": str(title) if title else None,
            "checks_passed": bool(values.get("checks_passed"))}))

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
        self.redactor.add(key)
        try:
            return list_models(provider, config, key)
        except (ProviderAuthError, ProviderUnavailable) as exc:
            raise InputError(self.redactor(str(exc))) from None
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


def _same_path(first: Path, second: Path) -> bool:
    """Whether two paths name the same folder (resolved; spelled alike when they cannot be)."""
    try:
        return first.expanduser().resolve() == second.expanduser().resolve()
    except OSError:
        return first == second


def _memory_changed(old: Settings, new: Settings) -> bool:
    """Whether semantic memory must be opened again for ``new``.

    It must when ``[memory]`` changed, or the provider of ``PROVIDER:MODEL`` embeddings did.
    """
    if old.memory != new.memory:
        return True
    provider = new.memory.embeddings.partition(":")[0] if ":" in new.memory.embeddings else ""
    return bool(provider) and old.providers.get(provider) != new.providers.get(provider)


def _close_recall(recall: Recall) -> None:
    """Release a recall's store (its files stay); a failure is logged, never raised."""
    close = getattr(getattr(recall, "semantic", None), "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:  # closing is tidying up: it must not break a settings change
        _log.warning("closing semantic memory failed", exc_info=True)
