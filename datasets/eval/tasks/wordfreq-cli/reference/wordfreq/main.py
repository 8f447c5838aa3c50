"""wordfreq FILE [--top N]: the most common words of a text file."""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def count_words(text: str) -> Counter[str]:
    """Case-insensitive word counts; apostrophes inside words are kept."""
    return Counter(match.group(0) for match in WORD.finditer(text.casefold()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wordfreq", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"wordfreq: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    ranked = sorted(count_words(text).items(), key=lambda item: (-item[1], item[0]))
    for word, count in ranked[: max(args.top, 0)]:
        print(f"{word} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
