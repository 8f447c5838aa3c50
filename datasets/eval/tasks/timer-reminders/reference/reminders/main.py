"""reminders FILE [--from "YYYY-MM-DD HH:MM"] [--days N] [--next]: what is coming up."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reminders.schedule import ScheduleError, between, next_after, parse  # noqa: E402

FORMAT = "%Y-%m-%d %H:%M"


def moment(text: str) -> datetime:
    """``--from``: ``YYYY-MM-DD HH:MM``."""
    try:
        return datetime.strptime(text.strip(), FORMAT)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"«{text}» — нужна дата и время в виде ГГГГ-ММ-ДД ЧЧ:ММ") from None


def days(text: str) -> int:
    """``--days``: a whole number of days, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"«{text}» — не целое число") from None
    if not 1 <= value <= 3660:
        raise argparse.ArgumentTypeError("--days должно быть от 1 до 3660")
    return value


def main(argv: list[str] | None = None) -> int:
    """Print the reminders due in the window (or the next one); returns the exit code."""
    parser = argparse.ArgumentParser(prog="reminders", description=__doc__)
    parser.add_argument("file", type=Path, help="the schedule file")
    parser.add_argument("--from", dest="start", type=moment, default=None,
                        help="start of the window, YYYY-MM-DD HH:MM (default: now)")
    parser.add_argument("--days", type=days, default=1, help="length of the window in days")
    parser.add_argument("--next", action="store_true", help="only the nearest reminder")
    args = parser.parse_args(argv)
    start = args.start or datetime.now().replace(second=0, microsecond=0)
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "файл не в UTF-8"
        print(f"reminders: не могу прочитать {args.file}: {reason}", file=sys.stderr)
        return 1
    try:
        reminders = parse(text.splitlines())
    except ScheduleError as exc:
        print(f"reminders: {args.file}, {exc}", file=sys.stderr)
        return 1
    if args.next:
        found = next_after(reminders, start)
        due = [found] if found else []
    else:
        due = list(between(reminders, start, start + timedelta(days=args.days)))
    for when, reminder in due:
        print(f"{when.strftime(FORMAT)} {reminder.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
