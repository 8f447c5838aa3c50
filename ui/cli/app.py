"""The command line: build, resume, cancel, runs, doctor, sandbox, keys, models.

Exit codes: 0 the application was built; 1 the run ended without one (refused, rejected,
stopped, failed checks); 2 bad input (nothing was written); 3 the run stopped on an error and
is saved (``multicoder resume RUN_ID`` continues it); 4 the run waits for a decision;
5 the run stopped at one of its budgets (tokens, cost, model calls, time) and is saved
(``multicoder resume RUN_ID --max-calls N`` ... continues it); 130 interrupted with Ctrl+C
(resumable).
"""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from graph import InputError, RunHistory, Settings
from graph.settings import SANDBOX_IMAGE, KeyStoreError, config_file, delete_key, store_key

if TYPE_CHECKING:
    from graph import Engine, RunEvent

EXIT_OK, EXIT_NOT_BUILT, EXIT_INPUT, EXIT_ERROR, EXIT_WAITING, EXIT_BUDGET = 0, 1, 2, 3, 4, 5

EXIT_CODES_HELP = ("Exit codes: 0 built; 1 ended without an executable; 2 bad input; 3 stopped"
                   " on an error (saved, resumable); 4 waits for a decision; 5 stopped at a"
                   " budget (saved; resume with a higher --max-tokens/--max-cost/--max-calls/"
                   "--max-time); 130 Ctrl+C.")

AUTO_APPROVE_HELP = (
    "Approve the start and the plan automatically (a stuck repair loop is stopped). Not"
    " covered: a red safety verdict (the run ends); a request the offline safety classifier"
    " flagged or whose verdict recommends reject or modify (these wait for a person; a yellow"
    " verdict of the judge recommending approve, not flagged by the classifier, is approved);"
    " downloads and web fetches (never approved; refused when no one is at the terminal).")

