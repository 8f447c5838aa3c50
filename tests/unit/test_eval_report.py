"""The evaluation's HTML report (graph/eval_report.py): what a person sees on the page."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from graph.errors import InputError
from graph.eval_report import EvalSummary, headline_deltas, render_report, write_report
from graph.eval_results import EvalResults, EvalSettings, JudgeSummary, TaskRecord, save_results

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert('owned')</script> & <img src=x onerror=alert(1)>"


def rec(task_id, kind, outcome, *, failure=None, passed=0, failed=0, verdict=None, cost=0.1,
        wall=60.0, error="", language="en", rounds=0, failed_tests=(), title=None,
        unmet_criteria=()):
    return TaskRecord(
        id=task_id, kind=kind, language=language, title=title or f"title of {task_id}",
        outcome=outcome,
        failure=failure, run_id=f"run-{task_id}", run_status="done",
        tests_passed=passed, tests_failed=failed, failed_tests=list(failed_tests),
        judge=JudgeSummary(verdict=verdict, met=3, unmet=1 if verdict == "rework" else 0,
                           unmet_criteria=list(unmet_criteria)),
        repair_rounds=rounds, input_tokens=10_000, output_tokens=2_000, cost_usd=cost,
        wall_s=wall, error=error, finished_at=NOW)


def results(label, records, tasks=None, selection="all", running=None, **settings):
    return EvalResults(
        label=label,
        settings=EvalSettings(selection=selection, models={"coder": ["openai:gpt-4.1"]},
                              jobs=2, sandbox="docker", **settings),
        started_at=datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
        tasks=list(tasks) if tasks is not None else [r.id for r in records], records=records,
        running=running or {})


def current_run():
    """This run: gui-one regressed, gui-two fixed, cli-one stopped by a too strict judge, a
    harness error, a skipped and a pending task."""
    return results("new coder", [
        rec("gui-one", "gui", "failed", failure="acceptance", passed=2, failed=1,
            verdict="accept", cost=0.30, wall=300, failed_tests=["test_gui.py::test_save"]),
        rec("gui-two", "gui", "passed", passed=4, verdict="accept", cost=0.20, wall=200,
            language="ru"),
        rec("cli-one", "cli", "failed", failure="judge", passed=3, verdict="rework",
            cost=0.10, wall=100, rounds=2, unmet_criteria=[
                "Prints usage on a bad flag — main.py:12 exits without a message"]),
        rec("sqlite-one", "sqlite", "error", failure="error", cost=0.05, wall=50,
            error="sandbox died: no space left on device"),
        rec("game-one", "game", "skipped", failure="budget", cost=0.0, wall=0.0),
    ], tasks=["gui-one", "gui-two", "cli-one", "sqlite-one", "game-one", "http-one",
              "text-one"], running={"text-one": "run-text-one"})


def baseline_run():
    return results("old coder", [
        rec("gui-one", "gui", "passed", passed=3, verdict="accept", cost=0.20, wall=250),
        rec("gui-two", "gui", "failed", failure="acceptance", passed=3, failed=1,
            verdict="accept", cost=0.20, wall=220),
        rec("cli-one", "cli", "failed", failure="build", passed=1, failed=2, verdict="rework",
            cost=0.40, wall=400),
        rec("sqlite-one", "sqlite", "failed", failure="timeout", cost=0.10, wall=600),
    ], tasks=["gui-one", "gui-two", "cli-one", "sqlite-one", "game-one"], budget_usd=5.0)


def task_block(html, task_id, table="tasks sortable"):
    """The <tbody> of ``task_id`` in the table whose class is ``table``."""
    start = html.index(f'<table class="{table}">')
    section = html[start:html.index("</table>", start)]
    for block in re.findall(r"<tbody.*?</tbody>", section, flags=re.DOTALL):
        if f'data-v="{task_id}"' in block:
            return block
    raise AssertionError(f"no row for {task_id}")


def test_the_page_has_the_headline_the_plots_and_a_row_per_task():
    html = render_report(current_run(), now=NOW)

    # header: the label, the settings and the headline figures
    assert "MultiCoder evaluation: new coder" in html
    assert "openai:gpt-4.1" in html and "docker" in html and "2 at a time" in html
    assert "no limit" in html  # no budget was set
    # 1 of the 4 tasks run passed (the skipped and the pending task were not run; cli-one's
    # tests passed but its run was stopped)
    assert ">25%</div>" in html and "1 of 4 tasks run finished with every hidden test" in html
    # acceptance tests 9 of 10; judge: gui-two accept & passed, cli-one rework & passed,
    # gui-one accept & failed -> 1 of 3 agree
    assert "9<span" in html and "/ 10" in html
    assert ">33%</div>" in html and "(1 of 3 verdicts)" in html
    assert "$0.65" in html  # total cost
    assert "not finished: 2 of 7 tasks pending" in html

    # four plots, inline SVG that follows the page's colours, with the kinds' names
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4
    assert "currentColor" in html and "#010203" not in html
    assert "GUI tools (n=2)" in html and "command-line tools (n=1)" in html
    assert "small games" not in html.split('id="plot-kind"')[1].split("</figure>")[0]
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "ids of the inline plots collide"

    # the table: outcome badges, failure category, tests, judge counts, tokens, cost, time
    gui_one = task_block(html, "gui-one")
    assert 'badge o-failed">failed<' in gui_one and ">acceptance<" in gui_one
    assert "2/3" in gui_one and "3 met · 0 unmet" in gui_one and ">12k<" in gui_one
    assert "$0.30" in gui_one and "5 min 00 s" in gui_one and "run-gui-one" in gui_one
    assert "test_gui.py::test_save" in gui_one
    assert 'badge o-passed">passed<' in task_block(html, "gui-two")
    assert ">ru<" in task_block(html, "gui-two")
    assert "no space left on device" in task_block(html, "sqlite-one")
    assert 'badge o-skipped">skipped<' in task_block(html, "game-one")
    pending = task_block(html, "http-one")
    assert 'badge o-pending">pending<' in pending and "not run yet" in pending
    under_way = task_block(html, "text-one")
    assert 'o-pending">pending<' in under_way and "started, not finished: run" in under_way
    assert "run-text-one" in under_way

    # light and dark, printable; the sorting script is optional
    assert "prefers-color-scheme: dark" in html and "@media print" in html
    assert '<th data-sort="num" class="num">Cost</th>' in html


def test_the_page_lists_where_the_judge_and_the_hidden_tests_disagreed():
    html = render_report(current_run(), now=NOW)
    section = html.split("<h3>Where they disagreed</h3>")[1].split("</section>")[0]
    items = re.findall(r'<li><a href="#task-([^"]+)">', section)
    assert items == ["gui-one", "cli-one"]  # gui-two agreed; the others have no verdict
    lenient, strict = section.split('<li><a href="#task-')[1:]
    assert "too lenient" in lenient and "1 hidden test failed" in lenient
    assert "<code>test_gui.py::test_save</code>" in lenient
    assert "too strict" in strict and "called 1 criterion unmet" in strict
    assert "Prints usage on a bad flag — main.py:12 exits without a message" in strict
    # each links to its row in the task table, where the unmet criteria are the verdict's title
    assert 'id="task-cli-one"' in html and 'id="task-gui-one"' in html
    assert 'title="unmet: Prints usage on a bad flag' in task_block(html, "cli-one")


def test_a_judge_that_agreed_everywhere_lists_no_disagreement():
    html = render_report(results("agreeing", [
        rec("gui-one", "gui", "passed", passed=3, verdict="accept"),
        rec("cli-one", "cli", "failed", failure="judge", passed=2, failed=1, verdict="rework"),
    ]), now=NOW)
    assert ">100%</div>" in html and "(2 of 2 verdicts)" in html
    assert "Where they disagreed" not in html


def test_the_comparison_marks_fixed_and_regressed_tasks_and_the_deltas():
    html = render_report(current_run(), compare=baseline_run(), now=NOW)

    assert "Compared with the baseline <strong>old coder</strong>" in html
    fixed = task_block(html, "gui-two", "tasks compare sortable")
    assert 'class="task chg-fixed"' in fixed and 'badge c-fixed">fixed<' in fixed
    assert 'o-failed">failed</span><span class="arrow">→</span><span class="badge o-passed"' \
        in fixed
    regressed = task_block(html, "gui-one", "tasks compare sortable")
    assert 'class="task chg-regressed"' in regressed
    assert "3/3" in regressed and "2/3" in regressed
    assert 'chg-same' in task_block(html, "cli-one", "tasks compare sortable")
    # game-one is pending in the baseline, http-one was not selected there
    assert 'chg-not-compared' in task_block(html, "game-one", "tasks compare sortable")
    assert 'chg-new' in task_block(html, "http-one", "tasks compare sortable")
    assert ">1 fixed<" in html and ">1 regressed<" in html

    # headline deltas: 1/4 passed now against 1/4 before; cost 0.65 against 0.90
    deltas = html.split('<table class="deltas">')[1].split("</table>")[0]
    assert re.search(r"Pass rate</th><td class=\"num\">25%</td><td class=\"num\">25%</td>"
                     r"<td class=\"num muted\">no change", deltas)
    assert re.search(r"Total cost</th><td class=\"num\">\$0.90</td><td class=\"num\">\$0.65"
                     r"</td><td class=\"num good\">-\$0.25 \(-28%\)", deltas)
    # the settings that differ are marked; both runs in the plots' legends
    assert 'class="differs">$5.00' in html
    kind_plot = html.split('id="plot-kind"')[1].split("</figure>")[0]
    assert "old coder" in kind_plot and "new coder" in kind_plot


def test_record_text_is_escaped_everywhere_even_in_the_plots():
    hostile = results(HOSTILE + " $x$ run", [
        rec("gui-one", "gui", "failed", failure="acceptance", passed=1, failed=1,
            error=HOSTILE, failed_tests=[HOSTILE], title=HOSTILE, verdict="accept"),
        rec("odd-kind", HOSTILE, "passed", passed=1, verdict="rework",
            unmet_criteria=[HOSTILE]),
    ], selection=HOSTILE)

    html = render_report(hostile, now=NOW)

    assert html.count("<script") == 1  # the page's own sorting script only
    assert "<img src=x" not in html
    row = task_block(html, "gui-one")
    assert "Error:</span> &lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; &lt;img" in row
    # a kind with markup and a label with dollars are plain text inside the plots
    kind_plot = html.split('id="plot-kind"')[1].split("</figure>")[0]
    assert "&lt;script&gt;alert" in kind_plot
    assert "$x$ run" in html
    # both tasks are judge disagreements: their failed test and unmet criterion are text there
    section = html.split("<h3>Where they disagreed</h3>")[1].split("</section>")[0]
    assert section.count("&lt;script&gt;alert(&#39;owned&#39;)") == 2


def test_secrets_never_reach_the_page(monkeypatch):
    secret = "sk-proj-" + "A1b2C3d4" * 5
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    run = results("keys", [rec("cli-one", "cli", "error", failure="error",
                                error=f"provider said: bad key {secret}")])
    html = render_report(run, now=NOW)
    assert secret not in html
    assert "provider said: bad key" in html


def test_an_empty_results_file_renders_with_a_clear_line():
    empty = results("fresh", [], tasks=["gui-one", "cli-one"])
    html = render_report(empty, now=NOW)
    assert "No tasks finished yet: 2 of 2 selected tasks are pending." in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 0
    assert html.count("No task was run yet.") == 4
    assert 'badge o-pending">pending<' in task_block(html, "cli-one")

    nothing = results("", [], tasks=[])
    html = render_report(nothing, compare=empty, now=NOW)
    assert "No tasks finished yet." in html and "MultiCoder evaluation: this run" in html


def test_only_skipped_tasks_say_so():
    html = render_report(results("broke", [rec("gui-one", "gui", "skipped", failure="budget",
                                               cost=0.0, wall=0.0)]), now=NOW)
    assert "No task was run: all 1 finished tasks were skipped" in html


def test_summary_figures():
    summary = EvalSummary.of(current_run())
    assert (summary.run, summary.passed, summary.failed, summary.errors, summary.skipped,
            summary.pending) == (4, 1, 2, 1, 1, 2)
    assert summary.pass_rate == 0.25
    assert (summary.tests_passed, summary.tests_total) == (9, 10)
    judge = summary.judge
    assert (judge.accept_passed, judge.accept_failed, judge.rework_passed,
            judge.rework_failed, judge.no_verdict) == (1, 1, 1, 0, 0)
    assert [(k.kind, k.passed, k.run) for k in summary.by_kind] == [
        ("gui", 1, 2), ("cli", 0, 1), ("sqlite", 0, 1)]
    assert summary.failures == (("judge", 1), ("acceptance", 1), ("error", 1))
    assert summary.wall_median_s == 150.0

    deltas = {d.metric: d for d in headline_deltas(summary, EvalSummary.of(baseline_run()))}
    assert deltas["Total cost"].good is True
    assert deltas["Median wall time per task"].change.startswith("-")
    assert deltas["Judge agreement"].good is False  # 1 of 3 now, 2 of 3 before


def test_write_report_writes_beside_the_results(tmp_path: Path):
    path = tmp_path / "results.json"
    save_results(current_run().model_copy(update={"label": ""}), path)
    baseline = tmp_path / "before.json"
    save_results(baseline_run(), baseline)

    written = write_report(path)
    assert written == tmp_path / "results.html"
    page = written.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "MultiCoder evaluation: results" in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["before.json", "results.html",
                                                         "results.json"]

    folder = tmp_path / "out"
    folder.mkdir()
    written = write_report(path, folder, compare_path=baseline)
    assert written == folder / "results.html"
    assert "chg-fixed" in written.read_text(encoding="utf-8")


@pytest.mark.parametrize("content", [None, "{not json", '{"format": 1}', "[]"])
def test_write_report_on_a_bad_file_says_what_to_do(tmp_path: Path, content):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as error:
        write_report(path)
    message = str(error.value)
    assert "\n" not in message and "results" in message and str(path) in message
    assert not (tmp_path / "results.html").exists()


def test_write_report_never_overwrites_a_results_file(tmp_path: Path):
    path = tmp_path / "results.json"
    save_results(current_run(), path)
    before = path.read_bytes()
    with pytest.raises(InputError, match="would overwrite the results file"):
        write_report(path, path)
    assert path.read_bytes() == before
    good = tmp_path / "good.json"
    save_results(current_run(), good)
    with pytest.raises(InputError, match=r"bad\.json does not exist"):
        write_report(good, compare_path=tmp_path / "bad.json")
    assert not (tmp_path / "good.html").exists()
