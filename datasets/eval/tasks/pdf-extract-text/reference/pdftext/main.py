"""pdftext INPUT.pdf [-o OUTPUT.txt] [--pages RANGE]: extract a PDF's text to a text file."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError


class ExtractError(Exception):
    """The text cannot be extracted; the message says why, in one line."""


def parse_pages(spec: str, count: int) -> list[int]:
    """1-based page numbers from a range like ``2-4,7`` for a document of ``count`` pages.

    Raises:
        ExtractError: the range is malformed or names a page outside 1..count.

    """
    pages: list[int] = []
    for part in spec.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            start = int(first)
            stop = int(last) if dash else start
        except ValueError:
            raise ExtractError(f"bad page range {spec!r}: use numbers like 2-4,7") from None
        if not 1 <= start <= stop <= count:
            raise ExtractError(f"pages {part.strip()} are outside the document "
                               f"(it has {count} page{'s' * (count != 1)})")
        pages.extend(range(start, stop + 1))
    return pages


def extract(source: Path, spec: str | None) -> tuple[str, list[int]]:
    """The text of the chosen pages, each after ``--- Page N ---``, and the pages without text.

    Raises:
        ExtractError: the file is missing, not a PDF, encrypted, or the range is bad.

    """
    try:
        reader = PdfReader(source)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError(f"{source} is protected by a password")
        count = len(reader.pages)
        numbers = parse_pages(spec, count) if spec else list(range(1, count + 1))
        parts: list[str] = []
        empty: list[int] = []
        for number in numbers:
            text = (reader.pages[number - 1].extract_text() or "").strip()
            if not text:
                empty.append(number)
            parts.append(f"--- Page {number} ---\n{text}\n" if text else
                         f"--- Page {number} ---\n")
    except FileNotFoundError:
        raise ExtractError(f"{source} does not exist") from None
    except (OSError, PyPdfError, ValueError) as exc:
        raise ExtractError(f"{source} is not a readable PDF: {exc}") from exc
    return "".join(parts), empty


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` in UTF-8, all at once (a temporary file, then a rename)."""
    fd, temp = tempfile.mkstemp(prefix=".pdftext-", dir=path.resolve().parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, extract and write the text; returns the exit code."""
    parser = argparse.ArgumentParser(prog="pdftext", description=__doc__)
    parser.add_argument("input", type=Path, help="the PDF file")
    parser.add_argument("-o", "--output", type=Path,
                        help="the text file (default: INPUT with .txt)")
    parser.add_argument("--pages", help="pages to extract, like 2-4,7 (default: all)")
    args = parser.parse_args(argv)
    output = args.output or args.input.with_suffix(".txt")
    try:
        text, empty = extract(args.input, args.pages)
        write_text(output, text)
    except (ExtractError, OSError) as exc:
        print(f"pdftext: {exc}", file=sys.stderr)
        return 1
    for number in empty:
        print(f"pdftext: warning: page {number} has no text (a scanned image?)",
              file=sys.stderr)
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
