"""``multicoder memory``: search everything, lessons, rebuild, status (M2, M4).

The work is done by :mod:`graph.memory`; this module only asks and shows. chromadb, scikit-
learn and the openai client are imported inside the commands, so ``multicoder --help`` stays
fast. Bad input raises :class:`graph.InputError` (one line on stderr, exit code 2).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from graph.memory import Lesson

memory_app = typer.Typer(
    help="Memory of past runs: search it, list and edit lessons, rebuild it, see its state.",
    no_args_is_help=True)
lessons_app = typer.Typer(
    help="Lessons learned from runs (fixed errors, a person's rejections) and written by"
         " people; later runs recall them. Without a command: list.",
    invoke_without_command=True)
memory_app.add_typer(lessons_app, name="lessons")


def register(app: typer.Typer, runs_app: typer.Typer) -> None:
    """Add ``memory`` (search, lessons, rebuild, status) to the CLI (``runs_app`` unused)."""
    app.add_typer(memory_app, name="memory")


@memory_app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="Words to look for")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1,
                                       help="Most results of each kind")] = 10,
    run: Annotated[str | None, typer.Option("--run", help="Only this run")] = None,
    lexical_only: Annotated[bool, typer.Option(
        "--lexical-only", help="Match semantic memory by shared words only (no embeddings"
                               " request; works offline)")] = False,
) -> None:
    """Search everything: the archive's full text and semantic memory, in one table.

    The archive holds every line of every run; semantic memory holds tasks, plans, lessons,
    errors with their fixes and summaries. The table says how each result matched: full
    text finds the words themselves ("quoted phrases", prefix*); semantic matches by meaning
    (a semantic embedder); lexical-vector by shared words and word pieces (the offline one).

    Example: multicoder memory search "case-insensitive search" --limit 5
    """
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from graph.memory import search_memory
    from ui.cli.app import err, load_settings, out

    result = search_memory(load_settings(), query, limit=limit, run_id=run,
                           lexical_only=lexical_only)
    for note in result.notes:
        err.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    if not result.hits:
        out.print(f"no matches for {escape(repr(query))}")
        return
    table = Table(title=f"memory search: {escape(query)}", show_lines=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("match", no_wrap=True, min_width=14)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("source", ratio=2, min_width=24)
    table.add_column("text", ratio=3, min_width=30)
    for number, hit in enumerate(result.hits, 1):
        colour = {"full text": "cyan", "semantic": "green", "lexical-vector": "yellow"}[hit.kind]
        table.add_row(str(number), f"[{colour}]{hit.kind}[/]", f"{hit.score:.2f}",
                      Text(hit.source), Text(_excerpt(hit.text)))
    out.print(table)


def _excerpt(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


@memory_app.command("status")
def status() -> None:
    """The embedder in use (semantic or only lexical, and why), and items per collection."""
    from rich.markup import escape
    from rich.table import Table

    from graph.memory import memory_status
    from ui.cli.app import load_settings, out

    state = memory_status(load_settings())
    kind = "[green]semantic[/]" if state.semantic else "[yellow]lexical only[/]"
    out.print(f"embeddings setting: {escape(state.setting)}")
    out.print(f"in use: {kind} — {escape(state.embedder)}", soft_wrap=True)
    out.print(f"store: {escape(str(state.path))}", soft_wrap=True)
    counts = Table("collection", "items")
    for collection, count in state.counts.items():
        counts.add_row(collection, str(count))
    counts.add_row("[bold]total[/]", f"[bold]{sum(state.counts.values())}[/]")
    out.print(counts)
    sets = Table("vectors of", "dimension", "in use", "up to date")
    for entry in state.vector_sets:
        sets.add_row(escape(str(entry["embedder"])), str(entry["dimension"] or "—"),
                     "yes" if entry["in_use"] else "no", "yes" if entry["in_sync"] else "no")
    out.print(sets)
    out.print(f"lesson changes by people (lessons.json): {state.person_changes}")


@memory_app.command("rebuild")
def rebuild(
    fresh: Annotated[bool, typer.Option(
        "--fresh", help="First set the store aside (a damaged one) and start empty; lessons"
                        " of runs whose folders are gone are lost, people's own lessons and"
                        " edits come back")] = False,
) -> None:
    """Learn semantic memory again from every run folder.

    The person's lesson edits, deletions and own lessons are kept.
    """
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from graph.memory import rebuild_memory
    from ui.cli.app import load_settings, out

    settings = load_settings()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=out, transient=not out.is_terminal) as progress:
        task = progress.add_task("learning runs", total=None)

        def on_run(done: int, total: int, run_id: str, items: int) -> None:
            progress.update(task, completed=done, total=total,
                            description=f"learning runs ({run_id}: {items} items)")
            if not out.is_terminal:
                out.print(f"  {done}/{total} {run_id}: {items} items")

        result = rebuild_memory(settings, fresh=fresh, on_run=on_run)
    if result.set_aside is not None:
        out.print(f"the old store was set aside: {escape(str(result.set_aside))}", soft_wrap=True)
    out.print(f"learned {result.runs} runs: {result.items} items; {result.restored} lessons"
              " written by people restored")


# -- lessons -----------------------------------------------------------------------------------


@lessons_app.callback()
def lessons_default(ctx: typer.Context) -> None:
    """Lessons: list (the default), show, edit, delete, add."""
    if ctx.invoked_subcommand is None:
        lessons_list(limit=50)


@lessons_app.command("list")
def lessons_list(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many")] = 50,
) -> None:
    """The newest lessons: id, where each came from, and its text."""
    from rich.table import Table
    from rich.text import Text

    from graph.memory import open_lessons
    from ui.cli.app import load_settings, out

    recall, lessons = open_lessons(load_settings())
    try:
        found = lessons.list_all()
    finally:
        recall.semantic.close()
    if not found:
        out.print("no lessons yet: they are learned after each run (multicoder memory rebuild"
                  " learns past runs), or add one: multicoder memory lessons add --text ...")
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=8)
    table.add_column("from", no_wrap=True, min_width=22)
    table.add_column("what", min_width=12)
    table.add_column("date", no_wrap=True, min_width=10)
    table.add_column("lesson", ratio=1, min_width=30)
    for lesson in found[:limit]:
        table.add_row(lesson.lesson_id, lesson.run_id or "a person",
                      lesson.what + (" (edited)" if lesson.edited else ""), lesson.date,
                      Text(_excerpt(lesson.text, 200)))
    out.print(table)
    if len(found) > limit:
        out.print(f"{len(found) - limit} more: --limit {len(found)}")


@lessons_app.command("show")
def lessons_show(lesson_id: Annotated[str, typer.Argument(help="The lesson's id (or its"
                                                                " start)")]) -> None:
    """One lesson in full, with where it came from."""
    from graph.memory import open_lessons
    from ui.cli.app import load_settings

    recall, lessons = open_lessons(load_settings())
    try:
        _show(_found(lessons.get, lesson_id))
    finally:
        recall.semantic.close()


@lessons_app.command("edit")
def lessons_edit(
    lesson_id: Annotated[str, typer.Argument(help="The lesson's id (or its start)")],
    text: Annotated[str | None, typer.Option(
        "--text", help="The new text (without it, $EDITOR opens, at a terminal)")] = None,
) -> None:
    """Change a lesson's text; it keeps the change when its run is learned again."""
    import click

    from graph import InputError
    from graph.memory import open_lessons
    from ui.cli.app import load_settings, out

    recall, lessons = open_lessons(load_settings())
    try:
        lesson = _found(lessons.get, lesson_id)
        if text is None:
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                raise InputError("give the new text with --text (no terminal to open an"
                                 " editor in)")
            text = click.edit(lesson.text)
            if text is None or text.strip() == lesson.text.strip():
                out.print("unchanged")
                return
        try:
            edited = lessons.edit(lesson.lesson_id, text)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    finally:
        recall.semantic.close()
    out.print(f"lesson {edited.lesson_id} changed")
    _show(edited)


