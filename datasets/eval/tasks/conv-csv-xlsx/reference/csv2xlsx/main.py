"""csv2xlsx FILE.csv [FILE.csv ...] -o OUT.xlsx [--delimiter CHAR]: CSV files to one workbook.

Each CSV becomes a sheet named after the file (at most 31 characters); the header row is bold
and frozen; numbers and ISO dates become real Excel values, codes with leading zeros stay text.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import re
import sys
import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_DIGITS = 15  # Excel keeps 15 significant digits; longer numbers would be rounded
MAX_WIDTH = 60
MAX_TITLE = 31
DELIMITERS = (",", ";", "\t")
BAD_TITLE_CHARS = re.compile(r"[\[\]:*?/\\]")

Cell = int | float | dt.date | str | None


class ConversionError(Exception):
    """An input cannot be converted; the message says which file and why."""


def typed(text: str) -> Cell:
    """The Excel value for one CSV field: int, float, date, text, or None when empty."""
    if text == "":
        return None
    digits = sum(ch.isdigit() for ch in text)
    if digits <= MAX_DIGITS:
        if INTEGER.fullmatch(text):
            return int(text)
        if DECIMAL.fullmatch(text):
            return float(text)
    if ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text
    return text


def detect_delimiter(header: str) -> str:
    """The most frequent of comma, semicolon and tab in the header line (comma on a tie)."""
    return max(DELIMITERS, key=header.count)


def read_rows(path: Path, delimiter: str | None) -> list[list[str]]:
    """All rows of a UTF-8 CSV file (a BOM is dropped).

    Raises:
        ConversionError: the file is missing, unreadable or not UTF-8.

    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConversionError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConversionError(f"{path} is not UTF-8 text (byte {exc.start})") from exc
    chosen = delimiter or detect_delimiter(text.split("\n", 1)[0])
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=chosen))
    except csv.Error as exc:
        raise ConversionError(f"{path} is not valid CSV: {exc}") from exc


def sheet_title(path: Path) -> str:
    """The sheet name for a file: its stem without characters Excel forbids, cut to 31."""
    return (BAD_TITLE_CHARS.sub("_", path.stem) or "Sheet")[:MAX_TITLE]


def display_width(value: Cell) -> int:
    """Roughly how many characters a value shows in its cell."""
    if value is None:
        return 0
    if isinstance(value, dt.date):
        return 10
    return max(len(line) for line in str(value).split("\n"))


def build_workbook(sources: list[tuple[str, list[list[str]]]]) -> Workbook:
    """A workbook with one sheet per (title, rows) pair."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for title, rows in sources:
        sheet = workbook.create_sheet(title=title)
        widths: dict[int, int] = {}
        for row_number, row in enumerate(rows, start=1):
            for column, text in enumerate(row, start=1):
                value: Cell = text if row_number == 1 else typed(text)
                cell = sheet.cell(row=row_number, column=column, value=value)
                if row_number == 1:
                    cell.font = bold
                widths[column] = max(widths.get(column, 0), display_width(value))
        for column, width in widths.items():
            sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, MAX_WIDTH)
        sheet.freeze_panes = "A2"
    return workbook


def save_atomically(workbook: Workbook, target: Path) -> None:
    """Write the workbook next to ``target`` and move it into place (never half-written)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".xlsx", dir=target.parent)
    os.close(handle)
    try:
        workbook.save(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="csv2xlsx", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE.csv")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.xlsx")
    parser.add_argument("--delimiter", help="field separator (default: detected)")
    args = parser.parse_args(argv)
    delimiter = args.delimiter.replace("\\t", "\t") if args.delimiter else None
    if delimiter is not None and len(delimiter) != 1:
        parser.error("--delimiter must be a single character")
    try:
        sources = [(sheet_title(path), read_rows(path, delimiter)) for path in args.files]
        save_atomically(build_workbook(sources), args.output)
    except ConversionError as exc:
        print(f"csv2xlsx: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"csv2xlsx: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    for title, rows in sources:
        print(f"{title}: {max(len(rows) - 1, 0)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
