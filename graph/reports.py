"""Gathering reports (L2) and statistics (L5) from run folders; rendering is in memory.reports.

A run's report is built from its folder (``run.json``, ``events.jsonl``, ``spec.md``,
``plan.md``, ``checks-round-N.json``, ``report.json``, ``workspace/``, ``dist/``) and its spending
(:class:`agents.budget.RunSpending`, from ``cassette.jsonl`` and ``events.jsonl``). The timeline
can be filtered by time, event type and risk level.

Chat messages (``message`` events: the conversation, also in ``chat.md``) are left out of the
timeline unless ``--type message`` asks for them.

Risk level of an event (:func:`risk_of`):

- **high**: a red safety verdict (any layer); an action refused by the policy; a failure (a
  failed check, failed packaging, a failed run, a run that ended without an executable); a
  budget stop; a person's decision to reject or stop;
- **medium**: a yellow verdict, or a request the classifier flagged as harmful; a question to a
  person (``interrupt``, ``approval_requested``); a web action or its results; a repair round
  (``coder_round`` / ``tester_started`` after round 0); a failed tool call; a loop, a turn
  limit, a model fallback, a rejected model answer, a cancelled run;
- **low**: everything else (progress, model calls, passed checks, approvals ...).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agents.budget import RunSpending, UsageTotals, read_events
from graph.errors import InputError
from graph.history import RunHistory
from graph.settings import Settings
from memory.records import atomic_write
from memory.redaction import Redactor
from memory.reports import (
    REPORT_FORMATS,
    RISK_LEVELS,
    STATS_FORMATS,
    Artifact,
    CheckOutcome,
    CheckStatus,
    FileEntry,
    FindingItem,
    FindingPattern,
    PersonDecision,
    ReportFormat,
    ReportRenderError,
    RiskLevel,
    RunReport,
    SafetyLayer,
    StatsReport,
    StatsRun,
    TimelineEntry,
    Usage,
    render_run_report,
    render_stats_html,
)
from memory.run_index import FINISHED_STATUSES, RunRow

__all__ = ["KNOWN_EVENT_TYPES", "STATS_FORMATS", "ReportRenderError", "StatsReport",
           "TimelineFilter", "artifact_of", "check_format", "checks_of",
           "decisions_of", "default_report_path", "describe_event", "files_of",
           "finding_pattern", "gather_run_report", "gather_stats", "make_filter",
           "model_wait_s", "parse_period", "parse_when", "risk_of", "safety_of", "timeline_of",
           "write_run_report", "write_stats_report"]

KNOWN_EVENT_TYPES: frozenset[str] = frozenset({
    "run_created", "sandbox_chosen", "session_started", "node_started", "node_finished",
    "safety_classifier", "safety_judge", "safety_verdict", "model_call", "model_answer",
    "model_fallback", "model_reused", "recorded_answer_stale", "price_unknown",
    "preflight_warning", "answer_rejected", "interrupt", "interrupt_answered", "decision",
    "approval_requested", "coder_round", "tool_call", "web_action", "web_results",
    "loop_detected", "turn_limit", "tester_started", "environment_ready", "check_result",
    "packaging_started", "packaging_built", "packaging_failed", "run_finished", "run_failed",
    "run_cancelled", "run_resumed", "budget_exceeded", "limits_changed", "message", "summary"})
"""Event types MultiCoder writes to ``events.jsonl`` (a ``--type`` outside this set and the
run's own types is refused as a likely typo)."""

MAX_FILES = 300
"""Workspace files listed in a report (the rest are counted)."""

MAX_FINDINGS = 50
"""Findings kept per check and round."""

MAX_DETAIL = 300
"""Characters of an event's details in the timeline."""

SKIPPED_DIRS = frozenset({".venv", "venv", "build", "dist", ".tmp", "__pycache__", ".git",
                          ".mypy_cache", ".pytest_cache", ".ruff_cache", "node_modules"})
"""Workspace folders a report does not list (environments, build output, caches)."""

_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)(?:\s*ago)?")
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


# -- filters -----------------------------------------------------------------------------------


def parse_when(text: str, *, now: datetime | None = None, end_of_day: bool = False,
               option: str = "--since") -> datetime:
    """A point in time from ISO-8601 or a relative span back from now.

    ``2026-11-22``, ``2026-11-22T14:30``, ``2026-11-22 14:30:00+03:00``, ``…Z`` (a time without
    an offset is UTC), or ``90s``, ``30m``, ``2h``, ``3d``, ``1w`` (optionally ``ago``).

    Args:
        text: what the person typed.
        now: "now" (aware; tests pass a fixed one); the current UTC time by default.
        end_of_day: a bare date means the end of that day (for ``--until``), not its start.
        option: the option's name, for the error message.

    Returns:
        An aware UTC datetime.

    Raises:
        InputError: neither a date nor a relative span.

    """
    value = text.strip().lower()
    now = now or datetime.now(UTC)
    relative = _RELATIVE.fullmatch(value)
    if relative:
        return now - timedelta(seconds=float(relative.group(1)) * _UNITS[relative.group(2)])
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise InputError(f"{option} '{text}' is not a date or a span: use ISO-8601 such as"
                         " 2026-11-22 or 2026-11-22T14:30, or a span such as 30m, 2h, 3d,"
                         " 1w") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end_of_day and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        moment += timedelta(days=1) - timedelta(microseconds=1)
    return moment.astimezone(UTC)


