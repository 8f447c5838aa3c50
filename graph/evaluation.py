"""The evaluation harness (Q2): run the whole graph on reference tasks, then their hidden tests.

For each selected task (see :mod:`graph.evalset`) a run is started with the task's text,
driven to its end with approvals answered automatically, and the task's hidden acceptance
tests are run against the project it built, in that run's sandbox with the app's own
environment. One :class:`graph.eval_results.TaskRecord` per task goes to the results file,
written after every task, so an interrupted evaluation resumes where it stopped (a task
whose run was under way continues that run from its last checkpoint).

Approvals, as an unattended evaluation answers them:

- start and plan: approved, unless the safety gate asked for a person (then rejected: the
  task counts as refused, an evaluation never overrides the gate);
- web fetches and downloads: refused (as ``--auto-approve`` does);
- "repairs are not converging": stop (the rounds allowed are the measure).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.config import ROLES
from agents.loops import from_judge
from graph.errors import InputError
from graph.eval_results import (
    EvalResults,
    EvalSettings,
    Failure,
    JudgeSummary,
    TaskRecord,
    load_results,
    save_results,
)
from graph.evalset import AcceptanceResult, EvalTask, collect_ids, run_acceptance

if TYPE_CHECKING:
    from graph.engine import Engine, RunEvent

#: Per-task wall-clock limit (seconds) when none is given: a whole run on a slow provider.
DEFAULT_TASK_TIMEOUT_S = 3600.0
#: The ``--model`` value that answers every role of each task from that task's own cassette.
REPLAY = "replay"


@dataclass
class EvalOptions:
    """How to run an evaluation.

    Attributes:
        selection: the ``--tasks`` text (see :func:`graph.evalset.select`).
        output: the results file (JSON); an existing one from the same evaluation is resumed.
        models: role -> model references (``provider:model``), or ``{"*": ["replay"]}`` for
            each task's own cassette; roles not named use the settings' models.
        jobs: tasks run at the same time (each run uses one sandbox).
        budget_usd: the whole evaluation's money limit; no task starts once it is spent, and
            each run is limited to what remains when it starts. None: no limit.
        task_timeout_s: each run's active time limit (the engine's ``max_wall_time_s``).
        sandbox: the sandbox backend for every run (None: the settings decide).
        label: the results' name in reports.

    """

    selection: str
    output: Path
    models: dict[str, list[str]] = field(default_factory=dict)
    jobs: int = 1
    budget_usd: float | None = None
    task_timeout_s: float = DEFAULT_TASK_TIMEOUT_S
    sandbox: str | None = None
    label: str = ""

    @property
    def replay(self) -> bool:
        """True when each task is answered by its own recorded cassette."""
        return any(refs == [REPLAY] for refs in self.models.values())


@dataclass(frozen=True)
class EvalUpdate:
    """What the harness tells its interface while it works.

    ``kind``: "started" (a task's run began or resumed: ``run_id``), "stage" (``stage``: the
    node now working, or "hidden tests"), "finished" (``record``), "skipped" (``record``: the
    budget was spent).
    """

    task_id: str
    kind: str
    run_id: str | None = None
    stage: str = ""
    record: TaskRecord | None = None


def parse_models(values: Sequence[str]) -> dict[str, list[str]]:
    """``--model`` values as a role map.

    ``ROLE=REF`` (repeat a role for fallbacks, in order), ``all=REF`` (every role), or
    ``replay``.

    ``replay`` (alone, or as ``all=replay``) answers every role of each task from that task's
    own cassette in ``datasets/cassettes``.

    Raises:
        InputError: a value is not ``ROLE=REF`` with a known role, or mixes ``replay`` with
            other models.

    """
    models: dict[str, list[str]] = {}
    for value in values:
        if value.strip() == REPLAY:
            value = f"all={REPLAY}"
        role, sep, ref = (part.strip() for part in value.partition("="))
        if not sep or not ref or (role not in ROLES and role != "all"):
            raise InputError(f"--model {value!r}: write ROLE=PROVIDER:MODEL with ROLE one of "
                             f"{', '.join(ROLES)} or all (e.g. coder=openai:gpt-4.1), or "
                             f"replay for the recorded cassettes")
        for target in (ROLES if role == "all" else (role,)):
            models.setdefault(target, []).append(ref)
    if any(REPLAY in refs for refs in models.values()) and any(
            refs != [REPLAY] for refs in models.values()):
        raise InputError("--model replay answers every role from the task's cassette: "
                         "do not mix it with other models")
    return models


def auto_decision(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The unattended answer to an interrupt (see the module docstring)."""
    kind = payload.get("kind")
    options = list(payload.get("options", []))
    if kind == "approve_fetch":
        return {"action": "reject", "feedback": "refused automatically: an evaluation does "
                "not approve web requests; build without them"}
    if kind == "ask_human":
        return {"action": "stop"}
    if payload.get("needs_person"):
        return {"action": "reject", "feedback": "the safety gate asked for a person; an "
                "evaluation does not override it"}
    return {"action": "approve" if "approve" in options or not options else options[0]}


