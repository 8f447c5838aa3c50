"""Conversion of CSV files into one XLSX workbook, one sheet (or more) per CSV file.

The workbook is written with openpyxl's write-only mode, so memory use stays flat however
large the input is. It is first saved to a temporary file next to the target and moved into
place only when everything succeeded: a failed conversion never leaves a half-written XLSX.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import secrets
from collections.abc import Callable, Generator, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL_CHARS = 32_767
SHEET_NAME_MAX = 31
SNIFF_CHARS = 64 * 1024
SNIFF_DELIMITERS = ",;\t|"
DEFAULT_DELIMITER = ","
MAX_SIGNIFICANT_DIGITS = 15  # Excel keeps 15 significant digits; longer numbers stay text
MAX_SIZED_COLUMNS = 200

_FORBIDDEN_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_ILLEGAL_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_INTEGER = re.compile(r"-?[1-9][0-9]*|0")
_DECIMAL = re.compile(
    r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]{1,3})?|[eE][+-]?[0-9]{1,3})")
_HEADER_FONT = Font(bold=True)

Progress = Callable[[int], None]


class ConversionError(Exception):
    """An input cannot be converted; the message names the file and says why."""


@dataclass(frozen=True)
class SheetInfo:
    """One worksheet of the result: its name, the CSV it came from, its row count."""

    name: str
    source: Path
    rows: int


@dataclass(frozen=True)
class ConversionStats:
    """What a conversion produced."""

    output: Path
    sheets: tuple[SheetInfo, ...]
    rows: int
    """CSV records read, header rows included (a repeated header is not counted again)."""
    cleaned_cells: int = 0
    """Cells that held characters XLSX cannot store (control characters were removed) or
    more than 32,767 characters (the text was cut)."""

    @property
    def files(self) -> int:
        """Number of CSV files converted."""
        return len({sheet.source for sheet in self.sheets})


def convert(
    csv_paths: list[Path],
    xlsx_path: Path,
    *,
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    max_rows_per_sheet: int = EXCEL_MAX_ROWS,
    progress: Progress | None = None,
) -> ConversionStats:
    """Convert ``csv_paths`` into the workbook ``xlsx_path`` (replaced if it exists).

    Args:
        csv_paths: the CSV files, in the order their sheets appear.
        xlsx_path: the workbook to write; missing parent folders are created.
        delimiter: the field separator; ``None`` detects it from the start of each file
            (``,`` ``;`` tab or ``|``), falling back to a comma.
        encoding: the text encoding of the inputs; the default also skips a UTF-8 BOM.
        max_rows_per_sheet: rows per sheet, header included; longer files continue on sheets
            named ``"<name> (2)"``, ``"<name> (3)"`` ..., each starting with the header row.
        progress: called with the percentage (0-100) of input bytes processed.

    Raises:
        ConversionError: an input is missing, unreadable, empty, undecodable or malformed.
        ValueError: an argument is out of range (no files, bad delimiter, bad row limit).
        OSError: the workbook cannot be written.

    """
    _check_arguments(csv_paths, xlsx_path, delimiter, encoding, max_rows_per_sheet)
    for path in csv_paths:
        if not path.is_file():
            raise ConversionError(f"input file not found: {path}")
    tracker = _ProgressTracker(sum(path.stat().st_size for path in csv_paths), progress)
    xlsx_path.parent.mkdir(parents=True, exist_ok=True)
    temp_path = xlsx_path.with_name(f".{xlsx_path.name}.{secrets.token_hex(6)}.part")
    workbook = Workbook(write_only=True)
    writer = _WorkbookWriter(workbook, max_rows_per_sheet)
    try:
        for path in csv_paths:
            writer.add_csv(path, delimiter, encoding, tracker)
        workbook.save(temp_path)
        temp_path.replace(xlsx_path)
    except BaseException:
        _discard(workbook)
        temp_path.unlink(missing_ok=True)
        raise
    tracker.finish()
    return ConversionStats(output=xlsx_path, sheets=tuple(writer.sheets), rows=writer.rows,
                           cleaned_cells=writer.cleaned_cells)


def _discard(workbook: Workbook) -> None:
    """Close the sheets of a workbook that will not be saved and delete their spool files."""
    for sheet in workbook.worksheets:
        with suppress(Exception):  # a sheet may already be closed by a failed save
            sheet.close()
        spool = getattr(sheet, "_writer", None)  # openpyxl spools each sheet to a temp file
        if spool is not None:
            with suppress(Exception):
                spool.cleanup()


def _check_arguments(csv_paths: Sequence[Path], xlsx_path: Path, delimiter: str | None,
                     encoding: str, max_rows_per_sheet: int) -> None:
    if not csv_paths:
        raise ValueError("no CSV files given")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
        raise ValueError(f"the delimiter must be one character other than a quote or a line"
                         f" break, not {delimiter!r}")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding: {encoding}") from None
    if not 2 <= max_rows_per_sheet <= EXCEL_MAX_ROWS:
        raise ValueError(f"rows per sheet must be between 2 and {EXCEL_MAX_ROWS:,},"
                         f" not {max_rows_per_sheet:,}")
    target = xlsx_path.resolve()
    for path in csv_paths:
        if path.resolve() == target:
            raise ValueError(f"the output would overwrite the input {path}")


def sanitize_sheet_name(stem: str) -> str:
    """A valid Excel sheet name from a file stem.

    Characters Excel forbids (``[ ] : * ? / \\``) become ``_``, leading and trailing
    apostrophes and spaces go, the reserved name "History" gets a suffix, an empty result
    becomes "Sheet", and the name is cut to 31 characters.
    """
    name = _FORBIDDEN_IN_SHEET_NAME.sub("_", stem).strip(" '")
    if not name:
        name = "Sheet"
    if name.casefold() == "history":
        name += "_"
    return name[:SHEET_NAME_MAX].rstrip(" '") or "Sheet"


def _with_suffix(name: str, suffix: str) -> str:
    """``name`` + ``suffix``, shortening ``name`` so the result fits Excel's 31 characters."""
    return name[: SHEET_NAME_MAX - len(suffix)].rstrip(" '") + suffix


