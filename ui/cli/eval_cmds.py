"""``multicoder eval``: run reference tasks through the whole graph and score them (Q2).

``multicoder eval --tasks SEL [--model ROLE=REF ...] [--jobs N] [--budget USD]`` runs the
tasks, ``multicoder eval report RESULTS [--compare OTHER]`` writes the HTML report, and
``multicoder eval list`` shows the tasks. The harness lives in :mod:`graph.evaluation`;
heavy imports stay inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.progress import TaskID

    from graph.eval_results import TaskRecord
    from graph.evaluation import EvalUpdate

EVAL_HELP = (
    "Evaluate MultiCoder on reference tasks with hidden acceptance tests.\n\n"
    "Each selected task runs through the whole graph (approvals answered automatically: start"
    " and plan approved, web requests refused, \"repairs are not converging\" stops), then the"
    " task's hidden tests run against the app it built, in the run's sandbox. Per task the"
    " results file gets: tests passed/failed, the judge's verdict, repair rounds, tokens, cost,"
    " wall time and the failure category. The file is written after every task: run the same"
    " command again to resume an interrupted evaluation.\n\n"
    "Examples:\n\n"
    "  multicoder eval --tasks cassette --model replay   (offline: recorded models)\n\n"
    "  multicoder eval --tasks all --model all=openai:gpt-4.1 --jobs 2 --budget 20\n\n"
    "  multicoder eval --tasks kind:sqlite,lang:ru --model coder=deepseek:deepseek-chat\n\n"
    "  multicoder eval report eval-results.json --compare older-results.json")


def register(app: typer.Typer, runs_app: typer.Typer) -> None:
    """Add the ``eval`` command group to the CLI (``runs_app`` is not used)."""
    eval_app = typer.Typer(help=EVAL_HELP, invoke_without_command=True)
    eval_app.callback()(evaluate)
    eval_app.command("report")(report)
    eval_app.command("list")(list_tasks)
    app.add_typer(eval_app, name="eval")


def evaluate(
    ctx: typer.Context,
    tasks: Annotated[str | None, typer.Option(
        "--tasks", "-t", help="Which tasks: all, cassette (those with recorded models), task ids"
                              " or globs (sqlite-*), kind:KIND, lang:en|ru; comma-separated")
                     ] = None,
    model: Annotated[list[str] | None, typer.Option(
        "--model", "-m", help="ROLE=PROVIDER:MODEL (ROLE: planner, coder, judge or all;"
                              " repeat a role for fallbacks), or replay: each task's own"
                              " recorded cassette. Default: the models in your settings")] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=1, max=16, help="Tasks at the same time (each has its own sandbox;"
                                            " 1-2 on a weak PC)")] = 1,
    budget: Annotated[float | None, typer.Option(
        "--budget", min=0, help="Money limit for the whole evaluation, in US dollars: no task"
                                " starts once it is spent")] = None,
    timeout: Annotated[str, typer.Option(
        "--timeout", help="Each task's limit of active time (90m, 1h30m, 3600)")] = "1h",
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="The results file (JSON); an existing one is resumed")
                      ] = Path("eval-results.json"),
    sandbox: Annotated[str | None, typer.Option(
        "--sandbox", help="docker, bwrap or local (default: your settings)")] = None,
    label: Annotated[str, typer.Option("--label", help="A name for this evaluation in reports"
                                       )] = "",
    report_out: Annotated[Path | None, typer.Option(
        "--report", help="Also write the HTML report here when done (default:"
                         " next to the results file)")] = None,
) -> None:
    """Run reference tasks through the whole graph and score them with hidden tests."""
    if ctx.invoked_subcommand is not None:
        return
    from graph.errors import InputError
    from graph.evalset import DatasetError, load_tasks, select
    from graph.evaluation import EvalOptions, Evaluation, parse_models, summary_line
    from ui.cli.app import err, load_engine, out, parse_duration

    if not tasks:
        raise InputError("say which tasks to run: --tasks all, --tasks cassette, or task ids"
                         " (see `multicoder eval list`)")
    try:
        selected = select(load_tasks(), tasks)
    except DatasetError as exc:
        raise InputError(str(exc)) from None
    options = EvalOptions(selection=tasks, output=output, models=parse_models(model or []),
                          jobs=jobs, budget_usd=budget or None,
                          task_timeout_s=parse_duration(timeout) or 3600.0, sandbox=sandbox,
                          label=label)
    engine = load_engine()
    progress = _Progress(len(selected))
    evaluation = Evaluation(engine, selected, options, progress.update)
    already = len(selected) - len([t for t in evaluation.results.pending
                                   if t in {s.id for s in selected}])
    out.print(f"evaluating {len(selected)} tasks ({already} already done) with {jobs} job(s);"
              f" results: {output}")
    try:
        with progress:
            progress.advance_done(already)
            results = evaluation.run()
    except KeyboardInterrupt:
        err.print(f"interrupted: results so far are in {output}; run the same command to resume")
        raise typer.Exit(130) from None
    out.print(summary_line(results))
    from graph.eval_report import write_report

    html = write_report(output, report_out)
    out.print(f"report: {html}")
    if any(r.outcome == "error" for r in results.records):
        raise typer.Exit(1)


class _Progress:
    """A bar for the evaluation and one line per running task (its current stage)."""

    def __init__(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from ui.cli.app import out

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=out,
                                 transient=False)
        self.overall = self.progress.add_task("tasks", total=total)
        self.rows: dict[str, TaskID] = {}

    def __enter__(self) -> _Progress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def advance_done(self, count: int) -> None:
        """Count tasks finished in an earlier session."""
        self.progress.advance(self.overall, count)

    def update(self, update: EvalUpdate) -> None:
        """Show one harness update (called from worker threads, one at a time)."""
        from rich.markup import escape

        if update.kind == "started":
            self.rows[update.task_id] = self.progress.add_task(
                f"  {escape(update.task_id)}: starting", total=None)
            self.progress.console.print(f"▶ {escape(update.task_id)} (run {update.run_id})")
        elif update.kind == "stage" and update.task_id in self.rows:
            self.progress.update(self.rows[update.task_id],
                                 description=f"  {escape(update.task_id)}: {update.stage}")
        elif update.record is not None:
            row = self.rows.pop(update.task_id, None)
            if row is not None:
                self.progress.remove_task(row)
            self.progress.advance(self.overall)
            self.progress.console.print(_record_line(update.record), soft_wrap=True)


def _record_line(record: TaskRecord) -> str:
    from rich.markup import escape

    mark = {"passed": "[green]✓[/]", "failed": "[red]✗[/]", "error": "[red]![/]",
            "skipped": "[yellow]-[/]"}[record.outcome]
    text = (f"{mark} {escape(record.id)}: {record.outcome}"
            f"{f' ({record.failure})' if record.failure else ''}, tests "
            f"{record.tests_passed}/{record.tests_total}, judge {record.judge.verdict or '—'},"
            f" rounds {record.repair_rounds}, ${record.cost_usd:.4f}, {record.wall_s:.0f} s")
    if record.error and record.outcome != "passed":
        text += f" — {escape(record.error[:200])}"
    return text


def report(
    results: Annotated[Path, typer.Argument(help="A results file written by `multicoder eval`")],
    compare: Annotated[Path | None, typer.Option(
        "--compare", "-c", help="Another results file to compare with (e.g. an older model)")
                       ] = None,
    out_path: Annotated[Path | None, typer.Option(
        "--out", "-o", help="The HTML file to write (default: next to RESULTS, .html)")] = None,
) -> None:
    """Write the HTML report of an evaluation (plots and the per-task table) and print its path.

    With --compare, the report also shows both runs side by side: pass rate by kind, cost and
    time, and the tasks that were fixed or regressed.
    """
    from graph.eval_report import write_report
    from ui.cli.app import out

    out.print(str(write_report(results, out_path, compare_path=compare)))


def list_tasks(
    tasks: Annotated[str, typer.Option("--tasks", "-t", help="A selection, as for eval")
                     ] = "all",
) -> None:
    """List the reference tasks: id, kind, language, cassette, title."""
    from rich.markup import escape
    from rich.table import Table

    from graph.errors import InputError
    from graph.evalset import DatasetError, load_tasks, select, summary
    from ui.cli.app import out

    try:
        every = load_tasks()
        chosen = select(every, tasks)
    except DatasetError as exc:
        raise InputError(str(exc)) from None
    table = Table("id", "kind", "lang", "cassette", "title")
    for task in chosen:
        table.add_row(escape(task.id), task.kind, task.language,
                      "yes" if task.cassette else "", escape(task.title))
    out.print(table)
    counts = ", ".join(f"{kind} {n}" for kind, n in summary(chosen).items() if n)
    out.print(f"{len(chosen)} tasks: {counts}")