app = typer.Typer(help="MultiCoder: a task in plain language in, a checked and packaged"
                       " Python application out.\n\n" + EXIT_CODES_HELP, no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
runs_app = typer.Typer(help="Past runs.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys in the OS keyring.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(keys_app, name="keys")
sandbox_app = typer.Typer(help="The Docker sandbox image generated code runs in.",
                          no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

CHECK_MARK = {True: "[green]✓[/]", False: "[red]✗[/]"}


def fail(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    """Print one clear line on stderr and return the exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def load_settings() -> Settings:
    """The settings, with any problem in them turned into one line (exit 2)."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise fail(f"invalid setting {where}: {first['msg']} (file {config_file()} or"
                   f" MULTICODER_* variables)") from None
    except (ValueError, OSError) as exc:  # TOML syntax, a BOM, an unreadable file
        raise fail(f"cannot read the settings file {config_file()}: {exc}"
                   " (check the TOML syntax; save it as UTF-8 without BOM)") from None


def load_engine(*, replays: bool = False) -> Engine:
    """Settings + engine, with configuration or data-folder errors as one line (exit 2).

    ``replays``: an engine that also answers a replay's questions from the original run's
    recorded decisions (``multicoder resume`` of a ``runs replay``); other runs are unchanged.
    """
    from graph import Engine

    settings = load_settings()
    try:
        if replays:
            from graph.replay import ReplayEngine

            engine: Engine = ReplayEngine(settings)
        else:
            engine = Engine(settings)
    except InputError:
        raise
    except Exception as exc:  # the interface boundary: any start-up failure is one sentence
        raise fail(f"cannot open the data folder {settings.data_dir}: {exc}") from None
    notice = engine.archive_check.notice()
    if notice:
        err.print(f"[yellow]{escape(notice)}[/]", soft_wrap=True)
    return engine


def parse_models(values: list[str] | None) -> dict[str, list[str]]:
    """``["coder=openai:gpt-4.1", "coder=deepseek:deepseek-chat"]`` -> role -> refs in order."""
    models: dict[str, list[str]] = {}
    for value in values or []:
        role, sep, ref = value.partition("=")
        if not sep or not ref:
            raise fail(f"--model '{value}' is not ROLE=PROVIDER:MODEL (e.g. coder=openai:gpt-4.1)")
        models.setdefault(role.strip(), []).append(ref.strip())
    return models


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?:in)?)?"
                       r"(?:(\d+(?:\.\d+)?)s?)?")


def parse_duration(text: str) -> float:
    """``"2h"``, ``"90m"``, ``"1h30m"``, ``"3600"`` or ``"3600s"`` -> seconds (0: no limit).

    Raises:
        typer.Exit: not a duration (one clear line, exit 2).

    """
    match = _DURATION.fullmatch(text.strip().lower().replace(" ", ""))
    if not text.strip() or match is None or not any(match.groups()):
        raise fail(f"--max-time '{text}' is not a duration (e.g. 2h, 90m, 1h30m, 3600)")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def budget_overrides(max_tokens: int | None, max_cost: float | None, max_calls: int | None,
                     max_time: str | None) -> dict[str, float | None]:
    """The budget options given on the command line, by :class:`agents.config.Limits` field."""
    given = {"max_tokens": max_tokens, "max_cost_usd": max_cost, "max_model_calls": max_calls,
             "max_wall_time_s": parse_duration(max_time) if max_time is not None else None}
    return {name: value for name, value in given.items() if value is not None}


MaxTokens = Annotated[int | None, typer.Option(
    "--max-tokens", min=0, help="Token budget of the run (input + output; 0: no limit)")]
MaxCost = Annotated[float | None, typer.Option(
    "--max-cost", min=0, help="Cost budget of the run in USD, from the providers' prices"
                              " (0: no limit)")]
MaxCalls = Annotated[int | None, typer.Option(
    "--max-calls", min=0, help="Model-call budget of the run (0: no limit)")]
MaxTime = Annotated[str | None, typer.Option(
    "--max-time", help="Active-time budget of the run, e.g. 2h, 90m, 3600 (0: no limit)")]


# -- presenting events ---------------------------------------------------------------------

def show_progress(data: dict[str, Any]) -> None:
    """One line per progress event."""
    kind = data.get("type")
    if kind == "node_started":
        out.print(f"[bold cyan]▶ {data['node'].replace('_', ' ')}[/]")
    elif kind == "safety_verdict":
        colour = {"green": "green", "yellow": "yellow", "red": "red"}[data["level"]]
        out.print(f"  safety: [{colour}]{data['level']}[/] — {data['recommendation']}: "
                  + escape(" ".join(data.get("reasons", []))))
    elif kind == "coder_round":
        out.print(f"  round {data['round']}" + (" (repair)" if data["round"] else ""))
    elif kind == "tool_call":
        target = escape(str(data.get("target") or ""))[:80]
        line = f"  {CHECK_MARK[bool(data['success'])]} {data['action']} {target}"
        if not data["success"] and data.get("error"):
            line += f" [dim]— {escape(str(data['error']))[:120]}[/]"
        out.print(line)
    elif kind == "check_result":
        mark = "[yellow]–[/]" if data.get("skipped") else CHECK_MARK[bool(data["passed"])]
        out.print(f"  {mark} {data['check']} [dim]({data['duration_ms'] / 1000:.1f} s,"
                  f" {data['findings']} findings)[/]")
        for problem in data.get("problems", []):
            out.print(f"      [dim]{escape(problem.splitlines()[0])}[/]")
    elif kind == "judge_verdict":  # G7: the spec judge's call on the acceptance criteria
        colour = "green" if data.get("verdict") == "accept" else "yellow"
        out.print(f"  spec check: [{colour}]{escape(str(data.get('verdict')))}[/] [dim]("
                  f"{data.get('met', 0)} met, {data.get('unmet', 0)} unmet,"
                  f" {data.get('unclear', 0)} unclear)[/]")
        for problem in data.get("problems", []):
            out.print(f"      [dim]✗ {escape(str(problem).splitlines()[0])}[/]")
    elif kind == "web_results":  # G10: what the web tools found, as cards
        for card in data.get("cards", [])[:10]:
            out.print(f"    [bold]{escape(str(card.get('title', ''))[:100])}[/]\n"
                      f"    [blue]{escape(str(card.get('url', ''))[:200])}[/]\n"
                      f"    [dim]{escape(str(card.get('summary', ''))[:200])}[/]", soft_wrap=True)
    elif kind == "environment_ready":
        out.print("  environment ready")
    elif kind == "packaging_built":
        out.print(f"  built {escape(str(data['path']))} ({data['size_bytes'] / 1e6:.1f} MB)")
    elif kind == "recalled":  # M2: what memory brought into the prompt, and from where
        items = data.get("items", [])
        out.print(f"  recalled {len(items)} item(s) from memory [dim](~{data.get('tokens', 0)}"
                  " tokens)[/]")
        for item in items[:5]:
            out.print(f"    [dim]{escape(str(item.get('source', '')))[:160]}[/]")
    elif kind == "context_compressed":
        approx = " (estimated)" if data.get("estimated") else ""
        out.print(f"  context compressed: {data.get('turns_folded', 0)} older turn(s) summarised,"
                  f" {data.get('tokens_before', 0):,} → {data.get('tokens_after', 0):,}"
                  f" tokens{approx}")
    elif kind == "learned":
        out.print(f"  memory: learned {data.get('count', 0)} item(s) from this run")
    elif kind == "token_counter_differs":
        out.print(f"  [yellow]token counts differ[/]: {escape(str(data.get('message', '')))}")
    elif kind in ("recall_failed", "learn_failed"):
        out.print(f"  [yellow]{kind.replace('_', ' ')}[/]: {escape(str(data.get('error', '')))}"
                  " [dim](the run goes on without it)[/]")
    elif kind in ("model_fallback", "loop_detected", "turn_limit", "answer_rejected",
                  "packaging_failed"):
        out.print(f"  [yellow]{kind.replace('_', ' ')}[/]: "
                  + escape(str(data.get("error") or data.get("reason") or "")))


def ask_decision(payload: dict[str, Any], auto_approve: bool) -> dict[str, Any] | None:
    """Show an interrupt and get the person's decision (None: no answer possible here)."""
    kind = payload.get("kind", "question")
    title = {"confirm_start": "Start?", "approve_plan": "Approve the plan?",
             "ask_human": "Repairs are not converging",
             "approve_fetch": "Allow this web request?"}.get(kind, kind)
    if payload.get("error"):
        err.print(f"[yellow]{escape(str(payload['error']))}[/]")
    out.print(Panel(Markdown(str(payload.get("summary", ""))), title=title))
    options: list[str] = list(payload.get("options", []))
    if kind == "approve_fetch":
        return _ask_fetch(payload, options, auto_approve)
    if auto_approve and payload.get("needs_person"):
        out.print("  [yellow]--auto-approve does not answer this: the safety gate flagged the"
                  " request or did not recommend approving it, so only a person may approve"
                  " it[/]")
    elif auto_approve:
        choice = "approve" if "approve" in options else "stop"
        out.print(f"  [dim]--auto-approve: {choice}[/]")
        return {"action": choice}
    if not sys.stdin.isatty():
        return None
    try:
        return _prompt_decision(kind, options)
    except typer.Abort:  # Ctrl+C or end of input at the prompt: the run keeps waiting
        return None


def _ask_fetch(payload: dict[str, Any], options: list[str], auto_approve: bool
               ) -> dict[str, Any] | None:
    """A download or web fetch (G10): only a person at the terminal can approve it.

    The exact address and destination are printed verbatim (not through Markdown).
    ``--auto-approve`` never approves one: at a terminal the person is asked anyway; without
    a terminal it is refused automatically (the coder is told, and the run goes on). Without
    ``--auto-approve`` and without a terminal the run waits (exit 4), as for every question.
    """
    details = payload.get("details", {})
    out.print(f"  address:  {escape(str(details.get('url', '')))}", soft_wrap=True)
    if details.get("dest"):
        out.print(f"  saved to: {escape(str(details.get('dest_absolute') or details['dest']))}",
                  soft_wrap=True)
    if not sys.stdin.isatty():
        if not auto_approve:
            return None
        out.print("  [dim]--auto-approve never approves downloads or fetches: refused[/]")
        return {"action": "reject", "feedback": "refused automatically: nobody was at the"
                " terminal to approve it (--auto-approve does not cover web requests)"}
    try:
        return _prompt_decision("approve_fetch", options)
    except typer.Abort:
        return None


def _prompt_decision(kind: str, options: list[str]) -> dict[str, Any]:
    choice = typer.prompt(f"Answer ({'/'.join(options)})", default=options[0])
    while choice not in options:
        choice = typer.prompt(f"Please answer one of {'/'.join(options)}", default=options[0])
    decision: dict[str, Any] = {"action": choice}
    if choice == "reject":
        decision["feedback"] = typer.prompt("What should change?", default="")
    elif choice == "continue":
        decision["feedback"] = typer.prompt("A hint for the coder (optional)", default="")
    elif choice == "edit" and kind == "confirm_start":
        decision["content"] = typer.prompt("The new request")
    elif choice == "edit":
        while "content" not in decision:
            path = Path(typer.prompt("Path of a JSON file with the edited plan"))
            try:
                decision["content"] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                err.print(f"[yellow]cannot read {escape(str(path))}: {escape(str(exc))}[/]")
    return decision


@contextmanager
def cancel_on_ctrl_c(engine: Engine, run_id: str) -> Iterator[None]:
    """First Ctrl+C: cancel the run at its next step (work done so far is kept).

    A second Ctrl+C stops at once (KeyboardInterrupt). The previous handler is restored after.
    """
    pressed: list[bool] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)
        err.print("\n[yellow]cancelling at the next step (Ctrl+C again to stop now)…[/]")
        engine.cancel(run_id)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def drive(engine: Engine, run_id: str, *, auto_approve: bool, out_dir: Path | None) -> int:
    """Stream a run to its end, answering interrupts; returns the exit code."""
    decision: dict[str, Any] | None = None
    resumed_node: str | None = None  # a node paused by its interrupt starts again on resume
    while True:
        pending: RunEvent | None = None
        try:
            with cancel_on_ctrl_c(engine, run_id):
                for event in engine.stream(run_id, decision):
                    if event.kind != "progress":
                        pending = event
                    elif event.data.get("type") == "node_started" and \
                            event.data.get("node") == resumed_node:
                        resumed_node = None
                    else:
                        show_progress(event.data)
        except KeyboardInterrupt:
            err.print(f"\ninterrupted; the run is saved: multicoder resume {run_id}")
            return 130
        decision = None
        if pending is None:
            return EXIT_ERROR
        if pending.kind == "interrupt":
            kind = str(pending.data.get("kind"))
            resumed_node = "coder" if kind == "approve_fetch" else kind
            decision = ask_decision(pending.data, auto_approve)
            if decision is None:
                err.print(f"run {run_id} waits for a decision: multicoder resume {run_id}")
                return EXIT_WAITING
            continue
        if pending.kind == "failed" and pending.data.get("budget"):
            err.print(f"[bold yellow]run {run_id} stopped at its {pending.data['budget']}"
                      f" budget:[/] {escape(str(pending.data['error']))}", soft_wrap=True)
            err.print(f"The run is saved; `multicoder resume {run_id}` with a higher budget"
                      " continues it from the same step.", soft_wrap=True)
            return EXIT_BUDGET
        if pending.kind == "failed":
            err.print(f"[bold red]run {run_id} stopped:[/] {escape(str(pending.data['error']))}")
            err.print(f"The run is saved; continue it with: multicoder resume {run_id}")
            return EXIT_ERROR
        return finish(engine, run_id, pending.data, out_dir)