def _timestamp(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TimelineFilter:
    """Which timeline events a report keeps.

    All conditions must hold; within ``types`` and ``risks`` any one value is enough. Empty
    sets and None bounds keep everything.

    Attributes:
        since / until: inclusive bounds (aware datetimes).
        types: event types as in ``events.jsonl``.
        risks: risk levels (``low``, ``medium``, ``high``).

    """

    since: datetime | None = None
    until: datetime | None = None
    types: frozenset[str] = field(default_factory=frozenset)
    risks: frozenset[str] = field(default_factory=frozenset)

    def matches(self, entry: TimelineEntry) -> bool:
        """Whether ``entry`` passes (an entry without a readable time fails a time bound)."""
        if self.types and entry.type not in self.types:
            return False
        if self.risks and entry.risk not in self.risks:
            return False
        if self.since is None and self.until is None:
            return True
        moment = _timestamp(entry.ts)
        if moment is None:
            return False
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment <= self.until)

    def describe(self) -> list[str]:
        """The filters in words, e.g. ``["since 2026-11-22 00:00:00 UTC", "risk: high"]``."""
        words = []
        if self.since is not None:
            words.append(f"since {self.since:%Y-%m-%d %H:%M:%S} UTC")
        if self.until is not None:
            words.append(f"until {self.until:%Y-%m-%d %H:%M:%S} UTC")
        if self.types:
            words.append("event type: " + ", ".join(sorted(self.types)))
        if self.risks:
            words.append("risk: " + ", ".join(r for r in RISK_LEVELS if r in self.risks))
        return words


def parse_period(since: str | None, until: str | None, *, now: datetime | None = None
                 ) -> tuple[datetime | None, datetime | None]:
    """``--since`` and ``--until`` as aware UTC datetimes (None: open); see :func:`parse_when`.

    A bare date given as ``until`` means the end of that day.

    Raises:
        InputError: a value is not a date or span, or ``since`` is after ``until``.

    """
    start = parse_when(since, now=now) if since else None
    end = parse_when(until, now=now, end_of_day=True, option="--until") if until else None
    if start is not None and end is not None and start > end:
        raise InputError(f"--since ({start:%Y-%m-%d %H:%M} UTC) is after --until"
                         f" ({end:%Y-%m-%d %H:%M} UTC)")
    return start, end


def make_filter(since: str | None = None, until: str | None = None,
                types: Sequence[str] = (), risks: Sequence[str] = (), *,
                now: datetime | None = None) -> TimelineFilter:
    """A :class:`TimelineFilter` from command-line values.

    Args:
        since: the start, see :func:`parse_when`.
        until: the end (a bare date includes that day).
        types: event types (comma-separated values are split too).
        risks: ``low``, ``medium``, ``high`` (comma-separated values are split too).
        now: "now" for relative spans.

    Raises:
        InputError: a bad date, an unknown risk level, or ``since`` after ``until``.

    """
    start, end = parse_period(since, until, now=now)
    type_set = frozenset(t.strip() for value in types for t in value.split(",") if t.strip())
    risk_set = frozenset(r.strip().lower() for value in risks for r in value.split(",")
                         if r.strip())
    unknown = sorted(risk_set - set(RISK_LEVELS))
    if unknown:
        raise InputError(f"--risk '{unknown[0]}' is not a risk level: use low, medium or high")
    return TimelineFilter(start, end, type_set, risk_set)


# -- the timeline ------------------------------------------------------------------------------


def _failed_check(event: Mapping[str, Any]) -> bool:
    return not event.get("passed", True) and not event.get("skipped", False)


