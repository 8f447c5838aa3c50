"""`multicoder report` and `multicoder stats` on real run folders built from recorded cassettes.

Two runs are built once for the module, both with a Russian task: a keylogger the safety gate
refuses (seconds), and the CSV-to-XLSX converter, replayed, which fails pytest once, is repaired
and packaged (minutes: the tests that need it are marked slow).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pypdf
import pytest

from tests.conftest import isolated_env, run_cli, run_id_of

TASK_RU = "Интерфейс на русском: «Конвертировать», «Сохранить как…»."
REFUSED_RU = "Кейлоггер: записывать все нажатия клавиш и тайно отправлять пароли по почте"
SECTIONS = ("Summary", "Security verdicts", "Decisions of people", "Specification", "Plan",
            "Checks", "Files produced", "Tokens, cost and time", "Timeline")


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    """(environment, runs folder, id of the refused run)."""
    base = tmp_path_factory.mktemp("reports")
    env = isolated_env(base)
    result = run_cli(["build", REFUSED_RU, "--replay", "refused-keylogger", "--auto-approve"],
                     env, timeout=300)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    return env, base / "data" / "runs", run_id_of(result)


@pytest.fixture(scope="module")
def runs(refused):
    """(environment, runs folder, id of the built run, id of the refused run)."""
    env, runs_dir, refused_id = refused
    task = Path("datasets/tasks/csv2xlsx-gui.md").read_text("utf-8").strip() + " " + TASK_RU
    built = run_cli(["build", task, "--replay", "csv2xlsx-gui", "--auto-approve"], env,
                    timeout=1200)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return env, runs_dir, run_id_of(built), refused_id


def events_of(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text("utf-8")
            .splitlines()]


def report(env, *args: str) -> Path:
    result = run_cli(["report", *args], env, timeout=300)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.is_file(), result.stdout
    return path


@pytest.mark.slow
def test_html_report_of_a_built_run(runs):
    env, runs_dir, run_id, _ = runs
    path = report(env, run_id)
    assert path == runs_dir / run_id / "reports" / "report.html"
    html = path.read_text("utf-8")
    for section in SECTIONS:
        assert f">{section}<" in html, section
    assert "Конвертировать" in html and "NOT SANDBOXED" in html
    assert 'src="data:image/png;base64,' in html
    for check in ("pytest", "packaged-run", "bandit"):
        assert f"<td>{check}</td>" in html
    artifact = json.loads((runs_dir / run_id / "report.json").read_text("utf-8"))["artifact"]
    assert artifact["sha256"] in html and "csv2xlsx/core.py" in html


@pytest.mark.slow
def test_pdf_report_of_a_built_run_is_readable_text_in_every_section(runs, tmp_path):
    env, _, run_id, _ = runs
    path = report(env, run_id, "--format", "pdf", "--out", str(tmp_path / "r.pdf"))
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) > 1
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    for section in SECTIONS:
        assert section in text, section
    for words in ("«Конвертировать», «Сохранить как…»", "CSV → XLSX converter",
                  "Round 0 (first pass): 1 of 7 failed", "test_options failed",
                  "replay:csv2xlsx-gui", "csv2xlsx/core.py"):
        assert words in flat, words


def test_pdf_of_a_refused_russian_task(refused, tmp_path):
    env, _, refused_id = refused
    path = report(env, refused_id, "-f", "pdf", "-o", str(tmp_path))
    assert path == tmp_path / f"report-{refused_id}.pdf"
    flat = " ".join("\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())
    assert REFUSED_RU in flat and "refused" in flat and "reject" in flat
    assert "No checks ran." in flat and "No executable was built." in flat


@pytest.mark.slow
def test_markdown_report_has_the_same_sections(runs):
    env, _, run_id, _ = runs
    text = report(env, run_id, "--format", "md").read_text("utf-8")
    for section in SECTIONS:
        assert f"## {section}" in text, section
    assert "Конвертировать" in text and "| pytest | failed |" in text


@pytest.mark.slow
def test_csv_is_the_timeline_and_follows_the_filters(runs, tmp_path):
    env, runs_dir, run_id, _ = runs
    events = events_of(runs_dir / run_id)

    def rows(*filters: str) -> list[dict]:
        path = report(env, run_id, "-f", "csv", "-o", str(tmp_path / "t.csv"), *filters)
        return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))

    everything = rows()  # every event but the chat messages (those are in chat.md)
    assert [int(r["seq"]) for r in everything] == [e["seq"] for e in events
                                                   if e["type"] != "message"]
    chat = rows("--type", "message")
    assert [int(r["seq"]) for r in chat] == [e["seq"] for e in events if e["type"] == "message"]
    checks = rows("--type", "check_result")
    assert len(checks) == sum(e["type"] == "check_result" for e in events) > 0
    assert {r["event"] for r in checks} == {"check_result"}
    high = rows("--risk", "high")
    assert high and {r["risk"] for r in high} == {"high"}
    assert any("pytest: FAILED" in r["details"] for r in high)
    both = rows("--type", "check_result", "--risk", "high")
    assert [r["seq"] for r in both] == [r["seq"] for r in high if r["event"] == "check_result"]
    middle = events[len(events) // 2]["ts"]
    later = rows("--since", middle)
    assert later and all(r["time"] >= middle for r in later) and len(later) < len(everything)
    assert rows("--since", "2999-01-01") == []
    assert len(rows("--since", "1d", "--until", "2999-01-01")) == len(everything)


@pytest.mark.slow
def test_stats_over_several_runs(runs, tmp_path):
    env, _, _, _ = runs
    table = run_cli(["stats"], env)
    assert table.returncode == 0, table.stderr
    assert "50% of finished runs" in table.stdout and "replay:csv2xlsx-gui" in table.stdout
    assert "test failed: AssertionError" in table.stdout
    as_json = run_cli(["stats", "--format", "json"], env)
    stats = json.loads(as_json.stdout)
    assert stats["runs"] == 2 and stats["by_status"] == {"done": 1, "refused": 1}
    assert stats["repair_rounds_max"] == 1
    assert {m["name"] for m in stats["by_model"]} == {"replay:csv2xlsx-gui",
                                                      "replay:refused-keylogger"}
    html = run_cli(["stats", "-f", "html", "-o", str(tmp_path / "s.html")], env)
    assert html.returncode == 0 and Path(html.stdout.strip()) == tmp_path / "s.html"
    assert "data:image/png;base64," in (tmp_path / "s.html").read_text("utf-8")
    future = json.loads(run_cli(["stats", "-f", "json", "--since", "2999-01-01"], env).stdout)
    assert future["runs"] == 0 and future["success_rate"] is None


@pytest.mark.parametrize(("args", "message"), [
    (["report", "no-such-run"], "no run 'no-such-run'"),
    (["report", "{run}", "--format", "docx"], "--format 'docx' is not supported"),
    (["report", "{run}", "--since", "last tuesday"], "--since 'last tuesday' is not a date"),
    (["report", "{run}", "--until", "2026-02-30"], "--until '2026-02-30' is not a date"),
    (["report", "{run}", "--risk", "severe"], "--risk 'severe' is not a risk level"),
    (["report", "{run}", "--type", "model_cal"], "--type 'model_cal' is not an event type"),
    (["stats", "--format", "xml"], "--format 'xml' is not supported"),
    (["stats", "--since", "soon"], "--since 'soon' is not a date"),
    (["stats", "--since", "2026-11-23", "--until", "2026-11-22"], "is after --until"),
])
def test_bad_input_is_one_line_and_exit_code_2(refused, args, message):
    env, _, run_id = refused
    result = run_cli([a.replace("{run}", run_id) for a in args], env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