def finish(engine: Engine, run_id: str, data: dict[str, Any], out_dir: Path | None) -> int:
    """Print the outcome of a finished run (and export the executable)."""
    run = engine.get_run(run_id)
    status = data.get("status")
    if status == "done":
        artifact = Path(str(data["artifact"]["path"]))
        if out_dir is not None:
            artifact = engine.export_artifact(run_id, out_dir)
        out.print(f"[bold green]done[/] — executable: {escape(str(artifact))}")
        out.print(f"run folder: {escape(run.run_dir)} (report.md, chat.md, program.log)")
        return EXIT_OK
    out.print(f"[bold red]{status}[/]: {escape(str(data.get('error') or ''))}")
    out.print(f"run folder: {escape(run.run_dir)}")
    return EXIT_NOT_BUILT


# -- commands ------------------------------------------------------------------------------

@app.command()
def build(
    task: Annotated[str | None, typer.Argument(help="What to build, in plain language")] = None,
    spec_file: Annotated[Path | None, typer.Option(
        "--spec-file", help="Read the task from a file (Markdown or text)")] = None,
    model: Annotated[list[str] | None, typer.Option(
        "--model", "-m", help="ROLE=PROVIDER:MODEL; repeat for fallbacks (roles: planner,"
                              " coder, judge)")] = None,
    replay: Annotated[str | None, typer.Option(
        "--replay", help="Answer every role from a recorded cassette (offline demo), e.g."
                         " csv2xlsx-gui; same as --model ROLE=replay:NAME for each role")] = None,
    attach: Annotated[list[Path] | None, typer.Option(
        "--attach", help="An input file for the application (up to 50 MB); repeatable")] = None,
    auto_approve: Annotated[bool, typer.Option(
        "--auto-approve", help=AUTO_APPROVE_HELP)] = False,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Copy the finished executable into this folder")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Also print program.log")] = False,
    sandbox: Annotated[str | None, typer.Option(
        "--sandbox", help="Where generated code runs: docker, bwrap, or local (NOT sandboxed:"
                          " runs as you). Default: settings (\\[sandbox] backend, auto = Docker"
                          " if it answers, else bubblewrap)")] = None,
    max_tokens: MaxTokens = None,
    max_cost: MaxCost = None,
    max_calls: MaxCalls = None,
    max_time: MaxTime = None,
) -> None:
    """Build an application from a task: safety gate, spec, plan, code, checks, executable.

    Examples:
      multicoder build "a CSV to XLSX converter with a GUI"

      multicoder build --spec-file datasets/tasks/csv2xlsx-gui.md --replay csv2xlsx-gui
      --auto-approve

    """
    if spec_file is not None:
        if task:
            raise fail("give either a TASK or --spec-file, not both")
        if not spec_file.is_file():
            raise fail(f"spec file not found: {spec_file}")
        try:
            task = spec_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"cannot read spec file {spec_file}: {exc}") from None
    models = parse_models(model)
    limits = budget_overrides(max_tokens, max_cost, max_calls, max_time)
    if replay:
        models = {role: [f"replay:{replay}"] for role in ("planner", "coder", "judge")} | models
    engine = load_engine()
    if sandbox is not None and sandbox not in ("docker", "bwrap", "local"):
        raise fail(f"unknown sandbox {sandbox!r}: use docker, bwrap or local")
    run_id = engine.start(task or "", models=models, attachments=attach or [], sandbox=sandbox,
                          limits=limits)
    out.print(f"run [bold]{run_id}[/] — {escape(engine.get_run(run_id).run_dir)}")
    _show_sandbox(engine, run_id)
    _verbose(engine, run_id, verbose)
    raise typer.Exit(drive(engine, run_id, auto_approve=auto_approve, out_dir=out_dir))