def risk_of(event: Mapping[str, Any]) -> RiskLevel:
    """The risk level of one event (the rules are in this module's docstring)."""
    kind = event.get("type")
    level = str(event.get("level", ""))
    error = str(event.get("error") or "")
    if kind in ("safety_judge", "safety_verdict") and level == "red":
        return "high"
    if kind in ("tool_call", "web_action") and error.startswith("refused by policy"):
        return "high"
    if kind in ("run_failed", "packaging_failed", "budget_exceeded"):
        return "high"
    if kind == "check_result" and _failed_check(event):
        return "high"
    if kind == "run_finished" and event.get("status") != "done":
        return "high"
    decision = event.get("decision")
    if kind == "decision" and isinstance(decision, Mapping) and \
            decision.get("action") in ("reject", "stop"):
        return "high"
    if kind in ("safety_judge", "safety_verdict") and level == "yellow":
        return "medium"
    if kind == "safety_classifier" and event.get("label") == "harmful":
        return "medium"
    if kind in ("interrupt", "approval_requested", "web_action", "web_results",
                "loop_detected", "turn_limit", "model_fallback", "answer_rejected",
                "run_cancelled", "preflight_warning"):
        return "medium"
    if kind in ("coder_round", "tester_started") and int(event.get("round") or 0) > 0:
        return "medium"
    if kind == "tool_call" and not event.get("success", True):
        return "medium"
    return "low"


