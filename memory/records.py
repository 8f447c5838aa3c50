"""Run records (L1): one folder per run with its log, its chat and its events.

Layout of ``<runs_root>/<run_id>/``::

    workspace/      the generated project
    dist/           artifacts (the packaged executable)
    program.log     detailed log, one line per record: ``2026-11-21 19:00:00,123 INFO node=coder …``
    chat.md         the whole conversation with the models, as readable Markdown
    events.jsonl    one JSON object per line: {"ts", "seq", "type", ...}; each chat entry is
                    also journaled here, verbatim, as {"type": "message", "speaker", "kind",
                    "title", "text"}, so the archive can re-ingest the conversation
    *.json, *.md    reports written atomically (run.json, plan.md, report.json …)

Everything written goes through the run's :class:`~memory.redaction.Redactor` first, so secrets
never reach the folder. Events and chat entries are flushed and fsync'd as they are written: a
crash right after a call does not lose the line (M1). All methods are thread-safe.

With an :class:`~memory.archive.Archive`, every event and chat entry is also synced into it
right after it is written (write-through). The archive never holds a run up: a failure to sync
is logged to program.log once, the run goes on, and the next sync or start-up catches up.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal

from memory.redaction import RedactingFilter, Redactor

if TYPE_CHECKING:
    from memory.archive import Archive

ChatKind = Literal["message", "tool_call", "tool_result", "interrupt", "decision", "system"]
"""What a chat entry is: a plain message, a tool call (JSON), a tool result (text), a question to
a person, a person's decision, or a system prompt."""

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A run id: a plain folder name (letters, digits, ``.``, ``_``, ``-``; at most 128 chars)."""

LOG_FORMAT = "%(asctime)s %(levelname)s %(node_prefix)s%(message)s"
"""program.log line format; times are UTC, ``node=<node> `` appears when the record has one."""

WORKSPACE_DIR = "workspace"
DIST_DIR = "dist"
PROGRAM_LOG = "program.log"
CHAT_MD = "chat.md"
EVENTS_JSONL = "events.jsonl"

MESSAGE_EVENT = "message"
"""The event type journaling a chat entry in events.jsonl."""

ARCHIVE_SYNC_TIMEOUT_S = 2.0
"""How long a write-through sync waits for the archive's lock before giving up for now."""

_RESERVED_EVENT_KEYS = ("ts", "seq", "type")
_HANDLERS_LOCK = threading.Lock()  # guards the shared per-run loggers' handler lists


class RunNotFound(LookupError):
    """No run with this id (no folder, or no index row).

    Attributes:
        run_id: the id that was asked for.

    """

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run '{run_id}'")
        self.run_id = run_id


class RunExistsError(FileExistsError):
    """A run with this id already exists; records are never created over an existing run.

    Attributes:
        run_id: the id that was asked for.

    """

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run '{run_id}' already exists")
        self.run_id = run_id


class _RunFormatter(logging.Formatter):
    """``LOG_FORMAT`` in UTC, with ``node=<node> `` when the record carries a ``node``."""

    def __init__(self) -> None:
        super().__init__(LOG_FORMAT)
        self.converter = _utc_time

    def format(self, record: logging.LogRecord) -> str:
        node = getattr(record, "node", None)
        record.node_prefix = f"node={node} " if node else ""
        return super().format(record)


def _utc_time(seconds: float | None) -> time.struct_time:
    return time.gmtime(seconds)


class _RunFileHandler(logging.FileHandler):
    """program.log's handler, shared by every open record of the run in this process."""

    users = 0


class _RunStreamHandler(logging.StreamHandler[IO[str]]):
    """A console copy of program.log (``attach_stream``)."""