class Evaluation:
    """Runs the selected tasks, in parallel, and keeps the results file up to date.

    Args:
        engine: the engine the runs use (its settings: data folder, providers, sandbox).
        tasks: the selected tasks, in order.
        options: see :class:`EvalOptions`.
        on_update: called (from worker threads, one call at a time) with each
            :class:`EvalUpdate`.

    Raises:
        InputError: (from the constructor) the results file exists but belongs to another
            evaluation (other models or tasks), or a task has no cassette under ``replay``.

    """

    def __init__(self, engine: Engine, tasks: Sequence[EvalTask], options: EvalOptions,
                 on_update: Callable[[EvalUpdate], None] = lambda update: None) -> None:
        self.engine = engine
        self.tasks = list(tasks)
        self.options = options
        self.on_update = on_update
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._active: dict[str, str] = {}
        if options.replay:
            missing = [t.id for t in self.tasks if not t.cassette]
            if missing:
                raise InputError(f"--model replay: no recorded cassette for {', '.join(missing)}"
                                 f" (select the tasks that have one with --tasks cassette)")
        self.results = self._open_results()

    # -- the results file ---------------------------------------------------------------------

    def _settings(self) -> EvalSettings:
        from importlib.metadata import PackageNotFoundError, version

        try:
            current = version("multicoder")
        except PackageNotFoundError:
            current = ""
        models: dict[str, list[str]] = {
            role: list(getattr(self.engine.settings.models, role)) for role in ROLES}
        models.update(self.options.models)
        return EvalSettings(selection=self.options.selection, models=models,
                            jobs=self.options.jobs, budget_usd=self.options.budget_usd,
                            sandbox=self.options.sandbox or self.engine.settings.sandbox.backend,
                            version=current)

    def _open_results(self) -> EvalResults:
        settings = self._settings()
        ids = [t.id for t in self.tasks]
        path = self.options.output
        if not path.exists():
            return EvalResults(label=self.options.label or path.stem, settings=settings,
                               tasks=ids)
        results = load_results(path)
        if results.settings.models != settings.models:
            raise InputError(f"{path} holds an evaluation with other models "
                             f"({_models_text(results.settings.models)}): give another "
                             f"--output, or delete it to start again")
        # resuming: add newly selected tasks; records that were not real outcomes run again
        results.tasks = list(dict.fromkeys([*results.tasks, *ids]))
        results.records = [r for r in results.records if r.outcome not in ("error", "skipped")]
        results.finished_at = None
        results.settings.jobs = self.options.jobs
        results.settings.budget_usd = self.options.budget_usd
        return results

    def _save(self) -> None:
        with self._lock:
            save_results(self.results, self.options.output)

    # -- running ------------------------------------------------------------------------------

    def run(self) -> EvalResults:
        """Evaluate every pending task; returns the results (also saved to the output file).

        On Ctrl+C the runs under way are cancelled (each stays resumable), the results so far
        are saved, and ``KeyboardInterrupt`` propagates; the same command later resumes.
        """
        by_id = {t.id: t for t in self.tasks}
        pending = [by_id[i] for i in self.results.pending if i in by_id]
        self._save()
        pool = ThreadPoolExecutor(max_workers=max(1, self.options.jobs),
                                  thread_name_prefix="eval")
        try:
            futures = [pool.submit(self._evaluate_safely, task) for task in pending]
            for future in futures:
                while not future.done():
                    time.sleep(0.2)  # keep the main thread able to take Ctrl+C
        except KeyboardInterrupt:
            self._stopping.set()
            with self._lock:
                active = list(self._active.values())
            for run_id in active:
                with contextlib.suppress(InputError):
                    self.engine.cancel(run_id)
            pool.shutdown(wait=True, cancel_futures=True)
            self._save()
            raise
        pool.shutdown(wait=True)
        if not self.results.pending:
            self.results.finished_at = datetime.now(UTC)
        self._save()
        return self.results

    def _evaluate_safely(self, task: EvalTask) -> None:
        if self._stopping.is_set():
            return
        started = time.monotonic()
        spent = self.results.cost_usd
        budget = self.options.budget_usd
        if budget is not None and spent >= budget:
            self._finish(self._base(task, "skipped", "budget", error=(
                f"the evaluation's budget (${budget:.2f}) was spent")), "skipped")
            return
        record: TaskRecord | None
        try:
            record = self._evaluate(task, None if budget is None else budget - spent)
        except InputError as exc:
            record = self._base(task, "error", "error", error=str(exc))
        except Exception as exc:  # one task's harness failure must not end the evaluation
            record = self._base(task, "error", "error",
                                error=f"internal error: {type(exc).__name__}: {exc}")
        if record is None:  # stopped by Ctrl+C: no outcome, the run resumes next time
            return
        record.wall_s = round(record.wall_s or time.monotonic() - started, 1)
        self._finish(record, "finished")

    def _finish(self, record: TaskRecord, kind: str) -> None:
        with self._lock:
            self.results.records = [r for r in self.results.records if r.id != record.id]
            self.results.records.append(record)
            self.results.running.pop(record.id, None)
            self._save()
            self.on_update(EvalUpdate(record.id, kind, record.run_id, record=record))

    def _notify(self, update: EvalUpdate) -> None:
        with self._lock:
            self.on_update(update)

    @staticmethod
    def _base(task: EvalTask, outcome: Any, failure: Failure | None, **fields: Any
              ) -> TaskRecord:
        return TaskRecord(id=task.id, kind=task.kind, language=task.language, title=task.title,
                          outcome=outcome, failure=failure, **fields)

    def _models_for(self, task: EvalTask) -> dict[str, list[str]] | None:
        if self.options.replay:
            return {role: [f"{REPLAY}:{task.id}"] for role in ROLES}
        return dict(self.options.models) or None

    def _evaluate(self, task: EvalTask, remaining_usd: float | None) -> TaskRecord | None:
        started = time.monotonic()
        with self._lock:
            run_id = self.results.running.get(task.id)
        if run_id is None:
            limits: dict[str, float | None] = {"max_wall_time_s": self.options.task_timeout_s}
            if remaining_usd is not None:
                limits["max_cost_usd"] = max(remaining_usd, 0.0001)
            run_id = self.engine.start(task.text, models=self._models_for(task),
                                       sandbox=self.options.sandbox, limits=limits)
            with self._lock:
                self.results.running[task.id] = run_id
            self._save()
        with self._lock:
            self._active[task.id] = run_id
        self._notify(EvalUpdate(task.id, "started", run_id))
        try:
            last = self._drive(task, run_id)
        finally:
            with self._lock:
                self._active.pop(task.id, None)
        if self._stopping.is_set():
            return None
        return self._record(task, run_id, last, started)

    def _drive(self, task: EvalTask, run_id: str) -> RunEvent | None:
        decision: dict[str, Any] | None = None
        while True:
            last = None
            for event in self.engine.stream(run_id, decision):
                if event.kind == "progress":
                    if event.data.get("type") == "node_started":
                        self._notify(EvalUpdate(task.id, "stage", run_id,
                                                stage=str(event.data.get("node", ""))))
                else:
                    last = event
            if last is None or last.kind != "interrupt" or self._stopping.is_set():
                return last
            decision = auto_decision(last.data)

    def _record(self, task: EvalTask, run_id: str, last: RunEvent | None, started: float
                ) -> TaskRecord:
        state = self.engine.state(run_id)
        spending = self.engine.spending(run_id)
        status = str(state.get("status") or self.engine.get_run(run_id).status)
        judgement = state.get("judgement") or {}
        criteria = judgement.get("criteria", [])
        verdicts = [str(c.get("status")) for c in criteria]
        unmet = [f"{c.get('criterion')} — {c.get('evidence')}" for c in criteria
                 if c.get("status") == "unmet"]
        record = self._base(
            task, "failed", None, run_id=run_id, run_status=status,
            judge=JudgeSummary(verdict=judgement.get("verdict"), met=verdicts.count("met"),
                               unmet=verdicts.count("unmet"),
                               unclear=verdicts.count("unclear"), unmet_criteria=unmet),
            repair_rounds=int(state.get("round", 0) or 0),
            input_tokens=spending.total.input_tokens, output_tokens=spending.total.output_tokens,
            cost_usd=round(spending.total.cost_usd, 6))
        error = ""
        if last is not None and last.kind == "failed":
            error = str(last.data.get("error", ""))
        elif state.get("error"):
            error = str(state["error"])
        entry = str(((state.get("plan") or {}).get("app") or {}).get("entry") or "")
        workspace = Path(self.engine.get_run(run_id).run_dir) / "workspace"
        if status in ("refused", "rejected") or not entry or not (workspace / entry).is_file():
            record.failure = _failure_before_app(status, state, last, error)
            record.failed_tests = ["(no application to test)"]
            record.tests_failed = len(collect_ids(task))
            record.error = error or f"the run ended {status} before an application existed"
            return record
        self._notify(EvalUpdate(task.id, "stage", run_id, stage="hidden tests"))
        acceptance = hidden_tests(self.engine, run_id, task, entry)
        record.tests_passed = len(acceptance.passed)
        record.tests_failed = len(acceptance.failed)
        record.failed_tests = acceptance.failed
        record.wall_s = round(time.monotonic() - started, 1)
        if acceptance.all_passed and status == "done":
            record.outcome = "passed"
            return record
        if acceptance.all_passed:
            # the code behaves, but the run delivered nothing (stopped by the judge, packaging
            # failed, out of time): a person would not call that a pass
            record.failure = _failure_before_app(status, state, last, error)
            record.error = (f"{error or f'the run ended {status}'}"
                            " (every hidden test passed on its workspace)")
            return record
        record.failure = ("acceptance" if status == "done"
                          else _failure_before_app(status, state, last, error))
        record.error = acceptance.error or error or (
            f"{record.tests_failed} of {record.tests_total} hidden tests failed")
        return record


