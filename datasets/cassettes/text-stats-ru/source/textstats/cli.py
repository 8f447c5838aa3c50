"""Command line: ``textstats ФАЙЛ [--wpm N] [--json]``.

Exit codes: 0 done; 1 the file cannot be read; 2 bad usage (a --wpm that is not a positive
whole number, an unknown option).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from textstats import __version__
from textstats.reading import ReadError, read_text
from textstats.report import table, to_json
from textstats.stats import DEFAULT_WPM, analyse

PROG = "textstats"


def words_per_minute(value: str) -> int:
    """argparse type: a whole number above zero."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"нужно целое число слов в минуту, а не {value!r}"
                                         ) from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"скорость чтения должна быть больше нуля, а не {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Статистика текста: символы, слова, предложения, абзацы, "
                               "время чтения.")
    parser.add_argument("file", type=Path, metavar="ФАЙЛ",
                        help="текстовый файл (UTF-8 или windows-1251)")
    parser.add_argument("--wpm", type=words_per_minute, default=DEFAULT_WPM, metavar="N",
                        help=f"скорость чтения, слов в минуту (по умолчанию {DEFAULT_WPM})")
    parser.add_argument("--json", action="store_true", help="вывести JSON вместо таблицы")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        text, encoding = read_text(args.file)
    except ReadError as exc:
        print(f"{PROG}: ошибка: {exc}", file=sys.stderr)
        return 1
    stats = analyse(text, args.wpm)
    if args.json:
        print(to_json(stats))
    else:
        print(table(stats, title=f"Файл: {args.file} (кодировка {encoding})", wpm=args.wpm))
    return 0
