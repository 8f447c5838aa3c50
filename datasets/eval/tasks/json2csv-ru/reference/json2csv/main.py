"""json2csv INPUT.json [-o OUTPUT.csv] [-d DELIMITER] [--bom]: a JSON array of objects as CSV."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

SEPARATOR = "."


class ConversionError(Exception):
    """The input cannot be converted; the message says why."""


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys: ``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = prefix + SEPARATOR + key if prefix else key
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def cell(value: Any) -> str:
    """The text of one CSV cell: null is empty, lists are JSON, booleans true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def load_records(path: Path) -> list[dict[str, Any]]:
    """Read a JSON array of objects; raises ConversionError with a readable reason."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConversionError(f"файл не найден: {path}") from None
    except UnicodeDecodeError:
        raise ConversionError(f"{path}: файл не в кодировке UTF-8") from None
    except OSError as exc:
        raise ConversionError(f"не удалось прочитать {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConversionError(
            f"{path}: ошибка JSON в строке {exc.lineno}, столбце {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(data, list):
        raise ConversionError(f"{path}: ожидался массив объектов, а не {type(data).__name__}")
    for number, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise ConversionError(f"{path}: элемент {number} массива — не объект")
    return data


def to_table(records: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header (first-seen order) and rows of cells."""
    flat = [flatten(record) for record in records]
    columns: dict[str, None] = {}
    for row in flat:
        for key in row:
            columns.setdefault(key, None)
    header = list(columns)
    return header, [[cell(row.get(name)) for name in header] for row in flat]


def render(header: list[str], rows: list[list[str]], delimiter: str) -> str:
    """The CSV text (CRLF line ends, minimal quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def one_char(value: str) -> str:
    """argparse type: exactly one character."""
    if len(value) != 1:
        raise argparse.ArgumentTypeError("разделитель должен быть одним символом")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="json2csv", description=__doc__)
    parser.add_argument("input", type=Path)
    parser.add_argument("-o", "--output", type=Path)
    parser.add_argument("-d", "--delimiter", type=one_char, default=",")
    parser.add_argument("--bom", action="store_true")
    args = parser.parse_args(argv)
    try:
        header, rows = to_table(load_records(args.input))
    except ConversionError as exc:
        print(f"json2csv: ошибка: {exc}", file=sys.stderr)
        return 1
    text = render(header, rows, args.delimiter)
    if args.output is None:
        sys.stdout.write(("\ufeff" if args.bom else "") + text)
        return 0
    try:
        with args.output.open("w", encoding="utf-8-sig" if args.bom else "utf-8",
                              newline="") as handle:
            handle.write(text)
    except OSError as exc:
        print(f"json2csv: ошибка: не удалось записать {args.output}: {exc.strerror}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