class RunRecord:
    """The records of one run, in ``<runs_root>/<run_id>/``.

    Build one with :meth:`create` (a new run) or :meth:`open` (an existing run, to resume or
    replay it). Close it with :meth:`close` (or use it as a context manager); events, chat and
    reports can still be written after closing, only the log handlers are released.

    Args:
        run_dir: the run's folder (it must exist).
        run_id: the run's id (the folder's name).
        redactor: applied to everything written.
        archive: the archive to sync each event and chat entry into (none: not archived now;
            the next start-up's catch-up archives the lines).

    """

    def __init__(self, run_dir: Path, run_id: str, redactor: Redactor, *,
                 archive: Archive | None = None) -> None:
        self._run_dir = run_dir
        self._run_id = run_id
        self.redactor = redactor
        self.archive = archive
        self._archive_error: str | None = None
        self._lock = threading.RLock()
        self._filter = RedactingFilter(redactor)
        self._file_handler: _RunFileHandler | None = None
        self._stream_handlers: list[_RunStreamHandler] = []

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def create(cls, runs_root: Path, run_id: str, redactor: Redactor, *,
               archive: Archive | None = None) -> RunRecord:
        """Create a new run folder with ``workspace/`` and ``dist/``.

        Args:
            runs_root: the folder holding all runs (created when missing).
            run_id: a plain folder name, see :data:`RUN_ID_PATTERN`.
            redactor: applied to everything written.
            archive: the archive to write through to (see :class:`RunRecord`).

        Returns:
            The new run's record.

        Raises:
            ValueError: ``run_id`` is not a plain folder name.
            RunExistsError: the folder exists already (a :class:`FileExistsError`).

        """
        if not RUN_ID_PATTERN.fullmatch(run_id) or run_id in {".", ".."}:
            raise ValueError(f"invalid run id {run_id!r}: use letters, digits, '.', '_', '-'")
        runs_root.mkdir(parents=True, exist_ok=True)
        run_dir = runs_root / run_id
        try:
            run_dir.mkdir()
        except FileExistsError:
            raise RunExistsError(run_id) from None
        (run_dir / WORKSPACE_DIR).mkdir()
        (run_dir / DIST_DIR).mkdir()
        return cls(run_dir, run_id, redactor, archive=archive)

    @classmethod
    def open(cls, runs_root: Path, run_id: str, redactor: Redactor, *,
             archive: Archive | None = None) -> RunRecord:
        """Open the records of an existing run (to resume, replay or report on it).

        Missing ``workspace/`` or ``dist/`` folders are recreated.

        Args:
            runs_root: the folder holding all runs.
            run_id: the run's id.
            redactor: applied to everything written.
            archive: the archive to write through to (see :class:`RunRecord`).

        Returns:
            The run's record.

        Raises:
            RunNotFound: no such run folder (also for ids that cannot name one).

        """
        if not RUN_ID_PATTERN.fullmatch(run_id) or run_id in {".", ".."}:
            raise RunNotFound(run_id)
        run_dir = runs_root / run_id
        if not run_dir.is_dir():
            raise RunNotFound(run_id)
        (run_dir / WORKSPACE_DIR).mkdir(exist_ok=True)
        (run_dir / DIST_DIR).mkdir(exist_ok=True)
        return cls(run_dir, run_id, redactor, archive=archive)

    # -- paths ------------------------------------------------------------------------------

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self._run_id

    @property
    def run_dir(self) -> Path:
        """``<runs_root>/<run_id>``."""
        return self._run_dir

    @property
    def workspace(self) -> Path:
        """``<run_dir>/workspace``: the generated project."""
        return self._run_dir / WORKSPACE_DIR

    @property
    def dist_dir(self) -> Path:
        """``<run_dir>/dist``: the packaged artifacts."""
        return self._run_dir / DIST_DIR

    @property
    def program_log(self) -> Path:
        """``<run_dir>/program.log``."""
        return self._run_dir / PROGRAM_LOG

    @property
    def chat_md(self) -> Path:
        """``<run_dir>/chat.md``."""
        return self._run_dir / CHAT_MD

    @property
    def events_path(self) -> Path:
        """``<run_dir>/events.jsonl``."""
        return self._run_dir / EVENTS_JSONL

    # -- program.log ------------------------------------------------------------------------

    @property
    def logger(self) -> logging.Logger:
        """The run's logger, ``multicoder.run.<run_id>``, writing to program.log.

        Level DEBUG, ``propagate`` off. Every record is redacted (message with its arguments,
        exception and stack text) before any handler writes it. The logger is shared by name:
        every open record of the run in this process writes through one program.log handler,
        so lines are never doubled. Accessing it after :meth:`close` attaches the handler again.
        """
        logger = self._shared_logger()
        with _HANDLERS_LOCK:
            if self._file_handler is None:
                self._file_handler = self._acquire_file_handler(logger)
        return logger

    def node_logger(self, node: str) -> logging.LoggerAdapter[logging.Logger]:
        """The run's logger, tagging each line with ``node=<node>``.

        Args:
            node: the graph node's name (``coder``, ``paranoid_tester`` …).

        """
        return logging.LoggerAdapter(self.logger, {"node": node})

    def attach_stream(self, stream: IO[str], level: int = logging.DEBUG) -> None:
        """Copy the run's log lines to ``stream`` too (the CLI's ``-v``), redacted alike.

        The handler stays on the run's shared logger until this record is closed, so records
        of the same run opened later in the process also log to the stream. Attaching the same
        stream twice has no effect.

        Args:
            stream: a text stream such as ``sys.stderr``.
            level: the lowest level copied.

        """
        logger = self._shared_logger()
        with _HANDLERS_LOCK:
            for handler in logger.handlers:
                if isinstance(handler, _RunStreamHandler) and handler.stream is stream:
                    return
            handler = _RunStreamHandler(stream)
            handler.setLevel(level)
            handler.setFormatter(_RunFormatter())
            handler.addFilter(self._filter)
            logger.addHandler(handler)
            self._stream_handlers.append(handler)

    def _shared_logger(self) -> logging.Logger:
        logger = logging.getLogger(f"multicoder.run.{self._run_id}")
        logger.propagate = False
        if logger.level == logging.NOTSET:  # else the root's WARNING would hide INFO lines
            logger.setLevel(logging.DEBUG)
        return logger

    def _acquire_file_handler(self, logger: logging.Logger) -> _RunFileHandler:
        target = os.fspath(self.program_log.absolute())
        for handler in logger.handlers:
            if isinstance(handler, _RunFileHandler) and handler.baseFilename == target:
                handler.users += 1
                return handler
        handler = _RunFileHandler(self.program_log, encoding="utf-8")
        handler.users = 1
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(_RunFormatter())
        handler.addFilter(self._filter)
        logger.addHandler(handler)
        return handler

    # -- events.jsonl -----------------------------------------------------------------------

    def event(self, type: str, **data: Any) -> None:
        """Append one event line to events.jsonl (redacted, flushed, fsync'd) and log it.

        The line is ``{"ts": ISO-8601 UTC, "seq": n, "type": type, **data}``; ``seq`` counts
        from 1 and continues after the run is reopened (it is read back from the file). A field
        named ``ts`` or ``seq`` in ``data`` is kept as ``data_ts`` / ``data_seq``. Values that are
        not JSON are written as their (redacted) ``str()``. The type ``message`` is the chat's
        journal (see :meth:`chat`).

        Args:
            type: the event's type, e.g. ``run_created``, ``tool_call``.
            **data: the event's fields.

        """
        fields = {(f"data_{key}" if key in _RESERVED_EVENT_KEYS else key): value
                  for key, value in data.items()}
        with self._lock:
            self._write_event(type, fields)
        # program.log gets every event too, so it reads as the detailed story of the run
        details = " ".join(f"{k}={v}" for k, v in fields.items() if v not in (None, "", [], {}))
        self.logger.info("%s %s", type, details[:2000])
        self._sync_archive()

    def _write_event(self, type: str, fields: dict[str, Any]) -> None:
        """Append the event line (the caller holds the lock)."""
        seq = last_event_seq(self.events_path) + 1
        payload = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                   "seq": seq, "type": type, **fields}
        line = json.dumps(self.redactor.redact_obj(payload), ensure_ascii=False,
                          default=self._redacted_str)
        self._append(self.events_path, line + "\n", close_torn_line=True)

    def iter_events(self) -> Iterator[dict[str, Any]]:
        """The events written so far, in order; torn or unreadable lines are skipped.

        Yields:
            Each event as a dict.

        """
        try:
            handle = self.events_path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            for raw in handle:
                event = _parse_event(raw)
                if event is not None:
                    yield event

    # -- chat.md ----------------------------------------------------------------------------

    def chat(self, speaker: str, text: str, *, kind: ChatKind = "message",
             title: str | None = None) -> None:
        """Append one chat entry to chat.md as Markdown, redacted, flushed and fsync'd.

        Before that, the entry is journaled verbatim (redacted alike, never shortened) in
        events.jsonl as ``{"type": "message", "speaker", "kind", "title", "text"}``; program.log
        gets a short line naming it (speaker, kind, title, length), not its text.

        The entry is a ``### <speaker> · <kind> · <HH:MM:SS>`` heading (UTC), an optional bold
        ``title`` line, then the text: verbatim Markdown for messages (an unclosed code fence is
        closed), pretty-printed JSON in a ``json`` fence for tool calls and decisions that are
        JSON, a ``text`` fence for tool results and system prompts. Fences are longer than any
        backtick run in the text, so text containing ``` cannot break out. The first entry of a
        file is preceded by a ``# Run <run_id>`` title.

        Args:
            speaker: who speaks, e.g. ``multicoder → coder``, ``coder``, ``tool``.
            text: the content.
            kind: what the entry is, see :data:`ChatKind`.
            title: a short label (the tool's name, the interrupt's kind).

        """
        journal = {"speaker": speaker, "kind": kind, "title": title, "text": text}
        speaker, text = self.redactor(speaker), self.redactor(text)
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        lines = [f"### {_one_line(speaker)} · {kind} · {stamp}", ""]
        if title:
            lines += [f"**{_one_line(self.redactor(title))}**", ""]
        lines += [_render_body(text, kind), ""]
        entry = "\n".join(lines) + "\n"
        with self._lock:
            self._write_event(MESSAGE_EVENT, journal)  # first: the entry survives a crash here
            if not self.chat_md.exists() or self.chat_md.stat().st_size == 0:
                entry = f"# Run {self._run_id}\n\n" + entry
            self._append(self.chat_md, entry, close_torn_line=True)
        self.logger.info("%s speaker=%s kind=%s%s chars=%d", MESSAGE_EVENT,
                         _one_line(speaker)[:80], kind,
                         f" title={_one_line(title)[:80]}" if title else "", len(text))
        self._sync_archive()

    # -- reports ----------------------------------------------------------------------------

    def write_text(self, name: str, text: str) -> Path:
        """Write a report file into the run folder atomically, redacted.

        Args:
            name: a path relative to the run folder, e.g. ``plan.md`` or ``reports/a.txt``.
            text: the content (written as UTF-8).

        Returns:
            The file's path.

        Raises:
            ValueError: ``name`` is absolute or leaves the run folder.

        """
        target = self._report_path(name)
        with self._lock:
            atomic_write(target, self.redactor(text).encode("utf-8"))
        return target

    def write_json(self, name: str, obj: Any) -> Path:
        """Write a JSON report into the run folder atomically, redacted (indented, UTF-8).

        Args:
            name: a path relative to the run folder, e.g. ``run.json``.
            obj: a JSON-like value; other objects are written as their ``str()``.

        Returns:
            The file's path.

        Raises:
            ValueError: ``name`` is absolute or leaves the run folder.

        """
        target = self._report_path(name)
        text = json.dumps(self.redactor.redact_obj(obj), ensure_ascii=False, indent=2,
                          default=self._redacted_str) + "\n"
        with self._lock:
            atomic_write(target, text.encode("utf-8"))
        return target

    # -- life cycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Release this record's log handlers (program.log closes with its last user).

        The run's last lines are synced into the archive first, if there is one. Safe to call
        more than once.
        """
        self._sync_archive()
        logger = logging.getLogger(f"multicoder.run.{self._run_id}")
        with _HANDLERS_LOCK:
            handler = self._file_handler
            self._file_handler = None
            if handler is not None:
                handler.users -= 1
                if handler.users <= 0:
                    logger.removeHandler(handler)
                    handler.close()
            for stream_handler in self._stream_handlers:
                logger.removeHandler(stream_handler)
                stream_handler.flush()
            self._stream_handlers.clear()

    def __enter__(self) -> RunRecord:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunRecord({self._run_id!r}, {os.fspath(self._run_dir)!r})"

    # -- helpers ----------------------------------------------------------------------------

    def _sync_archive(self) -> None:
        """Sync this run into the archive; a failure is logged (once per new error), not raised.

        The lines stay in the run folder, so the next sync or start-up archives them.
        """
        if self.archive is None:
            return
        try:
            self.archive.sync_run(self._run_dir, timeout_s=ARCHIVE_SYNC_TIMEOUT_S)
        except Exception as exc:  # the archive must never lose or block a run
            problem = f"{type(exc).__name__}: {exc}"
            if problem != self._archive_error:
                self._archive_error = problem
                self.logger.warning("archive: could not store this run's new lines (%s); they"
                                    " stay in the run folder and the next sync or start-up"
                                    " archives them", problem)
        else:
            self._archive_error = None

    def _redacted_str(self, obj: object) -> str:
        return self.redactor(str(obj))

    def _report_path(self, name: str) -> Path:
        relative = Path(name)
        root = self._run_dir.resolve()
        target = (root / relative).resolve()
        if relative.is_absolute() or not name or target == root or not target.is_relative_to(root):
            raise ValueError(f"report name {name!r} must stay inside the run folder")
        return target

    @staticmethod
    def _append(path: Path, text: str, *, close_torn_line: bool) -> None:
        """Append ``text``; first end a torn last line (a crash mid-write) with a newline."""
        with path.open("ab") as handle:
            if close_torn_line and handle.tell() > 0:
                with path.open("rb") as reader:
                    reader.seek(-1, os.SEEK_END)
                    if reader.read(1) != b"\n":
                        handle.write(b"\n")
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())


def last_event_seq(path: Path, block_size: int = 65536) -> int:
    """The ``seq`` of the last readable event in an events.jsonl file (0 when none).

    Reads backwards from the end in blocks, skipping a torn or unreadable last line.

    Args:
        path: the events file (may be missing).
        block_size: bytes read per step.

    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return 0
    with handle:
        position = handle.seek(0, os.SEEK_END)
        carry = b""
        while position > 0:
            step = min(block_size, position)
            position -= step
            handle.seek(position)
            lines = (handle.read(step) + carry).split(b"\n")
            # Unless at the file's start, the first piece may be the end of a longer line.
            carry, complete = (lines[0], lines[1:]) if position > 0 else (b"", lines)
            for raw in reversed(complete):
                event = _parse_event(raw)
                if event is not None and isinstance(event.get("seq"), int):
                    return int(event["seq"])
        return 0