@lessons_app.command("delete")
def lessons_delete(
    lesson_id: Annotated[str, typer.Argument(help="The lesson's id (or its start)")],
) -> None:
    """Delete a lesson; it stays deleted when its run is learned again."""
    from rich.markup import escape

    from graph.memory import open_lessons
    from ui.cli.app import load_settings, out

    recall, lessons = open_lessons(load_settings())
    try:
        lesson = _found(lessons.delete, lesson_id)
    finally:
        recall.semantic.close()
    out.print(f"lesson {lesson.lesson_id} deleted: {escape(_excerpt(lesson.text, 120))}")


@lessons_app.command("add")
def lessons_add(
    text: Annotated[str | None, typer.Option(
        "--text", help="The lesson (without it, $EDITOR opens, at a terminal)")] = None,
) -> None:
    """Write a lesson of your own; later runs recall it like the learned ones."""
    import click

    from graph import InputError
    from graph.memory import open_lessons
    from ui.cli.app import load_settings, out

    if text is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise InputError("give the lesson with --text (no terminal to open an editor in)")
        text = click.edit("") or ""
    recall, lessons = open_lessons(load_settings())
    try:
        lesson = lessons.add(text)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    finally:
        recall.semantic.close()
    out.print(f"lesson {lesson.lesson_id} added")
    _show(lesson)


def _found(action: Callable[[str], Lesson], lesson_id: str) -> Lesson:
    """``action(lesson_id)``, with an unknown id as bad input (one line, exit 2)."""
    from graph import InputError
    from graph.memory import LessonNotFound

    try:
        return action(lesson_id)
    except LessonNotFound as exc:
        raise InputError(str(exc.args[0])) from None


def _show(lesson: Lesson) -> None:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.text import Text

    from ui.cli.app import out

    origin = f"from run {lesson.run_id}" if lesson.run_id else "written by a person"
    title = (f"lesson {lesson.lesson_id} · {origin} · {escape(lesson.what)} · {lesson.date}"
             + (" · edited by a person" if lesson.edited else ""))
    out.print(Panel(Text(lesson.text), title=title, title_align="left"))