class SheetNamer:
    """Hands out unique sheet names (Excel compares them case-insensitively)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def allocate(self, wanted: str) -> str:
        """``wanted`` (sanitised) if free, else ``"<wanted> (2)"``, ``"<wanted> (3)"`` ..."""
        base = sanitize_sheet_name(wanted)
        name, number = base, 2
        while name.casefold() in self._taken:
            name = _with_suffix(base, f" ({number})")
            number += 1
        self._taken.add(name.casefold())
        return name

    def continuation(self, first: str, part: int) -> str:
        """The name of part ``part`` (2, 3 ...) of the sheet first named ``first``."""
        return self.allocate(_with_suffix(first, f" ({part})"))


def cell_value(text: str) -> int | float | str:
    """The value a CSV field is stored as: a number when it looks like one, else text.

    Integers and decimals (optionally with an exponent) become numbers; text that would lose
    information stays text: leading zeros (``"007"``), more than 15 significant digits
    (IDs, card numbers), surrounding spaces, thousands separators, ``inf``/``nan``.
    """
    if _INTEGER.fullmatch(text):
        digits = len(text.lstrip("-"))
        return int(text) if digits <= MAX_SIGNIFICANT_DIGITS else text
    if _DECIMAL.fullmatch(text):
        mantissa = re.split("[eE]", text)[0].lstrip("-").replace(".", "").lstrip("0")
        if len(mantissa) > MAX_SIGNIFICANT_DIGITS:
            return text
        number = float(text)
        return number if math.isfinite(number) else text
    return text


def sniff_delimiter(sample: str) -> str:
    """The field delimiter of a CSV sample (``,`` ``;`` tab or ``|``); ``,`` when unsure."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:
        return DEFAULT_DELIMITER


class _ProgressTracker:
    """Turns bytes read into whole percentages, reporting each value once, in order."""

    def __init__(self, total_bytes: int, callback: Progress | None) -> None:
        self.total = max(total_bytes, 1)
        self.done = 0
        self.callback = callback
        self.last = -1
        self._report(0)

    def advance_to(self, done_bytes: int) -> None:
        self.done = done_bytes
        self._report(min(99, done_bytes * 100 // self.total))

    def finish(self) -> None:
        self._report(100)

    def _report(self, percent: int) -> None:
        if self.callback is not None and percent > self.last:
            self.last = percent
            self.callback(percent)


class _WorkbookWriter:
    """Streams CSV records into sheets of a write-only workbook."""

    def __init__(self, workbook: Workbook, max_rows_per_sheet: int) -> None:
        self.workbook = workbook
        self.max_rows = max_rows_per_sheet
        self.namer = SheetNamer()
        self.sheets: list[SheetInfo] = []
        self.rows = 0
        self.cleaned_cells = 0

    def add_csv(self, path: Path, delimiter: str | None, encoding: str,
                tracker: _ProgressTracker) -> None:
        """Write one CSV file: its first record is the header row of each of its sheets."""
        with closing(_read_records(path, delimiter, encoding, tracker)) as records:
            header = next(records, None)
            if header is None:
                raise ConversionError(f"{path}: the file is empty")
            header = [self._text(field) for field in header]
            self.rows += 1
            first_name = self.namer.allocate(path.stem)
            sheet = self._new_sheet(first_name, header)
            self._append_header(sheet, header)
            rows_on_sheet = 1
            part = 1
            for record in records:
                if rows_on_sheet >= self.max_rows:
                    self.sheets.append(SheetInfo(sheet.title, path, rows_on_sheet))
                    part += 1
                    sheet = self._new_sheet(self.namer.continuation(first_name, part), header)
                    self._append_header(sheet, header)
                    rows_on_sheet = 1
                sheet.append([self._value(sheet, field) for field in record])
                rows_on_sheet += 1
                self.rows += 1
            self.sheets.append(SheetInfo(sheet.title, path, rows_on_sheet))

    def _new_sheet(self, name: str, header: list[str]) -> Any:
        """A sheet with the header row frozen and columns as wide as their titles."""
        sheet = self.workbook.create_sheet(title=name)
        sheet.freeze_panes = "A2"
        for column, title in enumerate(header[:MAX_SIZED_COLUMNS], start=1):
            width = min(max(len(title) + 2, 10), 60)
            sheet.column_dimensions[get_column_letter(column)].width = width
        return sheet

    def _append_header(self, sheet: Any, header: list[str]) -> None:
        """Write the (already cleaned) header row in bold, always as text."""
        cells = []
        for field in header:
            cell = WriteOnlyCell(sheet, value=field)
            cell.data_type = "s"
            cell.font = _HEADER_FONT
            cells.append(cell)
        sheet.append(cells)

    def _text(self, field: str) -> str:
        """``field`` as XLSX can hold it.

        Line breaks become Excel's own (LF; XML cannot keep a CR anyway); control characters
        are removed and text beyond 32,767 characters is cut (both counted as cleaned).
        """
        text = field.replace("\r\n", "\n").replace("\r", "\n")
        cleaned = _ILLEGAL_XML_CHARS.sub("", text)[:EXCEL_MAX_CELL_CHARS]
        if cleaned != text:
            self.cleaned_cells += 1
        return cleaned

    def _value(self, sheet: Any, field: str) -> object:
        value = cell_value(field)
        if not isinstance(value, str):
            return value
        text = self._text(value)
        if text.startswith("="):
            # Stored as text, never as a formula: a CSV cannot inject formulas into Excel.
            cell = WriteOnlyCell(sheet, value=text)
            cell.data_type = "s"
            return cell
        return text


def _read_records(path: Path, delimiter: str | None, encoding: str,
                  tracker: _ProgressTracker) -> Generator[list[str], None, None]:
    """The CSV records of ``path`` from the first non-blank one, reporting progress.

    Raises:
        ConversionError: the file cannot be read, is not valid text in ``encoding``, or is
            not valid CSV.

    """
    file_start = tracker.done
    try:
        with path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, newline="")
            sample = text.read(SNIFF_CHARS)
            if not sample.strip():
                return
            text.seek(0)
            used = delimiter if delimiter is not None else sniff_delimiter(sample)
            reader = csv.reader(text, delimiter=used)
            started = False
            for record in reader:
                if len(record) > EXCEL_MAX_COLUMNS:
                    raise ConversionError(
                        f"{path}, line {reader.line_num}: {len(record):,} columns; Excel"
                        f" allows at most {EXCEL_MAX_COLUMNS:,}")
                started = started or bool(record)
                if started:
                    yield record
                if reader.line_num % 1024 == 0:
                    tracker.advance_to(file_start + raw.tell())
            tracker.advance_to(file_start + raw.tell())
    except UnicodeDecodeError:
        raise ConversionError(
            f"{path}: the file is not valid {encoding} text; choose its encoding"
            f" (for example cp1251 or latin-1)") from None
    except csv.Error as exc:
        raise ConversionError(f"{path}: malformed CSV: {exc}") from None
    except OSError as exc:
        raise ConversionError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
