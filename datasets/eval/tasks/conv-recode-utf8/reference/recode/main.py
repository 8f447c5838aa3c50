"""recode FILE... [-o DIR]: convert text files from UTF-8, cp1251 or KOI8-R to UTF-8.

The source encoding is detected per file. Line endings are kept byte for byte; the output is
UTF-8 without a BOM. Prints ``NAME: ENCODING`` per converted file.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from pathlib import Path

UTF8_BOM = b"\xef\xbb\xbf"
SINGLE_BYTE = ("cp1251", "koi8-r")
LOWER_CYRILLIC = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")


class SkipFile(Exception):
    """A file is left untouched; the message says why."""


def lowercase_share(text: str) -> int:
    """How many lowercase Cyrillic letters a decoding has: ordinary Russian text is mostly
    lowercase, while the same bytes read in the wrong single-byte encoding turn mostly into
    uppercase (cp1251 and KOI8-R swap the cases of the alphabet)."""
    return sum(ch in LOWER_CYRILLIC for ch in text)


def detect(raw: bytes) -> str:
    """The encoding of ``raw``: "utf-8", "cp1251" or "koi8-r".

    Raises:
        SkipFile: the bytes look binary (they contain NUL).

    """
    if b"\x00" in raw:
        raise SkipFile("looks like a binary file (it contains NUL bytes)")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    scores: dict[str, int] = {}
    for encoding in SINGLE_BYTE:
        try:
            scores[encoding] = lowercase_share(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    if not scores:
        raise SkipFile("is neither UTF-8, cp1251 nor KOI8-R")
    return max(scores, key=lambda name: (scores[name], name == "cp1251"))


def decode(path: Path) -> tuple[str, str]:
    """The detected encoding and text of a file (a UTF-8 BOM is removed).

    Raises:
        SkipFile: the file cannot be read or looks binary.

    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"cannot be read: {exc.strerror}") from exc
    encoding = detect(raw)
    text = raw.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    return encoding, text


def write_atomically(target: Path, data: bytes) -> None:
    """Replace ``target`` with ``data`` so that a crash never leaves half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recode", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("-o", "--output", type=Path, metavar="DIR",
                        help="write converted copies here instead of in place")
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(encoding="utf-8")
    failures = 0
    for path in args.files:
        try:
            encoding, text = decode(path)
            target = args.output / path.name if args.output else path
            write_atomically(target, text.encode("utf-8"))
        except SkipFile as exc:
            print(f"recode: {path} {exc}; skipped", file=sys.stderr)
            failures += 1
            continue
        except OSError as exc:
            print(f"recode: cannot write {path}: {exc.strerror}; skipped", file=sys.stderr)
            failures += 1
            continue
        print(f"{path}: {encoding}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
