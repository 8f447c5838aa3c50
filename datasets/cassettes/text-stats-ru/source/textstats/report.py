"""Showing the statistics: a table in Russian for people, JSON for programs."""

from __future__ import annotations

import json

from textstats.stats import TextStats

LABELS = {
    "chars": "Символов всего",
    "chars_no_spaces": "Символов без пробелов",
    "words": "Слов",
    "sentences": "Предложений",
    "paragraphs": "Абзацев",
    "avg_sentence_words": "Средняя длина предложения, слов",
    "reading_time_min": "Время чтения, мин",
}


def number(value: int | float) -> str:
    """A number as Russian text: ``2.7`` -> ``2,7``."""
    return str(value).replace(".", ",")


def table(stats: TextStats, *, title: str = "", wpm: int | None = None) -> str:
    """Two aligned columns, label and value; an optional title line and reading speed note."""
    values = stats.as_dict()
    width = max(len(label) for label in LABELS.values())
    lines = [title] if title else []
    lines += [f"{LABELS[key]:<{width}}  {number(value):>8}" for key, value in values.items()]
    if wpm is not None:
        lines.append(f"(скорость чтения: {wpm} слов в минуту)")
    return "\n".join(lines)


def to_json(stats: TextStats) -> str:
    """The statistics as a JSON object with the fixed English keys."""
    return json.dumps(stats.as_dict(), ensure_ascii=False, indent=2)
