"""Command line: ``csvstat ФАЙЛ.csv [--column ИМЯ ...] [--delimiter СИМВОЛ]``.

Exit codes: 0 done; 1 the file or a column cannot be used (message on stderr); 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from csvstat import __version__
from csvstat.reading import read_table
from csvstat.render import render_table
from csvstat.stats import ReportError, report

PROG = "csvstat"


def delimiter(value: str) -> str:
    """argparse type: one character; ``\\t`` means a tab."""
    value = "\t" if value == "\\t" else value
    if len(value) != 1 or value in "\r\n\"":
        raise argparse.ArgumentTypeError(f"разделитель — один символ (не кавычка), а не {value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Сводная статистика по столбцам CSV-файла.",
        epilog="Числа можно писать с десятичной запятой и пробелами между разрядами.")
    parser.add_argument("file", type=Path, metavar="ФАЙЛ.csv", help="CSV-файл в UTF-8")
    parser.add_argument("--column", action="append", default=[], metavar="ИМЯ",
                        help="столбец для отчёта (можно несколько раз; по умолчанию — все "
                             "столбцы с числами)")
    parser.add_argument("--delimiter", type=delimiter, default=",", metavar="СИМВОЛ",
                        help="разделитель столбцов (по умолчанию запятая)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        header, rows = read_table(args.file, args.delimiter)
        summaries = report(header, rows, [name.strip() for name in args.column])
    except ReportError as exc:
        print(f"{PROG}: ошибка: {exc}", file=sys.stderr)
        return 1
    print(render_table(summaries))
    return 0