def hidden_tests(engine: Engine, run_id: str, task: EvalTask, entry: str) -> AcceptanceResult:
    """Run ``task``'s hidden acceptance tests on what run ``run_id`` built, in its sandbox.

    The app's environment (``<workspace>/.venv``) is prepared with the app's declared
    dependencies, the check tools and the task's ``test_requires``; the tests run without
    network from ``<workspace>/.acceptance``, on the same sandbox backend as the run.

    Raises:
        InputError: the run's sandbox backend cannot be used now.

    """
    from graph.engine import RunConfig
    from graph.sandboxes import open_sandbox
    from tools.appenv import DEFAULT_TOOLS, AppEnvironment
    from tools.sandbox.base import AppEnvironmentError

    run_dir = Path(engine.get_run(run_id).run_dir)
    config = RunConfig.model_validate_json((run_dir / "run.json").read_text(encoding="utf-8"))
    workspace = run_dir / "workspace"
    sandbox = open_sandbox(config.sandbox, engine.settings.sandbox, workspace)
    try:
        environment = AppEnvironment(workspace, sandbox,
                                     tool_requirements=[*DEFAULT_TOOLS, *task.test_requires])
        try:
            environment.ensure()
        except AppEnvironmentError as exc:
            return AcceptanceResult(failed=collect_ids(task),
                                    error=f"the app's environment could not be prepared: {exc}")
        variables = environment.variables()

        def run(argv: Sequence[str], env: dict[str, str], timeout_s: float
                ) -> tuple[int | None, str, str]:
            result = sandbox.run(argv, env={**variables, **env}, timeout_s=timeout_s)
            return result.exit_code, result.stdout, result.stderr

        return run_acceptance(task, workspace, entry, run, python=environment.program("python"))
    finally:
        sandbox.close()


