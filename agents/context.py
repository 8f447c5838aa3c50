"""The runtime context: what a node needs, handed to it by LangGraph (not through globals).

Nodes take ``(state, runtime: Runtime[Context])`` and reach their dependencies through
``runtime.context.services``. Tests build :class:`Services` with fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agents.config import Limits
from agents.models import ModelSelector
from memory.recall import Recall
from memory.records import RunRecord
from tools.actions import ActionRegistry, Policy
from tools.checks import CheckContext, run_checks
from tools.checks.base import CheckReport, CheckResult
from tools.packaging import Artifact, build_executable, smoke_executable
from tools.sandbox.base import CommandEnvironment, Sandbox
from tools.web import WebClient

CheckRunner = Callable[[CheckContext, Callable[[CheckResult], None]], CheckReport]
"""``(context, on_result) -> report``: runs the paranoid tester's checks."""

Packager = Callable[[CheckContext, Path, float], tuple[Artifact, CheckResult]]
"""``(context, dist_dir, timeout_s) -> (artifact, packaged-run result)``; raises PackagingError."""


def run_all_checks(context: CheckContext, on_result: Callable[[CheckResult], None]
                   ) -> CheckReport:
    """The real checks (:func:`tools.checks.run_checks`)."""
    return run_checks(context, on_result=on_result)


def package_and_run(context: CheckContext, dist_dir: Path, timeout_s: float
                    ) -> tuple[Artifact, CheckResult]:
    """Build the one-file executable, then run it headless.

    Raises:
        PackagingError: PyInstaller failed.

    """
    artifact = build_executable(context, dist_dir, timeout_s=timeout_s)
    return artifact, smoke_executable(artifact, context)


@dataclass
class Services:
    """One run's dependencies.

    Attributes:
        record: the run folder (program.log, chat.md, events.jsonl, reports).
        models: the model selector (roles, fallback, cassette recording).
        sandbox: where generated code runs.
        environment: the generated app's own virtual environment.
        registry / policy: the Action API the coder uses.
        limits: budgets.
        cancelled: returns True once the person asked to cancel the run.
        checks: runs the tester's checks (tests hand in fakes).
        package: builds and runs the executable (tests hand in fakes).
        web: the web client of the coder's web actions (search, GitHub, pages); None when
            web access is off.
        memory: semantic memory: recall of past runs and lessons for the prompts, and
            learning from the run at its end; None runs without (memory off or unavailable).

    """

    record: RunRecord
    models: ModelSelector
    sandbox: Sandbox
    environment: CommandEnvironment
    registry: ActionRegistry
    policy: Policy
    limits: Limits = field(default_factory=Limits)
    cancelled: Callable[[], bool] = lambda: False
    checks: CheckRunner = run_all_checks
    package: Packager = package_and_run
    web: WebClient | None = None
    memory: Recall | None = None


@dataclass
class Context:
    """LangGraph's ``context_schema``: the run id and its services.

    ``services`` is None when a client (LangGraph Studio) started the run with plain JSON
    context; the graph layer then builds services from the settings.
    """

    run_id: str = ""
    services: Services | None = None


class RunCancelled(RuntimeError):
    """The person cancelled the run; it stays resumable."""


def services_of(runtime: Runtime[Context]) -> Services:
    """The run's services.

    Raises:
        RuntimeError: the graph was started without services (a wiring bug).

    """
    context = runtime.context
    if context is None or context.services is None:
        raise RuntimeError("the graph was run without services in its context")
    return context.services


def stop_if_cancelled(runtime: Runtime[Context]) -> None:
    """Raise :class:`RunCancelled` when the person asked to cancel.

    Called where stopping loses no finished work: before a node starts and between the
    coder's turns. The run stays resumable from that point.
    """
    if services_of(runtime).cancelled():
        raise RunCancelled("cancelled by the person")


def emit(runtime: Runtime[Context], kind: str, **data: Any) -> None:
    """Record an event in events.jsonl and stream it to every interface (custom stream mode)."""
    services_of(runtime).record.event(kind, **data)
    runtime.stream_writer({"type": kind, **data})
