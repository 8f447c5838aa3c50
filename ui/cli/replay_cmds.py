"""``runs history``, ``runs fork`` and ``runs replay``: time travel over past runs (M3).

Presentation only: the work is done by :mod:`graph.replay`. The engine (and LangChain with
it) is imported inside each command, so ``multicoder --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from graph.replay import CheckOutcome, Checkpoint, ReplayComparison, ReplayEngine

EXIT_REPRODUCED, EXIT_NOT_REPRODUCED = 0, 1

SET_HELP = ("Change a state field before continuing: FIELD=VALUE, VALUE as JSON or text, or"
            " @FILE to read it (JSON for plan and spec); repeatable. Fields: task, plan, spec,"
            " plan_feedback, hint, rounds_allowed … (see agents/state.py). A changed task is"
            " judged by the safety gate again and confirmed again; what the graph decided"
            " (safety, start, status, error, task_revision, checks_passed, artifact) cannot"
            " be set")


def _node(name: str | None) -> str:
    return {None: "?", "__input__": "(input)", "__start__": "(start)"}.get(name, str(name))


def _waiting(checkpoint: Checkpoint) -> str:
    if not checkpoint.waiting:
        return ""
    state = "answered" if checkpoint.answered else "waiting"
    return f"{', '.join(checkpoint.waiting)} ({state})"


def runs_history(
    run_id: Annotated[str, typer.Argument(help="The run")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
    = False,
) -> None:
    """The checkpoints of a run, oldest first.

    For each: its id (short and full), step, time, the node that wrote it, what runs next
    and which question waited there. Fork from one with `runs fork RUN_ID --from ID`.
    """
    from graph.replay import run_history
    from ui.cli import app as cli

    checkpoints = run_history(cli.load_engine(), run_id)
    if as_json:
        typer.echo(json.dumps([c.to_json() for c in checkpoints], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"checkpoints of {run_id}")
    for name in ("#", "checkpoint", "step", "time (UTC)", "written by", "next", "waited for",
                 "full id"):
        table.add_column(name, no_wrap=name != "waited for")
    for number, checkpoint in enumerate(checkpoints):
        table.add_row(str(number), checkpoint.short_id, str(checkpoint.step),
                      checkpoint.created_at[:19].replace("T", " "),
                      _node(checkpoint.written_by),
                      ", ".join(checkpoint.next) or "(end)", _waiting(checkpoint),
                      checkpoint.checkpoint_id)
    cli.out.print(table)
    if not checkpoints:
        cli.out.print("the run has not started: it has no checkpoints yet")


def runs_fork(
    run_id: Annotated[str, typer.Argument(help="The run to fork (it is not changed)")],
    checkpoint: Annotated[str, typer.Option(
        "--from", help="The checkpoint to continue from: its id or a unique prefix"
                       " (see `multicoder runs history RUN_ID`)")],
    assignments: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
    auto_approve: Annotated[bool, typer.Option(
        "--auto-approve", help="As for build: approve the start and the plan automatically"
                               " (see `multicoder build --help` for what it does not cover)"
    )] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Copy the executable here")]
    = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Also print program.log")] = False,
) -> None:
    """Continue a run from any checkpoint, optionally changed, as a NEW run.

    The new run starts with the checkpoint's state (with the --set changes), the workspace
    the checkpoint saw and the original's settings (models, sandbox, budgets), and runs like
    `build`. A changed task goes through the safety gate and the start confirmation again
    first, from any checkpoint. Example:
    multicoder runs fork RUN_ID --from 1f0a3c --set plan=@plan.json
    """
    from graph.replay import find_checkpoint, fork, parse_changes, run_history
    from ui.cli import app as cli

    engine = cli.load_engine()
    origin = find_checkpoint(engine, run_id, checkpoint)
    changes = parse_changes(engine, assignments or [])
    new_id = fork(engine, run_id, origin.checkpoint_id, changes)
    cli.out.print(f"run [bold]{new_id}[/] — {escape(engine.get_run(new_id).run_dir)}")
    changed = f"; changed: {', '.join(sorted(changes))}" if changes else ""
    first = run_history(engine, new_id)[-1].next
    cli.out.print(f"forked from {run_id} at checkpoint {origin.short_id} (after"
                  f" {_node(origin.written_by)}; next: {', '.join(first)}{changed})")
    if first != origin.next:
        cli.out.print("the task changed: the safety gate judges it first, then you confirm it")
    cli._show_sandbox(engine, new_id)
    cli._verbose(engine, new_id, verbose)
    raise typer.Exit(cli.drive(engine, new_id, auto_approve=auto_approve, out_dir=out_dir))


def _replay_engine() -> ReplayEngine:
    from graph.replay import ReplayEngine
    from ui.cli import app as cli

    settings = cli.load_settings()
    try:
        return ReplayEngine(settings)
    except Exception as exc:  # the interface boundary, as load_engine()
        raise cli.fail(f"cannot open the data folder {settings.data_dir}: {exc}") from None


def runs_replay(
    run_id: Annotated[str, typer.Argument(help="The run to replay")],
    auto_approve: Annotated[bool, typer.Option(
        "--auto-approve", help="Answer a question the original recorded no answer for as"
                               " build --auto-approve does (otherwise the replay waits there,"
                               " as the original did)")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Also print program.log")] = False,
) -> None:
    """Re-run a past run from its recorded cassette, offline, and compare the results.

    A new run: every model answer comes from the original's cassette.jsonl (by call key),
    the person's decisions from its recorded ones, with the same task, inputs and sandbox.
    Offline: the replay has no web access (its web actions fail without a request), and
    the original's approvals of web fetches and downloads are never given again.
    Then the source tree, the check report and the executable are compared with the
    original's (also written to replay.json). Exit 0: reproduced (the executable byte for
    byte, or where the build is not byte-reproducible, the source tree and check report);
    1: not reproduced; 2: bad input.
    """
    from ui.cli import app as cli

    engine = _replay_engine()
    replay_id = engine.start_replay(run_id)
    cli.out.print(f"run [bold]{replay_id}[/] — {escape(engine.get_run(replay_id).run_dir)}")
    answers = ", ".join(f"{d.interrupt}: {d.decision.get('action')}"
                        for d in engine.recorded_for(replay_id))
    cli.out.print(f"replaying {run_id} from its cassette (offline, no web access); recorded"
                  f" decisions given again: {escape(answers) or 'none'}")
    web = engine.web_actions_of(run_id)
    if web:
        cli.out.print(f"[yellow]the original ran {web} web action(s) (search, fetch, download):"
                      " the replay makes no web request and reuses no approval of one, so"
                      " what they fetched will be missing[/]")
    cli._show_sandbox(engine, replay_id)
    cli._verbose(engine, replay_id, verbose)
    code = cli.drive(engine, replay_id, auto_approve=auto_approve, out_dir=None)
    if code == 130:
        raise typer.Exit(code)
    comparison = engine.compare(replay_id)
    show_comparison(comparison)
    raise typer.Exit(EXIT_REPRODUCED if comparison.reproduced else EXIT_NOT_REPRODUCED)


def _same(flag: bool | None) -> str:
    return {True: "[green]identical[/]", False: "[red]differs[/]", None: "—"}[flag]


def _outcome(outcome: CheckOutcome | None) -> str:
    if outcome is None:
        return "—"
    verdict = "skipped" if outcome.skipped else "passed" if outcome.passed else "FAILED"
    return f"{verdict}, {len(outcome.findings)} findings"


def show_comparison(comparison: ReplayComparison) -> None:
    """Print what a replay reproduced: status, source tree, checks, executable, verdict."""
    from ui.cli import app as cli

    table = Table(title=f"replay {comparison.replay_run} of {comparison.original_run}")
    for name in ("", "original", "replay", "result"):
        table.add_column(name)
    table.add_row("status", comparison.original_status, comparison.replay_status,
                  _same(comparison.original_status == comparison.replay_status))
    tree = len(comparison.source_files)
    replayed = tree - len(comparison.only_in_original) + len(comparison.only_in_replay)
    changed = (len(comparison.differing_files) + len(comparison.only_in_original)
               + len(comparison.only_in_replay))
    table.add_row("source tree", f"{tree} files", f"{replayed} files",
                  "[green]identical byte for byte[/]" if comparison.tree_identical
                  else f"[red]{changed} files differ[/]")
    for name in sorted(comparison.original_checks.keys() | comparison.replay_checks.keys()):
        cells = [_outcome(comparison.original_checks.get(name)),
                 _outcome(comparison.replay_checks.get(name))]
        table.add_row(f"check {name}", *cells, _same(name not in comparison.differing_checks))
    artifacts = []
    for artifact in (comparison.original_artifact, comparison.replay_artifact):
        artifacts.append("—" if artifact is None else
                         f"sha256 {artifact.sha256[:16]}…, {artifact.size_bytes:,} bytes")
    table.add_row("executable", *artifacts,
                  "[green]identical byte for byte[/]" if comparison.artifact_identical
                  else _same(comparison.artifact_identical))
    cli.out.print(table)
    for label, paths in (("differs", comparison.differing_files),
                         ("only in the original", comparison.only_in_original),
                         ("only in the replay", comparison.only_in_replay)):
        for path in paths[:20]:
            cli.out.print(f"  {label}: {escape(path)}")
    colour = "green" if comparison.reproduced else "red"
    cli.out.print(f"[bold {colour}]{escape(comparison.verdict())}[/]"
                  f" (replay.json in the replay's folder)")


def register(app: typer.Typer, runs_app: typer.Typer) -> None:
    """Add ``runs history``, ``runs fork`` and ``runs replay`` to the CLI."""
    runs_app.command("history")(runs_history)
    runs_app.command("fork")(runs_fork)
    runs_app.command("replay")(runs_replay)