def _show_sandbox(engine: Engine, run_id: str) -> None:
    """Say where generated code runs; the local backend is flagged as NOT sandboxed."""
    backend, isolated, reason = engine.sandbox_of(run_id)
    if isolated:
        out.print(f"sandbox: {backend} — {escape(reason)}")
    else:
        err.print(f"[bold yellow]sandbox: {backend} — NOT SANDBOXED[/]: generated code runs"
                  " as you, with your files and network (chosen with --sandbox local or"
                  " \\[sandbox] backend = \"local\")")


@app.command()
def resume(
    run_id: Annotated[str, typer.Argument(help="The run to continue")],
    auto_approve: Annotated[bool, typer.Option(
        "--auto-approve", help=AUTO_APPROVE_HELP)] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Copy the executable here")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    max_tokens: MaxTokens = None,
    max_cost: MaxCost = None,
    max_calls: MaxCalls = None,
    max_time: MaxTime = None,
) -> None:
    """Continue a run from its last step (after a crash, an error, a question, a budget stop).

    Budget options replace the run's limits from now on (kept in its run.json); what the run
    already spent still counts. Example: multicoder resume RUN_ID --max-calls 600
    """
    engine = load_engine(replays=True)  # a replay goes on answering from its original
    engine.get_run(run_id)
    limits = budget_overrides(max_tokens, max_cost, max_calls, max_time)
    if limits:
        engine.set_limits(run_id, limits)
    _show_sandbox(engine, run_id)
    _verbose(engine, run_id, verbose)
    raise typer.Exit(drive(engine, run_id, auto_approve=auto_approve, out_dir=out_dir))


