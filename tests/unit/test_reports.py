"""Reports (L2) and statistics (L5): gathering a run folder, filters, risk levels, rendering.

The run folders here are written by hand in the shapes the engine writes (events.jsonl,
checks-round-N.json, run.json ...), so every rule can be checked quickly; the CLI tests in
tests/integration/test_report_cli.py do the same on runs built from recorded cassettes.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdf
import pypdfium2
import pytest

from graph import InputError, Settings
from graph.reports import (
    TimelineFilter,
    decisions_of,
    finding_pattern,
    gather_run_report,
    gather_stats,
    make_filter,
    parse_when,
    risk_of,
    timeline_of,
    write_run_report,
    write_stats_report,
)
from memory.reports import (
    CSV_COLUMNS,
    RunReport,
    TimelineEntry,
    render_csv,
    render_html,
    render_markdown,
    render_pdf,
    render_stats_html,
)
from memory.run_index import RunIndex

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TASK_RU = "Конвертер CSV в XLSX с окном: «Открыть», «Сохранить как…», Ёжик и щука"
SHA = "2f97d9d8da116b131fca6552302f31c26d7b63c9744b3f3612a691a74c5122ec"
SECTIONS = ("Summary", "Security verdicts", "Decisions of people", "Specification", "Plan",
            "Checks", "Files produced", "Tokens, cost and time", "Timeline")


def ts(minutes: float) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat(timespec="milliseconds")


def full_run_events() -> list[dict]:
    """A run that asked twice, failed pytest once, repaired it and was packaged."""
    events = [
        {"type": "run_created", "task": TASK_RU, "models": {"coder": ["openai:gpt-x"]}},
        {"type": "sandbox_chosen", "backend": "bwrap", "isolated": True, "reason": "bubblewrap"},
        {"type": "session_started"},
        {"type": "node_started", "node": "safety_gate"},
        {"type": "message", "speaker": "multicoder → judge", "kind": "system",
         "title": None, "text": "You are the safety judge."},
        {"type": "safety_classifier", "label": "benign", "harmful_probability": 0.21,
         "category": "ordinary", "threshold": 0.52},
        {"type": "model_call", "model": "openai:gpt-x", "input_tokens": 1000,
         "output_tokens": 200, "cost_usd": 0.01},
        {"type": "safety_judge", "level": "green", "recommendation": "approve",
         "reasons": ["Конвертер файлов: вреда нет."], "categories": []},
        {"type": "safety_verdict", "level": "green", "recommendation": "approve",
         "reasons": ["Конвертер файлов: вреда нет."], "categories": [], "escalated": False},
        {"type": "node_finished", "node": "safety_gate", "duration_ms": 6000},
        {"type": "node_started", "node": "confirm_start"},
        {"type": "interrupt", "interrupt": "confirm_start", "summary": "**Start?** green"},
        {"type": "session_started"},
        {"type": "interrupt_answered", "interrupt": "confirm_start"},
        {"type": "node_started", "node": "confirm_start"},
        {"type": "decision", "interrupt": "confirm_start", "decision": {"action": "approve"}},
        {"type": "node_finished", "node": "confirm_start", "duration_ms": 1},
        {"type": "node_started", "node": "approve_plan"},
        {"type": "interrupt", "interrupt": "approve_plan", "summary": "**Plan:** a package"},
        {"type": "decision", "interrupt": "approve_plan",
         "decision": {"action": "reject", "feedback": "добавьте тесты"}},
        {"type": "node_finished", "node": "approve_plan", "duration_ms": 5},
        {"type": "node_started", "node": "coder"},
        {"type": "coder_round", "round": 0},
        {"type": "model_call", "model": "openai:gpt-x", "input_tokens": 5000,
         "output_tokens": 3000, "cost_usd": 0.08},
        {"type": "tool_call", "round": 0, "action": "write_file", "success": True,
         "target": "app/core.py", "error": None},
        {"type": "tool_call", "round": 0, "action": "run_command", "success": False,
         "target": "pip install x", "error": "refused by policy: installers are not allowed"},
        {"type": "node_finished", "node": "coder", "duration_ms": 2000},
        {"type": "node_started", "node": "paranoid_tester"},
        {"type": "check_result", "round": 0, "check": "ruff", "passed": True, "skipped": False,
         "findings": 0, "duration_ms": 64},
        {"type": "check_result", "round": 0, "check": "pytest", "passed": False,
         "skipped": False, "findings": 2, "duration_ms": 8000},
        {"type": "node_finished", "node": "paranoid_tester", "duration_ms": 9000},
        {"type": "node_started", "node": "coder"},
        {"type": "coder_round", "round": 1},
        {"type": "web_action", "round": 1, "action": "web_search", "success": True,
         "target": "openpyxl write only"},
        {"type": "node_finished", "node": "coder", "duration_ms": 500},
        {"type": "node_started", "node": "packager"},
        {"type": "packaging_built", "path": "/nowhere/dist/app", "size_bytes": 65_700_984,
         "sha256": SHA},
        {"type": "check_result", "round": 1, "check": "packaged-run", "passed": True,
         "skipped": False, "findings": 0, "duration_ms": 5030},
        {"type": "node_finished", "node": "packager", "duration_ms": 51000},
        {"type": "run_finished", "status": "done", "artifact": "/nowhere/dist/app"},
    ]
    return [{"ts": ts(i), "seq": i + 1, **event} for i, event in enumerate(events)]


PYTEST_FINDINGS = [
    {"check": "pytest", "file": "tests/test_cli.py", "line": 36, "severity": "error",
     "message": "tests.test_cli.test_options failed: AssertionError: assert ['a'] == ['b']\n"
                "\n  Right contains one more item"},
    {"check": "pytest", "file": "tests/test_sheets.py", "line": 49, "severity": "error",
     "message": "tests.test_sheets.test_exact failed: assert [5, 4] == [5, 5]"},
]


def write_run(data_dir: Path, run_id: str, *, task: str = TASK_RU, status: str = "done",
              events: list[dict] | None = None, created: datetime = NOW,
              with_checks: bool = True) -> Path:
    """A run folder in the engine's shapes, plus its row in the run index."""
    run_dir = data_dir / "runs" / run_id
    (run_dir / "workspace" / "app").mkdir(parents=True)
    (run_dir / "workspace" / ".venv" / "lib").mkdir(parents=True)
    (run_dir / "workspace" / "app" / "core.py").write_text("print('привет')\n", "utf-8")
    (run_dir / "workspace" / ".venv" / "lib" / "big.so").write_bytes(b"x" * 1000)
    (run_dir / "run.json").write_text(json.dumps({
        "task": task, "models": {"planner": ["openai:gpt-x"], "coder": ["openai:gpt-x"]},
        "sandbox": "bwrap", "sandbox_reason": "bubblewrap without network",
        "created_at": created.isoformat()}, ensure_ascii=False), "utf-8")
    events = full_run_events() if events is None else events
    (run_dir / "events.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), "utf-8")
    (run_dir / "spec.md").write_text("# Конвертер\n\nТаблицы с кириллицей.\n\n## Features\n"
                                     "- streams big files\n", "utf-8")
    (run_dir / "plan.md").write_text("**Plan:** write `app/core.py`, then tests\n", "utf-8")
    if with_checks:
        (run_dir / "checks-round-0.json").write_text(json.dumps({"round": 0, "passed": False,
            "results": [
                {"check": "ruff", "passed": True, "skipped": False, "findings": [],
                 "duration_ms": 64},
                {"check": "pytest", "passed": False, "skipped": False,
                 "findings": PYTEST_FINDINGS, "duration_ms": 8000}]}), "utf-8")
        (run_dir / "checks-round-1.json").write_text(json.dumps({"round": 1, "passed": True,
            "results": [{"check": "pytest", "passed": True, "skipped": False, "findings": [],
                         "duration_ms": 4000}]}), "utf-8")
    (run_dir / "cassette.jsonl").write_text("".join(json.dumps({
        "key": key, "role": "coder", "model": "openai:gpt-x",
        "response": {"content": "", "tool_calls": []},
        "usage": {"input_tokens": i, "output_tokens": o}}) + "\n"
        for key, i, o in [("safety_gate/0", 1000, 200), ("coder/0/0", 5000, 3000)]), "utf-8")
    index = RunIndex(data_dir / "runs.sqlite", clock=lambda: created)
    index.add(run_id, task, str(run_dir), status="running")
    index.update(run_id, status=status)
    return run_dir


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("MULTICODER_CONFIG", str(tmp_path / "settings.toml"))
    return Settings(data_dir=tmp_path / "data")


# -- dates and filters -------------------------------------------------------------------------

def test_when_accepts_iso_dates_and_spans_back_from_now() -> None:
    assert parse_when("2026-11-22", now=NOW) == datetime(2026, 11, 22, tzinfo=UTC)
    assert parse_when("2026-11-22", now=NOW, end_of_day=True) == datetime(
        2026, 11, 22, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_when("2026-11-22T14:30+03:00", now=NOW) == datetime(2026, 11, 22, 11, 30,
                                                                      tzinfo=UTC)
    assert parse_when("2026-11-22T14:30Z", now=NOW).hour == 14
    assert parse_when("2h", now=NOW) == NOW - timedelta(hours=2)
    assert parse_when("3d", now=NOW) == NOW - timedelta(days=3)
    assert parse_when("30 min ago", now=NOW) == NOW - timedelta(minutes=30)
    for bad in ("yesterdayish", "2026-13-40", "2x", ""):
        with pytest.raises(InputError, match="not a date"):
            parse_when(bad, now=NOW)


def test_filters_refuse_unknown_risk_levels_and_an_empty_period() -> None:
    with pytest.raises(InputError, match="'severe' is not a risk level"):
        make_filter(risks=["high", "severe"])
    with pytest.raises(InputError, match="after --until"):
        make_filter("2026-11-23", "2026-11-22")
    both = make_filter(types=["model_call,check_result"], risks=["HIGH"])
    assert both.types == {"model_call", "check_result"} and both.risks == {"high"}
    assert both.describe() == ["event type: check_result, model_call", "risk: high"]


def test_filter_keeps_events_matching_every_condition() -> None:
    def entry(minutes: float, kind: str, risk: str) -> TimelineEntry:
        return TimelineEntry(ts=ts(minutes), seq=1, type=kind, risk=risk)  # type: ignore[arg-type]

    chosen = TimelineFilter(since=NOW, until=NOW + timedelta(minutes=10),
                            types=frozenset({"check_result"}), risks=frozenset({"high"}))
    assert chosen.matches(entry(5, "check_result", "high"))
    assert not chosen.matches(entry(5, "check_result", "low"))
    assert not chosen.matches(entry(5, "tool_call", "high"))
    assert not chosen.matches(entry(11, "check_result", "high"))
    assert not chosen.matches(entry(-1, "check_result", "high"))
    assert TimelineFilter().matches(entry(-100, "anything", "low"))


# -- risk levels and the timeline --------------------------------------------------------------

@pytest.mark.parametrize(("event", "level"), [
    ({"type": "safety_verdict", "level": "red"}, "high"),
    ({"type": "safety_judge", "level": "yellow"}, "medium"),
    ({"type": "safety_verdict", "level": "green"}, "low"),
    ({"type": "safety_classifier", "label": "harmful"}, "medium"),
    ({"type": "tool_call", "success": False, "error": "refused by policy: outside"}, "high"),
    ({"type": "tool_call", "success": False, "error": "no such file"}, "medium"),
    ({"type": "tool_call", "success": True}, "low"),
    ({"type": "check_result", "passed": False, "skipped": False}, "high"),
    ({"type": "check_result", "passed": False, "skipped": True}, "low"),
    ({"type": "budget_exceeded", "budget": "cost"}, "high"),
    ({"type": "run_failed", "error": "boom"}, "high"),
    ({"type": "run_finished", "status": "refused"}, "high"),
    ({"type": "run_finished", "status": "done"}, "low"),
    ({"type": "decision", "decision": {"action": "reject"}}, "high"),
    ({"type": "decision", "decision": {"action": "approve"}}, "low"),
    ({"type": "interrupt", "interrupt": "approve_plan"}, "medium"),
    ({"type": "web_action", "success": True}, "medium"),
    ({"type": "coder_round", "round": 2}, "medium"),
    ({"type": "coder_round", "round": 0}, "low"),
    ({"type": "model_call"}, "low"),
])
def test_risk_levels_follow_the_documented_rules(event: dict, level: str) -> None:
    assert risk_of(event) == level


def test_timeline_names_the_node_of_each_event_and_says_what_happened() -> None:
    timeline = timeline_of(full_run_events())
    by_type: dict[str, TimelineEntry] = {}
    for entry in timeline:
        by_type.setdefault(entry.type, entry)  # the first of each type
    assert by_type["model_call"].node == "safety_gate"
    assert "1,000 tokens in, 200 out, $0.0100" in by_type["model_call"].details
    assert by_type["interrupt_answered"].node == ""  # between sessions, outside any node
    assert by_type["packaging_built"].node == "packager"
    assert by_type["packaging_built"].details == "built /nowhere/dist/app (65.7 MB)"
    assert by_type["decision"].details.startswith("confirm_start: approve")
    assert [e.seq for e in timeline] == list(range(1, len(timeline) + 1))


def test_each_question_is_paired_with_its_answer() -> None:
    rows = decisions_of(full_run_events())
    assert [(r.question, r.answer, r.feedback) for r in rows] == [
        ("confirm_start", "approve", ""), ("approve_plan", "reject", "добавьте тесты")]
    assert rows[1].summary == "Plan: a package"  # Markdown marks removed
    waiting = decisions_of([{"type": "interrupt", "interrupt": "ask_human", "summary": "stuck",
                             "ts": ts(0)}] * 2)  # asked again after a resume: one question
    assert len(waiting) == 1 and waiting[0].answer == ""


def test_findings_of_one_kind_count_together() -> None:
    assert finding_pattern(PYTEST_FINDINGS[0]["message"]) == "test failed: AssertionError"
    assert finding_pattern(PYTEST_FINDINGS[1]["message"]) == "test failed: AssertionError"
    assert finding_pattern("F401 `os` imported but unused") == finding_pattern(
        "F401 `sys` imported but unused")
    assert finding_pattern('Name "x" is not defined  [name-defined]') == (
        "Name '…' is not defined [name-defined]")
    assert finding_pattern("app/core.py:12 line too long (120 > 100)") == (
        "<path>:N line too long (N > N)")


# -- a run's report ----------------------------------------------------------------------------

def test_a_run_report_gathers_every_section_from_the_run_folder(settings: Settings,
                                                                  monkeypatch) -> None:
    write_run(settings.data_dir, "run-1")
    report = gather_run_report(settings, "run-1", now=NOW)
    assert report.task == TASK_RU and report.status == "done" and report.sandbox == "bwrap"
    assert report.sandbox_isolated and report.repair_rounds == 1
    assert [(c.round, c.check, c.status, c.findings_total) for c in report.checks] == [
        (0, "ruff", "passed", 0), (0, "pytest", "failed", 2), (1, "pytest", "passed", 0),
        (1, "packaged-run", "passed", 0)]  # the last one only the events know
    # Blank lines of a finding's message are dropped, the rest kept.
    assert report.checks[1].findings[0].message.splitlines()[1] == "  Right contains one more item"
    assert [layer.layer for layer in report.safety] == ["classifier", "judge", "final verdict"]
    assert [f.path for f in report.files] == ["app/core.py"]  # .venv is not listed
    assert report.artifact is not None and report.artifact.sha256 == SHA
    assert report.total.calls == 2 and report.total.input_tokens == 6000
    nodes = {u.name: u for u in report.by_node}
    assert nodes["coder"].output_tokens == 3000 and nodes["packager"].time_s == 51.0
    assert list(nodes)[:3] == ["safety_gate", "confirm_start", "approve_plan"]
    # Chat messages are in chat.md: left out of the timeline unless asked for.
    assert report.timeline_total == len(report.timeline) == len(full_run_events()) - 1
    assert report.messages_left_out == 1 and "message" not in {e.type for e in report.timeline}
    chat = gather_run_report(settings, "run-1", make_filter(types=["message"]))
    assert [e.details for e in chat.timeline] == [
        "multicoder → judge · system: You are the safety judge."]
    assert chat.timeline[0].node == "safety_gate" and chat.messages_left_out == 0


def test_a_report_hides_secrets_the_run_folder_might_hold(settings: Settings,
                                                          monkeypatch) -> None:
    secret = "hunter2-correct-horse-battery"
    monkeypatch.setenv("DB_PASSWORD", secret)
    events = full_run_events()
    events[0]["task"] = f"use the password {secret}"
    write_run(settings.data_dir, "run-1", task=f"connect with {secret}", events=events)
    for fmt in ("html", "md", "csv"):
        text = write_run_report(settings, "run-1", fmt).read_text("utf-8")
        assert secret not in text and "[REDACTED]" in text


def test_timeline_filters_reach_the_report_and_unknown_types_are_refused(
        settings: Settings) -> None:
    write_run(settings.data_dir, "run-1")
    high = gather_run_report(settings, "run-1", make_filter(risks=["high"]))
    assert {e.type for e in high.timeline} == {"decision", "tool_call", "check_result"}
    assert high.filters == ["risk: high"] and high.timeline_total == len(full_run_events()) - 1
    late = gather_run_report(settings, "run-1", make_filter(since=ts(30)))
    assert late.timeline and all(e.ts >= ts(30) for e in late.timeline)
    assert len(late.checks) == 4  # the filters apply to the timeline only
    with pytest.raises(InputError, match="'model_cal' is not an event type; this run has:"):
        gather_run_report(settings, "run-1", make_filter(types=["model_cal"]))
    assert gather_run_report(settings, "run-1", make_filter(types=["budget_exceeded"])
                             ).timeline == []  # known, just absent from this run


def test_unknown_runs_and_vanished_folders_are_input_errors(settings: Settings) -> None:
    with pytest.raises(InputError, match="no run 'nope'"):
        gather_run_report(settings, "nope")
    run_dir = write_run(settings.data_dir, "run-1")
    for path in sorted(run_dir.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    run_dir.rmdir()
    with pytest.raises(InputError, match="folder of run 'run-1' is gone"):
        gather_run_report(settings, "run-1")
    with pytest.raises(InputError, match="--format 'docx' is not supported"):
        write_run_report(settings, "run-1", "docx")


def test_reports_are_written_beside_the_run_or_where_asked(settings: Settings,
                                                           tmp_path: Path) -> None:
    run_dir = write_run(settings.data_dir, "run-1")
    assert write_run_report(settings, "run-1", "md") == run_dir / "reports" / "report.md"
    folder = tmp_path / "out"
    folder.mkdir()
    assert write_run_report(settings, "run-1", "CSV", folder) == folder / "report-run-1.csv"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write"):
        write_run_report(settings, "run-1", "md", blocker / "sub" / "r.md")


# -- rendering ---------------------------------------------------------------------------------

@pytest.fixture
def report(settings: Settings) -> RunReport:
    write_run(settings.data_dir, "run-1")
    return gather_run_report(settings, "run-1", now=NOW)


def test_html_is_one_self_contained_page_with_every_section_and_the_chart(
        report: RunReport) -> None:
    html = render_html(report)
    for section in SECTIONS:
        assert f">{section}<" in html, section
    assert TASK_RU in html
    assert "добавьте тесты" in html and SHA in html and "NOT SANDBOXED" not in html
    chart = html.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    assert base64.b64decode(chart).startswith(b"\x89PNG")
    # Nothing is fetched: no external stylesheet, script, font or image.
    for external in ("<link", "<script", "http://", "https://", "url("):
        assert external not in html
    # Text from the model is escaped, never markup.
    report.spec_markdown = ("<script>alert(1)</script> <b>bold</b>\n\n"
                            "![pixel](https://tracker.example/p.png)")
    planted = render_html(report)
    assert "<script>alert" not in planted and "<b>bold" not in planted
    assert '<img src="https://tracker' not in planted and "pixel" in planted


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_pdf_has_every_section_and_renders_cyrillic(report: RunReport) -> None:
    data = render_pdf(report)
    assert data.startswith(b"%PDF") and len(pypdf.PdfReader(io.BytesIO(data)).pages) > 0
    text = pdf_text(data)
    for section in SECTIONS:
        assert section in text, section
    for words in ("Конвертер CSV в XLSX", "Ёжик и щука", "Таблицы с кириллицей",
                  "добавьте тесты", "packaged-run", "test_options failed"):
        assert words in " ".join(text.split()), words
    assert SHA in text.replace("\n", "")


def test_pdf_keeps_long_words_and_wide_tables_on_the_page(report: RunReport) -> None:
    report.artifact.path = "/very/" + "long-folder-name-" * 12 + "app"  # type: ignore[union-attr]
    report.timeline[0].details = "x" * 400
    data = render_pdf(report)
    document = pypdfium2.PdfDocument(data)
    try:
        for page in document:
            width = page.get_width()
            text = page.get_textpage()
            for index in range(text.count_chars()):
                left, _, right, _ = text.get_charbox(index)
                assert left >= 0 and right <= width, (text.get_text_range(), right, width)
    finally:
        document.close()


def test_markdown_has_the_same_sections(report: RunReport) -> None:
    text = render_markdown(report)
    for section in SECTIONS:
        assert f"## {section}" in text or f"### {section}" in text, section
    assert "### Конвертер" in text  # the spec's own title nests under "## Specification"
    assert "| pytest | failed | 8.0 s | 2 |" in text


def test_csv_is_the_filtered_timeline(report: RunReport) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(report))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == len(report.timeline)
    assert rows[1][3] == "run_created" and TASK_RU in rows[1][5]


# -- statistics --------------------------------------------------------------------------------

def test_stats_count_runs_success_rounds_tokens_and_findings(settings: Settings) -> None:
    write_run(settings.data_dir, "run-1", created=NOW - timedelta(days=3))
    write_run(settings.data_dir, "run-2", created=NOW - timedelta(hours=1))
    refused = [{"ts": ts(0), "seq": 1, "type": "safety_verdict", "level": "red",
                "recommendation": "reject", "reasons": ["malware"]}]
    write_run(settings.data_dir, "run-3", status="refused", events=refused, with_checks=False,
              created=NOW - timedelta(minutes=5))
    write_run(settings.data_dir, "run-4", status="waiting", events=[], with_checks=False,
              created=NOW - timedelta(minutes=1))
    stats = gather_stats(settings, now=NOW)
    assert (stats.runs, stats.finished, stats.succeeded) == (4, 3, 2)
    assert stats.success_rate == pytest.approx(2 / 3)
    assert stats.by_status == {"done": 2, "refused": 1, "waiting": 1}
    assert stats.repair_rounds_max == 1 and stats.repair_rounds_mean == pytest.approx(2 / 3)
    assert [(u.name, u.calls, u.runs) for u in stats.by_model] == [("openai:gpt-x", 8, 4)]
    assert stats.top_findings[0].pattern == "test failed: AssertionError"
    assert (stats.top_findings[0].count, stats.top_findings[0].runs) == (4, 2)
    packager = next(u for u in stats.by_node if u.name == "packager")
    assert packager.runs == 2 and packager.time_s == 102.0
    recent = gather_stats(settings, since=NOW - timedelta(days=1), now=NOW)
    assert recent.runs == 3 and [r.run_id for r in recent.recent][-1] == "run-2"
    assert gather_stats(settings, since=NOW + timedelta(days=1)).runs == 0


def test_stats_html_and_json(settings: Settings, tmp_path: Path) -> None:
    write_run(settings.data_dir, "run-1")
    stats = gather_stats(settings, now=NOW)
    html = render_stats_html(stats)
    for heading in ("Runs by status", "Tokens and cost per model", "Time per node",
                    "Most frequent findings", "Newest runs"):
        assert heading in html
    assert "data:image/png;base64," in html and "100%" in html
    path = write_stats_report(settings, stats, "json", tmp_path / "s.json")
    assert json.loads(path.read_text("utf-8"))["runs"] == 1
    assert write_stats_report(settings, stats, "html") == settings.data_dir / "reports" / (
        "stats.html")
    with pytest.raises(InputError, match="use html, json"):
        write_stats_report(settings, stats, "table")
