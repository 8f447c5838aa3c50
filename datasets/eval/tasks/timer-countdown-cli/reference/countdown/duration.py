"""Parsing durations as people type them: 90, 1:30, 1:02:03, 1h30m, 1ч30м."""

from __future__ import annotations

import re

UNITS = {"h": 3600, "ч": 3600, "m": 60, "м": 60, "s": 1, "с": 1}
WITH_UNITS = re.compile(r"(?:(\d+)\s*([hч]))?\s*(?:(\d+)\s*([mм]))?\s*(?:(\d+)\s*([sс]))?",
                        re.IGNORECASE)


def parse_duration(text: str) -> int:
    """The duration in whole seconds (> 0).

    Raises:
        ValueError: empty, zero, negative or malformed (the message says what is accepted).

    """
    value = text.strip().lower()
    seconds: int | None = None
    if re.fullmatch(r"\d+", value):
        seconds = int(value)
    elif re.fullmatch(r"\d+(:\d{1,2}){1,2}", value):
        parts = [int(part) for part in value.split(":")]
        if any(part > 59 for part in parts[1:]):
            raise ValueError(f"«{text}»: минуты и секунды должны быть от 00 до 59")
        seconds = 0
        for part in parts:
            seconds = seconds * 60 + part
    elif value and (match := WITH_UNITS.fullmatch(value)):
        seconds = sum(int(match.group(i)) * UNITS[match.group(i + 1)]
                      for i in (1, 3, 5) if match.group(i))
    if seconds is None:
        raise ValueError(f"«{text}» — непонятная длительность; примеры: 90, 1:30, 1:02:03, "
                         "1h30m, 2м, 45с")
    if seconds <= 0:
        raise ValueError("длительность должна быть больше нуля")
    return seconds


def format_left(seconds: int) -> str:
    """``MM:SS`` below an hour, ``H:MM:SS`` from an hour up."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"
