"""Command line: ``notes [--db PATH] add|list|show|edit|delete|search|export ...``.

Exit codes: 0 done; 1 a note does not exist, or the database or an output file cannot be used;
2 bad usage or input (unknown option, empty title, nothing to change ...).
"""

from __future__ import annotations

import argparse
import io
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from notes import __version__
from notes.db import (
    ENV_DB,
    Note,
    NoteNotFoundError,
    NotesDB,
    NotesError,
    default_db_path,
    utc_now,
)
from notes.export import FORMATS, local_time, render

PROG = "notes"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the user (exit code 2)."""


def note_id(value: str) -> int:
    """Parse a note id: a positive whole number."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a note id: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a note id: {value!r}")
    return number


def positive_int(value: str) -> int:
    """Parse a limit: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Notes on SQLite: add, list, show, edit, delete, search, export.",
        epilog=f"The database is --db PATH, else ${ENV_DB}, else ~/.notes/notes.db.")
    parser.add_argument("--db", type=Path, metavar="PATH", help="the database file")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add = commands.add_parser("add", help="add a note")
    add.add_argument("title", help="the note's title")
    _body_options(add)
    add.add_argument("-t", "--tag", action="append", default=[], metavar="TAG",
                     help="a tag (repeat, or separate with commas)")

    listing = commands.add_parser("list", help="list notes, most recently updated first")
    listing.add_argument("-t", "--tag", help="only notes with this tag (any case)")
    listing.add_argument("-n", "--limit", type=positive_int, metavar="N", help="at most N notes")

    show = commands.add_parser("show", help="show one note in full")
    show.add_argument("id", type=note_id)

    edit = commands.add_parser("edit", help="change a note's title, body or tags")
    edit.add_argument("id", type=note_id)
    edit.add_argument("--title", help="the new title")
    _body_options(edit)
    tags = edit.add_mutually_exclusive_group()
    tags.add_argument("-t", "--tag", action="append", metavar="TAG",
                      help="replace the tags (repeat, or separate with commas)")
    tags.add_argument("--clear-tags", action="store_true", help="remove every tag")

    delete = commands.add_parser("delete", help="delete notes (all or none)")
    delete.add_argument("ids", nargs="+", type=note_id, metavar="ID")

    search = commands.add_parser(
        "search", help="find notes whose title, body or tags contain TEXT (any case, any"
                       " language)")
    search.add_argument("text")
    search.add_argument("-n", "--limit", type=positive_int, metavar="N", help="at most N notes")

    export = commands.add_parser("export", help="export every note as Markdown or JSON")
    export.add_argument("-f", "--format", choices=FORMATS, default="md",
                        help="md (default) or json")
    export.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write to FILE (UTF-8) instead of the screen")
    return parser


def _body_options(parser: argparse.ArgumentParser) -> None:
    body = parser.add_mutually_exclusive_group()
    body.add_argument("-b", "--body", help="the note's text; '-' reads it from standard input")
    body.add_argument("--body-file", type=Path, metavar="FILE",
                      help="read the note's text from a UTF-8 file")


def _read_body(args: argparse.Namespace, stdin: TextIO) -> str | None:
    if args.body_file is not None:
        try:
            return str(args.body_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {args.body_file}: {exc}") from None
    if args.body == "-":
        return stdin.read()
    return None if args.body is None else str(args.body)


def format_line(note: Note) -> str:
    """One line of a listing: id, update time, title and tags."""
    tags = f"  [{', '.join(note.tags)}]" if note.tags else ""
    return f"{note.id:>4}  {local_time(note.updated)}  {note.title}{tags}"


def format_note(note: Note) -> str:
    """A note in full, as ``show`` prints it."""
    lines = [f"#{note.id} {note.title}"]
    if note.tags:
        lines.append(f"Tags: {', '.join(note.tags)}")
    lines.append(f"Created: {local_time(note.created)}   Updated: {local_time(note.updated)}")
    if note.body:
        lines += ["", note.body.rstrip("\n")]
    return "\n".join(lines)


def _write_atomically(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(text, encoding="utf-8")
        temp.replace(path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace, db: NotesDB, out: TextIO, stdin: TextIO) -> int:
    """Carry out one parsed command; returns the exit code."""
    if args.command == "add":
        note = db.add(args.title, _read_body(args, stdin) or "", args.tag)
        print(f"Added note {note.id}: {note.title}", file=out)
    elif args.command == "list":
        notes = db.list_notes(tag=args.tag, limit=args.limit)
        if not notes:
            print(f"No notes tagged {args.tag!r}." if args.tag else "No notes yet.", file=out)
        for note in notes:
            print(format_line(note), file=out)
    elif args.command == "show":
        print(format_note(db.get(args.id)), file=out)
    elif args.command == "edit":
        body = _read_body(args, stdin)
        new_tags: list[str] | None = [] if args.clear_tags else args.tag
        if args.title is None and body is None and new_tags is None:
            raise UsageError("nothing to change: give --title, --body, --body-file, --tag or"
                             " --clear-tags")
        note = db.update(args.id, title=args.title, body=body, tags=new_tags)
        print(f"Updated note {note.id}: {note.title}", file=out)
    elif args.command == "delete":
        for note in db.delete(args.ids):
            print(f"Deleted note {note.id}: {note.title}", file=out)
    elif args.command == "search":
        notes = db.search(args.text, limit=args.limit)
        if not notes:
            print(f"No notes match {args.text!r}.", file=out)
        for note in notes:
            print(format_line(note), file=out)
    elif args.command == "export":
        notes = db.all_notes()
        text = render(notes, args.format, utc_now())
        if args.output is None:
            out.write(text)
        else:
            _write_atomically(args.output, text)
            print(f"Exported {len(notes)} note{'s' * (len(notes) != 1)} to {args.output}",
                  file=sys.stderr)
    return EXIT_OK


def _tolerant_console() -> None:
    """Never crash on a console that cannot show some characters (e.g. old Windows code pages)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (argparse exits 2 on usage errors)."""
    _tolerant_console()
    args = build_parser().parse_args(argv)
    path = args.db.expanduser() if args.db is not None else default_db_path()
    try:
        with NotesDB(path) as db:
            return run(args, db, sys.stdout, sys.stdin)
    except NoteNotFoundError as exc:
        _error(str(exc))
        return EXIT_FAILED
    except (UsageError, ValueError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except NotesError as exc:
        _error(str(exc))
        return EXIT_FAILED
    except sqlite3.Error as exc:
        _error(f"database error in {path}: {exc}")
        return EXIT_FAILED
    except OSError as exc:
        _error(f"cannot write {exc.filename or 'the output'}: {exc.strerror or exc}")
        return EXIT_FAILED
