"""Lessons (M4): what a finished run teaches, read from its folder; and the person's own edits.

:func:`derive_run` reads a run folder (see :mod:`memory.records` for the layout) and returns
the items semantic memory keeps for it, with ids that are stable per run (learning a run
again replaces its items, never duplicates them):

- ``tasks``: the task with its spec (``task-<run>``);
- ``plans``: the final plan (``plan-<run>``);
- ``summaries``: task, outcome, repair rounds, artifact and top findings (``summary-<run>``);
- ``errors``: each error finding of tester round *r* that is gone in round *r+1*, with its fix:
  the coder's closing note of round *r+1* and a short unified diff of the files it changed
  (``snapshots/round-<r+1>/`` against the next snapshot, or the final workspace) — ids ``E…``;
- ``lessons`` — ids ``L…``:

  - one per fixed error kind (a check's failures in one round): "when *check* reports *X*,
    do what fixed it: *the coder's note*";
  - one per rejection a person gave, with their words verbatim: a plan rejected with
    feedback, a plan or a task (request) edited, a start rejected, a download or web fetch
    refused, a safety verdict overruled (approved although the gate recommended otherwise),
    repairs stopped, and a hint given when repairs were stuck. Automatic answers
    (``--auto-approve`` and the CLI's automatic refusal of fetches when nobody is at the
    terminal) are not a person's words and teach nothing.

A fork (``run.json`` names ``forked_from``) starts with its original's reports of the rounds
tested before the fork point (``checks-round-N.json``, ``snapshots/``): it learns only the
fixes its own coder rounds made (a ``coder_round`` event in its own ``events.jsonl``) and
only the decisions given after its ``run_forked`` event, never again what its original
taught.

Secrets never reach semantic memory: everything read from the run folder (``run.json``,
``report.json``, events, spec, plan, check reports and the workspace files a diff shows,
attachments included) goes through a redactor before it is cut short or stored.

A person may list, add, edit and delete lessons (``multicoder memory lessons``). Their changes
are kept in ``<data_dir>/lessons.json`` (:class:`LessonBook`) as well as in semantic memory, so
re-learning a run, ``multicoder memory rebuild`` and even a fresh store keep them: a deleted
lesson stays deleted, an edited one keeps the person's text, an added one comes back.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from filelock import FileLock

if TYPE_CHECKING:
    from memory.semantic import MemoryItem, MetadataValue, SemanticMemory

__all__ = [
    "LESSON_BOOK",
    "Lesson",
    "LessonBook",
    "LessonNotFound",
    "Lessons",
    "derive_run",
]

LESSON_BOOK = "lessons.json"
#: Workspace folders that are tools' state, not the project (as the coder's snapshots skip).
TRANSIENT = (".venv", ".tmp", "build", "dist", "__pycache__", ".mypy_cache", ".ruff_cache",
             ".pytest_cache")
MAX_DIFF_CHARS = 3_000
MAX_WORDS_CHARS = 4_000
MAX_ERRORS_PER_CHECK = 20
#: Feedback the CLI writes when it refuses a fetch by itself (no person at the terminal).
AUTOMATIC_FEEDBACK = "refused automatically"

LessonOrigin = Literal["run", "person"]


# -- reading a run folder ----------------------------------------------------------------------


Redact = Callable[[str], str]
"""Text -> the same text with secrets replaced by ``[REDACTED]``."""


@dataclass(frozen=True)
class _Run:
    run_id: str
    run_dir: Path
    task: str
    date: str
    report: dict[str, Any]
    events: list[dict[str, Any]]
    redact: Redact
    forked: bool = False
    """The run is a fork: rounds before its own coder rounds are its original's."""

    @property
    def own_coder_rounds(self) -> set[int]:
        """The coder rounds this run ran itself (its ``coder_round`` events)."""
        return {event["round"] for event in self.events
                if event.get("type") == "coder_round" and isinstance(event.get("round"), int)}

    def read_json(self, path: Path) -> dict[str, Any]:
        """A JSON report of the run folder, redacted (``{}`` when unreadable)."""
        value: dict[str, Any] = _redact_obj(_read_json(path), self.redact)
        return value

    def read_text(self, path: Path) -> str:
        """A text file of the run folder, redacted (``""`` when unreadable)."""
        return self.redact(_read_text(path))

    @property
    def task_line(self) -> str:
        first = self.task.strip().splitlines()[0] if self.task.strip() else "(no task)"
        return _cut(first, 160)

    def meta(self, kind: str, what: str, **extra: MetadataValue) -> dict[str, MetadataValue]:
        return {"run_id": self.run_id, "kind": kind, "what": what, "date": self.date,
                "origin": "run", **extra}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _read_events(path: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return events
    for raw in lines:
        try:
            value = json.loads(raw)
        except ValueError:  # a torn line from a crash
            continue
        if isinstance(value, dict):
            events.append(value)
    return events


def _redact_obj(value: Any, redact: Redact) -> Any:
    """A JSON-like value with every string in it (keys too) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k: _redact_obj(v, redact)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_obj(item, redact) for item in value]
    return value


def _load(run_dir: Path, redact: Redact) -> _Run:
    config = _redact_obj(_read_json(run_dir / "run.json"), redact)
    report = _redact_obj(_read_json(run_dir / "report.json"), redact)
    events = [_redact_obj(event, redact) for event in _read_events(run_dir / "events.jsonl")]
    task = str(report.get("task") or config.get("task") or "")
    created = str(config.get("created_at") or (events[0].get("ts") if events else "") or "")
    return _Run(run_dir.name, run_dir, task, created[:10], report, events, redact,
                forked=bool(config.get("forked_from")))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _short_id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha1("\x00".join(parts).encode("utf-8"), usedforsecurity=False)
    return prefix + digest.hexdigest()[:7]


# -- errors and their fixes ----------------------------------------------------------------------

_VOLATILE = (
    (re.compile(r"0x[0-9a-fA-F]+"), "0x…"),
    (re.compile(r"(?:/tmp|/var/folders|[A-Za-z]:\\Users)[^\s'\"]*"), "<tmp>"),
    (re.compile(r"\d+"), "#"),
)


def _signature(finding: Mapping[str, Any]) -> str:
    """``check|file|message``, normalised so one failure compares equal across rounds."""
    lines = str(finding.get("message", "")).strip().splitlines()
    message = " ".join(lines[0].split()) if lines else ""
    for pattern, mask in _VOLATILE:
        message = pattern.sub(mask, message)
    return f"{finding.get('check', '')}|{finding.get('file') or ''}|{message}"


def _error_findings(checks: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = [f for result in checks.get("results", []) if isinstance(result, dict)
             for f in result.get("findings", []) if isinstance(f, dict)]
    return [f for f in found if f.get("severity", "error") == "error"]


def _render_finding(finding: Mapping[str, Any]) -> str:
    where = str(finding.get("file") or "")
    if where and finding.get("line"):
        where = f"{where}:{finding['line']}"
    message = str(finding.get("message", "")).strip()
    return " ".join(p for p in (str(finding.get("check", "")), where, _cut(message, 600)) if p)


def _project_files(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        return {}
    files: dict[str, Path] = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if set(relative.parts) & set(TRANSIENT) or not path.is_file() or path.is_symlink():
            continue
        files[relative.as_posix()] = path
    return files


def _diff(before: Path, after: Path, redact: Redact) -> tuple[list[str], str]:
    """The files changed from ``before`` to ``after`` and a unified diff, capped.

    File names and contents are redacted before they are compared line by line and cut.
    """
    old, new = _project_files(before), _project_files(after)
    changed: list[str] = []
    chunks: list[str] = []
    for name in sorted(set(old) | set(new)):
        try:
            a = old[name].read_bytes() if name in old else b""
            b = new[name].read_bytes() if name in new else b""
        except OSError:
            continue
        if a == b:
            continue
        shown = redact(name)
        changed.append(shown)
        try:
            a_lines = redact(a.decode("utf-8")).splitlines(keepends=True)
            b_lines = redact(b.decode("utf-8")).splitlines(keepends=True)
        except UnicodeDecodeError:
            chunks.append(f"Binary file {shown} changed\n")
            continue
        chunks.append("".join(difflib.unified_diff(
            a_lines, b_lines, fromfile=f"a/{shown}" if name in old else "/dev/null",
            tofile=f"b/{shown}" if name in new else "/dev/null", n=2)))
    text = "".join(chunk if chunk.endswith("\n") else chunk + "\n" for chunk in chunks)
    if len(text) > MAX_DIFF_CHARS:
        text = text[:MAX_DIFF_CHARS].rsplit("\n", 1)[0] + f"\n… (diff cut at {MAX_DIFF_CHARS}"\
               " characters)\n"
    return changed, text


def _coder_note(run: _Run, round_: int) -> str:
    for note in run.report.get("coder_notes") or []:
        prefix = f"round {round_}:"
        if isinstance(note, str) and note.startswith(prefix):
            return note[len(prefix):].strip()
    return ""


def _fixes(run: _Run) -> Iterator[MemoryItem]:
    """Errors gone in the next round, with their fix; and one lesson per fixed error kind.

    A fork learns only the fixes of its own coder rounds (see the module doc).
    """
    from memory.semantic import MemoryItem

    rounds: dict[int, dict[str, Any]] = {}
    for path in run.run_dir.glob("checks-round-*.json"):
        number = path.stem.removeprefix("checks-round-")
        if number.isdigit():
            rounds[int(number)] = run.read_json(path)
    own = run.own_coder_rounds if run.forked else None
    snapshots = run.run_dir / "snapshots"
    for round_ in sorted(rounds):
        if round_ + 1 not in rounds or rounds[round_].get("passed"):
            continue
        if own is not None and round_ + 1 not in own:
            continue  # the fix was made before the fork: the original learned it
        later = {_signature(f) for f in _error_findings(rounds[round_ + 1])}
        fixed = [f for f in _error_findings(rounds[round_]) if _signature(f) not in later]
        if not fixed:
            continue
        after = snapshots / f"round-{round_ + 2}"
        changed, diff = _diff(snapshots / f"round-{round_ + 1}",
                              after if after.is_dir() else run.run_dir / "workspace",
                              run.redact)
        note = _coder_note(run, round_ + 1)
        fix_text = (f"Fixed in repair round {round_ + 1}."
                    + (f" The coder's note: {note}" if note else "")
                    + (f"\nFiles changed: {', '.join(changed)}" if changed else "")
                    + (f"\n\n```diff\n{diff}```" if diff else ""))
        by_check: dict[str, list[dict[str, Any]]] = {}
        for finding in fixed:
            by_check.setdefault(str(finding.get("check", "")), []).append(finding)
        for check, findings in by_check.items():
            group = _short_id("L", run.run_id, "fix", str(round_), check)
            seen: set[str] = set()
            for finding in findings[:MAX_ERRORS_PER_CHECK]:
                signature = _signature(finding)
                if signature in seen:
                    continue
                seen.add(signature)
                yield MemoryItem("errors", _short_id("E", run.run_id, str(round_), signature),
                                 f"Error ({check}, round {round_}) while building"
                                 f" “{run.task_line}”:\n{_render_finding(finding)}\n\n{fix_text}",
                                 run.meta("fixed_error", f"an error fixed in round {round_ + 1}",
                                          check=check, round=round_, fix_group=group))
            first = str(findings[0].get("message", "")).strip().splitlines()[0]
            files = sorted({str(f.get("file")) for f in findings if f.get("file")})
            more = (f" (and {len(findings) - 1} more like it"
                    + (f", in {', '.join(files[:5])}" if files else "") + ")"
                    if len(findings) > 1 else "")
            todo = note or "see the change below"
            yield MemoryItem("lessons", group,
                             f"When the {check} check reports “{_cut(first, 300)}”{more}, do"
                             f" what fixed it in a past run: {todo}"
                             + (f"\nFiles changed: {', '.join(changed)}" if changed else ""),
                             run.meta("fixed_error", "a fixed error", check=check,
                                      round=round_))


# -- the person's decisions ----------------------------------------------------------------------


def _words(text: str) -> str:
    return f"“{_cut(text.strip(), MAX_WORDS_CHARS)}”"


def _decision_lessons(run: _Run) -> Iterator[MemoryItem]:
    from memory.semantic import MemoryItem

    verdict: dict[str, Any] = {}
    plan_summary = ""
    fetches: dict[str, dict[str, Any]] = {}
    task = run.task_line
    events = run.events
    if run.forked:  # decisions before the fork point are the original's
        start = next((n for n, e in enumerate(events) if e.get("type") == "run_forked"), None)
        events = events if start is None else events[start + 1:]
    for event in events:
        kind = event.get("type")
        if kind == "safety_verdict":
            verdict = event
        elif kind == "interrupt" and event.get("interrupt") == "approve_plan":
            lines = str(event.get("summary") or "").strip().splitlines()
            plan_summary = _cut(lines[0], 600) if lines else ""
        elif kind == "approval_requested":
            fetches[str(event.get("round", ""))] = event
        elif kind == "run_created" and event.get("task"):
            task = _cut(str(event["task"]).strip().splitlines()[0], 160)
        if kind != "decision" or not isinstance(event.get("decision"), dict):
            continue
        decision = event["decision"]
        action = str(decision.get("action", ""))
        feedback = str(decision.get("feedback") or "").strip()
        content = str(decision.get("content") or "").strip()
        interrupt = str(event.get("interrupt", ""))
        key = str(event.get("key", ""))
        lesson_id = _short_id("L", run.run_id, "decision", key)
        said = _words(feedback) if feedback else "(no reason given)"
        text, what, lesson_kind = "", "", ""
        if interrupt == "approve_plan" and action == "reject":
            text = (f"A person rejected a plan for “{task}”. Their reason, in their words:"
                    f" {said}" + (f"\nThe rejected plan: {plan_summary}" if plan_summary else ""))
            what, lesson_kind = "a rejected plan", "rejected_plan"
        elif interrupt == "approve_plan" and action == "edit":
            edited = _plan_summary(content)
            text = (f"A person edited the plan for “{task}” instead of approving it"
                    + (f"; their plan: {_words(edited)}" if edited else "")
                    + (f". Their words: {said}" if feedback else "")
                    + (f"\nThe plan they changed: {plan_summary}" if plan_summary else ""))
            what, lesson_kind = "an edited plan", "edited_plan"
        elif interrupt == "confirm_start" and action == "reject":
            text = f"A person refused to start “{task}”. Their reason, in their words: {said}"
            what, lesson_kind = "a rejected start", "rejected_start"
        elif interrupt == "confirm_start" and action == "edit" and content:
            text = (f"A person changed the request before the start. It was: “{task}”. They"
                    f" wrote instead: {_words(content)}"
                    + (f". Their words: {said}" if feedback else ""))
            what, lesson_kind = "an edited task", "edited_task"
            task = _cut(content.splitlines()[0], 160)
        elif interrupt == "confirm_start" and action == "approve" and verdict \
                and verdict.get("recommendation") != "approve":
            reasons = "; ".join(str(r) for r in verdict.get("reasons") or [])
            text = (f"A person approved “{task}” although the safety gate rated it"
                    f" {str(verdict.get('level', '')).upper()} and recommended to"
                    f" {verdict.get('recommendation')} ({_cut(reasons, 600)}). Their words:"
                    f" {said}")
            what, lesson_kind = "an overruled safety verdict", "overruled_safety"
        elif interrupt == "approve_fetch" and action == "reject" \
                and not feedback.startswith(AUTOMATIC_FEEDBACK):
            request = fetches.get(key.split("/")[1] if key.count("/") >= 2 else "", {})
            target = str(request.get("url") or "a web address")
            why = f" (asked because: {request['reason']})" if request.get("reason") else ""
            text = (f"A person refused to let the coder fetch {target}{why} while building"
                    f" “{task}”. Their reason, in their words: {said}")
            what, lesson_kind = "a refused download", "refused_download"
        elif interrupt == "ask_human" and action == "stop":
            text = (f"A person stopped the repairs of “{task}” when they were not converging."
                    f" Their reason, in their words: {said}")
            what, lesson_kind = "stopped repairs", "stopped_repairs"
        elif interrupt == "ask_human" and action == "continue" and feedback:
            text = (f"When the repairs of “{task}” were stuck, a person gave this hint, in"
                    f" their words: {said}")
            what, lesson_kind = "a person's hint", "hint"
        if text:
            yield MemoryItem("lessons", lesson_id, text,
                             run.meta(lesson_kind, what, decision=key))


def _plan_summary(content: str) -> str:
    try:
        value = json.loads(content)
    except ValueError:
        return content[:600]
    return str(value.get("summary", "")) if isinstance(value, dict) else ""


# -- the whole run -------------------------------------------------------------------------------


def _top_findings(run: _Run, limit: int = 5) -> list[str]:
    lines: list[str] = []
    for path in sorted(run.run_dir.glob("checks-round-*.json")):
        for finding in _error_findings(run.read_json(path)):
            line = _cut(_render_finding(finding).splitlines()[0], 200)
            if line not in lines:
                lines.append(line)
    return lines[:limit]


def derive_run(run_dir: Path, *, redact: Redact | None = None) -> list[MemoryItem]:
    """Everything a run folder teaches, as items for semantic memory (see the module doc).

    Works on finished and unfinished runs alike (what is missing is left out). Reading is
    forgiving: unreadable files and torn event lines are skipped. A fork teaches only what
    happened in it.

    Args:
        run_dir: ``<runs_root>/<run_id>``; the folder's name is the run id.
        redact: applied to everything read from the folder, before it is cut short
            (default: :func:`memory.recall.memory_redactor`).

    Returns:
        The items, with stable ids and metadata ``run_id``, ``kind``, ``what``, ``date``
        (``YYYY-MM-DD``), ``origin`` ("run"). Empty when the folder has no task.

    """
    from memory.recall import memory_redactor
    from memory.semantic import MemoryItem

    run = _load(run_dir, redact or memory_redactor())
    if not run.task.strip():
        return []
    status = str(run.report.get("status") or "unfinished")
    items: list[MemoryItem] = []
    spec = run.read_text(run_dir / "spec.md").strip()
    items.append(MemoryItem("tasks", f"task-{run.run_id}",
                            f"Task: {run.task.strip()}" + (f"\n\n{spec}" if spec else ""),
                            run.meta("task", f"a task ({status})", status=status)))
    plan = run.read_text(run_dir / "plan.md").strip()
    if plan:
        items.append(MemoryItem("plans", f"plan-{run.run_id}",
                                f"Plan for “{run.task_line}”:\n\n{plan}",
                                run.meta("plan", f"the plan of a run that ended {status}",
                                         status=status)))
    artifact = run.report.get("artifact") or {}
    artifact_line = (f"{Path(str(artifact.get('path'))).name}"
                     f" ({int(artifact.get('size_bytes', 0)):,} bytes)"
                     if isinstance(artifact, dict) and artifact.get("path") else "none")
    findings = _top_findings(run)
    summary = [f"Task: {run.task_line}", f"Outcome: {status}",
               f"Repair rounds: {run.report.get('rounds', 0)}", f"Artifact: {artifact_line}"]
    if run.report.get("error"):
        summary.append(f"Reason: {run.report['error']}")
    if findings:
        summary += ["Top findings:", *(f"- {line}" for line in findings)]
    items.append(MemoryItem("summaries", f"summary-{run.run_id}", "\n".join(summary),
                            run.meta("summary", f"a run summary ({status})", status=status)))
    items += _fixes(run)
    items += _decision_lessons(run)
    return items


# -- the person's lessons ------------------------------------------------------------------------


class LessonNotFound(LookupError):
    """No lesson with this id (or the id prefix matches several).

    Attributes:
        lesson_id: the id asked for.

    """

    def __init__(self, lesson_id: str, message: str | None = None) -> None:
        super().__init__(message or f"no lesson '{lesson_id}' (see: multicoder memory lessons"
                         " list)")
        self.lesson_id = lesson_id


@dataclass(frozen=True)
class Lesson:
    """A lesson as a person sees it.

    Attributes:
        lesson_id: e.g. ``L3f2a9c0``.
        text: the lesson.
        what: what it was, e.g. "a rejected plan", "a fixed error", "written by a person".
        date: ``YYYY-MM-DD`` it was learned or written.
        run_id: the run it came from (None for a lesson a person wrote).
        edited: a person changed its text.

    """

    lesson_id: str
    text: str
    what: str
    date: str
    run_id: str | None = None
    edited: bool = False

    @property
    def origin(self) -> LessonOrigin:
        """``run`` (learned from a run) or ``person`` (written by a person)."""
        return "run" if self.run_id else "person"


class LessonBook:
    """The person's changes to lessons, in ``<data_dir>/lessons.json`` (written atomically).

    Shape: ``{"version": 1, "lessons": {id: {"op": "added"|"edited"|"deleted", "text",
    "ts", "date"}}}``. Writes hold ``lessons.json.lock``.

    Args:
        path: the JSON file (created on first write).

    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(path.with_name(path.name + ".lock"), timeout=30)

    def entries(self) -> dict[str, dict[str, str]]:
        """Lesson id -> the person's last change to it."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ValueError(f"{self.path} is not readable JSON ({exc}); fix or remove it")\
                from None
        lessons = raw.get("lessons", {}) if isinstance(raw, dict) else {}
        return {str(k): dict(v) for k, v in lessons.items() if isinstance(v, dict)}

    def record(self, lesson_id: str, op: Literal["added", "edited", "deleted"],
               text: str = "", date: str | None = None) -> None:
        """Remember that the person added, edited or deleted ``lesson_id``."""
        now = datetime.now(UTC)
        with self._lock:
            entries = self.entries()
            previous = entries.get(lesson_id, {})
            if op == "edited" and previous.get("op") == "added":
                op = "added"  # still the person's own lesson
            entries[lesson_id] = {"op": op, "text": text, "ts": now.isoformat(),
                                  "date": date or previous.get("date") or f"{now:%Y-%m-%d}"}
            self._write({"version": 1, "lessons": entries})

    def apply(self, items: Iterable[MemoryItem]) -> list[MemoryItem]:
        """``items`` with the person's changes: deleted lessons left out, edited ones changed."""
        from memory.semantic import MemoryItem

        entries = self.entries()
        result: list[MemoryItem] = []
        for item in items:
            entry = entries.get(item.item_id) if item.collection == "lessons" else None
            if entry is None:
                result.append(item)
            elif entry["op"] == "edited":
                result.append(MemoryItem(item.collection, item.item_id, entry["text"],
                                         dict(item.metadata) | {"edited": True}))
        return result

    def added(self) -> list[MemoryItem]:
        """The lessons the person wrote, as items."""
        from memory.semantic import MemoryItem

        return [MemoryItem("lessons", lesson_id, entry["text"], {
            "kind": "person", "what": "written by a person", "date": entry.get("date", ""),
            "origin": "person", "edited": False})
            for lesson_id, entry in self.entries().items() if entry.get("op") == "added"]

    def _write(self, data: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed before the rename
            "w", dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp",
            delete=False, encoding="utf-8")
        temporary = Path(handle.name)
        try:
            with handle:
                json.dump(data, handle, ensure_ascii=False, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise


def _lesson(item: MemoryItem) -> Lesson:
    meta = item.metadata
    run_id = str(meta["run_id"]) if meta.get("run_id") else None
    return Lesson(item.item_id, item.text, str(meta.get("what", "a lesson")),
                  str(meta.get("date", "")), run_id, bool(meta.get("edited", False)))


class Lessons:
    """What a person does with lessons: list, show, add, edit, delete.

    Args:
        semantic: the store.
        book: where the person's changes are kept too (survive re-learning and rebuilds).

    """

    def __init__(self, semantic: SemanticMemory, book: LessonBook) -> None:
        self.semantic = semantic
        self.book = book

    def list_all(self, *, limit: int | None = None) -> list[Lesson]:
        """Every lesson, newest first (by date, then id)."""
        lessons = [_lesson(item) for item in self.semantic.get("lessons")]
        lessons.sort(key=lambda lesson: (lesson.date, lesson.run_id or "", lesson.lesson_id),
                     reverse=True)
        return lessons[:limit] if limit is not None else lessons

    def get(self, lesson_id: str) -> Lesson:
        """The lesson with this id, or with this unique id prefix (at least 3 characters).

        Raises:
            LessonNotFound: no such lesson, or the prefix matches several.

        """
        found = self.semantic.get("lessons", ids=[lesson_id])
        if found:
            return _lesson(found[0])
        if len(lesson_id) >= 3:
            matches = [item for item in self.semantic.get("lessons")
                       if item.item_id.lower().startswith(lesson_id.lower())]
            if len(matches) == 1:
                return _lesson(matches[0])
            if len(matches) > 1:
                raise LessonNotFound(lesson_id, f"'{lesson_id}' matches {len(matches)} lessons:"
                                     f" {', '.join(m.item_id for m in matches[:5])}; give more"
                                     " of the id")
        raise LessonNotFound(lesson_id)

    def add(self, text: str) -> Lesson:
        """Store a lesson a person wrote (secrets in it redacted, in the book too).

        Raises:
            ValueError: the text is empty.

        """
        text = self.semantic.redact(text.strip())
        if not text:
            raise ValueError("the lesson is empty: give its text")
        from memory.semantic import MemoryItem

        lesson_id = "L" + secrets.token_hex(4)[:7]
        date = f"{datetime.now(UTC):%Y-%m-%d}"
        self.book.record(lesson_id, "added", text, date)
        self.semantic.upsert([MemoryItem("lessons", lesson_id, text, {
            "kind": "person", "what": "written by a person", "date": date, "origin": "person",
            "edited": False})])
        return self.get(lesson_id)

    def edit(self, lesson_id: str, text: str) -> Lesson:
        """Replace a lesson's text (kept when its run is learned again; secrets redacted).

        Raises:
            LessonNotFound: no such lesson.
            ValueError: the text is empty.

        """
        text = self.semantic.redact(text.strip())
        if not text:
            raise ValueError("the new text is empty: to remove a lesson, delete it")
        lesson = self.get(lesson_id)
        self.book.record(lesson.lesson_id, "edited", text, lesson.date)
        self.semantic.update("lessons", lesson.lesson_id, text=text,
                             metadata={"edited": lesson.origin == "run"})
        return self.get(lesson.lesson_id)

    def delete(self, lesson_id: str) -> Lesson:
        """Delete a lesson (it stays deleted when its run is learned again).

        Returns:
            The deleted lesson.

        Raises:
            LessonNotFound: no such lesson.

        """
        lesson = self.get(lesson_id)
        self.book.record(lesson.lesson_id, "deleted", "", lesson.date)
        self.semantic.delete("lessons", ids=[lesson.lesson_id])
        return lesson

    def restore_added(self) -> int:
        """Put the person's own lessons back (after a fresh store). Returns how many."""
        added = self.book.added()
        self.semantic.upsert(added)
        return len(added)


def run_folders(runs_root: Path) -> list[Path]:
    """The run folders under ``runs_root``, oldest first (run ids sort by time)."""
    if not runs_root.is_dir():
        return []
    return sorted(p for p in runs_root.iterdir() if p.is_dir() and not p.name.startswith("."))

