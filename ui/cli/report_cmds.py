"""``multicoder report`` (a run's report: HTML, PDF, Markdown, CSV) and ``multicoder stats``.

Heavy libraries (matplotlib, xhtml2pdf) and the graph's report code are imported inside the
commands, so ``multicoder --help`` stays fast. Bad input raises :class:`graph.InputError`,
which the CLI's ``main()`` turns into one line on stderr and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from graph.reports import StatsReport

WHEN_HELP = ("ISO date or time in UTC (2026-11-22, 2026-11-22T14:30) or a span back from now"
             " (30m, 2h, 3d, 1w)")


def register(app: typer.Typer, runs_app: typer.Typer) -> None:
    """Add ``report`` and ``stats`` to the CLI (``runs_app`` is not used)."""
    app.command("report")(report)
    app.command("stats")(stats)


def report(
    run_id: Annotated[str, typer.Argument(help="The run (see `multicoder runs list`)")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="html, pdf, md or csv")] = "html",
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="The file to write, or a folder (default:"
                            " <run folder>/reports/report.<format>)")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="Timeline from this time on: " + WHEN_HELP)] = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Timeline up to this time (a bare date includes that day): "
                        + WHEN_HELP)] = None,
    event_type: Annotated[list[str] | None, typer.Option(
        "--type", help="Only these event types, as in events.jsonl (model_call, check_result,"
                       " tool_call, decision ...); repeatable")] = None,
    risk: Annotated[list[str] | None, typer.Option(
        "--risk", help="Only these risk levels: low, medium, high; repeatable")] = None,
) -> None:
    """Write a run's report (HTML, PDF, Markdown or CSV) and print its path.

    Sections: summary, security verdicts, spec, plan, checks, files, tokens, cost and time
    per node and model (with a chart), and the timeline.

    The filters apply to the timeline (the CSV is the timeline). Risk: high = red verdicts,
    policy refusals, failures, budget stops, rejections; medium = yellow verdicts, questions to
    a person, web actions, repair rounds, loops; low = the rest.

    Examples:
      multicoder report RUN_ID --format pdf

      multicoder report RUN_ID --format csv --since 2h --risk high --risk medium

    """
    from rich.markup import escape

    from graph.reports import ReportRenderError, make_filter, write_run_report
    from ui.cli.app import EXIT_ERROR, fail, load_settings
    from ui.cli.app import out as console

    settings = load_settings()
    timeline_filter = make_filter(since, until, event_type or [], risk or [])
    try:
        path = write_run_report(settings, run_id, fmt, out, timeline_filter)
    except ReportRenderError as exc:
        raise fail(str(exc), EXIT_ERROR) from None
    console.print(escape(str(path)), soft_wrap=True)


def stats(
    since: Annotated[str | None, typer.Option(
        "--since", help="Runs created from this time on: " + WHEN_HELP)] = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Runs created up to this time: " + WHEN_HELP)] = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="table (printed), html (a report with charts) or json")
    ] = "table",
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="The file to write, or a folder (html default:"
                            " <data dir>/reports/stats.html; json and table: printed)")] = None,
) -> None:
    """Statistics over past runs, as tables, an HTML report with charts, or JSON.

    Runs by status, success rate, repair rounds, tokens and cost per model, time per node,
    the most frequent findings.

    Examples:
      multicoder stats --since 7d

      multicoder stats --format html

    """
    from rich.markup import escape

    from graph.reports import (
        STATS_FORMATS,
        check_format,
        gather_stats,
        parse_period,
        write_stats_report,
    )
    from ui.cli.app import load_settings
    from ui.cli.app import out as console

    value = check_format(fmt, STATS_FORMATS)
    start, end = parse_period(since, until)
    settings = load_settings()
    figures = gather_stats(settings, start, end)
    if value == "table":
        _print_tables(console, figures)
        if out is not None:
            path = _write_table_text(figures, out)
            console.print(escape(str(path)), soft_wrap=True)
    elif value == "json" and out is None:
        console.out(figures.model_dump_json(indent=2), highlight=False)
    else:
        path = write_stats_report(settings, figures, value, out)
        console.print(escape(str(path)), soft_wrap=True)


def _write_table_text(figures: StatsReport, out: Path) -> Path:
    """The tables as plain text in ``out`` (a file, or ``stats.txt`` in a folder).

    Raises:
        InputError: the file cannot be written.

    """
    import io

    from rich.console import Console

    from graph import InputError

    path = out / "stats.txt" if out.is_dir() else out
    recorder = Console(record=True, width=120, file=io.StringIO())
    _print_tables(recorder, figures)
    try:
        path.write_text(recorder.export_text(), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _print_tables(console: Console, figures: StatsReport) -> None:
    """The statistics as rich tables: overview, statuses, models, nodes, findings."""
    from rich.markup import escape
    from rich.table import Table

    period = (f"{figures.since[:16].replace('T', ' ') or 'the first run'} →"
              f" {figures.until[:16].replace('T', ' ') or 'now'}")
    overview = Table(title=f"MultiCoder runs ({escape(period)})", show_header=False)
    rate = "—" if figures.success_rate is None else f"{figures.success_rate:.0%}"
    mean = "—" if figures.repair_rounds_mean is None else f"{figures.repair_rounds_mean:.1f}"
    for name, value in [
            ("runs", str(figures.runs)),
            ("finished", str(figures.finished)),
            ("succeeded (done)", str(figures.succeeded)),
            ("success rate", f"{rate} of finished runs"),
            ("repair rounds", f"mean {mean}, max {figures.repair_rounds_max}"),
            ("model calls", f"{figures.total.calls:,}"),
            ("tokens", f"{figures.total.input_tokens:,} in, {figures.total.output_tokens:,} out"),
            ("cost", figures.total.cost_text)]:
        overview.add_row(name, value)
    console.print(overview)
    if figures.by_status:
        statuses = Table("status", "runs", title="Runs by status")
        for status, count in figures.by_status.items():
            statuses.add_row(status, str(count))
        console.print(statuses)
    if figures.by_model:
        models = Table("model", "runs", "calls", "input tokens", "output tokens", "cost",
                       title="Tokens and cost per model")
        for usage in figures.by_model:
            models.add_row(escape(usage.name), str(usage.runs), str(usage.calls),
                           f"{usage.input_tokens:,}", f"{usage.output_tokens:,}",
                           usage.cost_text)
        console.print(models)
    if figures.by_node:
        nodes = Table("node", "runs", "total time", "mean per run", "calls", "tokens",
                      title="Time per node")
        for usage in figures.by_node:
            nodes.add_row(escape(usage.name), str(usage.runs), f"{usage.time_s:,.1f} s",
                          f"{usage.time_s / max(usage.runs, 1):,.1f} s", str(usage.calls),
                          f"{usage.tokens:,}")
        console.print(nodes)
    if figures.top_findings:
        findings = Table("check", "finding", "times", "runs", title="Most frequent findings")
        for item in figures.top_findings:
            findings.add_row(escape(item.check), escape(item.pattern), str(item.count),
                             str(item.runs))
        console.print(findings)
