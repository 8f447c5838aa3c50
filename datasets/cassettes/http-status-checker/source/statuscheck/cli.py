"""Command line: ``statuscheck URLS_FILE [--timeout SECONDS]``.

Prints ``URL STATUS TIMEms`` per URL in file order (flushed as each finishes) and a summary on
stderr. Exit codes: 0 every URL ended 2xx/3xx; 1 at least one did not (4xx, 5xx, TIMEOUT,
ERROR); 2 the file is missing, unreadable or holds no URLs, or bad usage.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from statuscheck import __version__
from statuscheck.checker import check_url
from statuscheck.urls import UrlFileError, read_urls

PROG = "statuscheck"
DEFAULT_TIMEOUT = 5.0
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def seconds(value: str) -> float:
    """argparse type: a positive, finite number of seconds (fractions allowed)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"the timeout must be above zero, not {value}")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Check every URL of a list: final HTTP status and time.",
        epilog="Exit code 0 when every URL ends with 2xx/3xx, 1 otherwise, 2 for a bad file.")
    parser.add_argument("urls_file", type=Path, metavar="URLS_FILE",
                        help="one URL per line; blank lines and # comments are skipped")
    parser.add_argument("--timeout", type=seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"seconds to wait for each server (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        urls = read_urls(args.urls_file)
    except UrlFileError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    failed = 0
    for url in urls:
        result = check_url(url, args.timeout)
        print(result.line(), flush=True)
        failed += not result.ok
    print(f"{PROG}: {len(urls)} checked, {len(urls) - failed} ok, {failed} failed",
          file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK
