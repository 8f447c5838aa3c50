"""Command line: ``json2csv INPUT.json [-o OUTPUT.csv] [-d DELIMITER] [--bom]``.

Exit codes: 0 done; 1 the input cannot be converted or the output cannot be written (the
output file is then not created); 2 bad usage (argparse).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from json2csv import __version__
from json2csv.convert import ConversionError, convert, read_records

PROG = "json2csv"
BOM = "\ufeff"


def delimiter(value: str) -> str:
    """argparse type: exactly one character (``\\t`` is accepted for a tab)."""
    value = "\t" if value == "\\t" else value
    if len(value) != 1 or value in "\r\n\"":
        raise argparse.ArgumentTypeError(
            f"разделитель должен быть одним символом (не кавычкой), а не {value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Преобразует JSON-массив объектов в CSV.",
        epilog="Вложенные объекты становятся столбцами через точку, списки пишутся как JSON.")
    parser.add_argument("input", type=Path, metavar="ВХОД.json", help="JSON-файл (UTF-8)")
    parser.add_argument("-o", "--output", type=Path, metavar="ВЫХОД.csv",
                        help="куда записать CSV (по умолчанию — стандартный вывод)")
    parser.add_argument("-d", "--delimiter", type=delimiter, default=",",
                        help="разделитель столбцов (по умолчанию запятая)")
    parser.add_argument("--bom", action="store_true",
                        help="добавить BOM в начало (для Excel)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def write_atomic(path: Path, text: str, *, bom: bool) -> None:
    """Write ``text`` as UTF-8 (with a BOM if asked) through a temporary file and a rename.

    An existing file is replaced only when the whole text was written.

    Raises:
        OSError: the folder does not exist or is not writable.

    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8-sig" if bom else "utf-8",
                       newline="") as stream:
            stream.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.output is not None and args.output.resolve() == args.input.resolve():
        print(f"{PROG}: ошибка: не удалось записать {args.output}: это входной файл",
              file=sys.stderr)
        return 1
    try:
        text = convert(read_records(args.input), args.delimiter)
    except ConversionError as exc:
        print(f"{PROG}: ошибка: {exc}", file=sys.stderr)
        return 1
    if args.output is None:
        sys.stdout.write((BOM if args.bom else "") + text)
        sys.stdout.flush()
        return 0
    try:
        write_atomic(args.output, text, bom=args.bom)
    except OSError as exc:
        print(f"{PROG}: ошибка: не удалось записать {args.output}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0
