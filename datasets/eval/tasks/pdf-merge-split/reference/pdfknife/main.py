"""pdfknife: merge, split, pick pages of and count pages in PDF files.

    pdfknife merge -o OUT.pdf FILE.pdf...
    pdfknife split FILE.pdf [--every N] [-d DIR]
    pdfknife pages FILE.pdf RANGES -o OUT.pdf
    pdfknife info FILE.pdf...
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError


class KnifeError(Exception):
    """The command cannot be done; the message says why, in one line."""


def open_pdf(path: Path) -> PdfReader:
    """A reader for ``path`` with every page reachable.

    Raises:
        KnifeError: the file is missing, not a PDF, or protected by a password.

    """
    if not path.is_file():
        raise KnifeError(f"{path} does not exist")
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise KnifeError(f"{path} is protected by a password")
        len(reader.pages)
    except (OSError, PyPdfError, ValueError) as exc:
        raise KnifeError(f"{path} is not a readable PDF: {exc}") from exc
    return reader


def parse_ranges(spec: str, count: int) -> list[int]:
    """0-based page indexes for ``spec`` (``1-3,7,10-``, 1-based) in a ``count``-page file.

    Raises:
        KnifeError: the spec is malformed or names a page outside 1..count.

    """
    indexes: list[int] = []
    for part in (p.strip() for p in spec.split(",")):
        first, dash, last = part.partition("-")
        try:
            start = int(first)
            stop = (int(last) if last.strip() else count) if dash else start
        except ValueError:
            raise KnifeError(f"bad page range {part!r} in {spec!r}: "
                             f"use numbers like 1-3,7,10-") from None
        if start > stop:
            raise KnifeError(f"bad page range {part!r}: the first page is after the last")
        if start < 1 or stop > count:
            raise KnifeError(f"page range {part!r} is outside the document "
                             f"({count} page{'s' * (count != 1)})")
        indexes.extend(range(start - 1, stop))
    return indexes


def check_new(path: Path, force: bool) -> None:
    """Refuse to overwrite an existing ``path`` unless ``force``.

    Raises:
        KnifeError: the file exists and ``force`` is off.

    """
    if path.exists() and not force:
        raise KnifeError(f"{path} already exists; add --force to overwrite it")


def save(writer: PdfWriter, path: Path) -> None:
    """Write the PDF to ``path`` whole or not at all (a temporary file, then a rename)."""
    folder = path.resolve().parent
    fd, temp = tempfile.mkstemp(prefix=".pdfknife-", suffix=".pdf", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer.write(handle)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def merge(files: list[Path], output: Path, force: bool) -> None:
    """Join ``files`` into ``output`` in the order given."""
    check_new(output, force)
    readers = [open_pdf(path) for path in files]
    writer = PdfWriter()
    for reader in readers:
        for page in reader.pages:
            writer.add_page(page)
    save(writer, output)
    print(f"{output}: {len(writer.pages)} pages")


def split(source: Path, every: int, folder: Path | None, force: bool) -> None:
    """Cut ``source`` into ``NAME_001.pdf``... of ``every`` pages each, in ``folder``."""
    if every < 1:
        raise KnifeError(f"--every must be at least 1, not {every}")
    reader = open_pdf(source)
    folder = folder or source.parent
    count = len(reader.pages)
    targets = [folder / f"{source.stem}_{n + 1:03d}.pdf" for n in range(-(-count // every))]
    for target in targets:
        check_new(target, force)
    folder.mkdir(parents=True, exist_ok=True)
    for number, target in enumerate(targets):
        writer = PdfWriter()
        for index in range(number * every, min((number + 1) * every, count)):
            writer.add_page(reader.pages[index])
        save(writer, target)
        print(target)


def pick(source: Path, spec: str, output: Path, force: bool) -> None:
    """Write the pages of ``source`` named by ``spec`` to ``output``, in that order."""
    check_new(output, force)
    reader = open_pdf(source)
    writer = PdfWriter()
    for index in parse_ranges(spec, len(reader.pages)):
        writer.add_page(reader.pages[index])
    save(writer, output)
    print(f"{output}: {len(writer.pages)} pages")


def info(files: list[Path]) -> None:
    """Print ``name: pages`` per file and ``Всего: total``."""
    counts = [(path.name, len(open_pdf(path).pages)) for path in files]
    for name, count in counts:
        print(f"{name}: {count}")
    print(f"Всего: {sum(count for _name, count in counts)}")


def build_parser() -> argparse.ArgumentParser:
    """The command line: four sub-commands."""
    parser = argparse.ArgumentParser(prog="pdfknife", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    merge_cmd = commands.add_parser("merge", help="join PDF files in the order given")
    merge_cmd.add_argument("-o", "--output", type=Path, required=True)
    merge_cmd.add_argument("files", type=Path, nargs="+")
    split_cmd = commands.add_parser("split", help="cut a PDF into parts of N pages")
    split_cmd.add_argument("file", type=Path)
    split_cmd.add_argument("--every", type=int, default=1, metavar="N")
    split_cmd.add_argument("-d", "--dir", type=Path, metavar="DIR")
    pages_cmd = commands.add_parser("pages", help="pick pages, like 1-3,7,10-")
    pages_cmd.add_argument("file", type=Path)
    pages_cmd.add_argument("ranges")
    pages_cmd.add_argument("-o", "--output", type=Path, required=True)
    for command in (merge_cmd, split_cmd, pages_cmd):
        command.add_argument("--force", action="store_true", help="overwrite existing files")
    info_cmd = commands.add_parser("info", help="count the pages")
    info_cmd.add_argument("files", type=Path, nargs="+")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (1 on any error, with one line on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "merge":
            merge(args.files, args.output, args.force)
        elif args.command == "split":
            split(args.file, args.every, args.dir, args.force)
        elif args.command == "pages":
            pick(args.file, args.ranges, args.output, args.force)
        else:
            info(args.files)
    except (KnifeError, OSError, PyPdfError) as exc:
        print(f"pdfknife: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
