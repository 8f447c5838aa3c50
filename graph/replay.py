"""Time travel and replay (M3): a run's checkpoints, forks from any of them, replays.

Every run is a checkpointer thread (``thread_id`` = run id) holding one checkpoint per step.

- :func:`run_history` lists them, oldest first: which node wrote each, which node runs next,
  and which question (interrupt) waited there.
- :func:`fork` continues a run from any checkpoint, optionally changed (LangGraph time
  travel), as a *new* run: its own id, folder, ``run.json`` (with ``forked_from``) and index
  row. The checkpoint's values, with the changes, are written into the new thread with
  ``update_state(..., as_node=<the node that wrote the checkpoint>)``, so the same node runs
  next. The original run is only read.
- :class:`ReplayEngine` re-runs a past run from its recorded ``cassette.jsonl``, offline:
  every role plays that cassette by call key (the ``replay`` provider), the person's recorded
  decisions are given again in order, and :meth:`ReplayEngine.compare` says what came out
  the same (source tree, check report, executable).

What a fork may change (:func:`check_changes`): the person's inputs (``task``, ``plan``,
``spec``, ``hint``, ``plan_feedback``, ``rounds_allowed`` …), never what the graph decided
about them (:data:`FIXED_FIELDS`: the safety verdict, the start confirmation, the status, the
tester's verdict …), so a fork cannot get around the safety gate. A changed ``task`` takes
the graph's own path for an edited request: the fork is written as ``confirm_start`` with
``start="edited"`` and ``task_revision + 1``, so the safety gate judges the new task first,
then the person confirms it again, and the spec and plan are made afresh (hence ``task``
cannot be changed together with ``spec`` or ``plan``). This holds from any checkpoint,
also a refused or rejected run's.

A replay is offline and never reuses a consent to reach the internet:

- No live web: a run with ``replay_of`` gets no web client, whichever engine drives it (the
  tool list stays the original's, so the prompts are the same, but each web action fails
  with "web access is turned off", without a request). A run that fetched or downloaded
  something therefore replays without it, and the comparison says what differs.
- ``approve_fetch`` is never answered from the record (:data:`NEVER_REPLAYED`): a fetch
  approval was given for that moment's internet, not for today's. Should one be asked
  anyway (a replay driven with web access), the person is asked, as for a question the
  original recorded no answer for.

What a fork's folder starts with (the workspace the checkpoint saw):

- The coder snapshots the workspace at the start of each round (``snapshots/round-N``), so
  the workspace at a checkpoint is the start of the coder round that comes next: round
  ``repair_round(values)`` when the coder runs next, round ``values["round"] + 1`` once a
  coder round has run, otherwise round 0 (only the inputs). The fork's workspace is the
  original's snapshot of that round, or, when the original never started that round, the
  original's current workspace. Snapshots up to that round are copied too; transient folders
  (virtual environment, caches, build output) never are: the fork's tester rebuilds them.
- ``plan.md`` is written from the fork's plan; ``checks-round-N.json`` of the rounds already
  tested at the checkpoint and their ``checks.json``; ``dist/`` when the checkpoint has an
  artifact (its path in the state is moved to the fork's folder).
- What memory recalled (``recall/<node>-<revision>.json``, reused when a node runs again,
  see :func:`agents.structured.recalled_section`) for the nodes that had run before the
  checkpoint (:func:`recalled_before`), and the token counters pinned per role
  (``tokens.json``); a node that runs afresh in the fork recalls afresh. A replay gets
  all of the original's, so its prompts (and where its context is compressed) are the
  original's, not what memory holds today (which includes the original itself).
- The fork's records (events, chat, log, cassette, spending) start empty: the nodes it runs
  ask their models afresh, and what the original spent does not count against its budgets.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.types import StateSnapshot
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from agents.coder import TRANSIENT, repair_round
from agents.planner import check_plan
from agents.schemas import Plan, Spec
from agents.state import RunState
from agents.structured import RECALL_DIR
from agents.tokens import PINNED_FILE
from graph.engine import Engine, RunConfig, RunEvent, new_run_id
from graph.errors import InputError
from graph.sandboxes import choose_backend
from memory.records import RunNotFound, RunRecord
from tools.actions import default_registry

#: ``as_node`` of a thread's first checkpoint (the graph's input), as LangGraph names it.
INPUT_NODE = "__input__"
#: The channel holding the graph's input until the first step (LangGraph's START).
START_CHANNEL = "__start__"
#: Checkpoint metadata naming the node a fork's first checkpoint was written as.
WRITTEN_BY = "written_by"
#: The replay report in a replay's folder.
REPLAY_REPORT = "replay.json"
#: A short checkpoint id has at least this many characters.
MIN_SHORT_ID = 8
#: State fields a fork may not change -> why (what the graph decided, not the person's input).
FIXED_FIELDS: Mapping[str, str] = {
    "run_id": "a fork gets its own run_id",
    "safety": "it is the safety gate's verdict; change the task to have it judged again",
    "start": "it is the person's start confirmation; change the task to be asked again",
    "task_revision": "it counts the task's edits; change the task instead",
    "status": "it says how the run ended; the nodes set it",
    "error": "it is why the run ended; the nodes set it",
    "checks_passed": "it is the tester's verdict; the checks run again to change it",
    "artifact": "it is the packager's executable; the packager builds it",
    "judgement": "it is the spec judge's verdict; the judge runs again to change it",
}
#: The state fields a changed ``task`` makes obsolete (the fork makes them afresh).
REMADE_FOR_TASK = ("spec", "plan")
#: Interrupts a replay never answers from the record (``approve_fetch``: the person's
#: consent to reach the internet is not given again on their behalf).
NEVER_REPLAYED = ("approve_fetch",)
#: The node a changed task is written as, so the safety gate judges it (the graph's
#: path for a request the person edited).
EDIT_NODE = "confirm_start"


def _thread(run_id: str, checkpoint_id: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": run_id}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


# -- history -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint of a run's thread.

    Attributes:
        checkpoint_id: the full id (a UUID, ordered by time).
        short_id: the shortest prefix (at least 8 characters) that tells the run's
            checkpoints apart; ``runs fork --from`` accepts any unique prefix.
        step: LangGraph's step number (-1: the input; a fork's thread starts at 0).
        created_at: when it was written (ISO 8601, UTC).
        source: ``input``, ``loop`` (a node finished) or ``update`` (written by a fork).
        written_by: the node whose update made it (``__input__`` for the input,
            ``__start__`` for the first step).
        next: the node(s) that run from it (empty at the end of the run).
        waiting: the kinds of the questions the next node asked from here
            (``confirm_start``, ``approve_plan``, ``ask_human``, ``approve_fetch``).
        answered: the next node has finished from here (its questions were answered);
            False while the run still waits at this checkpoint.
        parent_id: the checkpoint before it (None for a thread's first).
        values: the state values at this checkpoint (for the input checkpoint: the input,
            i.e. the run's initial state).

    """

    checkpoint_id: str
    short_id: str
    step: int
    created_at: str
    source: str
    written_by: str | None
    next: tuple[str, ...]
    waiting: tuple[str, ...]
    answered: bool
    parent_id: str | None
    values: dict[str, Any] = field(repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The checkpoint without its values, for ``runs history --json``."""
        return {"checkpoint_id": self.checkpoint_id, "short_id": self.short_id,
                "step": self.step, "created_at": self.created_at, "source": self.source,
                "written_by": self.written_by, "next": list(self.next),
                "waiting": list(self.waiting), "answered": self.answered,
                "parent_id": self.parent_id}


def short_id_length(ids: Sequence[str]) -> int:
    """The shortest prefix length (at least :data:`MIN_SHORT_ID`) that keeps ``ids`` apart."""
    length = MIN_SHORT_ID
    longest = max((len(i) for i in ids), default=0)
    while length < longest and len({i[:length] for i in ids}) < len(set(ids)):
        length += 1
    return length


def run_history(engine: Engine, run_id: str) -> list[Checkpoint]:
    """The checkpoints of a run, oldest first (empty before the run started).

    The node that wrote a checkpoint is the task that ran from its parent (one node runs
    per step in this graph); a fork's first checkpoint names it in its metadata.

    Raises:
        InputError: no such run.

    """
    engine.get_run(run_id)
    snapshots: list[StateSnapshot] = list(engine.graph.get_state_history(_thread(run_id)))
    snapshots.reverse()
    ids = [_id_of(s) for s in snapshots]
    length = short_id_length(ids)
    by_id = dict(zip(ids, snapshots, strict=True))
    checkpoints = []
    for snapshot, checkpoint_id in zip(snapshots, ids, strict=True):
        metadata: Mapping[str, Any] = snapshot.metadata or {}
        parent_id = (str(snapshot.parent_config["configurable"]["checkpoint_id"])
                     if snapshot.parent_config else None)
        parent = by_id.get(parent_id) if parent_id else None
        if metadata.get(WRITTEN_BY):
            written_by: str | None = str(metadata[WRITTEN_BY])
        elif metadata.get("source") == "input":
            written_by = INPUT_NODE
        elif parent is not None and parent.tasks:
            written_by = ",".join(t.name for t in parent.tasks)
        else:
            written_by = None
        waiting = tuple(str(i.value.get("kind")) if isinstance(i.value, Mapping) else "question"
                        for task in snapshot.tasks for i in task.interrupts)
        answered = bool(snapshot.tasks) and all(t.result is not None for t in snapshot.tasks)
        values = dict(snapshot.values)
        if written_by == INPUT_NODE:  # the input is still in the start channel, not the state
            values = _input_of(engine, snapshot) or values
        checkpoints.append(Checkpoint(
            checkpoint_id=checkpoint_id, short_id=checkpoint_id[:length],
            step=int(metadata.get("step", 0)), created_at=str(snapshot.created_at or ""),
            source=str(metadata.get("source", "")), written_by=written_by,
            next=tuple(snapshot.next), waiting=waiting, answered=answered,
            parent_id=parent_id, values=values))
    return checkpoints


def _input_of(engine: Engine, snapshot: StateSnapshot) -> dict[str, Any] | None:
    """The graph input an input checkpoint holds (the initial state), or None."""
    saved = engine.checkpointer.get_tuple(snapshot.config)
    start = saved.checkpoint["channel_values"].get(START_CHANNEL) if saved else None
    return dict(start) if isinstance(start, Mapping) else None


def _id_of(snapshot: StateSnapshot) -> str:
    return str(snapshot.config["configurable"]["checkpoint_id"])


def find_checkpoint(engine: Engine, run_id: str, ref: str) -> Checkpoint:
    """The checkpoint of ``run_id`` whose id is ``ref`` or starts with it.

    Raises:
        InputError: no such run, no checkpoint with that prefix, or several.

    """
    ref = ref.strip()
    checkpoints = run_history(engine, run_id)
    matches = [c for c in checkpoints if ref and c.checkpoint_id.startswith(ref)]
    if not matches:
        raise InputError(f"run '{run_id}' has no checkpoint '{ref}' (see `multicoder runs"
                         f" history {run_id}`)")
    if len(matches) > 1:
        shown = ", ".join(c.short_id for c in matches[:5])
        raise InputError(f"checkpoint '{ref}' is ambiguous in run '{run_id}': it starts"
                         f" {len(matches)} checkpoint ids ({shown}…); give more characters")
    return matches[0]


# -- changes -------------------------------------------------------------------------------

def state_fields() -> dict[str, Any]:
    """The state keys (:class:`agents.state.RunState`) with their types."""
    return typing.get_type_hints(RunState)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``FIELD=VALUE`` -> ``(field, value)``; VALUE is JSON or text, ``@path`` reads a file.

    A text field takes VALUE as written unless it is a JSON string; other fields need JSON
    (an object for ``plan`` and ``spec``). The value is checked by :func:`check_changes`.

    Raises:
        InputError: no ``=``, an unknown field, an unreadable file, or JSON expected.

    """
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise InputError(f"--set '{text}' is not FIELD=VALUE (e.g. hint=\"use pathlib\" or"
                         " plan=@plan.json)")
    fields = state_fields()
    if name not in fields:
        raise InputError(f"--set: '{name}' is not a state field (fields: {', '.join(fields)})")
    if raw.startswith("@"):
        path = Path(raw[1:]).expanduser()
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise InputError(f"--set {name}: cannot read {path}: {reason}") from None
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        if not _is_text(fields[name]):
            raise InputError(f"--set {name}: the value is not JSON"
                             f" ({_describe(fields[name])} expected)") from None
        return name, raw.strip()
    if _is_text(fields[name]) and not isinstance(parsed, str):
        return name, raw.strip()
    return name, parsed


def _is_text(annotation: Any) -> bool:
    return annotation is str or typing.get_origin(annotation) is Literal


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation) or annotation
    return {dict: "a JSON object", list: "a JSON list", int: "a whole number",
            bool: "true or false"}.get(origin, str(annotation))