def _verbose(engine: Engine, run_id: str, verbose: bool) -> None:
    if verbose:
        engine.attach_log(run_id, sys.stderr)


@app.command()
def cancel(run_id: Annotated[str, typer.Argument(help="The run to stop")]) -> None:
    """Ask a running run to stop at its next step (it stays resumable)."""
    engine = load_engine()
    engine.cancel(run_id)
    out.print(f"cancel requested for {run_id}")


@runs_app.command("list")
def runs_list(limit: Annotated[int, typer.Option(help="How many")] = 20) -> None:
    """The newest runs with their status."""
    table = Table()
    table.add_column("run", no_wrap=True, min_width=22)
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("created", no_wrap=True, min_width=16)
    table.add_column("task", min_width=10)
    history = RunHistory(load_settings(), check_archive=True)
    notice = history.archive_check.notice() if history.archive_check else None
    if notice:
        err.print(f"[yellow]{escape(notice)}[/]", soft_wrap=True)
    for run in history.list(limit):
        table.add_row(run.run_id, run.status, run.created_at[:16].replace("T", " "),
                      Text(run.task.splitlines()[0][:60], no_wrap=True, overflow="ellipsis"))
    out.print(table)


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="The run")]) -> None:
    """One run: status, folder, artifact, error, and where its records are."""
    from agents.config import format_amount

    engine = load_engine()
    run = engine.get_run(run_id)
    values = engine.state(run_id)
    spent = engine.spending(run_id)
    total = spent.total
    table = Table(show_header=False)
    for name, value in [("run", run.run_id), ("status", run.status), ("task", run.task),
                        ("folder", run.run_dir), ("created", run.created_at),
                        ("updated", run.updated_at), ("repair rounds", values.get("round", 0)),
                        ("artifact", run.artifact or "—"), ("error", run.error or "—"),
                        ("model calls", total.calls),
                        ("tokens", f"{total.input_tokens:,} in, {total.output_tokens:,} out"),
                        ("cost", total.cost_text()),
                        ("active time", format_amount("time", spent.wall_time_s))]:
        table.add_row(name, escape(str(value)))
    for model, usage in spent.by_model.items():
        table.add_row(f"  {model}", escape(
            f"{usage.calls} calls, {usage.input_tokens:,} in, {usage.output_tokens:,} out,"
            f" {usage.cost_text()}"))
    for line in spent.stop_lines():
        table.add_row("budget", escape(line))
    out.print(table)


