"""countdown DURATION [--message TEXT] [--tick SECONDS]: a countdown timer in the terminal."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TextIO

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from countdown.duration import format_left, parse_duration  # noqa: E402

DEFAULT_MESSAGE = "Время вышло!"
CANCELLED_EXIT = 130


def tick_seconds(text: str) -> float:
    """``--tick``: a non-negative number of real seconds per timer second."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"«{text}» — не число") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("--tick должен быть неотрицательным числом")
    return value


def run(total: int, tick: float, message: str, out: TextIO) -> None:
    """Show every second left, from ``total`` down to 1, then the message.

    Each timer second lasts ``tick`` real seconds, measured from the start so the countdown
    does not drift. On a terminal one line is rewritten; otherwise one line per value.
    """
    live = out.isatty()
    start = time.monotonic()
    for shown, left in enumerate(range(total, 0, -1)):
        if live:
            out.write(f"\r{format_left(left)} ")
        else:
            out.write(format_left(left) + "\n")
        out.flush()
        delay = start + (shown + 1) * tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    out.write(("\r" if live else "") + message + "\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the countdown; returns the exit code."""
    parser = argparse.ArgumentParser(prog="countdown", description=__doc__)
    parser.add_argument("duration", help="90, 1:30, 1:02:03, 1h30m, 2m, 45s, 1ч30м")
    parser.add_argument("--message", default=DEFAULT_MESSAGE, help="the text shown at the end")
    parser.add_argument("--tick", type=tick_seconds, default=1.0,
                        help="real seconds per timer second (default 1; 0 = no pauses)")
    args = parser.parse_args(argv)
    try:
        total = parse_duration(args.duration)
    except ValueError as exc:
        parser.error(str(exc))  # exits with code 2
    try:
        run(total, args.tick, args.message, sys.stdout)
    except KeyboardInterrupt:
        print("\nОтменено", file=sys.stderr)
        return CANCELLED_EXIT
    except BrokenPipeError:  # the reader went away (countdown 60 | head -1): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
