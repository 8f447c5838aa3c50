"""every INTERVAL [--count N] [--stop-on-error] -- COMMAND [ARGS...]: run a command repeatedly.

Runs start every INTERVAL, measured start to start; a run that overruns the interval is
followed at once by the next (no overlap, missed slots are skipped).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "": 1.0}
INTERVAL = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?", re.IGNORECASE)
NOT_FOUND_EXIT = 127
CANCELLED_EXIT = 130


def parse_interval(text: str) -> float:
    """``5``, ``0.5``, ``500ms``, ``10s``, ``2m``, ``1h`` as seconds (> 0).

    Raises:
        argparse.ArgumentTypeError: anything else, zero included.

    """
    match = INTERVAL.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"invalid interval {text!r}: use e.g. 5, 0.5, 500ms, 2m")
    seconds = float(match.group(1)) * UNITS[(match.group(2) or "").lower()]
    if seconds <= 0:
        raise argparse.ArgumentTypeError("the interval must be greater than zero")
    return seconds


def positive_int(text: str) -> int:
    """``--count``: a whole number of runs, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--count must be at least 1")
    return value


def repeat(command: Sequence[str], interval: float, count: int | None, stop_on_error: bool,
           sleep: Callable[[float], None] = time.sleep) -> int:
    """Run ``command`` ``count`` times (forever if None); returns the exit code for `every`.

    Raises:
        FileNotFoundError / PermissionError: the command cannot be started.

    """
    failed = False
    next_start = time.monotonic()
    run = 0
    while count is None or run < count:
        run += 1
        code = subprocess.run(list(command), check=False).returncode
        if code != 0:
            print(f"every: run {run} exited with code {code}", file=sys.stderr, flush=True)
            if stop_on_error:
                return code if code > 0 else 1
            failed = True
        if count is not None and run >= count:
            break
        next_start += interval
        now = time.monotonic()
        if next_start < now:  # overran: start at once, skip the missed slots
            next_start = now
        sleep(next_start - now)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and repeat the command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="every", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("interval", type=parse_interval, help="5, 0.5, 500ms, 10s, 2m, 1h")
    parser.add_argument("--count", type=positive_int, help="stop after N runs")
    parser.add_argument("--stop-on-error", action="store_true",
                        help="stop at the first failing run and exit with its code")
    parser.add_argument("command", nargs="*", help="-- COMMAND [ARGS...]")
    args_list = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" is the command, options included (-l, --count...).
    split = args_list.index("--") if "--" in args_list else len(args_list)
    args = parser.parse_args(args_list[:split])
    command = args.command + args_list[split + 1:]
    if not command:
        parser.error("no command given: every INTERVAL [--count N] -- COMMAND [ARGS...]")
    try:
        return repeat(command, args.interval, args.count, args.stop_on_error)
    except (FileNotFoundError, PermissionError) as exc:
        reason = "command not found" if isinstance(exc, FileNotFoundError) else "cannot run"
        print(f"every: {reason}: {command[0]}", file=sys.stderr)
        return NOT_FOUND_EXIT
    except KeyboardInterrupt:
        return CANCELLED_EXIT


if __name__ == "__main__":
    sys.exit(main())