def _failure_before_app(status: str, state: Mapping[str, Any], last: RunEvent | None,
                        error: str) -> Failure:
    """The failure category of a run that did not end ``done`` (see :data:`Failure`)."""
    budget = str(last.data.get("budget", "")) if last is not None else ""
    if budget:
        return "timeout" if "time" in budget else "budget"
    if status == "refused" or state.get("safety", {}).get("level") == "red":
        return "refused"
    if status == "rejected":
        return "refused"  # the start was rejected: the gate asked for a person
    if error == "cancelled" or status == "cancelled":
        return "cancelled"
    if not state.get("spec"):
        return "spec" if state.get("start") == "approved" else "error"
    if not state.get("plan"):
        return "plan"
    findings = state.get("findings") or []
    if from_judge(findings):
        return "judge"
    if any(f.get("check") in ("packaged-run", "packaging") for f in findings):
        return "packaging"
    if any(f.get("check") in ("environment", "tester") for f in findings):
        return "checks"
    if findings or status == "stopped":
        return "build"
    return "error"


def _models_text(models: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(f"{role}={','.join(refs)}" for role, refs in models.items())


def summary_line(results: EvalResults) -> str:
    """One line: passed tasks, hidden tests, cost, and what is still pending."""
    records = [r for r in results.records if r.outcome != "skipped"]
    passed = sum(r.outcome == "passed" for r in records)
    tests = sum(r.tests_passed for r in records), sum(r.tests_total for r in records)
    pending = len(results.pending)
    text = (f"{passed}/{len(records)} tasks passed (run finished, every hidden test passed);"
            f" tests {tests[0]}/{tests[1]}; cost ${results.cost_usd:.4f}")
    skipped = sum(r.outcome == "skipped" for r in results.records)
    if skipped:
        text += f"; {skipped} skipped (budget)"
    if pending:
        text += f"; {pending} pending (run the same command to resume)"
    return text