def check_changes(engine: Engine, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate state changes for a fork; returns them normalised.

    Each field must be a state key of its type (strict: ``round`` takes 3, not "3") and not
    one of :data:`FIXED_FIELDS` (what the graph decided: the safety verdict, the start
    confirmation, the status …); a ``plan`` must be a valid :class:`agents.schemas.Plan`
    that passes the planner's :func:`agents.planner.check_plan` against this installation's
    actions; a ``spec`` a valid :class:`agents.schemas.Spec`; a ``task`` not empty, and not
    given with ``spec`` or ``plan`` (a changed task is judged and planned afresh).

    Raises:
        InputError: the first problem, in one line.

    """
    fields = state_fields()
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in fields:
            raise InputError(f"--set: '{name}' is not a state field"
                             f" (fields: {', '.join(fields)})")
        if name in FIXED_FIELDS:
            raise InputError(f"--set {name}: it cannot be set ({FIXED_FIELDS[name]})")
        try:
            value = TypeAdapter(fields[name]).validate_python(value, strict=True)
            if name == "plan":
                plan = Plan.model_validate(value)
                problems = check_plan(plan, default_registry(web=engine.settings.web.enabled))
                if problems:
                    raise InputError(f"--set plan: the plan is not valid: {'; '.join(problems)}")
                value = plan.model_dump()
            elif name == "spec":
                value = Spec.model_validate(value).model_dump()
            elif name == "task" and not value.strip():
                raise InputError("--set task: the task is empty: describe the application")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InputError(f"--set {name}: not a valid {name}: "
                             f"{where + ': ' if where else ''}{first['msg']}") from None
        checked[name] = value.strip() if name == "task" else value
    remade = [name for name in REMADE_FOR_TASK if name in checked]
    if "task" in checked and remade:
        raise InputError(f"--set task cannot go with --set {' or '.join(remade)}: a changed"
                         " task is judged by the safety gate again and then expanded and"
                         " planned afresh; fork with the new task alone")
    return checked


def parse_changes(engine: Engine, assignments: Sequence[str]) -> dict[str, Any]:
    """``["plan=@plan.json", "hint=use pathlib"]`` -> checked state changes.

    Raises:
        InputError: a malformed assignment, a field given twice, or an invalid value
            (see :func:`parse_assignment` and :func:`check_changes`).

    """
    changes: dict[str, Any] = {}
    for text in assignments:
        name, value = parse_assignment(text)
        if name in changes:
            raise InputError(f"--set {name} is given twice")
        changes[name] = value
    return check_changes(engine, changes)


# -- forks ---------------------------------------------------------------------------------

def _read_config(run_dir: Path) -> RunConfig:
    try:
        return RunConfig.model_validate_json((run_dir / "run.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"the run folder {run_dir} has no readable run.json: {exc}") from None


def _folder(engine: Engine, run_id: str) -> Path:
    """An existing run's folder, found without writing to it.

    Raises:
        InputError: no such run (in the index, or its folder is gone).

    """
    run_dir = Path(engine.get_run(run_id).run_dir)
    if not run_dir.is_dir():
        raise InputError(f"the folder of run '{run_id}' is gone ({run_dir})")
    return run_dir


def _open(engine: Engine, run_id: str) -> RunRecord:
    try:
        return RunRecord.open(engine.settings.runs_dir, run_id, engine.redactor,
                              archive=engine.archive)
    except RunNotFound:
        raise InputError(f"no run '{run_id}' (see `multicoder runs list`)") from None


def workspace_round(values: Mapping[str, Any], next_nodes: Sequence[str]) -> int:
    """The coder round whose starting workspace is the workspace at a checkpoint.

    ``repair_round(values)`` when the coder runs next; ``values["round"] + 1`` once a
    coder round has run; otherwise 0 (before the coder: only the inputs).
    """
    if tuple(next_nodes) == ("coder",):
        return repair_round(typing.cast(RunState, values))
    if values.get("coder_notes"):
        return int(values.get("round", 0)) + 1
    return 0


def tested_round(values: Mapping[str, Any], next_nodes: Sequence[str]) -> int:
    """The last round the tester had checked at a checkpoint (-1: none)."""
    if not values.get("coder_notes"):
        return -1
    round_ = int(values.get("round", 0))
    return round_ - 1 if tuple(next_nodes) == ("paranoid_tester",) else round_


def _ignore_transient(_: str, names: list[str]) -> set[str]:
    return {n for n in names if n in TRANSIENT}


def _copy_tree(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=_ignore_transient, symlinks=True)


def copy_checkpoint_files(source_dir: Path, target_dir: Path, checkpoint: Checkpoint) -> None:
    """Give a new run the workspace and reports a checkpoint saw (see the module's rule).

    Args:
        source_dir: the original run's folder.
        target_dir: the new run's folder (its ``workspace/`` is replaced).
        checkpoint: the checkpoint forked from.

    """
    values, next_nodes = checkpoint.values, checkpoint.next
    upcoming = workspace_round(values, next_nodes)
    snapshots = source_dir / "snapshots"
    for number in range(upcoming + 1):
        snapshot = snapshots / f"round-{number}"
        if snapshot.is_dir():
            _copy_tree(snapshot, target_dir / "snapshots" / snapshot.name)
    start = snapshots / f"round-{upcoming}"
    _copy_tree(start if start.is_dir() else source_dir / "workspace", target_dir / "workspace")
    tested = tested_round(values, next_nodes)
    for number in range(tested + 1):
        report = source_dir / f"checks-round-{number}.json"
        if report.is_file():
            shutil.copy2(report, target_dir / report.name)
            if number == tested:
                shutil.copy2(report, target_dir / "checks.json")
    judged = (values.get("judgement") or {}).get("round")
    for number in range(tested + 1):  # the judge's verdicts the checkpoint already had
        verdict = source_dir / f"judgement-round-{number}.json"
        if verdict.is_file() and (number < tested or judged == tested):
            shutil.copy2(verdict, target_dir / verdict.name)
            if number == judged:
                shutil.copy2(verdict, target_dir / "judgement.json")
    if values.get("artifact"):
        _copy_tree(source_dir / "dist", target_dir / "dist")


def recalled_before(values: Mapping[str, Any], next_nodes: Sequence[str]) -> set[str]:
    """The recall files (``<node>-<revision>``, no suffix) of the nodes run before a checkpoint.

    The spec expander ran for the current ``task_revision`` once there is a spec; the
    planner for every ``plan_revision`` before the current one (each was rejected), and for
    the current one once there is a plan that was not rejected; the coder for the repair
    rounds 1 … before :func:`workspace_round` (round 0 recalls nothing). A node that has not
    finished at the checkpoint (a coder round paused by a question) is not included.
    """
    names = set()
    if values.get("spec"):
        names.add(f"spec_expander-{int(values.get('task_revision', 0))}")
    plan_revision = int(values.get("plan_revision", 0))
    names |= {f"planner-{revision}" for revision in range(plan_revision)}
    if values.get("plan") and values.get("plan_status") != "rejected":
        names.add(f"planner-{plan_revision}")
    names |= {f"coder-{round_}" for round_ in range(1, workspace_round(values, next_nodes))}
    return names


def _rebased(text: str, source_dir: Path, target_dir: Path) -> str:
    """JSON text naming ``source_dir`` with ``target_dir`` instead.

    A recall query holds the tester's findings, which can name files in the run's folder;
    the new run's findings name its own, and a stored section is reused only for the same
    query.
    """
    for old, new in ((source_dir.resolve(), target_dir.resolve()), (source_dir, target_dir)):
        text = text.replace(json.dumps(str(old))[1:-1], json.dumps(str(new))[1:-1])
    return text


def copy_recall(source_dir: Path, target_dir: Path, names: set[str] | None = None) -> list[str]:
    """Copy what memory recalled for a run's model calls into a new run's folder.

    Args:
        source_dir: the original run's folder.
        target_dir: the new run's folder.
        names: the ``recall/<name>.json`` files to copy (None: all of them); the original
            folder's path in them becomes the new one's (a query holding findings names
            files there). The token counter pinned per role (``tokens.json``,
            :data:`agents.tokens.PINNED_FILE`) is always copied, so the new run counts (and
            compresses) as the original did.

    Returns:
        The copied files, relative to the folder (POSIX), sorted.

    """
    copied = []
    for path in sorted((source_dir / RECALL_DIR).glob("*.json")):
        if names is None or path.stem in names:
            target = target_dir / RECALL_DIR / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            text = path.read_text(encoding="utf-8")
            rebased = _rebased(text, source_dir, target_dir)
            if rebased != text:
                target.write_text(rebased, encoding="utf-8")
            copied.append(f"{RECALL_DIR}/{path.name}")
    if (source_dir / PINNED_FILE).is_file():
        shutil.copy2(source_dir / PINNED_FILE, target_dir / PINNED_FILE)
        copied.append(PINNED_FILE)
    return sorted(copied)


def _moved_artifact(artifact: Mapping[str, Any], source_dir: Path, target_dir: Path
                    ) -> dict[str, Any]:
    """The artifact manifest with its paths in the original's folder moved to the new one."""
    moved = dict(artifact)
    for key in ("path", "build_log_path"):
        path = Path(str(moved.get(key, "")))
        if path.is_relative_to(source_dir):
            moved[key] = str(target_dir / path.relative_to(source_dir))
    return moved


def _restore_inputs(source_dir: Path, workspace: Path, config: RunConfig) -> None:
    """Put back an attachment the workspace lost, as it was given (before any coder round)."""
    pristine = source_dir / "snapshots" / "round-0"
    base = pristine if pristine.is_dir() else source_dir / "workspace"
    for name in config.attachments:
        if (base / name).is_file() and not (workspace / name).exists():
            (workspace / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(base / name, workspace / name)


def derive_run(engine: Engine, run_id: str, checkpoint: Checkpoint,
               changes: Mapping[str, Any] | None = None, *,
               models: Mapping[str, Sequence[str]] | None = None,
               origin: Mapping[str, Any] | None = None, all_recall: bool = False) -> str:
    """Create a new run that continues ``run_id`` from ``checkpoint`` (shared by fork, replay).

    Validates first (nothing is created on a problem): the checkpoint must have a next node,
    the changes must pass :func:`check_changes`, the models (the original's unless
    ``models`` is given) and the original's sandbox must be usable. Then creates the run
    (``run.json`` from the original's with ``origin`` fields; its index row), copies the
    files the checkpoint saw (:func:`copy_checkpoint_files`) and what memory recalled
    (:func:`copy_recall`: every file with ``all_recall``, as a replay needs; otherwise
    those of :func:`recalled_before`, none when the task changes), and writes the
    checkpoint's values with ``changes`` into the new thread as the node that wrote it, so
    the same node runs next. A changed task is written as :data:`EDIT_NODE` instead, with
    ``start="edited"``, ``task_revision + 1`` and ``status="running"``: the safety gate
    runs next and judges it.

    Returns:
        The new run's id; it has not run yet (:meth:`Engine.stream` runs it).

    Raises:
        InputError: no such run, a checkpoint at the end of the run, unusable models or
            sandbox.

    """
    source_dir = _folder(engine, run_id)
    config = _read_config(source_dir)
    if not checkpoint.next:
        raise InputError(f"checkpoint {checkpoint.short_id} is the end of run '{run_id}':"
                         " nothing runs after it; fork from an earlier one")
    if checkpoint.written_by is None or "," in checkpoint.written_by:
        raise InputError(f"checkpoint {checkpoint.short_id} of run '{run_id}' does not say"
                         " which node wrote it; fork from another one")
    changes = check_changes(engine, changes or {})
    roles = engine.model_roles(models if models is not None else config.models)
    engine.check_models(roles, remote=models is None)
    choice = choose_backend(engine.settings.sandbox, config.sandbox)
    values = dict(checkpoint.values) | changes
    as_node = str(checkpoint.written_by)
    new_task = "task" in changes and changes["task"] != checkpoint.values.get("task")
    if new_task:  # the graph's path for an edited request: the gate judges it, then the person
        as_node = EDIT_NODE
        values |= {"start": "edited", "status": "running", "error": "",
                   "task_revision": int(checkpoint.values.get("task_revision", 0)) + 1}
    new_id = new_run_id()
    engine._create_run(  # the engine's one way to create a run's records and index row
        new_id, str(values.get("task", config.task)), roles, (), choice, config.limits,
        origin={"attachments": config.attachments, **(origin or {})})
    target = engine.settings.runs_dir / new_id
    copy_checkpoint_files(source_dir, target, checkpoint)
    _restore_inputs(source_dir, target / "workspace", config)
    copy_recall(source_dir, target, None if all_recall else
                set() if new_task else recalled_before(checkpoint.values, checkpoint.next))
    values["run_id"] = new_id
    if values.get("artifact"):
        values["artifact"] = _moved_artifact(values["artifact"], source_dir, target)
    record = _open(engine, new_id)
    try:
        if values.get("plan") and not new_task:  # a new task is planned afresh
            record.write_text("plan.md", Plan.model_validate(values["plan"]).to_markdown())
        config_ = _thread(new_id)
        config_["metadata"] = {WRITTEN_BY: as_node, "derived_from_run": run_id,
                               "derived_from_checkpoint": checkpoint.checkpoint_id}
        engine.graph.update_state(config_, values, as_node=as_node)
    finally:
        record.close()
    return new_id


def fork(engine: Engine, run_id: str, checkpoint_ref: str,
         changes: Mapping[str, Any] | None = None) -> str:
    """Continue ``run_id`` from a checkpoint, with ``changes`` to its state, as a new run.

    The new run's ``run.json`` has ``forked_from`` = ``{run_id, checkpoint_id, node}``; its
    events start with ``run_forked`` (with ``next``: the node(s) the fork runs first, the
    safety gate when the task was changed). The original is not written to.

    Args:
        engine: the engine.
        run_id: the run to fork.
        checkpoint_ref: a checkpoint id or a unique prefix of one (``runs history``).
        changes: state field -> new value (see :func:`check_changes`).

    Returns:
        The new run's id (drive it with :meth:`Engine.stream`).

    Raises:
        InputError: unknown run, unknown or ambiguous checkpoint, a checkpoint at the end,
            a field that is not a state key or a bad value, unusable models or sandbox.

    """
    checkpoint = find_checkpoint(engine, run_id, checkpoint_ref)
    checked = check_changes(engine, changes or {})
    origin = {"run_id": run_id, "checkpoint_id": checkpoint.checkpoint_id,
              "node": str(checkpoint.written_by)}
    new_id = derive_run(engine, run_id, checkpoint, checked, origin={"forked_from": origin})
    record = _open(engine, new_id)
    try:
        first = engine.graph.get_state(_thread(new_id)).next
        record.event("run_forked", forked_from=origin, next=list(first), changed=sorted(checked))
    finally:
        record.close()
    return new_id


# -- replay --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordedDecision:
    """A person's answer as the original run recorded it (a ``decision`` event)."""

    key: str
    interrupt: str
    decision: dict[str, Any]


def recorded_decisions(run_dir: Path) -> list[RecordedDecision]:
    """The decisions in a run's ``events.jsonl``, in the order they were given."""
    decisions = []
    path = run_dir / "events.jsonl"
    if not path.is_file():
        return []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("type") == "decision":
            raw = event.get("decision")
            decisions.append(RecordedDecision(
                key=str(event.get("key", "")), interrupt=str(event.get("interrupt", "")),
                decision=dict(raw) if isinstance(raw, Mapping) else {"action": str(raw)}))
    return decisions


class CheckOutcome(BaseModel):
    """One check of a ``checks.json``, durations left out."""

    passed: bool
    skipped: bool = False
    findings: list[dict[str, Any]] = Field(default_factory=list)


class ArtifactFacts(BaseModel):
    """An executable: where, sha256 (hex) and size (bytes)."""

    path: str
    sha256: str
    size_bytes: int


class ReplayComparison(BaseModel):
    """What a replay reproduced of its original (``replay.json`` in the replay's folder).

    Attributes:
        source_files: the original's source tree (workspace without the virtual
            environment, caches, build output) as relative path -> sha256.
        differing_files / only_in_original / only_in_replay: how the replay's tree differs.
        original_checks / replay_checks: the last ``checks.json`` per check (no durations).
        differing_checks: checks whose outcome or findings differ.
        original_artifact / replay_artifact: the executables (None: none built).
        artifact_identical: same sha256 (None when neither run built one).
        reproduced: the artifact is identical byte for byte, or (a build that is not
            byte-reproducible, or none) the status, source tree and check report are.

    """

    original_run: str
    replay_run: str
    original_status: str
    replay_status: str
    source_files: dict[str, str]
    differing_files: list[str]
    only_in_original: list[str]
    only_in_replay: list[str]
    original_checks: dict[str, CheckOutcome]
    replay_checks: dict[str, CheckOutcome]
    differing_checks: list[str]
    original_artifact: ArtifactFacts | None
    replay_artifact: ArtifactFacts | None
    artifact_identical: bool | None
    reproduced: bool

    @property
    def tree_identical(self) -> bool:
        """The replay's source tree equals the original's, file by file."""
        return not (self.differing_files or self.only_in_original or self.only_in_replay)

    @property
    def checks_identical(self) -> bool:
        """The replay's check report equals the original's (durations left out)."""
        return not self.differing_checks

    def verdict(self) -> str:
        """One sentence for people."""
        if self.artifact_identical:
            return "reproduced: the executable is identical byte for byte"
        if self.reproduced and self.original_artifact is not None:
            return ("reproduced: source tree and check report identical; the executable"
                    " differs (the build is not byte-reproducible)")
        if self.reproduced:
            return "reproduced: source tree and check report identical (no executable)"
        parts = []
        if self.original_status != self.replay_status:
            parts.append(f"status {self.original_status} -> {self.replay_status}")
        if not self.tree_identical:
            parts.append("source tree differs")
        if not self.checks_identical:
            parts.append(f"checks differ ({', '.join(self.differing_checks)})")
        return "not reproduced: " + "; ".join(parts or ["the executable differs"])


def source_tree(workspace: Path) -> dict[str, str]:
    """The project files of a workspace as relative POSIX path -> sha256 (hex).

    Transient folders (virtual environment, caches, build output, temp) are left out; a
    symbolic link is hashed as its target's name.
    """
    tree: dict[str, str] = {}
    if not workspace.is_dir():
        return tree
    for path in sorted(workspace.rglob("*")):
        relative = path.relative_to(workspace)
        if set(relative.parts) & set(TRANSIENT):
            continue
        if path.is_symlink():
            data = str(path.readlink()).encode()
        elif path.is_file():
            data = path.read_bytes()
        else:
            continue
        tree[relative.as_posix()] = hashlib.sha256(data).hexdigest()
    return tree


def _without_durations(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_durations(v) for k, v in value.items() if k != "duration_ms"}
    if isinstance(value, list):
        return [_without_durations(v) for v in value]
    return value


def check_outcomes(run_dir: Path) -> dict[str, CheckOutcome]:
    """A run's last ``checks.json`` per check; empty when no check ran.

    Durations are left out, and the run's folder reads ``<run>`` in messages.
    """
    path = run_dir / "checks.json"
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8").replace(json.dumps(str(run_dir))[1:-1], "<run>")
    data = _without_durations(json.loads(text))
    return {str(r.get("check")): CheckOutcome(passed=bool(r.get("passed")),
                                              skipped=bool(r.get("skipped")),
                                              findings=list(r.get("findings", [])))
            for r in data.get("results", [])}


def artifact_facts(values: Mapping[str, Any]) -> ArtifactFacts | None:
    """The executable a run's final state names, hashed from the file (None: none)."""
    artifact = values.get("artifact") or {}
    path = Path(str(artifact.get("path", "")))
    if not artifact or not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return ArtifactFacts(path=str(path), sha256=digest.hexdigest(),
                         size_bytes=path.stat().st_size)


class ReplayEngine(Engine):
    """The engine for replays: creates them, answers their questions, compares them.

    A replay's ``stream`` answers each question with the original's recorded decision at
    the same position (the n-th decision for the n-th answer, when it answers the same
    kind of question), except the kinds in :data:`NEVER_REPLAYED` (fetch approvals), which
    neither are answered nor count as positions. A question with no recorded answer is
    yielded as usual (the interface asks the person, or the run waits there, as the
    original did). A replay has no live web access (see the module's notes).
    """

    def start_replay(self, run_id: str) -> str:
        """Create a replay of ``run_id``: every role plays its ``cassette.jsonl`` by key.

        The replay starts from the original thread's first checkpoint (its input: task,
        attachments, round limits; a fork's starting state for a fork), with the original's
        inputs, sandbox and budgets. ``run.json`` has ``replay_of``; the events start with
        ``run_replayed`` (with ``web="off"`` and ``fetch_approvals_not_replayed``: how many
        of the original's decisions were fetch approvals, which are never given again).
        Everything memory recalled for the original is copied (:func:`copy_recall`), so
        the replay's prompts are the original's.

        Returns:
            The replay's run id (drive it with :meth:`stream`).

        Raises:
            InputError: no such run, a run without a recorded cassette or without
                checkpoints, or its sandbox cannot be used here.

        """
        source_dir = _folder(self, run_id)
        cassette = source_dir / "cassette.jsonl"
        if not cassette.is_file() or not cassette.read_text(encoding="utf-8").strip():
            raise InputError(f"run '{run_id}' has no recorded cassette (cassette.jsonl is"
                             " missing or empty): it cannot be replayed")
        history = run_history(self, run_id)
        if not history:
            raise InputError(f"run '{run_id}' never started: there is nothing to replay")
        first = history[0]
        models = {role: [f"replay:{cassette.resolve()}"] for role in ("planner", "coder",
                                                                      "judge")}
        new_id = derive_run(self, run_id, first, models=models, origin={"replay_of": run_id},
                            all_recall=True)
        decisions = recorded_decisions(source_dir)
        record = _open(self, new_id)
        try:
            record.event("run_replayed", replay_of=run_id, cassette=str(cassette),
                         decisions=len(decisions), web="off",
                         fetch_approvals_not_replayed=sum(
                             d.interrupt in NEVER_REPLAYED for d in decisions))
        finally:
            record.close()
        return new_id

    def stream(self, run_id: str, decision: Mapping[str, Any] | None = None
               ) -> Iterator[RunEvent]:
        """:meth:`Engine.stream`, answering a replay's questions with recorded decisions.

        Each recorded answer given is announced as a progress event
        ``{"type": "decision_replayed", "interrupt": kind, "decision": {...}}``. A fetch
        approval (:data:`NEVER_REPLAYED`) is always yielded, for the person to answer.
        """
        recorded = self.recorded_for(run_id)
        resumed: str | None = None  # the node an answer resumes starts again: shown once
        while True:
            answer: dict[str, Any] | None = None
            for event in super().stream(run_id, decision):
                if event.kind == "interrupt" and recorded:
                    answer = self._next_answer(run_id, recorded, event.data)
                    if answer is not None:
                        kind = str(event.data.get("kind"))
                        resumed = kind  # the question's node (never a coder: see above)
                        yield RunEvent(run_id, "progress", {
                            "type": "decision_replayed", "interrupt": kind, "decision": answer})
                        continue
                if event.data.get("type") == "node_started" and event.data.get("node") == resumed:
                    resumed = None
                    continue
                yield event
            if answer is None:
                return
            decision = answer

    def recorded_for(self, run_id: str) -> list[RecordedDecision]:
        """The recorded decisions a replay answers with, in order.

        Empty for a run that is no replay; the original's fetch approvals
        (:data:`NEVER_REPLAYED`) are left out: a replay never gives them.
        """
        path = self.settings.runs_dir / run_id / "run.json"
        if not path.is_file():
            return []
        original = RunConfig.model_validate_json(path.read_text("utf-8")).replay_of
        if not original:
            return []
        return [d for d in recorded_decisions(self.settings.runs_dir / original)
                if d.interrupt not in NEVER_REPLAYED]

    def web_actions_of(self, run_id: str) -> int:
        """How many web actions (search, fetch, download …) a run's coder ran (0: none).

        A replay of it makes none of them (no web access): what they fetched is missing.

        Raises:
            InputError: no such run.

        """
        path = _folder(self, run_id) / "events.jsonl"
        if not path.is_file():
            return 0
        count = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            count += isinstance(event, dict) and event.get("type") == "web_action"
        return count

    def _next_answer(self, run_id: str, recorded: Sequence[RecordedDecision],
                     payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """The recorded answer for the question now asked, or None.

        None: a fetch approval (the person answers it), no recorded answer left, or the
        replay asks another kind of question than the original did at this position.
        Positions count the replay's decisions other than fetch approvals.
        """
        kind = str(payload.get("kind"))
        if kind in NEVER_REPLAYED:
            return None
        record = _open(self, run_id)
        try:
            given = sum(1 for e in record.iter_events() if e.get("type") == "decision"
                        and e.get("interrupt") not in NEVER_REPLAYED)
            if given >= len(recorded):
                return None
            expected = recorded[given]
            if expected.interrupt != kind:
                record.event("replay_diverged", position=given, asked=kind,
                             recorded=expected.interrupt, key=expected.key)
                return None
            record.event("decision_replayed", position=given, key=expected.key,
                         interrupt=kind, decision=expected.decision)
            return dict(expected.decision)
        finally:
            record.close()

    def compare(self, replay_id: str) -> ReplayComparison:
        """Compare a replay with its original and write ``replay.json`` into its folder.

        Raises:
            InputError: no such run, or it is not a replay.

        """
        record = _open(self, replay_id)
        try:
            original_id = _read_config(record.run_dir).replay_of
            if not original_id:
                raise InputError(f"run '{replay_id}' is not a replay")
            original_dir = _folder(self, original_id)
            original_tree = source_tree(original_dir / "workspace")
            replay_tree = source_tree(record.workspace)
            original_checks = check_outcomes(original_dir)
            replay_checks = check_outcomes(record.run_dir)
            original_artifact = artifact_facts(self.state(original_id))
            replay_artifact = artifact_facts(self.state(replay_id))
            identical = (None if original_artifact is None and replay_artifact is None else
                         original_artifact is not None and replay_artifact is not None
                         and original_artifact.sha256 == replay_artifact.sha256)
            statuses = (self.get_run(original_id).status, self.get_run(replay_id).status)
            comparison = ReplayComparison(
                original_run=original_id, replay_run=replay_id,
                original_status=statuses[0], replay_status=statuses[1],
                source_files=original_tree,
                differing_files=sorted(p for p in original_tree.keys() & replay_tree.keys()
                                       if original_tree[p] != replay_tree[p]),
                only_in_original=sorted(original_tree.keys() - replay_tree.keys()),
                only_in_replay=sorted(replay_tree.keys() - original_tree.keys()),
                original_checks=original_checks, replay_checks=replay_checks,
                differing_checks=sorted(
                    name for name in original_checks.keys() | replay_checks.keys()
                    if original_checks.get(name) != replay_checks.get(name)),
                original_artifact=original_artifact, replay_artifact=replay_artifact,
                artifact_identical=identical, reproduced=False)
            comparison.reproduced = bool(identical) or (
                statuses[0] == statuses[1] and comparison.tree_identical
                and comparison.checks_identical)
            record.write_json(REPLAY_REPORT, comparison.model_dump(mode="json") | {
                "verdict": comparison.verdict(),
                "compared_at": datetime.now(UTC).isoformat(timespec="seconds")})
            record.event("replay_compared", replay_of=original_id,
                         reproduced=comparison.reproduced,
                         artifact_identical=comparison.artifact_identical,
                         differing_files=len(comparison.differing_files),
                         differing_checks=comparison.differing_checks)
            return comparison
        finally:
            record.close()
