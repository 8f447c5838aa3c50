"""habits --db FILE add NAME | done NAME [--date D] | streak NAME [--today D] | list."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from habits.tracker import Tracker


def iso_date(text: str) -> date:
    """argparse type: a calendar date YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    """Run one command: 0 done, 1 unknown or duplicate habit or a database error."""
    parser = argparse.ArgumentParser(prog="habits", description="Habit tracker with streaks")
    parser.add_argument("--db", type=Path, default=Path("habits.db"))
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("add", help="start tracking a habit").add_argument("name")
    done = commands.add_parser("done", help="mark a habit done")
    done.add_argument("name")
    done.add_argument("--date", type=iso_date, default=None)
    streak = commands.add_parser("streak", help="days in a row")
    streak.add_argument("name")
    streak.add_argument("--today", type=iso_date, default=None)
    commands.add_parser("list", help="every habit with its streak")
    args = parser.parse_args(argv)
    try:
        tracker = Tracker(args.db)
        try:
            if args.command == "add":
                tracker.add(args.name)
            elif args.command == "done":
                tracker.done(args.name, args.date or date.today())
            elif args.command == "streak":
                print(tracker.streak(args.name, args.today or date.today()))
            else:
                for name in tracker.habits():
                    print(f"{name}: {tracker.streak(name, date.today())}")
        finally:
            tracker.close()
    except KeyError as exc:
        print(f"habits: no habit called {exc.args[0]!r}", file=sys.stderr)
        return 1
    except (ValueError, sqlite3.Error) as exc:
        print(f"habits: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
