"""todo URL [--token T] list|add TITLE|done ID|delete ID: the todo client from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from todo_client.client import TodoClient, TodoError


def main(argv: list[str] | None = None) -> int:
    """0 on success, 1 when the service fails, 2 on bad input."""
    parser = argparse.ArgumentParser(prog="todo", description=__doc__)
    parser.add_argument("base_url")
    parser.add_argument("--token")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list")
    commands.add_parser("add").add_argument("title")
    commands.add_parser("done").add_argument("todo_id", type=int)
    commands.add_parser("delete").add_argument("todo_id", type=int)
    args = parser.parse_args(argv)
    client = TodoClient(args.base_url, token=args.token)
    try:
        if args.command == "list":
            for todo in client.list_todos():
                print(f"[{'x' if todo.get('done') else ' '}] {todo['id']}: {todo['title']}")
        elif args.command == "add":
            print(client.add(args.title)["id"])
        elif args.command == "done":
            client.complete(args.todo_id)
        else:
            client.delete(args.todo_id)
    except ValueError as exc:
        print(f"todo: {exc}", file=sys.stderr)
        return 2
    except TodoError as exc:
        print(f"todo: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