@app.command()
def doctor(
    offline: Annotated[bool, typer.Option(
        "--offline", help="Do not contact providers (only look their keys up)")] = False,
) -> None:
    """Check the health of every component, each ok, degraded or down, with what to do.

    Components: the sandbox (Docker and its image, bubblewrap), each provider (its key checked
    by listing its models), disk space, the databases, the keyring, the models per role.
    """
    from graph.diagnostics import diagnose

    colours = {"ok": "green", "degraded": "yellow", "down": "red"}
    table = Table("component", "state", "reason", "what to do")
    rows = diagnose(load_settings(), offline=offline)
    for row in rows:
        table.add_row(row.component, f"[{colours[row.state]}]{row.state}[/]",
                      escape(row.reason), escape(row.recommendation))
    out.print(table)
    down = sum(row.state == "down" for row in rows)
    degraded = sum(row.state == "degraded" for row in rows)
    out.print(f"{len(rows)} components: {len(rows) - down - degraded} ok, {degraded} degraded,"
              f" {down} down")


@keys_app.command("set")
def keys_set(provider: Annotated[str, typer.Argument(help="Provider name, e.g. openai")]) -> None:
    """Store a provider's API key in the OS keyring (asked without echo)."""
    key = typer.prompt(f"API key for {provider}", hide_input=True)
    try:
        store_key(provider, key)
    except KeyStoreError as exc:
        raise fail(str(exc)) from None
    out.print(f"key for {provider} stored in the OS keyring")


