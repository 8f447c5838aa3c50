"""mdtoc FILE [--max-level N] [--in-place]: a table of contents for a Markdown file."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
NOT_IN_ANCHOR = re.compile(r"[^\w\- ]")
START, STOP = "<!-- toc -->", "<!-- tocstop -->"


class TocError(Exception):
    """The table of contents cannot be made; the message says why, in one line."""


def headings(lines: list[str]) -> list[tuple[int, str]]:
    """``(level, text)`` of every ATX heading outside fenced code blocks."""
    found: list[tuple[int, str]] = []
    fence = ""
    for line in lines:
        opening = FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(
                    fence) and not line.strip().strip(fence[0]):
                fence = ""
            continue
        if opening:
            fence = opening.group(1)
            continue
        match = HEADING.match(line)
        if match and match.group(2).strip("#").strip():
            found.append((len(match.group(1)), match.group(2).strip()))
    return found


class Slugger:
    """GitHub's anchors: lower-case, punctuation dropped, spaces to dashes, repeats numbered."""

    def __init__(self) -> None:
        """Start with no anchor used."""
        self.seen: dict[str, int] = {}

    def slug(self, text: str) -> str:
        """The anchor for a heading's ``text``, unique among the anchors made so far."""
        base = NOT_IN_ANCHOR.sub("", text.lower()).replace(" ", "-")
        anchor = base
        while anchor in self.seen:
            self.seen[base] += 1
            anchor = f"{base}-{self.seen[base]}"
        self.seen[anchor] = 0
        return anchor


def make_toc(lines: list[str], max_level: int) -> list[str]:
    """The TOC lines for a document's ``lines``, down to heading level ``max_level``."""
    slugger = Slugger()
    items = [(level, text, slugger.slug(text)) for level, text in headings(lines)]
    items = [item for item in items if item[0] <= max_level]
    top = min((level for level, _text, _anchor in items), default=1)
    return [f"{'  ' * (level - top)}- [{text}](#{anchor})" for level, text, anchor in items]


def insert_toc(lines: list[str], toc: list[str]) -> list[str]:
    """``lines`` with everything between the TOC markers replaced by ``toc``.

    Raises:
        TocError: the markers are missing or out of order.

    """
    stripped = [line.strip() for line in lines]
    if START not in stripped or STOP not in stripped[stripped.index(START) + 1:]:
        raise TocError(f"the file needs the lines {START} and {STOP} for --in-place")
    start = stripped.index(START)
    stop = stripped.index(STOP, start + 1)
    return [*lines[: start + 1], *toc, *lines[stop:]]


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text`` (UTF-8) through a temporary file."""
    fd, temp = tempfile.mkstemp(prefix=".mdtoc-", dir=path.resolve().parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, print or insert the TOC and return the exit code."""
    parser = argparse.ArgumentParser(prog="mdtoc", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--max-level", type=int, default=3, choices=range(1, 7),
                        metavar="N", help="deepest heading level listed (1-6, default 3)")
    parser.add_argument("--in-place", action="store_true",
                        help=f"write the TOC into the file between {START} and {STOP}")
    args = parser.parse_args(argv)
    try:
        try:
            raw = args.file.read_bytes().decode("utf-8")
        except OSError as exc:
            raise TocError(f"cannot read {args.file}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise TocError(f"{args.file} is not UTF-8 text") from exc
        lines = raw.splitlines(keepends=True)
        toc = make_toc([line.rstrip("\r\n") for line in lines], args.max_level)
        if not args.in_place:
            print("\n".join(toc))
            return 0
        newline = "\r\n" if "\r\n" in raw else "\n"
        updated = insert_toc(lines, [line + newline for line in toc])
        if updated != lines:
            write_atomically(args.file, "".join(updated))
    except (TocError, OSError) as exc:
        print(f"mdtoc: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
