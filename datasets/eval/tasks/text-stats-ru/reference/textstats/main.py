"""textstats FILE [--wpm N] [--json]: character, word, sentence and paragraph counts."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
SENTENCE_END = re.compile(r"[.!?…]+")
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")

LABELS = {
    "chars": "Символов всего",
    "chars_no_spaces": "Символов без пробелов",
    "words": "Слов",
    "sentences": "Предложений",
    "paragraphs": "Абзацев",
    "avg_sentence_words": "Слов в предложении (в среднем)",
    "reading_time_min": "Время чтения, мин",
}


def decode(raw: bytes) -> str:
    """UTF-8 (a BOM is dropped), else Windows-1251; newlines become ``\\n``."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1251", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def statistics(text: str, wpm: int = 180) -> dict[str, int | float]:
    """The counts for ``text``; reading time at ``wpm`` words per minute, rounded up."""
    words = len(WORD.findall(text))
    sentences = sum(1 for part in SENTENCE_END.split(text) if WORD.search(part))
    paragraphs = sum(1 for part in PARAGRAPH_BREAK.split(text) if part.strip())
    return {
        "chars": len(text),
        "chars_no_spaces": sum(1 for char in text if not char.isspace()),
        "words": words,
        "sentences": sentences,
        "paragraphs": paragraphs,
        "avg_sentence_words": round(words / sentences, 1) if sentences else 0,
        "reading_time_min": math.ceil(words / wpm),
    }


def positive(value: str) -> int:
    """argparse type: a whole number above zero."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"нужно целое число, а не {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("скорость чтения должна быть больше нуля")
    return number


def table(stats: dict[str, int | float]) -> str:
    """A two-column table for people."""
    width = max(len(label) for label in LABELS.values())
    return "\n".join(f"{LABELS[key]:<{width}}  {value}" for key, value in stats.items())


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="textstats", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--wpm", type=positive, default=180, help="слов в минуту")
    parser.add_argument("--json", action="store_true", help="вывести JSON")
    args = parser.parse_args(argv)
    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        print(f"textstats: не удалось прочитать {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    stats = statistics(decode(raw), args.wpm)
    print(json.dumps(stats, ensure_ascii=False, indent=2) if args.json else table(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
