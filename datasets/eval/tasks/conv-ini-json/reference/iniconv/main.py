"""iniconv SRC DST: convert INI to JSON or JSON to INI, by the files' extensions.

INI values become JSON numbers, booleans (true/false) or strings; keys keep their case,
[DEFAULT] stays a section of its own and % signs are never interpolated.
"""

from __future__ import annotations

import argparse
import configparser
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path

Scalar = str | int | float | bool | None
Document = dict[str, dict[str, Scalar]]

INTEGER = re.compile(r"[+-]?[0-9]+")
DECIMAL = re.compile(r"[+-]?[0-9]+\.[0-9]+")
# configparser treats [DEFAULT] specially (merged into every section); a name no INI file can
# contain makes it an ordinary section.
NO_DEFAULT_SECTION = "\x00no default section\x00"


class ConversionError(Exception):
    """The input cannot be converted; the message says why."""


def new_parser() -> configparser.ConfigParser:
    """A parser that keeps key case, never interpolates and has no special DEFAULT."""
    parser = configparser.ConfigParser(interpolation=None, default_section=NO_DEFAULT_SECTION,
                                       strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    return parser


def typed(text: str) -> Scalar:
    """An INI value as a JSON value: number, boolean or the text itself."""
    if INTEGER.fullmatch(text):
        return int(text)
    if DECIMAL.fullmatch(text):
        return float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def as_ini_value(value: Scalar) -> str:
    """A JSON value as INI text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ini_to_document(text: str) -> Document:
    """Parse INI text.

    Raises:
        ConversionError: the text is not valid INI (e.g. a key outside any section).

    """
    parser = new_parser()
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ConversionError(f"invalid INI: {exc.message.splitlines()[0]}") from exc
    return {section: {key: typed(value) for key, value in parser.items(section, raw=True)}
            for section in parser.sections()}


def json_to_document(text: str) -> Document:
    """Parse and check JSON text: an object of objects of plain values.

    Raises:
        ConversionError: the JSON is broken or has the wrong shape.

    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConversionError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ConversionError("the JSON must be an object of sections")
    for section, values in data.items():
        if not isinstance(values, dict):
            raise ConversionError(f"section {section!r} must be an object of keys and values")
        for key, value in values.items():
            if isinstance(value, (dict, list)):
                raise ConversionError(f"{section}.{key} is a list or object; INI values "
                                      "must be text, numbers, booleans or null")
    return data


def document_to_ini(document: Document) -> str:
    """INI text for a document."""
    parser = new_parser()
    for section, values in document.items():
        parser.add_section(section)
        for key, value in values.items():
            parser.set(section, key, as_ini_value(value))
    buffer = io.StringIO()
    parser.write(buffer)
    return buffer.getvalue()


def convert(source: Path, target: Path) -> str:
    """The converted text of ``source`` for ``target``'s format.

    Raises:
        ConversionError: unsupported extensions, unreadable or invalid input.

    """
    direction = (source.suffix.lower(), target.suffix.lower())
    if direction not in ((".ini", ".json"), (".json", ".ini")):
        raise ConversionError(f"cannot convert {source.suffix or 'no extension'} to "
                              f"{target.suffix or 'no extension'}: use .ini → .json or "
                              ".json → .ini")
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConversionError(f"cannot read {source}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConversionError(f"{source} is not UTF-8 text") from exc
    if direction[0] == ".ini":
        return json.dumps(ini_to_document(text), indent=2, ensure_ascii=False) + "\n"
    return document_to_ini(json_to_document(text))


def write_atomically(target: Path, text: str) -> None:
    """Write UTF-8 text so that a failure never leaves half a file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="iniconv", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, metavar="SRC")
    parser.add_argument("target", type=Path, metavar="DST")
    args = parser.parse_args(argv)
    try:
        write_atomically(args.target, convert(args.source, args.target))
    except ConversionError as exc:
        print(f"iniconv: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"iniconv: cannot write {args.target}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
