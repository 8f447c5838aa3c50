"""todo [--file PATH] add TEXT... | list [--all] | done N | remove N: a todo list in JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

Task = dict[str, Any]
"""One task: ``{"id": int, "text": str, "done": bool}``."""


class TodoError(Exception):
    """The command cannot be done; the message says why, in one line."""


def load(path: Path) -> list[Task]:
    """The tasks stored in ``path`` (none when the file does not exist yet).

    Raises:
        TodoError: the file cannot be read or is not a list of tasks.

    """
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TodoError(f"cannot read {path}: {exc}; fix or move the file") from exc
    if not isinstance(data, list) or not all(
            isinstance(t, dict) and isinstance(t.get("id"), int) and "text" in t for t in data):
        raise TodoError(f"{path} is not a todo list (a JSON list of tasks); fix or move it")
    return data


def save(path: Path, tasks: list[Task]) -> None:
    """Write ``tasks`` to ``path`` atomically (a temporary file, then a rename)."""
    folder = path.resolve().parent
    fd, temp = tempfile.mkstemp(prefix=".todo-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(tasks, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def find(tasks: list[Task], number: int) -> Task:
    """The task with id ``number``.

    Raises:
        TodoError: there is none.

    """
    for task in tasks:
        if task["id"] == number:
            return task
    raise TodoError(f"there is no task number {number}")


def render(task: Task) -> str:
    """One list line: ``3 [x] buy milk``."""
    return f"{task['id']} [{'x' if task.get('done') else ' '}] {task['text']}"


def run(args: argparse.Namespace) -> None:
    """Carry out one parsed command.

    Raises:
        TodoError: bad task number, unreadable file.

    """
    tasks = load(args.file)
    if args.command == "add":
        text = " ".join(args.text).strip()
        if not text:
            raise TodoError("the task text is empty")
        number = max((t["id"] for t in tasks), default=0) + 1
        tasks.append({"id": number, "text": text, "done": False})
        save(args.file, tasks)
        print(f"added {number}: {text}")
    elif args.command == "list":
        for task in tasks:
            if args.all or not task.get("done"):
                print(render(task))
    elif args.command == "done":
        find(tasks, args.number)["done"] = True
        save(args.file, tasks)
    elif args.command == "remove":
        tasks.remove(find(tasks, args.number))
        save(args.file, tasks)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the command and return the exit code."""
    parser = argparse.ArgumentParser(prog="todo", description=__doc__)
    parser.add_argument("--file", type=Path, default=Path("todo.json"),
                        help="where the tasks are kept (default: todo.json here)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a task")
    add.add_argument("text", nargs="+")
    listing = commands.add_parser("list", help="show the tasks not done yet")
    listing.add_argument("--all", action="store_true", help="done ones too")
    for name, about in (("done", "mark a task done"), ("remove", "delete a task")):
        commands.add_parser(name, help=about).add_argument("number", type=int)
    args = parser.parse_args(argv)
    try:
        run(args)
    except (TodoError, OSError) as exc:
        print(f"todo: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
