"""Command line: ``csv2xlsx INPUT.csv [INPUT2.csv ...] -o OUT.xlsx [options]``.

Exit codes: 0 converted; 1 the workbook could not be written; 2 bad input or usage (a missing,
empty or undecodable file, an invalid option); 130 interrupted.
"""

from __future__ import annotations

import argparse
import codecs
import sys
from collections.abc import Sequence
from pathlib import Path

from csv2xlsx import __version__
from csv2xlsx.core import EXCEL_MAX_ROWS, ConversionError, ConversionStats, convert

PROG = "csv2xlsx"
EXIT_OK = 0
EXIT_WRITE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

_NAMED_DELIMITERS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|",
                     "space": " "}


def delimiter_arg(value: str) -> str:
    """Parse ``--delimiter``: one character, or tab/comma/semicolon/pipe/space, or ``\\t``."""
    delimiter = _NAMED_DELIMITERS.get(value.lower(), value)
    if len(delimiter) != 1 or delimiter in "\"\r\n":
        raise argparse.ArgumentTypeError(
            f"must be one character (or tab, comma, semicolon, pipe, space), not {value!r}")
    return delimiter


def encoding_arg(value: str) -> str:
    """Parse ``--encoding``: any encoding Python knows (utf-8, cp1251, latin-1 ...)."""
    try:
        codecs.lookup(value)
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {value!r}") from None
    return value


def max_rows_arg(value: str) -> int:
    """Parse ``--max-rows``: an integer from 2 to 1,048,576 (Excel's limit)."""
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if not 2 <= number <= EXCEL_MAX_ROWS:
        raise argparse.ArgumentTypeError(f"must be between 2 and {EXCEL_MAX_ROWS:,}")
    return number


def output_arg(value: str) -> Path:
    """Parse ``--output``: a path ending in ``.xlsx``."""
    path = Path(value)
    if path.suffix.lower() != ".xlsx":
        raise argparse.ArgumentTypeError(f"the output must be an .xlsx file, not {value!r}")
    return path


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also documents the options in ``--help``)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Convert CSV files into one Excel workbook: one sheet per file, numbers"
                    " stored as numbers, Unicode text kept exactly. Without arguments the"
                    " program opens its window.",
        epilog="example: csv2xlsx sales.csv clients.csv -o report.xlsx --delimiter ';'",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT.csv",
                        help="CSV files to convert, one sheet each (in this order)")
    parser.add_argument("-o", "--output", required=True, type=output_arg, metavar="OUT.xlsx",
                        help="the workbook to write (replaced if it exists)")
    parser.add_argument("-d", "--delimiter", type=delimiter_arg, default=None,
                        help="field separator (default: detected; comma if unsure)")
    parser.add_argument("-e", "--encoding", type=encoding_arg, default="utf-8-sig",
                        help="text encoding of the inputs (default: UTF-8, with or without BOM)")
    parser.add_argument("--max-rows", type=max_rows_arg, default=EXCEL_MAX_ROWS, metavar="N",
                        help="rows per sheet including the header; longer files continue on"
                             ' sheets "<name> (2)", "<name> (3)" ... (default: %(default)s)')
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def summary(stats: ConversionStats) -> str:
    """One line describing a finished conversion."""
    sheets = len(stats.sheets)
    text = (f"wrote {stats.output}: {stats.files} file{'s' * (stats.files != 1)},"
            f" {sheets} sheet{'s' * (sheets != 1)}, {stats.rows:,} rows")
    cleaned = stats.cleaned_cells
    if cleaned:
        text += (f" ({cleaned:,} cell{'s' * (cleaned != 1)} cleaned: control characters"
                 f" removed or text cut to Excel's 32,767 characters)")
    return text


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (argparse exits 2 on usage errors)."""
    args = build_parser().parse_args(argv)
    try:
        stats = convert(list(args.inputs), args.output, delimiter=args.delimiter,
                        encoding=args.encoding, max_rows_per_sheet=args.max_rows)
    except (ConversionError, ValueError) as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    except OSError as exc:
        _error(f"cannot write {args.output}: {exc.strerror or exc}")
        return EXIT_WRITE_FAILED
    except KeyboardInterrupt:
        _error("interrupted; nothing was written")
        return EXIT_INTERRUPTED
    if not args.quiet:
        print(summary(stats))
    return EXIT_OK
