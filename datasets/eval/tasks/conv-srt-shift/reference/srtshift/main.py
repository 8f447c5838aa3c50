"""srtshift FILE SHIFT [-o OUTPUT] [--from N]: shift the times of SRT subtitles.

SHIFT is in seconds (negative and fractional allowed, millisecond precision); times that
would become negative are clamped to 00:00:00,000.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

TIMING = re.compile(
    r"(\d{1,3}):([0-5]\d):([0-5]\d)[,.](\d{3})\s*-->\s*(\d{1,3}):([0-5]\d):([0-5]\d)[,.](\d{3})"
    r"(.*)")
BLOCK_SEPARATOR = re.compile(r"\n[ \t]*\n")


class SrtError(Exception):
    """The input cannot be shifted; the message says where and why."""


@dataclass(frozen=True)
class Subtitle:
    """One SRT block: its number, start and end in milliseconds, the text lines after them."""

    number: int
    start_ms: int
    end_ms: int
    rest: str  # anything after the end time on the timing line (positions), kept as is
    lines: tuple[str, ...]


def parse_shift(text: str) -> int:
    """Seconds as text (``-1.001``) to whole milliseconds.

    Raises:
        SrtError: the text is not a finite number.

    """
    try:
        seconds = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise SrtError(f"the shift must be a number of seconds, like 2.5 or -1.001, "
                       f"not {text!r}") from None
    if not seconds.is_finite():
        raise SrtError(f"the shift must be a finite number of seconds, not {text!r}") from None
    return int((seconds * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_ms(hours: str, minutes: str, seconds: str, millis: str) -> int:
    """A timestamp's parts to milliseconds."""
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def format_ms(total: int) -> str:
    """Milliseconds to ``HH:MM:SS,mmm``."""
    seconds, millis = divmod(total, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d},{millis:03d}"


def parse_srt(text: str) -> list[Subtitle]:
    """The subtitles of an SRT document (any line endings, no BOM).

    Raises:
        SrtError: a block has no number or a malformed timing line (the message names it).

    """
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not normalised:
        return []
    subtitles = []
    for position, block in enumerate(BLOCK_SEPARATOR.split(normalised), start=1):
        lines = block.strip("\n").split("\n")
        try:
            number = int(lines[0].strip())
        except ValueError:
            raise SrtError(f"block {position} does not start with a subtitle number: "
                           f"{lines[0]!r}") from None
        match = TIMING.fullmatch(lines[1].strip()) if len(lines) > 1 else None
        if match is None:
            raise SrtError(f"subtitle {number} has a malformed timing line")
        groups = match.groups()
        subtitles.append(Subtitle(number, to_ms(*groups[0:4]), to_ms(*groups[4:8]),
                                  groups[8].rstrip(), tuple(lines[2:])))
    return subtitles


def shift(subtitles: list[Subtitle], delta_ms: int, first: int | None) -> list[Subtitle]:
    """Subtitles moved by ``delta_ms`` (clamped at zero); only those numbered ``first`` or
    later when ``first`` is given."""
    return [Subtitle(s.number, max(s.start_ms + delta_ms, 0), max(s.end_ms + delta_ms, 0),
                     s.rest, s.lines) if first is None or s.number >= first else s
            for s in subtitles]


def render(subtitles: list[Subtitle]) -> str:
    """SRT text with ``\\n`` line endings and a blank line after each block."""
    return "".join(
        f"{s.number}\n{format_ms(s.start_ms)} --> {format_ms(s.end_ms)}{s.rest}\n"
        + "".join(f"{line}\n" for line in s.lines) + "\n"
        for s in subtitles)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="srtshift", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("shift", help="seconds, e.g. 2.5 or -1.001")
    parser.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    parser.add_argument("--from", dest="first", type=int, metavar="N",
                        help="shift only subtitles numbered N or later")
    args = parser.parse_args(argv)
    try:
        delta_ms = parse_shift(args.shift)
        try:
            text = args.file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise SrtError(f"cannot read {args.file}: {exc.strerror}") from exc
        except UnicodeDecodeError:
            raise SrtError(f"{args.file} is not UTF-8 text") from None
        result = render(shift(parse_srt(text), delta_ms, args.first))
    except SrtError as exc:
        print(f"srtshift: {exc}", file=sys.stderr)
        return 1
    if args.output is None:
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(encoding="utf-8")
        sys.stdout.write(result)
        return 0
    try:
        args.output.write_text(result, encoding="utf-8")
    except OSError as exc:
        print(f"srtshift: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
