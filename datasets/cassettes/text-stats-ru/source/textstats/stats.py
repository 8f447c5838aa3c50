"""The statistics of a text: what counts as a word, a sentence and a paragraph.

- A word is a run of letters and digits; parts joined by a hyphen («кто-то»,
  «северо-запад») make one word. Dashes between words («—», «–») are not words.
- A sentence ends at ``.``, ``!``, ``?`` or ``…``; a run of them («?!», «...») is one end.
  The tail of the text without a final mark is a sentence too; text without words is not.
- Paragraphs are separated by one or more blank lines (lines of spaces count as blank).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

#: Letters and digits, optionally joined by hyphens (ASCII, U+2010 and U+2011).
WORD = re.compile(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)*")
SENTENCE_END = re.compile(r"[.!?…]+")
PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")

DEFAULT_WPM = 180


@dataclass(frozen=True)
class TextStats:
    """The counts of one text; the field names are the JSON keys."""

    chars: int
    chars_no_spaces: int
    words: int
    sentences: int
    paragraphs: int
    avg_sentence_words: float
    reading_time_min: int

    def as_dict(self) -> dict[str, int | float]:
        """The fields in declaration order (the order of the JSON output)."""
        return asdict(self)


def count_words(text: str) -> int:
    """Words: runs of letters and digits, hyphenated words once."""
    return sum(1 for _ in WORD.finditer(text))


def count_sentences(text: str) -> int:
    """Pieces between sentence ends that hold at least one word."""
    return sum(1 for piece in SENTENCE_END.split(text) if WORD.search(piece))


def count_paragraphs(text: str) -> int:
    """Blocks separated by blank lines that hold anything but whitespace."""
    return sum(1 for block in PARAGRAPH_BREAK.split(text) if block.strip())


def reading_minutes(words: int, wpm: int = DEFAULT_WPM) -> int:
    """Whole minutes to read ``words`` at ``wpm`` words per minute, rounded up.

    Raises:
        ValueError: ``wpm`` is not positive.

    """
    if wpm <= 0:
        raise ValueError(f"the reading speed must be positive, not {wpm}")
    return math.ceil(words / wpm)


def analyse(text: str, wpm: int = DEFAULT_WPM) -> TextStats:
    """All statistics of ``text`` (already decoded, ``\\n`` line ends)."""
    words = count_words(text)
    sentences = count_sentences(text)
    return TextStats(
        chars=len(text),
        chars_no_spaces=sum(1 for char in text if not char.isspace()),
        words=words,
        sentences=sentences,
        paragraphs=count_paragraphs(text),
        avg_sentence_words=round(words / sentences, 1) if sentences else 0.0,
        reading_time_min=reading_minutes(words, wpm),
    )
