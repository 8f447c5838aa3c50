"""Turning JSON records into CSV: flattening, cell text, column order, CSV text.

Rules: nested objects become dotted column names at any depth (``клиент.адрес.город``);
columns appear in the order they are first seen across all records; a missing field or
``null`` is an empty cell; lists are JSON text without escaping Cyrillic; booleans are
``true``/``false``; numbers are written as Python reads them from JSON.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

#: Joins the keys of nested objects into one column name.
SEPARATOR = "."

Record = dict[str, Any]


class ConversionError(Exception):
    """The input cannot be converted; the message says why, in one sentence."""


def flatten(record: Record, prefix: str = "") -> Record:
    """Nested objects become dotted keys: ``{"a": {"b": 1}}`` -> ``{"a.b": 1}``.

    An empty nested object stays one column holding ``{}``.
    """
    flat: Record = {}
    for key, value in record.items():
        name = f"{prefix}{SEPARATOR}{key}" if prefix else key
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def cell_text(value: Any) -> str:
    """The text of one cell: ``None`` -> "", ``True`` -> "true", lists and objects -> JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def parse_records(text: str, source: str) -> list[Record]:
    """Parse a JSON array of objects.

    Args:
        text: the JSON document.
        source: the file name, for messages.

    Raises:
        ConversionError: the JSON is invalid (line and column are named), or it is not an
            array, or an element is not an object.

    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConversionError(f"{source}: ошибка JSON в строке {exc.lineno}, столбце "
                              f"{exc.colno}: {exc.msg}") from None
    if not isinstance(data, list):
        raise ConversionError(f"{source}: ожидался массив объектов [...], а в файле "
                              f"{_json_type(data)}")
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise ConversionError(f"{source}: элемент {number} массива — {_json_type(item)},"
                                  " а должен быть объект {...}")
    return data


def read_records(path: Path) -> list[Record]:
    """Read ``path`` (UTF-8, a BOM is allowed) and parse it with :func:`parse_records`.

    Raises:
        ConversionError: the file is missing, unreadable, not UTF-8 or not an array of
            objects.

    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConversionError(f"файл не найден: {path}") from None
    except UnicodeDecodeError:
        raise ConversionError(f"{path}: файл не в кодировке UTF-8") from None
    except OSError as exc:
        raise ConversionError(f"не удалось прочитать {path}: {exc.strerror}") from None
    return parse_records(text, str(path))


def to_table(records: list[Record]) -> tuple[list[str], list[list[str]]]:
    """The header (columns in first-seen order) and one row of cell texts per record."""
    flat = [flatten(record) for record in records]
    header = list(dict.fromkeys(key for row in flat for key in row))
    rows = [[cell_text(row.get(column)) for column in header] for row in flat]
    return header, rows


def to_csv(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    """CSV text: CRLF line ends (RFC 4180), quotes only where needed; "" for no columns."""
    if not header:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def convert(records: list[Record], delimiter: str = ",") -> str:
    """Records to CSV text in one step."""
    header, rows = to_table(records)
    return to_csv(header, rows, delimiter)


def _json_type(value: Any) -> str:
    names = {dict: "объект", list: "массив", str: "строка", bool: "логическое значение",
             int: "число", float: "число", type(None): "null"}
    return names.get(type(value), type(value).__name__)