@keys_app.command("delete")
def keys_delete(provider: Annotated[str, typer.Argument(help="Provider name")]) -> None:
    """Remove a provider's key from the OS keyring."""
    try:
        delete_key(provider)
    except KeyStoreError as exc:
        raise fail(str(exc)) from None
    out.print(f"key for {provider} deleted")


@app.command()
def models(provider: Annotated[str, typer.Argument(help="Provider name, e.g. openai")]) -> None:
    """List the models a provider offers (proves the key works)."""
    engine = load_engine()
    names = engine.provider_models(provider)
    out.print("\n".join(names))


@sandbox_app.command("build")
def sandbox_build(
    method: Annotated[str, typer.Option(
        help="auto (Docker Hub base, else debootstrap), pull, or debootstrap (no registry:"
             " Linux, root)")] = "auto",
    tag: Annotated[str | None, typer.Option(
        help=f"Image tag (default: the settings' sandbox.image, {SANDBOX_IMAGE})")] = None,
) -> None:
    """Build the Docker sandbox image (once; a few minutes)."""
    from tools.sandbox.base import SandboxUnavailable
    from tools.sandbox.image import METHODS, ImageBuildError, build_image

    chosen = METHODS.get(method)
    if chosen is None:
        raise fail(f"unknown method {method!r}: use auto, pull or debootstrap")
    image = tag or load_settings().sandbox.image
    out.print(f"building the sandbox image {escape(image)} (method {method})")
    try:
        result = build_image(image, method=chosen,
                             on_progress=lambda line: out.print(escape(line), soft_wrap=True,
                                                                style="dim"))
    except SandboxUnavailable as exc:
        raise fail(str(exc)) from None
    except ImageBuildError as exc:
        raise fail(str(exc), EXIT_ERROR) from None
    out.print(escape(result.describe()), soft_wrap=True)


@sandbox_app.command("status")
def sandbox_status() -> None:
    """Say whether the Docker sandbox can be used now (daemon, image) and which backend runs."""
    from graph.sandboxes import choose_backend
    from tools.sandbox.docker import daemon_version, image_present, unavailable_reason

    settings = load_settings().sandbox
    version = daemon_version()
    out.print(f"docker daemon: {escape(version) if version else 'not answering'}")
    present = version is not None and image_present(settings.image)
    out.print(f"image {escape(settings.image)}: {'present' if present else 'missing'}")
    problem = unavailable_reason(settings.image)
    out.print(f"docker backend: {'ready' if problem is None else escape(problem)}")
    try:
        choice = choose_backend(settings)
        out.print(f"backend for new runs: {choice.name} — {escape(choice.reason)}")
    except InputError as exc:
        out.print(f"backend for new runs: none — {escape(str(exc))}")


# -- command modules: each exposes ``register(app, runs_app)`` (one line each, below) --------
from ui.cli import replay_cmds; replay_cmds.register(app, runs_app)  # noqa: E402, E702, I001
from ui.cli import report_cmds; report_cmds.register(app, runs_app)  # noqa: E402, E702, I001
from ui.cli import memory_cmds; memory_cmds.register(app, runs_app)  # noqa: E402, E702, I001
from ui.cli import desktop_cmds; desktop_cmds.register(app, runs_app)  # noqa: E402, E702, I001
from ui.cli import eval_cmds; eval_cmds.register(app, runs_app)  # noqa: E402, E702, I001


def main() -> None:
    """Console-script entry point: bad input from any command is one line and exit code 2."""
    for stream in (sys.stdout, sys.stderr):  # a redirected Windows console may lack "▶" or "✓"
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    try:
        app()
    except InputError as exc:
        sys.exit(fail(str(exc)).exit_code)


if __name__ == "__main__":
    main()
