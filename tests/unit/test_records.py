"""Run records (L1): redaction everywhere, chat.md rendering, events that survive a crash."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from pathlib import Path

import pytest

from memory.records import RunExistsError, RunNotFound, RunRecord, last_event_seq
from memory.redaction import REDACTED, RedactingFilter, Redactor

FAKE_KEY = "sk-proj-FAKEFAKE" + "x7Qz" * 10
ROUTER_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
PASSWORD = "hunter2-correct-horse"  # not key-shaped: only known through the environment


@pytest.fixture
def redactor(monkeypatch: pytest.MonkeyPatch) -> Redactor:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("DB_PASSWORD", PASSWORD)
    return Redactor.from_environment()


@pytest.fixture
def record(tmp_path: Path, redactor: Redactor):
    rec = RunRecord.create(tmp_path / "runs", "20261121-190000-abc123", redactor)
    yield rec
    rec.close()


def every_file_text(folder: Path) -> dict[Path, str]:
    return {path: path.read_bytes().decode("utf-8", errors="replace")
            for path in folder.rglob("*") if path.is_file()}


# -- Redactor ---------------------------------------------------------------------------------

def test_redactor_hides_known_secrets_and_key_patterns() -> None:
    redactor = Redactor(["my-database-password"])
    samples = {
        "pw=my-database-password;": "pw=[REDACTED];",
        f"key {FAKE_KEY} end": "key [REDACTED] end",
        f"router {ROUTER_KEY}": "router [REDACTED]",
        "google " + "AIza" + "SyA1234567890abcdefghijklmnopqrstuv": "google [REDACTED]",  # split:
        # a whole fake key in the source would look like a leaked one to secret scanners
        "gh ghp_abcdefghijklmnopqrstuvwxyz0123456789": "gh [REDACTED]",
        "pat github_pat_11ABCDEFG0123456789_abcdefghijkl": "pat [REDACTED]",
        "Authorization: Bearer eyJhbGciOi.J9abc-123_x": "Authorization: Bearer [REDACTED]",
    }
    for text, expected in samples.items():
        assert redactor(text) == expected
    # Ordinary words that merely look similar stay.
    for text in ["task-runner-with-a-long-name-here", "Bearer authentication is common",
                 "risk-assessment-and-more-words"]:
        assert redactor(text) == text


def test_redactor_ignores_short_values_and_merges_overlaps() -> None:
    redactor = Redactor()
    redactor.add("short")
    redactor.add(None)
    assert len(redactor) == 0
    assert redactor("a short text") == "a short text"
    redactor.add("abcdefgh12")
    redactor.add("12345678xyz")
    # Overlapping secrets: no fragment of either survives beside the mark.
    assert redactor("..abcdefgh12345678xyz..") == "..[REDACTED].."
    # Longest first: a secret containing another is hidden whole.
    redactor.add("abcdefgh12-and-more")
    assert redactor("abcdefgh12-and-more") == REDACTED


def test_redactor_from_environment_selects_secret_names() -> None:
    redactor = Redactor.from_environment({
        "OPENAI_API_KEY": "value-of-the-key-1", "github_token": "value-of-the-token-2",
        "MY_SECRET": "value-of-secret-3", "DB_PASSWD": "value-of-passwd-4",
        "GCP_CREDENTIALS": "value-of-credential-5", "HTTP_AUTHORIZATION": "value-of-auth-6",
        "HOME": "/home/someone-long", "PATH": "/usr/bin:/bin:/usr/local/bin", "API_KEY_2": "x",
        "XAUTHORITY": "/run/user/1000/gdm/Xauthority",
    })
    text = " ".join(f"value-of-{n}" for n in
                    ["the-key-1", "the-token-2", "secret-3", "passwd-4", "credential-5", "auth-6"])
    assert redactor(text) == " ".join([REDACTED] * 6)
    for harmless in ["/home/someone-long", "/usr/bin:/bin:/usr/local/bin",
                     "/run/user/1000/gdm/Xauthority"]:
        assert redactor(harmless) == harmless


def test_redactor_catches_escaped_spellings_and_numbers() -> None:
    redactor = Redactor(['pa"ss\\word-42', "12345678901"])
    assert REDACTED in redactor(json.dumps({"v": 'pa"ss\\word-42'}))
    assert redactor.redact_obj({"pin": 12345678901, "n": 3, "ok": True, "none": None}) == {
        "pin": REDACTED, "n": 3, "ok": True, "none": None}
    assert redactor.redact_obj([("pa\"ss\\word-42",)]) == [(REDACTED,)]
    assert "12345678901" not in repr(redactor)


def test_redactor_concurrent_adds_are_all_kept() -> None:
    redactor = Redactor()

    def add_many(offset: int) -> None:
        for i in range(200):
            redactor.add(f"secret-value-{offset}-{i:04d}")

    threads = [threading.Thread(target=add_many, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(redactor) == 800
    assert redactor("secret-value-3-0199") == REDACTED


def test_redacting_filter_covers_args_and_exceptions() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("test.redacting.filter")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(Redactor([PASSWORD])))
    logger.addHandler(handler)
    try:
        logger.warning("login with %s", PASSWORD)
        try:
            raise RuntimeError(f"refused {PASSWORD}")
        except RuntimeError:
            logger.exception("failed")
        logger.warning("bad format %d", "not a number")  # must not raise
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert PASSWORD not in output
    assert "login with [REDACTED]" in output
    assert "RuntimeError: refused [REDACTED]" in output
    assert "bad format" in output


# -- RunRecord: folders ---------------------------------------------------------------------

def test_create_makes_the_folder_and_refuses_an_existing_run(tmp_path: Path,
                                                             redactor: Redactor) -> None:
    runs = tmp_path / "runs"
    record = RunRecord.create(runs, "run-1", redactor)
    assert record.run_dir == runs / "run-1"
    assert record.workspace.is_dir() and record.dist_dir.is_dir()
    assert record.program_log == record.run_dir / "program.log"
    assert record.chat_md == record.run_dir / "chat.md"
    assert record.events_path == record.run_dir / "events.jsonl"
    with pytest.raises(RunExistsError):
        RunRecord.create(runs, "run-1", redactor)
    with pytest.raises(FileExistsError):  # RunExistsError is one
        RunRecord.create(runs, "run-1", redactor)
    for bad in ["", "..", "a/b", "../escape", "a b"]:
        with pytest.raises(ValueError, match="invalid run id"):
            RunRecord.create(runs, bad, redactor)


def test_open_finds_existing_runs_only(tmp_path: Path, redactor: Redactor) -> None:
    runs = tmp_path / "runs"
    RunRecord.create(runs, "run-1", redactor).close()
    assert RunRecord.open(runs, "run-1", redactor).run_id == "run-1"
    with pytest.raises(RunNotFound) as caught:
        RunRecord.open(runs, "run-2", redactor)
    assert caught.value.run_id == "run-2"
    with pytest.raises(RunNotFound):
        RunRecord.open(runs, "../runs", redactor)


# -- secrets never reach the folder -------------------------------------------------------

def test_planted_key_never_reaches_any_file(record: RunRecord) -> None:
    log = record.logger
    log.info("calling the model with key %s", FAKE_KEY)
    log.debug(f"inline {FAKE_KEY} and {PASSWORD}")
    try:
        raise ValueError(f"provider said: invalid key {FAKE_KEY}")
    except ValueError:
        log.exception("model call failed")
    record.node_logger("coder").info("headers: Authorization: Bearer %s", FAKE_KEY)
    record.event("model_call", key=FAKE_KEY, nested={"headers": [f"Bearer {FAKE_KEY}"]},
                 path=Path(f"/tmp/{FAKE_KEY}"), password=PASSWORD)
    record.event(FAKE_KEY, **{FAKE_KEY: "as a field name"})
    record.chat("multicoder → coder", f"use {FAKE_KEY} and {PASSWORD}")
    record.chat("coder", json.dumps({"tool": "write_file", "args": {"content": FAKE_KEY}}),
                kind="tool_call", title=f"write {FAKE_KEY}")
    record.chat("tool", f"env: OPENAI_API_KEY={FAKE_KEY}", kind="tool_result")
    record.chat(FAKE_KEY, "speaker leak", kind="decision")
    record.write_json("run.json", {"key": FAKE_KEY, "list": [PASSWORD], "obj": object()})
    record.write_text("notes/report.md", f"the key was {FAKE_KEY}")
    record.close()

    files = every_file_text(record.run_dir)
    assert {p.name for p in files} >= {"program.log", "chat.md", "events.jsonl", "run.json",
                                       "report.md"}
    for path, text in files.items():
        assert FAKE_KEY not in text, path
        assert "FAKEFAKE" not in text, path
        assert PASSWORD not in text, path
        assert "x7Qz" not in text, path
    log_text = files[record.program_log]
    assert "calling the model with key [REDACTED]" in log_text
    assert "ValueError: provider said: invalid key [REDACTED]" in log_text
    assert "node=coder headers: Authorization: Bearer [REDACTED]" in log_text
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO calling", log_text, re.M)
    events = list(record.iter_events())
    assert events[0]["key"] == REDACTED and events[0]["password"] == REDACTED
    assert json.loads((record.run_dir / "run.json").read_text("utf-8"))["key"] == REDACTED


def test_attach_stream_copies_redacted_lines(record: RunRecord) -> None:
    stream = io.StringIO()
    record.attach_stream(stream)
    record.attach_stream(stream)  # once only
    record.logger.info("secret is %s", FAKE_KEY)
    assert stream.getvalue().count("secret is [REDACTED]") == 1
    assert FAKE_KEY not in stream.getvalue()


def test_logger_lines_are_not_doubled_by_two_open_records(tmp_path: Path,
                                                          redactor: Redactor) -> None:
    runs = tmp_path / "runs"
    first = RunRecord.create(runs, "run-1", redactor)
    second = RunRecord.open(runs, "run-1", redactor)
    first.logger.info("one")
    second.logger.info("two")
    first.close()
    second.logger.info("three")  # still written after the other record closed
    second.close()
    second.close()  # idempotent
    lines = first.program_log.read_text("utf-8").splitlines()
    assert [line.split(" INFO ")[1] for line in lines] == ["one", "two", "three"]
    left = [h for h in logging.getLogger("multicoder.run.run-1").handlers
            if type(h).__module__.startswith("memory.")]  # pytest may add capture handlers
    assert left == []


# -- chat.md ----------------------------------------------------------------------------------

def test_chat_renders_readable_markdown(record: RunRecord) -> None:
    record.chat("multicoder → planner", "Plan **this** task.", kind="system",
                title="plan instructions")
    record.chat("planner", "Here is the plan.")
    record.chat("coder", json.dumps({"tool": "write_file", "args": {"path": "app.py"}}),
                kind="tool_call", title="write_file")
    tricky = "before\n```python\nprint('inside')\n```\nafter ```` four"
    record.chat("tool", tricky, kind="tool_result", title="read_file")
    record.chat("coder", "unclosed fence:\n```python\nx = 1")
    record.chat("person", '{"action": "approve"}', kind="decision")

    text = record.chat_md.read_text("utf-8")
    assert text.startswith(f"# Run {record.run_id}\n")
    assert text.count("# Run ") == 1
    headings = re.findall(r"^### (.+) · (\w+) · (\d\d:\d\d:\d\d)$", text, re.M)
    assert [(s, k) for s, k, _ in headings] == [
        ("multicoder → planner", "system"), ("planner", "message"), ("coder", "tool_call"),
        ("tool", "tool_result"), ("coder", "message"), ("person", "decision")]
    assert "**plan instructions**" in text
    assert '```json\n{\n  "tool": "write_file",\n  "args": {\n    "path": "app.py"\n  }\n}\n```' \
        in text
    # The result's own ``` and ```` stay inside a longer fence that closes after "after".
    block = re.search(r"^(`{5,})text\n(.*?)\n\1$", text, re.M | re.S)
    assert block is not None and block.group(2) == tricky
    # The unclosed fence of a message is closed before the next entry.
    assert "x = 1\n```\n\n### person · decision" in text
    assert _markdown_fences_balanced(text)


def _markdown_fences_balanced(text: str) -> bool:
    opening = None
    for line in text.splitlines():
        match = re.fullmatch(r"(`{3,})(.*)", line)
        if not match:
            continue
        if opening is None:
            opening = match.group(1)
        elif match.group(1).startswith(opening) and not match.group(2).strip():
            opening = None
    return opening is None


def test_chat_title_is_written_once_across_reopen(tmp_path: Path, redactor: Redactor) -> None:
    runs = tmp_path / "runs"
    with RunRecord.create(runs, "run-1", redactor) as record:
        record.chat("a", "first")
    with RunRecord.open(runs, "run-1", redactor) as record:
        record.chat("b", "second")
        text = record.chat_md.read_text("utf-8")
    assert text.count("# Run run-1") == 1
    assert text.index("first") < text.index("second")


# -- events.jsonl -----------------------------------------------------------------------------

def test_events_seq_continues_after_reopen(tmp_path: Path, redactor: Redactor) -> None:
    runs = tmp_path / "runs"
    record = RunRecord.create(runs, "run-1", redactor)
    record.event("run_created", task="csv to xlsx")
    record.event("tool_call", action="write_file", ts="theirs", seq=99)
    record.close()
    reopened = RunRecord.open(runs, "run-1", redactor)
    reopened.event("run_resumed")
    events = list(reopened.iter_events())
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert [e["type"] for e in events] == ["run_created", "tool_call", "run_resumed"]
    assert events[1]["data_ts"] == "theirs" and events[1]["data_seq"] == 99
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", events[0]["ts"])


def test_event_survives_a_crash_and_a_torn_line(tmp_path: Path, redactor: Redactor) -> None:
    runs = tmp_path / "runs"
    record = RunRecord.create(runs, "run-1", redactor)
    record.logger.info("some log")  # an open handler the "crash" never closes
    record.event("before_crash", detail="must be kept")
    # Simulated kill: no close(); a half-written line from a second writer is left behind.
    with record.events_path.open("ab") as handle:
        handle.write(b'{"ts": "2026-11-21T19:00:00", "seq": 2, "type": "tor')
    reopened = RunRecord.open(runs, "run-1", redactor)
    assert last_event_seq(reopened.events_path) == 1
    reopened.event("after_crash")
    raw_lines = reopened.events_path.read_bytes().split(b"\n")
    assert raw_lines[1].endswith(b'"type": "tor')  # kept verbatim on its own line
    events = list(reopened.iter_events())
    assert [(e["seq"], e["type"]) for e in events] == [(1, "before_crash"), (2, "after_crash")]
    assert events[0]["detail"] == "must be kept"
    record.close()
    reopened.close()


def test_last_event_seq_reads_long_lines_backwards(tmp_path: Path, redactor: Redactor) -> None:
    record = RunRecord.create(tmp_path / "runs", "run-1", redactor)
    for n in range(5):
        record.event("big", blob="z" * 5000 * (n + 1))
    assert last_event_seq(record.events_path, block_size=64) == 5
    assert last_event_seq(tmp_path / "missing.jsonl") == 0


def test_concurrent_events_get_unique_seq(record: RunRecord) -> None:
    def emit(n: int) -> None:
        for i in range(25):
            record.event("check", worker=n, i=i)
            record.chat(f"worker {n}", f"line {i}")

    threads = [threading.Thread(target=emit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = list(record.iter_events())  # each chat entry is journaled as a message event
    assert [e["seq"] for e in events] == list(range(1, 201))
    assert sum(e["type"] == "message" for e in events) == 100
    assert record.chat_md.read_text("utf-8").count("### worker") == 100


# -- reports ----------------------------------------------------------------------------------

def test_reports_are_written_atomically_inside_the_folder(record: RunRecord) -> None:
    path = record.write_json("run.json", {"task": "ü", "n": 1})
    assert json.loads(path.read_text("utf-8")) == {"task": "ü", "n": 1}
    record.write_json("run.json", {"task": "second"})
    assert json.loads(path.read_text("utf-8")) == {"task": "second"}
    assert record.write_text("plan.md", "# Plan\n").read_text("utf-8") == "# Plan\n"
    assert not [p for p in record.run_dir.iterdir() if p.name.endswith(".tmp")]
    for bad in ["../outside.txt", "/etc/passwd", "", "."]:
        with pytest.raises(ValueError, match="inside the run folder"):
            record.write_text(bad, "x")


def test_credentials_in_a_package_index_url_are_hidden() -> None:
    redactor = Redactor()
    text = redactor("installing from https://alice:s3cr3t-t0ken@pypi.corp.example/simple")
    assert "s3cr3t-t0ken" not in text and "alice" in text and "pypi.corp.example" in text


def test_a_variable_naming_the_key_variable_is_not_a_secret() -> None:
    redactor = Redactor.from_environment({
        "MULTICODER_PROVIDERS__LOCAL__API_KEY_ENV": "LOCAL_TEST_KEY",
        "LOCAL_TEST_KEY": "value-of-the-local-key"})
    assert redactor("set LOCAL_TEST_KEY") == "set LOCAL_TEST_KEY"
    assert redactor("value-of-the-local-key") == REDACTED