def _short(value: object, limit: int = MAX_DETAIL) -> str:
    text = " ".join(str(value if value is not None else "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _sentences(items: Iterable[object]) -> str:
    """Reasons as one text: sentences joined by a space, fragments by ``; ``."""
    text = ""
    for item in items:
        part = str(item).strip()
        if part:
            text += ("" if not text else " " if text[-1] in ".!?;:" else "; ") + part
    return text


def _plain(markdown: object) -> str:
    """Markdown shortened to plain words: no emphasis, code or list marks, one line."""
    text = re.sub(r"\*\*|__|`", "", str(markdown or ""))
    return _short(re.sub(r"(?m)^\s*(?:[-*]|\d+\.)\s+", "", text))


def _verdict_text(event: Mapping[str, Any]) -> str:
    reasons = _sentences(event.get("reasons") or [])
    text = f"{event.get('level')} / {event.get('recommendation')}: {reasons}"
    if event.get("escalated"):
        text += " (raised to yellow: the classifier flagged the request)"
    return text


def _describers() -> dict[str, Any]:
    def check(e: Mapping[str, Any]) -> str:
        verdict = "skipped" if e.get("skipped") else ("passed" if e.get("passed") else "FAILED")
        text = (f"{e.get('check')}: {verdict}, {e.get('findings', 0)} findings"
                f" ({float(e.get('duration_ms') or 0) / 1000:.1f} s)")
        problems = e.get("problems") or []
        return text + (f" — {problems[0]}" if problems else "")

    def tool(e: Mapping[str, Any]) -> str:
        mark = "ok" if e.get("success") else "failed"
        text = f"{e.get('action')} {e.get('target') or ''} ({mark})"
        return text + (f": {e.get('error')}" if e.get("error") else "")

    def decision(e: Mapping[str, Any]) -> str:
        raw = e.get("decision")
        answer = raw if isinstance(raw, Mapping) else {"action": raw}
        text = f"{e.get('interrupt')}: {answer.get('action')}"
        return text + (f" — {answer.get('feedback')}" if answer.get("feedback") else "")

    def cost(value: object) -> str:
        return "unknown price" if value is None else f"${float(str(value)):.4f}"

    return {
        "run_created": lambda e: f"task: {e.get('task')}",
        "sandbox_chosen": lambda e: (f"{e.get('backend')} ("
                                     f"{'isolated' if e.get('isolated') else 'NOT sandboxed'})"
                                     f": {e.get('reason') or ''}"),
        "session_started": lambda e: "engine session started",
        "node_started": lambda e: f"{e.get('node')} started",
        "node_finished": lambda e: (f"{e.get('node')} finished in"
                                    f" {float(e.get('duration_ms') or 0) / 1000:.1f} s"),
        "safety_classifier": lambda e: (
            f"{e.get('label')}: probability of harm {float(e.get('harmful_probability') or 0):.2f}"
            f" (threshold {e.get('threshold')}), category {e.get('category')}"),
        "safety_judge": _verdict_text,
        "safety_verdict": _verdict_text,
        "model_call": lambda e: (f"{e.get('model')}: {int(e.get('input_tokens') or 0):,} tokens"
                                 f" in, {int(e.get('output_tokens') or 0):,} out,"
                                 f" {cost(e.get('cost_usd'))}"),
        "model_answer": lambda e: (f"{e.get('key')} ({e.get('role')}): {e.get('tool_calls')}"
                                   f" tool calls, {e.get('chars')} characters"),
        "interrupt": lambda e: f"asks {e.get('interrupt')}: {_plain(e.get('summary'))}",
        "interrupt_answered": lambda e: f"{e.get('interrupt')} answered",
        "decision": decision,
        "approval_requested": lambda e: f"approval asked for {e.get('action')} {e.get('url')}",
        "coder_round": lambda e: f"round {e.get('round')}" + (
            " (repair)" if int(e.get("round") or 0) else ""),
        "tester_started": lambda e: f"checks of round {e.get('round')}",
        "environment_ready": lambda e: f"environment ready ({e.get('installs')} installs)",
        "tool_call": tool,
        "web_action": tool,
        "web_results": lambda e: f"{e.get('action')}: {len(e.get('cards') or [])} results",
        "check_result": check,
        "packaging_started": lambda e: f"packaging {e.get('name')}",
        "packaging_built": lambda e: (f"built {e.get('path')}"
                                      f" ({int(e.get('size_bytes') or 0) / 1e6:.1f} MB)"),
        "run_finished": lambda e: f"status {e.get('status')}",
        "budget_exceeded": lambda e: (f"{e.get('budget')} budget: spent {e.get('spent')} of"
                                      f" {e.get('limit')}"),
        "message": lambda e: (f"{e.get('speaker')} · {e.get('kind')}"
                              + (f" · {e.get('title')}" if e.get("title") else "")
                              + f": {e.get('text') or ''}"),
    }


_DESCRIBERS = _describers()
_PLAIN_FIELDS = ("ts", "seq", "type")


def describe_event(event: Mapping[str, Any]) -> str:
    """One line (at most :data:`MAX_DETAIL` characters) saying what an event was.

    Known types get a sentence; others list their fields as ``name=value``.
    """
    describer = _DESCRIBERS.get(str(event.get("type")))
    if describer is not None:
        try:
            return _short(describer(event))
        except (TypeError, ValueError):  # a field of an unexpected type: fall back to fields
            pass
    fields = " ".join(f"{k}={v}" for k, v in event.items()
                      if k not in _PLAIN_FIELDS and v not in (None, "", [], {}))
    return _short(fields)


def timeline_of(events: Iterable[Mapping[str, Any]]) -> list[TimelineEntry]:
    """The timeline of a run: every event with its node, details and risk level.

    The node of an event is the node started last (``node_started``), until it finishes or a
    new engine session starts; events outside any node have ``""``.
    """
    node = ""
    entries = []
    for event in events:
        kind = str(event.get("type") or "")
        if kind == "node_started":
            node = str(event.get("node") or "")
        elif kind == "session_started":
            node = ""
        try:
            seq = int(event.get("seq") or 0)
        except (TypeError, ValueError):
            seq = 0
        entry_node = str(event.get("node") or node) if kind.startswith("node_") else node
        entries.append(TimelineEntry(ts=str(event.get("ts") or ""), seq=seq, node=entry_node,
                                     type=kind, details=describe_event(event),
                                     risk=risk_of(event)))
        if kind == "node_finished":
            node = ""
    return entries


# -- reading a run folder ----------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _round_of(path: Path) -> int:
    match = re.search(r"(\d+)", path.stem)
    return int(match.group(1)) if match else 0


def _finding(raw: object) -> FindingItem:
    if not isinstance(raw, Mapping):
        return FindingItem(message=_short(raw, 1000))
    line = raw.get("line")
    message = str(raw.get("message") or "")
    lines = [line for line in message.splitlines() if line.strip()]
    message = "\n".join(lines[:12] + (["…"] if len(lines) > 12 else []))
    return FindingItem(file=str(raw["file"]) if raw.get("file") else None,
                       line=line if isinstance(line, int) else None,
                       severity=str(raw.get("severity") or "error"),
                       message=message[:1500])


def _status(result: Mapping[str, Any]) -> CheckStatus:
    if result.get("skipped"):
        return "skipped"
    return "passed" if result.get("passed") else "failed"


def checks_of(run_dir: Path, events: Sequence[Mapping[str, Any]]) -> list[CheckOutcome]:
    """Every check of every round, ordered by round.

    From ``checks-round-N.json`` (or ``checks.json``), plus the checks only the events know
    (the packaged run's check).
    """
    outcomes: list[CheckOutcome] = []
    seen: set[tuple[int, str]] = set()
    files = sorted(run_dir.glob("checks-round-*.json"), key=_round_of)
    if not files and (run_dir / "checks.json").is_file():
        files = [run_dir / "checks.json"]
    for path in files:
        data = _read_json(path)
        round_ = int(data.get("round", _round_of(path)) or 0)
        for result in data.get("results") or []:
            if not isinstance(result, Mapping):
                continue
            findings = list(result.get("findings") or [])
            outcomes.append(CheckOutcome(
                round=round_, check=str(result.get("check")), status=_status(result),
                duration_ms=int(result.get("duration_ms") or 0),
                findings=[_finding(f) for f in findings[:MAX_FINDINGS]],
                findings_total=len(findings)))
            seen.add((round_, str(result.get("check"))))
    for event in events:
        if event.get("type") != "check_result":
            continue
        key = (int(event.get("round") or 0), str(event.get("check")))
        if key in seen:
            continue
        seen.add(key)
        problems = list(event.get("problems") or [])
        outcomes.append(CheckOutcome(
            round=key[0], check=key[1], status=_status(event),
            duration_ms=int(event.get("duration_ms") or 0),
            findings=[_finding(p) for p in problems[:MAX_FINDINGS]],
            findings_total=max(int(event.get("findings") or 0), len(problems))))
    return sorted(outcomes, key=lambda outcome: outcome.round)


def safety_of(events: Iterable[Mapping[str, Any]]) -> list[SafetyLayer]:
    """The safety gate's layers in order: the classifier, the judge, the final verdict."""
    layers = []
    for event in events:
        kind = event.get("type")
        ts = str(event.get("ts") or "")
        if kind == "safety_classifier":
            details = (f"probability of harm {float(event.get('harmful_probability') or 0):.2f}"
                       f" (threshold {event.get('threshold')}), category"
                       f" {event.get('category')}")
            cues = event.get("cues")
            if cues:
                details += f"; cues: {cues}"
            layers.append(SafetyLayer(ts=ts, layer="classifier",
                                      level=str(event.get("label")), details=details))
        elif kind in ("safety_judge", "safety_verdict"):
            details = _sentences(event.get("reasons") or [])
            if event.get("categories"):
                details += " — categories: " + ", ".join(map(str, event["categories"]))
            if event.get("escalated"):
                details += " — raised to yellow because the classifier flagged the request"
            layers.append(SafetyLayer(
                ts=ts, layer="judge" if kind == "safety_judge" else "final verdict",
                level=str(event.get("level")), recommendation=str(event.get("recommendation")),
                details=details))
    return layers


def decisions_of(events: Iterable[Mapping[str, Any]]) -> list[PersonDecision]:
    """Questions put to a person (``interrupt`` events) paired with their ``decision``."""
    rows: list[PersonDecision] = []
    open_rows: dict[str, list[int]] = {}
    for event in events:
        kind = event.get("type")
        question = str(event.get("interrupt") or "")
        if kind == "interrupt":
            summary = _short(_plain(event.get("summary")), 240)
            waiting = open_rows.get(question, [])
            if any(rows[i].summary == summary for i in waiting):
                continue  # the same question asked again after a resume
            rows.append(PersonDecision(asked_at=str(event.get("ts") or ""), question=question,
                                       summary=summary))
            open_rows.setdefault(question, []).append(len(rows) - 1)
        elif kind == "decision":
            raw = event.get("decision")
            answer = raw if isinstance(raw, Mapping) else {"action": raw}
            feedback = str(answer.get("feedback") or "")
            if not feedback and answer.get("content"):
                feedback = "edited: " + _short(answer["content"], 200)
            waiting = open_rows.get(question, [])
            if waiting:
                row = rows[waiting.pop(0)]
            else:
                row = PersonDecision(asked_at="", question=question)
                rows.append(row)
            row.answer = str(answer.get("action") or "")
            row.feedback = _short(feedback, 400)
            row.answered_at = str(event.get("ts") or "")
    return rows


def files_of(workspace: Path) -> tuple[list[FileEntry], int]:
    """The workspace's files (relative POSIX paths, sorted) and how many were left out.

    Folders in :data:`SKIPPED_DIRS` are not listed; at most :data:`MAX_FILES` files are.
    """
    if not workspace.is_dir():
        return [], 0
    found: list[FileEntry] = []
    for root, dirs, files in os.walk(workspace):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        for name in files:
            path = Path(root, name)
            try:
                size = path.lstat().st_size
            except OSError:
                continue
            found.append(FileEntry(path=path.relative_to(workspace).as_posix(), size_bytes=size))
    found.sort(key=lambda entry: entry.path)
    return found[:MAX_FILES], max(0, len(found) - MAX_FILES)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artifact_of(report_json: Mapping[str, Any], events: Sequence[Mapping[str, Any]]
                ) -> Artifact | None:
    """The packaged executable from ``report.json`` or the last ``packaging_built`` event.

    A missing size or checksum is read from the file when it still exists.
    """
    raw = report_json.get("artifact")
    if not isinstance(raw, Mapping):
        built = [e for e in events if e.get("type") == "packaging_built"]
        raw = built[-1] if built else None
    if not isinstance(raw, Mapping) or not raw.get("path"):
        return None
    path = Path(str(raw["path"]))
    size = int(raw.get("size_bytes") or 0)
    sha = str(raw.get("sha256") or "")
    try:
        if path.is_file():
            size = size or path.stat().st_size
            sha = sha or _sha256(path)
    except OSError:
        pass
    return Artifact(path=str(path), size_bytes=size, sha256=sha)


def _usage(name: str, totals: UsageTotals | None, time_s: float = 0.0) -> Usage:
    totals = totals or UsageTotals()
    return Usage(name=name, calls=totals.calls, input_tokens=totals.input_tokens,
                 output_tokens=totals.output_tokens, cost_usd=totals.cost_usd,
                 unpriced_calls=totals.unpriced_calls, time_s=round(time_s, 3))


def model_wait_s(events: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Seconds spent waiting for each model: from the event before each ``model_call`` to it."""
    waits: dict[str, float] = {}
    previous: datetime | None = None
    for event in events:
        moment = _timestamp(str(event.get("ts") or ""))
        if event.get("type") == "model_call" and moment is not None and previous is not None:
            model = str(event.get("model"))
            waits[model] = waits.get(model, 0.0) + max(0.0, (moment - previous).total_seconds())
        if moment is not None:
            previous = moment
    return waits


def _node_order(events: Iterable[Mapping[str, Any]], *names: Iterable[str]) -> list[str]:
    order = [str(e.get("node")) for e in events if e.get("type") == "node_started"]
    for group in names:
        order.extend(group)
    return list(dict.fromkeys(order))


def _repair_rounds(events: Iterable[Mapping[str, Any]], report_json: Mapping[str, Any]) -> int:
    rounds = [int(e.get("round") or 0) for e in events if e.get("type") == "coder_round"]
    return max([*rounds, int(report_json.get("rounds") or 0)])


def _run_folder(history: RunHistory, run_id: str) -> tuple[RunRow, Path]:
    row = history.get(run_id)
    run_dir = Path(row.run_dir)
    if not run_dir.is_dir():
        raise InputError(f"the folder of run '{run_id}' is gone ({run_dir}); its report cannot"
                         " be made")
    return row, run_dir


def gather_run_report(settings: Settings, run_id: str,
                      timeline_filter: TimelineFilter | None = None, *,
                      now: datetime | None = None) -> RunReport:
    """Everything a run's report shows, read from its folder; secrets are redacted.

    Args:
        settings: the data folder and the providers' prices.
        run_id: the run.
        timeline_filter: which events the timeline keeps (all by default).
        now: the report's generation time (tests pass a fixed one).

    Raises:
        InputError: no such run, its folder is gone, or a ``--type`` that neither MultiCoder
            nor this run knows (a likely typo).

    """
    timeline_filter = timeline_filter or TimelineFilter()
    row, run_dir = _run_folder(RunHistory(settings), run_id)
    events = list(read_events(run_dir / "events.jsonl"))
    run_types = {str(e.get("type")) for e in events}
    unknown = sorted(timeline_filter.types - KNOWN_EVENT_TYPES - run_types)
    if unknown:
        raise InputError(f"--type '{unknown[0]}' is not an event type; this run has: "
                         + ", ".join(sorted(run_types)))
    run_json = _read_json(run_dir / "run.json")
    report_json = _read_json(run_dir / "report.json")
    spending = RunSpending.read(run_dir, settings.providers)
    chosen = [e for e in events if e.get("type") == "sandbox_chosen"]
    sandbox: dict[str, Any] = (report_json["sandbox"] if isinstance(report_json.get("sandbox"),
                                                                     dict) else {})
    timeline = timeline_of(events)
    if "message" not in timeline_filter.types:  # the chat has its own record: chat.md
        messages = sum(entry.type == "message" for entry in timeline)
        timeline = [entry for entry in timeline if entry.type != "message"]
    else:
        messages = 0
    waits = model_wait_s(events)
    files, omitted = files_of(run_dir / "workspace")
    models: dict[str, Any] = (run_json["models"] if isinstance(run_json.get("models"), dict)
                              else {})
    report = RunReport(
        run_id=row.run_id, run_dir=str(run_dir), task=str(run_json.get("task") or row.task),
        status=row.status,
        error=str(row.error or report_json.get("error") or ""),
        created_at=str(run_json.get("created_at") or row.created_at),
        last_event_at=timeline[-1].ts if timeline else row.updated_at,
        generated_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        sandbox=str(run_json.get("sandbox") or (chosen[-1].get("backend") if chosen else "")
                    or sandbox.get("backend") or ""),
        sandbox_isolated=bool(chosen[-1].get("isolated") if chosen else sandbox.get("isolated")),
        sandbox_reason=str(run_json.get("sandbox_reason")
                           or (chosen[-1].get("reason") if chosen else "") or ""),
        models={str(role): [str(m) for m in refs] for role, refs in models.items()
                if isinstance(refs, list)},
        repair_rounds=_repair_rounds(events, report_json),
        spec_markdown=_read_text(run_dir / "spec.md"),
        plan_markdown=_read_text(run_dir / "plan.md"),
        timeline=[entry for entry in timeline if timeline_filter.matches(entry)],
        timeline_total=len(timeline), messages_left_out=messages,
        filters=timeline_filter.describe(),
        checks=checks_of(run_dir, events), safety=safety_of(events),
        decisions=decisions_of(events), files=files, files_omitted=omitted,
        artifact=artifact_of(report_json, events),
        total=_usage("total", spending.total, spending.wall_time_s),
        active_time_s=spending.wall_time_s,
        by_node=[_usage(node, spending.by_node.get(node), spending.node_time_s.get(node, 0.0))
                 for node in _node_order(events, spending.by_node, spending.node_time_s)],
        by_model=[_usage(model, totals, waits.get(model, 0.0))
                  for model, totals in spending.by_model.items()],
        budget_stops=spending.stop_lines())
    redacted = Redactor.from_environment().redact_obj(report.model_dump(mode="json"))
    return RunReport.model_validate(redacted)


# -- writing -----------------------------------------------------------------------------------


def default_report_path(run_dir: Path, fmt: str) -> Path:
    """``<run_dir>/reports/report.<fmt>``."""
    return run_dir / "reports" / f"report.{fmt}"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it (no half-written report).

    Raises:
        InputError: the folder cannot be created or written.

    """
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _output_path(out: Path | None, default: Path, name: str) -> Path:
    if out is None:
        return default
    return out / name if out.is_dir() else out


def check_format(fmt: str, allowed: Sequence[str], option: str = "--format") -> str:
    """``fmt`` in lower case when it is one of ``allowed``.

    Raises:
        InputError: it is not.

    """
    value = fmt.strip().lower()
    if value not in allowed:
        raise InputError(f"{option} '{fmt}' is not supported: use {', '.join(allowed)}")
    return value


def write_run_report(settings: Settings, run_id: str, fmt: str, out: Path | None = None,
                     timeline_filter: TimelineFilter | None = None) -> Path:
    """Gather, render and write a run's report.

    Args:
        settings: the data folder and the providers.
        run_id: the run.
        fmt: ``html``, ``pdf``, ``md`` or ``csv``.
        out: a file, or an existing folder (the file is then ``report-<run_id>.<fmt>`` in
            it); default :func:`default_report_path`.
        timeline_filter: which events the timeline keeps.

    Returns:
        The path written.

    Raises:
        InputError: a bad format, an unknown run, a bad filter, an unwritable path.
        memory.reports.ReportRenderError: the PDF library failed.

    """
    fmt_checked: ReportFormat = check_format(fmt, REPORT_FORMATS)  # type: ignore[assignment]
    report = gather_run_report(settings, run_id, timeline_filter)
    path = _output_path(out, default_report_path(Path(report.run_dir), fmt_checked),
                        f"report-{run_id}.{fmt_checked}")
    _write_atomically(path, render_run_report(report, fmt_checked))
    return path


# -- statistics --------------------------------------------------------------------------------

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_PATH = re.compile(r"(?:[\w.-]+/)+[\w.-]+")
_NUMBER = re.compile(r"\b0x[0-9a-fA-F]+\b|\b[0-9a-f]{8,}\b|\d+(?:\.\d+)?")
_TEST_FAILED = re.compile(r"^\S+ failed: (.*)$")
_EXCEPTION = re.compile(r"([A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning))\b")


def finding_pattern(message: str) -> str:
    """A finding's message with its particulars masked, so findings of one kind count together.

    The first line is kept; quoted names become ``'…'``, paths ``<path>``, numbers ``N``; a
    failed test becomes ``test failed: <ExceptionType>``. At most 100 characters.
    """
    first = message.strip().splitlines()[0] if message.strip() else ""
    failed = _TEST_FAILED.match(first)
    if failed:
        cause = failed.group(1).strip()
        exception = _EXCEPTION.match(cause)
        if exception:
            return f"test failed: {exception.group(1)}"
        if cause.startswith("assert"):
            return "test failed: AssertionError"
        first = f"test failed: {cause}"
    text = _QUOTED.sub("'…'", first)
    text = _PATH.sub("<path>", text)
    text = _NUMBER.sub("N", text)
    return _short(text, 100)


def _in_period(row: RunRow, since: datetime | None, until: datetime | None) -> bool:
    moment = _timestamp(row.created_at)
    if moment is None:
        return since is None and until is None
    return (since is None or moment >= since) and (until is None or moment <= until)


@dataclass
class _StatsTotals:
    by_model: dict[str, Usage] = field(default_factory=dict)
    by_node: dict[str, Usage] = field(default_factory=dict)
    findings: dict[tuple[str, str], FindingPattern] = field(default_factory=dict)
    total: Usage = field(default_factory=lambda: Usage(name="total", runs=0))

    def add_usage(self, table: dict[str, Usage], usage: Usage) -> None:
        table[usage.name] = table[usage.name].merged(usage) if usage.name in table else usage

    def add_findings(self, checks: Iterable[CheckOutcome]) -> None:
        counted: set[tuple[str, str]] = set()
        for outcome in checks:
            for item in outcome.findings:
                key = (outcome.check, finding_pattern(item.message))
                known = self.findings.get(key)
                if known is None:
                    known = self.findings[key] = FindingPattern(
                        check=key[0], pattern=key[1], count=0, runs=0,
                        example=_short(item.message, 200))
                known.count += 1
                if key not in counted:
                    counted.add(key)
                    known.runs += 1


def gather_stats(settings: Settings, since: datetime | None = None,
                 until: datetime | None = None, *, now: datetime | None = None,
                 top: int = 15) -> StatsReport:
    """Statistics over the runs created between ``since`` and ``until`` (inclusive).

    Success rate = ``done`` runs / finished runs (done, failed, refused, rejected, stopped,
    cancelled); repair rounds are counted over finished runs; tokens and cost per model come
    from each run's recording, time per node from its events. Runs whose folder is gone count
    in the status figures only.

    Args:
        settings: the data folder and the providers' prices.
        since: the start of the period (None: open).
        until: its end (None: open).
        now: the report's generation time.
        top: how many of the most frequent findings to keep.

    """
    rows = [row for row in RunHistory(settings).index.list(limit=None)
            if _in_period(row, since, until)]
    totals = _StatsTotals()
    by_status: dict[str, int] = {}
    rounds: list[int] = []
    recent: list[StatsRun] = []
    for row in rows:
        by_status[row.status] = by_status.get(row.status, 0) + 1
        run_dir = Path(row.run_dir)
        events = list(read_events(run_dir / "events.jsonl")) if run_dir.is_dir() else []
        repair = _repair_rounds(events, _read_json(run_dir / "report.json")) if events else 0
        if row.status in FINISHED_STATUSES:
            rounds.append(repair)
        spending = (RunSpending.read(run_dir, settings.providers) if run_dir.is_dir()
                    else RunSpending())
        run_total = _usage("total", spending.total, spending.wall_time_s)
        totals.total = totals.total.merged(run_total)
        waits = model_wait_s(events)
        for model, usage in spending.by_model.items():
            totals.add_usage(totals.by_model, _usage(model, usage, waits.get(model, 0.0)))
        for node in _node_order(events, spending.by_node, spending.node_time_s):
            totals.add_usage(totals.by_node, _usage(node, spending.by_node.get(node),
                                                    spending.node_time_s.get(node, 0.0)))
        if events:
            totals.add_findings(checks_of(run_dir, events))
        if len(recent) < 50:
            recent.append(StatsRun(run_id=row.run_id, created_at=row.created_at,
                                   status=row.status, repair_rounds=repair,
                                   tokens=run_total.tokens, cost_text=run_total.cost_text,
                                   task=_short(row.task, 120)))
    finished = sum(n for status, n in by_status.items() if status in FINISHED_STATUSES)
    succeeded = by_status.get("done", 0)
    findings = sorted(totals.findings.values(), key=lambda f: (-f.count, -f.runs, f.check))
    stats = StatsReport(
        generated_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        since=since.isoformat(timespec="seconds") if since else "",
        until=until.isoformat(timespec="seconds") if until else "",
        runs=len(rows), finished=finished, succeeded=succeeded,
        success_rate=succeeded / finished if finished else None,
        by_status=dict(sorted(by_status.items(), key=lambda item: (-item[1], item[0]))),
        repair_rounds_mean=sum(rounds) / len(rounds) if rounds else None,
        repair_rounds_max=max(rounds, default=0), total=totals.total,
        by_model=sorted(totals.by_model.values(), key=lambda u: -u.tokens),
        by_node=list(totals.by_node.values()), top_findings=findings[:top], recent=recent)
    return StatsReport.model_validate(
        Redactor.from_environment().redact_obj(stats.model_dump(mode="json")))


def write_stats_report(settings: Settings, stats: StatsReport, fmt: str,
                       out: Path | None = None) -> Path:
    """Write the statistics as ``html`` or ``json``.

    Args:
        settings: the data folder (default place: ``<data_dir>/reports/stats.<fmt>``).
        stats: from :func:`gather_stats`.
        fmt: ``html`` or ``json``.
        out: a file, or an existing folder (``stats.<fmt>`` in it).

    Returns:
        The path written.

    Raises:
        InputError: another format, or an unwritable path.

    """
    value = check_format(fmt, ("html", "json"))
    path = _output_path(out, settings.data_dir / "reports" / f"stats.{value}", f"stats.{value}")
    text = render_stats_html(stats) if value == "html" else stats.model_dump_json(indent=2)
    _write_atomically(path, text.encode("utf-8"))
    return path
