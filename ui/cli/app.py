"""The command line: ``multicoder build | resume | cancel | runs | doctor | keys | models``.

Exit codes: 0 the application was built; 1 the run ended without one (refused, rejected,
stopped, failed checks); 2 bad input (nothing was written); 3 the run stopped on an error and
is saved (``multicoder resume RUN_ID`` continues it); 4 the run waits for a decision;
130 interrupted with Ctrl+C (resumable).
"""

from __future__ import annotations

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
from graph.settings import KeyStoreError, config_file, delete_key, store_key

if TYPE_CHECKING:
    from graph import Engine, RunEvent

EXIT_OK, EXIT_NOT_BUILT, EXIT_INPUT, EXIT_ERROR, EXIT_WAITING = 0, 1, 2, 3, 4

app = typer.Typer(help="MultiCoder: a task in plain language in, a checked and packaged"
                       " Python application out.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
runs_app = typer.Typer(help="Past runs.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys in the OS keyring.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(keys_app, name="keys")

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


def load_engine() -> Engine:
    """Settings + engine, with configuration or data-folder errors as one line (exit 2)."""
    from graph import Engine

    settings = load_settings()
    try:
        return Engine(settings)
    except Exception as exc:  # the interface boundary: any start-up failure is one sentence
        raise fail(f"cannot open the data folder {settings.data_dir}: {exc}") from None


def parse_models(values: list[str] | None) -> dict[str, list[str]]:
    """``["coder=openai:gpt-4.1", "coder=deepseek:deepseek-chat"]`` -> role -> refs in order."""
    models: dict[str, list[str]] = {}
    for value in values or []:
        role, sep, ref = value.partition("=")
        if not sep or not ref:
            raise fail(f"--model '{value}' is not ROLE=PROVIDER:MODEL (e.g. coder=openai:gpt-4.1)")
        models.setdefault(role.strip(), []).append(ref.strip())
    return models


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
    elif kind == "environment_ready":
        out.print("  environment ready")
    elif kind == "packaging_built":
        out.print(f"  built {escape(str(data['path']))} ({data['size_bytes'] / 1e6:.1f} MB)")
    elif kind in ("model_fallback", "loop_detected", "turn_limit", "answer_rejected",
                  "packaging_failed"):
        out.print(f"  [yellow]{kind.replace('_', ' ')}[/]: "
                  + escape(str(data.get("error") or data.get("reason") or "")))


def ask_decision(payload: dict[str, Any], auto_approve: bool) -> dict[str, Any] | None:
    """Show an interrupt and get the person's decision (None: no answer possible here)."""
    kind = payload.get("kind", "question")
    title = {"confirm_start": "Start?", "approve_plan": "Approve the plan?",
             "ask_human": "Repairs are not converging"}.get(kind, kind)
    if payload.get("error"):
        err.print(f"[yellow]{escape(str(payload['error']))}[/]")
    out.print(Panel(Markdown(str(payload.get("summary", ""))), title=title))
    options: list[str] = list(payload.get("options", []))
    if auto_approve:
        choice = "approve" if "approve" in options else "stop"
        out.print(f"  [dim]--auto-approve: {choice}[/]")
        return {"action": choice}
    if not sys.stdin.isatty():
        return None
    try:
        return _prompt_decision(kind, options)
    except typer.Abort:  # Ctrl+C or end of input at the prompt: the run keeps waiting
        return None


def _prompt_decision(kind: str, options: list[str]) -> dict[str, Any]:
    choice = typer.prompt(f"Answer ({'/'.join(options)})", default=options[0])
    while choice not in options:
        choice = typer.prompt(f"Please answer one of {'/'.join(options)}", default=options[0])
    decision: dict[str, Any] = {"action": choice}
    if choice == "reject":
        decision["feedback"] = typer.prompt("What should change?", default="")
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
            resumed_node = str(pending.data.get("kind"))
            decision = ask_decision(pending.data, auto_approve)
            if decision is None:
                err.print(f"run {run_id} waits for a decision: multicoder resume {run_id}")
                return EXIT_WAITING
            continue
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
        "--auto-approve", help="Approve the start and the plan automatically (a red safety"
                               " verdict still ends the run)")] = False,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Copy the finished executable into this folder")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Also print program.log")] = False,
    sandbox: Annotated[str | None, typer.Option(
        "--sandbox", help="Where generated code runs: docker, bwrap, or local (NOT sandboxed:"
                          " runs as you). Default: settings ([sandbox] backend, auto = Docker"
                          " if it answers, else bubblewrap)")] = None,
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
    if replay:
        models = {role: [f"replay:{replay}"] for role in ("planner", "coder", "judge")} | models
    engine = load_engine()
    if sandbox is not None and sandbox not in ("docker", "bwrap", "local"):
        raise fail(f"unknown sandbox {sandbox!r}: use docker, bwrap or local")
    run_id = engine.start(task or "", models=models, attachments=attach or [], sandbox=sandbox)
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
                  " [sandbox] backend = \"local\")")


@app.command()
def resume(
    run_id: Annotated[str, typer.Argument(help="The run to continue")],
    auto_approve: Annotated[bool, typer.Option(
        "--auto-approve", help="Approve pending questions automatically")] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Copy the executable here")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Continue a run from its last finished step (after a crash, an error or a question)."""
    engine = load_engine()
    engine.get_run(run_id)
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
    history = RunHistory(load_settings())
    for run in history.list(limit):
        table.add_row(run.run_id, run.status, run.created_at[:16].replace("T", " "),
                      Text(run.task.splitlines()[0][:60], no_wrap=True, overflow="ellipsis"))
    out.print(table)


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="The run")]) -> None:
    """One run: status, folder, artifact, error, and where its records are."""
    engine = load_engine()
    run = engine.get_run(run_id)
    values = engine.state(run_id)
    table = Table(show_header=False)
    for name, value in [("run", run.run_id), ("status", run.status), ("task", run.task),
                        ("folder", run.run_dir), ("created", run.created_at),
                        ("updated", run.updated_at), ("repair rounds", values.get("round", 0)),
                        ("artifact", run.artifact or "—"), ("error", run.error or "—")]:
        table.add_row(name, escape(str(value)))
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