def _parse_event(raw: bytes) -> dict[str, Any] | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:  # a torn line from a crash, kept verbatim but not an event
        return None
    return value if isinstance(value, dict) else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run in ``text`` (at least three)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _fenced(text: str, language: str) -> str:
    fence = _fence_for(text)
    return f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"


_FENCE_LINE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")


def _close_open_fence(text: str) -> str:
    """Markdown ``text`` with an unclosed code fence closed, so later entries still render."""
    opening: str | None = None
    for line in text.splitlines():
        match = _FENCE_LINE.fullmatch(line)
        if match is None:
            continue
        fence, rest = match.groups()
        if opening is None:
            if not (fence[0] == "`" and "`" in rest):  # a backtick fence's info has no `
                opening = fence
        elif fence[0] == opening[0] and len(fence) >= len(opening) and not rest.strip():
            opening = None
    return text if opening is None else f"{text.rstrip(chr(10))}\n{opening}"


def _render_body(text: str, kind: ChatKind) -> str:
    if kind in ("tool_call", "decision"):
        try:
            value = json.loads(text)
        except ValueError:
            return _fenced(text, "text") if kind == "tool_call" else _close_open_fence(text)
        return _fenced(json.dumps(value, ensure_ascii=False, indent=2), "json")
    if kind in ("tool_result", "system"):  # verbatim: a prompt's own headings stay inside
        return _fenced(text, "text")
    return _close_open_fence(text.rstrip("\n"))


def atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``target``, fsync it, then rename it over.

    Readers see the old content or the new, never a part; the folder is created when missing.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed before the rename below
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False)
    temporary = Path(handle.name)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
